// The subcommand table. One row per subcommand; see commands.h for how to add one.
#include "commands.h"

#if CALIB64_WITH_CALIBRATE
#include "calibrate.h"  // calibrate/: run_calibrate, run_report
#endif

#include <array>

namespace calib64::cli {

namespace {
constexpr subcommand table[] = {
    {"encode", "encode FILE (or stdin) to base64, the default", run_encode},
    {"decode", "decode base64 (same as -d)", run_decode},
#if CALIB64_WITH_CALIBRATE  // meson -Dcalibrate=disabled builds the tool without them
    {"calibrate", "measure this host; write results/<host-id>/profile.json and report.md", calib64::run_calibrate},
    {"report", "report compare [--measure] A B: two calibration profiles side by side", calib64::run_report},
#endif
    {"profile", "profile show | check PATH | bundle OUT PATH... | defaults OUT | schema: settings in force; profiles and bundles",
     run_profile},
};
}  // namespace

std::span<const subcommand> subcommands() noexcept { return table; }

}  // namespace calib64::cli
