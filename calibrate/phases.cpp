// The phases of a calibration (docs/calibration.md says why each exists).
#include "phases.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>

#include "decide.h"

namespace calib64::calib {
namespace {

using runtime::operation;
using clock_type = std::chrono::steady_clock;

constexpr std::uint64_t kib = 1024, mib = 1024 * 1024, mb = 1000 * 1000;
constexpr std::uint64_t reference_bytes = 64 * kib;  // in L2 everywhere: the core's own speed

std::string op_name(operation op) { return std::string(runtime::operation_name(op)); }

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

round_plan plan_for(const mode_config& m, double budget_s) {
    return {.budget_s = budget_s, .min_rounds = m.min_rounds, .max_rounds = m.max_rounds,
            .min_sample_s = m.min_sample_s, .max_sample_s = m.max_sample_s};
}

const std::vector<double>& samples_of(const std::vector<cell>& cells, const std::string& op, const std::string& series,
                                      std::uint64_t size) {
    for (const cell& c : cells)
        if (c.op == op && c.series == series && c.size_bytes == size) return c.mb_per_s;
    static const std::vector<double> none;
    return none;
}

// A parallel backend that cuts `size` into one chunk runs serial's work.
bool runs_one_chunk(operation op, backend b, const parallel_options& par, std::uint64_t size) {
    if (b == backend::serial) return false;
    return (op == operation::encode ? encode_chunk_count(size, par) : decode_chunk_count(size, par)) <= 1;
}

cell make_cell(const std::string& phase, const std::string& op, const std::string& series, std::uint64_t size, call run,
               check verify = {}) {
    cell c;
    c.phase = phase;
    c.op = op;
    c.series = series;
    c.size_bytes = size;
    c.block = op + "/" + std::to_string(size);
    c.run_once = std::move(run);
    c.verify = std::move(verify);
    return c;
}

enum class drift_watch : std::uint8_t { on, off };

// The phase's budget, cut to what the calibration's time limit leaves (noted).
double budget_within_limit(phase_context& ctx, const std::string& name, double budget_s) {
    const double left = ctx.remaining_s();
    if (left >= budget_s) return budget_s;
    ctx.cal.cut_short.push_back(fmt::format("{}: {:.1f} s of its {:.1f} s budget were left", name, std::max(left, 0.0), budget_s));
    return std::max(left, 0.0);  // the measurer still runs its minimum rounds
}

// Measures `cells` as one phase, with the drift reference cell in every round (unless
// `watch` is off: the roofline's spinning team would slow the reference). When the
// reference shows the machine changing state during the phase, the phase is measured
// once more (while redos and time last); if it drifts again, the calibration is marked
// as measured on an unstable machine. Records the phase's time and drift.
bool run_phase(phase_context& ctx, const std::string& name, std::vector<cell>& cells, double budget_s,
               const settled_fn& settled = {}, drift_watch watch = drift_watch::on) {
    calibration& cal = ctx.cal;
    const auto t0 = clock_type::now();
    budget_s = budget_within_limit(ctx, name, budget_s);
    ctx.m.begin_phase(name, budget_s / cal.mode.total_budget_s());
    if (watch == drift_watch::on) {
        cells.push_back(make_cell(name, "encode", "reference", reference_bytes,
                                  ctx.w.codec_call(operation::encode, backend::serial, best_kernel(), {}, reference_bytes)));
        cells.back().block = "reference";
    }
    phase_drift drift;
    drift.phase = name;
    const std::uint64_t phase_number = cal.drift.size();
    int rounds = 0;
    for (int attempt = 0;; ++attempt) {
        if (!ctx.m.measure(cells, plan_for(cal.mode, budget_s), settled)) {
            ctx.error = ctx.m.error();
            return false;
        }
        rounds += ctx.m.rounds_run();
        if (watch == drift_watch::off) break;
        const std::vector<double>& ref = cells.back().mb_per_s;
        const std::uint64_t look = phase_number * 2 + static_cast<std::uint64_t>(attempt);
        drift.reference_mb_per_s = bootstrap_harmonic_ci(ref, mix_seed(cal.seed, reference_bytes, salt::drift_level, look));
        drift.shift = detect_level_shift(ref, noise_band, mix_seed(cal.seed, reference_bytes, salt::drift_shift, look));
        if (!drift.shift.shifted) break;
        if (attempt == 1) {  // it drifted again while measured again
            drift.still_shifted = true;
            cal.unstable_machine = true;
            break;
        }
        if (ctx.redos_left == 0 || ctx.remaining_s() < budget_s) {
            cal.cut_short.push_back(fmt::format("{}: drifted, not measured again ({})", name,
                                                ctx.redos_left == 0 ? "no redos left" : "out of time"));
            break;
        }
        --ctx.redos_left;
        drift.redone = true;
    }
    if (watch == drift_watch::on) {
        if (!cal.drift.empty() && cal.drift.front().reference_mb_per_s.mid > 0)
            drift.vs_first_phase = drift.reference_mb_per_s.mid / cal.drift.front().reference_mb_per_s.mid;
        cal.drift.push_back(drift);
        cells.pop_back();
    }
    ctx.m.end_phase();
    cal.phases.push_back({name, seconds_since(t0), rounds, cells.size()});
    return true;
}

// Paired verdicts of every candidate against the reference at each size, as the picker wants them.
candidate_outcome outcome_of(const std::vector<paired_comparison>& at_sizes) {
    candidate_outcome o;
    for (const auto& c : at_sizes) {
        o.wins = o.wins || c.outcome == verdict::a_wins;
        o.loses = o.loses || c.outcome == verdict::b_wins;
        o.score *= c.ratio.mid;
    }
    return o;
}

}  // namespace

// ------------------------------------------------------------------ sizes

std::vector<std::uint64_t> size_grid(const mode_config& m, std::uint64_t max_bytes, std::uint64_t granule) {
    std::set<std::uint64_t> sizes;
    auto add = [&](double s) {
        auto v = static_cast<std::uint64_t>(std::llround(s / static_cast<double>(granule))) * granule;
        if (v >= granule && v <= max_bytes) sizes.insert(v);
    };
    // A log grid from 4 KiB, denser between 1 and 32 MiB (where the L2 and L3 edges
    // fall on most machines), plus the 1-100 MB points of the note the project grew from.
    for (double s = 4.0 * kib; s <= static_cast<double>(max_bytes) * 1.0001;) {
        add(s);
        const bool dense = s >= mib && s < 32.0 * mib;
        s *= std::exp2(1.0 / (dense ? m.dense_per_octave : m.grid_per_octave));
    }
    add(static_cast<double>(max_bytes));
    const std::vector<std::uint64_t> note = m.all_note_points
                                                ? std::vector<std::uint64_t>{1, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100}
                                                : std::vector<std::uint64_t>{1, 10, 25, 50, 100};
    for (std::uint64_t n : note) add(static_cast<double>(n * mb));
    return {sizes.begin(), sizes.end()};
}

namespace {

// Held-out validation sizes: log-uniform between 6 KiB and 90% of the largest size,
// one per stratum, jittered off every size already measured and off round numbers.
std::vector<std::uint64_t> validation_sizes(int count, std::uint64_t max_bytes, std::uint64_t granule,
                                            const std::set<std::uint64_t>& taken, std::mt19937_64& rng) {
    std::vector<std::uint64_t> out;
    const double lo = std::log2(6.0 * kib), hi = std::log2(static_cast<double>(max_bytes) * 0.9);
    for (int i = 0; i < count; ++i) {
        std::uniform_real_distribution<double> u(lo + (hi - lo) * i / count, lo + (hi - lo) * (i + 1) / count);
        for (int attempt = 0; attempt < 100; ++attempt) {
            auto v = static_cast<std::uint64_t>(std::exp2(u(rng))) / granule * granule + granule * 7;
            const bool near_taken = std::any_of(taken.begin(), taken.end(), [&](std::uint64_t t) {
                return std::abs(static_cast<double>(t) - static_cast<double>(v)) < 0.01 * static_cast<double>(t);
            });
            if (!near_taken && v <= max_bytes) {
                out.push_back(v);
                break;
            }
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

// ------------------------------------------------------------------ roofline

bool measure_roofline(phase_context& ctx) {
    calibration& cal = ctx.cal;
    const mode_config& m = cal.mode;
    ctx.w.start_copy_team();
    std::vector<cell> cells;
    for (std::uint64_t s = 4 * kib; s <= cal.max_bytes; s *= (m.grid_per_octave >= 2 ? 2 : 4))
        for (bool all : {false, true}) {
            cells.push_back(make_cell("roofline", "memcpy", all ? "all_threads" : "1_thread", s, ctx.w.memcpy_call(s, all)));
            cells.back().block = "memcpy/" + std::to_string(s);
        }
    const bool ok = run_phase(ctx, "roofline", cells, m.roofline_s, {}, drift_watch::off);
    ctx.w.stop_copy_team();
    if (!ok) return false;
    cal.roofline.clear();
    cal.roofline_all_threads_drawn.clear();
    for (const char* series : {"1_thread", "all_threads"}) {
        runtime::curve cv{"memcpy", series, {}};
        for (const cell& c : cells) {
            if (c.series != series) continue;
            const interval iv = bootstrap_harmonic_ci(c.mb_per_s, mix_seed(cal.seed, c.size_bytes, salt::roofline_mean));
            cv.points.push_back({c.size_bytes, iv.mid, iv.low, iv.high});
            const bimodality bm = detect_bimodal(c.mb_per_s);
            if (bm.bimodal)
                cal.prof.stability.push_back(
                    {"memcpy", series, c.size_bytes, "bimodal",
                     fmt::format("memcpy bandwidth switched between {:.0f} and {:.0f} MB/s across rounds", bm.low_median,
                                 bm.high_median)});
        }
        cal.roofline.push_back(std::move(cv));
    }
    // A ceiling below one thread's copy is the cost of synchronising the team, not
    // bandwidth: the chart and the report leave those sizes out.
    for (std::size_t i = 0; i < cal.roofline[1].points.size(); ++i)
        cal.roofline_all_threads_drawn.push_back(cal.roofline[1].points[i].median_mb_per_s >=
                                                 cal.roofline[0].points[i].median_mb_per_s);
    return true;
}

// ------------------------------------------------------------------ kernels

bool choose_kernels(phase_context& ctx) {
    calibration& cal = ctx.cal;
    const std::uint64_t in_cache = 64 * kib;
    const std::uint64_t out_cache = std::min<std::uint64_t>(cal.max_bytes, 64 * mib) / 4 * 4;
    std::vector<cell> cells;
    for (operation op : runtime::operations)
        for (kernel_id k : available_kernels())
            for (std::uint64_t s : {in_cache, out_cache})
                cells.push_back(make_cell("kernels", op_name(op), std::string(kernel_name(k)), s,
                                          ctx.w.codec_call(op, backend::serial, k, {}, s), ctx.w.verify(op, s)));
    if (!run_phase(ctx, "kernels", cells, cal.mode.kernels_s)) return false;
    const kernel_id reference = best_kernel();
    const auto kernels = available_kernels();
    for (operation op : runtime::operations) {
        const std::string name = op_name(op);
        std::vector<candidate_outcome> outcomes;
        std::size_t reference_index = 0;
        for (std::size_t i = 0; i < kernels.size(); ++i) {
            const kernel_id k = kernels[i];
            if (k == reference) reference_index = i;
            std::vector<paired_comparison> verdicts;
            for (std::uint64_t s : {in_cache, out_cache}) {
                kernel_row row{name, std::string(kernel_name(k)), s, {}, {}};
                const auto& mine = samples_of(cells, name, row.kernel, s);
                row.tput = bootstrap_harmonic_ci(mine, mix_seed(cal.seed, s, salt::kernel_mean, static_cast<std::uint64_t>(k)));
                row.vs_reference = compare_paired(mine, samples_of(cells, name, std::string(kernel_name(reference)), s),
                                                  noise_band, mix_seed(cal.seed, s, salt::kernel_paired, static_cast<std::uint64_t>(k)));
                verdicts.push_back(row.vs_reference);
                cal.kernels.push_back(row);
            }
            outcomes.push_back(outcome_of(verdicts));
        }
        const kernel_id pick = kernels[pick_winner(outcomes, reference_index)];
        cal.chosen_kernel[op] = pick;
        cal.kernel_reason[name] =
            pick == reference
                ? fmt::format("{}: the CPU's best kernel; no other kernel beat it by more than the noise band", kernel_name(pick))
                : fmt::format("{}: beat {} beyond the noise band and lost nowhere", kernel_name(pick), kernel_name(reference));
    }
    return true;
}

// ------------------------------------------------------------------ tuning

bool tune_backends(phase_context& ctx) {
    calibration& cal = ctx.cal;
    const unsigned cpus = std::max(1u, cal.topo.usable_cpus);
    std::vector<unsigned> thread_counts;
    for (unsigned t = 1; t < cpus; t = cpus <= 4 ? t + 1 : t * 2) thread_counts.push_back(t);
    thread_counts.push_back(cpus);
    // A setting must hold where the backend will run, down to the switch from serial
    // (near the L2 edge): a fixed chunk tuned at 4 and 48 MiB alone made the calls just
    // past that switch single-chunk, 10-14% slower than the defaults there.
    const std::uint64_t near_switch = std::max<std::uint64_t>(64 * kib, cal.topo.l2_bytes / 4);
    const std::vector<std::uint64_t> sizes = {std::min<std::uint64_t>(cal.max_bytes, near_switch) / 4 * 4,
                                              std::min<std::uint64_t>(cal.max_bytes, 4 * mib) / 4 * 4,
                                              std::min<std::uint64_t>(cal.max_bytes, 48 * mib) / 4 * 4};
    std::vector<parallel_options> settings{{0, 0}};  // the library's defaults first
    for (unsigned t : thread_counts)
        for (std::uint64_t ch : cal.mode.chunk_bytes)
            if (!(t == cpus && ch == 0)) settings.push_back({t, ch});
    auto label = [](const parallel_options& p) { return fmt::format("t{}/c{}", p.threads, p.chunk_bytes); };
    std::vector<cell> cells;
    for (operation op : runtime::operations)
        for (backend b : all_backends) {
            if (detail::backend_rows[backend_index(b)].executor == nullptr) continue;  // serial: nothing to tune
            for (const parallel_options& p : settings)
                for (std::uint64_t s : sizes)
                    cells.push_back(make_cell("tuning", op_name(op), fmt::format("{}/{}", backend_name(b), label(p)), s,
                                              ctx.w.codec_call(op, b, cal.chosen_kernel[op], p, s), ctx.w.verify(op, s)));
        }
    if (!run_phase(ctx, "tuning", cells, cal.mode.tuning_s)) return false;
    for (operation op : runtime::operations)
        for (backend b : all_backends) {
            if (detail::backend_rows[backend_index(b)].executor == nullptr) continue;  // serial: nothing to tune
            const std::string name = op_name(op);
            std::vector<candidate_outcome> outcomes;
            for (std::size_t i = 0; i < settings.size(); ++i) {
                std::vector<paired_comparison> verdicts;
                for (std::uint64_t s : sizes) {
                    const auto& mine = samples_of(cells, name, fmt::format("{}/{}", backend_name(b), label(settings[i])), s);
                    const auto& defaults = samples_of(cells, name, fmt::format("{}/{}", backend_name(b), label(settings[0])), s);
                    tuning_row row{name, b, settings[i].threads, settings[i].chunk_bytes, s, {}, {}};
                    row.tput = bootstrap_harmonic_ci(mine, mix_seed(cal.seed, s, salt::tuning_mean, i));
                    row.vs_default = compare_paired(mine, defaults, noise_band, mix_seed(cal.seed, s, salt::tuning_paired, i));
                    verdicts.push_back(row.vs_default);
                    cal.tuning.push_back(row);
                }
                outcomes.push_back(outcome_of(verdicts));
            }
            const parallel_options pick = settings[pick_winner(outcomes, 0)];
            cal.tuned[{op, b}] = pick;
            cal.tuning_reason[name + "/" + std::string(backend_name(b))] =
                pick.threads == 0 && pick.chunk_bytes == 0
                    ? "library defaults (all usable threads, automatic chunks): no other setting won at one size without losing at another"
                    : fmt::format("threads {}, chunk {}: beat the defaults beyond the noise band and lost nowhere", pick.threads,
                                  pick.chunk_bytes ? format_size(pick.chunk_bytes) : std::string("automatic"));
        }
    return true;
}

// ------------------------------------------------------------------ sweep and refine

namespace {

std::vector<cell> sweep_cells(phase_context& ctx, operation op, const std::vector<std::uint64_t>& sizes, const char* phase) {
    std::vector<cell> cells;
    for (std::uint64_t s : sizes)
        for (backend b : all_backends)
            cells.push_back(make_cell(phase, op_name(op), std::string(backend_name(b)), s,
                                      ctx.w.codec_call(op, b, ctx.cal.chosen_kernel[op], ctx.cal.tuned_for(op, b), s),
                                      ctx.w.verify(op, s)));
    return cells;
}

// Adds the measured cells to the operation's sweep and analyses it again.
void absorb(calibration& cal, operation op, const std::vector<cell>& cells, bool refined) {
    auto& list = cal.sweep[op];
    for (const cell& c : cells) {
        if (c.op != op_name(op)) continue;
        auto it = std::find_if(list.begin(), list.end(), [&](const size_analysis& a) { return a.size_bytes == c.size_bytes; });
        if (it == list.end()) {
            list.push_back({});
            it = list.end() - 1;
            it->size_bytes = c.size_bytes;
            it->refined = refined;
        }
        const backend b = *detail::backend_from_name(c.series);
        const std::size_t i = backend_index(b);
        it->samples[i] = c.mb_per_s;
        it->single_chunk[i] = runs_one_chunk(op, b, cal.tuned_for(op, b), c.size_bytes);
    }
    std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) { return x.size_bytes < y.size_bytes; });
    for (auto& a : list) analyse_size(a, cal.seed);
}

// Midpoints of the neighbouring sizes where the plan switches backend, where they are
// still more than 15% apart.
std::vector<std::uint64_t> switch_midpoints(const std::vector<size_analysis>& list, std::uint64_t granule) {
    std::vector<std::uint64_t> mids;
    const plan_choice plan = choose_plan(loss_matrix(list));
    for (const segment& seg : plan.segments) {
        if (seg.first_index == 0) continue;
        const std::uint64_t lo = list[seg.first_index - 1].size_bytes, hi = list[seg.first_index].size_bytes;
        if (static_cast<double>(hi) / static_cast<double>(lo) < 1.15) continue;
        const std::uint64_t mid = geometric_midpoint(lo, hi, granule);
        if (mid > lo && mid < hi) mids.push_back(mid);
    }
    return mids;
}

}  // namespace

bool sweep_sizes(phase_context& ctx) {
    calibration& cal = ctx.cal;
    std::vector<cell> cells;
    for (operation op : runtime::operations) {
        auto more = sweep_cells(ctx, op, size_grid(cal.mode, cal.max_bytes, granule_of(op)), "sweep");
        cells.insert(cells.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    if (!run_phase(ctx, "sweep", cells, cal.mode.sweep_s)) return false;
    for (operation op : runtime::operations) absorb(cal, op, cells, false);
    for (int depth = 0; depth < cal.mode.refine_depth; ++depth) {
        std::vector<cell> more_cells;
        for (operation op : runtime::operations) {
            auto more = sweep_cells(ctx, op, switch_midpoints(cal.sweep[op], granule_of(op)), "refine");
            more_cells.insert(more_cells.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
        }
        if (more_cells.empty()) break;
        if (!run_phase(ctx, fmt::format("refine {}", depth + 1), more_cells, cal.mode.refine_s / cal.mode.refine_depth))
            return false;
        for (operation op : runtime::operations) absorb(cal, op, more_cells, true);
    }
    return true;
}

void write_decisions(calibration& cal) {
    runtime::profile& prof = cal.prof;
    for (operation op : runtime::operations) {
        runtime::operation_profile& o = prof.for_op(op);
        o.kernel = cal.chosen_kernel[op];
        o.tuning.clear();
        for (backend b : all_backends) {
            if (detail::backend_rows[backend_index(b)].executor == nullptr) continue;  // serial: nothing to tune
            const parallel_options par = cal.tuned_for(op, b);
            o.tuning.push_back({b, par.threads, par.chunk_bytes});
        }
        const auto& list = cal.sweep[op];
        const plan_choice plan = choose_plan(loss_matrix(list));
        o.switch_points = switch_points_from(list, plan, cal.seed);
        const bool any_decisive = std::any_of(list.begin(), list.end(), [](const size_analysis& a) {
            return std::any_of(a.loss.begin(), a.loss.end(), [](double l) { return l > 0; });
        });
        cal.plan_summary[op] =
            !o.switch_points.empty()
                ? fmt::format("{} switch point(s); the chosen backend is at most {:.1f}% slower than the best at any measured size",
                              o.switch_points.size(), plan.worst_loss * 100)
            : any_decisive ? "serial everywhere: where another backend won, the win did not hold at enough sizes to outweigh its "
                             "losses elsewhere"
                           : "no reliable crossover: at every size the backends tied within the noise band or serial won; keeping "
                             "serial (the simplest)";
    }
}

// ------------------------------------------------------------------ head to head

namespace {

std::shared_ptr<const runtime::resolved_settings> settings_for(const calibration& cal, const runtime::profile& p) {
    return std::make_shared<const runtime::resolved_settings>(
        runtime::settings_from(&p, "calibration in progress", {}, runtime::environment{}, cal.topo));
}

// The contest for switch point `k` of `op`: sizes spread over its interval, each with
// the profile switching just before it (new) and just after it (old).
struct contest_plan {
    operation op;
    std::size_t k;
    std::uint64_t below, above;  // neighbouring switch points: the switch stays between them
    std::vector<std::uint64_t> sizes;
};

std::vector<contest_plan> contests_to_run(const calibration& cal, const std::vector<operation>& ops) {
    std::vector<contest_plan> out;
    for (operation op : ops) {
        const auto& points = cal.prof.for_op(op).switch_points;
        for (std::size_t k = 0; k < points.size(); ++k) {
            const runtime::switch_point& sp = points[k];
            if (sp.from_bytes <= 1) continue;  // parallel from the first byte: nothing to place
            const std::uint64_t g = granule_of(op);
            std::uint64_t low = std::max(sp.ci_low_bytes, g), high = std::max(sp.ci_high_bytes, low);
            // A switch measured to a point still gets a contest around it: a narrow
            // interval from a grid is only as good as the grid's spacing.
            if (static_cast<double>(high) / static_cast<double>(low) < contest_interval_ratio) {
                low = std::max<std::uint64_t>(g, static_cast<std::uint64_t>(static_cast<double>(sp.from_bytes) / 1.4));
                high = static_cast<std::uint64_t>(static_cast<double>(sp.from_bytes) * 1.4);
            }
            contest_plan c{op, k, k == 0 ? 0 : points[k - 1].from_bytes, k + 1 < points.size() ? points[k + 1].from_bytes : UINT64_MAX, {}};
            low = std::max(low, c.below + g);
            high = std::min({high, c.above > g ? c.above - g : c.above, cal.max_bytes / g * g});
            const int n = cal.mode.contest_sizes;
            for (int i = 0; i < n && low <= high; ++i) {
                const double f = n == 1 ? 0.5 : static_cast<double>(i) / (n - 1);
                const auto s = static_cast<std::uint64_t>(std::exp(std::log(static_cast<double>(low)) * (1 - f) +
                                                                   std::log(static_cast<double>(high)) * f)) / g * g;
                if (s >= g && (c.sizes.empty() || s > c.sizes.back())) c.sizes.push_back(s);
            }
            if (!c.sizes.empty()) out.push_back(std::move(c));
        }
    }
    return out;
}

runtime::profile with_switch_at(const runtime::profile& p, operation op, std::size_t k, std::uint64_t from) {
    runtime::profile q = p;
    runtime::switch_point& sp = q.for_op(op).switch_points[k];
    sp.from_bytes = from;
    sp.ci_low_bytes = std::min(sp.ci_low_bytes, from);
    sp.ci_high_bytes = std::max(sp.ci_high_bytes, from);
    return q;
}

std::string contest_series(const contest_plan& c, bool new_side) {
    return fmt::format("switch{}/{}", c.k, new_side ? "new" : "old");
}

paired_comparison contest_verdict(const calibration& cal, const std::vector<cell>& cells, const contest_plan& c,
                                  std::uint64_t size) {
    const std::string op = op_name(c.op);
    return compare_paired(samples_of(cells, op, contest_series(c, true), size), samples_of(cells, op, contest_series(c, false), size),
                          noise_band, mix_seed(cal.seed, size, salt::contest_paired, c.k));
}

// The contests' results into the profile, switch by switch in increasing order, each
// kept strictly between its new lower neighbour and its upper one, so the switch
// points stay increasing whatever each contest found alone. A segment the contests
// squeezed to nothing is merged away: the next backend takes over where it began.
void apply_contests(calibration& cal, const std::vector<contest_plan>& plans, const std::vector<cell>& cells, int rounds) {
    for (const contest_plan& c : plans) {
        auto& points = cal.prof.for_op(c.op).switch_points;
        runtime::switch_point& sp = points[c.k];
        const std::uint64_t g = granule_of(c.op);
        contest_record r;
        r.op = c.op;
        r.from = c.k == 0 ? backend::serial : points[c.k - 1].how;
        r.to = sp.how;
        r.sweep_from = sp.from_bytes, r.sweep_low = sp.ci_low_bytes, r.sweep_high = sp.ci_high_bytes;
        r.rounds = rounds;
        const std::string op = op_name(c.op);
        for (std::uint64_t s : c.sizes)
            r.points.push_back({s,
                                bootstrap_harmonic_ci(samples_of(cells, op, contest_series(c, false), s),
                                                      mix_seed(cal.seed, s, salt::contest_old, c.k)),
                                bootstrap_harmonic_ci(samples_of(cells, op, contest_series(c, true), s),
                                                      mix_seed(cal.seed, s, salt::contest_new, c.k)),
                                contest_verdict(cal, cells, c, s)});
        const std::uint64_t below = c.k == 0 ? 0 : points[c.k - 1].from_bytes;  // already settled
        const std::uint64_t above = c.k + 1 < points.size() ? points[c.k + 1].from_bytes : UINT64_MAX;
        const contest_choice choice = decide_contest(r.points, g, below, above);
        r.chosen_from = choice.from, r.undecided_low = choice.low, r.undecided_high = choice.high;
        r.settled = choice.settled;
        r.outcome = choice.words;
        sp.from_bytes = choice.from;
        sp.ci_low_bytes = choice.low;
        sp.ci_high_bytes = choice.high;
        sp.reason = fmt::format("{} from {}: {} (contest of {} sizes against {}; the sweep had put it at {})",
                                backend_name(sp.how), format_size(sp.from_bytes), choice.words, r.points.size(),
                                backend_name(r.from), format_size(r.sweep_from));
        cal.contests.push_back(std::move(r));
    }
    for (operation op : runtime::operations) {
        auto& points = cal.prof.for_op(op).switch_points;
        for (std::size_t k = 0; k + 1 < points.size();) {
            const double width = static_cast<double>(points[k + 1].from_bytes) / static_cast<double>(points[k].from_bytes);
            if (width >= 1.01) {
                ++k;
                continue;
            }
            points[k + 1].from_bytes = points[k].from_bytes;
            points[k + 1].ci_low_bytes = std::min(points[k + 1].ci_low_bytes, points[k].ci_low_bytes);
            points[k + 1].reason += fmt::format("; takes over from {} at {}, whose segment the contests left under 1% wide",
                                                backend_name(points[k].how), format_size(points[k].from_bytes));
            points.erase(points.begin() + static_cast<std::ptrdiff_t>(k));
        }
    }
}

}  // namespace

bool settle_switches(phase_context& ctx, std::vector<operation> ops, double budget_s) {
    calibration& cal = ctx.cal;
    const std::vector<contest_plan> plans = contests_to_run(cal, ops);
    std::erase_if(cal.contests, [&](const contest_record& r) { return std::find(ops.begin(), ops.end(), r.op) != ops.end(); });
    if (plans.empty()) return true;
    std::vector<cell> cells;
    for (const contest_plan& c : plans)
        for (std::uint64_t s : c.sizes)
            for (bool new_side : {false, true}) {
                const auto settings = settings_for(cal, with_switch_at(cal.prof, c.op, c.k, new_side ? s : s + granule_of(c.op)));
                cells.push_back(make_cell("contest", op_name(c.op), contest_series(c, new_side), s,
                                          ctx.w.auto_call(c.op, settings, s), ctx.w.verify(c.op, s)));
                cells.back().block = fmt::format("{}/{}/{}", op_name(c.op), c.k, s);
            }
    // Stop early once every contest size is decided, and still decided one round
    // later: testing after every round would otherwise stop on a lucky streak.
    int decided_looks = 0;
    const settled_fn all_decided = [&](const std::vector<cell>& measured) {
        bool all = true;
        for (const contest_plan& c : plans)
            for (std::uint64_t s : c.sizes) all = all && point_decided(contest_verdict(cal, measured, c, s));
        decided_looks = all ? decided_looks + 1 : 0;
        return decided_looks >= 2;
    };
    if (!run_phase(ctx, "contest", cells, budget_s < 0 ? cal.mode.contest_s : budget_s, all_decided)) return false;
    apply_contests(cal, plans, cells, cal.phases.back().rounds);
    return true;
}

// ------------------------------------------------------------------ validation and repair

bool validate(phase_context& ctx, const std::string& phase_name, std::vector<validation_detail>& out, double budget_s) {
    calibration& cal = ctx.cal;
    const auto settings = settings_for(cal, cal.prof);
    std::set<std::uint64_t> taken;
    for (const auto& [op, list] : cal.sweep)
        for (const auto& a : list) taken.insert(a.size_bytes);
    for (const auto& v : cal.validation_before_repair) taken.insert(v.row.size_bytes);
    std::map<operation, std::vector<std::uint64_t>> sizes;
    std::vector<cell> cells;
    for (operation op : runtime::operations) {
        sizes[op] = validation_sizes(cal.mode.validation_sizes, cal.max_bytes, granule_of(op), taken, ctx.m.rng());
        for (std::uint64_t s : sizes[op]) {
            cells.push_back(make_cell(phase_name, op_name(op), "auto", s, ctx.w.auto_call(op, settings, s), ctx.w.verify(op, s)));
            for (backend b : all_backends)
                cells.push_back(make_cell(phase_name, op_name(op), std::string(backend_name(b)), s,
                                          ctx.w.codec_call(op, b, cal.chosen_kernel[op], cal.tuned_for(op, b), s),
                                          ctx.w.verify(op, s)));
        }
    }
    if (!run_phase(ctx, phase_name, cells, budget_s < 0 ? cal.mode.validation_s : budget_s)) return false;
    for (operation op : runtime::operations)
        for (std::uint64_t s : sizes[op]) {
            const choice c = settings->for_op(op).choose(s);
            validation_input in;
            in.op = op;
            in.size_bytes = s;
            in.auto_runs = c.how;
            in.auto_samples = samples_of(cells, op_name(op), "auto", s);
            // 0 threads means the usable CPUs, as the settings resolve it.
            const unsigned cpus = cal.topo.usable_cpus;
            auto threads = [cpus](unsigned t) { return t == 0 ? cpus : t; };
            for (backend b : all_backends) {
                const std::size_t i = backend_index(b);
                const parallel_options par = cal.tuned_for(op, b);
                in.samples[i] = samples_of(cells, op_name(op), std::string(backend_name(b)), s);
                in.same_call[i] = b == c.how && (b == backend::serial || (threads(par.threads) == threads(c.par.threads) &&
                                                                          par.chunk_bytes == c.par.chunk_bytes));
                in.serial_work[i] = runs_one_chunk(op, b, par, s);
            }
            out.push_back(judge_validation(in, cal.seed));
        }
    return true;
}

bool repair(phase_context& ctx) {
    calibration& cal = ctx.cal;
    std::set<operation> repaired;
    for (const validation_detail& v : cal.validation) {
        if (!calls_for_repair(v)) continue;
        repaired.insert(v.row.op);
        cal.repair_sizes.push_back(fmt::format("{} {}", op_name(v.row.op), format_size(v.row.size_bytes)));
    }
    if (repaired.empty()) return true;
    // The time limit's remainder, split: measuring the sizes, the contests, the check.
    const double left = ctx.remaining_s();
    if (left < 0.25 * (cal.mode.contest_s + cal.mode.validation_s)) {
        cal.cut_short.push_back(fmt::format("repair of {} skipped: {:.1f} s left of the time limit",
                                            fmt::join(cal.repair_sizes, ", "), std::max(left, 0.0)));
        return true;
    }
    // Those sizes are measured the sweep's way (every backend, paired) and join it.
    std::vector<cell> cells;
    for (const validation_detail& v : cal.validation)
        if (calls_for_repair(v)) {
            auto more = sweep_cells(ctx, v.row.op, {v.row.size_bytes}, "repair");
            cells.insert(cells.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
        }
    if (!run_phase(ctx, "repair", cells, 0.2 * left)) return false;
    for (operation op : repaired) {
        absorb(cal, op, cells, false);
        for (auto& a : cal.sweep[op])
            for (const validation_detail& v : cal.validation)
                if (v.row.op == op && v.row.size_bytes == a.size_bytes) a.from_validation = true;
    }
    const runtime::profile before = cal.prof;
    write_decisions(cal);
    // The operations the repair did not touch keep their contested switches.
    for (operation op : runtime::operations) {
        auto& now = cal.prof.for_op(op).switch_points;
        const auto& was = before.for_op(op).switch_points;
        if (!repaired.count(op) && now.size() == was.size()) now = was;
    }
    if (!settle_switches(ctx, std::vector<operation>(repaired.begin(), repaired.end()), 0.4 * left)) return false;
    cal.validation_before_repair = std::move(cal.validation);
    cal.validation.clear();
    return validate(ctx, "validation 2", cal.validation, 0.4 * left);
}

// ------------------------------------------------------------------ audit data

void write_audit(calibration& cal) {
    runtime::profile& prof = cal.prof;
    for (const validation_detail& v : cal.validation) prof.validation.push_back(v.row);
    for (operation op : runtime::operations) {
        const std::string name = op_name(op);
        const auto& list = cal.sweep[op];
        for (const auto& a : list)
            for (const std::string& why : a.unstable)
                prof.stability.push_back({name, "", a.size_bytes, why.find("bimodal") != std::string::npos ? "bimodal" : "wide_interval", why});
        for (std::size_t b = 0; b < backend_count; ++b) {
            runtime::curve cv{name, std::string(backend_name(all_backends[b])), {}};
            for (const auto& a : list) cv.points.push_back({a.size_bytes, a.tput[b].mid, a.tput[b].low, a.tput[b].high});
            prof.curves.push_back(std::move(cv));
        }
    }
    for (const auto& cv : cal.roofline) prof.curves.push_back(cv);
    for (const phase_drift& d : cal.drift)
        if (d.shift.shifted)
            prof.stability.push_back({"", "reference", reference_bytes, d.still_shifted ? "unstable_machine" : "drift",
                                      fmt::format("{}: the reference cell moved {:.1f}% within the phase{}", d.phase,
                                                  (d.shift.later_over_earlier.mid - 1) * 100,
                                                  d.still_shifted ? ", also when measured again" : "; measured again")});
    for (const auto& w : cal.check_before.warnings) prof.stability.push_back({"", "", 0, "busy_machine", "before calibration: " + w});
    for (const auto& w : cal.check_after.warnings) prof.stability.push_back({"", "", 0, "busy_machine", "after calibration: " + w});
    if (!cal.wait.quiet) prof.stability.push_back({"", "", 0, "busy_machine", cal.wait.words()});
}

}  // namespace calib64::calib
