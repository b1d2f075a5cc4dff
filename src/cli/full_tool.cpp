// Handing over to calib64-full (full_tool.h).
#include "full_tool.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

namespace calib64::cli {
namespace {

char** arguments = nullptr;

// calib64-full in this executable's directory, where meson builds and installs it:
// from /proc/self/exe, else from argv[0] when it names a directory. Never a bare
// name: execv would then run whatever ./calib64-full the current directory holds.
std::string full_tool_path() {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir;
    if (n > 0) dir.assign(self, static_cast<std::size_t>(n));
    else if (arguments != nullptr && arguments[0] != nullptr) dir = arguments[0];
    const std::size_t slash = dir.rfind('/');
    if (slash == std::string::npos) return {};
    dir.resize(slash + 1);
    return dir + "calib64-full";
}

}  // namespace

void remember_arguments(char** argv) noexcept { arguments = argv; }

int run_full_tool() {
    const std::string path = full_tool_path();
    if (path.empty()) {
        std::fprintf(stderr, "calib64: this command needs calib64-full (the build with oneTBB and Google Benchmark), "
                             "and this executable's directory is unknown (no /proc/self/exe, no directory in argv[0])\n");
        return 1;
    }
    if (arguments != nullptr) ::execv(path.c_str(), arguments);
    std::fprintf(stderr, "calib64: this command needs %s (the build with oneTBB and Google Benchmark): %s\n",
                 path.c_str(), std::strerror(errno));
    return 1;
}

}  // namespace calib64::cli
