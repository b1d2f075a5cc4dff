// Streaming: encode_stream / decode_stream / encode_file / decode_file agree with
// one-shot encode()/decode() across block boundaries, report errors with absolute
// offsets, and never leave a partial output file.
#include <calib64/calib64.h>
#include <doctest/doctest.h>

#include "platform/cpus.h"
#include "runtime/settings.h"
#include "stream/characters.h"
#include "stream/engine.h"
#include "stream/job.h"
#include "test_child.h"
#include "test_files.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

using namespace calib64;
namespace fs = std::filesystem;

namespace {

using calib64::testing::random_bytes;
using calib64::testing::temp_dir;
using calib64::testing::write_file;




std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE(f.good());
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The reference for wrapped output: one-shot encode, then a '\n' after every
// `cols` characters and at the end of a non-empty last line (what base64 -w does).
std::string wrap_reference(const std::string& encoded, std::size_t cols) {
    if (cols == 0) return encoded;
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); i += cols) out += encoded.substr(i, cols) + "\n";
    return out;
}

constexpr std::size_t small_encode_block = 3 * 64;  // many blocks from small files
constexpr std::size_t small_decode_block = 4 * 64;

}  // namespace

TEST_CASE("encode_file matches one-shot encode for sizes around the block size") {
    temp_dir dir;
    const std::size_t b = small_encode_block;
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, b - 1, b, b + 1, 5 * b + 2}) {
        const std::string data = random_bytes(n, n);
        write_file(dir.file("in"), data);
        for (std::size_t cols : {0, 76, 1, 5, 64}) {
            for (unsigned workers : {1u, 3u}) {
                for (bool url : {false, true}) {
                    const encode_options eo{url ? alphabet::url : alphabet::standard, !url};
                    stream_options so;
                    so.block_bytes = b;
                    so.workers = workers;
                    so.wrap_columns = cols;
                    const stream_result r = encode_file(dir.file("in"), dir.file("out"), eo, so);
                    CAPTURE(n);
                    CAPTURE(cols);
                    CAPTURE(workers);
                    REQUIRE(r.ok());
                    const std::string expected = wrap_reference(encode(data, eo), cols);
                    CHECK(read_file(dir.file("out")) == expected);
                    CHECK(r.bytes_read == n);
                    CHECK(r.bytes_written == expected.size());
                }
            }
        }
    }
}

TEST_CASE("encode_file with the default block size matches one-shot encode over several blocks") {
    temp_dir dir;
    const std::size_t default_block = 1536 * 1024;
    for (std::size_t n : {default_block - 1, default_block, default_block + 1, 3 * default_block + 2}) {
        const std::string data = random_bytes(n, n);
        write_file(dir.file("in"), data);
        stream_options so;
        so.wrap_columns = 76;
        REQUIRE(encode_file(dir.file("in"), dir.file("out"), {}, so).ok());
        CHECK(read_file(dir.file("out")) == wrap_reference(encode(data), 76));
        REQUIRE(decode_file(dir.file("out"), dir.file("back"), {.skip = ignore::whitespace}).ok());
        CHECK(read_file(dir.file("back")) == data);
    }
}

TEST_CASE("a block size near SIZE_MAX is clamped to 1 GiB instead of wrapping the buffer sizes") {
    temp_dir dir;
    const std::string data = random_bytes(100'000, 77);
    write_file(dir.file("in"), data);
    for (const std::size_t block : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 4 * 3 + 1}) {
        CAPTURE(block);
        stream_options so;
        so.block_bytes = block;
        so.workers = 1;  // one block's buffers, reserved, not touched: virtual memory only
        REQUIRE(encode_file(dir.file("in"), dir.file("out"), {}, so).ok());
        CHECK(read_file(dir.file("out")) == encode(data));
        REQUIRE(decode_file(dir.file("out"), dir.file("back"), {}, so).ok());
        CHECK(read_file(dir.file("back")) == data);
    }
}

TEST_CASE("decode_file matches one-shot decode for sizes around the block size") {
    temp_dir dir;
    const std::size_t b = small_decode_block;
    // Raw sizes whose encodings are 0, 4, b-4, b, b+4 and several blocks + 4 characters,
    // decoded plain (strict) and wrapped (the cut moves with the newlines).
    for (std::size_t chars : {std::size_t{0}, std::size_t{4}, b - 4, b, b + 4, 5 * b + 4}) {
        for (std::size_t tail : {0, 1, 2}) {
            if (chars == 0 && tail > 0) continue;
            const std::size_t n = chars / 4 * 3 - tail;  // encodes to exactly `chars` characters
            const std::string data = random_bytes(n, n + 7);
            const std::string text = encode(data);
            for (std::size_t cols : {0, 76, 3}) {
                for (unsigned workers : {1u, 2u, 4u}) {
                    write_file(dir.file("in"), wrap_reference(text, cols));
                    stream_options so;
                    so.block_bytes = b;
                    so.workers = workers;
                    const decode_options dopt{.skip = cols == 0 ? ignore::none : ignore::whitespace};
                    const stream_result r = decode_file(dir.file("in"), dir.file("out"), dopt, so);
                    CAPTURE(n);
                    CAPTURE(cols);
                    CAPTURE(r.message);
                    REQUIRE(r.ok());
                    CHECK(read_file(dir.file("out")) == data);
                }
            }
        }
    }
}

// Random text over a small alphabet that makes every kind of error likely, decoded
// in tiny blocks: same bytes, same status, same absolute offset as one decode() call.
TEST_CASE("decode_stream agrees with one-shot decode on random valid and invalid text in every mode") {
    temp_dir dir;
    std::mt19937_64 rng(42);
    const std::string pieces[] = {"QUJD", "QUI=", "QQ==", "YR==", "\n", " ", "\r\n", "=", "*", "A", "-_", "QUJDRA"};
    int errors_seen = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string text;
        const int parts = static_cast<int>(rng() % 40);
        const bool mostly_valid = rng() % 2 == 0;
        for (int i = 0; i < parts; ++i)
            text += mostly_valid && rng() % 8 != 0 ? std::string(i % 19 == 18 ? "\n" : "QUJD") : pieces[rng() % std::size(pieces)];
        const decode_options o{rng() % 4 == 0 ? alphabet::url : alphabet::standard,
                               static_cast<padding>(rng() % 3), static_cast<ignore>(rng() % 3)};
        std::vector<std::uint8_t> expected;
        const decode_result one_shot = decode(text, expected, o);
        write_file(dir.file("in"), text);
        stream_options so;
        so.block_bytes = 4 + 4 * (rng() % 6);
        so.workers = 1 + static_cast<unsigned>(rng() % 3);
        const stream_result r = decode_file(dir.file("in"), "/dev/null", o, so);
        CAPTURE(text);
        CAPTURE(so.block_bytes);
        CAPTURE(static_cast<int>(o.skip));
        CAPTURE(static_cast<int>(o.pad));
        REQUIRE(r.ok() == one_shot.ok());
        CHECK(r.bytes_written == one_shot.written);
        if (!one_shot.ok()) {
            ++errors_seen;
            CHECK(r.failure == stream_failure::codec);
            CHECK(r.code == one_shot.code);
            CHECK(r.offset == one_shot.offset);
        } else {
            // Same bytes too, not only the same count.
            REQUIRE(decode_file(dir.file("in"), dir.file("out"), o, so).ok());
            const std::string got = read_file(dir.file("out"));
            CHECK(got == std::string(expected.begin(), expected.end()));
        }
    }
    CHECK(errors_seen > 200);  // the generator really exercised the error paths
}

TEST_CASE("decode reports the absolute offset of a bad character in a late block and leaves no output file") {
    temp_dir dir;
    const std::string data = random_bytes(100000, 3);
    std::string text = wrap_reference(encode(data), 76);
    const std::size_t bad_at = text.size() - 1000;
    REQUIRE(text[bad_at] != '\n');
    text[bad_at] = '*';
    write_file(dir.file("in.b64"), text);
    stream_options so;
    so.block_bytes = 4096;  // the error is some 30 blocks in
    for (decode_dialect dialect : {decode_dialect::rfc4648, decode_dialect::coreutils}) {
        so.dialect = dialect;
        const stream_result r = decode_file(dir.file("in.b64"), dir.file("out.bin"), {.skip = ignore::whitespace}, so);
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure == stream_failure::codec);
        CHECK(r.code == status::invalid_character);
        CHECK(r.offset == bad_at);
        CHECK(r.message.find(dir.file("in.b64")) != std::string::npos);
        CHECK(r.message.find(std::to_string(bad_at)) != std::string::npos);
        CHECK(dir.entries() == std::vector<std::string>{"in.b64"});
    }
}

TEST_CASE("a failed decode leaves an existing output file untouched") {
    temp_dir dir;
    write_file(dir.file("out"), "precious");
    write_file(dir.file("in"), "QUJD*");
    const stream_result r = decode_file(dir.file("in"), dir.file("out"));
    CHECK_FALSE(r.ok());
    CHECK(read_file(dir.file("out")) == "precious");
    CHECK(dir.entries() == std::vector<std::string>{"in", "out"});
}

TEST_CASE("a successful write replaces the output file whole") {
    temp_dir dir;
    write_file(dir.file("out"), "old content that is longer than the new one");
    write_file(dir.file("in"), "ab");
    REQUIRE(encode_file(dir.file("in"), dir.file("out")).ok());
    CHECK(read_file(dir.file("out")) == "YWI=");
    CHECK(dir.entries() == std::vector<std::string>{"in", "out"});
}

TEST_CASE("an output in a missing or unwritable directory fails naming the file and leaves nothing") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(1000, 1));
    const std::string missing_dir_out = dir.file("no-such-dir/out.b64");
    stream_result r = encode_file(dir.file("in"), missing_dir_out);
    CHECK(r.failure == stream_failure::create_output);
    CHECK(r.error_number == ENOENT);
    CHECK(r.message.find(missing_dir_out) != std::string::npos);
    CHECK(r.message.find("No such file or directory") != std::string::npos);

    // A read-only directory (meaningless for root, who may write anyway).
    if (::geteuid() != 0) {
        fs::create_directory(dir.path / "ro");
        fs::permissions(dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
        r = encode_file(dir.file("in"), dir.file("ro/out.b64"));
        CHECK(r.failure == stream_failure::create_output);
        CHECK(r.error_number == EACCES);
        CHECK(fs::is_empty(dir.path / "ro"));
        fs::permissions(dir.path / "ro", fs::perms::owner_all);
    }
    // A path through a regular file can never be created, root or not.
    r = encode_file(dir.file("in"), dir.file("in/out.b64"));
    CHECK(r.failure == stream_failure::create_output);
    CHECK(r.error_number == ENOTDIR);
    CHECK(dir.entries() == std::vector<std::string>{"in"});
}

TEST_CASE("writing to /dev/full fails with the device named and the errno text") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(10000, 2));
    const stream_result r = encode_file(dir.file("in"), "/dev/full");
    CHECK(r.failure == stream_failure::write);
    CHECK(r.error_number == ENOSPC);
    CHECK(r.message.find("/dev/full") != std::string::npos);
    CHECK(r.message.find("No space left on device") != std::string::npos);
}

TEST_CASE("a missing input file is reported with its name and creates no output") {
    temp_dir dir;
    const stream_result r = decode_file(dir.file("absent"), dir.file("out"));
    CHECK(r.failure == stream_failure::open_input);
    CHECK(r.error_number == ENOENT);
    CHECK(r.message.find(dir.file("absent")) != std::string::npos);
    CHECK(dir.entries().empty());
}

TEST_CASE("a read error (input is a directory) leaves no output file") {
    temp_dir dir;
    fs::create_directory(dir.path / "sub");
    const stream_result r = encode_file(dir.file("sub"), dir.file("out"));
    CHECK(r.failure == stream_failure::read);
    CHECK(r.error_number == EISDIR);
    CHECK(r.message.find(dir.file("sub")) != std::string::npos);
    CHECK(dir.entries() == std::vector<std::string>{"sub"});
}

TEST_CASE("encode_stream and decode_stream work between pipes") {
    const std::string data = random_bytes(300000, 9);
    for (bool decode_direction : {false, true}) {
        const std::string input = decode_direction ? wrap_reference(encode(data), 76) : data;
        int in_pipe[2];
        int out_pipe[2];
        REQUIRE(::pipe(in_pipe) == 0);
        REQUIRE(::pipe(out_pipe) == 0);
        // Feed in small pieces so reads come back short, and drain concurrently.
        std::thread feeder([&] {
            for (std::size_t i = 0; i < input.size(); i += 1000) {
                const std::size_t n = std::min<std::size_t>(1000, input.size() - i);
                REQUIRE(::write(in_pipe[1], input.data() + i, n) == static_cast<ssize_t>(n));
            }
            ::close(in_pipe[1]);
        });
        std::string output;
        std::thread drainer([&] {
            char buf[65536];
            for (ssize_t n; (n = ::read(out_pipe[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<std::size_t>(n));
        });
        stream_options so;
        so.block_bytes = 8192;
        so.wrap_columns = 76;
        const stream_result r = decode_direction
                                    ? decode_stream(in_pipe[0], out_pipe[1], {.skip = ignore::whitespace}, so)
                                    : encode_stream(in_pipe[0], out_pipe[1], {}, so);
        ::close(out_pipe[1]);
        feeder.join();
        drainer.join();
        ::close(in_pipe[0]);
        ::close(out_pipe[0]);
        CHECK(r.ok());
        CHECK(output == (decode_direction ? data : wrap_reference(encode(data), 76)));
    }
}

TEST_CASE("the coreutils dialect decodes each group of four on its own") {
    temp_dir dir;
    stream_options so;
    so.dialect = decode_dialect::coreutils;
    so.block_bytes = 4;  // every group in its own block
    struct example {
        std::string text;
        std::string output;
        bool ok;
        std::uint64_t offset;
    };
    const example examples[] = {
        {"YQ==YQ==", "aa", true, 0},         // padding may end any group
        {"YR==", "a", true, 0},              // trailing bits are not checked
        {"YQ", "a", false, 2},               // a short final group yields its byte, then fails
        {"YW\nJ*", "ab", false, 4},          // a bad group yields what precedes the fault
        {"YQ=\n=YWJj\n", "aabc", true, 0},   // '\n' may fall anywhere
        {"YWJj YQ==", "abc", false, 4},      // a space is not skipped
        {"YWJj\r\n", "abc", false, 4},       // nor is CR
    };
    for (const example& e : examples) {
        write_file(dir.file("in"), e.text);
        const stream_result r = decode_file(dir.file("in"), dir.file("out"), {}, so);
        CAPTURE(e.text);
        CHECK(r.ok() == e.ok);
        if (e.ok) CHECK(read_file(dir.file("out")) == e.output);
        else CHECK(r.offset == e.offset);
        CHECK(r.bytes_written == e.output.size());
    }
    write_file(dir.file("in"), "Y*Q=\n= YQ==");
    const stream_result r = decode_file(dir.file("in"), dir.file("out"), {.skip = ignore::non_alphabet}, so);
    CHECK(r.ok());
    CHECK(read_file(dir.file("out")) == "aa");
}

TEST_CASE("a forced kernel this build lacks is reported, not ignored") {
    kernel_id missing = kernel_id::automatic;
    for (kernel_id k : {kernel_id::neon, kernel_id::avx512, kernel_id::avx2})
        if (!kernel_available(k)) missing = k;
    if (missing == kernel_id::automatic) return;  // every kernel runs here: nothing to check
    temp_dir dir;
    write_file(dir.file("in"), "abc");
    const stream_result r = encode_file(dir.file("in"), dir.file("out"), {.kernel = missing});
    CHECK(r.failure == stream_failure::codec);
    CHECK(r.code == status::kernel_unavailable);
    CHECK(dir.entries() == std::vector<std::string>{"in"});
}

// ---------------------------------------------------------------- automatic mode

namespace {

using calib64::testing::run_child_case;

// Writes n bytes to a pipe from another thread while `run` streams from its read end.
stream_result through_pipe(const std::string& data, const std::function<stream_result(int)>& run) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::thread feeder([&] {
        for (std::size_t i = 0; i < data.size(); i += 65536) {
            const std::size_t n = std::min<std::size_t>(65536, data.size() - i);
            REQUIRE(::write(p[1], data.data() + i, n) == static_cast<ssize_t>(n));
        }
        ::close(p[1]);
    });
    const stream_result r = run(p[0]);
    feeder.join();
    ::close(p[0]);
    return r;
}

// Workers the automatic mode runs with `pipe_ends` of the stream on pipes: one CPU
// is left to the process at each pipe end.
unsigned expected_workers(unsigned pipe_ends = 0) {
    const unsigned cpus = calib64::detail::usable_cpus();
    return std::clamp(cpus > pipe_ends ? cpus - pipe_ends : 1u, 1u, 8u);
}

}  // namespace

TEST_CASE("automatic mode runs a small input on the calling thread alone, with no settings and the best kernel") {
    runtime::reset_settings_in_force();  // nothing resolved yet, as in a fresh process
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(100'000, 50));
    const stream_result r = encode_file(dir.file("in"), dir.file("out"));
    REQUIRE(r.ok());
    CHECK(r.plan.workers == 1);
    CHECK(r.plan.how == backend::serial);
    CHECK(r.plan.kernel == best_kernel());
    CHECK_FALSE(r.plan.settings_read);
    CHECK(read_file(dir.file("out")) == encode(random_bytes(100'000, 50)));
}

TEST_CASE("automatic mode brings in one worker per usable CPU, at most 8, for a large file, and its block is 256 KiB") {
    temp_dir dir;
    const std::string data = random_bytes(5 << 20, 51);
    write_file(dir.file("in"), data);
    const stream_result r = encode_file(dir.file("in"), dir.file("out"));
    REQUIRE(r.ok());
    CHECK(r.plan.workers == expected_workers());
    CHECK(r.plan.how == backend::serial);
    CHECK(r.plan.block_bytes == (256u << 10) / 3 * 3);
    const stream_result d = decode_file(dir.file("out"), "/dev/null");
    REQUIRE(d.ok());
    CHECK(d.plan.block_bytes == 256u << 10);
    CHECK(d.plan.workers == expected_workers());
}

TEST_CASE("automatic mode keeps one worker for an unwrapped encode into /dev/null, and not for a wrapped one") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(3 << 20, 58));
    const stream_result plain = encode_file(dir.file("in"), "/dev/null");
    REQUIRE(plain.ok());
    CHECK(plain.plan.workers == 1);
    stream_options wrapped;
    wrapped.wrap_columns = 76;
    const stream_result lines = encode_file(dir.file("in"), "/dev/null", {}, wrapped);
    REQUIRE(lines.ok());
    CHECK(lines.plan.workers == expected_workers());
}

TEST_CASE("automatic mode starts a pipe on the calling thread and, leaving a CPU to the writer, grows once it delivers 1 MiB") {
    temp_dir dir;
    const int out = ::open(dir.file("out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(out >= 0);
    const std::string small = random_bytes(600'000, 52);
    const stream_result a = through_pipe(small, [&](int fd) { return encode_stream(fd, out); });
    CHECK(a.ok());
    CHECK(a.plan.workers == 1);
    const std::string large = random_bytes(4 << 20, 53);
    const stream_result b = through_pipe(large, [&](int fd) { return encode_stream(fd, out); });
    ::close(out);
    CHECK(b.ok());
    CHECK(b.bytes_read == large.size());
    CHECK(b.plan.workers == expected_workers(1));
    CHECK(read_file(dir.file("out")) == encode(small) + encode(large));
}

// The engine itself, as for a terminal or a device: unknown size, no pipe end. So
// the growth runs on a host of two CPUs too.
TEST_CASE("an input of unknown size on no pipe starts on the calling thread and brings the workers in after 1 MiB") {
    temp_dir dir;
    streaming::io_facts unknown;  // neither regular nor a pipe
    stream_options wrapped;
    wrapped.wrap_columns = 76;
    const streaming::job j = streaming::plan_job(streaming::direction::encode, {}, {}, wrapped, unknown);
    CHECK(j.workers == 1);
    CHECK(j.grow_after_bytes == 1u << 20);
    CHECK_FALSE(j.settings_read);
    const std::string data = random_bytes((5 << 20) + 7, 59);
    const int out = ::open(dir.file("out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(out >= 0);
    const stream_result r = through_pipe(data, [&](int fd) {
        streaming::engine e(j);
        return e.run(fd, out);
    });
    ::close(out);
    REQUIRE(r.ok());
    CHECK(r.plan.workers == expected_workers());
    CHECK(read_file(dir.file("out")) == wrap_reference(encode(data), 76));
}

TEST_CASE("a non-blocking input pipe is waited on, not taken for a read error, and every byte arrives") {
    temp_dir dir;
    const std::string data = random_bytes((3 << 20) + 5, 73);
    const int out = ::open(dir.file("out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(out >= 0);
    const stream_result r = through_pipe(data, [&](int fd) {
        REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);  // as an inherited stdin may be
        return encode_stream(fd, out);
    });
    ::close(out);
    REQUIRE(r.ok());
    CHECK(r.bytes_read == data.size());
    CHECK(read_file(dir.file("out")) == encode(data));
}

TEST_CASE("workers = 1 keeps a large stream on the calling thread") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(3 << 20, 54));
    stream_options so;
    so.workers = 1;
    so.wrap_columns = 76;  // would bring in the others, into /dev/null too
    const stream_result r = encode_file(dir.file("in"), "/dev/null", {}, so);
    REQUIRE(r.ok());
    CHECK(r.plan.workers == 1);
}

TEST_CASE("automatic mode follows the settings in force: their kernel, and a backend CALIB64_BACKEND forced, with its threads") {
    temp_dir dir;
    const std::string data = random_bytes(3 << 20, 55);
    write_file(dir.file("in"), data);
    runtime::resolved_settings s;
    s.encode.kernel = kernel_id::scalar;
    s.decode.forced = backend::pipeline;
    s.decode.par_of(backend::pipeline).threads = 3;
    runtime::put_in_force(s);
    const stream_result e = encode_file(dir.file("in"), dir.file("b64"));
    const stream_result d = decode_file(dir.file("b64"), dir.file("back"));
    stream_options explicit_serial;
    explicit_serial.how = backend::serial;
    const stream_result given = encode_file(dir.file("in"), "/dev/null", {}, explicit_serial);
    runtime::reset_settings_in_force();
    REQUIRE(e.ok());
    CHECK(e.plan.settings_read);
    CHECK(e.plan.kernel == kernel_id::scalar);
    CHECK(e.plan.how == backend::serial);
    REQUIRE(d.ok());
    CHECK(d.plan.how == backend::pipeline);
    CHECK(d.plan.threads_per_block == 3);
    CHECK(d.plan.workers == std::min(2u, expected_workers()));
    CHECK(read_file(dir.file("back")) == data);
    // An explicit backend is the caller's choice: the settings have no say.
    REQUIRE(given.ok());
    CHECK_FALSE(given.plan.settings_read);
    CHECK(given.plan.kernel == best_kernel());
}

TEST_CASE("child process: CALIB64_BACKEND=pipeline in the environment is followed by a large stream" * doctest::skip()) {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(3 << 20, 56));
    const stream_result r = encode_file(dir.file("in"), "/dev/null");
    if (!r.ok()) std::_Exit(3);
    if (!r.plan.settings_read) std::_Exit(4);
    if (r.plan.how != backend::pipeline) std::_Exit(5);
}

TEST_CASE("child process: CALIB64_KERNEL=scalar in the environment is followed even by a tiny stream" * doctest::skip()) {
    temp_dir dir;
    write_file(dir.file("in"), "abc");
    const stream_result r = encode_file(dir.file("in"), dir.file("out"));
    if (!r.ok() || read_file(dir.file("out")) != "YWJj") std::_Exit(3);
    if (!r.plan.settings_read) std::_Exit(4);
    if (r.plan.kernel != kernel_id::scalar || r.plan.workers != 1) std::_Exit(5);
}

TEST_CASE("child process: limited to one CPU a large stream runs on the calling thread alone" * doctest::skip()) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) std::_Exit(6);
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(3 << 20, 57));
    const stream_result r = encode_file(dir.file("in"), "/dev/null");
    if (!r.ok()) std::_Exit(3);
    if (r.plan.workers != 1) std::_Exit(4);
}

TEST_CASE("an environment override reaches the stream: CALIB64_BACKEND for a large one, CALIB64_KERNEL for a tiny one") {
    ::setenv("CALIB64_BACKEND", "pipeline", 1);
    CHECK(run_child_case("child process: CALIB64_BACKEND=pipeline in the environment is followed by a large stream") == 0);
    ::unsetenv("CALIB64_BACKEND");
    ::setenv("CALIB64_KERNEL", "scalar", 1);
    CHECK(run_child_case("child process: CALIB64_KERNEL=scalar in the environment is followed even by a tiny stream") == 0);
    ::unsetenv("CALIB64_KERNEL");
}

TEST_CASE("a host with one usable CPU streams on the calling thread alone") {
    CHECK(run_child_case("child process: limited to one CPU a large stream runs on the calling thread alone") == 0);
}

TEST_CASE("the reader's whitespace count (SIMD where the CPU has it) agrees with a byte loop at every length and offset") {
    std::mt19937_64 rng(60);
    const char alphabet[] = "QUJD\n \t\r\v\f=*A";
    std::string text(600, 'A');
    for (char& c : text) c = alphabet[rng() % (sizeof alphabet - 1)];
    for (std::size_t offset = 0; offset < 70; ++offset) {
        for (std::size_t n = 0; offset + n <= text.size(); n += 1 + n / 16) {
            std::size_t newlines = 0, spaces = 0;
            for (std::size_t i = offset; i < offset + n; ++i) {
                newlines += text[i] == '\n';
                spaces += text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r');
            }
            const streaming::whitespace_counts c = streaming::count_whitespace(text.data() + offset, n);
            CAPTURE(offset);
            CAPTURE(n);
            REQUIRE(c.newlines == newlines);
            REQUIRE(c.spaces == spaces);
        }
    }
}
