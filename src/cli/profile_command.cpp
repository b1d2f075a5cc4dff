// `calib64 profile show`, `calib64 profile check FILE`, `calib64 profile schema`.
#include <cstdio>
#include <string>
#include <string_view>

#include "commands.h"
#include "runtime/settings.h"

namespace calib64::cli {
namespace {

int usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: calib64 profile show          settings encode_auto/decode_auto use here, and where each came from\n"
                 "       calib64 profile check FILE    validate a calibration profile (exit 0: usable)\n"
                 "       calib64 profile schema        print the profile's JSON Schema (docs/profile.schema.json)\n");
    return to == stdout ? 0 : 1;
}

int show() {
    const runtime::resolved_settings& s = runtime::current_settings();  // prints its messages once
    std::printf("profile: %s\n", s.profile_status.c_str());
    std::fputs(runtime::format_settings(s).c_str(), stdout);
    return 0;
}

int check(const char* path) {
    const runtime::profile_check c = runtime::check_profile_file(path);
    for (const runtime::profile_error& e : c.errors) std::printf("error: %s\n", runtime::to_string(e).c_str());
    for (const std::string& n : c.notes) std::printf("note: %s\n", n.c_str());
    std::printf("%s: %s\n", path, c.ok() ? "valid profile" : "NOT a usable profile");
    return c.ok() ? 0 : 1;
}

}  // namespace

int run_profile(int argc, char** argv) {
    const std::string_view what = argc >= 2 ? argv[1] : "";
    if (what == "show" && argc == 2) return show();
    if (what == "check" && argc == 3) return check(argv[2]);
    if (what == "schema" && argc == 2) return std::fputs(runtime::profile_schema_text().c_str(), stdout) < 0 ? 1 : 0;
    if (what == "--help" || what == "-h") return usage(stdout);
    return usage(stderr);
}

}  // namespace calib64::cli
