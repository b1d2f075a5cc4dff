// Internal: the measurement engine, the real measurer. Every round registers the
// cells with Google Benchmark in a fresh random order and runs them once each, with
// a fixed iteration count, so a round gives one sample per cell. A custom reporter
// keeps every run (no aggregation) and tees Google Benchmark's own JSON, which
// becomes the raw data file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "measure.h"

namespace calib64::calib {

// Progress in fractions of the whole calibration, drawn as a bar with ETA on a
// terminal and as plain lines otherwise.
class progress {
public:
    explicit progress(bool enabled);
    void begin_phase(const std::string& name, double share_of_total);
    void update(double phase_fraction);
    void end_phase();
    void finish();
    [[nodiscard]] double elapsed_s() const;

private:
    void draw(bool force);
    bool enabled_;
    bool tty_;
    double start_s_;
    double done_share_ = 0;
    double phase_share_ = 0;
    double phase_fraction_ = 0;
    double last_draw_s_ = -1;
    int last_plain_decile_ = -1;
    std::string phase_;
};

class engine final : public measurer {
public:
    engine(std::uint64_t seed, progress& prog);

    // measurer: probe, plan, run (below), stopping early when `settled` says so.
    bool measure(std::vector<cell>& cells, const round_plan& plan, const settled_fn& settled = {}) override;
    void begin_phase(const std::string& name, double share_of_total) override { progress_.begin_phase(name, share_of_total); }
    void end_phase() override { progress_.end_phase(); }

    // Runs every cell once (warm-up: page faults, thread pools) and checks its output;
    // times one call for planning. Returns "" or what went wrong.
    std::string probe(std::vector<cell>& cells);

    // Plans `rounds` and iterations so that the phase fits in `budget_s`: each sample
    // lasts about `target_sample_s` (at least one call), rounds in [min, max].
    int plan(std::vector<cell>& cells, double budget_s, int min_rounds, int max_rounds, double min_sample_s,
             double max_sample_s);

    // Runs up to `rounds` rounds; each in a fresh random order (blocks shuffled, cells
    // shuffled within a block). After `min_rounds`, stops early when another round
    // would overrun `budget_s` (the plan's estimate can be off on a busy machine).
    // Returns false when interrupted or a run failed; rounds_run() says how many ran.
    bool run(std::vector<cell>& cells, int rounds, int min_rounds = 0, double budget_s = 1e300,
             const settled_fn& settled = {});
    [[nodiscard]] int rounds_run() const override { return rounds_run_; }

    [[nodiscard]] const std::string& error() const override { return error_; }
    // Google Benchmark's JSON of every run so far (merged over all calls, each run
    // tagged with its phase, round and size), under a "calib64" object of `tags`.
    [[nodiscard]] std::string raw_json_text(const std::vector<std::pair<std::string, std::string>>& tags) const;
    [[nodiscard]] std::uint64_t seed() const { return seed_; }
    std::mt19937_64& rng() override { return rng_; }

private:
    bool run_round(std::vector<cell>& cells, const std::vector<std::size_t>& order, int round, int rounds);
    std::uint64_t seed_;
    std::mt19937_64 rng_;
    progress& progress_;
    std::string error_;
    int rounds_run_ = 0;
    // Google Benchmark's context and runs, as JSON text (parsed and merged in
    // engine.cpp only, so the JSON library stays out of the other phases' files).
    std::string context_json_;
    std::vector<std::string> run_json_;
};

}  // namespace calib64::calib
