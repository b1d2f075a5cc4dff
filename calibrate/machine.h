// Internal: is this machine quiet enough to measure? Load average, CPU steal and
// the frequency governor, read from /proc and /sys. Missing files (containers,
// other OSes) leave the fact unknown; they never fail the calibration.
#pragma once

#include <functional>
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

// Waiting for a busy machine to settle before measuring (a build that just
// finished, a test run). Quiet means: other processes used at most
// quiet_busy_fraction of the CPUs, and steal stayed low, in `quiet_windows`
// consecutive windows. The load average is not the criterion: it is a one-minute
// average that stays high long after a build has ended.
inline constexpr double quiet_busy_fraction = 0.10;
inline constexpr int quiet_windows = 3;

struct quiet_wait {
    bool skipped = false;      // --no-wait: not waited for
    double waited_s = 0;
    bool quiet = false;        // the machine was quiet when measuring began
    int windows = 0;           // check windows sampled
    double last_busy = 0;      // others' CPU use in the last window
    [[nodiscard]] std::string words() const;  // one plain sentence for the console and the report
};

// Samples `check` (a machine_check of one short window) until quiet_windows in a row
// are quiet or `max_wait_s` has passed; `elapsed` says how long it has waited so far.
[[nodiscard]] quiet_wait wait_for_quiet(double max_wait_s, const std::function<machine_check()>& check,
                                        const std::function<double()>& elapsed);

}  // namespace calib64::calib
