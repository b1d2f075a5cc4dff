// Internal: what a calibration measured and decided, shared by the phases
// (phases.cpp), the decisions (decide.cpp), the driver and the report writers.
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
using detail::backend_index;

// A paired ratio must clear +-3% to count as a win; narrower is a tie.
inline constexpr double noise_band = 0.03;
// An interval wider than this (relative) is flagged unstable.
inline constexpr double wide_interval = 0.10;
inline constexpr double validation_target = 0.97;
// Every switch point is settled head to head across its interval; one narrower than
// this ratio (pinned by the grid alone) is widened to +-40% around the switch first.
inline constexpr double contest_interval_ratio = 1.15;

using common::format_size;
using common::write_file_atomic;

// The step between sizes an operation takes: any byte count for encode, whole
// quanta of 4 characters for decode.
inline std::uint64_t granule_of(runtime::operation op) { return op == runtime::operation::encode ? 1 : 4; }

// How long and how finely a calibration measures (--quick, default, --thorough).
struct mode_config {
    std::string name;
    // Time budget of each phase, seconds.
    double roofline_s = 0, kernels_s = 0, tuning_s = 0, sweep_s = 0, refine_s = 0, contest_s = 0, validation_s = 0;
    int min_rounds = 3, max_rounds = 25;                // rounds per phase
    double min_sample_s = 0.5e-3, max_sample_s = 3e-3;  // one sample's length
    int grid_per_octave = 2, dense_per_octave = 4;      // sweep sizes per octave; dense between 1 and 32 MiB
    bool all_note_points = true;                        // every 1-100 MB point of the seed note, or five of them
    int refine_depth = 2;                               // bisection steps where the plan switches
    int contest_sizes = 5;                              // sizes spread across a contested switch's interval
    int validation_sizes = 8;                           // held-out sizes per operation
    double max_quiet_wait_s = 30;                       // how long to wait for a busy machine to settle
    // All measuring (not the quiet wait) ends by then: a repair or a phase measured
    // again gets what is left, or is skipped and the report says so.
    double time_limit_s = 57;
    std::vector<std::uint64_t> chunk_bytes;             // tuning's chunk sizes; 0 = the library's default
    [[nodiscard]] double total_budget_s() const {
        return roofline_s + kernels_s + tuning_s + sweep_s + refine_s + contest_s + validation_s;
    }
};
[[nodiscard]] mode_config quick_mode();
[[nodiscard]] mode_config default_mode();
[[nodiscard]] mode_config thorough_mode();

// Salts that give each statistic its own bootstrap stream from the calibration's
// seed, so no two resampled quantities share random numbers (and a rerun with the
// same --seed resamples identically). The offset (a backend index, kernel id,
// setting, switch or phase number) is hashed apart from the salt, so the streams
// stay distinct however many rows the catalog grows.
enum class salt : std::uint64_t {
    sweep_mean = 1,         // offset: backend index
    sweep_paired,           // offset: backend index
    switch_reason,          // offset: backend index
    kernel_mean,            // offset: kernel id
    kernel_paired,          // offset: kernel id
    contest_old,            // offset: switch number
    contest_new,            // offset: switch number
    contest_paired,         // offset: switch number
    validation_paired,      // offset: backend index
    roofline_mean,
    drift_level,            // offset: phase number * 2 + attempt
    drift_shift,            // offset: phase number * 2 + attempt
    tuning_mean,            // offset: setting index
    tuning_paired,          // offset: setting index
    compare_paired,
};
// A bootstrap seed for one statistic: the run's seed, the size it is about, its salt
// and offset.
[[nodiscard]] std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t size, salt s, std::uint64_t offset = 0);

// ------------------------------------------------------------------ results

// One size of one operation, all backends measured in the same rounds.
struct size_analysis {
    std::uint64_t size_bytes = 0;
    bool refined = false;          // added by bisection, not on the grid
    bool from_validation = false;  // a validation size where auto lost: added by the repair
    // Parallel backends that cut this size into one chunk run serial's work on the
    // calling thread: they are never "best" here, whatever the noise says.
    std::array<bool, backend_count> single_chunk{};
    std::array<std::vector<double>, backend_count> samples;  // MB/s per round, by backend
    std::array<interval, backend_count> tput;                // expected-time throughput (harmonic mean) [CI]
    std::array<double, backend_count> tail_mb_per_s{};       // the 10th-percentile sample: the slow tail
    std::array<bimodality, backend_count> modes;
    int best = 0;
    std::array<paired_comparison, backend_count> best_vs;  // best against each backend (a = best)
    std::array<double, backend_count> loss{};              // 0 = tied with the best
    std::vector<std::string> unstable;                     // plain-words reasons
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
    paired_comparison vs_default;  // a = this setting, b = threads 0 / chunk 0
};

// One size of a head-to-head contest: the profile switching before this size
// (runs the new backend here) against the one switching after it (the old one).
struct contest_point {
    std::uint64_t size_bytes = 0;
    interval old_mb_per_s, new_mb_per_s;
    paired_comparison new_vs_old;
};

// A switch point settled head to head (docs/calibration.md).
struct contest_record {
    runtime::operation op = runtime::operation::encode;
    backend from = backend::serial, to = backend::work_stealing;
    std::uint64_t sweep_from = 0, sweep_low = 0, sweep_high = 0;  // what the sweep said
    std::vector<contest_point> points;
    std::uint64_t chosen_from = 0, undecided_low = 0, undecided_high = 0;
    int rounds = 0;
    bool settled = false;  // every point decided (a win either way, or equal within the band)
    std::string outcome;   // plain words
};

struct validation_detail {
    runtime::validation_row row;
    std::string auto_backend;        // what the profile runs at this size
    std::string best_backend;        // the fixed backend with the highest expected-time throughput
    bool best_single_chunk = false;  // ... and it ran one chunk: serial's work
    std::string same_call;           // the fixed backend whose call equals auto's ("" if none)
    paired_comparison auto_vs_same;  // auto against that identical call (dispatch + noise)
    std::string rival;               // the best fixed backend whose call differs from auto's
    paired_comparison auto_vs_rival; // auto against it: the decision's verdict
};

// The reference cell's readings during one phase: did the machine change state?
struct phase_drift {
    std::string phase;
    interval reference_mb_per_s;
    level_shift shift;
    double vs_first_phase = 1;  // this phase's reference level over the first phase's
    bool redone = false;        // the phase was measured again because the machine drifted
    bool still_shifted = false; // ... and drifted again
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
    std::uint64_t max_bytes = 0;
    runtime::topology topo;
    std::string host_id;
    quiet_wait wait;
    machine_check check_before, check_after;
    std::vector<runtime::curve> roofline;         // memcpy 1_thread / all_threads
    std::vector<bool> roofline_all_threads_drawn; // per all_threads point: a real ceiling there
    std::vector<kernel_row> kernels;
    std::map<runtime::operation, kernel_id> chosen_kernel;
    std::map<std::string, std::string> kernel_reason;  // op -> why
    std::vector<tuning_row> tuning;
    std::map<std::pair<runtime::operation, backend>, parallel_options> tuned;
    std::map<std::string, std::string> tuning_reason;  // "encode/work_stealing" -> why
    std::map<runtime::operation, std::vector<size_analysis>> sweep;  // ascending sizes
    std::map<runtime::operation, std::string> plan_summary;          // plain words
    std::vector<contest_record> contests;
    std::vector<validation_detail> validation;              // of the profile as written
    std::vector<validation_detail> validation_before_repair;  // the first one, when it led to a repair
    std::vector<std::string> repair_sizes;                   // "encode 459.5 KiB": sizes the repair added
    std::vector<phase_drift> drift;
    bool unstable_machine = false;  // the machine changed state during a phase, and again when it was redone
    std::vector<std::string> cut_short;  // steps the time limit shortened or skipped, in words
    std::vector<phase_time> phases;
    double total_seconds = 0;
    runtime::profile prof;
    std::filesystem::path out_dir;
    std::string raw_json_name = "benchmark-raw.json";

    [[nodiscard]] parallel_options tuned_for(runtime::operation op, backend b) const {
        const auto it = tuned.find({op, b});
        return it == tuned.end() ? parallel_options{} : it->second;
    }
};

// `report compare --measure`: runs what auto would run under each profile at both
// profiles' validation sizes, paired in one interleaved run; a markdown section.
// Empty with `error` set on failure.
[[nodiscard]] std::string measure_profiles(const runtime::profile& a, const runtime::profile& b, double budget_s,
                                           std::uint64_t seed, std::string& error);

// Report writers (report.cpp).
[[nodiscard]] std::string render_report(const calibration& c);
[[nodiscard]] std::string render_chart(const calibration& c, runtime::operation op);
// `report compare`: two profiles side by side, as markdown.
[[nodiscard]] std::string compare_profiles(const runtime::profile& a, const runtime::profile& b, const std::string& name_a,
                                           const std::string& name_b);

}  // namespace calib64::calib
