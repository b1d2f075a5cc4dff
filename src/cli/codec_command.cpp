// The base64 tool: coreutils-compatible flags and output, plus calib64's extras.
// All the work is the library's streaming (encode_file / decode_file); this file
// only turns flags into options and results into messages and exit codes.
#include <calib64/calib64.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <getopt.h>

#include "catalog.h"
#include "commands.h"
#include "common/sizes.h"
#include "full_tool.h"
#include "platform/text.h"

#ifndef CALIB64_VERSION
#define CALIB64_VERSION "unknown"
#endif

namespace calib64::cli {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;  // coreutils uses 1 for usage errors, I/O errors and invalid input

// --backend NAME: a catalog row, or `auto` (the default, std::nullopt): the stream's
// automatic mode (stream_options in the public header) chooses workers, kernel and
// backend, following the profile and CALIB64_* overrides.

// --block-bytes below this is refused: every block costs a hand-off between three
// threads (tens of µs on a loaded machine), so 4-byte blocks took 18-40 s for 5 MiB;
// from one page up the cost stays within about 2x of the default (docs/cli.md).
constexpr std::uint64_t min_block_bytes = 4096;
constexpr std::uint64_t max_block_bytes = std::uint64_t{1} << 30;

struct cli_options {
    bool decode = false;
    bool ignore_garbage = false;
    std::size_t wrap_columns = 76;
    // Which direction-specific flags were given, for the encode / decode subcommands.
    bool decode_given = false;
    bool wrap_given = false;
    bool strict_given = false;
    bool url = false;
    bool no_pad = false;
    bool strict = false;
    std::string output = "-";
    std::optional<backend> how;
    unsigned threads = 0;
    kernel_id kernel = kernel_id::automatic;
    std::size_t block_bytes = 0;
    std::string input = "-";
};

void print_usage(std::FILE* to, const char* program) {
    std::fprintf(to,
                 "Usage: %s [OPTION]... [FILE]\n"
                 "  or:  %s encode|decode [OPTION]... [FILE]\n",
                 program, program);
    for (const subcommand& c : subcommands())
        if (c.name != "encode" && c.name != "decode")
            std::fprintf(to, "  or:  %s %.*s ...\n", program, static_cast<int>(c.name.size()), c.name.data());
    std::fprintf(to,
                 "Base64 encode or decode FILE, or standard input, to standard output.\n"
                 "With no FILE, or when FILE is -, read standard input. Output and exit codes\n"
                 "match GNU coreutils base64 for the options it shares.\n"
                 "\n"
                 "  -d, --decode          decode data\n"
                 "  -i, --ignore-garbage  when decoding, ignore non-alphabet characters\n"
                 "  -w, --wrap=COLS       wrap encoded lines after COLS character (default 76).\n"
                 "                          Use 0 to disable line wrapping\n"
                 "      --help            display this help and exit\n"
                 "      --version         output version information and exit\n"
                 "\n"
                 "calib64 extras:\n"
                 "  -o, --output=FILE     write to FILE; it appears only once complete (written to a\n"
                 "                          temporary file beside it, then renamed); on any error no\n"
                 "                          output file is left behind\n"
                 "      --url             use the URL-safe alphabet (- and _ for + and /)\n"
                 "      --no-pad          encode without '=' padding; decode: padding optional (implies --strict)\n"
                 "      --strict          decode by RFC 4648: canonical trailing bits, '=' only at the end,\n"
                 "                          whitespace skipped; errors name the byte offset\n"
                 "      --backend=NAME    auto (default: one thread for small inputs, else a worker per CPU\n"
                 "                          coding serial blocks with the profile's kernel; CALIB64_BACKEND\n"
                 "                          forces one), or how each block is coded:\n");
    for (const auto& row : detail::backend_rows)
        std::fprintf(to, "                          %-14.*s %.*s\n", static_cast<int>(row.name.size()), row.name.data(),
                     static_cast<int>(row.summary.size()), row.summary.data());
    std::fprintf(to,
                 "      --threads=N       auto, serial: N block workers (1: one thread; at most 16);\n"
                 "                          work_stealing, pipeline: N threads per block (1-%u)\n"
                 "      --kernel=NAME     force a SIMD kernel: %s\n"
                 "      --block-bytes=N   input bytes per streamed block, 4 KiB to 1 GiB, e.g. 1MiB (memory is\n"
                 "                          one block per worker)\n"
                 "\n"
                 "Subcommands:\n",
                 max_threads, detail::names_in_words(detail::kernel_rows, detail::automatic_kernel_name).c_str());
    for (const subcommand& c : subcommands())
        std::fprintf(to, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    std::fprintf(to,
                 "\n"
                 "Examples (the whole manual: man calib64):\n"
                 "  %s photo.jpg > photo.b64          encode, lines of 76 characters\n"
                 "  %s -w 0 < photo.jpg               encode from stdin, one line\n"
                 "  %s -d photo.b64 -o photo.jpg      decode to a file, atomically\n"
                 "  %s -d -i mail.txt                 decode, skipping non-alphabet bytes\n"
                 "  %s --url --no-pad -w 0 key.bin    URL-safe token without padding\n"
                 "  %s -d --strict --url --no-pad t   decode it back, strictly\n",
                 program, program, program, program, program, program);
}

int usage_error(const char* program, const std::string& what) {
    std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program, what.c_str(), program);
    return exit_failure;
}

// -w COLS read exactly as coreutils 9.1 reads it (xstrtoimax, base 10, no suffix):
// C-locale whitespace, then an optional sign, then only digits. A negative value is
// an error ("-0" is 0); a value above INTMAX_MAX means no wrapping, as 0 does.
std::optional<std::size_t> parse_wrap(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i == text.size()) return std::nullopt;
    constexpr std::uint64_t intmax = static_cast<std::uint64_t>(INTMAX_MAX);
    std::uint64_t value = 0;
    bool too_large = false;
    for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (intmax - digit) / 10) too_large = true;
        else value = value * 10 + digit;
    }
    if (negative) return value == 0 && !too_large ? std::optional<std::size_t>(0) : std::nullopt;
    return too_large ? 0 : static_cast<std::size_t>(value);
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    return ec == std::errc{} && ptr == end && !text.empty();
}

enum long_only : int {
    opt_help = 256,
    opt_version,
    opt_url,
    opt_no_pad,
    opt_strict,
    opt_backend,
    opt_threads,
    opt_kernel,
    opt_block_bytes,
};

// Parses argv into `o`; returns an exit code when the program should stop now.
std::optional<int> parse(int argc, char** argv, const char* program, cli_options& o) {
    static const option long_options[] = {
        {"decode", no_argument, nullptr, 'd'},
        {"ignore-garbage", no_argument, nullptr, 'i'},
        {"wrap", required_argument, nullptr, 'w'},
        {"output", required_argument, nullptr, 'o'},
        {"help", no_argument, nullptr, opt_help},
        {"version", no_argument, nullptr, opt_version},
        {"url", no_argument, nullptr, opt_url},
        {"no-pad", no_argument, nullptr, opt_no_pad},
        {"strict", no_argument, nullptr, opt_strict},
        {"backend", required_argument, nullptr, opt_backend},
        {"threads", required_argument, nullptr, opt_threads},
        {"kernel", required_argument, nullptr, opt_kernel},
        {"block-bytes", required_argument, nullptr, opt_block_bytes},
        {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    opterr = 0;  // we word the messages ourselves
    for (;;) {
        const int c = getopt_long(argc, argv, ":diw:o:", long_options, nullptr);
        if (c == -1) break;
        switch (c) {
            case 'd': o.decode = o.decode_given = true; break;
            case 'i': o.ignore_garbage = true; break;
            case 'w': {
                const std::optional<std::size_t> cols = parse_wrap(optarg);
                if (!cols) return usage_error(program, std::string("invalid wrap size: '") + optarg + "'");
                o.wrap_columns = *cols;
                o.wrap_given = true;
                break;
            }
            case 'o': o.output = optarg; break;
            case opt_help: print_usage(stdout, program); return exit_ok;
            case opt_version: {
                std::printf("calib64 %s\nkernels this CPU runs:", CALIB64_VERSION);
                for (kernel_id k : available_kernels()) {
                    const std::string_view name = kernel_name(k);
                    std::printf(" %.*s", static_cast<int>(name.size()), name.data());
                }
                std::printf("\n");
                return exit_ok;
            }
            case opt_url: o.url = true; break;
            case opt_no_pad: o.no_pad = true; break;
            case opt_strict: o.strict = o.strict_given = true; break;
            case opt_backend: {
                const std::string_view name = optarg;
                if (name == "auto") {
                    o.how.reset();
                } else if (const auto how = detail::backend_from_name(name)) {
                    o.how = *how;
                } else {
                    return usage_error(program, "unknown backend '" + std::string(name) + "' (choose auto, " +
                                                    detail::names_in_words(detail::backend_rows) + ")");
                }
                break;
            }
            case opt_threads:
                if (!parse_number(optarg, o.threads) || o.threads == 0 || o.threads > max_threads)
                    return usage_error(program, std::string("invalid thread count: '") + optarg + "'");
                break;
            case opt_kernel: {
                const kernel_lookup k = find_kernel(optarg);
                if (!k.ok()) {
                    std::fprintf(stderr, "%s: kernel '%s': %.*s\n", program, optarg,
                                 static_cast<int>(k.reason.size()), k.reason.data());
                    return exit_failure;
                }
                o.kernel = k.id;
                break;
            }
            case opt_block_bytes: {
                std::string why;
                const auto size = common::parse_size(optarg, &why);
                if (!size || *size < min_block_bytes || *size > max_block_bytes)
                    return usage_error(program, std::string("invalid block size: '") + optarg + "' (" +
                                                    (why.empty() ? "" : why + "; ") + "4 KiB to 1 GiB)");
                o.block_bytes = static_cast<std::size_t>(*size);
                break;
            }
            case ':':
                return usage_error(program, std::string("option requires an argument -- '") +
                                                (optopt != 0 ? std::string(1, static_cast<char>(optopt))
                                                             : std::string(argv[optind - 1])) + "'");
            default:
                return usage_error(program, optopt != 0 ? std::string("invalid option -- '") +
                                                              static_cast<char>(optopt) + "'"
                                                        : std::string("unrecognized option '") + argv[optind - 1] + "'");
        }
    }
    if (optind < argc) o.input = argv[optind++];
    if (optind < argc) return usage_error(program, std::string("extra operand '") + argv[optind] + "'");
    return std::nullopt;
}

// `calib64 encode` / `calib64 decode` name the direction, so a flag of the other
// direction is a mistake worth stopping for (plain `calib64 -d -w 5`, like
// coreutils, ignores -w instead).
std::optional<std::string> contradiction(const cli_options& o, direction_choice forced) {
    if (forced == direction_choice::encode) {
        if (o.decode_given) return "-d/--decode contradicts the 'encode' subcommand (use 'calib64 decode')";
        if (o.ignore_garbage) return "-i/--ignore-garbage applies to decoding; the 'encode' subcommand refuses it";
        if (o.strict_given) return "--strict applies to decoding; the 'encode' subcommand refuses it";
    } else if (o.wrap_given) {
        return "-w/--wrap applies to encoding; the 'decode' subcommand refuses it";
    }
    return std::nullopt;
}

// Whether this run would use the work_stealing backend, which only calib64-full has
// (--backend, or auto with CALIB64_BACKEND forcing it; the value trimmed like every
// CALIB64_* value).
bool wants_work_stealing(const cli_options& o) {
    if (o.how) return *o.how == backend::work_stealing;
    const char* forced = std::getenv("CALIB64_BACKEND");
    return forced != nullptr && detail::trim(forced) == backend_name(backend::work_stealing);
}

}  // namespace

int run_base64(int argc, char** argv, direction_choice forced) {
    const char* program = "calib64";
    cli_options o;
    if (const std::optional<int> stop = parse(argc, argv, program, o)) return *stop;
    if (forced != direction_choice::from_flags) {
        if (const std::optional<std::string> why = contradiction(o, forced)) return usage_error(program, *why);
        o.decode = forced == direction_choice::decode;
    }
    if (lean_tool && wants_work_stealing(o)) return run_full_tool();

    stream_options so;
    so.block_bytes = o.block_bytes;
    so.how = o.how;
    // --threads: block workers for serial blocks (and auto); threads per block call
    // for an explicit work_stealing or pipeline.
    if (o.threads != 0) {
        if (o.how && *o.how != backend::serial) so.par.threads = o.threads;
        else so.workers = o.threads;
    }
    const alphabet alpha = o.url ? alphabet::url : alphabet::standard;

    stream_result r;
    if (o.decode) {
        decode_options d;
        d.alpha = alpha;
        d.kernel = o.kernel;
        if (o.strict || o.no_pad) {
            so.dialect = decode_dialect::rfc4648;
            d.pad = o.no_pad ? padding::optional : padding::required;
            d.skip = o.ignore_garbage ? ignore::non_alphabet : ignore::whitespace;
        } else {
            so.dialect = decode_dialect::coreutils;
            d.skip = o.ignore_garbage ? ignore::non_alphabet : ignore::none;
        }
        r = decode_file(o.input, o.output, d, so);
    } else {
        so.wrap_columns = o.wrap_columns;
        r = encode_file(o.input, o.output, encode_options{alpha, !o.no_pad, o.kernel}, so);
    }
    if (r.ok()) return exit_ok;
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", program, r.message.c_str());
    return exit_failure;
}

int run_encode(int argc, char** argv) { return run_base64(argc, argv, direction_choice::encode); }
int run_decode(int argc, char** argv) { return run_base64(argc, argv, direction_choice::decode); }

}  // namespace calib64::cli
