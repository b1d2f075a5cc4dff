// calib64 — base64 (RFC 4648) that measures the host it runs on.
//
// The whole codec API is on this page. Everything takes caller buffers and
// returns a [[nodiscard]] result; nothing here throws except the std::string /
// std::vector conveniences (std::bad_alloc, or std::length_error for a size no
// string can hold).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace calib64 {

// ---------------------------------------------------------------- options

enum class alphabet : std::uint8_t {
    standard,  // A-Z a-z 0-9 + /
    url,       // A-Z a-z 0-9 - _   (RFC 4648 §5)
};

// Which padding a decoder accepts.
enum class padding : std::uint8_t {
    required,   // the input must be a whole number of 4-character quanta
    forbidden,  // any '=' is bad_padding; a final 2- or 3-character quantum is fine
    optional,   // either of the above
};

// What a decoder skips between characters.
enum class ignore : std::uint8_t {
    none,          // strict RFC 4648: alphabet and padding only
    whitespace,    // skip SP HT LF VT FF CR (MIME / PEM line-wrapped text, like `base64 -d`)
    non_alphabet,  // skip every byte that is neither alphabet nor '=' (`base64 -d -i`)
};

// A SIMD kernel. `automatic` means the fastest this CPU runs.
enum class kernel_id : std::uint8_t { automatic, scalar, avx2, avx512, neon };

struct encode_options {
    alphabet alpha = alphabet::standard;
    bool pad = true;
    kernel_id kernel = kernel_id::automatic;
};

struct decode_options {
    alphabet alpha = alphabet::standard;
    padding pad = padding::required;
    ignore skip = ignore::none;
    kernel_id kernel = kernel_id::automatic;
};

// ---------------------------------------------------------------- results

enum class status : std::uint8_t {
    ok,
    invalid_character,   // a byte outside the alphabet (offset: that byte)
    bad_padding,         // '=' where it may not stand, or missing where required
    nonzero_trailing_bits,  // last quantum's unused bits are not zero (not canonical)
    truncated_input,     // input ends inside a quantum (offset: input size)
    output_too_small,    // the caller's buffer cannot hold the result (encode: also any input
                         // over max_encodable_bytes, whose result no buffer could hold)
    kernel_unavailable,  // the forced kernel is not built or this CPU lacks it
};

// Plain-words reason for a status, e.g. "invalid character".
[[nodiscard]] std::string_view describe(status s) noexcept;

struct [[nodiscard]] encode_result {
    status code = status::ok;
    std::size_t written = 0;  // characters written
    [[nodiscard]] bool ok() const noexcept { return code == status::ok; }
};

struct [[nodiscard]] decode_result {
    status code = status::ok;
    std::size_t offset = 0;   // on error: input offset of the first offending byte
    std::size_t written = 0;  // bytes written (on error: the bytes before the bad quantum)
    [[nodiscard]] bool ok() const noexcept { return code == status::ok; }
};

// ---------------------------------------------------------------- sizes

// The longest input encode() takes: its padded encoding, SIZE_MAX - 3 characters,
// is the longest that a size_t can count.
inline constexpr std::size_t max_encodable_bytes = SIZE_MAX / 4 * 3;

// Exact number of characters encode() writes; SIZE_MAX when `bytes` is over
// max_encodable_bytes, an input every encode call refuses (output_too_small)
// without reading it.
[[nodiscard]] constexpr std::size_t encoded_length(std::size_t bytes, bool pad = true) noexcept {
    if (bytes > max_encodable_bytes) return SIZE_MAX;
    return pad ? (bytes + 2) / 3 * 4 : bytes / 3 * 4 + (bytes % 3 == 0 ? 0 : bytes % 3 + 1);
}

// Upper bound on the bytes decode() writes for `chars` input characters.
[[nodiscard]] constexpr std::size_t max_decoded_length(std::size_t chars) noexcept {
    return chars / 4 * 3 + (chars % 4 == 0 ? 0 : chars % 4 - 1 + (chars % 4 == 1));
}

// ---------------------------------------------------------------- codec

[[nodiscard]] encode_result encode(std::span<const std::uint8_t> in, std::span<char> out,
                                   const encode_options& opts = {}) noexcept;

[[nodiscard]] decode_result decode(std::string_view in, std::span<std::uint8_t> out,
                                   const decode_options& opts = {}) noexcept;

// Conveniences that size the output themselves.
[[nodiscard]] std::string encode(std::string_view bytes, const encode_options& opts = {});
[[nodiscard]] decode_result decode(std::string_view in, std::vector<std::uint8_t>& out,
                                   const decode_options& opts = {});
[[nodiscard]] decode_result decode(std::string_view in, std::string& out,
                                   const decode_options& opts = {});

// ---------------------------------------------------------------- kernels

// Kernels compiled into this build, best first.
[[nodiscard]] std::span<const kernel_id> compiled_kernels() noexcept;
// Kernels this CPU can run, best first (a prefix-free subset of compiled_kernels()).
[[nodiscard]] std::span<const kernel_id> available_kernels() noexcept;
// What `automatic` resolves to on this CPU.
[[nodiscard]] kernel_id best_kernel() noexcept;
[[nodiscard]] bool kernel_available(kernel_id k) noexcept;
[[nodiscard]] std::string_view kernel_name(kernel_id k) noexcept;  // "scalar", "avx2", ...

struct [[nodiscard]] kernel_lookup {
    kernel_id id = kernel_id::automatic;
    status code = status::ok;  // kernel_unavailable when unknown, not built, or not runnable
    std::string_view reason;   // empty when ok
    [[nodiscard]] bool ok() const noexcept { return code == status::ok; }
};
// Finds a kernel by name ("auto", "scalar", "avx2", "avx512", "neon") and checks
// that this build and CPU can run it.
kernel_lookup find_kernel(std::string_view name) noexcept;

// ---------------------------------------------------------------- backends
// Three ways to run a kernel over one buffer. All produce output byte-identical
// to encode()/decode(); the parallel ones split at 3-byte / 4-character
// boundaries and write straight into the caller's buffer (no copies).

enum class backend : std::uint8_t {
    serial,         // this thread, one kernel call
    work_stealing,  // oneTBB task arena
    pipeline,       // persistent worker pool fed by a lock-free queue
};

[[nodiscard]] std::string_view backend_name(backend b) noexcept;  // "serial", "work_stealing", "pipeline"

// The most threads any backend runs for one call; larger requests are clamped to it.
// CALIB64_THREADS and `calib64 --threads` accept 1 to this.
inline constexpr unsigned max_threads = 1024;

struct parallel_options {
    unsigned threads = 0;         // 0: all CPUs this process may use (affinity, cpuset and cgroup quota)
    std::size_t chunk_bytes = 0;  // input bytes per task; 0: a default from the size and thread count
    bool pin_threads = false;     // pipeline: pin workers to cores (hwloc)
};

// In a child made by fork() once a parallel backend was in use, both parallel
// backends run serially (their threads stayed in the parent). End such a child with
// _exit() or exec(): exit() runs oneTBB's destructors, which may hang there
// (docs/backends.md).
[[nodiscard]] encode_result encode_with(backend b, std::span<const std::uint8_t> in, std::span<char> out,
                                        const encode_options& opts = {},
                                        const parallel_options& par = {}) noexcept;
[[nodiscard]] decode_result decode_with(backend b, std::string_view in, std::span<std::uint8_t> out,
                                        const decode_options& opts = {},
                                        const parallel_options& par = {}) noexcept;
// How many chunks a parallel backend cuts an input into with these options; 1
// means it runs serial()'s work on the calling thread (calibration uses this to
// tell a real win from noise).
[[nodiscard]] std::size_t encode_chunk_count(std::size_t input_bytes, const parallel_options& par = {}) noexcept;
[[nodiscard]] std::size_t decode_chunk_count(std::size_t input_chars, const parallel_options& par = {}) noexcept;

// Monotonic counters of what one backend did in this process (for tests and
// diagnostics; each field is read separately, not as one snapshot).
struct backend_stats {
    std::uint64_t executors_created = 0;  // TBB arenas / worker pools created (each is then reused)
    std::uint64_t workers_started = 0;    // persistent worker threads the backend started itself
    std::uint64_t chunks_by_workers = 0;  // chunks run by those workers
    std::uint64_t chunks_by_callers = 0;  // chunks the calling thread ran itself (it helps)
    std::uint64_t queue_full = 0;         // calls that found the work queue full (and took on more chunks themselves)
};
[[nodiscard]] backend_stats backend_statistics(backend b) noexcept;

// ---------------------------------------------------------------- auto
// Picks backend, kernel, threads and chunk size per call from this host's
// calibration profile (see docs/profile.md), or from the probed topology when
// there is none. Loaded once, thread-safely, on first use.

struct choice {
    backend how = backend::serial;
    kernel_id kernel = kernel_id::automatic;
    parallel_options par{};
};
// What encode_auto / decode_auto would run for an input of this size.
[[nodiscard]] choice choose_encode(std::size_t input_bytes) noexcept;
[[nodiscard]] choice choose_decode(std::size_t input_chars) noexcept;

[[nodiscard]] encode_result encode_auto(std::span<const std::uint8_t> in, std::span<char> out,
                                        const encode_options& opts = {}) noexcept;
[[nodiscard]] decode_result decode_auto(std::string_view in, std::span<std::uint8_t> out,
                                        const decode_options& opts = {}) noexcept;

// ---------------------------------------------------------------- messages
// The library's warnings (a rejected profile, an ignored CALIB64_* value, a profile
// from another host) go to one sink, each distinct text once per process. The
// default writes "calib64: " + message to standard error. Set a sink (or nullptr:
// drop them) before the first encode_auto / decode_auto / choose_* call to route
// them to the application's log; the sink may be called from any thread, once at a
// time, and must not call back into calib64.
using message_sink = void (*)(std::string_view message, void* context);
void set_message_sink(message_sink sink, void* context = nullptr) noexcept;
// The default sink (standard error), to restore it or to chain to it.
void stderr_message_sink(std::string_view message, void* context);

// ---------------------------------------------------------------- streams
// Bounded-memory encode/decode of whole files and fds. Each worker thread takes the
// next block of input (reads are in order), codes it and writes it in its turn, so
// output stays in input order; memory is one block per worker, whatever the input
// size. See docs/cli.md.

// Which rules a stream decoder follows.
enum class decode_dialect : std::uint8_t {
    rfc4648,    // exactly decode(): the stream output and any error match one-shot decode()
    coreutils,  // GNU `base64 -d`: skips '\n' only (ignore::non_alphabet: every byte but the
                // alphabet and '='), decodes each group of four characters on its own ('='
                // may end any group, trailing bits are not checked), and on an error still
                // writes the bytes the bad group yields before it. decode_options::pad unused.
};

// Automatic mode (`how` left empty; `workers` and `block_bytes` may still be set and
// are then followed) chooses:
// - one worker, the calling thread, for an input known to be under 1 MiB, for
//   workers = 1, for an unwrapped encode into /dev/null (reading is then most of
//   the work) and on a host with one usable CPU;
// - otherwise min(usable CPUs less one for each end of the stream that is a pipe
//   (the process there copies every byte too), 8) workers, each coding its blocks
//   serially. An input of unknown size starts on the calling thread alone and
//   brings the others in once it has delivered 1 MiB;
// - the kernel (unless the options name one) from the runtime settings (calibration
//   profile, CALIB64_KERNEL; docs/profile.md) when the stream goes parallel and a
//   profile, a CALIB64_* variable or settings already in force exist, or whenever a
//   CALIB64_* variable is set; else the best this CPU runs, with no topology probe
//   or profile search. A backend that CALIB64_BACKEND forces is followed, with its
//   own threads per block, in at most two workers;
// - blocks of 256 KiB (encode: input bytes, decode: characters); a smaller regular
//   input one block of its size (at least 4 KiB).
// stream_result::plan says what ran. docs/cli.md has the measurements behind these.
struct stream_options {
    std::size_t wrap_columns = 0;  // encode: a '\n' after every this many characters and at the end (0: none)
    decode_dialect dialect = decode_dialect::rfc4648;
    std::optional<backend> how;     // how each block's codec call runs; empty: automatic
    parallel_options par{};         // for an explicit `how` (ignored by serial)
    unsigned workers = 0;           // threads that read, code and write blocks (1: the calling thread alone;
                                    // more than 16 runs 16); 0: automatic
    std::size_t block_bytes = 0;    // input bytes per block; 0: automatic. Rounded down to a multiple of 3 (encode) /
                                    // 4 (decode), at most 1 GiB. Tiny blocks are correct but slow (a hand-off each)
    std::string_view input_name;    // names used in error messages ("" for fds: "standard input" / "fd N")
    std::string_view output_name;
};

// What a stream ran, once resolved (automatic choices included).
struct stream_plan {
    backend how = backend::serial;            // each block's codec call
    kernel_id kernel = kernel_id::automatic;  // the kernel run (never automatic once planned)
    unsigned workers = 1;                     // worker threads at the end, the calling thread included
    unsigned threads_per_block = 0;           // how != serial: parallel_options::threads (0: all usable CPUs)
    std::size_t block_bytes = 0;              // input bytes per block
    bool settings_read = false;               // the runtime settings (profile, CALIB64_*) were consulted
};

enum class stream_failure : std::uint8_t {
    none,
    open_input,     // the input path could not be opened
    read,           // read() failed
    create_output,  // the output (or its temporary file) could not be created
    write,          // write() failed (disk full, closed pipe, ...)
    commit,         // the finished temporary file could not be renamed over the output
    codec,          // invalid input (decode) or an unusable kernel: see `code` and `offset`
};

struct [[nodiscard]] stream_result {
    stream_failure failure = stream_failure::none;
    status code = status::ok;   // failure == codec: why
    std::uint64_t offset = 0;   // failure == codec, decode: absolute input offset of the offending byte
    int error_number = 0;       // I/O failures: the errno
    std::uint64_t bytes_read = 0;
    std::uint64_t bytes_written = 0;
    std::string message;        // one line naming the file and the reason; empty when ok
    stream_plan plan;           // what ran
    [[nodiscard]] bool ok() const noexcept { return failure == stream_failure::none; }
};

// Reads in_fd to its end and writes to out_fd (pipes, terminals and files alike).
// Neither fd is closed. On a decode error the bytes decoded before it are written.
stream_result encode_stream(int in_fd, int out_fd, const encode_options& opts = {},
                            const stream_options& stream = {});
stream_result decode_stream(int in_fd, int out_fd, const decode_options& opts = {},
                            const stream_options& stream = {});

// Path to path. "-" means stdin / stdout. A regular output file is written to a
// temporary file in the same directory, flushed to disk and renamed over `out_path`
// only on success: on any error no output file is left behind and an existing one is
// untouched (a symbolic link is written through to its target). Non-regular outputs
// (/dev/null, a FIFO) are written in place.
stream_result encode_file(const std::string& in_path, const std::string& out_path,
                          const encode_options& opts = {}, const stream_options& stream = {});
stream_result decode_file(const std::string& in_path, const std::string& out_path,
                          const decode_options& opts = {}, const stream_options& stream = {});

}  // namespace calib64
