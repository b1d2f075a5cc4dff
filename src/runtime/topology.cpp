// Host probe: hwloc for the machine's shape, /proc and /sys for what hwloc does not
// see (cgroup CPU quota, CPU model when hwloc has no info), available_kernels() for
// SIMD. Every fact has a safe fallback so callers never divide by zero.
#include "runtime/topology.h"

#include "platform/cpus.h"
#include "platform/text.h"

#include <calib64/calib64.h>

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace calib64::runtime {
namespace {

using detail::trim;

// "vendor_id", "cpu family", "model", "model name" from /proc/cpuinfo (first CPU).
void read_cpuinfo(topology& t) {
    const std::string text = detail::read_os_file("/proc/cpuinfo");
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) break;  // end of the first CPU's block
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key(trim(std::string_view(line).substr(0, colon)));
        const std::string value(trim(std::string_view(line).substr(colon + 1)));
        std::uint64_t number = 0;
        if (key == "vendor_id" && t.cpu_vendor.empty()) t.cpu_vendor = value;
        else if (key == "model name" && t.cpu_model.empty()) t.cpu_model = value;
        else if (key == "cpu family" && t.cpu_family < 0 && detail::parse_decimal(value, number)) t.cpu_family = static_cast<int>(number);
        else if (key == "model" && t.cpu_model_number < 0 && detail::parse_decimal(value, number)) t.cpu_model_number = static_cast<int>(number);
        else if (key == "CPU implementer" && t.cpu_vendor.empty()) t.cpu_vendor = "ARM implementer " + value;
    }
}

unsigned count_of(hwloc_topology_t topo, hwloc_obj_type_t type) {
    const int n = hwloc_get_nbobjs_by_type(topo, type);
    return n > 0 ? static_cast<unsigned>(n) : 0;
}

void probe_with_hwloc(topology& t) {
    const hwloc_topology_t topo = detail::machine_topology();  // the process's one topology
    if (topo == nullptr) {
        t.fallbacks.push_back("hwloc: could not load the topology; assuming one CPU");
        return;
    }
    t.packages = count_of(topo, HWLOC_OBJ_PACKAGE);
    t.cores = count_of(topo, HWLOC_OBJ_CORE);
    t.pus = count_of(topo, HWLOC_OBJ_PU);
    t.numa_nodes = count_of(topo, HWLOC_OBJ_NUMANODE);
    t.l3_count = count_of(topo, HWLOC_OBJ_L3CACHE);

    for (int i = 0; i < hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_L1CACHE); ++i) {
        const hwloc_obj_t c = hwloc_get_obj_by_type(topo, HWLOC_OBJ_L1CACHE, static_cast<unsigned>(i));
        if (c->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION) continue;
        t.l1d_bytes = std::max<std::uint64_t>(t.l1d_bytes, c->attr->cache.size);
    }
    if (const hwloc_obj_t l2 = hwloc_get_obj_by_type(topo, HWLOC_OBJ_L2CACHE, 0)) t.l2_bytes = l2->attr->cache.size;
    if (const hwloc_obj_t l3 = hwloc_get_obj_by_type(topo, HWLOC_OBJ_L3CACHE, 0)) {
        t.l3_bytes = l3->attr->cache.size;
        const int sharing = hwloc_get_nbobjs_inside_cpuset_by_type(topo, l3->cpuset, HWLOC_OBJ_CORE);
        t.cores_per_l3 = sharing > 0 ? static_cast<unsigned>(sharing) : 0;
    }

    const int kinds = hwloc_cpukinds_get_nr(topo, 0);
    t.cpukinds = kinds > 0 ? static_cast<unsigned>(kinds) : 1;

    if (const hwloc_obj_t package = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0)) {
        auto info = [&](const char* name) -> std::string {
            const char* v = hwloc_obj_get_info_by_name(package, name);
            return v ? std::string(trim(v)) : std::string();
        };
        t.cpu_vendor = info("CPUVendor");
        t.cpu_model = info("CPUModel");
        std::uint64_t number = 0;
        if (detail::parse_decimal(info("CPUFamilyNumber"), number)) t.cpu_family = static_cast<int>(number);
        if (detail::parse_decimal(info("CPUModelNumber"), number)) t.cpu_model_number = static_cast<int>(number);
    }
}

// FNV-1a, 64 bit: tiny, stable across builds and platforms, good enough to tell hosts apart.
std::uint64_t fnv1a64(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

std::string hex(std::uint64_t v, int digits) { return fmt::format("{:016x}", v).substr(16 - static_cast<std::size_t>(digits)); }

// Microarchitecture family for the readable id, from the x86 family/model numbers.
std::string family_tag(const topology& t) {
    const bool amd = t.cpu_vendor == "AuthenticAMD";
    const bool intel = t.cpu_vendor == "GenuineIntel";
    const int f = t.cpu_family, m = t.cpu_model_number;
    if (amd && f == 0x17) return m >= 0x30 ? "zen2" : "zen1";
    if (amd && f == 0x19) return (m >= 0x10 && m < 0x20) || (m >= 0x60 && m < 0xb0) ? "zen4" : "zen3";
    if (amd && f == 0x1a) return "zen5";
    if (amd) return "amd";
    if (intel) return "intel";
    if (t.cpu_vendor.rfind("ARM", 0) == 0) return "arm";
    return "cpu";
}

}  // namespace

void apply_fallbacks(topology& t) {
    auto note = [&](std::string s) { t.fallbacks.push_back(std::move(s)); };
    if (t.pus == 0) { t.pus = std::max(1u, t.cores); note("pus: not reported; assuming one per core"); }
    if (t.cores == 0) { t.cores = t.pus; note("cores: not reported; assuming one per PU"); }
    if (t.packages == 0) { t.packages = 1; note("packages: not reported; assuming 1"); }
    if (t.numa_nodes == 0) { t.numa_nodes = 1; note("numa_nodes: not reported; assuming 1"); }
    // Some hypervisors report nonsense through cpuid (this development VM: a 508 MiB
    // L3 per core). The largest real L3 slice is ~96 MiB (3D V-Cache), so anything past
    // 256 MiB per instance is treated as not reported; likewise an L2 past 64 MiB.
    if (t.l3_bytes > implausible_l3_bytes) {
        note("l3: reported " + std::to_string(t.l3_bytes >> 20) + " MiB per instance, implausible; treated as not reported");
        t.l3_bytes = 0;
    }
    if (t.l2_bytes > implausible_l2_bytes) {
        note("l2: reported " + std::to_string(t.l2_bytes >> 20) + " MiB per instance, implausible; treated as not reported");
        t.l2_bytes = 0;
    }
    if (t.l3_bytes == 0) {
        if (t.l2_bytes != 0) {
            t.l3_bytes = t.l2_bytes;
            note("l3: not reported; using the L2 size");
        } else {
            t.l3_bytes = fallback_cache_bytes;
            note("l3: not reported, nor L2; assuming 8 MiB");
        }
        t.l3_count = t.packages;
        t.cores_per_l3 = std::max(1u, t.cores / t.l3_count);
    }
    if (t.l2_bytes == 0) {
        t.l2_bytes = std::min<std::uint64_t>(t.l3_bytes, 512u << 10);
        note("l2: not reported; assuming min(L3, 512 KiB)");
    }
    if (t.l1d_bytes == 0) {
        t.l1d_bytes = std::min<std::uint64_t>(t.l2_bytes, 32u << 10);
        note("l1d: not reported; assuming min(L2, 32 KiB)");
    }
    if (t.l3_count == 0) { t.l3_count = t.packages; note("l3_count: not reported; assuming one per package"); }
    if (t.cores_per_l3 == 0) {
        t.cores_per_l3 = std::max(1u, t.cores / t.l3_count);
        note("cores_per_l3: not reported; assuming cores / l3_count");
    }
    if (t.cpukinds == 0) t.cpukinds = 1;
    if (t.allowed_cpus == 0) { t.allowed_cpus = 1; note("allowed_cpus: unknown; assuming 1"); }
    t.usable_cpus = detail::usable_from(t.allowed_cpus, t.cpu_quota);
    if (t.cpu_model.empty()) t.cpu_model = "unknown";
    if (t.cpu_vendor.empty()) t.cpu_vendor = "unknown";
}

topology probe_topology() noexcept {
    topology t;
    t.packages = t.cores = t.pus = t.numa_nodes = t.l3_count = t.cores_per_l3 = t.allowed_cpus = 0;
    try {
        probe_with_hwloc(t);
        if (t.cpu_vendor.empty() || t.cpu_model.empty() || t.cpu_family < 0) read_cpuinfo(t);
        const detail::cpu_limits limits = detail::probe_cpu_limits();  // the backends' own notion
        t.allowed_cpus = limits.allowed_cpus;
        t.cpu_quota = limits.quota_cpus;
        if (!limits.note.empty()) t.fallbacks.push_back(limits.note);
        for (kernel_id k : available_kernels()) t.simd_kernels.emplace_back(kernel_name(k));
        apply_fallbacks(t);
    } catch (...) {  // std::bad_alloc from strings: degrade to the safe machine
        topology safe;
        safe.l1d_bytes = 32u << 10;
        safe.l2_bytes = 512u << 10;
        safe.l3_bytes = fallback_cache_bytes;
        safe.fallbacks = {"probe failed; assuming a one-CPU machine"};
        return safe;
    }
    return t;
}

void skip_hwloc_io_plugins() noexcept {
    ::setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_opencl,hwloc_gl,hwloc_pci,hwloc_xml_libxml,hwloc_cuda,hwloc_nvml,hwloc_rsmi,hwloc_levelzero", 0);
}

const topology& host_topology() noexcept {
    // Never freed: static destructors may still resolve settings at exit.
    static const topology* t = new (std::nothrow) topology(probe_topology());
    static const topology fallback{};
    return t ? *t : fallback;
}

std::string canonical_host_facts(const topology& t) {
    std::string s;
    auto add = [&](std::string_view key, const std::string& value) {
        s.append(key).append("=").append(value).append(";");
    };
    add("vendor", t.cpu_vendor);
    add("model", t.cpu_model);
    add("family", std::to_string(t.cpu_family));
    add("model_number", std::to_string(t.cpu_model_number));
    add("packages", std::to_string(t.packages));
    add("cores", std::to_string(t.cores));
    add("pus", std::to_string(t.pus));
    add("l1d", std::to_string(t.l1d_bytes));
    add("l2", std::to_string(t.l2_bytes));
    add("l3", std::to_string(t.l3_bytes));
    add("l3_count", std::to_string(t.l3_count));
    add("cores_per_l3", std::to_string(t.cores_per_l3));
    add("numa", std::to_string(t.numa_nodes));
    add("cpukinds", std::to_string(t.cpukinds));
    std::string kernels;
    for (const auto& k : t.simd_kernels) kernels.append(kernels.empty() ? "" : ",").append(k);
    add("kernels", kernels);
    return s;
}

std::string fingerprint(const topology& t) { return hex(fnv1a64(canonical_host_facts(t)), 16); }

std::string host_id(const topology& t) {
    const std::uint64_t l3_mib = std::max<std::uint64_t>(1, (t.l3_bytes + (1u << 19)) >> 20);
    return family_tag(t) + "-" + std::to_string(t.cores) + "c-" + std::to_string(l3_mib) + "m-" +
           fingerprint(t).substr(0, 8);
}

}  // namespace calib64::runtime
