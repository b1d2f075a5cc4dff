// The calibration driver: its statistics on synthetic samples (where the right
// answer is known), its SVG writer, and one end-to-end `calibrate --quick` run.
// No timing assertions: the machine may be busy; only structure and validity.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calibrate.h"
#include "decide.h"
#include "internal.h"
#include "machine.h"
#include "runtime/profile.h"
#include "stats.h"
#include "svg.h"

using namespace calib64::calib;

namespace {

std::vector<double> noisy(double level, double spread, int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> d(level, spread);
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(std::max(1.0, d(rng)));
    return v;
}

// A minimal XML well-formedness check: balanced, properly nested tags, quoted
// attributes, no raw '<' or '&' outside markup and entities.
bool well_formed_xml(const std::string& s, std::string& why) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    bool root_seen = false;
    while (i < s.size()) {
        if (s[i] == '<') {
            if (s.compare(i, 5, "<?xml") == 0) {
                const auto e = s.find("?>", i);
                if (e == std::string::npos) return why = "unterminated declaration", false;
                i = e + 2;
                continue;
            }
            const auto e = s.find('>', i);
            if (e == std::string::npos) return why = "unterminated tag", false;
            std::string tag = s.substr(i + 1, e - i - 1);
            i = e + 1;
            if (!tag.empty() && tag[0] == '/') {
                const std::string name = tag.substr(1);
                if (stack.empty() || stack.back() != name) return why = "mismatched </" + name + ">", false;
                stack.pop_back();
                continue;
            }
            const bool self_closing = !tag.empty() && tag.back() == '/';
            if (self_closing) tag.pop_back();
            const std::string name = tag.substr(0, tag.find_first_of(" \n\t"));
            if (name.empty()) return why = "empty tag name", false;
            // Attributes: name="value" with no '<' inside values.
            std::size_t q = 0;
            for (char c : tag) q += c == '"';
            if (q % 2 != 0) return why = "unbalanced quotes in <" + name + ">", false;
            if (tag.find('<') != std::string::npos) return why = "'<' inside <" + name + ">", false;
            if (stack.empty() && root_seen) return why = "second root element", false;
            root_seen = true;
            if (!self_closing) stack.push_back(name);
            continue;
        }
        if (s[i] == '&') {
            const auto e = s.find(';', i);
            if (e == std::string::npos || e - i > 6) return why = "bare '&'", false;
            i = e + 1;
            continue;
        }
        if (stack.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return why = "text outside the root", false;
        ++i;
    }
    if (!stack.empty()) return why = "unclosed <" + stack.back() + ">", false;
    if (!root_seen) return why = "no root element", false;
    return true;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Loss matrix rows: {serial, work_stealing, pipeline}.
using loss_rows = std::vector<std::vector<double>>;

}  // namespace

TEST_CASE("the bootstrap interval of the expected-time throughput contains it and lies within the samples") {
    for (int n : {1, 2, 3, 5, 7, 15, 40}) {
        const auto s = noisy(1000, 80, n, static_cast<std::uint64_t>(n));
        const interval iv = bootstrap_harmonic_ci(s, 42);
        CAPTURE(n);
        CHECK(iv.mid == doctest::Approx(harmonic_mean(s)));
        CHECK(iv.low <= iv.mid);
        CHECK(iv.mid <= iv.high);
        // (a harmonic mean of equal values may differ from them in the last bit)
        CHECK(iv.low >= *std::min_element(s.begin(), s.end()) * (1 - 1e-12));
        CHECK(iv.high <= *std::max_element(s.begin(), s.end()) * (1 + 1e-12));
    }
}

TEST_CASE("the bootstrap interval is reproducible for a seed and narrows when samples agree") {
    const auto s = noisy(1000, 100, 15, 3);
    const interval a = bootstrap_harmonic_ci(s, 9), b = bootstrap_harmonic_ci(s, 9);
    CHECK(a.low == b.low);
    CHECK(a.high == b.high);
    const auto tight = noisy(1000, 5, 15, 3);
    CHECK(bootstrap_harmonic_ci(tight, 9).relative_width() < a.relative_width());
}

TEST_CASE("median of an even count is the mean of the two middle values") {
    const std::vector<double> v = {4, 1, 3, 2};
    CHECK(median(v) == doctest::Approx(2.5));
    CHECK(median(std::vector<double>{}) == 0);
}

TEST_CASE("a paired ratio clearing the noise band is a win; inside the band it is a tie") {
    const auto base = noisy(1000, 30, 9, 1);
    std::vector<double> faster, same, slower;
    for (double b : base) {
        faster.push_back(b * 1.10);
        same.push_back(b * 1.01);
        slower.push_back(b * 0.88);
    }
    CHECK(compare_paired(faster, base, 0.03, 1).outcome == verdict::a_wins);
    CHECK(compare_paired(same, base, 0.03, 1).outcome == verdict::tie);
    CHECK(compare_paired(slower, base, 0.03, 1).outcome == verdict::b_wins);
    CHECK(compare_paired(faster, base, 0.03, 1).ratio.mid == doctest::Approx(1.10));
}

TEST_CASE("pairing by round cancels drift that an unpaired comparison would not") {
    // Each round the machine runs at a different speed; A is always 6% faster
    // than B in the same round, but the rounds' spread dwarfs that.
    std::vector<double> a, b;
    for (int r = 0; r < 9; ++r) {
        const double machine = 500 + 150.0 * r;
        b.push_back(machine);
        a.push_back(machine * 1.06);
    }
    CHECK(compare_paired(a, b, 0.03, 5).outcome == verdict::a_wins);
    // The unpaired intervals overlap completely.
    CHECK(bootstrap_harmonic_ci(a, 1).low < bootstrap_harmonic_ci(b, 1).high);
}

TEST_CASE("a noisy ratio whose interval straddles the band is a tie, not a win") {
    std::vector<double> a, b;
    const double ratios[] = {1.3, 0.8, 1.25, 0.85, 1.2, 0.9, 1.1};
    for (double r : ratios) {
        b.push_back(1000);
        a.push_back(1000 * r);
    }
    CHECK(compare_paired(a, b, 0.03, 2).outcome == verdict::tie);
}

TEST_CASE("a win that holds in only one of two machine states is a tie") {
    // Rounds alternate between a slow and a fast memory mode; A wins 40% in the
    // fast mode but loses 10% in the slow one.
    std::vector<double> a, b;
    std::vector<int> mode;
    for (int r = 0; r < 15; ++r) {
        const bool fast = r % 5 != 0;
        b.push_back(fast ? 40000 : 25000);
        a.push_back(fast ? 56000 : 22500);
        mode.push_back(fast ? 1 : 0);
    }
    const auto plain = compare_paired(a, b, 0.03, 3);
    REQUIRE(plain.outcome == verdict::a_wins);
    const auto split = compare_paired(a, b, 0.03, 3, mode);
    CHECK(split.outcome == verdict::tie);
    CHECK(split.overturned_by_mode);
    // A win in both modes stays a win.
    std::vector<double> a2;
    for (std::size_t i = 0; i < b.size(); ++i) a2.push_back(b[i] * 1.2);
    CHECK(compare_paired(a2, b, 0.03, 3, mode).outcome == verdict::a_wins);
}

TEST_CASE("two bandwidth levels across rounds are detected as bimodal") {
    const std::vector<double> two_levels = {25100, 40800, 24800, 41500, 25300, 40200, 39900, 25050};
    const bimodality b = detect_bimodal(two_levels);
    CHECK(b.bimodal);
    CHECK(b.low_median == doctest::Approx(25075).epsilon(0.01));
    CHECK(b.high_median == doctest::Approx(40500).epsilon(0.01));
    CHECK(b.low_count == 4);
    CHECK(b.high_count == 4);
}

TEST_CASE("ordinary noise, a single outlier and too few samples are not called bimodal") {
    CHECK_FALSE(detect_bimodal(noisy(30000, 900, 12, 8)).bimodal);
    CHECK_FALSE(detect_bimodal(std::vector<double>{30000, 30100, 29900, 30050, 18000, 30020, 29950}).bimodal);
    CHECK_FALSE(detect_bimodal(std::vector<double>{25000, 25100, 40000, 40100}).bimodal);  // 4 samples: cannot tell
    CHECK_FALSE(detect_bimodal(std::vector<double>{1000, 1010, 1040, 1050, 1005, 1045}).bimodal);  // < 15% apart
}

TEST_CASE("with no decisive loss anywhere the plan keeps the simplest backend") {
    const loss_rows all_ties(20, std::vector<double>{0, 0, 0});
    const plan_choice p = choose_plan(all_ties);
    REQUIRE(p.segments.size() == 1);
    CHECK(p.segments[0].backend == 0);
    CHECK(p.worst_loss == 0);
}

TEST_CASE("a clean crossover gives one switch, placed as late as the measurements allow") {
    // Sizes 0-4: serial fine, parallel loses; 5-6: all tie; 7+: serial loses 40%.
    loss_rows loss;
    for (int s = 0; s < 5; ++s) loss.push_back({0, 0.3, 0.5});
    for (int s = 5; s < 7; ++s) loss.push_back({0, 0, 0});
    for (int s = 7; s < 12; ++s) loss.push_back({0.4, 0, 0.1});
    const plan_choice p = choose_plan(loss);
    REQUIRE(p.segments.size() == 2);
    CHECK(p.segments[0].backend == 0);
    CHECK(p.segments[1].backend == 1);
    CHECK(p.segments[1].first_index == 7);  // ties keep the simpler backend
    CHECK(p.worst_loss == 0);
}

TEST_CASE("serial never returns above a parallel range, whatever a noisy size says") {
    loss_rows loss;
    for (int s = 0; s < 4; ++s) loss.push_back({0, 0.2, 0.2});
    for (int s = 4; s < 8; ++s) loss.push_back({0.3, 0, 0});
    loss.push_back({0, 0.05, 0.05});  // one noisy size where serial looks best
    for (int s = 9; s < 12; ++s) loss.push_back({0.3, 0, 0});
    const plan_choice p = choose_plan(loss);
    for (std::size_t k = 1; k < p.segments.size(); ++k) CHECK(p.segments[k].backend != 0);
    CHECK(p.segments.front().backend == 0);
    CHECK(p.worst_loss == doctest::Approx(0.05));
}

TEST_CASE("a backend order other than serial, work_stealing, pipeline is followed when measured") {
    loss_rows loss;
    for (int s = 0; s < 3; ++s) loss.push_back({0, 0.3, 0.3});
    for (int s = 3; s < 6; ++s) loss.push_back({0.5, 0.2, 0});
    for (int s = 6; s < 9; ++s) loss.push_back({0.5, 0, 0.2});
    const plan_choice p = choose_plan(loss);
    REQUIRE(p.segments.size() == 3);
    CHECK(p.segments[1].backend == 2);
    CHECK(p.segments[1].first_index == 3);
    CHECK(p.segments[2].backend == 1);
    CHECK(p.segments[2].first_index == 6);
}

TEST_CASE("a parallel backend that only ties serial at small sizes does not run from the first byte") {
    // work_stealing ties serial up to size 5 and wins from 6 on: "work_stealing
    // everywhere" has one segment, but the opening serial segment is not counted
    // against the plan, so serial keeps the small sizes.
    loss_rows loss;
    for (int s = 0; s < 6; ++s) loss.push_back({0, 0, 0.2});
    for (int s = 6; s < 12; ++s) loss.push_back({0.3, 0, 0.1});
    const plan_choice p = choose_plan(loss);
    REQUIRE(p.segments.size() == 2);
    CHECK(p.segments[0].backend == 0);
    CHECK(p.segments[1].backend == 1);
}

TEST_CASE("a plan opening with serial is kept even where a parallel opening had less loss so far") {
    // Both plans below have worst loss 0.05; serial, serial, pipeline counts one
    // segment (the opening serial one is free), work_stealing, work_stealing,
    // pipeline counts two.
    const loss_rows first = {{0.05, 0, 0}, {0.05, 0, 0.30}, {0.30, 0.30, 0.05}};
    const plan_choice p = choose_plan(first, 3);
    REQUIRE(p.segments.size() == 2);
    CHECK(p.segments[0].backend == 0);
    CHECK(p.segments[1].backend == 2);
    CHECK(p.segments[1].first_index == 2);
    const loss_rows second = {{0.05, 0.30, 0}, {0.30, 0.05, 0.30}, {0, 0, 0.30}};
    const plan_choice q = choose_plan(second, 2);
    REQUIRE(q.segments.size() == 2);
    CHECK(q.segments[0].backend == 0);
    CHECK(q.segments[1].backend == 1);
}

namespace {
// Sizes 2^k KiB with samples such that the given per-backend loss pattern holds.
std::vector<size_analysis> analysed(const loss_rows& loss) {
    std::vector<size_analysis> sizes;
    for (std::size_t i = 0; i < loss.size(); ++i) {
        size_analysis a;
        a.size_bytes = std::uint64_t{1024} << i;
        for (std::size_t b = 0; b < 3; ++b) a.loss[b] = loss[i][b];
        sizes.push_back(a);
    }
    return sizes;
}
}  // namespace

TEST_CASE("a switch point goes mid-way through the sizes where both backends tie") {
    // serial fine to 16 KiB (index 4); work_stealing ties from 4 KiB (index 2); serial
    // loses from 32 KiB (index 5): the crossover lies in 4-32 KiB.
    loss_rows loss;
    for (int s = 0; s < 2; ++s) loss.push_back({0, 0.3, 0.3});
    for (int s = 2; s < 5; ++s) loss.push_back({0, 0, 0.3});
    for (int s = 5; s < 9; ++s) loss.push_back({0.4, 0, 0.3});
    const plan_choice p = choose_plan(loss);
    REQUIRE(p.segments.size() == 2);
    CHECK(p.segments[1].first_index == 5);
    const auto points = switch_points_from(analysed(loss), p);
    REQUIRE(points.size() == 1);
    CHECK(points[0].how == calib64::backend::work_stealing);
    // geometric middle of 4 KiB and 32 KiB: about 11.3 KiB
    CHECK(points[0].from_bytes > 10 * 1024);
    CHECK(points[0].from_bytes < 12 * 1024);
    CHECK(points[0].ci_low_bytes == 4 * 1024);
    CHECK(points[0].ci_high_bytes >= 32 * 1024);
}

TEST_CASE("a switch point with no tie before it stays at the first size the new backend wins") {
    loss_rows loss;
    for (int s = 0; s < 4; ++s) loss.push_back({0, 0.2, 0.3});
    for (int s = 4; s < 8; ++s) loss.push_back({0.3, 0, 0.3});
    const auto points = switch_points_from(analysed(loss), choose_plan(loss));
    REQUIRE(points.size() == 1);
    CHECK(points[0].from_bytes == 16 * 1024);
}

namespace {
// Validation at one size: auto ran `runs`; samples per backend {serial, work_stealing, pipeline}.
validation_input validation_case(calib64::backend runs, std::array<double, 3> levels, double auto_level) {
    validation_input in;
    in.size_bytes = 107 * 1024;
    in.auto_runs = runs;
    in.auto_samples = noisy(auto_level, 0.5, 15, 1);
    for (std::size_t b = 0; b < 3; ++b) in.samples[b] = noisy(levels[b], 0.5, 15, 2 + b);
    in.same_call[backend_index(runs)] = true;
    return in;
}
}  // namespace

TEST_CASE("validation repairs a switch point only where auto lost decisively to a call it did not make") {
    // auto ran work_stealing at 50; serial did 100: a misplaced switch.
    const validation_detail lost = judge_validation(validation_case(calib64::backend::work_stealing, {100, 50, 40}, 50), 3);
    CHECK(lost.rival == "serial");
    CHECK(lost.row.auto_over_best < 0.6);
    CHECK(calls_for_repair(lost));
    // The same loss within noise, or a call auto made itself, or above target: no repair.
    validation_detail within_noise = lost;
    within_noise.auto_vs_rival.outcome = verdict::tie;
    CHECK_FALSE(calls_for_repair(within_noise));
    const validation_detail on_target = judge_validation(validation_case(calib64::backend::work_stealing, {100, 99, 40}, 99), 3);
    CHECK_FALSE(calls_for_repair(on_target));
    const validation_detail own_call = judge_validation(validation_case(calib64::backend::serial, {100, 50, 40}, 96), 3);
    CHECK(own_call.same_call == "serial");
    CHECK(own_call.rival == "work_stealing");
    CHECK_FALSE(calls_for_repair(own_call));  // 96 vs its own call's 100 is noise, not a misplaced switch
}

TEST_CASE("a loss to a parallel backend that ran one chunk is a loss to serial, and calls for the repair") {
    // The 107 KiB case: auto ran work_stealing (two chunks) at 37; pipeline cut the size
    // into one chunk (serial's work) and did 80.
    validation_input in = validation_case(calib64::backend::work_stealing, {78, 37, 80}, 37);
    in.serial_work[2] = true;
    const validation_detail v = judge_validation(in, 5);
    CHECK(v.rival == "pipeline");
    CHECK(v.best_single_chunk);
    CHECK(calls_for_repair(v));
    // When auto itself runs serial, a one-chunk parallel call is the same work, not a rival.
    validation_input serial_auto = validation_case(calib64::backend::serial, {78, 37, 80}, 78);
    serial_auto.serial_work[2] = true;
    const validation_detail s = judge_validation(serial_auto, 5);
    CHECK(s.rival == "work_stealing");
    CHECK_FALSE(calls_for_repair(s));
}

TEST_CASE("auto's own call is compared apart, and a size where every backend makes it is equal by construction") {
    validation_input in = validation_case(calib64::backend::serial, {100, 50, 40}, 99);
    in.serial_work = {false, true, true};
    in.same_call = {true, false, false};
    const validation_detail v = judge_validation(in, 9);
    CHECK(v.rival.empty());
    CHECK(v.row.auto_over_best == 1);
    CHECK(v.auto_vs_same.ratio.mid == doctest::Approx(0.99).epsilon(0.02));
}

TEST_CASE("the expected-time throughput counts the stalls a median hides") {
    std::vector<double> samples(9, 100.0);
    samples.push_back(10.0);  // one stalled sample
    CHECK(median(samples) == 100.0);
    CHECK(harmonic_mean(samples) == doctest::Approx(10.0 / (9.0 / 100 + 1.0 / 10)));
    CHECK(harmonic_mean(samples) < 55);
    const interval iv = bootstrap_harmonic_ci(samples, 4);
    CHECK(iv.low <= iv.mid);
    CHECK(iv.mid <= iv.high);
    CHECK(harmonic_mean(std::vector<double>{}) == 0);
    CHECK(quantile(samples, 0.10) < 100);
}

TEST_CASE("a backend whose median wins but whose stalls cost more loses the paired comparison") {
    // a: fast most rounds, under half speed in a quarter of them; b: steady. (Stalls
    // widen the interval: it takes more rounds to decide than steady samples do.)
    std::vector<double> a, b;
    for (int r = 0; r < 60; ++r) {
        a.push_back(r % 4 == 0 ? 45 : 110);
        b.push_back(100);
    }
    CHECK(median(a) > median(b));
    const paired_comparison c = compare_paired(a, b, 0.03, 11);
    CHECK(c.ratio.mid < 1);
    CHECK(c.outcome == verdict::b_wins);
}

TEST_CASE("a parallel backend running one chunk is never the best at that size, however its samples look") {
    size_analysis a;
    a.size_bytes = 4096;
    a.samples[0] = noisy(100, 1, 15, 1);
    a.samples[1] = noisy(99, 1, 15, 2);
    a.samples[2] = noisy(108, 1, 15, 3);  // a phantom 8% "win": it ran serial's work
    a.single_chunk = {false, true, true};
    analyse_size(a, 7);
    CHECK(a.best == 0);
    CHECK(a.loss[0] == 0);
    size_analysis counted = a;
    counted.single_chunk = {false, false, false};  // really split: the win counts
    analyse_size(counted, 7);
    CHECK(counted.best == 2);
    CHECK(counted.loss[0] > 0);
}

TEST_CASE("geometric midpoints are rounded to whole quanta") {
    CHECK(geometric_midpoint(1 << 20, 4 << 20, 1) == 2u << 20);
    const auto m = geometric_midpoint(1000, 3001, 4);
    CHECK(m % 4 == 0);
    CHECK(m > 1000);
    CHECK(m < 3001);
}

TEST_CASE("the aggregate cpu line of /proc/stat is parsed, steal included") {
    const auto t = parse_proc_stat("cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 1 2 3 4\n");
    REQUIRE(t.has_value());
    CHECK(t->busy == 160);
    CHECK(t->idle == 1020);
    CHECK(t->steal == 7);
    CHECK_FALSE(parse_proc_stat("intr 1 2 3").has_value());
}

TEST_CASE("the SVG writer produces well-formed XML, escaping labels") {
    svg_chart c;
    c.title = "encode <fast> & \"safe\"";
    c.x_label = "size";
    c.y_label = "MB/s";
    svg_series s;
    s.label = "work_stealing & co";
    s.color = "#d62728";
    for (double x = 4096; x <= 1e8; x *= 2) {
        s.x.push_back(x);
        s.y.push_back(1000 + x / 1e5);
        s.y_low.push_back(900 + x / 1e5);
        s.y_high.push_back(1100 + x / 1e5);
    }
    c.series.push_back(s);
    c.markers.push_back({1 << 20, "L2 <1 MiB>", "#999"});
    const std::string svg = render_svg(c);
    std::string why;
    CHECK_MESSAGE(well_formed_xml(svg, why), why);
    CHECK(svg.find("encode &lt;fast&gt; &amp; &quot;safe&quot;") != std::string::npos);
    CHECK(svg.find("<polygon") != std::string::npos);   // the interval band
    CHECK(svg.find("<polyline") != std::string::npos);  // the median line
    // An empty chart is still a valid document.
    CHECK(well_formed_xml(render_svg(svg_chart{}), why));
    // The checker itself rejects broken markup.
    CHECK_FALSE(well_formed_xml("<svg><g></svg>", why));
    CHECK_FALSE(well_formed_xml("<svg>a & b</svg>", why));
}

TEST_CASE("calibrate rejects unknown arguments and bad values with status 2") {
    const char* a1[] = {"calibrate", "--bogus"};
    CHECK(calib64::run_calibrate(2, const_cast<char**>(a1)) == 2);
    const char* a2[] = {"calibrate", "--seed", "-x"};
    CHECK(calib64::run_calibrate(3, const_cast<char**>(a2)) == 2);
    const char* a3[] = {"calibrate", "--max-size", "12 parsecs"};
    CHECK(calib64::run_calibrate(3, const_cast<char**>(a3)) == 2);
}

TEST_CASE("calibrate --quick runs end to end and writes a valid profile, report, raw data and charts") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("calib64-calibrate-test-" + std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir);
    const std::string out = dir.string();
    const char* argv[] = {"calibrate", "--quick", "--no-progress", "--no-wait", "--seed", "7", "--out", out.c_str()};
    REQUIRE(calib64::run_calibrate(8, const_cast<char**>(argv)) == 0);

    const auto loaded = calib64::runtime::load_profile(dir / "profile.json");
    for (const auto& e : loaded.errors) MESSAGE(calib64::runtime::to_string(e));
    REQUIRE(loaded.ok());
    const auto& p = *loaded.value;
    CHECK(p.host.fingerprint == calib64::runtime::fingerprint(calib64::runtime::host_topology()));
    CHECK(p.encode.kernel != calib64::kernel_id::automatic);
    CHECK(p.decode.kernel != calib64::kernel_id::automatic);
    CHECK(p.encode.tuning.size() == 2);
    CHECK_FALSE(p.validation.empty());
    for (const auto& v : p.validation) {
        CHECK(v.auto_mb_per_s > 0);
        CHECK(v.backend_mb_per_s.size() == 3);
        CHECK(v.auto_over_best > 0);
    }
    bool memcpy_curve = false;
    for (const auto& c : p.curves) memcpy_curve = memcpy_curve || c.op == "memcpy";
    CHECK(memcpy_curve);

    const std::string report = slurp(dir / "report.md");
    for (const char* section : {"## Host", "## Machine", "### Drift", "## Roofline", "## Kernels", "## Sweep: encode",
                                "## Sweep: decode", "## Switch points", "## Head to head", "## Validation", "## Duration",
                                "(encode.svg)", "(decode.svg)"})
        CHECK_MESSAGE(report.find(section) != std::string::npos, section);
    for (const char* chart : {"encode.svg", "decode.svg"}) {
        std::string why;
        CHECK_MESSAGE(well_formed_xml(slurp(dir / chart), why), chart, ": ", why);
    }
    const auto raw = nlohmann::json::parse(slurp(dir / "benchmark-raw.json"));
    CHECK(raw["benchmarks"].size() > 100);
    CHECK(raw["benchmarks"][0].contains("real_time"));
    CHECK(raw["benchmarks"][0]["calib64"].contains("round"));
    // Nothing half-written is left behind.
    for (const auto& f : std::filesystem::directory_iterator(dir))
        CHECK_MESSAGE(f.path().string().find(".tmp") == std::string::npos, f.path().string());

    // report compare: the same profile twice, side by side.
    const std::string compared = compare_profiles(p, p, "a", "b");
    CHECK(compared.find(p.host.host_id) != std::string::npos);
    CHECK(compared.find("encode backends") != std::string::npos);
    const char* cmp_ok[] = {"compare", out.c_str(), out.c_str()};
    CHECK(calib64::run_report_compare(3, const_cast<char**>(cmp_ok)) == 0);
    const std::string missing = (dir / "nope.json").string();
    const char* cmp_bad[] = {"compare", out.c_str(), missing.c_str()};
    CHECK(calib64::run_report_compare(3, const_cast<char**>(cmp_bad)) == 1);
    const char* cmp_usage[] = {"compare", out.c_str()};
    CHECK(calib64::run_report_compare(2, const_cast<char**>(cmp_usage)) == 2);
    const char* cmp_unknown[] = {"compare", "--bogus", out.c_str(), out.c_str()};
    CHECK(calib64::run_report_compare(4, const_cast<char**>(cmp_unknown)) == 2);

    // report compare --measure: profiles that differ only in encode's switch points
    // are measured where their calls differ and reported "same call" elsewhere.
    auto parallel_encode = p, serial_encode = p;
    parallel_encode.encode.switch_points = {{1, calib64::backend::work_stealing, 1, 1, "test"}};
    serial_encode.encode.switch_points.clear();
    std::string error;
    const std::string measured = measure_profiles(parallel_encode, serial_encode, 1.0, 3, error);
    CHECK(error.empty());
    CHECK(measured.find("## Measured side by side") != std::string::npos);
    CHECK(measured.find("| encode | ") != std::string::npos);
    CHECK(measured.find("work_stealing/") != std::string::npos);
    CHECK(measured.find("same call") != std::string::npos);  // decode: identical profiles
    std::filesystem::remove_all(dir);
}
