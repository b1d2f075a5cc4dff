// The streaming API of the public header: names for messages, the input's facts for
// the automatic mode (policy.cpp), and the output commit: a regular output file is
// written to a temporary file and renamed over the target only on success
// (src/common/atomic_file.h). The work itself is the engine's (engine.h).
#include <calib64/calib64.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "stream/engine.h"
#include "stream/job.h"

namespace calib64 {
namespace {

using streaming::direction;

struct request {
    direction dir = direction::encode;
    encode_options enc{};
    decode_options dec{};
    stream_options so{};
};

bool is_pipe(const struct stat& st) noexcept { return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode); }

streaming::io_facts facts_of(int in_fd, int out_fd) {
    streaming::io_facts f;
    struct stat st {};
    if (::fstat(in_fd, &st) == 0) {
        f.regular_input = S_ISREG(st.st_mode);
        if (f.regular_input) f.input_size = static_cast<std::uint64_t>(st.st_size);
        f.pipe_ends += is_pipe(st);
    }
    if (::fstat(out_fd, &st) == 0) {
        struct stat null {};
        f.output_discarded = S_ISCHR(st.st_mode) && ::stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
        f.pipe_ends += is_pipe(st);
    }
    return f;
}

stream_result run_engine(const request& rq, int in_fd, int out_fd, std::string input_name, std::string output_name) {
    streaming::job j = streaming::plan_job(rq.dir, rq.enc, rq.dec, rq.so, facts_of(in_fd, out_fd));
    j.input_name = std::move(input_name);
    j.output_name = std::move(output_name);
    streaming::engine e(std::move(j));
    return e.run(in_fd, out_fd);
}

std::string fd_name(int fd, bool input) {
    if (input && fd == 0) return "standard input";
    if (!input && fd == 1) return "standard output";
    return "fd " + std::to_string(fd);
}

std::string name_or(std::string_view given, std::string fallback) {
    return given.empty() ? std::move(fallback) : std::string(given);
}

stream_result run_fds(const request& rq, int in_fd, int out_fd) {
    return run_engine(rq, in_fd, out_fd, name_or(rq.so.input_name, fd_name(in_fd, true)),
                      name_or(rq.so.output_name, fd_name(out_fd, false)));
}

stream_result io_failure(stream_failure f, int err, const std::string& what) {
    stream_result r;
    r.failure = f;
    r.error_number = err;
    r.message = what + ": " + std::strerror(err);
    return r;
}

// Closes an fd on scope exit unless it is stdin.
struct fd_guard {
    int fd = -1;
    bool owned = false;
    ~fd_guard() {
        if (owned && fd >= 0) ::close(fd);
    }
};

stream_result run_paths(const request& rq, const std::string& in_path, const std::string& out_path) {
    const bool in_std = in_path == "-";
    const bool out_std = out_path == "-";
    std::string input_name = name_or(rq.so.input_name, in_std ? "standard input" : in_path);
    std::string output_name = name_or(rq.so.output_name, out_std ? "standard output" : out_path);

    fd_guard in{in_std ? 0 : ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC), !in_std};
    if (in.fd < 0) return io_failure(stream_failure::open_input, errno, "cannot open '" + in_path + "'");
    if (out_std) return run_engine(rq, in.fd, 1, std::move(input_name), std::move(output_name));

    struct stat st {};
    if (::stat(out_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        // A device or FIFO cannot be replaced atomically: write to it in place.
        fd_guard out{::open(out_path.c_str(), O_WRONLY | O_CLOEXEC), true};
        if (out.fd < 0) return io_failure(stream_failure::create_output, errno, "cannot open '" + out_path + "'");
        return run_engine(rq, in.fd, out.fd, std::move(input_name), std::move(output_name));
    }
    common::atomic_file out(out_path);
    if (!out.ok()) {
        stream_result r;
        r.failure = stream_failure::create_output;
        r.error_number = out.error_number();
        r.message = out.error();
        return r;
    }
    stream_result r = run_engine(rq, in.fd, out.fd(), std::move(input_name), std::move(output_name));
    if (!r.ok()) return r;  // `out` removes the temporary file
    if (std::string why = out.commit(); !why.empty()) {
        r.failure = stream_failure::commit;
        r.error_number = out.error_number();
        r.message = why;
    }
    return r;
}

request encoding(const encode_options& o, const stream_options& s) { return {direction::encode, o, {}, s}; }
request decoding(const decode_options& o, const stream_options& s) { return {direction::decode, {}, o, s}; }

}  // namespace

stream_result encode_stream(int in_fd, int out_fd, const encode_options& opts, const stream_options& stream) {
    return run_fds(encoding(opts, stream), in_fd, out_fd);
}

stream_result decode_stream(int in_fd, int out_fd, const decode_options& opts, const stream_options& stream) {
    return run_fds(decoding(opts, stream), in_fd, out_fd);
}

stream_result encode_file(const std::string& in_path, const std::string& out_path, const encode_options& opts,
                          const stream_options& stream) {
    return run_paths(encoding(opts, stream), in_path, out_path);
}

stream_result decode_file(const std::string& in_path, const std::string& out_path, const decode_options& opts,
                          const stream_options& stream) {
    return run_paths(decoding(opts, stream), in_path, out_path);
}

}  // namespace calib64
