// The markdown report, the SVG charts, and `report compare`.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "calibrate.h"
#include "internal.h"
#include "svg.h"

namespace calib64::calib {

namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string mbps(const interval& iv) {
    return fmt("%.0f", iv.mid) + " [" + fmt("%.0f", iv.low) + "–" + fmt("%.0f", iv.high) + "]";
}

std::string ratio(const interval& iv) {
    return fmt("%.3f", iv.mid) + " [" + fmt("%.3f", iv.low) + "–" + fmt("%.3f", iv.high) + "]";
}

std::string verdict_words(verdict v, const std::string& a, const std::string& b) {
    switch (v) {
        case verdict::a_wins: return a + " wins";
        case verdict::b_wins: return b + " wins";
        case verdict::tie: return "tie";
    }
    return "?";
}

std::string opt_num(const std::optional<double>& v, const char* f) { return v ? fmt(f, *v) : "unknown"; }

void machine_table(std::ostringstream& o, const machine_check& c, const char* when) {
    o << "| " << when << " | " << opt_num(c.load1, "%.2f") << " / " << opt_num(c.load5, "%.2f") << " / "
      << opt_num(c.load15, "%.2f") << " | " << (c.busy_fraction ? fmt("%.0f%%", *c.busy_fraction * 100) : "unknown") << " | "
      << (c.steal_fraction ? fmt("%.1f%%", *c.steal_fraction * 100) : "unknown") << " | "
      << (c.governor.empty() ? "not visible" : c.governor) << " |\n";
}

// One validation table. Returns the worst auto/best over all rows and over the rows
// where auto made a different call than the best fixed backend (1e9 when none).
// Where auto ran the best backend itself (same kernel, threads and chunk), the two
// are the same code and auto/best differs from 1 by measurement noise only.
struct validation_worst {
    double all = 1e9;
    double different_call = 1e9;
};
validation_worst validation_table(std::ostringstream& o, const std::vector<validation_detail>& rows) {
    o << "| op | size | auto ran | auto MB/s | serial | work_stealing | pipeline | auto/best | paired auto/best [95% CI] | |\n"
         "|---|---|---|---|---|---|---|---|---|---|\n";
    validation_worst worst;
    for (const auto& v : rows) {
        const auto& r = v.row;
        auto get = [&](const char* n) {
            const auto f = r.backend_mb_per_s.find(n);
            return f == r.backend_mb_per_s.end() ? 0.0 : f->second;
        };
        const bool same_call = v.auto_backend == v.best_backend;
        worst.all = std::min(worst.all, r.auto_over_best);
        if (!same_call) worst.different_call = std::min(worst.different_call, r.auto_over_best);
        o << "| " << runtime::operation_name(r.op) << " | " << format_size(r.size_bytes) << " | " << v.auto_backend << " | "
          << fmt("%.0f", r.auto_mb_per_s) << " | " << fmt("%.0f", get("serial")) << " | " << fmt("%.0f", get("work_stealing")) << " | "
          << fmt("%.0f", get("pipeline")) << " | " << fmt("%.1f%%", r.auto_over_best * 100) << " | " << ratio(v.auto_vs_best.ratio)
          << " | "
          << (r.auto_over_best >= validation_target ? "ok"
              : same_call                           ? "below target: same call as the best (noise)"
              : v.auto_vs_best.outcome == verdict::b_wins ? "**below target**"
                                                          : "below target (within noise)")
          << " |\n";
    }
    return worst;
}

const char* series_color(const std::string& s) {
    if (s == "serial") return "#1f77b4";
    if (s == "work_stealing") return "#d62728";
    if (s == "pipeline") return "#2ca02c";
    if (s == "1_thread") return "#7f7f7f";
    return "#000000";
}

}  // namespace

std::string render_chart(const calibration& c, const std::string& op) {
    svg_chart chart;
    chart.title = op + " throughput on " + c.host_id + " (median, band = 95% CI)";
    chart.x_label = op == "decode" ? "input size (characters, log scale)" : "input size (bytes, log scale)";
    chart.y_label = "MB/s of input (10^6 bytes/s)";
    const auto it = c.sweep.find(op);
    if (it != c.sweep.end())
        for (std::size_t b = 0; b < backend_count; ++b) {
            svg_series s;
            s.label = std::string(backend_name(all_backends[b]));
            s.color = series_color(s.label);
            for (const auto& a : it->second) {
                s.x.push_back(static_cast<double>(a.size_bytes));
                s.y.push_back(a.tput[b].mid);
                s.y_low.push_back(a.tput[b].low);
                s.y_high.push_back(a.tput[b].high);
            }
            chart.series.push_back(std::move(s));
        }
    for (const auto& cv : c.roofline) {
        svg_series s;
        s.label = "memcpy " + cv.series;
        s.color = series_color(cv.series);
        s.dashed = true;
        for (const auto& p : cv.points) {
            s.x.push_back(static_cast<double>(p.size_bytes));
            s.y.push_back(p.median_mb_per_s);
        }
        chart.series.push_back(std::move(s));
    }
    chart.markers.push_back({static_cast<double>(c.topo.l2_bytes), "L2 " + format_size(c.topo.l2_bytes), "#9467bd"});
    chart.markers.push_back({static_cast<double>(c.topo.l3_bytes), "L3 " + format_size(c.topo.l3_bytes), "#9467bd"});
    const auto opv = runtime::operation_from_name(op);
    if (opv)
        for (const auto& sp : c.prof.for_op(*opv).switch_points)
            chart.markers.push_back({static_cast<double>(std::max<std::uint64_t>(sp.from_bytes, 1)),
                                     "-> " + std::string(backend_name(sp.how)) + " " + format_size(sp.from_bytes), "#ff7f0e"});
    return render_svg(chart);
}

std::string render_report(const calibration& c) {
    std::ostringstream o;
    const runtime::profile& p = c.prof;
    const runtime::topology& t = c.topo;
    o << "# calib64 calibration report: " << c.host_id << "\n\n";
    o << "Created " << p.created_utc << " by calib64 " << p.tool_version << ", mode **" << c.mode.name << "**, seed " << c.seed
      << " (rerun with `--seed " << c.seed << "` for the same order and validation sizes). Calibration took **"
      << fmt("%.1f", c.total_seconds) << " s**. The method is described in docs/calibration.md. Throughput is always "
      << "MB/s (10^6 bytes/s) of *input*: bytes for encode, characters for decode.\n\n";

    o << "## Host\n\n| fact | value |\n|---|---|\n";
    o << "| CPU | " << t.cpu_model << " (" << t.cpu_vendor << ") |\n";
    o << "| packages / cores / PUs | " << t.packages << " / " << t.cores << " / " << t.pus << " |\n";
    o << "| L1d / L2 / L3 | " << format_size(t.l1d_bytes) << " / " << format_size(t.l2_bytes) << " / " << format_size(t.l3_bytes)
      << " (" << t.l3_count << " L3, " << t.cores_per_l3 << " cores each) |\n";
    o << "| NUMA nodes / CPU kinds | " << t.numa_nodes << " / " << t.cpukinds << " |\n";
    o << "| allowed CPUs / quota / usable | " << t.allowed_cpus << " / " << (t.cpu_quota ? fmt("%.2f", *t.cpu_quota) : "none")
      << " / " << t.usable_cpus << " |\n";
    std::string kernels;
    for (const auto& k : t.simd_kernels) kernels += (kernels.empty() ? "" : ", ") + k;
    o << "| SIMD kernels | " << kernels << " |\n";
    o << "| fingerprint | `" << p.host.fingerprint << "` |\n";
    for (const auto& f : t.fallbacks) o << "| fallback | " << f << " |\n";

    o << "\n## Machine check\n\n| when | load 1/5/15 min | others' CPU use | steal | governor |\n|---|---|---|---|---|\n";
    machine_table(o, c.check_before, "before");
    machine_table(o, c.check_after, "after");
    if (c.check_before.warnings.empty() && c.check_after.warnings.empty())
        o << "\nThe machine looked quiet enough to measure.\n";
    for (const auto& w : c.check_before.warnings) o << "\n> **Warning (before):** " << w << ". Numbers may be low and noisy.\n";
    for (const auto& w : c.check_after.warnings) o << "\n> **Warning (after):** " << w << ".\n";
    for (const auto& n : c.check_before.notes) o << "\nNote: " << n << ".\n";

    o << "\n## Roofline: memcpy\n\nWhat copying costs on this machine: no encoder that reads and writes memory can beat it by much.\n\n";
    o << "| size | 1 thread MB/s [95% CI] | all threads MB/s [95% CI] |\n|---|---|---|\n";
    if (c.roofline.size() == 2)
        for (std::size_t i = 0; i < c.roofline[0].points.size() && i < c.roofline[1].points.size(); ++i) {
            const auto& a = c.roofline[0].points[i];
            const auto& b = c.roofline[1].points[i];
            o << "| " << format_size(a.size_bytes) << " | " << mbps({a.ci_low_mb_per_s, a.median_mb_per_s, a.ci_high_mb_per_s})
              << " | " << mbps({b.ci_low_mb_per_s, b.median_mb_per_s, b.ci_high_mb_per_s}) << " |\n";
        }

    o << "\n## Kernels\n\nSerial, each available kernel against the CPU's best (`" << kernel_name(best_kernel())
      << "`), paired per round; a win needs the ratio's 95% interval to clear ±" << fmt("%.0f", noise_band * 100) << "%.\n\n";
    o << "| op | kernel | size | MB/s [95% CI] | ratio to " << kernel_name(best_kernel()) << " [95% CI] | verdict |\n|---|---|---|---|---|---|\n";
    for (const auto& k : c.kernels)
        o << "| " << k.op << " | " << k.kernel << " | " << format_size(k.size_bytes) << " | " << mbps(k.tput) << " | "
          << ratio(k.vs_reference.ratio) << " | " << verdict_words(k.vs_reference.outcome, k.kernel, "reference") << " |\n";
    o << "\n";
    for (const auto& [op, why] : c.kernel_reason) o << "- **" << op << "**: " << why << ".\n";

    o << "\n## Parallel backend tuning\n\nThreads `t0` and chunk `c0` mean the library's defaults (all usable threads, automatic chunk). "
         "Each setting is compared with the defaults, paired per round.\n\n";
    o << "| op | backend | threads | chunk | size | MB/s [95% CI] | ratio to defaults [95% CI] | verdict |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : c.tuning)
        o << "| " << r.op << " | " << backend_name(r.how) << " | " << (r.threads ? std::to_string(r.threads) : "default") << " | "
          << (r.chunk_bytes ? format_size(r.chunk_bytes) : "default") << " | " << format_size(r.size_bytes) << " | " << mbps(r.tput)
          << " | " << ratio(r.vs_default.ratio) << " | " << verdict_words(r.vs_default.outcome, "setting", "defaults") << " |\n";
    o << "\n";
    for (const auto& [key, why] : c.tuning_reason) o << "- **" << key << "**: " << why << ".\n";

    for (const auto& [op, list] : c.sweep) {
        o << "\n## Sweep: " << op << "\n\n![" << op << " throughput](" << op << ".svg)\n\n";
        o << "Medians over rounds with 95% bootstrap intervals (MB/s). *Best* is the highest median; *chosen* is what the "
             "profile runs at that size. Sizes marked † were added by bisection, ‡ by the validation's repair.\n\n";
        o << "| size | serial | work_stealing | pipeline | best | best/serial [95% CI] | chosen | stability |\n|---|---|---|---|---|---|---|---|\n";
        const auto opv = runtime::operation_from_name(op);
        for (const auto& a : list) {
            std::string chosen = "serial";
            if (opv)
                for (const auto& sp : p.for_op(*opv).switch_points)
                    if (a.size_bytes >= sp.from_bytes) chosen = std::string(backend_name(sp.how));
            std::string ratio_cell = "—";
            if (a.best != 0) ratio_cell = ratio(a.best_vs[0].ratio) + " " + verdict_words(a.best_vs[0].outcome, "win", "loss");
            std::string stab;
            for (const auto& u : a.unstable) stab += (stab.empty() ? "" : "; ") + u;
            o << "| " << format_size(a.size_bytes) << (a.refined ? " †" : "") << (a.from_validation ? " ‡" : "") << " | " << mbps(a.tput[0]) << " | " << mbps(a.tput[1])
              << " | " << mbps(a.tput[2]) << " | " << backend_name(all_backends[static_cast<std::size_t>(a.best)]) << " | "
              << ratio_cell << " | " << chosen << " | " << (stab.empty() ? "ok" : stab) << " |\n";
        }
    }

    o << "\n## Switch points\n\n";
    for (const auto op : {runtime::operation::encode, runtime::operation::decode}) {
        const std::string name(runtime::operation_name(op));
        const auto& prof_op = p.for_op(op);
        o << "### " << name << "\n\nKernel `" << kernel_name(prof_op.kernel) << "`. ";
        const auto it = c.plan_summary.find(name);
        if (it != c.plan_summary.end()) o << it->second << ".\n\n";
        if (prof_op.switch_points.empty()) o << "- all sizes: serial\n";
        else if (prof_op.switch_points.front().from_bytes > 1)
            o << "- below " << format_size(prof_op.switch_points.front().from_bytes) << ": serial\n";
        for (const auto& sp : prof_op.switch_points)
            o << "- from " << format_size(sp.from_bytes) << " (interval " << format_size(sp.ci_low_bytes) << "–"
              << format_size(sp.ci_high_bytes) << "): **" << backend_name(sp.how) << "**. " << sp.reason << ".\n";
        o << "\n";
    }
    o << "How they were chosen: at each size, a backend's loss is how much slower it is than the best there, counted only "
         "when the paired interval clears the noise band (and, where samples were bimodal, only when it holds in both "
         "modes). The plan with the smallest worst-case loss wins; among equal plans the one with fewer switches, then "
         "the simpler backend (serial < work_stealing < pipeline).\n";

    o << "\n## Validation\n\nThe new profile in force (`encode_auto` / `decode_auto`), against every fixed backend, at sizes "
         "that were not measured before. Target: auto ≥ " << fmt("%.0f", validation_target * 100) << "% of the best fixed backend "
         "(median).\n\n";
    if (!c.validation_before_repair.empty()) {
        o << "The first validation found auto measurably slower than the best backend at ";
        for (std::size_t i = 0; i < c.repair_sizes.size(); ++i) o << (i ? ", " : "") << c.repair_sizes[i];
        o << ". Those sizes joined the sweep (‡) with the fixed backends' samples from that validation, the switch points "
             "were chosen again, and a second validation at fresh sizes judged the repaired profile: its table comes first "
             "and is the one in the profile; the first validation follows.\n\n";
    }
    const validation_worst worst = validation_table(o, c.validation);
    if (!c.validation.empty()) {
        o << "\nWorst auto/best: **" << fmt("%.1f%%", worst.all * 100) << "** ("
          << (worst.all >= validation_target ? "meets" : "misses") << " the " << fmt("%.0f", validation_target * 100) << "% target). ";
        if (worst.different_call < 1e8)
            o << "Where auto ran another backend than the best one: worst " << fmt("%.1f%%", worst.different_call * 100) << ". ";
        else
            o << "At every size auto ran the best backend itself. ";
        o << "Where auto ran the best backend (same kernel, threads and chunk size), the two are the same code: their "
             "difference is measurement noise, and \"best\", the highest of three noisy medians, is biased upwards.\n";
    }
    if (!c.validation_before_repair.empty()) {
        o << "\nFirst validation (before the repair):\n\n";
        const validation_worst first_worst = validation_table(o, c.validation_before_repair);
        o << "\nWorst auto/best before the repair: " << fmt("%.1f%%", first_worst.all * 100) << ".\n";
    }

    o << "\n## Stability\n\n";
    if (p.stability.empty()) o << "No unstable measurements: every interval was narrower than "
                               << fmt("%.0f", wide_interval * 100) << "% and no sample looked bimodal.\n";
    else {
        o << "Flagged: intervals wider than " << fmt("%.0f", wide_interval * 100) << "% of the median, samples in two "
             "clusters (bimodal), a busy machine. Verdicts at these sizes lean to ties, so the simpler backend is kept "
             "unless the win holds anyway.\n\n";
        for (const auto& s : p.stability)
            o << "- " << (s.op.empty() ? "run" : s.op) << (s.series.empty() ? "" : " " + s.series)
              << (s.size_bytes ? " at " + format_size(s.size_bytes) : "") << " (" << s.kind << "): " << s.detail << "\n";
    }

    o << "\n## Duration\n\n| phase | seconds | rounds | cells |\n|---|---|---|---|\n";
    for (const auto& ph : c.phases)
        o << "| " << ph.name << " | " << fmt("%.1f", ph.seconds) << " | " << ph.rounds << " | " << ph.cells << " |\n";
    o << "| **total** | **" << fmt("%.1f", c.total_seconds) << "** | | |\n";
    o << "\nRaw data: [" << c.raw_json_name << "](" << c.raw_json_name << ") (Google Benchmark JSON, one entry per run, "
         "tagged with phase, round and size). Charts: [encode.svg](encode.svg), [decode.svg](decode.svg).\n";
    return o.str();
}

// ------------------------------------------------------------------ report compare

namespace {

std::string points_words(const runtime::operation_profile& o) {
    if (o.switch_points.empty()) return "serial at all sizes";
    std::string s = "serial";
    for (const auto& sp : o.switch_points)
        s += " → " + std::string(backend_name(sp.how)) + " from " + format_size(sp.from_bytes) + " (" +
             format_size(sp.ci_low_bytes) + "–" + format_size(sp.ci_high_bytes) + ")";
    return s;
}

std::string tuning_words(const runtime::operation_profile& o) {
    std::string s;
    for (const auto& t : o.tuning)
        s += (s.empty() ? "" : "; ") + std::string(backend_name(t.how)) + ": threads " +
             (t.threads ? std::to_string(t.threads) : "default") + ", chunk " + (t.chunk_bytes ? format_size(t.chunk_bytes) : "default");
    return s.empty() ? "defaults" : s;
}

std::string worst_validation(const runtime::profile& p, runtime::operation op) {
    double worst = 1e9;
    for (const auto& v : p.validation)
        if (v.op == op) worst = std::min(worst, v.auto_over_best);
    return worst > 1e8 ? "not validated" : fmt("%.1f%%", worst * 100);
}

std::optional<runtime::profile> load_for_compare(const char* arg) {
    std::filesystem::path path = arg;
    if (std::filesystem::is_directory(path)) path /= "profile.json";
    auto r = runtime::load_profile(path);
    if (!r.ok()) {
        std::fprintf(stderr, "report compare: cannot use %s:\n", path.string().c_str());
        for (const auto& e : r.errors) std::fprintf(stderr, "  %s\n", runtime::to_string(e).c_str());
        return std::nullopt;
    }
    return std::move(*r.value);
}

}  // namespace

std::string compare_profiles(const runtime::profile& a, const runtime::profile& b, const std::string& name_a,
                             const std::string& name_b) {
    std::ostringstream o;
    o << "# calib64 profiles compared\n\nA: `" << name_a << "`  \nB: `" << name_b << "`\n\n";
    o << "| | A | B |\n|---|---|---|\n";
    auto row = [&](const std::string& k, const std::string& x, const std::string& y) {
        o << "| " << k << " | " << x << " | " << y << (x == y ? "" : " ≠") << " |\n";
    };
    row("host id", a.host.host_id, b.host.host_id);
    row("fingerprint", a.host.fingerprint, b.host.fingerprint);
    row("CPU", a.host.cpu_model, b.host.cpu_model);
    row("cores / PUs / allowed", std::to_string(a.host.cores) + " / " + std::to_string(a.host.pus) + " / " + std::to_string(a.host.allowed_cpus),
        std::to_string(b.host.cores) + " / " + std::to_string(b.host.pus) + " / " + std::to_string(b.host.allowed_cpus));
    row("L2 / L3", format_size(a.host.l2_bytes) + " / " + format_size(a.host.l3_bytes),
        format_size(b.host.l2_bytes) + " / " + format_size(b.host.l3_bytes));
    row("created", a.created_utc, b.created_utc);
    row("tool version", a.tool_version, b.tool_version);
    for (const auto op : {runtime::operation::encode, runtime::operation::decode}) {
        const std::string n(runtime::operation_name(op));
        row(n + " kernel", std::string(kernel_name(a.for_op(op).kernel)), std::string(kernel_name(b.for_op(op).kernel)));
        row(n + " backends", points_words(a.for_op(op)), points_words(b.for_op(op)));
        row(n + " tuning", tuning_words(a.for_op(op)), tuning_words(b.for_op(op)));
        row(n + " worst auto/best", worst_validation(a, op), worst_validation(b, op));
    }
    row("stability notes", std::to_string(a.stability.size()), std::to_string(b.stability.size()));

    // Measured curves at the sizes both profiles measured.
    for (const auto& ca : a.curves) {
        for (const auto& cb : b.curves) {
            if (ca.op != cb.op || ca.series != cb.series) continue;
            std::ostringstream rows;
            int n = 0;
            for (const auto& pa : ca.points)
                for (const auto& pb : cb.points)
                    if (pa.size_bytes == pb.size_bytes) {
                        rows << "| " << format_size(pa.size_bytes) << " | " << fmt("%.0f", pa.median_mb_per_s) << " ["
                             << fmt("%.0f", pa.ci_low_mb_per_s) << "–" << fmt("%.0f", pa.ci_high_mb_per_s) << "] | "
                             << fmt("%.0f", pb.median_mb_per_s) << " [" << fmt("%.0f", pb.ci_low_mb_per_s) << "–"
                             << fmt("%.0f", pb.ci_high_mb_per_s) << "] | "
                             << (pa.median_mb_per_s > 0 ? fmt("%.2f", pb.median_mb_per_s / pa.median_mb_per_s) : "—") << " |\n";
                        ++n;
                    }
            if (n == 0) continue;
            o << "\n## " << ca.op << " / " << ca.series << " (MB/s, median [95% CI])\n\n| size | A | B | B/A |\n|---|---|---|---|\n"
              << rows.str();
        }
    }
    return o.str();
}

}  // namespace calib64::calib

namespace calib64 {

int run_report_compare(int argc, char** argv) {
    constexpr const char* usage = "usage: calib64 report compare [--measure] A B   (two profile.json files or result folders)\n";
    std::vector<const char*> paths;
    bool measure = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            std::puts("usage: calib64 report compare [--measure] A B\n\nPrints two profiles (profile.json files, or result "
                      "folders holding one) side by side as markdown.\n\n  --measure  also run what encode_auto/decode_auto "
                      "would run under each profile,\n             paired in one run on this host, at both profiles' "
                      "validation sizes\n             (about 20 s): do the two profiles perform the same?");
            return 0;
        }
        if (a == "--measure") {
            measure = true;
            continue;
        }
        if (a.starts_with("-") && a != "-") {
            std::fprintf(stderr, "report compare: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        }
        paths.push_back(argv[i]);
    }
    if (paths.size() != 2) {
        std::fputs(usage, stderr);
        return 2;
    }
    const auto a = calib::load_for_compare(paths[0]);
    const auto b = calib::load_for_compare(paths[1]);
    if (!a || !b) return 1;
    std::fputs(calib::compare_profiles(*a, *b, paths[0], paths[1]).c_str(), stdout);
    if (measure) {
        std::string error;
        const std::string section = calib::measure_profiles(*a, *b, 20.0, 0x5eed, error);
        if (!error.empty()) {
            std::fprintf(stderr, "report compare: measuring failed: %s\n", error.c_str());
            return 1;
        }
        std::fputs(section.c_str(), stdout);
    }
    return 0;
}

int run_report(int argc, char** argv) {
    if (argc >= 2 && std::string_view(argv[1]) == "compare") return run_report_compare(argc - 1, argv + 1);
    std::fprintf(stderr, "usage: calib64 report compare [--measure] A B   (two profile.json files or result folders)\n");
    return argc >= 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help") ? 0 : 2;
}

}  // namespace calib64
