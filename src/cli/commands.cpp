// The subcommand table. One row per subcommand; see commands.h for how to add one.
#include "commands.h"

#include "calibrate.h"  // calibrate/: run_calibrate, run_report

#include <array>

namespace calib64::cli {

namespace {
constexpr std::array table{
    subcommand{"encode", "encode FILE (or stdin) to base64, the default", run_encode},
    subcommand{"decode", "decode base64 (same as -d)", run_decode},
    subcommand{"calibrate", "measure this host; write results/<host-id>/profile.json and report.md", calib64::run_calibrate},
    subcommand{"report", "report compare [--measure] A B: two calibration profiles side by side", calib64::run_report},
    subcommand{"profile", "profile show | check PATH | bundle OUT PATH... | defaults OUT | schema: settings in force; profiles and bundles", run_profile},
};
}  // namespace

std::span<const subcommand> subcommands() noexcept { return table; }

}  // namespace calib64::cli
