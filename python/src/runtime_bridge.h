// The one place the Python module reaches past the public header: what
// `calib64 profile show` prints, as plain data. Everything else in python/ uses
// <calib64/calib64.h> only, so a change to src/runtime/settings.h touches this file
// (and runtime_bridge.cpp) alone.
#pragma once

#include <string>
#include <vector>

namespace calib64::python {

struct setting_line {
    std::string name;    // "encode.kernel", "encode.work_stealing.from_bytes", ...
    std::string value;   // as printed: "avx512", "256 KiB"
    std::string origin;  // "default", "topology", "profile", "environment"
    std::string note;    // may be empty
};

struct settings_snapshot {
    std::string profile_path;    // empty when no profile is in use
    std::string profile_status;  // the `profile:` line of `calib64 profile show`
    std::vector<setting_line> lines;
    std::vector<std::string> messages;  // problems found while resolving (already printed once)
};

// The settings encode_auto / decode_auto run with in this process (resolving them
// on first use). May throw std::bad_alloc.
[[nodiscard]] settings_snapshot current_settings_snapshot();

}  // namespace calib64::python
