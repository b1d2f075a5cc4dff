// The one atomic file writer: readers see the old file or the new one; nothing is
// left behind on failure; symbolic links are written through; loops fail clearly.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/atomic_file.h"

using calib64::common::atomic_file;
using calib64::common::write_file_atomic;
namespace fs = std::filesystem;

namespace {

struct scratch {
    fs::path dir;
    explicit scratch(const std::string& name)
        : dir(fs::temp_directory_path() / ("calib64-atomic-" + std::to_string(::getpid()) + "-" + name)) {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~scratch() { fs::remove_all(dir); }
    // Entries of the folder other than `except` (temporary files would show here).
    std::size_t others(const std::string& except) const {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename() != except;
        return n;
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("a committed file has the whole content and no temporary is left") {
    scratch s("commit");
    CHECK(write_file_atomic(s.dir / "out.txt", "hello\n").empty());
    CHECK(slurp(s.dir / "out.txt") == "hello\n");
    CHECK(s.others("out.txt") == 0);
}

TEST_CASE("until commit the target keeps its old content; an abandoned write leaves it untouched") {
    scratch s("abandon");
    const fs::path target = s.dir / "out.txt";
    REQUIRE(write_file_atomic(target, "old").empty());
    {
        atomic_file f(target);
        REQUIRE(f.ok());
        REQUIRE(f.write_all("new content"));
        CHECK(slurp(target) == "old");
        CHECK(fs::exists(f.temp_path()));
    }  // destroyed uncommitted
    CHECK(slurp(target) == "old");
    CHECK(s.others("out.txt") == 0);
}

TEST_CASE("a replaced file keeps its permission bits") {
    scratch s("mode");
    const fs::path target = s.dir / "secret";
    REQUIRE(write_file_atomic(target, "1").empty());
    REQUIRE(::chmod(target.c_str(), 0600) == 0);
    REQUIRE(write_file_atomic(target, "2").empty());
    struct stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("writing through a symbolic link replaces its target and keeps the link") {
    scratch s("link");
    fs::create_directories(s.dir / "real");
    REQUIRE(write_file_atomic(s.dir / "real" / "data", "old").empty());
    fs::create_symlink("real/data", s.dir / "link");
    REQUIRE(write_file_atomic(s.dir / "link", "new").empty());
    CHECK(fs::is_symlink(s.dir / "link"));
    CHECK(slurp(s.dir / "real" / "data") == "new");
}

TEST_CASE("a dangling symbolic link gets its target created, as a shell's > would") {
    scratch s("dangling");
    fs::create_symlink("made-by-write", s.dir / "link");
    REQUIRE(write_file_atomic(s.dir / "link", "x").empty());
    CHECK(fs::is_symlink(s.dir / "link"));
    CHECK(slurp(s.dir / "made-by-write") == "x");
}

TEST_CASE("a symbolic link loop fails with a clear reason and creates nothing") {
    scratch s("loop");
    fs::create_symlink("b", s.dir / "a");
    fs::create_symlink("a", s.dir / "b");
    const std::string why = write_file_atomic(s.dir / "a", "x");
    CHECK(why.find("symbolic links") != std::string::npos);
    CHECK(fs::is_symlink(s.dir / "a"));
    CHECK(s.others("") == 2);
}

TEST_CASE("an empty path, a directory and a missing folder fail without writing anything") {
    scratch s("bad");
    CHECK_FALSE(write_file_atomic("", "x").empty());
    CHECK_FALSE(write_file_atomic(s.dir, "x").empty());
    CHECK(write_file_atomic(s.dir / "no" / "such" / "file", "x").find("cannot create") != std::string::npos);
    CHECK(s.others("") == 0);
}

TEST_CASE("a signal handler can remove every pending temporary file") {
    scratch s("pending");
    atomic_file f(s.dir / "out");
    REQUIRE(f.ok());
    REQUIRE(fs::exists(f.temp_path()));
    calib64::common::remove_pending_temporaries();
    CHECK_FALSE(fs::exists(f.temp_path()));
    CHECK_FALSE(fs::exists(s.dir / "out"));
}
