// The subcommand table. One row per subcommand; see commands.h for how to add one.
#include "commands.h"

#include <array>

#include "full_tool.h"

#if CALIB64_WITH_CALIBRATE && !CALIB64_LEAN_TOOL
#include "calibrate.h"  // calibrate/: run_calibrate, run_report
#endif

namespace calib64::cli {

namespace {
#if CALIB64_WITH_CALIBRATE  // meson -Dcalibrate=disabled builds the tools without them
#if CALIB64_LEAN_TOOL
// Google Benchmark is not linked into the lean tool: calib64-full runs these.
int run_calibrate(int, char**) { return run_full_tool(); }
int run_report(int, char**) { return run_full_tool(); }
#else
using calib64::run_calibrate;
using calib64::run_report;
#endif
#endif

constexpr std::array table{
    subcommand{"encode", "encode FILE (or stdin) to base64, the default", run_encode},
    subcommand{"decode", "decode base64 (same as -d)", run_decode},
#if CALIB64_WITH_CALIBRATE
    subcommand{"calibrate", "measure this host; write results/<host-id>/profile.json and report.md", run_calibrate},
    subcommand{"report", "report compare [--measure] A B: two calibration profiles side by side", run_report},
#endif
    subcommand{"profile", "profile show | check PATH | bundle OUT PATH... | defaults OUT | schema: settings in force; profiles and bundles", run_profile},
};
}  // namespace

std::span<const subcommand> subcommands() noexcept { return table; }

}  // namespace calib64::cli
