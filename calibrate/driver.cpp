// `calib64 calibrate`: the driver. Options, then the phases in order, then the
// outputs. The method is documented in docs/calibration.md.
#include "calibrate.h"

#include <signal.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>

#include "engine.h"
#include "internal.h"
#include "phases.h"
#include "runtime/settings.h"

namespace calib64::calib {

mode_config quick_mode() {
    return {.name = "quick", .roofline_s = 0.5, .kernels_s = 0.5, .tuning_s = 0.8, .sweep_s = 3.0, .refine_s = 0.8,
            .contest_s = 1.0, .validation_s = 1.5, .min_rounds = 3, .max_rounds = 4, .min_sample_s = 0.3e-3,
            .max_sample_s = 1.5e-3, .grid_per_octave = 1, .dense_per_octave = 1, .all_note_points = false,
            .refine_depth = 1, .contest_sizes = 3, .validation_sizes = 4, .max_quiet_wait_s = 3,
            .time_limit_s = 9.5, .chunk_bytes = {0, 1u << 20}};
}
mode_config default_mode() {
    return {.name = "default", .roofline_s = 2.5, .kernels_s = 2.5, .tuning_s = 6, .sweep_s = 18, .refine_s = 4,
            .contest_s = 8, .validation_s = 7, .min_rounds = 5, .max_rounds = 25, .min_sample_s = 0.5e-3,
            .max_sample_s = 3e-3, .grid_per_octave = 2, .dense_per_octave = 4, .all_note_points = true,
            .refine_depth = 2, .contest_sizes = 5, .validation_sizes = 8, .max_quiet_wait_s = 30,
            .time_limit_s = 57, .chunk_bytes = {0, 256u << 10, 1u << 20, 4u << 20}};
}
mode_config thorough_mode() {
    return {.name = "thorough", .roofline_s = 10, .kernels_s = 10, .tuning_s = 30, .sweep_s = 120, .refine_s = 30,
            .contest_s = 40, .validation_s = 30, .min_rounds = 9, .max_rounds = 41, .min_sample_s = 1e-3,
            .max_sample_s = 10e-3, .grid_per_octave = 3, .dense_per_octave = 8, .all_note_points = true,
            .refine_depth = 3, .contest_sizes = 7, .validation_sizes = 12, .max_quiet_wait_s = 120,
            .time_limit_s = 600, .chunk_bytes = {0, 64u << 10, 256u << 10, 1u << 20, 4u << 20, 16u << 20}};
}

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::uint64_t mib = 1024 * 1024;

struct cli_options {
    mode_config mode = default_mode();
    std::filesystem::path out_dir;
    std::optional<std::uint64_t> seed;
    bool progress = true;
    bool wait = true;
    std::optional<std::uint64_t> max_bytes;  // default: 100 MiB, quick: 32 MiB
};

void print_usage(std::FILE* to) {
    std::fputs(
        "usage: calib64 calibrate [--quick | --thorough] [--out DIR] [--seed N] [--max-size SIZE] [--no-wait]\n"
        "                         [--no-progress]\n"
        "\n"
        "Measures this host and writes DIR (default results/<host-id>/): profile.json,\n"
        "report.md, benchmark-raw.json and SVG charts.\n"
        "  --quick       under 10 s, coarse (CI, smoke tests)\n"
        "  (default)     under 60 s on a 2-core machine\n"
        "  --thorough    several minutes, more sizes and rounds\n"
        "  --out DIR     where to write the results\n"
        "  --seed N      random order and validation sizes (default: random, recorded)\n"
        "  --max-size S  largest size measured (default 100MiB, quick 32MiB)\n"
        "  --no-wait     measure at once, even on a busy machine (default: wait up to\n"
        "                30 s, quick 3 s, for other processes to settle)\n"
        "  --no-progress no progress output on stderr\n",
        to);
}

// Parses argv; returns an exit status when the program should stop now.
std::optional<int> parse(int argc, char** argv, cli_options& opt) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "calibrate: %s needs a value\n", name);
                return nullptr;
            }
            return argv[++i];
        };
        if (a == "--quick") opt.mode = quick_mode();
        else if (a == "--thorough") opt.mode = thorough_mode();
        else if (a == "--no-progress") opt.progress = false;
        else if (a == "--no-wait") opt.wait = false;
        else if (a == "-h" || a == "--help") {
            print_usage(stdout);
            return 0;
        } else if (a == "--out") {
            const char* v = value("--out");
            if (!v) return 2;
            opt.out_dir = v;
        } else if (a == "--seed") {
            const char* v = value("--seed");
            if (!v) return 2;
            char* end = nullptr;
            errno = 0;
            const unsigned long long s = std::strtoull(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || *v == '-') {
                std::fprintf(stderr, "calibrate: --seed wants a non-negative integer, not \"%s\"\n", v);
                return 2;
            }
            opt.seed = s;
        } else if (a == "--max-size") {
            const char* v = value("--max-size");
            if (!v) return 2;
            std::string why;
            const auto s = common::parse_size(v, &why);
            if (!s || *s < 64 * 1024) {
                std::fprintf(stderr, "calibrate: --max-size: %s\n", s ? "must be at least 64KiB" : why.c_str());
                return 2;
            }
            opt.max_bytes = *s;
        } else {
            std::fprintf(stderr, "calibrate: unknown argument \"%s\"\n", std::string(a).c_str());
            print_usage(stderr);
            return 2;
        }
    }
    return std::nullopt;
}

// SIGINT only sets a flag (measurements stop at the next run); a second Ctrl-C
// removes any temporary file being written and ends the process by that signal.
// Restored when the calibration ends.
void on_interrupt(int signal_number) {
    if (!interrupted.exchange(true)) return;
    common::remove_pending_temporaries();  // async-signal-safe: unlink() only
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

struct interrupt_guard {
    struct sigaction old_int {};
    struct sigaction old_term {};
    interrupt_guard() {
        interrupted = false;
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    ~interrupt_guard() {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
    }
};

int fail(const std::string& what) {
    if (interrupted) {
        std::fprintf(stderr, "\ncalibrate: interrupted; nothing was written (no partial profile).\n");
        return 130;
    }
    std::fprintf(stderr, "\ncalibrate: %s; nothing was written.\n", what.c_str());
    return 1;
}

// The measured phases, in order; false with ctx.error set when one fails.
bool run_phases(phase_context& ctx) {
    calibration& cal = ctx.cal;
    if (!measure_roofline(ctx) || !choose_kernels(ctx) || !tune_backends(ctx) || !sweep_sizes(ctx)) return false;
    write_decisions(cal);
    if (!settle_switches(ctx)) return false;
    if (!validate(ctx, "validation", cal.validation)) return false;
    return repair(ctx);
}

// Every file is written whole (temporary file + rename), the profile last; the
// profile is checked before anything is written, so a profile that would not save
// leaves no new report beside an old profile.
std::string write_outputs(const calibration& cal, const engine& eng) {
    if (const auto errors = runtime::validate_profile(cal.prof); !errors.empty()) {
        std::string all;
        for (const auto& e : errors) all += "\n  " + runtime::to_string(e);
        return "the profile did not validate:" + all;
    }
    std::error_code ec;
    std::filesystem::create_directories(cal.out_dir, ec);
    if (ec) return fmt::format("cannot create {}: {}", cal.out_dir.string(), ec.message());
    std::string err = write_file_atomic(
        cal.out_dir / cal.raw_json_name,
        eng.raw_json_text({{"seed", std::to_string(cal.seed)}, {"mode", cal.mode.name}, {"host_id", cal.host_id}}));
    for (runtime::operation op : runtime::operations)
        if (err.empty())
            err = write_file_atomic(cal.out_dir / (std::string(runtime::operation_name(op)) + ".svg"), render_chart(cal, op));
    if (err.empty()) err = write_file_atomic(cal.out_dir / "report.md", render_report(cal));
    if (!err.empty()) return err;
    const auto errors = runtime::save_profile_atomic(cal.prof, cal.out_dir / "profile.json");
    std::string all;
    for (const auto& e : errors) all += "\n  " + runtime::to_string(e);
    return all.empty() ? "" : "the profile did not validate or could not be written:" + all;
}

}  // namespace

int calibrate_main(int argc, char** argv) {
    cli_options opt;
    if (const auto stop = parse(argc, argv, opt)) return *stop;
    const auto t_start = clock_type::now();
    auto elapsed = [&] { return std::chrono::duration<double>(clock_type::now() - t_start).count(); };
    interrupt_guard guard;

    calibration cal;
    cal.mode = opt.mode;
    cal.seed = opt.seed ? *opt.seed : std::random_device{}() * 0x100000001ull ^ std::random_device{}();
    cal.topo = runtime::host_topology();
    cal.host_id = runtime::host_id(cal.topo);
    cal.out_dir = opt.out_dir.empty() ? std::filesystem::path("results") / cal.host_id : opt.out_dir;
    const unsigned cpus = std::max(1u, cal.topo.usable_cpus);
    // Quick mode stops at 32 MiB: the 100 MiB buffers alone cost seconds to fill on a busy machine.
    cal.max_bytes = opt.max_bytes ? *opt.max_bytes : cal.mode.name == "quick" ? 32 * mib : 100 * mib;

    // 1. A quiet machine: wait (bounded) for what a build or a test run left behind.
    if (opt.wait) cal.wait = wait_for_quiet(cal.mode.max_quiet_wait_s, [&] { return check_machine(cpus, 200); }, elapsed);
    cal.check_before = check_machine(cpus);
    if (!opt.wait) cal.wait = {.skipped = true, .quiet = cal.check_before.busy_fraction.value_or(0) <= quiet_busy_fraction};
    if (opt.progress && (cal.wait.waited_s >= 1 || !cal.wait.quiet)) std::fprintf(stderr, "calibrate: %s\n", cal.wait.words().c_str());
    for (const auto& w : cal.check_before.warnings) std::fprintf(stderr, "calibrate: warning: %s\n", w.c_str());

    progress prog(opt.progress);
    engine eng(cal.seed, prog);
    const auto load = make_buffer_workload(cal.max_bytes, cal.seed, cpus);
    cal.prof = runtime::new_profile(cal.topo);
    cal.phases.push_back({"setup (probe, quiet machine, buffers)", elapsed(), 0, 0});

    // 2. The phases, all measuring within the mode's time limit.
    phase_context ctx{eng, *load, cal, {}, 2};
    ctx.elapsed = elapsed;
    ctx.deadline_s = cal.wait.waited_s + cal.mode.time_limit_s;
    if (!run_phases(ctx)) return fail(ctx.error);
    cal.check_after = check_machine(cpus, 100);
    write_audit(cal);
    cal.total_seconds = elapsed();
    prog.finish();

    // 3. The outputs. From here on Ctrl-C no longer stops anything.
    if (const std::string err = write_outputs(cal, eng); !err.empty()) {
        interrupted = false;
        return fail(err);
    }
    if (interrupted) std::fprintf(stderr, "calibrate: interrupted while writing; the files were completed.\n");
    std::printf("calibrated in %.1f s (%s mode)%s\nprofile: %s\nreport:  %s\n", cal.total_seconds, cal.mode.name.c_str(),
                cal.unstable_machine ? "; the machine changed state during the run: see the report's drift section" : "",
                (cal.out_dir / "profile.json").string().c_str(), (cal.out_dir / "report.md").string().c_str());
    return 0;
}

}  // namespace calib64::calib

namespace calib64 {

int run_calibrate(int argc, char** argv) {
    try {
        return calib::calibrate_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "calibrate: %s; nothing was written.\n", e.what());
        return 1;
    }
}

}  // namespace calib64
