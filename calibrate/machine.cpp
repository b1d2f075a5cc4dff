#include "machine.h"

#include "platform/cpus.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <thread>

namespace calib64::calib {

namespace {

std::string percent(double fraction) { return fmt::format("{:.0f}%", fraction * 100); }

}  // namespace

std::optional<cpu_times> parse_proc_stat(const std::string& text) {
    std::istringstream in(text);
    std::string label;
    if (!(in >> label) || label != "cpu") return std::nullopt;
    unsigned long long v[10] = {};
    int got = 0;
    while (got < 10 && in >> v[got]) ++got;
    if (got < 4) return std::nullopt;
    cpu_times t;
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
    // already counted in user.
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6];
    t.idle = v[3] + v[4];
    t.steal = v[7];
    return t;
}

machine_check check_machine(unsigned usable_cpus, int sample_ms) {
    machine_check c;
    c.usable_cpus = usable_cpus == 0 ? 1 : usable_cpus;
    {
        std::istringstream in(detail::read_os_file("/proc/loadavg"));
        double l1, l5, l15;
        if (in >> l1 >> l5 >> l15) {
            c.load1 = l1;
            c.load5 = l5;
            c.load15 = l15;
        }
    }
    const auto before = parse_proc_stat(detail::read_os_file("/proc/stat"));
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(sample_ms));
    const auto after = parse_proc_stat(detail::read_os_file("/proc/stat"));
    c.sample_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (before && after && after->total() > before->total()) {
        const double total = static_cast<double>(after->total() - before->total());
        c.busy_fraction = static_cast<double>(after->busy - before->busy) / total;
        c.steal_fraction = static_cast<double>(after->steal - before->steal) / total;
    }
    {
        std::string g = detail::read_os_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        while (!g.empty() && (g.back() == '\n' || g.back() == ' ')) g.pop_back();
        c.governor = g;
    }

    // The thresholds are deliberately loose: they flag a machine that will make the
    // numbers wrong, not one that is merely not pristine.
    const double cpus = c.usable_cpus;
    if (c.load1 && *c.load1 > 0.5 * cpus)
        c.warnings.push_back(fmt::format("load average {:.2f} on {} usable CPUs: other work competes for the cores",
                                         *c.load1, c.usable_cpus));
    if (c.busy_fraction && *c.busy_fraction > 0.2)
        c.warnings.push_back("other processes kept " + percent(*c.busy_fraction) +
                             " of the CPUs busy while calibrate sat idle");
    if (c.steal_fraction && *c.steal_fraction > 0.05)
        c.warnings.push_back("the hypervisor stole " + percent(*c.steal_fraction) + " of CPU time (shared host)");
    if (!c.governor.empty() && c.governor != "performance")
        c.notes.push_back("frequency governor is '" + c.governor +
                             "': clocks ramp with load, so short runs may read slow");
    return c;
}

std::string quiet_wait::words() const {
    if (skipped) return quiet ? "not waited for (--no-wait); the machine looked quiet" : "not waited for (--no-wait), on a busy machine";
    if (quiet && waited_s < 1) return "the machine was quiet";
    if (quiet) return fmt::format("waited {:.0f} s for the machine to settle (others' CPU use fell to {})", waited_s, percent(last_busy));
    return fmt::format("the machine did not settle in {:.0f} s (others still used {} of the CPUs): measured anyway, "
                       "expect noisy numbers",
                       waited_s, percent(last_busy));
}

quiet_wait wait_for_quiet(double max_wait_s, const std::function<machine_check()>& check,
                          const std::function<double()>& elapsed) {
    quiet_wait w;
    const double start = elapsed();
    int quiet_in_a_row = 0;
    while (true) {
        const machine_check c = check();
        ++w.windows;
        w.last_busy = c.busy_fraction.value_or(0);
        const bool quiet_now = w.last_busy <= quiet_busy_fraction && c.steal_fraction.value_or(0) <= 0.05;
        quiet_in_a_row = quiet_now ? quiet_in_a_row + 1 : 0;
        w.waited_s = elapsed() - start;
        if (quiet_in_a_row >= quiet_windows) {
            w.quiet = true;
            return w;
        }
        if (w.waited_s >= max_wait_s) return w;
    }
}

}  // namespace calib64::calib
