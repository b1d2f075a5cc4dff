// Usable CPUs and the machine's hwloc topology: read from the OS once.
#include "platform/cpus.h"

#include <sched.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "platform/text.h"

namespace calib64::detail {
namespace {

// The tightest quota over the cgroup and its ancestors (a parent's limit binds its
// children): cgroup v2 first (pure or hybrid mount), then v1's CFS files.
std::optional<double> probe_cpu_quota() {
    const std::string self = read_os_file("/proc/self/cgroup");
    std::string v2_path, v1_cpu_path;
    std::istringstream lines(self);
    for (std::string line; std::getline(lines, line);) {
        // "hierarchy-id:controllers:path"
        const auto first = line.find(':');
        const auto second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (line.compare(0, first, "0") == 0 && controllers.empty()) v2_path = path;
        std::istringstream names(controllers);
        for (std::string name; std::getline(names, name, ',');)
            if (name == "cpu") v1_cpu_path = path;
    }
    std::optional<double> tightest;
    auto consider = [&](std::optional<double> q) {
        if (q && (!tightest || *q < *tightest)) tightest = q;
    };
    if (!v2_path.empty()) {
        for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
            std::string path = v2_path;
            while (true) {
                const std::string text = read_os_file(std::string(mount) + path + "/cpu.max");
                if (!text.empty()) consider(parse_cpu_max(text));
                if (path.empty() || path == "/") break;
                const auto slash = path.rfind('/');
                path = slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
            }
        }
    }
    if (!v1_cpu_path.empty()) {
        for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
            const std::string base = std::string(mount) + (v1_cpu_path == "/" ? "" : v1_cpu_path);
            const std::string quota(trim(read_os_file(base + "/cpu.cfs_quota_us")));
            const std::string period(trim(read_os_file(base + "/cpu.cfs_period_us")));
            if (quota.empty() || period.empty() || quota == "-1") continue;
            consider(parse_cpu_max(quota + " " + period));
        }
    }
    return tightest;
}

// CPUs in this thread's affinity mask; 0 on failure. The kernel keeps the mask
// inside the cpuset cgroup (writing a cpuset updates its tasks' masks, and
// sched_setaffinity is clipped to it), so this is already affinity AND cpuset,
// without loading a topology.
unsigned affinity_cpus() noexcept {
    for (int cpus = 1024; cpus <= (1 << 20); cpus *= 4) {
        cpu_set_t* mask = CPU_ALLOC(cpus);
        if (mask == nullptr) return 0;
        const std::size_t size = CPU_ALLOC_SIZE(cpus);
        CPU_ZERO_S(size, mask);
        const bool ok = sched_getaffinity(0, size, mask) == 0;
        const int error_number = errno;  // before CPU_FREE, whose free() may change it
        const int count = ok ? CPU_COUNT_S(size, mask) : 0;
        CPU_FREE(mask);
        if (ok) return static_cast<unsigned>(count);
        if (error_number != EINVAL) break;  // EINVAL: mask too small for the kernel's CPU count
    }
    return 0;
}

hwloc_topology_t load_machine_topology() noexcept {
    hwloc_topology_t topo = nullptr;
    if (hwloc_topology_init(&topo) != 0) return nullptr;
    // The whole machine, not only what our cgroup allows; the allowed set is read apart.
    hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    // PCI, OpenCL and GPU objects tell calib64 nothing and cost milliseconds.
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        return nullptr;
    }
    return topo;
}

}  // namespace

std::string read_os_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::optional<double> parse_cpu_max(std::string_view text, std::string* error) {
    auto fail = [&](const char* why) -> std::optional<double> {
        if (error) *error = why;
        return std::nullopt;
    };
    text = trim(text);
    const auto space = text.find_first_of(" \t");
    const std::string_view quota = text.substr(0, space);
    const std::string_view period = space == std::string_view::npos ? std::string_view() : trim(text.substr(space));
    if (error) error->clear();
    std::uint64_t period_us = 100000;  // the kernel's default when only the quota is written
    if (!period.empty() && (!parse_decimal(period, period_us) || period_us == 0))
        return fail("period is not a positive whole number of microseconds");
    if (quota == "max") return std::nullopt;  // unlimited: no error
    std::uint64_t quota_us = 0;
    if (!parse_decimal(quota, quota_us) || quota_us == 0)
        return fail("quota is neither \"max\" nor a positive whole number of microseconds");
    return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

hwloc_topology_t machine_topology() noexcept {
    static const hwloc_topology_t topology = load_machine_topology();  // deliberately never destroyed
    return topology;
}

cpu_limits probe_cpu_limits() noexcept {
    cpu_limits limits;
    try {
        unsigned allowed = affinity_cpus();
        if (allowed == 0) {
            allowed = std::thread::hardware_concurrency();
            limits.note = "sched_getaffinity failed; using the hardware thread count";
        }
        limits.allowed_cpus = allowed > 0 ? allowed : 1;
        limits.quota_cpus = probe_cpu_quota();
    } catch (...) {  // std::bad_alloc from strings: one CPU is always safe
        limits = {};
        limits.note = "probe failed; assuming one CPU";
    }
    limits.usable_cpus = usable_from(limits.allowed_cpus, limits.quota_cpus);
    return limits;
}

unsigned usable_from(unsigned allowed_cpus, std::optional<double> quota_cpus) noexcept {
    unsigned usable = allowed_cpus > 0 ? allowed_cpus : 1;
    if (quota_cpus) {
        const double ceiling = std::ceil(*quota_cpus - 1e-9);
        if (ceiling < usable) usable = ceiling >= 1 ? static_cast<unsigned>(ceiling) : 1;
    }
    return usable;
}

unsigned usable_cpus() noexcept {
    static const unsigned cpus = probe_cpu_limits().usable_cpus;
    return cpus;
}

}  // namespace calib64::detail
