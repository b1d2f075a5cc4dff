#include "decide.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace calib64::calib {

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t size, salt s, std::uint64_t offset) {
    auto mix = [](std::uint64_t h) {  // splitmix64's finaliser
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebull;
        return h ^ (h >> 31);
    };
    return mix(mix(mix(seed ^ mix(size)) ^ static_cast<std::uint64_t>(s)) ^ offset);
}

namespace {

std::string ratio_words(const interval& r) { return fmt::format("{:.2f}x (95% CI {:.2f}-{:.2f})", r.mid, r.low, r.high); }

// Which rounds were in the high mode of a bimodal sample (empty when not bimodal).
std::vector<int> mode_labels(const std::vector<double>& samples, const bimodality& b) {
    if (!b.bimodal) return {};
    std::vector<int> labels;
    for (double s : samples) labels.push_back(s > b.split ? 1 : 0);
    return labels;
}

}  // namespace

void analyse_size(size_analysis& a, std::uint64_t seed) {
    for (std::size_t b = 0; b < backend_count; ++b) {
        a.tput[b] = bootstrap_harmonic_ci(a.samples[b], mix_seed(seed, a.size_bytes, salt::sweep_mean, b));
        a.tail_mb_per_s[b] = quantile(a.samples[b], 0.10);
        a.modes[b] = detect_bimodal(a.samples[b]);
    }
    a.best = 0;
    for (std::size_t b = 1; b < backend_count; ++b)
        if (!a.single_chunk[b] && a.tput[b].mid > a.tput[static_cast<std::size_t>(a.best)].mid) a.best = static_cast<int>(b);
    const auto best = static_cast<std::size_t>(a.best);
    a.unstable.clear();
    for (std::size_t b = 0; b < backend_count; ++b) {
        a.loss[b] = 0;
        const std::string_view name = backend_name(all_backends[b]);
        if (a.modes[b].bimodal)
            a.unstable.push_back(fmt::format("{} bimodal: {:.0f} and {:.0f} MB/s ({}/{} rounds)", name, a.modes[b].low_median,
                                             a.modes[b].high_median, a.modes[b].low_count, a.modes[b].high_count));
        else if (a.tput[b].relative_width() > wide_interval)
            a.unstable.push_back(fmt::format("{} interval {:.0f}% wide", name, a.tput[b].relative_width() * 100));
        if (b == best) continue;
        // A bimodal reference splits the rounds: the best must beat b in both machine
        // states, or b counts as tied (safe under both).
        std::vector<int> labels = mode_labels(a.samples[best], a.modes[best]);
        if (labels.empty()) labels = mode_labels(a.samples[b], a.modes[b]);
        a.best_vs[b] =
            compare_paired(a.samples[best], a.samples[b], noise_band, mix_seed(seed, a.size_bytes, salt::sweep_paired, b), labels);
        if (a.best_vs[b].outcome == verdict::a_wins) a.loss[b] = 1 - 1 / a.best_vs[b].ratio.mid;
    }
}

std::vector<std::vector<double>> loss_matrix(const std::vector<size_analysis>& sizes) {
    std::vector<std::vector<double>> loss;
    for (const auto& s : sizes) loss.emplace_back(s.loss.begin(), s.loss.end());
    return loss;
}

std::vector<runtime::switch_point> switch_points_from(const std::vector<size_analysis>& sizes, const plan_choice& plan,
                                                     std::uint64_t seed) {
    std::vector<runtime::switch_point> out;
    for (std::size_t k = 0; k < plan.segments.size(); ++k) {
        const segment& seg = plan.segments[k];
        const int prev = k == 0 ? 0 : plan.segments[k - 1].backend;
        if (k == 0 && seg.backend == 0) continue;  // below the first point: serial anyway
        const auto nb = static_cast<std::size_t>(seg.backend), pb = static_cast<std::size_t>(prev);
        const std::size_t i = seg.first_index;
        runtime::switch_point sp;
        sp.how = all_backends[nb];
        sp.from_bytes = k == 0 ? 1 : sizes[i].size_bytes;
        // Earliest size from which the new backend is never measurably worse up to i.
        // A size the new backend runs as one chunk ties trivially (it is serial's
        // work) and says nothing about where the crossover lies.
        std::size_t lo = i;
        while (lo > 0 && sizes[lo - 1].loss[nb] == 0 && !sizes[lo - 1].single_chunk[nb]) --lo;
        // The first size past i where the previous backend loses (or the last size).
        std::size_t hi = i;
        while (hi + 1 < sizes.size() && sizes[hi].loss[pb] == 0) ++hi;
        // Between sizes[lo] and sizes[i] the two backends tied: the crossover lies
        // somewhere in there and moves with the machine's state (cache edges), so the
        // switch goes to the geometric middle rather than to either end.
        const bool centred = k > 0 && lo < i;
        if (centred) sp.from_bytes = geometric_midpoint(sizes[lo].size_bytes, sizes[i].size_bytes, 4);
        sp.ci_low_bytes = std::min(sizes[lo].size_bytes, sp.from_bytes);
        sp.ci_high_bytes = std::max(sizes[hi].size_bytes, sp.from_bytes);
        const size_analysis& at = sizes[i];
        const paired_comparison r =
            compare_paired(at.samples[nb], at.samples[pb], noise_band, mix_seed(seed, at.size_bytes, salt::switch_reason, nb));
        sp.reason = fmt::format("{} from {}: {}/{} = {} at {}{}; the switch could lie anywhere in {}-{} without a measured loss",
                                backend_name(sp.how), format_size(sp.from_bytes), backend_name(sp.how),
                                backend_name(all_backends[pb]), ratio_words(r.ratio), format_size(at.size_bytes),
                                centred ? ", placed mid-way through the sizes where they tie" : "",
                                format_size(sp.ci_low_bytes), format_size(sp.ci_high_bytes));
        out.push_back(sp);
    }
    return out;
}

std::size_t pick_winner(const std::vector<candidate_outcome>& candidates, std::size_t reference) {
    std::size_t pick = reference;
    double pick_score = 1;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const candidate_outcome& c = candidates[i];
        if (i != reference && c.wins && !c.loses && c.score > pick_score) {
            pick = i;
            pick_score = c.score;
        }
    }
    return pick;
}

bool point_decided(const paired_comparison& c) {
    if (c.outcome != verdict::tie) return true;
    return c.ratio.low >= 1 / (1 + noise_band) && c.ratio.high <= 1 + noise_band;
}

contest_choice decide_contest(const std::vector<contest_point>& points, std::uint64_t granule, std::uint64_t below,
                              std::uint64_t above) {
    contest_choice out;
    const std::size_t k = points.size();
    if (k == 0) return out;
    // Threshold t: sizes j >= t run the new backend. Feasible: no decisive old win at or
    // after t and no decisive new win before it.
    auto feasible = [&](std::size_t t) {
        for (std::size_t j = 0; j < k; ++j) {
            const verdict v = points[j].new_vs_old.outcome;
            if (j >= t && v == verdict::b_wins) return false;
            if (j < t && v == verdict::a_wins) return false;
        }
        return true;
    };
    std::size_t lo = k + 1, hi = 0;
    for (std::size_t t = 0; t <= k; ++t)
        if (feasible(t)) lo = std::min(lo, t), hi = std::max(hi, t);
    out.settled = std::all_of(points.begin(), points.end(), [](const contest_point& p) { return point_decided(p.new_vs_old); });
    if (lo > k) {
        // Verdicts that flip more than once: the least total extra time over the
        // contest sizes, each size weighted alike (relative time of the new call).
        double best_cost = 1e300;
        for (std::size_t t = 0; t <= k; ++t) {
            double cost = 0;
            for (std::size_t j = t; j < k; ++j) cost += 1 / points[j].new_vs_old.ratio.mid - 1;
            if (cost < best_cost) best_cost = cost, lo = hi = t;
        }
        out.settled = false;
    }
    // Threshold index t means a switch in (size[t-1], size[t]]; beyond the ends, one
    // more step of the contest's own spacing, kept within the neighbours.
    const double step = k > 1 ? static_cast<double>(points[1].size_bytes) / static_cast<double>(points[0].size_bytes) : 1.25;
    auto size_at = [&](std::ptrdiff_t j) -> std::uint64_t {
        if (j < 0) return std::max<std::uint64_t>(below + granule, static_cast<std::uint64_t>(static_cast<double>(points[0].size_bytes) / step));
        if (j >= static_cast<std::ptrdiff_t>(k))
            return std::min<std::uint64_t>(above - granule, static_cast<std::uint64_t>(static_cast<double>(points[k - 1].size_bytes) * step));
        return points[static_cast<std::size_t>(j)].size_bytes;
    };
    // The switch stays strictly between its neighbours: (below, above).
    const std::uint64_t floor = below + granule;
    const std::uint64_t ceiling = std::max(floor, above > granule ? above - granule : floor);
    auto inside = [&](std::uint64_t v) { return std::min(std::max(v, floor), ceiling); };
    out.low = inside(size_at(static_cast<std::ptrdiff_t>(lo) - 1) + granule);
    out.high = inside(size_at(static_cast<std::ptrdiff_t>(hi)));
    if (out.low > out.high) std::swap(out.low, out.high);
    out.from = inside(std::min(std::max(geometric_midpoint(out.low, out.high, granule), out.low), out.high));
    out.words = out.settled
                    ? fmt::format("settled head to head: the switch can lie anywhere in {}-{} without a measured loss; placed at {}",
                                  format_size(out.low), format_size(out.high), format_size(out.from))
                    : fmt::format("not settled within the budget: undecided in {}-{}; placed at {}", format_size(out.low),
                                  format_size(out.high), format_size(out.from));
    return out;
}

validation_detail judge_validation(const validation_input& in, std::uint64_t seed) {
    validation_detail d;
    d.row.op = in.op;
    d.row.size_bytes = in.size_bytes;
    d.row.auto_mb_per_s = harmonic_mean(in.auto_samples);
    d.auto_backend = std::string(backend_name(in.auto_runs));
    double best = -1, rival_rate = -1;
    std::size_t rival = backend_count;
    for (std::size_t b = 0; b < backend_count; ++b) {
        const double rate = harmonic_mean(in.samples[b]);
        const std::string name(backend_name(all_backends[b]));
        d.row.backend_mb_per_s[name] = rate;
        if (rate > best) {
            best = rate;
            d.best_backend = name;
            d.best_single_chunk = in.serial_work[b];
        }
        const bool same_work = in.same_call[b] || (in.auto_runs == backend::serial && in.serial_work[b]);
        if (in.same_call[b]) {
            d.same_call = name;
            d.auto_vs_same = compare_paired(in.auto_samples, in.samples[b], noise_band,
                                            mix_seed(seed, in.size_bytes, salt::validation_paired, b));
        } else if (!same_work && rate > rival_rate) {
            rival_rate = rate;
            rival = b;
        }
    }
    if (rival < backend_count) {
        d.rival = std::string(backend_name(all_backends[rival]));
        d.auto_vs_rival = compare_paired(in.auto_samples, in.samples[rival], noise_band,
                                         mix_seed(seed, in.size_bytes, salt::validation_paired, rival));
        d.row.auto_over_best = d.auto_vs_rival.ratio.mid;
    } else {
        d.row.auto_over_best = 1;  // every fixed backend makes auto's own call: equal by construction
    }
    return d;
}

bool calls_for_repair(const validation_detail& v) noexcept {
    return !v.rival.empty() && v.row.auto_over_best < validation_target && v.auto_vs_rival.outcome == verdict::b_wins;
}

}  // namespace calib64::calib
