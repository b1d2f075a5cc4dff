// `calib64 report compare [--measure] A B`: two profiles side by side, and what
// encode_auto / decode_auto would run under each, measured paired on this host.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

#include "calibrate.h"
#include "engine.h"
#include "internal.h"
#include "workload.h"

namespace calib64::calib {
namespace {

using runtime::operation;

std::string points_words(const runtime::operation_profile& o) {
    if (o.switch_points.empty()) return "serial at all sizes";
    std::string s = "serial";
    for (const auto& sp : o.switch_points)
        s += fmt::format(" → {} from {} ({}–{})", backend_name(sp.how), format_size(sp.from_bytes), format_size(sp.ci_low_bytes),
                         format_size(sp.ci_high_bytes));
    return s;
}

std::string tuning_words(const runtime::operation_profile& o) {
    std::string s;
    for (const auto& t : o.tuning)
        s += fmt::format("{}{}: threads {}, chunk {}", s.empty() ? "" : "; ", backend_name(t.how),
                         t.threads ? std::to_string(t.threads) : "default", t.chunk_bytes ? format_size(t.chunk_bytes) : "default");
    return s.empty() ? "defaults" : s;
}

std::string worst_validation(const runtime::profile& p, operation op) {
    double worst = 1e9;
    for (const auto& v : p.validation)
        if (v.op == op) worst = std::min(worst, v.auto_over_best);
    return worst > 1e8 ? "not validated" : fmt::format("{:.1f}%", worst * 100);
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

std::string describe_choice(const choice& c) {
    std::string d = fmt::format("{}/{}", backend_name(c.how), kernel_name(c.kernel));
    if (c.how != backend::serial)
        d += fmt::format(" t{}{}", c.par.threads, c.par.chunk_bytes ? " c" + format_size(c.par.chunk_bytes) : "");
    return d;
}

choice concrete(const runtime::operation_settings& os, std::uint64_t n) {
    choice c = os.choose(n);
    if (c.kernel == kernel_id::automatic) c.kernel = best_kernel();
    return c;
}

bool same_call(const choice& a, const choice& b) {
    return a.how == b.how && a.kernel == b.kernel && a.par.threads == b.par.threads && a.par.chunk_bytes == b.par.chunk_bytes;
}

// Both profiles' validation sizes (held out from both sweeps) and switch points
// (where they disagree most; rounded up to whole quanta, so the size is at or past
// the switch), per operation.
struct compare_sizes {
    std::map<operation, std::set<std::uint64_t>> sizes;
    std::set<std::pair<operation, std::uint64_t>> at_switch, at_validation;
    std::uint64_t max_bytes = 0;
};

compare_sizes sizes_to_compare(const runtime::profile& a, const runtime::profile& b) {
    compare_sizes out;
    for (const runtime::profile* p : {&a, &b}) {
        for (const auto& v : p->validation) {
            out.sizes[v.op].insert(v.size_bytes);
            out.at_validation.insert({v.op, v.size_bytes});
            out.max_bytes = std::max(out.max_bytes, v.size_bytes);
        }
        for (operation op : runtime::operations) {
            const std::uint64_t g = granule_of(op);
            for (const auto& sp : p->for_op(op).switch_points)
                if (sp.from_bytes > 1) {
                    const std::uint64_t s = (sp.from_bytes + g - 1) / g * g;
                    out.sizes[op].insert(s);
                    out.at_switch.insert({op, s});
                    out.max_bytes = std::max(out.max_bytes, s);
                }
        }
    }
    return out;
}

}  // namespace

std::string compare_profiles(const runtime::profile& a, const runtime::profile& b, const std::string& name_a,
                             const std::string& name_b) {
    std::string o = fmt::format("# calib64 profiles compared\n\nA: `{}`  \nB: `{}`\n\n| | A | B |\n|---|---|---|\n", name_a, name_b);
    auto row = [&](const std::string& k, const std::string& x, const std::string& y) {
        o += fmt::format("| {} | {} | {}{} |\n", k, x, y, x == y ? "" : " ≠");
    };
    row("host id", a.host.host_id, b.host.host_id);
    row("fingerprint", a.host.fingerprint, b.host.fingerprint);
    row("CPU", a.host.cpu_model, b.host.cpu_model);
    row("cores / PUs / allowed", fmt::format("{} / {} / {}", a.host.cores, a.host.pus, a.host.allowed_cpus),
        fmt::format("{} / {} / {}", b.host.cores, b.host.pus, b.host.allowed_cpus));
    row("L2 / L3", format_size(a.host.l2_bytes) + " / " + format_size(a.host.l3_bytes),
        format_size(b.host.l2_bytes) + " / " + format_size(b.host.l3_bytes));
    row("created", a.created_utc, b.created_utc);
    row("tool version", a.tool_version, b.tool_version);
    for (operation op : runtime::operations) {
        const std::string n(runtime::operation_name(op));
        row(n + " kernel", std::string(kernel_name(a.for_op(op).kernel)), std::string(kernel_name(b.for_op(op).kernel)));
        row(n + " backends", points_words(a.for_op(op)), points_words(b.for_op(op)));
        row(n + " tuning", tuning_words(a.for_op(op)), tuning_words(b.for_op(op)));
        row(n + " worst auto/best", worst_validation(a, op), worst_validation(b, op));
    }
    row("stability notes", std::to_string(a.stability.size()), std::to_string(b.stability.size()));
    // Measured curves at the sizes both profiles measured.
    for (const auto& ca : a.curves)
        for (const auto& cb : b.curves) {
            if (ca.op != cb.op || ca.series != cb.series) continue;
            std::string rows;
            for (const auto& pa : ca.points)
                for (const auto& pb : cb.points)
                    if (pa.size_bytes == pb.size_bytes)
                        rows += fmt::format("| {} | {:.0f} [{:.0f}–{:.0f}] | {:.0f} [{:.0f}–{:.0f}] | {} |\n", format_size(pa.size_bytes),
                                            pa.median_mb_per_s, pa.ci_low_mb_per_s, pa.ci_high_mb_per_s, pb.median_mb_per_s,
                                            pb.ci_low_mb_per_s, pb.ci_high_mb_per_s,
                                            pa.median_mb_per_s > 0 ? fmt::format("{:.2f}", pb.median_mb_per_s / pa.median_mb_per_s) : "—");
            if (rows.empty()) continue;
            o += fmt::format("\n## {} / {} (MB/s [95% CI])\n\n| size | A | B | B/A |\n|---|---|---|---|\n{}", ca.op, ca.series, rows);
        }
    return o;
}

std::string measure_profiles(const runtime::profile& a, const runtime::profile& b, double budget_s, std::uint64_t seed,
                             std::string& error) {
    const runtime::topology topo = runtime::probe_topology();
    // Both profiles as written, even from another host: this compares their choices.
    const runtime::environment trust{{"CALIB64_TRUST_PROFILE", "1"}};
    const auto sa = std::make_shared<const runtime::resolved_settings>(runtime::settings_from(&a, "A", {}, trust, topo));
    const auto sb = std::make_shared<const runtime::resolved_settings>(runtime::settings_from(&b, "B", {}, trust, topo));
    const compare_sizes cs = sizes_to_compare(a, b);
    if (cs.max_bytes == 0) {
        error = "neither profile has a validation section to take sizes from";
        return {};
    }
    const auto load = make_buffer_workload(cs.max_bytes, seed, topo.usable_cpus);
    struct row {
        operation op;
        std::uint64_t size;
        choice ca, cb;
        bool same = false;
    };
    std::vector<row> rows;
    std::vector<cell> cells;
    for (operation op : runtime::operations)
        for (std::uint64_t s : cs.sizes.count(op) ? cs.sizes.at(op) : std::set<std::uint64_t>{}) {
            row r{op, s, concrete(sa->for_op(op), s), concrete(sb->for_op(op), s)};
            r.same = same_call(r.ca, r.cb);
            rows.push_back(r);
            if (r.same) continue;  // the same call: equal by construction
            for (int k = 0; k < 2; ++k) {
                cell x;
                x.phase = "compare";
                x.op = std::string(runtime::operation_name(op));
                x.series = k == 0 ? "A" : "B";
                x.size_bytes = s;
                x.block = x.op + "/" + std::to_string(s);
                x.run_once = load->auto_call(op, k == 0 ? sa : sb, s);
                x.verify = load->verify(op, s);
                cells.push_back(std::move(x));
            }
        }
    progress prog(isatty(2) == 1);
    engine eng(seed, prog);
    if (!cells.empty()) {
        prog.begin_phase("measuring", 1.0);
        if (!eng.measure(cells, {.budget_s = budget_s, .min_rounds = 7, .max_rounds = 31, .min_sample_s = 0.5e-3, .max_sample_s = 3e-3})) {
            error = eng.error();
            return {};
        }
        prog.end_phase();
        prog.finish();
    }
    std::string o = fmt::format(
        "\n## Measured side by side\n\nWhat `encode_auto` / `decode_auto` run under each profile, measured on this host in one "
        "interleaved run (paired rounds, {} rounds), at both profiles' validation sizes and switch points (marked). Where both "
        "profiles make the same call it is the same code: equal by construction, not measured. B/A is the ratio of expected-time "
        "throughputs (harmonic means over rounds) with its 95% bootstrap interval; a difference counts only beyond the ±{:.0f}% "
        "noise band.\n\n| op | size | A runs | B runs | A MB/s | B MB/s | B/A [95% CI] | verdict |\n|---|---|---|---|---|---|---|---|\n",
        eng.rounds_run(), noise_band * 100);
    double worst = 0;
    std::size_t same = 0, decisive = 0, same_validation = 0;
    for (const row& r : rows) {
        const bool switch_size = cs.at_switch.count({r.op, r.size}) != 0;
        const std::string size = format_size(r.size) + (switch_size ? " (switch)" : "");
        const std::string op(runtime::operation_name(r.op));
        if (r.same) {
            ++same;
            same_validation += cs.at_validation.count({r.op, r.size});
            o += fmt::format("| {} | {} | {} | same | | | 1 | same call |\n", op, size, describe_choice(r.ca));
            continue;
        }
        const std::vector<double>*a_samples = nullptr, *b_samples = nullptr;
        for (const cell& c : cells)
            if (c.op == op && c.size_bytes == r.size) (c.series == "A" ? a_samples : b_samples) = &c.mb_per_s;
        const paired_comparison cmp = compare_paired(*b_samples, *a_samples, noise_band, mix_seed(seed, r.size, salt::compare_paired));
        worst = std::max(worst, std::abs(cmp.ratio.mid - 1));
        decisive += cmp.outcome != verdict::tie;
        o += fmt::format("| {} | {} | {} | {} | {:.0f} | {:.0f} | {:.3f} [{:.3f}–{:.3f}] | {} |\n", op, size, describe_choice(r.ca),
                         describe_choice(r.cb), harmonic_mean(*a_samples), harmonic_mean(*b_samples), cmp.ratio.mid, cmp.ratio.low,
                         cmp.ratio.high,
                         cmp.outcome == verdict::tie ? "tie" : cmp.outcome == verdict::a_wins ? "B faster" : "A faster");
    }
    o += fmt::format("\nSame call at {} of {} sizes ({} of {} validation sizes); where the calls differ, the largest difference "
                     "is {:.1f}% and {} difference(s) clear the noise band.\n",
                     same, rows.size(), same_validation, cs.at_validation.size(), worst * 100, decisive);
    return o;
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
