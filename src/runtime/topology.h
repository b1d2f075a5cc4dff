// Internal: what this host is, as far as choosing a backend is concerned.
//
// Probed once from the process's one hwloc topology and CPU limits (encoder/platform:
// affinity, cpuset, cgroup quota), /proc/cpuinfo and the kernels this CPU runs. Never reports a zero cache
// size or core count: missing facts fall back to safe values and say so in
// `fallbacks`, so callers can divide by them without checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calib64::runtime {

// Used when neither L3 nor L2 size is reported (common in VMs): big enough that
// "fits in cache" thresholds stay sensible, small enough not to overstate.
inline constexpr std::uint64_t fallback_cache_bytes = 8ull << 20;
// Cache sizes above these are hypervisor noise, not hardware (see apply_fallbacks).
inline constexpr std::uint64_t implausible_l3_bytes = 256ull << 20;
inline constexpr std::uint64_t implausible_l2_bytes = 64ull << 20;

struct topology {
    unsigned packages = 1;
    unsigned cores = 1;            // physical cores in the machine (hwloc Core objects)
    unsigned pus = 1;              // hardware threads
    std::uint64_t l1d_bytes = 0;   // per core; never 0 after probing
    std::uint64_t l2_bytes = 0;    // per L2 instance; never 0 after probing
    std::uint64_t l3_bytes = 0;    // per L3 instance (one CCX on AMD); never 0 after probing
    unsigned l3_count = 1;         // L3 instances in the machine (several per package on AMD)
    unsigned cores_per_l3 = 1;     // cores sharing one L3
    unsigned numa_nodes = 1;
    unsigned cpukinds = 1;         // >1 on hybrid CPUs (P/E cores), from hwloc_cpukinds_get_nr

    // What this process may use (detail::probe_cpu_limits): the intersection of
    // hwloc's allowed cpuset (cgroup cpuset) and sched_getaffinity, the cgroup
    // cpu.max quota in CPUs (nullopt when unlimited or unknown), and the threads worth
    // running: detail::usable_from(allowed_cpus, cpu_quota). Limits, not identity.
    unsigned allowed_cpus = 1;
    std::optional<double> cpu_quota;
    unsigned usable_cpus = 1;

    std::string cpu_vendor;        // "AuthenticAMD", "GenuineIntel", "ARM", ...
    std::string cpu_model;         // "AMD EPYC 9xx5 ..." (/proc/cpuinfo or hwloc CPUModel)
    int cpu_family = -1;           // x86 family number, -1 when unknown
    int cpu_model_number = -1;     // x86 model number, -1 when unknown
    std::vector<std::string> simd_kernels;  // available_kernels() names, best first

    // Plain-words notes on facts that were missing and replaced by fallbacks,
    // e.g. "l3: not reported; using l2 size". Empty on a fully described host.
    std::vector<std::string> fallbacks;
};

// Probes this host (hwloc, /proc, /sys). Never throws; on any failure it returns
// a one-CPU machine with fallback caches and notes in `fallbacks`.
[[nodiscard]] topology probe_topology() noexcept;

// hwloc dlopens its I/O plugins (OpenCL, GL, PCI, libxml2) on first use; none of them
// matters to calib64 and on this development VM they cost 100-200 ms of the first
// encode_auto call. This sets HWLOC_PLUGINS_BLACKLIST to skip them unless the user has
// set it. setenv is not thread-safe: call it first thing in main(), before any thread
// starts (the calib64 tool does); libraries must not call it on behalf of applications.
void skip_hwloc_io_plugins() noexcept;

// probe_topology() once per process (thread-safe, cached).
[[nodiscard]] const topology& host_topology() noexcept;

// Fills zero or implausible caches (L3 -> L2 -> fallback_cache_bytes, L2 -> min(L3,
// 512 KiB), L1d -> min(L2, 32 KiB)) and zero counts with safe values, noting each in `fallbacks`. probe_topology()
// applies it; exposed so the rule is testable.
void apply_fallbacks(topology& t);

// Stable identity of the facts that change how fast calib64 runs: vendor, model,
// family, cores, PUs, packages, caches, L3 sharing, NUMA nodes, cpukinds, SIMD
// kernels. Deliberately NOT the allowed-CPU count, quota or load, which vary per run.
// 16 hex digits (FNV-1a 64 over canonical_host_facts()).
[[nodiscard]] std::string fingerprint(const topology& t);
[[nodiscard]] std::string canonical_host_facts(const topology& t);

// Short readable id usable as a directory name: "<family>-<cores>c-<l3>m-<hash8>",
// e.g. "zen5-2c-32m-1a2b3c4d". Only [a-z0-9-].
[[nodiscard]] std::string host_id(const topology& t);

}  // namespace calib64::runtime
