// calib64: dispatches `calib64 NAME ...` to a subcommand, anything else to the
// coreutils-compatible base64 tool (so `calib64 -d file` works like `base64 -d file`).
// A file literally named like a subcommand is reached with `calib64 -- NAME` or `./NAME`.
#include <signal.h>

#include <string_view>

#include "commands.h"
#include "common/atomic_file.h"
#include "full_tool.h"
#include "runtime/topology.h"

namespace {

// A signal that ends the process must not leave the temporary file of `-o FILE`
// (or of a profile being saved) behind: remove every pending temporary, then die of
// the same signal by its default action, so the exit status is the one a shell
// expects. SIGKILL cannot be caught; docs/cli.md says what it leaves.
extern "C" void remove_temporaries_and_die(int sig) {
    calib64::common::remove_pending_temporaries();
    ::signal(sig, SIG_DFL);  // async-signal-safe, like raise()
    ::raise(sig);            // blocked in this handler, delivered as it returns
}

void clean_up_on_terminating_signals() {
    for (const int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM}) {
        struct sigaction old {};
        // Ignored at startup (nohup, a shell's background job): stays ignored.
        if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        struct sigaction act {};
        act.sa_handler = remove_temporaries_and_die;
        ::sigfillset(&act.sa_mask);  // one cleanup at a time
        ::sigaction(sig, &act, nullptr);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace calib64::cli;
    remember_arguments(argv);
    clean_up_on_terminating_signals();
    // Before any thread starts: hwloc's I/O plugins (PCI, OpenCL, GL) cost ~150 ms
    // at the first topology probe and tell calib64 nothing.
    calib64::runtime::skip_hwloc_io_plugins();
    if (argc >= 2) {
        const std::string_view first = argv[1];
        for (const subcommand& c : subcommands())
            if (first == c.name) return c.run(argc - 1, argv + 1);
    }
    return run_base64(argc, argv, direction_choice::from_flags);
}
