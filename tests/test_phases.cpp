// The calibration's phases as a specification, on a synthetic machine whose true
// curves are known: the sweep finds the crossover, the head-to-head contest settles
// it, validation runs the profile through explicit settings, drift makes a phase
// measured again, a busy machine is waited for, and the roofline is drawn only
// where it is a ceiling. No timing: the synthetic measurer makes the numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>

#include "decide.h"
#include "internal.h"
#include "measure.h"
#include "phases.h"
#include "workload.h"

using namespace calib64;
using namespace calib64::calib;
using runtime::operation;

namespace {

// What the machine's last call ran, and the machine's true speed for it.
struct synthetic_machine {
    std::function<double(operation, backend, std::uint64_t)> curve;  // MB/s
    double noise = 0.01;   // relative, per sample
    double factor = 1;     // the machine's state: every speed is multiplied by it
    std::mt19937_64 rng{1};
    operation last_op = operation::encode;
    backend last_how = backend::serial;
    std::uint64_t last_size = 0;
    bool last_memcpy = false, last_all_threads = false;

    double sample() {
        std::normal_distribution<double> d(1, noise);
        const double base = last_memcpy ? (last_all_threads ? std::min(30000.0, last_size / 5e-6 / 1e6) : 15000.0)
                                        : curve(last_op, last_how, last_size);
        return std::max(1.0, base * factor * d(rng));
    }
};

class synthetic_workload final : public workload {
public:
    explicit synthetic_workload(synthetic_machine& m) : m_(m) {}
    call codec_call(operation op, backend how, kernel_id, const parallel_options&, std::uint64_t size) override {
        return [this, op, how, size] { return ran(op, how, size); };
    }
    call auto_call(operation op, std::shared_ptr<const runtime::resolved_settings> s, std::uint64_t size) override {
        return [this, op, s, size] { return ran(op, s->for_op(op).choose(size).how, size); };
    }
    call memcpy_call(std::uint64_t size, bool all) override {
        return [this, size, all] {
            m_.last_memcpy = true;
            m_.last_all_threads = all;
            m_.last_size = size;
            return true;
        };
    }
    check verify(operation, std::uint64_t) override { return [] { return std::string(); }; }
    void start_copy_team() override {}
    void stop_copy_team() override {}

private:
    bool ran(operation op, backend how, std::uint64_t size) {
        m_.last_memcpy = false;
        m_.last_op = op, m_.last_how = how, m_.last_size = size;
        return true;
    }
    synthetic_machine& m_;
};

// Every cell once per round; `on_round` can change the machine between rounds.
class synthetic_measurer final : public measurer {
public:
    explicit synthetic_measurer(synthetic_machine& m) : m_(m) {}
    std::function<void(int)> on_round;  // called with the number of rounds run so far in the whole calibration
    int measures = 0;

    bool measure(std::vector<cell>& cells, const round_plan& plan, const settled_fn& settled) override {
        ++measures;
        for (cell& c : cells) c.mb_per_s.clear();
        rounds_ = 0;
        for (int r = 0; r < plan.max_rounds; ++r) {
            if (on_round) on_round(total_rounds_);
            ++total_rounds_;
            for (cell& c : cells) {
                c.run_once();
                c.mb_per_s.push_back(m_.sample());
            }
            rounds_ = r + 1;
            if (settled && rounds_ >= plan.min_rounds && settled(cells)) break;
        }
        return true;
    }
    int rounds_run() const override { return rounds_; }
    const std::string& error() const override { return error_; }
    std::mt19937_64& rng() override { return rng_; }
    void begin_phase(const std::string&, double) override {}
    void end_phase() override {}

private:
    synthetic_machine& m_;
    int rounds_ = 0, total_rounds_ = 0;
    std::string error_;
    std::mt19937_64 rng_{2};
};

// Serial at 10 GB/s; work_stealing costs 20 us of overhead and then splits the work
// over two cores (it overtakes serial at 400 KB); pipeline has 60 us of overhead.
// A parallel backend that cuts the size into one chunk runs serial's work.
double two_core_curve(operation op, backend how, std::uint64_t size) {
    const double bytes = static_cast<double>(size);
    const double serial_s = bytes / 10e9;
    const std::size_t chunks = op == operation::encode ? encode_chunk_count(size, {2, 0}) : decode_chunk_count(size, {2, 0});
    double seconds = serial_s;
    if (how == backend::work_stealing && chunks > 1) seconds = 20e-6 + serial_s / 2;
    if (how == backend::pipeline && chunks > 1) seconds = 60e-6 + serial_s / 2;
    return bytes / seconds / 1e6;
}

calibration synthetic_calibration() {
    calibration cal;
    cal.mode = quick_mode();
    cal.mode.min_rounds = 8;
    cal.mode.max_rounds = 16;
    cal.mode.grid_per_octave = 2;
    cal.mode.contest_sizes = 5;
    cal.seed = 42;
    cal.max_bytes = 8 << 20;
    cal.topo.cores = cal.topo.pus = cal.topo.allowed_cpus = cal.topo.usable_cpus = 2;
    cal.topo.l1d_bytes = 48 << 10;
    cal.topo.l2_bytes = 1 << 20;
    cal.topo.l3_bytes = 32 << 20;
    cal.prof = runtime::new_profile(cal.topo);
    for (operation op : runtime::operations) {
        cal.chosen_kernel[op] = best_kernel();
        for (backend b : all_backends) cal.tuned[{op, b}] = {2, 0};  // explicit: independent of this machine's CPUs
    }
    return cal;
}

struct synthetic_run {
    synthetic_machine machine;
    synthetic_workload load{machine};
    synthetic_measurer meter{machine};
    calibration cal = synthetic_calibration();
    phase_context ctx{meter, load, cal, {}, 2};
    synthetic_run() { machine.curve = two_core_curve; }
};

const runtime::switch_point* first_parallel(const runtime::operation_profile& o) {
    for (const auto& sp : o.switch_points)
        if (sp.how != backend::serial) return &sp;
    return nullptr;
}

}  // namespace

TEST_CASE("on a machine with a known crossover the sweep and the contest put the switch there") {
    synthetic_run run;
    REQUIRE(sweep_sizes(run.ctx));
    write_decisions(run.cal);
    REQUIRE(settle_switches(run.ctx));
    const runtime::switch_point* sp = first_parallel(run.cal.prof.encode);
    REQUIRE(sp != nullptr);
    CHECK(sp->how == backend::work_stealing);
    // The true crossover is 400 KB; the contest's undecided range must hold it.
    CHECK(sp->ci_low_bytes <= 400'000);
    CHECK(sp->ci_high_bytes >= 400'000);
    CHECK(sp->from_bytes > 300'000);
    CHECK(sp->from_bytes < 520'000);
    CHECK_FALSE(run.cal.contests.empty());
    CHECK(run.cal.contests.front().points.size() >= 3);
}

TEST_CASE("validation runs the profile through explicit settings and finds it as fast as the best call") {
    synthetic_run run;
    const auto* in_force = runtime::detail::settings_in_force.load();
    REQUIRE(sweep_sizes(run.ctx));
    write_decisions(run.cal);
    REQUIRE(settle_switches(run.ctx));
    REQUIRE(validate(run.ctx, "validation", run.cal.validation));
    REQUIRE_FALSE(run.cal.validation.empty());
    for (const validation_detail& v : run.cal.validation) {
        CAPTURE(v.row.size_bytes);
        CHECK(v.row.auto_over_best >= 0.97);
        CHECK_FALSE(calls_for_repair(v));
    }
    // Nothing process-wide was touched: the settings in force are the same object as before.
    CHECK(runtime::detail::settings_in_force.load() == in_force);
}

TEST_CASE("a switch placed on the wrong side of the crossover is repaired after validation") {
    synthetic_run run;
    REQUIRE(sweep_sizes(run.ctx));
    write_decisions(run.cal);
    // Move the switch far below the crossover, as a noisy sweep might.
    auto& points = run.cal.prof.encode.switch_points;
    REQUIRE_FALSE(points.empty());
    points.front().from_bytes = points.front().ci_low_bytes = 70'000;
    points.front().ci_high_bytes = 75'000;
    run.cal.mode.validation_sizes = 12;
    REQUIRE(validate(run.ctx, "validation", run.cal.validation));
    bool wrong = false;
    for (const auto& v : run.cal.validation) wrong = wrong || calls_for_repair(v);
    REQUIRE(wrong);
    REQUIRE(repair(run.ctx));
    CHECK_FALSE(run.cal.repair_sizes.empty());
    CHECK_FALSE(run.cal.validation_before_repair.empty());
    const runtime::switch_point* sp = first_parallel(run.cal.prof.encode);
    REQUIRE(sp != nullptr);
    CHECK(sp->from_bytes > 250'000);
    for (const auto& v : run.cal.validation) CHECK_FALSE(calls_for_repair(v));
}

TEST_CASE("a machine that changes state during a phase has that phase measured again") {
    synthetic_run run;
    // Half speed from the 5th round on, then back to full speed for the repeat.
    run.meter.on_round = [&](int round) { run.machine.factor = round >= 4 && round < 16 ? 0.5 : 1.0; };
    REQUIRE(sweep_sizes(run.ctx));
    REQUIRE_FALSE(run.cal.drift.empty());
    CHECK(run.cal.drift.front().redone);
    CHECK_FALSE(run.cal.drift.front().still_shifted);
    CHECK_FALSE(run.cal.unstable_machine);
}

TEST_CASE("a machine that keeps changing state marks the calibration as measured on an unstable machine") {
    synthetic_run run;
    run.meter.on_round = [&](int round) { run.machine.factor = (round / 6) % 2 == 0 ? 1.0 : 0.6; };
    REQUIRE(sweep_sizes(run.ctx));
    CHECK(run.cal.unstable_machine);
    write_audit(run.cal);
    bool noted = false;
    for (const auto& n : run.cal.prof.stability) noted = noted || n.kind == "unstable_machine";
    CHECK(noted);
}

TEST_CASE("a steady machine is measured once per phase") {
    synthetic_run run;
    REQUIRE(sweep_sizes(run.ctx));
    for (const auto& d : run.cal.drift) {
        CAPTURE(d.phase);
        CHECK_FALSE(d.redone);
        CHECK_FALSE(d.shift.shifted);
    }
}

TEST_CASE("the all-threads memcpy is a ceiling only where it beats one thread, and only there is it kept") {
    synthetic_run run;
    run.cal.mode.grid_per_octave = 2;
    REQUIRE(measure_roofline(run.ctx));
    REQUIRE(run.cal.roofline.size() == 2);
    const auto& one = run.cal.roofline[0].points;
    const auto& all = run.cal.roofline[1].points;
    REQUIRE(run.cal.roofline_all_threads_drawn.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        CAPTURE(all[i].size_bytes);
        CHECK(run.cal.roofline_all_threads_drawn[i] == (all[i].median_mb_per_s >= one[i].median_mb_per_s));
    }
    CHECK_FALSE(run.cal.roofline_all_threads_drawn.front());  // 4 KiB: synchronisation, not bandwidth
    CHECK(run.cal.roofline_all_threads_drawn.back());
}

TEST_CASE("a kernel or setting replaces the reference only if it wins somewhere and loses nowhere") {
    const std::vector<candidate_outcome> c = {{false, false, 1.0},   // the reference
                                              {true, true, 1.4},     // wins and loses: no
                                              {true, false, 1.10},   // wins, never loses
                                              {true, false, 1.05},   // too, but a lower score
                                              {false, false, 1.02}}; // ties everywhere: no
    CHECK(pick_winner(c, 0) == 2);
    CHECK(pick_winner({{false, false, 1}, {false, false, 1.2}}, 0) == 0);
    CHECK(pick_winner({{true, false, 1.3}, {false, false, 1}}, 1) == 0);
}

TEST_CASE("a contest puts the switch in the middle of the sizes between the last old win and the first new win") {
    auto point = [](std::uint64_t size, double ratio, verdict v) {
        contest_point p;
        p.size_bytes = size;
        p.new_vs_old.ratio = {ratio * 0.99, ratio, ratio * 1.01};
        p.new_vs_old.outcome = v;
        return p;
    };
    const std::vector<contest_point> clean = {point(100'000, 0.80, verdict::b_wins), point(200'000, 0.99, verdict::tie),
                                              point(400'000, 1.00, verdict::tie), point(800'000, 1.30, verdict::a_wins)};
    const contest_choice c = decide_contest(clean, 1, 0, UINT64_MAX);
    CHECK(c.low == 100'001);
    CHECK(c.high == 800'000);
    CHECK(c.from > 200'000);
    CHECK(c.from < 400'000);
    CHECK(c.settled);
    // New wins everywhere: the switch goes below the contest's first size.
    const contest_choice early = decide_contest({point(100'000, 1.2, verdict::a_wins), point(200'000, 1.3, verdict::a_wins)}, 1, 0,
                                                UINT64_MAX);
    CHECK(early.high == 100'000);
    // A point whose interval straddles the band is undecided: not settled.
    contest_point straddling = point(300'000, 1.0, verdict::tie);
    straddling.new_vs_old.ratio = {0.9, 1.0, 1.1};
    CHECK_FALSE(decide_contest({clean[0], straddling, clean[3]}, 1, 0, UINT64_MAX).settled);
}

TEST_CASE("calibrate waits for a busy machine to settle, and not longer than its limit") {
    double now = 0;
    auto busy_then_quiet = [&, calls = 0]() mutable {
        now += 0.2;
        machine_check c;
        c.busy_fraction = ++calls <= 5 ? 0.8 : 0.02;
        return c;
    };
    const quiet_wait w = wait_for_quiet(30, busy_then_quiet, [&] { return now; });
    CHECK(w.quiet);
    CHECK(w.windows == 5 + quiet_windows);
    CHECK(w.waited_s == doctest::Approx(0.2 * (5 + quiet_windows)));
    CHECK(w.words().find("waited") != std::string::npos);
    now = 0;
    auto always_busy = [&] {
        now += 0.2;
        machine_check c;
        c.busy_fraction = 0.9;
        return c;
    };
    const quiet_wait gave_up = wait_for_quiet(2, always_busy, [&] { return now; });
    CHECK_FALSE(gave_up.quiet);
    CHECK(gave_up.waited_s == doctest::Approx(2.0).epsilon(0.15));
    CHECK(gave_up.words().find("did not settle") != std::string::npos);
}

TEST_CASE("a level shift in a reference series is detected; noise and a single outlier are not") {
    std::vector<double> steady, shifted, outlier;
    std::mt19937_64 rng(5);
    std::normal_distribution<double> d(100, 1);
    for (int i = 0; i < 20; ++i) {
        steady.push_back(d(rng));
        shifted.push_back(d(rng) * (i < 10 ? 1.0 : 0.8));
        outlier.push_back(i == 7 ? 50 : d(rng));
    }
    CHECK_FALSE(detect_level_shift(steady, 0.03, 1).shifted);
    CHECK(detect_level_shift(shifted, 0.03, 1).shifted);
    CHECK(detect_level_shift(shifted, 0.03, 1).later_over_earlier.mid == doctest::Approx(0.8).epsilon(0.03));
    CHECK_FALSE(detect_level_shift(outlier, 0.03, 1).shifted);
}

TEST_CASE("contests that disagree with each other still leave increasing switch points and a valid profile") {
    synthetic_run run;
    // work_stealing overtakes serial only from 3.5 MB; pipeline beats work_stealing
    // wherever both split the input, and serial from 1 MB.
    run.machine.curve = [](operation op, backend how, std::uint64_t size) {
        const double bytes = static_cast<double>(size);
        const std::size_t chunks = op == operation::encode ? encode_chunk_count(size, {2, 0}) : decode_chunk_count(size, {2, 0});
        double seconds = bytes / 10e9;
        if (how == backend::work_stealing && chunks > 1) seconds = 175e-6 + bytes / 20e9;
        if (how == backend::pipeline && chunks > 1) seconds = 50e-6 + bytes / 20e9;
        return bytes / seconds / 1e6;
    };
    auto& points = run.cal.prof.encode.switch_points;
    points = {{1 << 20, backend::work_stealing, 512 << 10, 4 << 20, "sweep"},
              {4 << 20, backend::pipeline, 1 << 20, 16 << 20, "sweep"}};
    run.cal.prof.decode.switch_points.clear();
    REQUIRE(settle_switches(run.ctx, {operation::encode}));
    for (std::size_t k = 1; k < points.size(); ++k) CHECK(points[k].from_bytes > points[k - 1].from_bytes);
    const auto errors = runtime::validate_profile(run.cal.prof);
    for (const auto& e : errors) MESSAGE(runtime::to_string(e));
    CHECK(errors.empty());
}
