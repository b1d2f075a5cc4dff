// Internal: what the calibration phases measure, apart from how. A phase builds
// cells (one thing to time each), hands them to a measurer and reads one throughput
// sample per cell per round. The real measurer is Google Benchmark (engine.h); the
// tests use a synthetic one, so every phase can be checked on known curves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace calib64::calib {

// Set from the SIGINT handler; checked between and inside benchmark runs.
extern std::atomic<bool> interrupted;

struct cell {
    std::string phase;   // "roofline", "kernels", "tuning", "sweep", "refine", "contest", "validation", ...
    std::string op;      // "encode", "decode", "memcpy"
    std::string series;  // backend, kernel, setting, candidate or label
    std::uint64_t size_bytes = 0;  // input bytes (input characters for decode)
    std::string block;   // cells of one block run back to back within a round and are compared in pairs

    std::function<bool()> run_once;       // one call; false when it failed
    std::function<std::string()> verify;  // optional: "" when the output is right, else why

    double probe_seconds = 0;      // one call, measured before the rounds
    std::uint64_t iterations = 1;  // calls per sample (equal within a block)
    std::vector<double> mb_per_s;  // one sample per round (10^6 input bytes per second)
};

// How long a phase may take and how its samples are shaped.
struct round_plan {
    double budget_s = 1;
    int min_rounds = 3, max_rounds = 25;
    double min_sample_s = 0.5e-3, max_sample_s = 3e-3;
};

// After each round from min_rounds on: true when the phase has learnt enough and
// may stop early.
using settled_fn = std::function<bool(const std::vector<cell>&)>;

class measurer {
public:
    virtual ~measurer() = default;
    // Warms every cell up and checks its output, then runs rounds within the plan,
    // each in a fresh random order with the cells of one block back to back. Clears
    // the cells' samples first. false when a call failed or the run was interrupted
    // (error() says why).
    virtual bool measure(std::vector<cell>& cells, const round_plan& plan, const settled_fn& settled = {}) = 0;
    [[nodiscard]] virtual int rounds_run() const = 0;
    [[nodiscard]] virtual const std::string& error() const = 0;
    // Random numbers for choices the phases make (validation sizes), from the seed.
    virtual std::mt19937_64& rng() = 0;
    // Progress display: a phase starts (its share of the whole run), a fraction done.
    virtual void begin_phase(const std::string& name, double share_of_total) = 0;
    virtual void end_phase() = 0;
};

}  // namespace calib64::calib
