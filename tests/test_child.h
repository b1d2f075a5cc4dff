// Test helper: behaviour that needs a process of its own (exit, CPU limits, fork).
// The test binary runs itself again with only one skipped "child process: ..." case;
// the parent looks at how it ended.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

extern char** environ;

namespace calib64::testing {

// Runs this test binary again with only `test_case`, stdout discarded. Its exit
// status, or -1 if it died from a signal or did not exit within `timeout_s` (a hang
// is the failure several children exist to catch; it is killed then).
inline int run_child_case(const std::string& test_case, int timeout_s = 60) {
    // doctest splits a filter at commas: such a name would select nothing, and the
    // child would pass without running anything.
    REQUIRE_MESSAGE(test_case.find(',') == std::string::npos, "a child case's name must not contain a comma");
    char self[4096];
    const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(len > 0);
    self[len] = '\0';
    std::string no_skip = "--no-skip";
    std::string filter = "--test-case=" + test_case;
    char* argv[] = {self, no_skip.data(), filter.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t child = 0;
    REQUIRE(posix_spawn(&child, self, &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    int wstatus = 0;
    for (int waited_ms = 0; waited_ms < timeout_s * 1000; waited_ms += 10) {
        const pid_t r = ::waitpid(child, &wstatus, WNOHANG);
        REQUIRE(r >= 0);
        if (r == child) return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(child, SIGKILL);
    (void)::waitpid(child, &wstatus, 0);
    return -1;
}

}  // namespace calib64::testing
