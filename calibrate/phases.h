// Internal: the calibration's phases, each a unit the driver calls in order. A
// phase builds its cells from the workload, measures them through the measurer
// (with the drift reference cell added), decides, and records what it found in the
// calibration. Nothing here knows whether the measurer is Google Benchmark or a
// synthetic one: the tests run every phase on known curves.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "internal.h"
#include "measure.h"
#include "workload.h"

namespace calib64::calib {

struct phase_context {
    measurer& m;
    workload& w;
    calibration& cal;
    std::string error;  // why the last phase failed
    int redos_left = 2; // phases measured again because the machine drifted, at most
    // Seconds since measuring began, and when it must end (cal.mode.time_limit_s):
    // a phase gets at most what is left. The tests keep the defaults: no limit.
    std::function<double()> elapsed = [] { return 0.0; };
    double deadline_s = 1e300;
    [[nodiscard]] double remaining_s() const { return deadline_s - elapsed(); }
};

// memcpy with one thread and with a spinning team of all usable threads; the
// all-threads line counts only where it is a real ceiling (at or above one thread).
bool measure_roofline(phase_context& ctx);
// Every kernel this CPU runs against the best one, in and out of cache.
bool choose_kernels(phase_context& ctx);
// Threads and chunk sizes per parallel backend against the library's defaults.
bool tune_backends(phase_context& ctx);
// Every backend over the size grid, then bisection where the plan switches.
bool sweep_sizes(phase_context& ctx);
// Kernels, tuning and switch points (from the sweep's plan) into cal.prof.
void write_decisions(calibration& cal);
// Each switch point whose interval is wide, head to head: the profile switching
// before each contest size against the one switching after it.
// Only the operations in `ops` (by default both); within `budget_s` (default: the mode's).
bool settle_switches(phase_context& ctx,
                     std::vector<runtime::operation> ops = {runtime::operation::encode, runtime::operation::decode},
                     double budget_s = -1);
// encode_auto / decode_auto under cal.prof against every fixed backend at fresh
// held-out sizes.
bool validate(phase_context& ctx, const std::string& phase_name, std::vector<validation_detail>& out,
              double budget_s = -1);
// Where validation found auto beaten by a call it did not make: those sizes join the
// sweep, the plan is made again and the switches of the operations it changed are
// contested again; a second validation judges the result. Nothing to do (true) when
// no size calls for it; skipped, and said so, when the time limit leaves too little.
bool repair(phase_context& ctx);
// Curves, stability notes and drift findings into cal.prof.
void write_audit(calibration& cal);

// The sizes measured for a calibration (exposed for tests).
[[nodiscard]] std::vector<std::uint64_t> size_grid(const mode_config& m, std::uint64_t max_bytes, std::uint64_t granule);

}  // namespace calib64::calib
