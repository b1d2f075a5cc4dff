// The calib64 command line: `calib64 [OPTION]... [FILE]` behaves like coreutils
// base64; `calib64 NAME ...` runs the subcommand NAME from the table in commands.cpp.
//
// Adding a subcommand: write `int run_NAME(int argc, char** argv)` in its own file
// (argv[0] is the subcommand's name, options follow), declare it below, add a row to
// the table in commands.cpp and the file to meson.build.
#pragma once

#include <span>
#include <string_view>

namespace calib64::cli {

struct subcommand {
    std::string_view name;
    std::string_view summary;  // one line, shown by `calib64 --help`
    int (*run)(int argc, char** argv);
};

// Every subcommand, in the order --help lists them.
[[nodiscard]] std::span<const subcommand> subcommands() noexcept;

// The base64 tool itself (codec_command.cpp). `forced` is how a subcommand fixes the
// direction: `calib64 encode` / `calib64 decode`.
enum class direction_choice { from_flags, encode, decode };
int run_base64(int argc, char** argv, direction_choice forced);
int run_encode(int argc, char** argv);
int run_decode(int argc, char** argv);
int run_profile(int argc, char** argv);  // profile_command.cpp

}  // namespace calib64::cli
