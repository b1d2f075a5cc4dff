// The stream engine (engine.h).
#include "stream/engine.h"

#include <cerrno>
#include <cstring>
#include <new>

#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

namespace calib64::streaming {
namespace {

std::string quoted(const std::string& name) { return "'" + name + "'"; }

// A pipe holds 64 KiB by default, less than one block's output: every write would
// wait for the reader to drain it, a context switch per 64 KiB on both sides. Grown
// to 1 MiB (the default pipe-max-size for any user; a failure just keeps the size).
constexpr int pipe_bytes = 1 << 20;

void grow_pipe(int fd) noexcept {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && ::fcntl(fd, F_GETPIPE_SZ) < pipe_bytes)
        (void)::fcntl(fd, F_SETPIPE_SZ, pipe_bytes);
}

}  // namespace

engine::engine(job j) : job_(std::move(j)), coder_(job_), turn_changed_(max_workers) {}

stream_result engine::run(int in_fd, int out_fd) {
    out_fd_ = out_fd;
    grow_pipe(in_fd);
    grow_pipe(out_fd);
    struct stat st {};
    const bool regular = ::fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode);
    reader_ = std::make_unique<input_reader>(job_, in_fd, regular);
    block mine;
    allocate(mine);  // before any thread starts: a failure here throws with nothing to join
    if (job_.workers > 1) {
        std::lock_guard lock(read_mutex_);
        grow();
    }
    work_on(mine);
    for (std::thread& t : threads_) t.join();
    result_.bytes_read = reader_->position();
    result_.plan = plan_of(job_, running_.load(std::memory_order_relaxed));
    return std::move(result_);
}

void engine::allocate(block& b) const {
    b.in.reset(new char[carry_room + job_.capacity]);
    b.out_capacity = coder_.output_capacity();
    b.out.reset(new char[b.out_capacity]);
}

void engine::work() noexcept {
    block b;
    try {
        allocate(b);
    } catch (const std::bad_alloc&) {
        return;  // took no block: the others carry on without this worker
    }
    try {
        work_on(b);
    } catch (const std::bad_alloc&) {
        std::terminate();  // a message string, holding a block index: the stream cannot end in order
    }
}

void engine::work_on(block& b) {
    while (read_next(b)) {
        b.out_of_memory = false;
        if (b.read_errno == 0) {
            // Wrapping and the coreutils dialect grow a scratch buffer as they go: a
            // failure there ends the stream in order, as a write failure would.
            try {
                coder_.code(b);
            } catch (const std::bad_alloc&) {
                b.out_of_memory = true;
            }
        }
        write_in_turn(b);
    }
}

bool engine::read_next(block& b) {
    std::lock_guard lock(read_mutex_);
    if (reader_->done() || stop_.load(std::memory_order_acquire)) return false;
    // With another worker running, a silent pipe must not keep this one from seeing
    // that worker's failure.
    reader_->read_into(b, stop_, running_.load(std::memory_order_relaxed) > 1);
    if (reader_->position() >= job_.grow_after_bytes && !reader_->done()) {
        plan_growth(job_);  // the only worker so far: job_ is this thread's alone
        grow();
    }
    return true;
}

// Under the read lock (or before any other worker exists).
void engine::grow() {
    for (unsigned n = running_.load(std::memory_order_relaxed); n < job_.workers; ++n) {
        try {
            threads_.emplace_back([this] { work(); });
        } catch (...) {  // no more threads to be had: carry on with those running
            break;
        }
        running_.fetch_add(1, std::memory_order_relaxed);
    }
}

void engine::write_in_turn(block& b) {
    {
        std::unique_lock lock(write_mutex_);
        turn_changed_[b.index % max_workers].wait(lock, [&] { return write_turn_ == b.index; });
    }
    write_block(b);  // this block's turn: no other worker writes or touches result_
    {
        std::lock_guard lock(write_mutex_);
        ++write_turn_;
    }
    turn_changed_[(b.index + 1) % max_workers].notify_one();
}

void engine::write_block(block& b) {
    if (stop_.load(std::memory_order_acquire)) return;  // an earlier block failed: drop the rest
    bool failed = true;
    if (b.read_errno != 0) {
        fail_io(stream_failure::read, b.read_errno, "error reading " + quoted(job_.input_name));
    } else if (b.out_of_memory) {
        fail_io(stream_failure::write, ENOMEM, "cannot code a block for " + quoted(job_.output_name));
    } else if (job_.dir == direction::decode && job_.dialect == decode_dialect::rfc4648 && closed_ && b.has_significant) {
        fail_codec(b.first_is_data_or_pad ? status::bad_padding : status::invalid_character, b.first_significant_offset);
    } else if (write_all(b.out.get(), b.out_len)) {
        if (b.code != status::ok) fail_codec(b.code, b.error_offset);
        else failed = false;
        closed_ = closed_ || b.ends_closed;
    }
    if (failed) stop_.store(true, std::memory_order_release);
}

bool engine::write_all(const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(out_fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {  // a non-blocking stdout: wait, never spin
                pollfd pfd{out_fd_, POLLOUT, 0};
                (void)::poll(&pfd, 1, -1);
                continue;
            }
            fail_io(stream_failure::write, errno, "error writing " + quoted(job_.output_name));
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
        result_.bytes_written += static_cast<std::uint64_t>(w);
    }
    return true;
}

void engine::fail_io(stream_failure f, int err, const std::string& what) {
    result_.failure = f;
    result_.error_number = err;
    result_.message = what + ": " + std::strerror(err);
}

void engine::fail_codec(status code, std::uint64_t offset) {
    result_.failure = stream_failure::codec;
    result_.code = code;
    result_.offset = offset;
    if (code == status::kernel_unavailable) {
        result_.message = "kernel unavailable";
    } else {
        result_.message = "invalid input in " + quoted(job_.input_name) + " at byte offset " + std::to_string(offset) +
                          ": " + std::string(describe(code));
    }
}

}  // namespace calib64::streaming
