#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace calib64::common {
namespace {

std::string errno_words(int e) { return std::strerror(e); }

// Temporaries still open, for remove_pending_temporaries(): fixed storage, so a
// signal handler only reads memory that exists and calls unlink().
constexpr std::size_t max_pending = 64;
constexpr std::size_t max_pending_path = 4096;
// A slot is claimed, then its path copied, then marked ready: a handler that
// interrupts the copy sees "claimed" and skips the half-written path.
enum slot_state : int { slot_free, slot_claimed, slot_ready };
struct pending_slot {
    std::atomic<int> state{slot_free};
    char path[max_pending_path];
};
constinit std::array<pending_slot, max_pending> pending{};  // trivially destructible: valid until the process ends

int register_pending(const std::string& path) noexcept {
    if (path.size() >= max_pending_path) return -1;
    for (std::size_t i = 0; i < max_pending; ++i) {
        int expected = slot_free;
        if (pending[i].state.load(std::memory_order_relaxed) == slot_free &&
            pending[i].state.compare_exchange_strong(expected, slot_claimed, std::memory_order_acquire)) {
            std::memcpy(pending[i].path, path.c_str(), path.size() + 1);
            pending[i].state.store(slot_ready, std::memory_order_release);
            return static_cast<int>(i);
        }
    }
    return -1;  // more than 64 at once: still correct, just not removed by a signal handler
}

void release_pending(int slot) noexcept {
    if (slot >= 0) pending[static_cast<std::size_t>(slot)].state.store(slot_free, std::memory_order_release);
}

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string resolve_write_target(const std::string& path, std::string* error) {
    std::string current = path;
    for (int hops = 0; hops <= 40; ++hops) {
        struct stat st {};
        if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
        std::string link(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
        const ssize_t n = ::readlink(current.c_str(), link.data(), link.size());
        if (n < 0) {
            const int e = errno;
            if (error) *error = fmt::format("cannot read symbolic link '{}': {}", current, errno_words(e));
            errno = e;
            return {};
        }
        link.resize(static_cast<std::size_t>(n));
        current = !link.empty() && link[0] == '/' ? link : directory_of(current) + "/" + link;
    }
    if (error) *error = fmt::format("'{}': {}", path, errno_words(ELOOP));
    errno = ELOOP;
    return {};
}

atomic_file::atomic_file(const std::filesystem::path& target) {
    if (target.empty()) {
        fail(ENOENT, fmt::format("cannot write '': {}", errno_words(ENOENT)));
        return;
    }
    std::string why;
    final_ = resolve_write_target(target.string(), &why);
    if (final_.empty()) {
        fail(errno, why);  // resolve_write_target left its errno
        return;
    }
    struct stat st {};
    const bool exists = ::stat(final_.c_str(), &st) == 0;
    if (final_.back() == '/' || (exists && S_ISDIR(st.st_mode))) {
        fail(EISDIR, fmt::format("cannot write '{}': {}", target.string(), errno_words(EISDIR)));
        return;
    }
    const std::string dir = directory_of(final_);
    const std::size_t slash = final_.rfind('/');
    const std::string base = slash == std::string::npos ? final_ : final_.substr(slash + 1);
    std::random_device entropy;
    int open_errno = 0;
    for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
        temp_ = fmt::format("{}/.{}.tmp-{}-{:08x}", dir, base, ::getpid(), entropy());
        // Registered before the file exists, so no signal can come between its
        // creation and its registration (unlinking a name not yet created is harmless).
        pending_slot_ = register_pending(temp_);
        // A new file gets 0666 less the umask from the kernel (no umask() dance: it is
        // process-wide); a replaced one its old permission bits, below.
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? 0600 : 0666);
        if (fd_ >= 0) break;
        open_errno = errno;
        release_pending(pending_slot_);
        pending_slot_ = -1;
        if (open_errno != EEXIST) break;
    }
    if (fd_ < 0) {
        fail(open_errno, fmt::format("cannot create '{}' (temporary file in '{}'): {}", target.string(), dir, errno_words(open_errno)));
        temp_.clear();
        return;
    }
    // The permission bits only: setuid, setgid and sticky do not carry to a file the
    // writing user now owns.
    if (exists) ::fchmod(fd_, st.st_mode & 0777);
}

atomic_file::~atomic_file() { abort(); }

void atomic_file::fail(int error_number, std::string why) {
    error_number_ = error_number;
    error_ = std::move(why);
}

bool atomic_file::write_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = n < 0 ? errno : EIO;
            fail(e, fmt::format("cannot write '{}': {}", final_, errno_words(e)));
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string atomic_file::commit() {
    if (fd_ < 0) return error_.empty() ? "nothing to commit" : error_;
    // fsync before rename: after a crash the name points at complete data, not an empty file.
    if (::fsync(fd_) != 0) {
        const int e = errno;
        fail(e, fmt::format("cannot write '{}': {}", final_, errno_words(e)));
        abort();
        return error_;
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {  // late write errors (NFS) surface here
        const int e = errno;
        fail(e, fmt::format("cannot write '{}': {}", final_, errno_words(e)));
        abort();
        return error_;
    }
    if (::rename(temp_.c_str(), final_.c_str()) != 0) {
        const int e = errno;
        fail(e, fmt::format("cannot rename the temporary file to '{}': {}", final_, errno_words(e)));
        abort();
        return error_;
    }
    release_pending(pending_slot_);
    pending_slot_ = -1;
    temp_.clear();
    // Make the rename itself durable; best effort (some file systems refuse).
    if (const int dir = ::open(directory_of(final_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

void atomic_file::abort() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_.empty()) {
        ::unlink(temp_.c_str());
        temp_.clear();
    }
    release_pending(pending_slot_);
    pending_slot_ = -1;
}

std::string write_file_atomic(const std::filesystem::path& path, std::string_view text) {
    atomic_file f(path);
    if (!f.ok()) return f.error();
    if (!f.write_all(text)) return f.error();
    return f.commit();
}

void remove_pending_temporaries() noexcept {
    for (pending_slot& s : pending)
        if (s.state.load(std::memory_order_acquire) == slot_ready) ::unlink(s.path);
}

}  // namespace calib64::common
