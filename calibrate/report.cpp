// The markdown report and the SVG charts of one calibration.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "decide.h"
#include "internal.h"
#include "svg.h"

namespace calib64::calib {
namespace {

using runtime::operation;

// The backends' names as table columns: " serial | work_stealing | pipeline |" and its rule.
std::string backend_columns() {
    std::string s;
    for (backend b : all_backends) s += fmt::format(" {} |", backend_name(b));
    return s;
}
std::string rule_columns(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "---|";
    return s;
}

// "9102 [8900–9300]": an expected-time throughput with its interval.
std::string mbps(const interval& iv) { return fmt::format("{:.0f} [{:.0f}–{:.0f}]", iv.mid, iv.low, iv.high); }
std::string ratio(const interval& iv) { return fmt::format("{:.3f} [{:.3f}–{:.3f}]", iv.mid, iv.low, iv.high); }
std::string percent(double fraction) { return fmt::format("{:.1f}%", fraction * 100); }
std::string opt_num(const std::optional<double>& v) { return v ? fmt::format("{:.2f}", *v) : "unknown"; }
std::string op_name(operation op) { return std::string(runtime::operation_name(op)); }

std::string verdict_words(verdict v, const std::string& a, const std::string& b) {
    switch (v) {
        case verdict::a_wins: return a + " wins";
        case verdict::b_wins: return b + " wins";
        case verdict::tie: return "tie";
    }
    return "?";
}

using out_buffer = fmt::memory_buffer;
template <class... Args>
void put(out_buffer& o, fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(o), f, std::forward<Args>(args)...);
}

void host_section(out_buffer& o, const calibration& c) {
    const runtime::topology& t = c.topo;
    put(o, "## Host\n\n| fact | value |\n|---|---|\n");
    put(o, "| CPU | {} ({}, family {} model {}) |\n", t.cpu_model, t.cpu_vendor, t.cpu_family, t.cpu_model_number);
    put(o, "| packages / cores / PUs | {} / {} / {} |\n", t.packages, t.cores, t.pus);
    put(o, "| L1d / L2 / L3 | {} / {} / {} ({} L3, {} cores each) |\n", format_size(t.l1d_bytes), format_size(t.l2_bytes),
        format_size(t.l3_bytes), t.l3_count, t.cores_per_l3);
    put(o, "| NUMA nodes / CPU kinds | {} / {} |\n", t.numa_nodes, t.cpukinds);
    put(o, "| allowed CPUs / quota / usable | {} / {} / {} |\n", t.allowed_cpus,
        t.cpu_quota ? fmt::format("{:.2f}", *t.cpu_quota) : std::string("none"), t.usable_cpus);
    put(o, "| SIMD kernels | {} |\n", fmt::join(t.simd_kernels, ", "));
    put(o, "| fingerprint | `{}` |\n", c.prof.host.fingerprint);
    for (const auto& f : t.fallbacks) put(o, "| fallback | {} |\n", f);
}

void machine_section(out_buffer& o, const calibration& c) {
    put(o, "\n## Machine\n\nBefore measuring: {}.\n\n", c.wait.words());
    put(o, "| when | load 1/5/15 min | others' CPU use | steal | governor |\n|---|---|---|---|---|\n");
    for (const auto& [when, m] : {std::pair{"before", &c.check_before}, std::pair{"after", &c.check_after}})
        put(o, "| {} | {} / {} / {} | {} | {} | {} |\n", when, opt_num(m->load1), opt_num(m->load5), opt_num(m->load15),
            m->busy_fraction ? fmt::format("{:.0f}%", *m->busy_fraction * 100) : "unknown",
            m->steal_fraction ? percent(*m->steal_fraction) : "unknown", m->governor.empty() ? "not visible" : m->governor);
    for (const auto& w : c.check_before.warnings) put(o, "\n> **Warning (before):** {}. Numbers may be low and noisy.\n", w);
    for (const auto& w : c.check_after.warnings) put(o, "\n> **Warning (after):** {}.\n", w);
    for (const auto& n : c.check_before.notes) put(o, "\nNote: {}.\n", n);

    put(o, "\n### Drift\n\nA fixed reference cell (serial encode of 64 KiB) ran in every round of every phase. Within a "
           "phase its second half is compared with its first (and checked for two levels); a change beyond the ±{:.0f}% band "
           "means the machine changed state while that phase measured: the phase was measured again, and a second change "
           "marks the run unstable.\n\n",
        noise_band * 100);
    put(o, "| phase | reference MB/s [95% CI] | second half / first [95% CI] | vs first phase | verdict |\n|---|---|---|---|---|\n");
    for (const phase_drift& d : c.drift)
        put(o, "| {} | {} | {} | {:.3f} | {} |\n", d.phase, mbps(d.reference_mb_per_s),
            d.shift.later_over_earlier.mid > 0 ? ratio(d.shift.later_over_earlier) : "— (fewer than 6 rounds)",
            d.vs_first_phase,
            d.still_shifted ? "**drifted, also when redone**" : d.redone ? "drifted; measured again, steady" : "steady");
    if (c.unstable_machine)
        put(o, "\n> **This calibration ran on a machine that changed state during a phase, twice.** Its decisions near the "
               "switch points may not hold in another state; calibrate again on a quiet machine.\n");
}

void roofline_section(out_buffer& o, const calibration& c) {
    put(o, "\n## Roofline: memcpy\n\nWhat copying costs here: no encoder that reads and writes memory beats it by much. "
           "All threads is a team that spins between calls (a sleeping team would measure its wake-ups); it is a "
           "ceiling only where it is at least one thread's copy, and left out (—) elsewhere.\n\n");
    put(o, "| size | 1 thread MB/s [95% CI] | all threads MB/s [95% CI] |\n|---|---|---|\n");
    if (c.roofline.size() != 2) return;
    for (std::size_t i = 0; i < c.roofline[0].points.size() && i < c.roofline[1].points.size(); ++i) {
        const auto& a = c.roofline[0].points[i];
        const auto& b = c.roofline[1].points[i];
        const bool drawn = i < c.roofline_all_threads_drawn.size() && c.roofline_all_threads_drawn[i];
        put(o, "| {} | {} | {} |\n", format_size(a.size_bytes), mbps({a.ci_low_mb_per_s, a.median_mb_per_s, a.ci_high_mb_per_s}),
            drawn ? mbps({b.ci_low_mb_per_s, b.median_mb_per_s, b.ci_high_mb_per_s}) : fmt::format("— ({:.0f})", b.median_mb_per_s));
    }
}

void kernels_and_tuning(out_buffer& o, const calibration& c) {
    const std::string_view ref = kernel_name(best_kernel());
    put(o, "\n## Kernels\n\nSerial, each available kernel against the CPU's best (`{}`), paired per round; a win needs the "
           "ratio's 95% interval to clear ±{:.0f}%.\n\n| op | kernel | size | MB/s [95% CI] | ratio to {} [95% CI] | verdict |\n"
           "|---|---|---|---|---|---|\n",
        ref, noise_band * 100, ref);
    for (const auto& k : c.kernels)
        put(o, "| {} | {} | {} | {} | {} | {} |\n", k.op, k.kernel, format_size(k.size_bytes), mbps(k.tput),
            ratio(k.vs_reference.ratio), verdict_words(k.vs_reference.outcome, k.kernel, "reference"));
    put(o, "\n");
    for (const auto& [op, why] : c.kernel_reason) put(o, "- **{}**: {}.\n", op, why);
    put(o, "\n## Parallel backend tuning\n\nThreads 0 and chunk 0 are the library's defaults (all usable threads, automatic "
           "chunk). Each setting is compared with the defaults, paired per round.\n\n| op | backend | threads | chunk | size | "
           "MB/s [95% CI] | ratio to defaults [95% CI] | verdict |\n|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : c.tuning)
        put(o, "| {} | {} | {} | {} | {} | {} | {} | {} |\n", r.op, backend_name(r.how), r.threads ? std::to_string(r.threads) : "default",
            r.chunk_bytes ? format_size(r.chunk_bytes) : "default", format_size(r.size_bytes), mbps(r.tput),
            ratio(r.vs_default.ratio), verdict_words(r.vs_default.outcome, "setting", "defaults"));
    put(o, "\n");
    for (const auto& [key, why] : c.tuning_reason) put(o, "- **{}**: {}.\n", key, why);
}

void sweep_section(out_buffer& o, const calibration& c, operation op) {
    const auto it = c.sweep.find(op);
    if (it == c.sweep.end()) return;
    const std::string name = op_name(op);
    put(o, "\n## Sweep: {}\n\n![{} throughput]({}.svg)\n\nExpected-time throughput (harmonic mean over rounds: what a long "
           "run of calls pays) with its 95% bootstrap interval, and after · the slow tail: the 10th-percentile sample (the "
           "90th-percentile time). *Best* is the highest expected throughput; *chosen* is what the profile runs. Sizes marked † "
           "were added by bisection, ‡ by the validation's repair.\n\n| size |{} best | best/serial [95% CI] | chosen | "
           "stability |\n|---|{}---|---|---|---|\n",
        name, name, name, backend_columns(), rule_columns(backend_count));
    for (const auto& a : it->second) {
        std::string chosen = "serial";
        for (const auto& sp : c.prof.for_op(op).switch_points)
            if (a.size_bytes >= sp.from_bytes) chosen = std::string(backend_name(sp.how));
        std::string cells;
        for (std::size_t b = 0; b < backend_count; ++b)
            cells += fmt::format(" {} · {:.0f} |", mbps(a.tput[b]), a.tail_mb_per_s[b]);
        const std::string vs_serial =
            a.best == 0 ? "—" : ratio(a.best_vs[0].ratio) + " " + verdict_words(a.best_vs[0].outcome, "win", "loss");
        std::string stab;
        for (const auto& u : a.unstable) stab += (stab.empty() ? "" : "; ") + u;
        put(o, "| {}{}{} |{} {} | {} | {} | {} |\n", format_size(a.size_bytes), a.refined ? " †" : "", a.from_validation ? " ‡" : "",
            cells, backend_name(all_backends[static_cast<std::size_t>(a.best)]), vs_serial, chosen, stab.empty() ? "ok" : stab);
    }
}

void switch_section(out_buffer& o, const calibration& c) {
    put(o, "\n## Switch points\n\n");
    for (operation op : runtime::operations) {
        const auto& prof_op = c.prof.for_op(op);
        put(o, "### {}\n\nKernel `{}`. ", op_name(op), kernel_name(prof_op.kernel));
        if (const auto it = c.plan_summary.find(op); it != c.plan_summary.end()) put(o, "{}.\n\n", it->second);
        if (prof_op.switch_points.empty()) put(o, "- all sizes: serial\n");
        else if (prof_op.switch_points.front().from_bytes > 1)
            put(o, "- below {}: serial\n", format_size(prof_op.switch_points.front().from_bytes));
        for (const auto& sp : prof_op.switch_points)
            put(o, "- from {} (interval {}–{}): **{}**. {}.\n", format_size(sp.from_bytes), format_size(sp.ci_low_bytes),
                format_size(sp.ci_high_bytes), backend_name(sp.how), sp.reason);
        put(o, "\n");
    }
    put(o, "How they were chosen: at each size, a backend's loss is how much slower it is than the best there, counted only "
           "when the paired interval clears the noise band (and, where samples were bimodal, only when it holds in both "
           "modes). The plan with the smallest worst-case loss wins; among equal plans the one with fewer switches, then the "
           "simpler backend. Each switch is then settled head to head (below).\n");
}

void contest_section(out_buffer& o, const calibration& c) {
    put(o, "\n## Head to head\n\nEach switch point, settled by running `encode_auto` / `decode_auto` under the profile that "
           "switches just before a size (new) against the one that switches just after it (old), paired, at sizes spread "
           "across the sweep's interval, until every size is decided (one side wins beyond ±{:.0f}%, or the interval lies "
           "inside the band) or the budget is spent. The switch goes to the middle of what stayed undecided.\n",
        noise_band * 100);
    if (c.contests.empty()) put(o, "\nNo switch point to settle.\n");
    for (const contest_record& r : c.contests) {
        put(o, "\n### {}: {} → {}\n\nThe sweep put it at {} (interval {}–{}). {} rounds.\n\n| size | old ({}) MB/s | new ({}) MB/s "
               "| new/old [95% CI] | verdict |\n|---|---|---|---|---|\n",
            op_name(r.op), backend_name(r.from), backend_name(r.to), format_size(r.sweep_from), format_size(r.sweep_low),
            format_size(r.sweep_high), r.rounds, backend_name(r.from), backend_name(r.to));
        for (const contest_point& p : r.points)
            put(o, "| {} | {} | {} | {} | {} |\n", format_size(p.size_bytes), mbps(p.old_mb_per_s), mbps(p.new_mb_per_s),
                ratio(p.new_vs_old.ratio),
                p.new_vs_old.outcome != verdict::tie ? verdict_words(p.new_vs_old.outcome, "new", "old")
                : point_decided(p.new_vs_old)        ? "equal within the band"
                                                     : "undecided");
        put(o, "\nResult: {}.\n", r.outcome);
    }
}

// One validation table; returns the worst auto/best over its rows.
double validation_table(out_buffer& o, const std::vector<validation_detail>& rows) {
    put(o, "| op | size | auto ran | auto MB/s |{} auto / best other call [95% CI] | auto / same call | |\n|---|---|---|---|{}---|---|---|\n",
        backend_columns(), rule_columns(backend_count));
    double worst = 1e9;
    for (const auto& v : rows) {
        const auto& r = v.row;
        std::string rates;
        for (backend b : all_backends) {
            const auto f = r.backend_mb_per_s.find(std::string(backend_name(b)));
            rates += fmt::format(" {:.0f} |", f == r.backend_mb_per_s.end() ? 0.0 : f->second);
        }
        worst = std::min(worst, r.auto_over_best);
        const std::string against = v.rival.empty() ? "— (every fixed backend made auto's call)"
                                                    : fmt::format("{} vs {}", ratio(v.auto_vs_rival.ratio), v.rival);
        const std::string same = v.same_call.empty() ? "—" : fmt::format("{:.3f} ({})", v.auto_vs_same.ratio.mid, v.same_call);
        put(o, "| {} | {} | {} | {:.0f} |{} {} | {} | {} |\n", op_name(r.op), format_size(r.size_bytes), v.auto_backend,
            r.auto_mb_per_s, rates, against, same,
            r.auto_over_best >= validation_target          ? "ok"
            : calls_for_repair(v)                          ? "**below target**"
            : v.auto_vs_rival.outcome == verdict::tie      ? "below target (within noise)"
                                                           : "below target");
    }
    return worst;
}

void validation_section(out_buffer& o, const calibration& c) {
    put(o, "\n## Validation\n\nThe new profile as `encode_auto` / `decode_auto` run it (explicit settings, nothing "
           "process-wide), against every fixed backend at sizes that were not measured before, paired per round. auto / best "
           "other call is the expected-time ratio against the fastest fixed backend that makes a different call (a parallel "
           "backend running one chunk does serial's work, and counts as serial). Where a fixed backend makes auto's very call "
           "the two are the same code: that ratio (auto / same call) measures dispatch and noise, and is shown apart. Target: "
           "≥ {:.0f}%.\n\n",
        validation_target * 100);
    if (!c.validation_before_repair.empty())
        put(o, "The first validation found auto beaten by a call it did not make at {}. Those sizes joined the sweep (‡), the "
               "switch points were chosen and contested again, and a second validation at fresh sizes judged the repaired "
               "profile: its table comes first and is the one in the profile; the first follows.\n\n",
            fmt::join(c.repair_sizes, ", "));
    const double worst = validation_table(o, c.validation);
    if (!c.validation.empty())
        put(o, "\nWorst auto / best other call: **{}** ({} the {:.0f}% target).\n", percent(worst),
            worst >= validation_target ? "meets" : "misses", validation_target * 100);
    if (!c.validation_before_repair.empty()) {
        put(o, "\nFirst validation (before the repair):\n\n");
        put(o, "\nWorst before the repair: {}.\n", percent(validation_table(o, c.validation_before_repair)));
    }
}

void tail_sections(out_buffer& o, const calibration& c) {
    const runtime::profile& p = c.prof;
    put(o, "\n## Stability\n\n");
    if (p.stability.empty()) put(o, "No unstable measurements: every interval was narrower than {:.0f}% and no sample looked bimodal.\n", wide_interval * 100);
    else {
        put(o, "Flagged: intervals wider than {:.0f}%, samples in two clusters (bimodal), drift, a busy machine. Verdicts at "
               "these sizes lean to ties, so the simpler backend is kept unless the win holds anyway.\n\n",
            wide_interval * 100);
        for (const auto& s : p.stability)
            put(o, "- {}{}{} ({}): {}\n", s.op.empty() ? "run" : s.op, s.series.empty() ? "" : " " + s.series,
                s.size_bytes ? " at " + format_size(s.size_bytes) : "", s.kind, s.detail);
    }
    put(o, "\n## Duration\n\n| phase | seconds | rounds | cells |\n|---|---|---|---|\n");
    for (const auto& ph : c.phases) put(o, "| {} | {:.1f} | {} | {} |\n", ph.name, ph.seconds, ph.rounds, ph.cells);
    put(o, "| **total** | **{:.1f}** | | |\n", c.total_seconds);
    put(o, "\nTime limit: {:.0f} s of measuring after the quiet wait.{}\n", c.mode.time_limit_s,
        c.cut_short.empty() ? " Every step had its full budget." : " Cut short by it:");
    for (const auto& cut : c.cut_short) put(o, "- {}\n", cut);
    put(o, "\nRaw data: [{0}]({0}) (Google Benchmark JSON, one entry per run, tagged with phase, round and size). Charts: "
           "[encode.svg](encode.svg), [decode.svg](decode.svg).\n",
        c.raw_json_name);
}

// A colour per catalog row (in row order), grey for the roofline.
const char* backend_color(std::size_t row) {
    constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    return palette[row % std::size(palette)];
}
const char* roofline_color(const std::string& series) { return series == "1_thread" ? "#7f7f7f" : "#000000"; }

}  // namespace

std::string render_chart(const calibration& c, operation op) {
    const std::string name = op_name(op);
    svg_chart chart;
    chart.title = name + " throughput on " + c.host_id + " (expected time, band = 95% CI)";
    chart.x_label = op == operation::decode ? "input size (characters, log scale)" : "input size (bytes, log scale)";
    chart.y_label = "MB/s of input (10^6 bytes/s)";
    if (const auto it = c.sweep.find(op); it != c.sweep.end())
        for (std::size_t b = 0; b < backend_count; ++b) {
            svg_series s;
            s.label = std::string(backend_name(all_backends[b]));
            s.color = backend_color(b);
            for (const auto& a : it->second) {
                s.x.push_back(static_cast<double>(a.size_bytes));
                s.y.push_back(a.tput[b].mid);
                s.y_low.push_back(a.tput[b].low);
                s.y_high.push_back(a.tput[b].high);
            }
            chart.series.push_back(std::move(s));
        }
    for (std::size_t k = 0; k < c.roofline.size(); ++k) {
        const auto& cv = c.roofline[k];
        svg_series s;
        s.label = "memcpy " + cv.series;
        s.color = roofline_color(cv.series);
        s.dashed = true;
        for (std::size_t i = 0; i < cv.points.size(); ++i) {
            // The all-threads line only where it is a ceiling (see the report).
            if (cv.series == "all_threads" && !(i < c.roofline_all_threads_drawn.size() && c.roofline_all_threads_drawn[i])) continue;
            s.x.push_back(static_cast<double>(cv.points[i].size_bytes));
            s.y.push_back(cv.points[i].median_mb_per_s);
        }
        if (!s.x.empty()) chart.series.push_back(std::move(s));
    }
    chart.markers.push_back({static_cast<double>(c.topo.l2_bytes), "L2 " + format_size(c.topo.l2_bytes), "#9467bd"});
    chart.markers.push_back({static_cast<double>(c.topo.l3_bytes), "L3 " + format_size(c.topo.l3_bytes), "#9467bd"});
    for (const auto& sp : c.prof.for_op(op).switch_points)
        chart.markers.push_back({static_cast<double>(std::max<std::uint64_t>(sp.from_bytes, 1)),
                                 "-> " + std::string(backend_name(sp.how)) + " " + format_size(sp.from_bytes), "#ff7f0e"});
    return render_svg(chart);
}

std::string render_report(const calibration& c) {
    out_buffer o;
    put(o, "# calib64 calibration report: {}\n\nCreated {} by calib64 {}, mode **{}**, seed {} (rerun with `--seed {}` for the "
           "same order and validation sizes). Calibration took **{:.1f} s**. The method is described in docs/calibration.md. "
           "Throughput is always MB/s (10^6 bytes/s) of *input*: bytes for encode, characters for decode; it is the "
           "expected-time throughput of a run of calls (harmonic mean over rounds).\n\n",
        c.host_id, c.prof.created_utc, c.prof.tool_version, c.mode.name, c.seed, c.seed, c.total_seconds);
    host_section(o, c);
    machine_section(o, c);
    roofline_section(o, c);
    kernels_and_tuning(o, c);
    for (operation op : runtime::operations) sweep_section(o, c, op);
    switch_section(o, c);
    contest_section(o, c);
    validation_section(o, c);
    tail_sections(o, c);
    return fmt::to_string(o);
}

}  // namespace calib64::calib
