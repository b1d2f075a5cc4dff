#include "stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <tuple>

namespace calib64::calib {

double median(std::span<const double> values) {
    if (values.empty()) return 0;
    std::vector<double> v(values.begin(), values.end());
    const std::size_t n = v.size();
    std::nth_element(v.begin(), v.begin() + n / 2, v.end());
    const double upper = v[n / 2];
    if (n % 2 == 1) return upper;
    const double lower = *std::max_element(v.begin(), v.begin() + n / 2);
    return (lower + upper) / 2;
}

double harmonic_mean(std::span<const double> rates) {
    if (rates.empty()) return 0;
    double inverse_sum = 0;
    for (double r : rates) {
        if (!(r > 0)) return 0;
        inverse_sum += 1 / r;
    }
    return static_cast<double>(rates.size()) / inverse_sum;
}

namespace {

// Linear-interpolated quantile of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<std::size_t>(std::floor(pos));
    const std::size_t j = std::min(i + 1, sorted.size() - 1);
    const double frac = pos - static_cast<double>(i);
    return sorted[i] + (sorted[j] - sorted[i]) * frac;
}

}  // namespace

double quantile(std::span<const double> values, double q) {
    std::vector<double> v(values.begin(), values.end());
    std::sort(v.begin(), v.end());
    return quantile_sorted(v, std::clamp(q, 0.0, 1.0));
}

namespace {

// Percentile interval of `statistic` over resamples (with replacement) of indices
// 0..n-1; the point estimate is statistic of the original indices. Kept inside
// [low, high] around the estimate even under interpolation.
template <class Statistic>
interval bootstrap(std::size_t n, std::uint64_t seed, double confidence, int resamples, Statistic statistic) {
    interval out;
    std::vector<std::size_t> idx(n);
    for (std::size_t i = 0; i < n; ++i) idx[i] = i;
    out.mid = statistic(idx);
    if (n <= 1 || resamples <= 0) {
        out.low = out.high = out.mid;
        return out;
    }
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::vector<double> values;
    values.reserve(static_cast<std::size_t>(resamples));
    for (int r = 0; r < resamples; ++r) {
        for (auto& i : idx) i = pick(rng);
        values.push_back(statistic(idx));
    }
    std::sort(values.begin(), values.end());
    const double tail = (1 - confidence) / 2;
    out.low = std::min(quantile_sorted(values, tail), out.mid);
    out.high = std::max(quantile_sorted(values, 1 - tail), out.mid);
    return out;
}

}  // namespace

interval bootstrap_harmonic_ci(std::span<const double> rates, std::uint64_t seed, double confidence, int resamples) {
    if (rates.empty()) return {};
    std::vector<double> pick(rates.size());
    return bootstrap(rates.size(), seed, confidence, resamples, [&](const std::vector<std::size_t>& idx) {
        for (std::size_t i = 0; i < idx.size(); ++i) pick[i] = rates[idx[i]];
        return harmonic_mean(pick);
    });
}

bimodality detect_bimodal(std::span<const double> samples, double min_separation) {
    bimodality out;
    const std::size_t n = samples.size();
    const std::size_t min_side = std::max<std::size_t>(2, static_cast<std::size_t>(std::ceil(0.2 * static_cast<double>(n))));
    if (n < 6 || n < 2 * min_side) return out;  // fewer samples cannot tell two levels from noise
    std::vector<double> v(samples.begin(), samples.end());
    std::sort(v.begin(), v.end());
    const double overall = median(v);
    if (overall <= 0) return out;
    double best_gap = 0;
    std::size_t best_k = 0;
    for (std::size_t k = min_side; k + min_side <= n; ++k) {
        const double gap = v[k] - v[k - 1];
        if (gap > best_gap) {
            best_gap = gap;
            best_k = k;
        }
    }
    if (best_k == 0) return out;
    const double low_spread = v[best_k - 1] - v[0];
    const double high_spread = v[n - 1] - v[best_k];
    const std::span<const double> low(v.data(), best_k);
    const std::span<const double> high(v.data() + best_k, n - best_k);
    const double low_med = median(low);
    const double high_med = median(high);
    out.low_median = low_med;
    out.high_median = high_med;
    out.split = v[best_k - 1];
    out.low_count = best_k;
    out.high_count = n - best_k;
    out.bimodal = best_gap > std::max(low_spread, high_spread) && (high_med - low_med) >= min_separation * overall;
    return out;
}

const char* verdict_name(verdict v) noexcept {
    switch (v) {
        case verdict::a_wins: return "a wins";
        case verdict::tie: return "tie";
        case verdict::b_wins: return "b wins";
    }
    return "?";
}

paired_comparison compare_paired(std::span<const double> a, std::span<const double> b, double noise_band,
                                 std::uint64_t seed, std::span<const int> mode_of_round) {
    paired_comparison out;
    const std::size_t n = std::min(a.size(), b.size());
    std::vector<double> pa, pb;
    std::vector<int> modes;
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] > 0 && b[i] > 0) {
            pa.push_back(a[i]);
            pb.push_back(b[i]);
            modes.push_back(mode_of_round.size() >= n ? mode_of_round[i] : 0);
        }
    if (pa.empty()) return out;
    std::vector<double> ra(pa.size()), rb(pb.size());
    out.ratio = bootstrap(pa.size(), seed, 0.95, 2000, [&](const std::vector<std::size_t>& idx) {
        for (std::size_t i = 0; i < idx.size(); ++i) {
            ra[i] = pa[idx[i]];
            rb[i] = pb[idx[i]];
        }
        return harmonic_mean(ra) / harmonic_mean(rb);
    });
    const double upper_band = 1 + noise_band;
    const double lower_band = 1 / (1 + noise_band);
    if (out.ratio.low > upper_band)
        out.outcome = verdict::a_wins;
    else if (out.ratio.high < lower_band)
        out.outcome = verdict::b_wins;
    if (out.outcome != verdict::tie && mode_of_round.size() >= n) {
        out.mode_split = true;
        for (int mode = 0; mode <= 1; ++mode) {
            std::vector<double> ma, mb;
            for (std::size_t i = 0; i < pa.size(); ++i)
                if (modes[i] == mode) ma.push_back(pa[i]), mb.push_back(pb[i]);
            if (ma.empty()) continue;
            const double m = harmonic_mean(ma) / harmonic_mean(mb);
            const bool disagrees = out.outcome == verdict::a_wins ? m < 1 : m > 1;
            if (disagrees) out.overturned_by_mode = true;
        }
        if (out.overturned_by_mode) out.outcome = verdict::tie;
    }
    return out;
}

level_shift detect_level_shift(std::span<const double> series, double noise_band, std::uint64_t seed) {
    level_shift out;
    const std::size_t n = series.size();
    // Two levels count only when they are far apart (as for cells) and grouped in
    // time (the series changed level at most twice): scattered stalls make two
    // clusters too, but they are noise the paired comparisons already absorb.
    out.modes = detect_bimodal(series);
    if (n < min_rounds_for_drift) return out;
    const std::span<const double> first = series.first(n / 2), second = series.subspan(n / 2);
    std::vector<double> f(first.size()), s(second.size());
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick_f(0, first.size() - 1), pick_s(0, second.size() - 1);
    std::vector<double> ratios;
    for (int r = 0; r < 2000; ++r) {
        for (auto& x : f) x = first[pick_f(rng)];
        for (auto& x : s) x = second[pick_s(rng)];
        ratios.push_back(harmonic_mean(s) / harmonic_mean(f));
    }
    std::sort(ratios.begin(), ratios.end());
    const double mid = harmonic_mean(second) / harmonic_mean(first);
    // A 99% interval: a phase is redone on this, so a false alarm costs a whole phase.
    out.later_over_earlier = {std::min(quantile_sorted(ratios, 0.005), mid), mid, std::max(quantile_sorted(ratios, 0.995), mid)};
    const bool trend = out.later_over_earlier.low > 1 + noise_band || out.later_over_earlier.high < 1 / (1 + noise_band);
    int changes = 0;
    for (std::size_t i = 1; i < n && out.modes.bimodal; ++i)
        changes += (series[i] > out.modes.split) != (series[i - 1] > out.modes.split);
    const bool two_levels = out.modes.bimodal && changes <= 2;
    out.shifted = trend || two_levels;
    return out;
}

plan_choice choose_plan(const std::vector<std::vector<double>>& loss, std::size_t max_segments,
                        double loss_resolution) {
    plan_choice out;
    const std::size_t n = loss.size();
    if (n == 0) {
        out.segments.push_back({0, 0});
        return out;
    }
    const std::size_t k_backends = loss[0].size();
    max_segments = std::max<std::size_t>(1, max_segments);
    auto rounded = [&](double x) { return loss_resolution > 0 ? std::round(x / loss_resolution) * loss_resolution : x; };
    const double eps = loss_resolution > 0 ? loss_resolution / 4 : 1e-12;

    // Fewest segments that cover every size using only cells with loss <= w.
    auto min_segments_within = [&](double w) {
        constexpr std::size_t inf = std::numeric_limits<std::size_t>::max() / 2;
        std::vector<std::size_t> dp(k_backends, inf);
        for (std::size_t b = 0; b < k_backends; ++b)
            if (rounded(loss[0][b]) <= w + eps) dp[b] = 1;
        for (std::size_t s = 1; s < n; ++s) {
            const std::size_t best_prev = *std::min_element(dp.begin(), dp.end());
            std::vector<std::size_t> next(k_backends, inf);
            for (std::size_t b = 0; b < k_backends; ++b)
                if (rounded(loss[s][b]) <= w + eps) next[b] = b == 0 ? dp[b] : std::min(dp[b], best_prev + 1);
            dp = next;
        }
        return *std::min_element(dp.begin(), dp.end());
    };

    std::vector<double> candidates;
    for (const auto& row : loss)
        for (double x : row) candidates.push_back(rounded(x));
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    double worst = candidates.back();
    for (double w : candidates)
        if (min_segments_within(w) <= max_segments) {
            worst = w;
            break;
        }

    // Among plans within `worst`: fewest segments, then least total loss, then the
    // simplest backends (sum of backend numbers over sizes). DP over (size, backend,
    // segments used) with parent links.
    struct cell {
        bool reachable = false;
        double total = 0;
        double simplicity = 0;
        int prev_backend = -1;  // backend at s-1
        bool opens_serial = false;  // the first segment is backend 0
    };
    auto better = [&](const cell& x, const cell& y) {  // is x better than y
        if (!y.reachable) return x.reachable;
        if (!x.reachable) return false;
        const double tx = rounded(x.total), ty = rounded(y.total);
        if (std::abs(tx - ty) > eps) return tx < ty;
        return x.simplicity < y.simplicity;
    };
    // Within one DP state (same size, backend and segments used) a plan that opened
    // with serial always ends with one segment fewer counted (see below), whatever
    // comes next, so it wins before loss and simplicity are compared.
    auto better_state = [&](const cell& x, const cell& y) {
        if (x.reachable && y.reachable && x.opens_serial != y.opens_serial) return x.opens_serial;
        return better(x, y);
    };
    const std::size_t m = max_segments;
    // dp[s][b][k]: best cell covering sizes 0..s, backend b at s, k+1 segments used.
    std::vector<std::vector<std::vector<cell>>> dp(n, std::vector<std::vector<cell>>(k_backends, std::vector<cell>(m)));
    auto allowed = [&](std::size_t s, std::size_t b) { return rounded(loss[s][b]) <= worst + eps; };
    for (std::size_t b = 0; b < k_backends; ++b)
        if (allowed(0, b)) dp[0][b][0] = {true, loss[0][b], static_cast<double>(b), -1, b == 0};
    for (std::size_t s = 1; s < n; ++s)
        for (std::size_t b = 0; b < k_backends; ++b) {
            if (!allowed(s, b)) continue;
            for (std::size_t k = 0; k < m; ++k) {
                cell best;
                // continue the same segment
                if (dp[s - 1][b][k].reachable) {
                    best = dp[s - 1][b][k];
                    best.prev_backend = static_cast<int>(b);
                }
                // or start a new one
                if (k > 0)
                    for (std::size_t p = 0; p < k_backends; ++p) {
                        if (p == b || b == 0 || !dp[s - 1][p][k - 1].reachable) continue;
                        cell c = dp[s - 1][p][k - 1];
                        c.prev_backend = static_cast<int>(p);
                        if (better_state(c, best)) best = c;
                    }
                if (best.reachable) {
                    best.total += loss[s][b];
                    best.simplicity += static_cast<double>(b);
                    dp[s][b][k] = best;
                }
            }
        }
    // Fewest segments first, not counting an opening serial segment: "parallel from
    // the first byte" is no simpler than "serial, then parallel" (it only adds the
    // parallel backend's overhead where it merely ties).
    int end_backend = -1;
    std::size_t end_k = 0;
    cell best_end;
    std::size_t best_count = std::numeric_limits<std::size_t>::max();
    for (std::size_t k = 0; k < m; ++k)
        for (std::size_t b = 0; b < k_backends; ++b) {
            const cell& c = dp[n - 1][b][k];
            if (!c.reachable) continue;
            const std::size_t count = k + 1 - (c.opens_serial ? 1 : 0);
            if (count < best_count || (count == best_count && better(c, best_end))) {
                best_count = count;
                best_end = c;
                end_backend = static_cast<int>(b);
                end_k = k;
            }
        }
    if (end_backend < 0) {  // cannot happen: `worst` was chosen feasible
        out.segments.push_back({0, 0});
        return out;
    }
    // Walk back.
    std::vector<int> chosen(n);
    int b = end_backend;
    std::size_t k = end_k;
    for (std::size_t s = n; s-- > 0;) {
        chosen[s] = b;
        const int prev = dp[s][static_cast<std::size_t>(b)][k].prev_backend;
        if (s > 0 && prev != b) --k;
        b = prev;
    }
    for (std::size_t s = 0; s < n; ++s) {
        if (s == 0 || chosen[s] != chosen[s - 1]) out.segments.push_back({s, chosen[s]});
        const double l = loss[s][static_cast<std::size_t>(chosen[s])];
        out.worst_loss = std::max(out.worst_loss, l);
        out.total_loss += l;
    }
    return out;
}

std::uint64_t geometric_midpoint(std::uint64_t a, std::uint64_t b, std::uint64_t granule) {
    if (granule == 0) granule = 1;
    const double mid = std::sqrt(static_cast<double>(a) * static_cast<double>(b));
    auto g = static_cast<std::uint64_t>(std::llround(mid / static_cast<double>(granule)));
    return std::max<std::uint64_t>(1, g) * granule;
}

}  // namespace calib64::calib
