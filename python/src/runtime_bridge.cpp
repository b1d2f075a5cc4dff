// See runtime_bridge.h: the only translation unit of python/ that includes runtime internals.
#include "runtime_bridge.h"

#include "runtime/settings.h"

namespace calib64::python {

settings_snapshot current_settings_snapshot() {
    const runtime::resolved_settings& s = runtime::current_settings();
    settings_snapshot out{s.profile_path, s.profile_status, {}, s.messages};
    for (const runtime::setting_row& row : runtime::describe_settings(s))
        out.lines.push_back({row.name, row.value, std::string(runtime::origin_name(row.from)), row.note});
    return out;
}

}  // namespace calib64::python
