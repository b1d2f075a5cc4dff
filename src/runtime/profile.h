// Internal: the calibration profile in memory, and its JSON form (docs/profile.md,
// docs/profile.schema.json).
//
// The calibrate driver fills a `profile` (start from new_profile(host_topology()))
// and calls save_profile_atomic(); the runtime calls load_profile() and trusts the
// result only when it has no errors. Parsing never throws: every malformed field is
// reported with its JSON pointer and the reason, and unknown keys are ignored so
// newer tools can add fields without breaking older readers.
#pragma once

#include <calib64/calib64.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/topology.h"

namespace calib64::runtime {

// The format this build writes, and the newest it reads. Bump on incompatible change.
inline constexpr int current_schema_version = 1;
// No size field (switch point, chunk, validation size) may exceed this: larger is a typo.
inline constexpr std::uint64_t max_sane_bytes = 1ull << 40;  // 1 TiB
inline constexpr unsigned max_sane_threads = 4096;

enum class operation : std::uint8_t { encode, decode };
[[nodiscard]] std::string_view operation_name(operation op) noexcept;  // "encode" / "decode"
[[nodiscard]] std::optional<operation> operation_from_name(std::string_view name) noexcept;
[[nodiscard]] std::optional<backend> backend_from_name(std::string_view name) noexcept;
// Kernel names as in kernel_name(): "auto", "scalar", "avx2", "avx512", "neon". Accepts
// names this CPU cannot run (the profile may be read on another host).
[[nodiscard]] std::optional<kernel_id> kernel_from_name(std::string_view name) noexcept;

// From `from_bytes` on (input bytes for encode, input characters for decode), use
// `how`, until the next switch point. Sizes below the first switch point run serial.
struct switch_point {
    std::uint64_t from_bytes = 0;
    backend how = backend::serial;
    // Confidence interval of the crossover (equal to from_bytes when not measured).
    std::uint64_t ci_low_bytes = 0;
    std::uint64_t ci_high_bytes = 0;
    std::string reason;  // plain words, e.g. "work_stealing wins by 1.8x (CI 1.6-2.0) from 64 KiB"
};

// How a parallel backend runs for this operation. 0 means "the library's default".
struct backend_tuning {
    backend how = backend::work_stealing;
    unsigned threads = 0;
    std::uint64_t chunk_bytes = 0;
};

struct operation_profile {
    kernel_id kernel = kernel_id::automatic;
    std::vector<switch_point> switch_points;  // strictly increasing from_bytes
    std::vector<backend_tuning> tuning;       // at most one per backend
    // The tuning for `how`, or nullptr.
    [[nodiscard]] const backend_tuning* tuning_for(backend how) const noexcept;
};

// One held-out size re-measured with the new profile.
struct validation_row {
    operation op = operation::encode;
    std::uint64_t size_bytes = 0;
    double auto_mb_per_s = 0;
    std::map<std::string, double> backend_mb_per_s;  // backend name -> MB/s (10^6 bytes/s)
    double auto_over_best = 0;                        // auto_mb_per_s / max(backend_mb_per_s)
};

struct curve_point {
    std::uint64_t size_bytes = 0;
    double median_mb_per_s = 0;
    double ci_low_mb_per_s = 0;
    double ci_high_mb_per_s = 0;
};

// One measured throughput curve, for audit. `op` is "encode", "decode" or "memcpy";
// `series` a backend name or another label ("1_thread", "all_threads").
struct curve {
    std::string op;
    std::string series;
    std::vector<curve_point> points;  // increasing size_bytes
};

// Something the calibration found unreliable.
struct stability_note {
    std::string op;        // "encode", "decode", "memcpy", or "" for the whole run
    std::string series;    // backend or label; may be empty
    std::uint64_t size_bytes = 0;  // 0 when not about one size
    std::string kind;      // "wide_interval", "bimodal", "busy_machine", or another short word
    std::string detail;    // plain words
};

// The topology facts the profile was measured on (a copy of the probe, for audit
// and for the fingerprint check).
struct host_summary {
    std::string fingerprint;  // fingerprint(topology) at calibration time
    std::string host_id;
    std::string cpu_vendor;
    std::string cpu_model;
    unsigned packages = 1, cores = 1, pus = 1, numa_nodes = 1, l3_count = 1, cores_per_l3 = 1,
             cpukinds = 1, allowed_cpus = 1;
    std::optional<double> cpu_quota;
    std::uint64_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
    std::vector<std::string> simd_kernels;
};
[[nodiscard]] host_summary summarize(const topology& t);

struct profile {
    int schema_version = current_schema_version;
    std::string tool_version;  // calib64 version that wrote it
    std::string created_utc;   // ISO 8601, "2026-11-26T15:40:00Z"
    host_summary host;
    operation_profile encode;
    operation_profile decode;
    std::vector<validation_row> validation;
    std::vector<curve> curves;
    std::vector<stability_note> stability;

    [[nodiscard]] const operation_profile& for_op(operation op) const noexcept {
        return op == operation::encode ? encode : decode;
    }
    [[nodiscard]] operation_profile& for_op(operation op) noexcept {
        return op == operation::encode ? encode : decode;
    }
};

// A profile for this host with no measurements yet: version, time, host filled in.
[[nodiscard]] profile new_profile(const topology& t);
[[nodiscard]] std::string utc_now_iso8601();

struct profile_error {
    std::string path;  // JSON pointer, e.g. "/encode/switch_points/1/from_bytes"; "" for the document
    std::string why;
};
[[nodiscard]] std::string to_string(const profile_error& e);  // "/encode/kernel: unknown kernel \"avx9\""

struct [[nodiscard]] profile_result {
    std::optional<profile> value;        // set only when errors is empty
    std::vector<profile_error> errors;
    [[nodiscard]] bool ok() const noexcept { return value.has_value() && errors.empty(); }
};

[[nodiscard]] nlohmann::json to_json(const profile& p);
[[nodiscard]] std::string to_json_text(const profile& p);  // pretty, 2-space indent, trailing newline

// Semantic checks shared by parsing and saving (increasing switch points, sane sizes...).
[[nodiscard]] std::vector<profile_error> validate_profile(const profile& p);

[[nodiscard]] profile_result profile_from_json(const nlohmann::json& doc);
[[nodiscard]] profile_result profile_from_json_text(std::string_view text);  // reports parse errors too
[[nodiscard]] profile_result load_profile(const std::filesystem::path& path);
// Validates, then writes to a temporary file in the same folder, flushes it and
// renames it over `path`: readers see the old file or the new one, never a part.
// Returns the errors (validation or I/O); empty on success. Creates missing folders.
[[nodiscard]] std::vector<profile_error> save_profile_atomic(const profile& p,
                                                             const std::filesystem::path& path);

}  // namespace calib64::runtime
