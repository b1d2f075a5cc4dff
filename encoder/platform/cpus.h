// Internal: what the operating system says about the CPUs this process may use,
// and hwloc's map of the machine. The one notion of "usable CPUs" in calib64:
// the backends' default thread count, the stream's workers and the runtime's
// topology all read it from here.
//
// This is the one place below src/ that reads the OS's own files (/proc/self/cgroup
// and the cgroup's cpu.max): a mechanism that starts threads must not oversubscribe
// a CPU-limited container. It reads no configuration (docs/architecture.md).
#pragma once

#include <hwloc.h>

#include <optional>
#include <string>
#include <string_view>

namespace calib64::detail {

struct cpu_limits {
    unsigned allowed_cpus = 1;         // sched_getaffinity, which the kernel keeps inside the cgroup cpuset
    std::optional<double> quota_cpus;  // cgroup cpu.max quota / period; nullopt when unlimited or unknown
    unsigned usable_cpus = 1;          // allowed_cpus capped by ceil(quota_cpus); at least 1
    std::string note;                  // plain words when something could not be read; else empty
};

// Probes now (affinity, cgroup v2 cpu.max of this cgroup and its ancestors, cgroup v1
// CFS quota as a fallback): one sched_getaffinity call and a few small files of
// /proc and /sys; no hwloc topology is loaded. Never throws.
[[nodiscard]] cpu_limits probe_cpu_limits() noexcept;

// The rule: allowed CPUs, capped by the quota rounded up (a 2.5-CPU quota keeps three
// threads busy part of the time), at least 1.
[[nodiscard]] unsigned usable_from(unsigned allowed_cpus, std::optional<double> quota_cpus) noexcept;

// probe_cpu_limits().usable_cpus, read once per process: the threads worth running.
[[nodiscard]] unsigned usable_cpus() noexcept;

// hwloc's view of the whole machine (CPUs this process may not use included, so a
// container's limits do not change what the machine is), loaded once, thread-safely,
// and never freed: threads may still pin themselves while the process exits.
// nullptr when hwloc cannot load a topology. Read-only: callers must not modify it.
[[nodiscard]] hwloc_topology_t machine_topology() noexcept;

// A small file of the OS (/proc, /sys), whole; empty when it cannot be read.
[[nodiscard]] std::string read_os_file(const std::string& path);

// cgroup v2 cpu.max: "max 100000" -> nullopt (unlimited), "200000 100000" -> 2.0.
// Garbage -> nullopt with *error set (when given).
[[nodiscard]] std::optional<double> parse_cpu_max(std::string_view text, std::string* error = nullptr);

}  // namespace calib64::detail
