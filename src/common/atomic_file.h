// Internal: the one way calib64 writes a file that must not be seen half-written
// (a profile, a report, a chart, the CLI's -o FILE).
//
// The data goes to a uniquely named temporary file (O_EXCL) in the directory of the
// file it will replace; commit() flushes it to disk (fsync), renames it over the
// target and flushes the directory, so readers see the old file or the new one and a
// crash leaves one of the two. Anything short of commit() removes the temporary.
//
// A symbolic link as the target is followed, as a shell's `>` would write through it:
// the file it finally names is replaced, in that file's own directory, and the link
// stays (a dangling link gets its target created; a loop is an error). Renaming gives
// the target a new inode: other hard links keep the old content, and the new file
// belongs to the writing user, with the old file's permission bits (never setuid,
// setgid or sticky), or 0666 less the umask for a new one. docs/cli.md says so for -o.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace calib64::common {

class atomic_file {
public:
    // Opens the temporary file for `target`. On failure ok() is false and error() says
    // why, naming the file.
    explicit atomic_file(const std::filesystem::path& target);
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;
    ~atomic_file();  // abort() unless committed

    [[nodiscard]] bool ok() const noexcept { return fd_ >= 0; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] int error_number() const noexcept { return error_number_; }  // the errno of the failure
    [[nodiscard]] int fd() const noexcept { return fd_; }
    // Where the data will land (symbolic links resolved), and where it is meanwhile.
    [[nodiscard]] const std::string& final_path() const noexcept { return final_; }
    [[nodiscard]] const std::string& temp_path() const noexcept { return temp_; }

    // Writes all of `data`; false with error() set on failure (the file stays open).
    bool write_all(std::string_view data);
    // fsync, close, rename over the target, fsync the directory. "" on success, else
    // why (and the temporary is gone, the target untouched).
    [[nodiscard]] std::string commit();
    // Closes and removes the temporary; the target is untouched. Idempotent.
    void abort() noexcept;

private:
    void fail(int error_number, std::string why);
    std::string final_;
    std::string temp_;
    std::string error_;
    int fd_ = -1;
    int pending_slot_ = -1;
    int error_number_ = 0;
};

// The whole of `text` to `path` through an atomic_file. "" or why it failed.
[[nodiscard]] std::string write_file_atomic(const std::filesystem::path& path, std::string_view text);

// Removes every temporary file an atomic_file of this process still holds open.
// Async-signal-safe (only unlink() on preallocated paths): for a signal handler that
// is about to end the process (the CLI's SIGINT/SIGTERM/SIGHUP/SIGQUIT handling).
void remove_pending_temporaries() noexcept;

// Where a write through `path` lands: symbolic links followed (relative ones from
// their own directory), up to 40 of them. "" with *error set on a loop or an
// unreadable link (and errno saying which). A path that does not exist is its own answer.
[[nodiscard]] std::string resolve_write_target(const std::string& path, std::string* error);

}  // namespace calib64::common
