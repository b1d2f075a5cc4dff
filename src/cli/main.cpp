// calib64: dispatches `calib64 NAME ...` to a subcommand, anything else to the
// coreutils-compatible base64 tool (so `calib64 -d file` works like `base64 -d file`).
// A file literally named like a subcommand is reached with `calib64 -- NAME` or `./NAME`.
#include <string_view>

#include "commands.h"
#include "runtime/topology.h"

int main(int argc, char** argv) {
    using namespace calib64::cli;
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
