// Internal: how close a profile's host is to this one (docs/profile.md, "Host
// identity"). Three levels: the exact fingerprint; the *host class*, the facts that
// make two machines behave alike for calib64 (a fleet of identical VMs shares it even
// when their hypervisors report different L3 sizes); and for everything else a
// distance, so a bundle can offer its nearest member. Limits (allowed CPUs, quota)
// are never part of either: they are how a process runs, not what the machine is.
#pragma once

#include <string>
#include <vector>

#include "runtime/profile.h"

namespace calib64::runtime {

enum class host_match : std::uint8_t { exact, same_class, foreign };
[[nodiscard]] std::string_view host_match_name(host_match m) noexcept;  // "exact", "same class", "foreign"

// The nearest class is used only up to this distance (docs/profile.md explains the scale:
// a factor of two in cores costs 2, another vendor with the same shape about 1).
inline constexpr double nearest_class_limit = 3.0;

struct host_comparison {
    host_match level = host_match::foreign;
    // exact / same class: the facts outside the class that differ, in words ("cpu model",
    // "L3 1 MiB vs 32 MiB (not compared: the profile's L3 was not reported plausibly)").
    // foreign: the class facts that differ ("vendor AuthenticAMD vs GenuineIntel").
    std::vector<std::string> differences;
    double distance = 0;  // 0 for exact and same class
};

// Whether the L3 facts of `h` are a real reading: no L3 fallback noted, not above
// implausible_l3_bytes, and not a copy of the L2 (the L3 -> L2 fallback), which is how
// a profile older than the `fallbacks` field shows a missing L3.
[[nodiscard]] bool l3_reported(const host_summary& h) noexcept;

// Compares the host a profile was measured on with `here` (summarize(this topology)).
[[nodiscard]] host_comparison compare_hosts(const host_summary& measured, const host_summary& here);

// Whether every kernel the measuring host ran, and the kernel each operation names,
// also runs on `here`: a profile tuned for a kernel this CPU lacks describes another speed.
[[nodiscard]] bool kernels_runnable_here(const profile& p, const host_summary& here);

// The class facts in words, for `calib64 profile show`:
// "GenuineIntel 6/106, 2 cores, 2 PUs, L1d 48 KiB, L2 1.25 MiB, L3 48 MiB, 1 NUMA node, avx512 avx2 scalar".
[[nodiscard]] std::string class_words(const host_summary& h);

// The threads a profile was calibrated with: its allowed CPUs capped by its quota.
[[nodiscard]] unsigned calibrated_usable_cpus(const host_summary& h) noexcept;

}  // namespace calib64::runtime
