// Internal: is this machine quiet enough to measure? Load average, CPU steal and
// the frequency governor, read from /proc and /sys. Missing files (containers,
// other OSes) leave the fact unknown; they never fail the calibration.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace calib64::calib {

struct cpu_times {
    unsigned long long busy = 0;   // user + nice + system + irq + softirq
    unsigned long long idle = 0;   // idle + iowait
    unsigned long long steal = 0;
    [[nodiscard]] unsigned long long total() const noexcept { return busy + idle + steal; }
};
// The aggregate "cpu" line of /proc/stat text.
[[nodiscard]] std::optional<cpu_times> parse_proc_stat(const std::string& text);

struct machine_check {
    std::optional<double> load1, load5, load15;
    std::optional<double> busy_fraction;   // of all CPUs, used by others while we sat idle
    std::optional<double> steal_fraction;  // of all CPUs, taken by the hypervisor
    double sample_ms = 0;
    std::string governor;                  // cpu0 scaling_governor, "" when not visible
    unsigned usable_cpus = 1;
    std::vector<std::string> warnings;     // the machine is busy: plain words; empty when quiet
    std::vector<std::string> notes;        // worth knowing, not a reason to distrust (governor)
    [[nodiscard]] bool busy() const noexcept { return !warnings.empty(); }
};

// Samples /proc/stat over `sample_ms` while this thread sleeps.
[[nodiscard]] machine_check check_machine(unsigned usable_cpus, int sample_ms = 200);

}  // namespace calib64::calib
