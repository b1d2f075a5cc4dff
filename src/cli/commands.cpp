// The subcommand table. One row per subcommand; see commands.h for how to add one.
#include "commands.h"

#include <array>

namespace calib64::cli {

namespace {
constexpr std::array table{
    subcommand{"encode", "encode FILE (or stdin) to base64, the default", run_encode},
    subcommand{"decode", "decode base64 (same as -d)", run_decode},
};
}  // namespace

std::span<const subcommand> subcommands() noexcept { return table; }

}  // namespace calib64::cli
