// Internal: the settings encode_auto / decode_auto run with, where each came from,
// and how they are resolved (profile file, environment, topology defaults).
//
// Resolution is a pure function (settings_from) so selection logic is testable
// without files, environment or timing; describe_settings() turns a resolution into
// the rows `calib64 profile show` prints, apart from it. current_settings() applies
// the resolution once per process to the real environment and keeps the immutable
// result for the life of the process (static destructors included).
#pragma once

#include <calib64/calib64.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog.h"
#include "runtime/profile.h"
#include "runtime/profile_choice.h"
#include "runtime/topology.h"

namespace calib64::runtime {

// Where a setting came from, for `calib64 profile show`.
enum class origin : std::uint8_t {
    built_in,     // a fixed library default
    topology,     // derived from the probed host
    profile,      // the calibration profile
    environment,  // a CALIB64_* variable
};
[[nodiscard]] std::string_view origin_name(origin o) noexcept;  // "default", "topology", "profile", "environment"

// A setting's origin and, where it helps, a few words: the variable, the file, why.
struct provenance {
    origin from = origin::built_in;
    std::string note;
};

// From `from_bytes` on, use `how` (until the next point). Below the first: serial.
struct threshold {
    std::uint64_t from_bytes = 0;
    backend how = backend::serial;
};

// Everything one operation needs to choose, resolved: read-only after resolution.
struct operation_settings {
    kernel_id kernel = kernel_id::automatic;
    std::optional<backend> forced;       // CALIB64_BACKEND (other than auto)
    std::vector<threshold> thresholds;   // increasing from_bytes
    std::array<parallel_options, detail::backend_count> par{};  // indexed by detail::backend_index
    // Sizes below this run serial: the fast path of encode_auto is one compare.
    // Derived from forced and thresholds by finish().
    std::uint64_t serial_below_bytes = UINT64_MAX;
    bool kernel_is_best = true;  // kernel is what `automatic` resolves to; set by finish()

    // Where each came from (for display only; choosing never reads these).
    provenance kernel_from;
    std::array<provenance, detail::backend_count> thresholds_from{};
    std::array<provenance, detail::backend_count> threads_from{};
    std::array<provenance, detail::backend_count> chunk_from{};

    [[nodiscard]] parallel_options& par_of(backend b) noexcept { return par[detail::backend_index(b)]; }

    void finish() noexcept {
        // A profile naming the kernel `automatic` picks anyway keeps encode_auto on
        // its one-compare fast path.
        kernel_is_best = kernel == kernel_id::automatic || kernel == best_kernel();
        serial_below_bytes = UINT64_MAX;
        if (forced) {
            if (*forced != backend::serial) serial_below_bytes = 0;
            return;
        }
        for (const threshold& t : thresholds) {
            if (t.how != backend::serial) {
                serial_below_bytes = t.from_bytes;
                break;
            }
        }
    }
    [[nodiscard]] choice choose(std::size_t size) const noexcept {
        backend how = backend::serial;
        if (forced) {
            how = *forced;
        } else {
            for (const threshold& t : thresholds) {
                if (size < t.from_bytes) break;
                how = t.how;
            }
        }
        return {how, kernel, par[detail::backend_index(how)]};
    }
};

struct resolved_settings {
    operation_settings encode;
    operation_settings decode;
    std::string profile_path;     // the profile in use (a file, or "bundle.json#member"); empty when none
    std::string profile_status;   // one line: which profile and why, "none found", "rejected: ..."
    std::string host_id;          // this host (host_id()), and its class in words (class_words())
    std::string host_class;
    provenance backend_from;      // CALIB64_BACKEND, or the default (auto)
    unsigned usable_cpus = 1;
    std::string usable_cpus_note;  // "allowed 2, cpu.max quota 1.5"
    // Problems found while resolving (bad variables, rejected profile). The runtime
    // hands each to the message sink once (set_message_sink; default stderr).
    std::vector<std::string> messages;

    [[nodiscard]] const operation_settings& for_op(operation op) const noexcept {
        return op == operation::encode ? encode : decode;
    }
};

using environment = std::map<std::string, std::string, std::less<>>;

// The CALIB64_* variables this library reads, documented in docs/profile.md.
[[nodiscard]] std::span<const std::string_view> known_variables() noexcept;
// This process's CALIB64_* variables (all of them, known or not), plus HOME and
// XDG_CONFIG_HOME for the profile search.
[[nodiscard]] environment process_environment();

// Pure resolution. Chooses among the candidates (choose_profile: exact, same class,
// nearest class for bundle members; CALIB64_TRUST_PROFILE), then applies the
// environment overrides, then fills the rest from the topology. Every CALIB64_* value
// is trimmed of surrounding whitespace first.
[[nodiscard]] resolved_settings settings_from(const candidate_set& candidates, const environment& env,
                                              const topology& host);
// The same for one profile file: `loaded` is the profile found by the caller (nullptr:
// none), `source` where it came from (for messages), `load_errors` why a found profile
// was rejected (then `loaded` is nullptr).
[[nodiscard]] resolved_settings settings_from(const profile* loaded, std::string_view source,
                                              const std::vector<profile_error>& load_errors,
                                              const environment& env, const topology& host);

// The default thresholds for a host without a profile (docs/profile.md explains the
// reasoning). Exposed for tests and for the calibrate driver's comparison.
[[nodiscard]] std::vector<threshold> topology_thresholds(operation op, const topology& host, kernel_id kernel);
// The topology defaults written out as a profile (made_by topology_defaults), so that
// `calib64 report compare --measure` can set them against a calibration.
[[nodiscard]] profile topology_defaults_profile(const topology& host);

// Search path: CALIB64_PROFILE alone when set (a profile, a bundle or a folder);
// otherwise calib64-profile.json and calib64-profiles.json beside the executable, then
// profile.json and profiles.json in $XDG_CONFIG_HOME/calib64 (default ~/.config). Every
// one that exists offers its profiles (decisions only); resolves against `env` and `host`.
[[nodiscard]] resolved_settings resolve_settings(const environment& env, const topology& host);
// The candidate paths in search order.
[[nodiscard]] std::vector<std::filesystem::path> profile_search_path(const environment& env);

// The settings in force in this process (resolved on first use, thread-safely,
// messages sent once). The reference stays valid for the life of the process, also
// in static destructors. Inline so that encode_auto's per-call cost is one acquire
// load and a compare.
namespace detail {
extern std::atomic<const resolved_settings*> settings_in_force;
[[nodiscard]] const resolved_settings& resolve_settings_once() noexcept;
}  // namespace detail
[[nodiscard]] inline const resolved_settings& current_settings() noexcept {
    if (const resolved_settings* s = detail::settings_in_force.load(std::memory_order_acquire)) return *s;
    return detail::resolve_settings_once();
}

// Whether current_settings() could choose other than the topology defaults' kernel
// (the best this CPU runs) and backend: settings are already in force, a CALIB64_*
// variable is set (CALIB64_TEST_* aside), or a profile file exists on the search path. Cheap (the
// environment and a few stat calls; no host probe), for callers that want only the
// kernel or a forced backend and would otherwise pay the probe for nothing.
[[nodiscard]] bool settings_may_matter();
// The part of that a person controls: settings already in force or a CALIB64_* variable
// set. Costs an environment scan only.
[[nodiscard]] bool settings_overridden();

// What encode_auto / decode_auto do, with explicit settings instead of the ones in
// force: calibration measures candidate profiles side by side with these, without
// touching the process-wide settings.
[[nodiscard]] encode_result encode_auto_with(const resolved_settings& s, std::span<const std::uint8_t> in,
                                             std::span<char> out, const encode_options& opts = {}) noexcept;
[[nodiscard]] decode_result decode_auto_with(const resolved_settings& s, std::string_view in,
                                             std::span<std::uint8_t> out, const decode_options& opts = {}) noexcept;

// Tests: put `s` in force for this process from now on, or reset so the next
// current_settings() resolves again from the process environment. Settings once in
// force stay alive (readers may hold them).
void put_in_force(resolved_settings s);
void reset_settings_in_force();

// One line of `calib64 profile show`.
struct setting_row {
    std::string name;    // "encode.kernel", "encode.work_stealing.from", "threads", ...
    std::string value;   // as a person would write it: "avx512", "256 KiB", "2"
    origin from = origin::built_in;
    std::string note;    // e.g. the variable or file it came from; may be empty
};
[[nodiscard]] std::vector<setting_row> describe_settings(const resolved_settings& s);
// `calib64 profile show`: the rows as aligned text, one per line.
[[nodiscard]] std::string format_settings(const resolved_settings& s);

// `calib64 profile check PATH` (a profile, a bundle, or a folder of result folders):
// errors make the file, or a member, unusable (a bundle's other members stay usable);
// notes are about this host (class match, kernel this CPU cannot run) and do not.
struct profile_check {
    std::string kind = "profile";  // "profile", "bundle" or "folder"
    unsigned members = 0;          // readable profiles
    std::string choice_here;       // bundle or folder: what the runtime would choose here, in words
    std::vector<profile_error> errors;
    std::vector<std::string> notes;
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};
[[nodiscard]] profile_check check_profile_file(const std::filesystem::path& path);

// Sends a message to the sink set by calib64::set_message_sink (default: stderr,
// "calib64: " + message), at most once per distinct text in this process.
void send_message(std::string_view message) noexcept;

}  // namespace calib64::runtime
