// Internal: the calibration profile in memory, and its JSON form (docs/profile.md,
// docs/profile.schema.json).
//
// The calibrate driver fills a `profile` (start from new_profile(host_topology()))
// and calls save_profile_atomic(); the runtime calls load_profile() and trusts the
// result only when it has no errors. Every field is described once (profile.cpp's
// describe() functions); the writer, the reader, the in-memory checks and the JSON
// Schema are walks over that description, so they cannot disagree. Parsing never
// throws: every malformed field is reported with its JSON pointer and the reason,
// and unknown keys are ignored so newer tools can add fields without breaking older
// readers. The JSON library stays inside profile.cpp.
#pragma once

#include <calib64/calib64.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/topology.h"

namespace calib64::runtime {

// The format this build writes, and the newest it reads. Bump on incompatible change.
inline constexpr int current_schema_version = 1;

enum class operation : std::uint8_t { encode, decode };
inline constexpr operation operations[] = {operation::encode, operation::decode};
[[nodiscard]] std::string_view operation_name(operation op) noexcept;  // "encode" / "decode"
[[nodiscard]] std::optional<operation> operation_from_name(std::string_view name) noexcept;

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
    int cpu_family = -1;        // x86 family number; -1 unknown
    int cpu_model_number = -1;  // x86 model number; -1 unknown
    unsigned packages = 1, cores = 1, pus = 1, numa_nodes = 1, l3_count = 1, cores_per_l3 = 1,
             cpukinds = 1, allowed_cpus = 1;
    std::optional<double> cpu_quota;
    std::uint64_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
    std::vector<std::string> simd_kernels;
    std::vector<std::string> fallbacks;  // facts the probe replaced (topology::fallbacks)
};
[[nodiscard]] host_summary summarize(const topology& t);

// How a profile's decisions were made.
inline constexpr std::string_view made_by_calibration = "calibrate";                // measured on the host
inline constexpr std::string_view made_by_topology_defaults = "topology_defaults";  // derived, not measured

struct profile {
    int schema_version = current_schema_version;
    std::string tool_version;  // calib64 version that wrote it
    std::string created_utc;   // ISO 8601, "2026-11-26T15:40:00Z"
    std::string made_by{made_by_calibration};  // made_by_calibration or made_by_topology_defaults
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

[[nodiscard]] std::string to_json_text(const profile& p);  // pretty, 2-space indent, trailing newline

// The checks a profile in memory must pass before it is written (every field in its
// range, switch points increasing, ...): the same rules the reader applies.
[[nodiscard]] std::vector<profile_error> validate_profile(const profile& p);

// What a reader keeps. The runtime needs only the decisions (host, encode, decode);
// `calib64 profile check` and reports read everything. Audit data (validation,
// curves, stability) is then skipped while parsing, never built in memory.
enum class profile_parts : std::uint8_t { decisions, everything };

[[nodiscard]] profile_result profile_from_json_text(std::string_view text,
                                                    profile_parts parts = profile_parts::everything);
// Reads a file of at most max_profile_file_bytes.
[[nodiscard]] profile_result load_profile(const std::filesystem::path& path,
                                          profile_parts parts = profile_parts::everything);
// A profile is a few hundred KiB at most; a larger file is refused unread.
inline constexpr std::uint64_t max_profile_file_bytes = 16u << 20;
// Validates, then writes it through common::atomic_file: readers see the old file
// or the new one, never a part. Returns the errors (validation or I/O); empty on
// success. Creates missing folders.
[[nodiscard]] std::vector<profile_error> save_profile_atomic(const profile& p,
                                                             const std::filesystem::path& path);

// The JSON Schema (draft 2020-12) of what to_json_text writes and the reader accepts,
// generated from the same description; docs/profile.schema.json is this text.
[[nodiscard]] std::string profile_schema_text();

// ---------------------------------------------------------------- bundles
// Several profiles in one file, for an application that runs on several kinds of
// host (docs/profile.md, "Bundles"). Each member is a whole profile document minus
// the audit data and the reasons: what the runtime needs to choose, and no more.

inline constexpr int current_bundle_schema_version = 1;

struct bundle_member {
    std::string name;  // where it came from, e.g. the result folder "zen5-2c-1m-9fb26054"
    profile p;
};

struct profile_bundle {
    int schema_version = current_bundle_schema_version;
    std::string tool_version;
    std::string created_utc;
    std::vector<bundle_member> members;
};

// The member form of a profile: decisions and host facts only.
[[nodiscard]] bundle_member bundle_member_from(std::string name, const profile& p);

// A malformed member: its name ("#3" when it has none) and what is wrong, with JSON
// pointers relative to the member ("/profile/encode/kernel").
struct member_problem {
    std::string name;
    std::vector<profile_error> errors;
};

// What reading a file of profiles found: a bundle, or a single profile as a bundle of
// one (is_bundle false, its member named after the file). `errors` concern the whole
// document (not JSON, a newer bundle version, no member list): then `value` is empty.
// A malformed member never spoils the others: it is listed in `skipped`.
struct [[nodiscard]] profiles_result {
    std::optional<profile_bundle> value;
    bool is_bundle = false;
    std::vector<profile_error> errors;
    std::vector<member_problem> skipped;
};

[[nodiscard]] std::string to_json_text(const profile_bundle& b);  // one member per line
[[nodiscard]] std::vector<profile_error> validate_bundle(const profile_bundle& b);
// Reads a profile document or a bundle document, told apart by "bundle_schema_version".
[[nodiscard]] profiles_result profiles_from_json_text(std::string_view text, std::string_view single_name,
                                                      profile_parts parts = profile_parts::decisions);
[[nodiscard]] profiles_result load_profiles_file(const std::filesystem::path& path,
                                                 profile_parts parts = profile_parts::decisions);
// Validates, then writes atomically, like save_profile_atomic.
[[nodiscard]] std::vector<profile_error> save_bundle_atomic(const profile_bundle& b, const std::filesystem::path& path);
// The bundle's JSON Schema; docs/profile-bundle.schema.json is this text.
[[nodiscard]] std::string bundle_schema_text();

}  // namespace calib64::runtime
