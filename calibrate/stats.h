// Internal: the statistics behind every calibration verdict.
//
// Everything here is pure (no clocks, no I/O) so it can be tested on synthetic
// samples. Throughput samples are positive numbers (MB/s), one per round, each the
// bytes of a run of back-to-back calls over its time; a "paired" comparison takes
// two samples from the same round, measured back to back, so slow drifts of the
// machine cancel in their ratio.
//
// The objective is expected time: what a long sequence of calls costs. The total
// time of n samples that each move the same bytes is sum(bytes / rate_i), so the
// throughput a user pays is the harmonic mean of the samples, and a ratio of two
// calls is the ratio of their harmonic means. Unlike the median, it counts the
// slow samples (stalls, late threads) at their full weight (docs/calibration.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace calib64::calib {

// A point estimate with its confidence interval.
struct interval {
    double low = 0;
    double mid = 0;  // the point estimate (harmonic mean, or median where so named)
    double high = 0;
    [[nodiscard]] double relative_width() const noexcept { return mid > 0 ? (high - low) / mid : 0; }
};

[[nodiscard]] double median(std::span<const double> values);
// n / sum(1 / v): the throughput of the whole sequence of samples. 0 when empty or
// when any value is not positive.
[[nodiscard]] double harmonic_mean(std::span<const double> rates);
// The q-quantile (0 <= q <= 1), linearly interpolated; 0 when empty.
[[nodiscard]] double quantile(std::span<const double> values, double q);

// Percentile bootstrap interval of the harmonic mean (the expected-time throughput).
[[nodiscard]] interval bootstrap_harmonic_ci(std::span<const double> rates, std::uint64_t seed, double confidence = 0.95,
                                             int resamples = 2000);

// Two clusters in a handful of samples (e.g. memory bandwidth that flips between
// two levels from run to run). Found by the widest gap in the sorted samples; it
// counts only with at least 6 samples, when each side holds at least max(2, 20%) of them, the gap is
// wider than either side's own spread, and the two cluster medians differ by at
// least `min_separation` of the overall median.
struct bimodality {
    bool bimodal = false;
    double low_median = 0;
    double high_median = 0;
    double split = 0;  // samples <= split are in the low cluster
    std::size_t low_count = 0;
    std::size_t high_count = 0;
};
[[nodiscard]] bimodality detect_bimodal(std::span<const double> samples, double min_separation = 0.15);

enum class verdict : std::uint8_t { a_wins, tie, b_wins };
[[nodiscard]] const char* verdict_name(verdict v) noexcept;  // "a wins", "tie", "b wins"

// Paired comparison of A against B over rounds: the ratio of their harmonic means
// over the rounds where both have a sample (A's expected-time throughput over B's),
// with a bootstrap interval that resamples whole rounds (keeping the pairs).
// A wins only when the whole interval lies above 1 + band, B wins only when it lies
// below 1 / (1 + band); everything else is a tie.
// When `mode_of_round` is given (0/1 per round, e.g. the cluster of a bimodal
// reference), a win must also hold in each mode on its own: the ratio of harmonic means in
// every mode with samples must not fall on the loser's side of 1. This keeps a
// verdict that is only true in one of two machine states from being trusted.
struct paired_comparison {
    interval ratio;
    verdict outcome = verdict::tie;
    bool mode_split = false;        // the per-mode check was applied
    bool overturned_by_mode = false;  // a plain win became a tie because one mode disagreed
};
[[nodiscard]] paired_comparison compare_paired(std::span<const double> a, std::span<const double> b,
                                               double noise_band, std::uint64_t seed,
                                               std::span<const int> mode_of_round = {});

// Did the machine change state during a series of measurements of one fixed thing
// (a reference cell, one sample per round)? Compares the first and the second half
// (harmonic means, 99% bootstrap interval of their ratio) and looks for two levels
// grouped in time. A shift is reported only when the interval clears the noise band,
// or when the samples are bimodal (as detect_bimodal defines it) and changed level at
// most twice along the series. Needs min_rounds_for_drift samples.
inline constexpr std::size_t min_rounds_for_drift = 10;  // fewer cannot tell a shift from noise
struct level_shift {
    bool shifted = false;
    interval later_over_earlier;  // second half / first half
    bimodality modes;
};
[[nodiscard]] level_shift detect_level_shift(std::span<const double> series, double noise_band, std::uint64_t seed);

// Choosing backends along the size axis.
//
// loss[s][b] is how much slower backend b is than the best at size s, as a
// fraction (0.2 = 20% slower), already set to 0 where b is statistically tied with
// the best. Backends are numbered by simplicity: 0 is the simplest (serial).
// The plan is a list of segments; the first always starts at size index 0.
struct segment {
    std::size_t first_index = 0;  // first size index the backend covers
    int backend = 0;
};
struct plan_choice {
    std::vector<segment> segments;
    double worst_loss = 0;  // max over sizes of the loss of the chosen backend
    double total_loss = 0;
};
// Backend 0 (the simplest) may only open the plan: a parallel backend's fixed
// costs shrink relative to the work as sizes grow, so "serial again above a
// parallel range" is a noise artefact, not a plan worth shipping.
// Finds the plan with at most `max_segments` segments that minimises, in order:
// the worst loss (rounded to `loss_resolution`), the number of segments (an
// opening serial segment not counted), the total loss, and then prefers simpler
// backends (lower numbers) and later switches. With no decisive loss anywhere this is one segment of backend 0:
// "no reliable crossover, keep the simplest".
[[nodiscard]] plan_choice choose_plan(const std::vector<std::vector<double>>& loss, std::size_t max_segments = 4,
                                      double loss_resolution = 0.01);

// Geometric midpoint of two sizes, rounded to a multiple of `granule`.
[[nodiscard]] std::uint64_t geometric_midpoint(std::uint64_t a, std::uint64_t b, std::uint64_t granule);

}  // namespace calib64::calib
