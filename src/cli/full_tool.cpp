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

// calib64-full in this executable's directory, where meson builds and installs it.
std::string full_tool_path() {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return "calib64-full";
    std::string dir(self, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    return dir + "calib64-full";
}

}  // namespace

void remember_arguments(char** argv) noexcept { arguments = argv; }

int run_full_tool() {
    const std::string path = full_tool_path();
    if (arguments != nullptr) ::execv(path.c_str(), arguments);
    std::fprintf(stderr, "calib64: this command needs %s (the build with oneTBB and Google Benchmark): %s\n",
                 path.c_str(), std::strerror(errno));
    return 1;
}

}  // namespace calib64::cli
