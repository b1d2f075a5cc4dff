// The subcommand table. One row per subcommand; see commands.h for how to add one.
#include "commands.h"

#include <array>
#include <cstdio>

#include "full_tool.h"

#if CALIB64_WITH_CALIBRATE && !CALIB64_LEAN_TOOL
#include "calibrate.h"  // calibrate/: run_calibrate, run_report
#endif

namespace calib64::cli {

namespace {
#if !CALIB64_WITH_CALIBRATE
// meson -Dcalibrate=disabled (the CI's sanitizer build) leaves the driver out; the
// commands stay known, so `calib64 calibrate` says so rather than "cannot open".
int not_built(const char* command) {
    std::fprintf(stderr, "calib64: %s: not in this build (configured with meson -Dcalibrate=disabled)\n", command);
    return 1;
}
int run_calibrate(int, char**) { return not_built("calibrate"); }
int run_report(int, char**) { return not_built("report"); }
#elif CALIB64_LEAN_TOOL
// Google Benchmark is not linked into the lean tool: calib64-full runs these.
int run_calibrate(int, char**) { return run_full_tool(); }
int run_report(int, char**) { return run_full_tool(); }
#else
using calib64::run_calibrate;
using calib64::run_report;
#endif

constexpr std::array table{
    subcommand{"encode", "encode FILE (or stdin) to base64, the default", run_encode},
    subcommand{"decode", "decode base64 (same as -d)", run_decode},
    subcommand{"calibrate", "measure this host; write results/<host-id>/profile.json and report.md", run_calibrate},
    subcommand{"report", "report compare [--measure] A B: two calibration profiles side by side", run_report},
    subcommand{"profile", "profile show | check PATH | bundle OUT PATH... | defaults OUT | schema: settings in force; profiles and bundles", run_profile},
};
}  // namespace

std::span<const subcommand> subcommands() noexcept { return table; }

}  // namespace calib64::cli
