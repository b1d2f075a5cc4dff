// The lean calib64 tool and calib64-full (src/cli/meson.build): both are built from
// these sources; the lean one, which starts as fast as coreutils' base64, hands what
// needs a shared C++ library to the full one: `calibrate` and `report` (Google
// Benchmark) and a run of the work_stealing backend (oneTBB).
#pragma once

namespace calib64::cli {

#ifndef CALIB64_LEAN_TOOL
#define CALIB64_LEAN_TOOL 0
#endif
inline constexpr bool lean_tool = CALIB64_LEAN_TOOL != 0;

// main() keeps its argv here for run_full_tool.
void remember_arguments(char** argv) noexcept;

// Replaces this process with calib64-full (beside this executable), given the same
// arguments. Returns only if that fails, with exit code 1 after saying why.
int run_full_tool();

}  // namespace calib64::cli
