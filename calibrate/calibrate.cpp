// The calibration driver: phases, analysis, profile. The method is documented in
// docs/calibration.md; the numbers it uses (noise band, interval width) live in
// internal.h.
#include "calibrate.h"

#include <calib64/calib64.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "engine.h"
#include "internal.h"
#include "runtime/settings.h"

namespace calib64::calib {

namespace {

using runtime::operation;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

mode_config quick_mode() {
    return {.name = "quick", .roofline_s = 0.8, .kernels_s = 0.8, .tuning_s = 1.0, .sweep_s = 4.0, .refine_s = 1.2,
            .validation_s = 2.0, .min_rounds = 3, .max_rounds = 4, .min_sample_s = 0.3e-3, .max_sample_s = 1.5e-3,
            .grid_per_octave = 1, .dense_per_octave = 1, .all_note_points = false, .refine_depth = 1,
            .validation_sizes = 4, .chunk_bytes = {0, 1u << 20}};
}
mode_config default_mode() {
    return {.name = "default", .roofline_s = 4, .kernels_s = 4, .tuning_s = 9, .sweep_s = 40, .refine_s = 8,
            .validation_s = 12, .min_rounds = 5, .max_rounds = 25, .min_sample_s = 0.5e-3, .max_sample_s = 3e-3,
            .grid_per_octave = 2, .dense_per_octave = 4, .all_note_points = true, .refine_depth = 2,
            .validation_sizes = 8, .chunk_bytes = {0, 256u << 10, 1u << 20, 4u << 20}};
}
mode_config thorough_mode() {
    return {.name = "thorough", .roofline_s = 15, .kernels_s = 15, .tuning_s = 40, .sweep_s = 150, .refine_s = 40,
            .validation_s = 40, .min_rounds = 9, .max_rounds = 31, .min_sample_s = 1e-3, .max_sample_s = 10e-3,
            .grid_per_octave = 3, .dense_per_octave = 8, .all_note_points = true, .refine_depth = 3,
            .validation_sizes = 12, .chunk_bytes = {0, 64u << 10, 256u << 10, 1u << 20, 4u << 20, 16u << 20}};
}

constexpr std::uint64_t kib = 1024, mib = 1024 * 1024, mb = 1000 * 1000;

// ------------------------------------------------------------------ sizes

// A log grid from 4 KiB to `max_bytes`, denser between 1 and 32 MiB (where the
// L2 and L3 edges fall on most machines), plus the 1-100 MB points of the note the
// project grew from. Decode sizes are rounded to whole quanta (multiples of 4).
std::vector<std::uint64_t> size_grid(const mode_config& m, std::uint64_t max_bytes, std::uint64_t granule) {
    std::set<std::uint64_t> sizes;
    auto add = [&](double s) {
        auto v = static_cast<std::uint64_t>(std::llround(s / static_cast<double>(granule))) * granule;
        if (v >= granule && v <= max_bytes) sizes.insert(v);
    };
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

// Held-out validation sizes: log-uniform between 6 KiB and 90% of the largest
// size, jittered off any measured size and off round numbers.
std::vector<std::uint64_t> validation_sizes(int count, std::uint64_t max_bytes, std::uint64_t granule,
                                            const std::set<std::uint64_t>& taken, std::mt19937_64& rng) {
    std::vector<std::uint64_t> out;
    const double lo = std::log2(6.0 * kib), hi = std::log2(static_cast<double>(max_bytes) * 0.9);
    for (int i = 0; i < count; ++i) {
        // One size per stratum, so they spread over the whole range.
        std::uniform_real_distribution<double> u(lo + (hi - lo) * i / count, lo + (hi - lo) * (i + 1) / count);
        for (int attempt = 0; attempt < 100; ++attempt) {
            auto v = static_cast<std::uint64_t>(std::exp2(u(rng))) / granule * granule + granule * 7;
            bool near_taken = false;
            for (std::uint64_t t : taken)
                if (std::abs(static_cast<double>(t) - static_cast<double>(v)) < 0.01 * static_cast<double>(t)) near_taken = true;
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

// ------------------------------------------------------------------ memcpy team

// memcpy split over `parts` threads that live for the whole phase (creating
// threads per call would measure thread creation, not bandwidth).
class copy_team {
public:
    explicit copy_team(unsigned parts) : parts_(std::max(1u, parts)) {
        for (unsigned i = 1; i < parts_; ++i) workers_.emplace_back([this, i] { work(i); });
    }
    ~copy_team() {
        stop_ = true;
        generation_.fetch_add(1);
        generation_.notify_all();
        for (auto& t : workers_) t.join();
    }
    void copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
        dst_ = dst;
        src_ = src;
        n_ = n;
        pending_.store(parts_ - 1);
        generation_.fetch_add(1);
        generation_.notify_all();
        part(0);
        for (unsigned left = pending_.load(); left != 0; left = pending_.load()) pending_.wait(left);
    }

private:
    void part(unsigned i) {
        const std::size_t per = (n_ / parts_ + 63) / 64 * 64;
        const std::size_t begin = std::min(n_, per * i), end = i + 1 == parts_ ? n_ : std::min(n_, per * (i + 1));
        if (end > begin) std::memcpy(dst_ + begin, src_ + begin, end - begin);
    }
    void work(unsigned i) {
        std::uint64_t seen = 0;
        for (;;) {
            generation_.wait(seen);
            seen = generation_.load();
            if (stop_) return;
            part(i);
            if (pending_.fetch_sub(1) == 1) pending_.notify_one();
        }
    }
    unsigned parts_;
    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<unsigned> pending_{0};
    std::atomic<bool> stop_{false};
    std::uint8_t* dst_ = nullptr;
    const std::uint8_t* src_ = nullptr;
    std::size_t n_ = 0;
};

// ------------------------------------------------------------------ buffers

struct buffers {
    std::vector<std::uint8_t> src;      // random bytes, a multiple of 3 long
    std::string encoded;                // encode(src): no padding anywhere
    std::vector<char> out_chars;        // encode output
    std::vector<std::uint8_t> out_bytes;  // decode / memcpy output

    explicit buffers(std::uint64_t max_bytes, std::uint64_t seed) {
        src.resize((max_bytes + 2) / 3 * 3);
        // splitmix64: cheap, and random enough that no kernel sees a pattern.
        std::uint64_t state = seed ^ 0x9e3779b97f4a7c15ull;
        for (std::size_t i = 0; i + 8 <= src.size(); i += 8) {
            std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            std::memcpy(src.data() + i, &z, 8);
        }
        encoded.resize(encoded_length(src.size()));
        (void)calib64::encode(src, std::span<char>(encoded.data(), encoded.size()));
        out_chars.assign(encoded.size() + 64, 0);  // touched now: no page faults in timing
        out_bytes.assign(src.size() + 64, 0);
    }
    std::span<const std::uint8_t> in_bytes(std::uint64_t n) const { return {src.data(), static_cast<std::size_t>(n)}; }
    std::string_view in_chars(std::uint64_t n) const { return {encoded.data(), static_cast<std::size_t>(n)}; }

    std::string verify_encoded(std::uint64_t n) const {
        const std::size_t whole = n / 3 * 4;
        if (std::memcmp(out_chars.data(), encoded.data(), whole) != 0) return "encoded text differs from the scalar reference";
        const std::string tail = calib64::encode(std::string_view(reinterpret_cast<const char*>(src.data()) + n / 3 * 3, n % 3));
        if (std::memcmp(out_chars.data() + whole, tail.data(), tail.size()) != 0) return "encoded tail differs from the reference";
        return {};
    }
    std::string verify_decoded(std::uint64_t chars) const {
        if (std::memcmp(out_bytes.data(), src.data(), chars / 4 * 3) != 0) return "decoded bytes differ from the input";
        return {};
    }
};

// ------------------------------------------------------------------ helpers

std::array<operation, 2> ops = {operation::encode, operation::decode};
std::string op_name(operation op) { return std::string(runtime::operation_name(op)); }
std::uint64_t granule_of(operation op) { return op == operation::encode ? 1 : 4; }

// One timed call of `op` through `how` on the first `n` bytes / characters.
std::function<bool()> op_call(buffers& buf, operation op, backend how, kernel_id k, parallel_options par, std::uint64_t n) {
    if (op == operation::encode)
        return [&buf, how, k, par, n] {
            encode_options o;
            o.kernel = k;
            return encode_with(how, buf.in_bytes(n), std::span<char>(buf.out_chars), o, par).ok();
        };
    return [&buf, how, k, par, n] {
        decode_options o;
        o.kernel = k;
        return decode_with(how, buf.in_chars(n), std::span<std::uint8_t>(buf.out_bytes), o, par).ok();
    };
}

std::function<std::string()> op_verify(const buffers& buf, operation op, std::uint64_t n) {
    if (op == operation::encode) return [&buf, n] { return buf.verify_encoded(n); };
    return [&buf, n] { return buf.verify_decoded(n); };
}

// A parallel backend that cuts `size` into one chunk runs serial's work.
bool runs_one_chunk(operation op, backend b, const parallel_options& par, std::uint64_t size) {
    if (b == backend::serial) return false;
    return (op == operation::encode ? encode_chunk_count(size, par) : decode_chunk_count(size, par)) <= 1;
}

// A bootstrap seed for one statistic: the calibration's seed, the size it is about,
// and its salt (plus an offset within the salt's range).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, salt s, std::uint64_t offset = 0) {
    const std::uint64_t b = static_cast<std::uint64_t>(s) + offset;
    std::uint64_t h = seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

// Runs one phase: probe (warm-up + output check), plan rounds to fit the budget, run.
struct phase_runner {
    engine& eng;
    progress& prog;
    calibration& cal;
    std::string error;

    bool run(const std::string& name, std::vector<cell>& cells, double budget_s, double share) {
        const auto t0 = clock_type::now();
        prog.begin_phase(name, share);
        error = eng.probe(cells);
        if (!error.empty()) return false;
        const double left = std::max(budget_s - seconds_since(t0), budget_s * 0.3);
        const int rounds = eng.plan(cells, left, cal.mode.min_rounds, cal.mode.max_rounds, cal.mode.min_sample_s,
                                    cal.mode.max_sample_s);
        if (!eng.run(cells, rounds, cal.mode.min_rounds, left)) {
            error = eng.error();
            return false;
        }
        prog.end_phase();
        cal.phases.push_back({name, seconds_since(t0), eng.rounds_run(), cells.size()});
        return true;
    }
};

// Which rounds were in the high mode of a bimodal sample (empty when not bimodal).
std::vector<int> mode_labels(const std::vector<double>& samples, const bimodality& b) {
    if (!b.bimodal) return {};
    std::vector<int> labels;
    for (double s : samples) labels.push_back(s > b.split ? 1 : 0);
    return labels;
}

std::vector<std::vector<double>> loss_matrix(const std::vector<size_analysis>& sizes) {
    std::vector<std::vector<double>> loss;
    for (const auto& s : sizes) loss.push_back({s.loss[0], s.loss[1], s.loss[2]});
    return loss;
}

std::string ratio_words(const interval& r) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.2fx (95%% CI %.2f-%.2f)", r.mid, r.low, r.high);
    return buf;
}

using detail::backend_index;  // the index of samples, loss, single_chunk

}  // namespace

void analyse_size(size_analysis& a, std::uint64_t seed) {
    for (std::size_t b = 0; b < backend_count; ++b) {
        a.tput[b] = bootstrap_median_ci(a.samples[b], mix_seed(seed, a.size_bytes, salt::sweep_median, b));
        a.modes[b] = detect_bimodal(a.samples[b]);
    }
    a.best = 0;
    for (int b = 1; b < static_cast<int>(backend_count); ++b)
        if (!a.single_chunk[static_cast<std::size_t>(b)] &&
            a.tput[static_cast<std::size_t>(b)].mid > a.tput[static_cast<std::size_t>(a.best)].mid)
            a.best = b;
    const auto best = static_cast<std::size_t>(a.best);
    a.unstable.clear();
    for (std::size_t b = 0; b < backend_count; ++b) {
        a.loss[b] = 0;
        if (a.modes[b].bimodal) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s bimodal: %.0f and %.0f MB/s (%zu/%zu rounds)", backend_name(all_backends[b]).data(),
                          a.modes[b].low_median, a.modes[b].high_median, a.modes[b].low_count, a.modes[b].high_count);
            a.unstable.push_back(buf);
        } else if (a.tput[b].relative_width() > wide_interval) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s interval %.0f%% wide", backend_name(all_backends[b]).data(),
                          a.tput[b].relative_width() * 100);
            a.unstable.push_back(buf);
        }
        if (b == best) continue;
        // A bimodal reference splits the rounds: the best must beat b in both machine
        // states, or b counts as tied (safe under both).
        std::vector<int> labels = mode_labels(a.samples[best], a.modes[best]);
        if (labels.empty()) labels = mode_labels(a.samples[b], a.modes[b]);
        a.best_vs[b] = compare_paired(a.samples[best], a.samples[b], noise_band, mix_seed(seed, a.size_bytes, salt::sweep_paired, b), labels);
        if (a.best_vs[b].outcome == verdict::a_wins) a.loss[b] = 1 - 1 / a.best_vs[b].ratio.mid;
    }
}

// Switch points from a plan over the analysed sizes, with the interval over which
// the switch could move without a measurable loss.
std::vector<runtime::switch_point> switch_points_from(const std::vector<size_analysis>& sizes, const plan_choice& plan) {
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
        // Last size up to which the previous backend stays measurably fine.
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
        // Why: the new backend against the previous one at the switch size.
        const interval r = [&] {
            std::vector<double> ratios;
            for (std::size_t j = 0; j < at.samples[nb].size() && j < at.samples[pb].size(); ++j)
                if (at.samples[pb][j] > 0) ratios.push_back(at.samples[nb][j] / at.samples[pb][j]);
            return bootstrap_median_ci(ratios, at.size_bytes);
        }();
        sp.reason = std::string(backend_name(sp.how)) + " from " + format_size(sp.from_bytes) + ": " +
                    std::string(backend_name(sp.how)) + "/" + std::string(backend_name(all_backends[pb])) + " = " +
                    ratio_words(r) + " at " + format_size(at.size_bytes) + (centred ? ", placed mid-way through the sizes where they tie" : "") +
                    "; the switch could lie anywhere in " + format_size(sp.ci_low_bytes) + "-" +
                    format_size(sp.ci_high_bytes) + " without a measured loss";
        out.push_back(sp);
    }
    return out;
}

// ------------------------------------------------------------------ the driver

namespace {

struct cli_options {
    mode_config mode = default_mode();
    std::filesystem::path out_dir;
    std::optional<std::uint64_t> seed;
    bool progress = true;
    std::optional<std::uint64_t> max_bytes;  // default: 100 MiB, quick: 32 MiB
};

void print_usage(std::FILE* to) {
    std::fputs(
        "usage: calib64 calibrate [--quick | --thorough] [--out DIR] [--seed N] [--max-size SIZE] [--no-progress]\n"
        "\n"
        "Measures this host and writes DIR (default results/<host-id>/): profile.json,\n"
        "report.md, benchmark-raw.json and SVG charts.\n"
        "  --quick       about 15 s, coarse (CI, smoke tests)\n"
        "  (default)     about 90 s on a 2-core machine\n"
        "  --thorough    several minutes, more sizes and rounds\n"
        "  --out DIR     where to write the results\n"
        "  --seed N      random order and validation sizes (default: random, recorded)\n"
        "  --max-size S  largest size measured (default 100MiB, quick 32MiB)\n"
        "  --no-progress no progress output on stderr\n",
        to);
}

// SIGINT only sets a flag (measurements stop at the next run); a second Ctrl-C
// kills as usual. Restored when the calibration ends.
struct interrupt_guard {
    struct sigaction old_int {};
    struct sigaction old_term {};
    interrupt_guard() {
        interrupted = false;
        struct sigaction sa {};
        sa.sa_handler = [](int) { interrupted = true; };
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    ~interrupt_guard() {
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
    }
};

bool m_is_quick(const mode_config& m) { return m.name == "quick"; }

int fail(const std::string& what, bool was_interrupted) {
    if (was_interrupted) {
        std::fprintf(stderr, "\ncalibrate: interrupted; nothing was written (no partial profile).\n");
        return 130;
    }
    std::fprintf(stderr, "\ncalibrate: %s; nothing was written.\n", what.c_str());
    return 1;
}

}  // namespace

int calibrate_main(int argc, char** argv) {
    cli_options opt;
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
            if (errno != 0 || end == v || *end != '\0') {
                std::fprintf(stderr, "calibrate: --seed wants a non-negative integer, not \"%s\"\n", v);
                return 2;
            }
            opt.seed = s;
        } else if (a == "--max-size") {
            const char* v = value("--max-size");
            if (!v) return 2;
            std::string why;
            const auto s = common::parse_size(v, &why);
            if (!s || *s < 64 * kib) {
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

    const auto t_start = clock_type::now();
    interrupt_guard guard;
    calibration cal;
    cal.mode = opt.mode;
    cal.seed = opt.seed ? *opt.seed : std::random_device{}() * 0x100000001ull ^ std::random_device{}();
    cal.topo = runtime::host_topology();
    cal.host_id = runtime::host_id(cal.topo);
    cal.out_dir = opt.out_dir.empty() ? std::filesystem::path("results") / cal.host_id : opt.out_dir;
    const unsigned cpus = std::max(1u, cal.topo.usable_cpus);
    // Quick mode stops at 32 MiB (the L3 edge on this class of machine): the 100 MiB
    // buffers alone cost seconds to fill on a busy machine.
    const std::uint64_t max_bytes = opt.max_bytes ? *opt.max_bytes : m_is_quick(opt.mode) ? 32 * mib : 100 * mib;

    progress prog(opt.progress);
    engine eng(cal.seed, prog);
    phase_runner phase{eng, prog, cal, {}};
    const mode_config& m = cal.mode;
    const double total_budget = m.roofline_s + m.kernels_s + m.tuning_s + m.sweep_s + m.refine_s + m.validation_s;
    auto share = [&](double s) { return s / total_budget; };

    // 1. Machine check.
    cal.check_before = check_machine(cpus);
    for (const auto& w : cal.check_before.warnings) std::fprintf(stderr, "calibrate: warning: %s\n", w.c_str());

    buffers buf(max_bytes, cal.seed);
    cal.phases.push_back({"setup (probe, machine check, buffers)", seconds_since(t_start), 0, 0});

    // 2. Roofline: memcpy with one thread and with all usable threads.
    {
        copy_team team(cpus);
        std::vector<cell> cells;
        for (std::uint64_t s = 4 * kib; s <= max_bytes; s *= (m.grid_per_octave >= 2 ? 2 : 4)) {
            for (int all : {0, 1}) {
                cell c;
                c.phase = "roofline";
                c.op = "memcpy";
                c.series = all ? "all_threads" : "1_thread";
                c.size_bytes = s;
                c.block = "memcpy/" + std::to_string(s);
                if (all) c.run_once = [&buf, &team, s] { team.copy(buf.out_bytes.data(), buf.src.data(), s); return true; };
                else c.run_once = [&buf, s] { std::memcpy(buf.out_bytes.data(), buf.src.data(), s); return true; };
                cells.push_back(std::move(c));
            }
        }
        if (!phase.run("roofline", cells, m.roofline_s, share(m.roofline_s))) return fail(phase.error, interrupted);
        for (const char* series : {"1_thread", "all_threads"}) {
            runtime::curve cv{"memcpy", series, {}};
            for (const cell& c : cells) {
                if (c.series != series) continue;
                const interval iv = bootstrap_median_ci(c.mb_per_s, mix_seed(cal.seed, c.size_bytes, salt::roofline_median));
                cv.points.push_back({c.size_bytes, iv.mid, iv.low, iv.high});
                const bimodality bm = detect_bimodal(c.mb_per_s);
                if (bm.bimodal) {
                    char buf2[200];
                    std::snprintf(buf2, sizeof buf2, "memcpy bandwidth switched between %.0f and %.0f MB/s across rounds",
                                  bm.low_median, bm.high_median);
                    cal.prof.stability.push_back({"memcpy", series, c.size_bytes, "bimodal", buf2});
                }
            }
            cal.roofline.push_back(std::move(cv));
        }
    }

    // 3. Kernels: every available kernel, encode and decode, in and out of cache.
    const std::uint64_t in_cache = 64 * kib;
    const std::uint64_t out_cache = std::min<std::uint64_t>(max_bytes, 64 * mib) / 4 * 4;
    std::map<operation, kernel_id> chosen_kernel;
    {
        std::vector<cell> cells;
        for (operation op : ops)
            for (kernel_id k : available_kernels())
                for (std::uint64_t s : {in_cache, out_cache}) {
                    cell c;
                    c.phase = "kernels";
                    c.op = op_name(op);
                    c.series = std::string(kernel_name(k));
                    c.size_bytes = s;
                    c.block = c.op + "/" + std::to_string(s);
                    c.run_once = op_call(buf, op, backend::serial, k, {}, s);
                    c.verify = op_verify(buf, op, s);
                    cells.push_back(std::move(c));
                }
        if (!phase.run("kernels", cells, m.kernels_s, share(m.kernels_s))) return fail(phase.error, interrupted);
        for (operation op : ops) {
            const std::string name = op_name(op);
            const kernel_id reference = best_kernel();
            auto samples_of = [&](kernel_id k, std::uint64_t s) -> const std::vector<double>& {
                for (const cell& c : cells)
                    if (c.op == name && c.series == kernel_name(k) && c.size_bytes == s) return c.mb_per_s;
                static const std::vector<double> none;
                return none;
            };
            kernel_id pick = reference;
            double pick_score = 1;
            for (kernel_id k : available_kernels()) {
                bool wins = false, loses = false;
                double score = 1;
                for (std::uint64_t s : {in_cache, out_cache}) {
                    kernel_row row;
                    row.op = name;
                    row.kernel = std::string(kernel_name(k));
                    row.size_bytes = s;
                    row.tput = bootstrap_median_ci(samples_of(k, s), mix_seed(cal.seed, s, salt::kernel_median, static_cast<std::uint64_t>(k)));
                    row.vs_reference = compare_paired(samples_of(k, s), samples_of(reference, s), noise_band,
                                                      mix_seed(cal.seed, s, salt::kernel_paired, static_cast<std::uint64_t>(k)));
                    wins = wins || row.vs_reference.outcome == verdict::a_wins;
                    loses = loses || row.vs_reference.outcome == verdict::b_wins;
                    score *= row.vs_reference.ratio.mid;
                    cal.kernels.push_back(row);
                }
                if (k != reference && wins && !loses && score > pick_score) {
                    pick = k;
                    pick_score = score;
                }
            }
            chosen_kernel[op] = pick;
            cal.kernel_reason[name] =
                pick == reference
                    ? std::string(kernel_name(pick)) + ": the CPU's best kernel; no other kernel beat it by more than the noise band"
                    : std::string(kernel_name(pick)) + ": beat " + std::string(kernel_name(reference)) +
                          " beyond the noise band and lost nowhere";
        }
    }

    // 4. Tune the parallel backends: threads 1..usable, a few chunk sizes.
    std::map<std::pair<operation, backend>, parallel_options> tuned;
    {
        std::vector<unsigned> thread_counts;
        for (unsigned t = 1; t < cpus; t = cpus <= 4 ? t + 1 : t * 2) thread_counts.push_back(t);
        thread_counts.push_back(cpus);
        const std::vector<std::uint64_t> tune_sizes = {std::min<std::uint64_t>(max_bytes, 4 * mib) / 4 * 4,
                                                       std::min<std::uint64_t>(max_bytes, 48 * mib) / 4 * 4};
        struct config {
            unsigned threads;
            std::uint64_t chunk;
            std::string label() const {
                return "t" + std::to_string(threads) + "/c" + std::to_string(chunk);
            }
        };
        std::vector<config> configs{{0, 0}};  // the library's defaults
        for (unsigned t : thread_counts)
            for (std::uint64_t ch : m.chunk_bytes)
                if (!(t == cpus && ch == 0)) configs.push_back({t, ch});
        std::vector<cell> cells;
        for (operation op : ops)
            for (backend b : {backend::work_stealing, backend::pipeline})
                for (const config& cf : configs)
                    for (std::uint64_t s : tune_sizes) {
                        cell c;
                        c.phase = "tuning";
                        c.op = op_name(op);
                        c.series = std::string(backend_name(b)) + "/" + cf.label();
                        c.size_bytes = s;
                        c.block = c.op + "/" + std::to_string(s);
                        parallel_options par;
                        par.threads = cf.threads;
                        par.chunk_bytes = cf.chunk;
                        c.run_once = op_call(buf, op, b, chosen_kernel[op], par, s);
                        c.verify = op_verify(buf, op, s);
                        cells.push_back(std::move(c));
                    }
        if (!phase.run("tuning", cells, m.tuning_s, share(m.tuning_s))) return fail(phase.error, interrupted);
        for (operation op : ops)
            for (backend b : {backend::work_stealing, backend::pipeline}) {
                const std::string name = op_name(op);
                const std::string prefix = std::string(backend_name(b)) + "/";
                auto samples_of = [&](const config& cf, std::uint64_t s) -> const std::vector<double>& {
                    for (const cell& c : cells)
                        if (c.op == name && c.series == prefix + cf.label() && c.size_bytes == s) return c.mb_per_s;
                    static const std::vector<double> none;
                    return none;
                };
                config pick = configs[0];
                double pick_score = 1;
                for (const config& cf : configs) {
                    bool wins = false, loses = false;
                    double score = 1;
                    for (std::uint64_t s : tune_sizes) {
                        tuning_row row;
                        row.op = name;
                        row.how = b;
                        row.threads = cf.threads;
                        row.chunk_bytes = cf.chunk;
                        row.size_bytes = s;
                        row.tput = bootstrap_median_ci(samples_of(cf, s), mix_seed(cal.seed, s, salt::tuning_median, cf.threads * 131 + cf.chunk));
                        row.vs_default = compare_paired(samples_of(cf, s), samples_of(configs[0], s), noise_band,
                                                        mix_seed(cal.seed, s, salt::tuning_paired, cf.threads * 977 + cf.chunk));
                        wins = wins || row.vs_default.outcome == verdict::a_wins;
                        loses = loses || row.vs_default.outcome == verdict::b_wins;
                        score *= row.vs_default.ratio.mid;
                        cal.tuning.push_back(row);
                    }
                    if (wins && !loses && score > pick_score) {
                        pick = cf;
                        pick_score = score;
                    }
                }
                parallel_options par;
                par.threads = pick.threads;
                par.chunk_bytes = pick.chunk;
                tuned[{op, b}] = par;
                cal.tuning_reason[name + "/" + std::string(backend_name(b))] =
                    pick.threads == 0 && pick.chunk == 0
                        ? "library defaults (all usable threads, automatic chunks): no other setting won at one size without losing at another"
                        : "threads " + std::to_string(pick.threads) + ", chunk " +
                              (pick.chunk ? format_size(pick.chunk) : std::string("automatic")) +
                              ": beat the defaults beyond the noise band and lost nowhere";
            }
    }

    // 5. Sweep sizes for every backend, then bisect where the chosen backend flips.
    std::map<operation, plan_choice> plans;
    {
        auto sweep_cells = [&](operation op, const std::vector<std::uint64_t>& sizes, const char* phase_name) {
            std::vector<cell> cells;
            for (std::uint64_t s : sizes)
                for (backend b : all_backends) {
                    cell c;
                    c.phase = phase_name;
                    c.op = op_name(op);
                    c.series = std::string(backend_name(b));
                    c.size_bytes = s;
                    c.block = c.op + "/" + std::to_string(s);
                    c.run_once = op_call(buf, op, b, chosen_kernel[op], tuned[{op, b}], s);
                    c.verify = op_verify(buf, op, s);
                    cells.push_back(std::move(c));
                }
            return cells;
        };
        auto absorb = [&](operation op, const std::vector<cell>& cells, bool refined) {
            auto& list = cal.sweep[op_name(op)];
            for (const cell& c : cells) {
                if (c.op != op_name(op)) continue;
                auto it = std::find_if(list.begin(), list.end(), [&](const size_analysis& a) { return a.size_bytes == c.size_bytes; });
                if (it == list.end()) {
                    list.push_back({});
                    it = list.end() - 1;
                    it->size_bytes = c.size_bytes;
                    it->refined = refined;
                }
                const auto b = backend_index(*detail::backend_from_name(c.series));
                it->samples[b] = c.mb_per_s;
                it->single_chunk[b] = runs_one_chunk(op, all_backends[b], tuned[{op, all_backends[b]}], c.size_bytes);
            }
            std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) { return x.size_bytes < y.size_bytes; });
            for (auto& a : list) analyse_size(a, cal.seed);
            plans[op] = choose_plan(loss_matrix(list));
        };

        std::vector<cell> cells;
        for (operation op : ops) {
            auto more = sweep_cells(op, size_grid(m, max_bytes, granule_of(op)), "sweep");
            cells.insert(cells.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
        }
        if (!phase.run("sweep", cells, m.sweep_s, share(m.sweep_s))) return fail(phase.error, interrupted);
        for (operation op : ops) absorb(op, cells, false);

        const auto t_refine = clock_type::now();
        prog.begin_phase("refine", share(m.refine_s));
        int refine_rounds = 0;
        std::size_t refine_cells = 0;
        for (int depth = 0; depth < m.refine_depth; ++depth) {
            std::vector<cell> more_cells;
            for (operation op : ops) {
                const auto& list = cal.sweep[op_name(op)];
                std::vector<std::uint64_t> mids;
                for (const segment& seg : plans[op].segments) {
                    if (seg.first_index == 0) continue;
                    const std::uint64_t lo = list[seg.first_index - 1].size_bytes, hi = list[seg.first_index].size_bytes;
                    if (static_cast<double>(hi) / static_cast<double>(lo) < 1.15) continue;  // already close enough
                    const std::uint64_t mid = geometric_midpoint(lo, hi, granule_of(op));
                    if (mid > lo && mid < hi) mids.push_back(mid);
                }
                auto more = sweep_cells(op, mids, "refine");
                more_cells.insert(more_cells.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
            }
            if (more_cells.empty()) break;
            const double budget = m.refine_s / m.refine_depth;
            std::string err = eng.probe(more_cells);
            if (!err.empty()) return fail(err, interrupted);
            const int rounds = eng.plan(more_cells, budget, m.min_rounds, m.max_rounds, m.min_sample_s, m.max_sample_s);
            if (!eng.run(more_cells, rounds, m.min_rounds, budget)) return fail(eng.error(), interrupted);
            refine_rounds = std::max(refine_rounds, eng.rounds_run());
            refine_cells += more_cells.size();
            for (operation op : ops) absorb(op, more_cells, true);
            prog.update(static_cast<double>(depth + 1) / m.refine_depth);
        }
        prog.end_phase();
        cal.phases.push_back({"refine", seconds_since(t_refine), refine_rounds, refine_cells});
    }

    // 6. The profile: kernels, tuning, switch points (stability notes and curves
    // once the validation's repair, if any, has added its sizes).
    runtime::profile& prof = cal.prof;
    {
        auto stability = std::move(prof.stability);
        prof = runtime::new_profile(cal.topo);
        prof.stability = std::move(stability);
    }
    auto decide_switch_points = [&](operation op) {
        const std::string name = op_name(op);
        runtime::operation_profile& o = prof.for_op(op);
        const auto& list = cal.sweep[name];
        const plan_choice& plan = plans[op];
        o.switch_points = switch_points_from(list, plan);
        bool any_decisive = false;
        for (const auto& a : list)
            for (double l : a.loss) any_decisive = any_decisive || l > 0;
        std::string summary;
        if (o.switch_points.empty())
            summary = any_decisive ? "serial everywhere: where another backend won, the win did not hold at enough sizes to "
                                     "outweigh its losses elsewhere"
                                   : "no reliable crossover: at every size the backends tied within the noise band or serial won; "
                                     "keeping serial (the simplest)";
        else {
            char buf2[200];
            std::snprintf(buf2, sizeof buf2, "%zu switch point(s); the chosen backend is at most %.1f%% slower than the best at "
                                             "any measured size",
                          o.switch_points.size(), plan.worst_loss * 100);
            summary = buf2;
        }
        cal.plan_summary[name] = summary;
    };
    for (operation op : ops) {
        runtime::operation_profile& o = prof.for_op(op);
        o.kernel = chosen_kernel[op];
        for (backend b : {backend::work_stealing, backend::pipeline}) {
            const parallel_options& par = tuned[{op, b}];
            o.tuning.push_back({b, par.threads, par.chunk_bytes});
        }
        decide_switch_points(op);
    }

    // 7. Validation: the new profile in force, auto against every fixed backend at
    // held-out sizes. CALIB64_* variables are deliberately not applied here: this
    // measures the profile, not the caller's overrides.
    std::set<std::uint64_t> taken;
    for (const auto& [name, list] : cal.sweep)
        for (const auto& a : list) taken.insert(a.size_bytes);
    // Runs one validation at fresh held-out sizes; its cells stay in `cells` so a
    // repair can reuse the fixed backends' samples.
    auto validate = [&](const char* phase_name, std::vector<cell>& cells, std::vector<validation_detail>& out) -> bool {
        auto resolved = runtime::settings_from(&prof, "calibration in progress", {}, runtime::environment{}, cal.topo);
        runtime::put_in_force(std::move(resolved));
        std::map<operation, std::vector<std::uint64_t>> vsizes;
        for (operation op : ops) {
            vsizes[op] = validation_sizes(m.validation_sizes, max_bytes, granule_of(op), taken, eng.rng());
            for (std::uint64_t s : vsizes[op]) {
                taken.insert(s);
                for (int k = -1; k < static_cast<int>(backend_count); ++k) {
                    cell c;
                    c.phase = phase_name;
                    c.op = op_name(op);
                    c.size_bytes = s;
                    c.block = c.op + "/" + std::to_string(s);
                    c.verify = op_verify(buf, op, s);
                    if (k < 0) {
                        c.series = "auto";
                        if (op == operation::encode)
                            c.run_once = [&buf, s] { return encode_auto(buf.in_bytes(s), std::span<char>(buf.out_chars)).ok(); };
                        else
                            c.run_once = [&buf, s] { return decode_auto(buf.in_chars(s), std::span<std::uint8_t>(buf.out_bytes)).ok(); };
                    } else {
                        const backend b = all_backends[static_cast<std::size_t>(k)];
                        c.series = std::string(backend_name(b));
                        c.run_once = op_call(buf, op, b, chosen_kernel[op], tuned[{op, b}], s);
                    }
                    cells.push_back(std::move(c));
                }
            }
        }
        const bool ok = phase.run(phase_name, cells, m.validation_s, share(m.validation_s));
        std::map<operation, std::vector<choice>> picked;
        for (operation op : ops)
            for (std::uint64_t s : vsizes[op]) picked[op].push_back(op == operation::encode ? choose_encode(s) : choose_decode(s));
        runtime::reset_settings_in_force();
        if (!ok) return false;
        for (operation op : ops) {
            const std::string name = op_name(op);
            for (std::size_t i = 0; i < vsizes[op].size(); ++i) {
                const std::uint64_t s = vsizes[op][i];
                auto samples_of = [&](const std::string& series) -> const std::vector<double>& {
                    for (const cell& c : cells)
                        if (c.op == name && c.series == series && c.size_bytes == s) return c.mb_per_s;
                    static const std::vector<double> none;
                    return none;
                };
                validation_detail d;
                d.row.op = op;
                d.row.size_bytes = s;
                d.row.auto_mb_per_s = median(samples_of("auto"));
                double best = 0;
                for (backend b : all_backends) {
                    const double v = median(samples_of(std::string(backend_name(b))));
                    d.row.backend_mb_per_s[std::string(backend_name(b))] = v;
                    if (v > best) {
                        best = v;
                        d.best_backend = std::string(backend_name(b));
                    }
                }
                d.row.auto_over_best = best > 0 ? d.row.auto_mb_per_s / best : 0;
                d.auto_backend = std::string(backend_name(picked[op][i].how));
                if (const auto best_b = detail::backend_from_name(d.best_backend))
                    d.best_single_chunk = runs_one_chunk(op, *best_b, tuned[{op, *best_b}], s);
                d.auto_vs_best = compare_paired(samples_of("auto"), samples_of(d.best_backend), noise_band, mix_seed(cal.seed, s, salt::validation_paired));
                out.push_back(std::move(d));
            }
        }
        return true;
    };
    {
        std::vector<cell> cells;
        if (!validate("validation", cells, cal.validation)) return fail(phase.error, interrupted);
        // Repair: where auto lost beyond the noise band, the switch point sits on the
        // wrong side of a crossover the grid did not pin down (near a cache edge the
        // crossover also moves with the machine's state). Those sizes join the sweep
        // with the fixed backends' samples just measured, the plan is made again, and
        // a second validation at fresh sizes judges the repaired profile.
        std::set<operation> repaired;
        for (const validation_detail& v : cal.validation) {
            if (!calls_for_repair(v)) continue;
            auto& list = cal.sweep[op_name(v.row.op)];
            size_analysis a;
            a.size_bytes = v.row.size_bytes;
            a.from_validation = true;
            for (const cell& c : cells)
                if (c.op == op_name(v.row.op) && c.size_bytes == v.row.size_bytes && c.series != "auto") {
                    const backend b = *detail::backend_from_name(c.series);
                    const std::size_t k = backend_index(b);
                    a.samples[k] = c.mb_per_s;
                    a.single_chunk[k] = runs_one_chunk(v.row.op, b, tuned[{v.row.op, b}], a.size_bytes);
                }
            list.insert(std::upper_bound(list.begin(), list.end(), a,
                                         [](const auto& x, const auto& y) { return x.size_bytes < y.size_bytes; }),
                        std::move(a));
            repaired.insert(v.row.op);
            cal.repair_sizes.push_back(op_name(v.row.op) + " " + format_size(v.row.size_bytes));
        }
        if (!repaired.empty()) {
            for (operation op : repaired) {
                auto& list = cal.sweep[op_name(op)];
                for (auto& a : list) analyse_size(a, cal.seed);
                plans[op] = choose_plan(loss_matrix(list));
                decide_switch_points(op);
            }
            cal.validation_before_repair = std::move(cal.validation);
            cal.validation.clear();
            std::vector<cell> again;
            if (!validate("validation 2", again, cal.validation)) return fail(phase.error, interrupted);
        }
        for (const validation_detail& v : cal.validation) prof.validation.push_back(v.row);
    }
    for (operation op : ops) {
        const std::string name = op_name(op);
        const auto& list = cal.sweep[name];
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

    // 8. Outputs. From here on Ctrl-C no longer stops anything: every file is
    // written whole (temporary file + rename), the profile last.
    cal.check_after = check_machine(cpus, 100);
    for (const auto& w : cal.check_before.warnings)
        prof.stability.push_back({"", "", 0, "busy_machine", "before calibration: " + w});
    for (const auto& w : cal.check_after.warnings)
        prof.stability.push_back({"", "", 0, "busy_machine", "after calibration: " + w});
    cal.total_seconds = seconds_since(t_start);
    prog.finish();

    std::error_code ec;
    std::filesystem::create_directories(cal.out_dir, ec);
    if (ec) return fail("cannot create " + cal.out_dir.string() + ": " + ec.message(), false);
    std::string err = write_file_atomic(cal.out_dir / cal.raw_json_name,
                                        nlohmann::json{{"calib64", {{"seed", cal.seed}, {"mode", m.name}, {"host_id", cal.host_id}}},
                                                       {"context", eng.raw_json()["context"]},
                                                       {"benchmarks", eng.raw_json()["benchmarks"]}}
                                            .dump(1));
    for (operation op : ops)
        if (err.empty()) err = write_file_atomic(cal.out_dir / (op_name(op) + ".svg"), render_chart(cal, op_name(op)));
    if (err.empty()) err = write_file_atomic(cal.out_dir / "report.md", render_report(cal));
    if (!err.empty()) return fail(err, false);
    const auto errors = runtime::save_profile_atomic(prof, cal.out_dir / "profile.json");
    if (!errors.empty()) {
        std::string all;
        for (const auto& e : errors) all += "\n  " + runtime::to_string(e);
        return fail("the profile did not validate or could not be written:" + all, false);
    }
    if (interrupted) std::fprintf(stderr, "calibrate: interrupted while writing; the files were completed.\n");
    std::printf("calibrated in %.1f s (%s mode)\nprofile: %s\nreport:  %s\n", cal.total_seconds, m.name.c_str(),
                (cal.out_dir / "profile.json").string().c_str(), (cal.out_dir / "report.md").string().c_str());
    return 0;
}

// ------------------------------------------------------------------ profiles measured side by side

std::string measure_profiles(const runtime::profile& a, const runtime::profile& b, double budget_s, std::uint64_t seed,
                             std::string& error) {
    const runtime::topology topo = runtime::probe_topology();
    // Both profiles as written, even from another host: this compares their choices.
    const runtime::environment trust{{"CALIB64_TRUST_PROFILE", "1"}};
    const auto sa = runtime::settings_from(&a, "A", {}, trust, topo);
    const auto sb = runtime::settings_from(&b, "B", {}, trust, topo);
    const std::vector<operation> ops = {operation::encode, operation::decode};

    // Sizes: both profiles' validation sizes (held out from both sweeps), plus every
    // switch point of either (where they disagree most).
    std::map<operation, std::set<std::uint64_t>> sizes;
    std::set<std::pair<operation, std::uint64_t>> at_switch, at_validation;
    std::uint64_t max_bytes = 0;
    for (const runtime::profile* p : {&a, &b}) {
        for (const auto& v : p->validation) {
            sizes[v.op].insert(v.size_bytes);
            at_validation.insert({v.op, v.size_bytes});
            max_bytes = std::max(max_bytes, v.size_bytes);
        }
        for (operation op : ops)
            for (const auto& sp : p->for_op(op).switch_points)
                if (sp.from_bytes > 1) {
                    // rounded up to whole quanta, so the size is at or past the switch
                    const std::uint64_t s = (sp.from_bytes + granule_of(op) - 1) / granule_of(op) * granule_of(op);
                    sizes[op].insert(s);
                    at_switch.insert({op, s});
                    max_bytes = std::max(max_bytes, s);
                }
    }
    if (max_bytes == 0) {
        error = "neither profile has a validation section to take sizes from";
        return {};
    }
    buffers buf(max_bytes, seed);  // encode reads up to max_bytes bytes, decode up to max_bytes characters

    struct row {
        operation op;
        std::uint64_t size;
        choice ca, cb;
        bool same = false;
    };
    auto concrete_choice = [](const runtime::operation_settings& os, std::uint64_t n) {
        choice c = os.choose(n);
        if (c.kernel == kernel_id::automatic) c.kernel = best_kernel();
        return c;
    };
    std::vector<row> rows;
    std::vector<cell> cells;
    for (operation op : ops)
        for (std::uint64_t s : sizes[op]) {
            row r{op, s, concrete_choice(sa.for_op(op), s), concrete_choice(sb.for_op(op), s)};
            r.same = r.ca.how == r.cb.how && r.ca.kernel == r.cb.kernel && r.ca.par.threads == r.cb.par.threads &&
                     r.ca.par.chunk_bytes == r.cb.par.chunk_bytes;
            rows.push_back(r);
            if (r.same) continue;  // the same call: equal by construction
            for (int k = 0; k < 2; ++k) {
                const choice& c = k == 0 ? r.ca : r.cb;
                cell x;
                x.phase = "compare";
                x.op = op_name(op);
                x.series = k == 0 ? "A" : "B";
                x.size_bytes = s;
                x.block = x.op + "/" + std::to_string(s);
                x.run_once = op_call(buf, op, c.how, c.kernel, c.par, s);
                x.verify = op_verify(buf, op, s);
                cells.push_back(std::move(x));
            }
        }

    progress prog(isatty(2) == 1);
    engine eng(seed, prog);
    if (!cells.empty()) {
        prog.begin_phase("measuring", 1.0);
        error = eng.probe(cells);
        if (!error.empty()) return {};
        const int rounds = eng.plan(cells, budget_s, 7, 31, 0.5e-3, 3e-3);
        if (!eng.run(cells, rounds, 7, budget_s)) {
            error = eng.error();
            return {};
        }
        prog.end_phase();
        prog.finish();
    }

    std::ostringstream o;
    char line[512];
    o << "\n## Measured side by side\n\nWhat `encode_auto` / `decode_auto` run under each profile, measured on this host in "
         "one interleaved run (paired rounds, " << eng.rounds_run() << " rounds), at both profiles' validation sizes and "
         "switch points (marked). Where "
         "both profiles make the same call it is the same code: equal by construction, not measured. B/A is the median of "
         "per-round ratios with its 95% bootstrap interval; a difference counts only beyond the ±"
      << static_cast<int>(noise_band * 100) << "% noise band.\n\n";
    o << "| op | size | A runs | B runs | A MB/s | B MB/s | B/A [95% CI] | verdict |\n|---|---|---|---|---|---|---|---|\n";
    double worst = 0;
    std::size_t same = 0, decisive = 0, same_validation = 0;
    for (const row& r : rows) same_validation += r.same && at_validation.count({r.op, r.size});
    auto describe = [](const choice& c) {
        std::string d = std::string(backend_name(c.how)) + "/" + std::string(kernel_name(c.kernel));
        if (c.how != backend::serial)
            d += " t" + std::to_string(c.par.threads) + (c.par.chunk_bytes ? " c" + format_size(c.par.chunk_bytes) : "");
        return d;
    };
    for (const row& r : rows) {
        if (r.same) {
            ++same;
            std::snprintf(line, sizeof line, "| %s | %s%s | %s | same | | | 1 | same call |\n", op_name(r.op).c_str(),
                          format_size(r.size).c_str(), at_switch.count({r.op, r.size}) ? " (switch)" : "",
                          describe(r.ca).c_str());
            o << line;
            continue;
        }
        const std::vector<double>*sa_samples = nullptr, *sb_samples = nullptr;
        for (const cell& c : cells)
            if (c.op == op_name(r.op) && c.size_bytes == r.size) (c.series == "A" ? sa_samples : sb_samples) = &c.mb_per_s;
        const paired_comparison cmp = compare_paired(*sb_samples, *sa_samples, noise_band, mix_seed(seed, r.size, salt::compare_paired));
        worst = std::max(worst, std::abs(cmp.ratio.mid - 1));
        decisive += cmp.outcome != verdict::tie;
        std::snprintf(line, sizeof line, "| %s | %s%s | %s | %s | %.0f | %.0f | %.3f [%.3f–%.3f] | %s |\n", op_name(r.op).c_str(),
                      format_size(r.size).c_str(), at_switch.count({r.op, r.size}) ? " (switch)" : "", describe(r.ca).c_str(), describe(r.cb).c_str(), median(*sa_samples),
                      median(*sb_samples), cmp.ratio.mid, cmp.ratio.low, cmp.ratio.high,
                      cmp.outcome == verdict::tie ? "tie" : cmp.outcome == verdict::a_wins ? "B faster" : "A faster");
        o << line;
    }
    std::snprintf(line, sizeof line,
                  "\nSame call at %zu of %zu sizes (%zu of %zu validation sizes); where the calls differ, the largest median "
                  "difference is %.1f%% and %zu difference(s) clear the noise band.\n",
                  same, rows.size(), same_validation, at_validation.size(), worst * 100, decisive);
    o << line;
    return o.str();
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
