// Internal: the calibration's decisions, apart from measuring. Pure functions of
// samples and verdicts, so each rule is tested on synthetic data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "internal.h"

namespace calib64::calib {

// Fills the intervals, tails, modes, best backend, paired verdicts and losses of one
// size from its samples (and single_chunk flags). Deterministic for a seed.
void analyse_size(size_analysis& a, std::uint64_t seed);

// loss[size][backend] for choose_plan.
[[nodiscard]] std::vector<std::vector<double>> loss_matrix(const std::vector<size_analysis>& sizes);

// Switch points from a plan over the analysed sizes, with the interval over which
// each could move without a measured loss (`seed`: the run's, for the reason's ratio).
[[nodiscard]] std::vector<runtime::switch_point> switch_points_from(const std::vector<size_analysis>& sizes,
                                                                    const plan_choice& plan, std::uint64_t seed = 0);

// The picker for kernels and tuning: a candidate replaces the reference only if it
// wins (beyond the noise band) at some size and loses at none; among several, the
// highest score (product of its ratios to the reference). Returns the index chosen.
struct candidate_outcome {
    bool wins = false;
    bool loses = false;
    double score = 1;
};
[[nodiscard]] std::size_t pick_winner(const std::vector<candidate_outcome>& candidates, std::size_t reference);

// Where a contested switch goes, from new-vs-old verdicts at increasing sizes: between
// the last size the old backend won decisively and the first size the new one did,
// in the middle of what stayed undecided. `below` and `above` bound the sizes a
// switch may take (the neighbouring switch points).
struct contest_choice {
    std::uint64_t from = 0, low = 0, high = 0;
    bool settled = false;  // every point decided: a win either way, or equal within the band
    std::string words;
};
[[nodiscard]] contest_choice decide_contest(const std::vector<contest_point>& points, std::uint64_t granule,
                                            std::uint64_t below, std::uint64_t above);
// A point is decided when one side wins or the ratio's interval lies inside the band.
[[nodiscard]] bool point_decided(const paired_comparison& c);

// Validation at one size: auto's samples against each fixed backend's, and what each
// runs. `same_call[b]`: backend b's call equals auto's (same backend, kernel,
// threads, chunk); `serial_work[b]`: b ran one chunk, i.e. serial's work.
struct validation_input {
    runtime::operation op = runtime::operation::encode;
    std::uint64_t size_bytes = 0;
    backend auto_runs = backend::serial;
    std::vector<double> auto_samples;
    std::array<std::vector<double>, backend_count> samples;
    std::array<bool, backend_count> same_call{};
    std::array<bool, backend_count> serial_work{};
};
[[nodiscard]] validation_detail judge_validation(const validation_input& in, std::uint64_t seed);

// A validation size where auto lost beyond the noise band to a call it did not make:
// the switch point is misplaced there and the calibration repairs it. A loss to a
// parallel backend that ran one chunk is a loss to serial (it did serial's work);
// a gap to auto's own call is dispatch cost or noise, never a reason to move a switch.
[[nodiscard]] bool calls_for_repair(const validation_detail& v) noexcept;

}  // namespace calib64::calib
