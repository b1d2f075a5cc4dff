// Internal: what the calibration measured and decided, shared by the driver
// (calibrate.cpp) and the report writers (report.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catalog.h"
#include "common/atomic_file.h"
#include "common/sizes.h"
#include "machine.h"
#include "runtime/profile.h"
#include "runtime/topology.h"
#include "stats.h"

namespace calib64::calib {

// Every backend of the catalog, simplest first: the index of every per-backend array.
inline constexpr std::size_t backend_count = detail::backend_count;
inline constexpr std::array<backend, backend_count> all_backends = [] {
    std::array<backend, backend_count> ids{};
    for (std::size_t i = 0; i < backend_count; ++i) ids[i] = detail::backend_rows[i].id;
    return ids;
}();
// A paired ratio must clear +-3% to count as a win; narrower is a tie.
inline constexpr double noise_band = 0.03;
// A median whose 95% interval is wider than this (relative) is flagged unstable.
inline constexpr double wide_interval = 0.10;
inline constexpr double validation_target = 0.97;

// How long and how finely a calibration measures (--quick, default, --thorough).
struct mode_config {
    std::string name;
    // Time budget of each phase, seconds.
    double roofline_s = 0, kernels_s = 0, tuning_s = 0, sweep_s = 0, refine_s = 0, validation_s = 0;
    int min_rounds = 3, max_rounds = 25;           // rounds per phase
    double min_sample_s = 0.5e-3, max_sample_s = 3e-3;  // one sample's length
    int grid_per_octave = 2, dense_per_octave = 4;  // sweep sizes per octave; dense between 1 and 32 MiB
    bool all_note_points = true;                    // every 1-100 MB point of the seed note, or five of them
    int refine_depth = 2;                           // bisection steps where the plan switches
    int validation_sizes = 8;                       // held-out sizes per operation
    std::vector<std::uint64_t> chunk_bytes;         // tuning's chunk sizes; 0 = the library's default
};

// Salts that give each statistic its own bootstrap stream from the calibration's
// seed, so no two resampled quantities share random numbers (and a rerun with the
// same --seed resamples identically).
enum class salt : std::uint64_t {
    sweep_median = 0,        // + backend index
    sweep_paired = 10,       // + backend index
    kernel_median = 20,      // + kernel id
    kernel_paired = 40,      // + kernel id
    validation_paired = 77,
    roofline_median = 99,
    tuning_median = 131,     // * threads + chunk bytes
    tuning_paired = 977,     // * threads + chunk bytes
    compare_paired = 5,
};

// One size of one operation, all backends measured in the same rounds.
struct size_analysis {
    std::uint64_t size_bytes = 0;
    bool refined = false;                        // added by bisection, not on the grid
    bool from_validation = false;                // a validation size where auto lost: added by the repair
    // Parallel backends that cut this size into one chunk, i.e. run serial's work on
    // the calling thread: they are never "best" here, whatever the noise says.
    std::array<bool, backend_count> single_chunk{};
    std::array<std::vector<double>, backend_count> samples;  // MB/s per round, by backend
    std::array<interval, backend_count> tput;
    std::array<bimodality, backend_count> modes;
    int best = 0;
    std::array<paired_comparison, backend_count> best_vs;    // best against each backend (a = best)
    std::array<double, backend_count> loss{};                // 0 = tied with the best
    std::vector<std::string> unstable;           // plain-words reasons
};

struct kernel_row {
    std::string op;
    std::string kernel;
    std::uint64_t size_bytes = 0;
    interval tput;
    paired_comparison vs_reference;  // a = this kernel, b = the reference (best_kernel())
};

struct tuning_row {
    std::string op;
    backend how = backend::work_stealing;
    unsigned threads = 0;
    std::uint64_t chunk_bytes = 0;
    std::uint64_t size_bytes = 0;
    interval tput;
    paired_comparison vs_default;  // a = this config, b = threads 0 / chunk 0
};

struct validation_detail {
    runtime::validation_row row;
    std::string best_backend;
    std::string auto_backend;  // what choose_* picked
    bool best_single_chunk = false;  // the best backend ran one chunk: serial's work
    paired_comparison auto_vs_best;
};

struct phase_time {
    std::string name;
    double seconds = 0;
    int rounds = 0;
    std::size_t cells = 0;
};

struct calibration {
    mode_config mode;
    std::uint64_t seed = 0;
    runtime::topology topo;
    std::string host_id;
    machine_check check_before, check_after;
    std::vector<runtime::curve> roofline;      // memcpy 1_thread / all_threads
    std::vector<bimodality> roofline_modes;    // parallel to roofline points of all_threads
    std::vector<kernel_row> kernels;
    std::map<std::string, std::string> kernel_reason;  // op -> why
    std::vector<tuning_row> tuning;
    std::map<std::string, std::string> tuning_reason;  // "encode/work_stealing" -> why
    std::map<std::string, std::vector<size_analysis>> sweep;  // op -> ascending sizes
    std::map<std::string, std::string> plan_summary;          // op -> plain words
    std::vector<validation_detail> validation;              // the validation of the profile as written
    std::vector<validation_detail> validation_before_repair;  // the first one, when it led to a repair
    std::vector<std::string> repair_sizes;                   // "encode 459.5 KiB": sizes the repair added
    std::vector<phase_time> phases;
    double total_seconds = 0;
    runtime::profile prof;
    std::filesystem::path out_dir;
    std::string raw_json_name = "benchmark-raw.json";
};

// Fills the intervals, modes, best backend, paired verdicts and losses of one size
// from its samples (and single_chunk flags). Deterministic for a seed.
void analyse_size(size_analysis& a, std::uint64_t seed);

// Switch points from a plan over the analysed sizes (analyse_size done), with the
// interval over which each could move without a measurable loss (calibrate.cpp).
[[nodiscard]] std::vector<runtime::switch_point> switch_points_from(const std::vector<size_analysis>& sizes,
                                                                    const plan_choice& plan);

// A validation size where auto lost beyond the noise band to a backend it did not
// run: the switch point is misplaced there, so the calibration repairs it. (A loss
// while running the best backend itself, or to a parallel backend that ran one
// chunk, is noise or tuning, not placement.)
[[nodiscard]] inline bool calls_for_repair(const validation_detail& v) noexcept {
    return v.row.auto_over_best < validation_target && v.auto_vs_best.outcome == verdict::b_wins &&
           v.auto_backend != v.best_backend && !v.best_single_chunk;
}

// `report compare --measure`: runs what auto would run under each profile at both
// profiles' validation sizes, paired in one interleaved run; a markdown section.
// Empty with `error` set on failure.
[[nodiscard]] std::string measure_profiles(const runtime::profile& a, const runtime::profile& b, double budget_s,
                                           std::uint64_t seed, std::string& error);

// Report writers (report.cpp).
[[nodiscard]] std::string render_report(const calibration& c);
[[nodiscard]] std::string render_chart(const calibration& c, const std::string& op);
using common::format_size;
using common::write_file_atomic;
// `report compare`: two profiles side by side, as markdown.
[[nodiscard]] std::string compare_profiles(const runtime::profile& a, const runtime::profile& b, const std::string& name_a,
                                           const std::string& name_b);

}  // namespace calib64::calib
