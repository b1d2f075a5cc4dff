// The calib64 tool against coreutils base64: same bytes on stdout, same exit codes,
// and clear errors that leave no partial output file.
#include <doctest/doctest.h>

#include "test_files.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <calib64/calib64.h>

#include "runtime/settings.h"

namespace fs = std::filesystem;

namespace {

using calib64::testing::random_bytes;
using calib64::testing::temp_dir;
using calib64::testing::write_file;


std::string calib64_binary() {
    const char* root = std::getenv("CALIB64_TEST_BUILD_ROOT");
    REQUIRE_MESSAGE(root != nullptr, "CALIB64_TEST_BUILD_ROOT is not set (run through meson test)");
    const std::string path = std::string(root) + "/src/cli/calib64";
    INFO("calib64 binary: ", path);
    REQUIRE(::access(path.c_str(), X_OK) == 0);
    return path;
}

std::string coreutils_base64() {
    for (const char* p : {"/usr/bin/base64", "/bin/base64"})
        if (::access(p, X_OK) == 0) return p;
    FAIL("coreutils base64 is not installed; the comparison tests need it");
    return {};
}


std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f.good()) return "<missing>";
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}


struct outcome {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `program args` through /bin/sh with stdin from `stdin_path`; all paths here
// are temp-dir paths without spaces or quotes.
outcome run(const temp_dir& dir, const std::string& program, const std::string& args, const std::string& stdin_path = "/dev/null") {
    const std::string out = dir.file("stdout"), err = dir.file("stderr");
    const std::string cmd = program + " " + args + " < " + stdin_path + " > " + out + " 2> " + err;
    const int raw = std::system(cmd.c_str());
    REQUIRE(raw != -1);
    outcome o{WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), read_file(out), read_file(err)};
    fs::remove(out);
    fs::remove(err);
    return o;
}

// One comparison: both tools with the same arguments and stdin; calib64 may get
// extra arguments (e.g. a small --block-bytes) that must not change its output.
struct comparison {
    std::string args;
    std::string stdin_path = "/dev/null";
    std::string calib64_extra;
};

// Runs all comparisons from one shell script (spawning a shell per run is what
// makes such tests slow), then checks: same stdout, same exit code, stderr empty
// for both or for neither.
void check_same_as_coreutils(const temp_dir& dir, const std::vector<comparison>& jobs) {
    std::string script;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const comparison& j = jobs[i];
        const std::string tag = dir.file("job" + std::to_string(i));
        script += calib64_binary() + " " + j.calib64_extra + " " + j.args + " < " + j.stdin_path + " > " + tag +
                  ".ours.out 2> " + tag + ".ours.err; echo $? > " + tag + ".ours.rc\n";
        script += coreutils_base64() + " " + j.args + " < " + j.stdin_path + " > " + tag + ".theirs.out 2> " + tag +
                  ".theirs.err; echo $? > " + tag + ".theirs.rc\n";
    }
    write_file(dir.file("jobs.sh"), script);
    REQUIRE(std::system(("/bin/sh " + dir.file("jobs.sh")).c_str()) == 0);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        const std::string tag = dir.file("job" + std::to_string(i));
        CAPTURE(jobs[i].args);
        CAPTURE(jobs[i].calib64_extra);
        CAPTURE(read_file(tag + ".ours.err"));
        CHECK(read_file(tag + ".ours.rc") == read_file(tag + ".theirs.rc"));
        CHECK(read_file(tag + ".ours.out") == read_file(tag + ".theirs.out"));
        CHECK(read_file(tag + ".ours.err").empty() == read_file(tag + ".theirs.err").empty());
        for (const char* suffix : {".ours.out", ".ours.err", ".ours.rc", ".theirs.out", ".theirs.err", ".theirs.rc"})
            fs::remove(tag + suffix);
    }
    fs::remove(dir.file("jobs.sh"));
}

}  // namespace

TEST_CASE("calib64 encodes byte for byte like coreutils base64 for every wrap width") {
    temp_dir dir;
    std::vector<comparison> jobs;
    for (std::size_t n : {0, 1, 2, 3, 57, 58, 4099, 70001}) {
        const std::string in = dir.file("in" + std::to_string(n));
        write_file(in, random_bytes(n, n));
        for (const char* wrap : {"", "-w 0", "-w 76", "-w 1", "-w 5", "--wrap=64"}) {
            jobs.push_back({std::string(wrap) + " " + in, "/dev/null", ""});
            // The smallest blocks put block boundaries mid-line.
            if (std::string(wrap).starts_with("-w ") && std::string(wrap) != "-w 0")
                jobs.push_back({std::string(wrap) + " " + in, "/dev/null", "--block-bytes=4096"});
        }
        jobs.push_back({"-w 76", in, ""});    // stdin
        jobs.push_back({"-w 76 -", in, ""});  // '-' is stdin
    }
    check_same_as_coreutils(dir, jobs);
}

TEST_CASE("calib64 -d decodes byte for byte like coreutils base64") {
    temp_dir dir;
    std::vector<comparison> jobs;
    for (std::size_t n : {0, 1, 2, 57, 70001}) {
        const std::string data = random_bytes(n, n + 1);
        write_file(dir.file("raw"), data);
        for (const char* wrap : {"0", "76", "1", "5"}) {
            const outcome enc = run(dir, coreutils_base64(), std::string("-w ") + wrap + " " + dir.file("raw"));
            REQUIRE(enc.exit_code == 0);
            const std::string in = dir.file("in" + std::to_string(n) + "w" + wrap + ".b64");
            write_file(in, enc.out);
            jobs.push_back({"-d " + in, "/dev/null", ""});
            jobs.push_back({"--decode " + in, "/dev/null", "--block-bytes=4096"});
            jobs.push_back({"-d -i", in, ""});
            if (n == 70001 && std::string(wrap) == "76") {
                const outcome ours = run(dir, calib64_binary(), "-d " + in);
                CHECK(ours.out == data);
            }
        }
    }
    check_same_as_coreutils(dir, jobs);
}

namespace {
// A little over 4 KiB of random base64 alphabet (no newlines).
std::string encode_prefix(std::mt19937_64& rng) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string text(4200, 'A');
    for (char& c : text) c = alphabet[rng() % 64];
    return text;
}
}  // namespace

// Random text built from pieces that hit every coreutils quirk: concatenated padded
// groups, non-zero trailing bits, missing padding, spaces, CR, garbage.
TEST_CASE("calib64 -d and -d -i match coreutils on random quirky input, output and exit code") {
    temp_dir dir;
    std::mt19937_64 rng(7);
    const std::string pieces[] = {"QUJD", "QUI=", "QQ==", "YR==", "\n", " ", "\r\n", "=", "*", "A", "Zm9v", "YQ"};
    std::vector<comparison> jobs;
    for (int round = 0; round < 60; ++round) {
        // Half the rounds: valid text up to just before the first block boundary of
        // the smallest block (4 KiB), so the quirks straddle it.
        std::string text;
        if (round % 2 == 0) {
            text = encode_prefix(rng);
            text.resize(4096 - rng() % 48);
        }
        const int parts = 1 + static_cast<int>(rng() % 30);
        for (int i = 0; i < parts; ++i) text += pieces[rng() % std::size(pieces)];
        std::string name = "q";  // built in steps: GCC 12 warns falsely (-Wrestrict) on "q" + to_string(...)
        name += std::to_string(round);
        const std::string in = dir.file(name);
        write_file(in, text);
        jobs.push_back({"-d " + in, "/dev/null", round % 2 == 0 ? "--block-bytes=4096" : ""});
        jobs.push_back({"-d -i " + in, "/dev/null", round % 2 == 0 ? "--block-bytes=4096" : ""});
    }
    check_same_as_coreutils(dir, jobs);
}

TEST_CASE("invalid input exits 1 with 'invalid input' on stderr, like coreutils") {
    temp_dir dir;
    for (const char* text : {"QUJD*", "QQ", "Q", "QUJD\r\n", "=QUJD"}) {
        write_file(dir.file("bad"), text);
        check_same_as_coreutils(dir, {{"-d " + dir.file("bad"), "/dev/null", ""}});
        const outcome ours = run(dir, calib64_binary(), "-d " + dir.file("bad"));
        CHECK(ours.exit_code == 1);
        CHECK(ours.err.find("calib64: invalid input") == 0);
    }
}

TEST_CASE("a missing input file exits 1 naming the file") {
    temp_dir dir;
    const outcome ours = run(dir, calib64_binary(), dir.file("absent"));
    const outcome theirs = run(dir, coreutils_base64(), dir.file("absent"));
    CHECK(ours.exit_code == theirs.exit_code);
    CHECK(ours.exit_code == 1);
    CHECK(ours.err.find(dir.file("absent")) != std::string::npos);
    CHECK(ours.err.find("No such file or directory") != std::string::npos);
    CHECK(ours.out.empty());
}

TEST_CASE("-o writes the same bytes as stdout, and only once complete") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(5000, 5));
    const outcome to_stdout = run(dir, calib64_binary(), "-w 5 " + dir.file("in"));
    const outcome to_file = run(dir, calib64_binary(), "-w 5 -o " + dir.file("out.b64") + " " + dir.file("in"));
    CHECK(to_file.exit_code == 0);
    CHECK(to_file.out.empty());
    CHECK(read_file(dir.file("out.b64")) == to_stdout.out);
    CHECK(dir.entries() == std::vector<std::string>{"in", "out.b64"});
}

TEST_CASE("-o in a missing directory, /dev/full and invalid input all exit non-zero and leave no output file") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(5000, 6));
    write_file(dir.file("bad.b64"), std::string(10000, 'A') + "*AAA");

    const outcome no_dir = run(dir, calib64_binary(), "-o " + dir.file("nodir/out") + " " + dir.file("in"));
    CHECK(no_dir.exit_code == 1);
    CHECK(no_dir.err.find(dir.file("nodir/out")) != std::string::npos);

    const outcome full = run(dir, calib64_binary(), "-o /dev/full " + dir.file("in"));
    CHECK(full.exit_code == 1);
    CHECK(full.err.find("No space left on device") != std::string::npos);

    const outcome bad = run(dir, calib64_binary(), "-d --block-bytes=4096 -o " + dir.file("out.bin") + " " + dir.file("bad.b64"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("invalid input") != std::string::npos);
    CHECK(bad.err.find("10000") != std::string::npos);  // the offset of '*'

    CHECK(dir.entries() == std::vector<std::string>{"bad.b64", "in"});
}

TEST_CASE("stdout on /dev/full exits 1 like coreutils") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(5000, 8));
    const std::string redirect = dir.file("in") + " > /dev/full 2> " + dir.file("err");
    const int ours = std::system((calib64_binary() + " " + redirect).c_str());
    CHECK(WEXITSTATUS(ours) == 1);
    CHECK(read_file(dir.file("err")).find("No space left on device") != std::string::npos);
    const int theirs = std::system((coreutils_base64() + " " + redirect).c_str());
    CHECK(WEXITSTATUS(theirs) == WEXITSTATUS(ours));
}

TEST_CASE("usage errors exit 1 with a hint, like coreutils") {
    temp_dir dir;
    write_file(dir.file("in"), "x");
    for (const std::string& args : std::vector<std::string>{"-w x " + dir.file("in"), "--bogus", dir.file("in") + " " + dir.file("in")}) {
        const outcome ours = run(dir, calib64_binary(), args);
        const outcome theirs = run(dir, coreutils_base64(), args);
        CAPTURE(args);
        CHECK(ours.exit_code == theirs.exit_code);
        CHECK(ours.err.find("--help") != std::string::npos);
    }
}

TEST_CASE("the extras: --url and --no-pad round-trip, --strict rejects what coreutils tolerates") {
    temp_dir dir;
    const std::string data = random_bytes(1001, 11);
    write_file(dir.file("raw"), data);
    const outcome token = run(dir, calib64_binary(), "--url --no-pad -w 0 " + dir.file("raw"));
    REQUIRE(token.exit_code == 0);
    CHECK(token.out.find_first_of("+/=\n") == std::string::npos);
    write_file(dir.file("token"), token.out);
    const outcome back = run(dir, calib64_binary(), "-d --url --no-pad " + dir.file("token"));
    CHECK(back.exit_code == 0);
    CHECK(back.out == data);

    write_file(dir.file("loose"), "YR==");  // non-zero trailing bits: coreutils says "a"
    const outcome strict = run(dir, calib64_binary(), "-d --strict " + dir.file("loose"));
    CHECK(strict.exit_code == 1);
    CHECK(strict.err.find("offset 1") != std::string::npos);
    const outcome loose = run(dir, calib64_binary(), "-d " + dir.file("loose"));
    CHECK(loose.out == "a");
}

TEST_CASE("every backend and the subcommand spelling give the same output") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(200000, 12));
    const outcome reference = run(dir, coreutils_base64(), dir.file("in"));
    for (const char* how : {"auto", "serial", "work_stealing", "pipeline"}) {
        const outcome ours = run(dir, calib64_binary(), std::string("--backend=") + how + " --threads 3 " + dir.file("in"));
        CAPTURE(how);
        CHECK(ours.exit_code == 0);
        CHECK(ours.out == reference.out);
    }
    write_file(dir.file("in.b64"), reference.out);
    const outcome sub = run(dir, calib64_binary(), "decode " + dir.file("in.b64"));
    CHECK(sub.out == read_file(dir.file("in")));
    const outcome enc = run(dir, calib64_binary(), "encode " + dir.file("in"));
    CHECK(enc.out == reference.out);
}

TEST_CASE("the default backend is auto: a CALIB64_* override is read by a large pipe and a small file alike") {
    temp_dir dir;
    write_file(dir.file("big"), random_bytes(3 << 20, 21));
    write_file(dir.file("small"), random_bytes(1000, 22));
    // A variable the settings resolution warns about proves that it ran: a person's
    // override is followed whatever the input (without one, a small input reads no
    // settings at all: tests/test_stream.cpp, automatic mode).
    const std::string env = "CALIB64_BACKEND=nonsense ";
    const outcome reference = run(dir, coreutils_base64(), "-w 0", dir.file("big"));
    const outcome piped = run(dir, "(cat " + dir.file("big") + " | " + env + calib64_binary() + " -w 0)", "");
    CHECK(piped.exit_code == 0);
    CHECK(piped.out == reference.out);
    CHECK(piped.err.find("CALIB64_BACKEND") != std::string::npos);
    const outcome small = run(dir, env + calib64_binary(), "-w 0", dir.file("small"));
    CHECK(small.exit_code == 0);
    CHECK(small.out == run(dir, coreutils_base64(), "-w 0", dir.file("small")).out);
    CHECK(small.err.find("CALIB64_BACKEND") != std::string::npos);
}

TEST_CASE("calib64 profile show lists the settings in force and where each came from") {
    temp_dir dir;
    const outcome o = run(dir, "CALIB64_ENCODE_WORK_STEALING_FROM=3MiB " + calib64_binary(), "profile show");
    CHECK(o.exit_code == 0);
    CHECK(o.out.find("encode.work_stealing.from") != std::string::npos);
    CHECK(o.out.find("3 MiB") != std::string::npos);
    CHECK(o.out.find("environment") != std::string::npos);
}

TEST_CASE("calib64 profile check accepts a valid profile and rejects a broken one, naming the field") {
    temp_dir dir;
    write_file(dir.file("future.json"), R"({"schema_version": 99})");
    const outcome bad = run(dir, calib64_binary(), "profile check " + dir.file("future.json"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find("/schema_version") != std::string::npos);
    write_file(dir.file("cut.json"), R"({"schema_version": 1, "encode": {)");
    const outcome cut = run(dir, calib64_binary(), "profile check " + dir.file("cut.json"));
    CHECK(cut.exit_code == 1);
    const outcome usage = run(dir, calib64_binary(), "profile");
    CHECK(usage.exit_code == 1);
    CHECK(usage.err.find("usage") != std::string::npos);
}

// The first CPU this process may run on, for `taskset -c N`.
int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int i = 0; i < CPU_SETSIZE; ++i)
        if (CPU_ISSET(i, &set)) return i;
    return 0;
}

std::string source_root() {
    const char* root = std::getenv("CALIB64_TEST_SOURCE_ROOT");
    return root ? root : ".";
}

TEST_CASE("calib64 profile defaults writes this host's topology defaults as a profile marked as derived") {
    temp_dir dir;
    const outcome o = run(dir, calib64_binary(), "profile defaults " + dir.file("d.json"));
    CHECK(o.exit_code == 0);
    CHECK(o.out.find("not measured") != std::string::npos);
    CHECK(read_file(dir.file("d.json")).find("\"made_by\": \"topology_defaults\"") != std::string::npos);
    const outcome check = run(dir, calib64_binary(), "profile check " + dir.file("d.json"));
    CHECK(check.exit_code == 0);
    CHECK(check.out.find("not measured") != std::string::npos);
    // Used as this host's profile, it decides what the topology would have.
    const outcome with = run(dir, "CALIB64_PROFILE=" + dir.file("d.json") + " " + calib64_binary(), "profile show");
    const outcome without = run(dir, "CALIB64_PROFILE=" + dir.file("none") + " " + calib64_binary(), "profile show");
    auto line = [](const std::string& text, const std::string& name) {
        const auto at = text.find("\n" + name + " ");
        if (at == std::string::npos) return std::string("<missing>");
        const auto value = text.find_first_not_of(' ', at + name.size() + 1);
        return text.substr(value, text.find(' ', value) - value);
    };
    CHECK(line(with.out, "encode.work_stealing.from") == line(without.out, "encode.work_stealing.from"));
    CHECK(line(with.out, "decode.work_stealing.from") == line(without.out, "decode.work_stealing.from"));
}

TEST_CASE("calib64 profile bundle gathers result folders, names and skips a malformed one, and profile check accepts the bundle") {
    temp_dir dir;
    fs::create_directories(dir.path / "results" / "zen5-2c-1m-9fb26054");
    fs::copy_file(fs::path(source_root()) / "results" / "zen5-2c-1m-9fb26054" / "profile.json",
                  dir.path / "results" / "zen5-2c-1m-9fb26054" / "profile.json");
    REQUIRE(run(dir, calib64_binary(), "profile defaults " + dir.file("results/here/profile.json")).exit_code == 0);
    fs::create_directories(dir.path / "results" / "broken");
    write_file(dir.file("results/broken/profile.json"), R"({"schema_version": 1, "encode": {"kernel": "avx9"}})");
    const outcome b = run(dir, calib64_binary(), "profile bundle " + dir.file("b.json") + " " + dir.file("results"));
    CHECK(b.exit_code == 0);
    CHECK(b.out.find("2 profiles") != std::string::npos);
    CHECK(b.out.find("zen5-2c-1m-9fb26054") != std::string::npos);
    CHECK(b.err.find("skipped broken") != std::string::npos);
    // Small: decisions and host facts only, not the 100 KiB of curves.
    CHECK(fs::file_size(dir.file("b.json")) < 8000);
    const outcome check = run(dir, calib64_binary(), "profile check " + dir.file("b.json"));
    CHECK(check.exit_code == 0);
    CHECK(check.out.find("bundle with 2 usable profiles") != std::string::npos);
    CHECK(check.out.find("here: loaded from") != std::string::npos);
    // The folder itself: the broken member is an error there.
    const outcome folder = run(dir, calib64_binary(), "profile check " + dir.file("results"));
    CHECK(folder.exit_code == 1);
    CHECK(folder.out.find("broken") != std::string::npos);
    const outcome none = run(dir, calib64_binary(), "profile bundle " + dir.file("c.json") + " " + dir.file("results/broken"));
    CHECK(none.exit_code == 1);
    CHECK_FALSE(fs::exists(dir.file("c.json")));
}

TEST_CASE("a bundle shipped beside the executable as calib64-profiles.json is found and its member named") {
    temp_dir dir;
    fs::create_directories(dir.path / "bin");
    fs::copy_file(calib64_binary(), dir.path / "bin" / "calib64");
    REQUIRE(run(dir, calib64_binary(), "profile defaults " + dir.file("r/this-host/profile.json")).exit_code == 0);
    REQUIRE(run(dir, calib64_binary(), "profile bundle " + dir.file("bin/calib64-profiles.json") + " " + dir.file("r")).exit_code == 0);
    // HOME and XDG_CONFIG_HOME point into the scratch folder: no user profile interferes.
    const outcome o = run(dir, "env -u CALIB64_PROFILE HOME=" + dir.file("home") + " XDG_CONFIG_HOME=" + dir.file("home") + " " +
                                   dir.file("bin/calib64"),
                          "profile show");
    CHECK(o.exit_code == 0);
    CHECK(o.out.find("calib64-profiles.json#this-host: this host (exact fingerprint)") != std::string::npos);
}

TEST_CASE("under taskset -c N with CALIB64_PROFILE naming a folder, profile show chooses no parallel backend") {
    if (::access("/usr/bin/taskset", X_OK) != 0) {
        MESSAGE("taskset (util-linux) is not installed; skipped");
        return;
    }
    temp_dir dir;
    // This host's own profile: parallel from some size on when it has two CPUs or more.
    REQUIRE(run(dir, calib64_binary(), "profile defaults " + dir.file("fleet/this-host/profile.json")).exit_code == 0);
    fs::create_directories(dir.path / "fleet" / "zen5-2c-1m-9fb26054");
    fs::copy_file(fs::path(source_root()) / "results" / "zen5-2c-1m-9fb26054" / "profile.json",
                  dir.path / "fleet" / "zen5-2c-1m-9fb26054" / "profile.json");
    const std::string env = "CALIB64_PROFILE=" + dir.file("fleet") + " ";
    const outcome pinned =
        run(dir, env + "/usr/bin/taskset -c " + std::to_string(first_allowed_cpu()) + " " + calib64_binary(), "profile show");
    CHECK(pinned.exit_code == 0);
    CHECK(pinned.err.empty());
    CHECK(pinned.out.find("this-host/profile.json: this host (exact fingerprint)") != std::string::npos);
    CHECK(pinned.out.find("\nusable_cpus ") != std::string::npos);
    for (const char* name : {"encode.work_stealing.from", "encode.pipeline.from", "decode.work_stealing.from",
                             "decode.pipeline.from"}) {
        CAPTURE(name);
        const auto at = pinned.out.find(std::string("\n") + name + " ");
        REQUIRE(at != std::string::npos);
        const std::string row = pinned.out.substr(at + 1, pinned.out.find('\n', at + 1) - at - 1);
        CHECK(row.find(" never ") != std::string::npos);
    }
}

TEST_CASE("--kernel with an unknown name exits 1 and says why") {
    temp_dir dir;
    const outcome o = run(dir, calib64_binary(), "--kernel=sse9 /dev/null");
    CHECK(o.exit_code == 1);
    CHECK(o.err.find("sse9") != std::string::npos);
    const outcome scalar = run(dir, calib64_binary(), "--kernel=scalar /dev/null");
    CHECK(scalar.exit_code == 0);
}

TEST_CASE("--help and --version exit 0 and print to stdout") {
    temp_dir dir;
    const outcome help = run(dir, calib64_binary(), "--help");
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Examples") != std::string::npos);
    const outcome version = run(dir, calib64_binary(), "--version");
    CHECK(version.exit_code == 0);
    CHECK(version.out.find("calib64") == 0);
}

// ---------------------------------------------------------------- -w exactly as coreutils 9.1

TEST_CASE("-w accepts, refuses and interprets every kind of value exactly like coreutils base64") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(1000, 30));
    // coreutils 9.1 reads COLS with xstrtoimax: leading whitespace and a sign are
    // fine, a trailing character is not, negatives fail ("-0" is 0), and anything
    // above INTMAX_MAX means 0 (no wrapping).
    const std::vector<std::string> values = {
        "0", "1", "5", "76", "1000", "1336", "1337", "005", "+5", "' 5'", "' +5'", "'\t7'", "' \n\v\f\r8'", "-0",
        "-00", "' -0'", "9223372036854775806", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "99999999999999999999",
        "999999999999999999999999999999999999999",
        // refused
        "-1", "-5", "-9223372036854775808", "-99999999999999999999", "''", "' '", "'5 '", "'5\n'", "x", "5x", "0x10",
        "1e3", "+", "-", "+-5", "'+ 5'", "'1,000'", "1.5", "١"};
    std::vector<comparison> jobs;
    for (const std::string& v : values) {
        jobs.push_back({"-w " + v + " " + dir.file("in"), "/dev/null", ""});
        jobs.push_back({"--wrap=" + v + " " + dir.file("in"), "/dev/null", ""});
    }
    jobs.push_back({"-w 3 -w 0 " + dir.file("in"), "/dev/null", ""});  // the last one counts
    jobs.push_back({"-d -w 5 /dev/null", "/dev/null", ""});            // coreutils ignores -w when decoding
    check_same_as_coreutils(dir, jobs);
}

// ---------------------------------------------------------------- conflicting flags

TEST_CASE("the encode and decode subcommands refuse flags of the other direction") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(300, 31));
    write_file(dir.file("in.b64"), "QUJD\n");
    struct refused {
        std::string args;
        std::string names;  // the flag the message must name
    };
    for (const refused& r : std::vector<refused>{{"encode -d " + dir.file("in"), "-d/--decode"},
                                                 {"encode --decode " + dir.file("in"), "-d/--decode"},
                                                 {"encode -i " + dir.file("in"), "-i/--ignore-garbage"},
                                                 {"encode --strict " + dir.file("in"), "--strict"},
                                                 {"decode -w 0 " + dir.file("in.b64"), "-w/--wrap"},
                                                 {"decode --wrap=76 " + dir.file("in.b64"), "-w/--wrap"}}) {
        CAPTURE(r.args);
        const outcome o = run(dir, calib64_binary(), r.args);
        CHECK(o.exit_code == 1);
        CHECK(o.out.empty());
        CHECK(o.err.find(r.names) != std::string::npos);
        CHECK(o.err.find("--help") != std::string::npos);
    }
    // Redundant, not contradictory: accepted.
    const outcome redundant = run(dir, calib64_binary(), "decode -d " + dir.file("in.b64"));
    CHECK(redundant.exit_code == 0);
    CHECK(redundant.out == "ABC");
    CHECK(run(dir, calib64_binary(), "encode --no-pad --url -w 0 " + dir.file("in")).exit_code == 0);
}

// ---------------------------------------------------------------- --block-bytes

TEST_CASE("--block-bytes below 4 KiB or above 1 GiB is refused with the range") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(5000, 32));
    for (const std::string bad : {"1", "4", "4095", "1GiB1", "2GiB", "0", "-4096", "lots"}) {
        CAPTURE(bad);
        const outcome o = run(dir, calib64_binary(), "--block-bytes=" + bad + " " + dir.file("in"));
        CHECK(o.exit_code == 1);
        CHECK(o.out.empty());
        CHECK(o.err.find("4 KiB to 1 GiB") != std::string::npos);
    }
    const outcome reference = run(dir, coreutils_base64(), dir.file("in"));
    for (const std::string good : {"4096", "4KiB", "1GiB", "65536"}) {
        CAPTURE(good);
        const outcome o = run(dir, calib64_binary(), "--block-bytes=" + good + " " + dir.file("in"));
        CHECK(o.exit_code == 0);
        CHECK(o.out == reference.out);
    }
}

// ---------------------------------------------------------------- signals during -o

namespace {

// calib64 with `args`, stdin from `stdin_fd` (or /dev/null), stdout and stderr to
// files in `dir`; `ignore` is set to SIG_IGN for the child, as nohup would.
pid_t spawn_calib64(const temp_dir& dir, const std::vector<std::string>& args, int stdin_fd = -1, int ignore = 0) {
    std::vector<std::string> words{calib64_binary()};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, dir.file("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, dir.file("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // An ignored signal stays ignored across exec; ours is restored right after.
    struct sigaction old {};
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    if (ignore != 0) ::sigaction(ignore, &ign, &old);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    if (ignore != 0) ::sigaction(ignore, &old, nullptr);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return pid;
}

// The wait status of `pid`, or -1 after `seconds` (then it is killed).
int wait_for(pid_t pid, int seconds) {
    int status = 0;
    for (int ms = 0; ms < seconds * 1000; ms += 5) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        REQUIRE(r >= 0);
        if (r == pid) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

// Waits until `dir` holds an entry other than `known` (the temporary file) with at
// least `bytes` bytes in it; its name, or "" after 20 s.
std::string wait_for_new_file(const temp_dir& dir, const std::vector<std::string>& known, std::uintmax_t bytes) {
    for (int ms = 0; ms < 20'000; ms += 5) {
        for (const std::string& name : dir.entries()) {
            if (std::find(known.begin(), known.end(), name) != known.end()) continue;
            std::error_code ec;
            if (fs::file_size(dir.file(name), ec) >= bytes && !ec) return name;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return {};
}

// Feeds `data` to a FIFO calib64 reads as its input, keeping the FIFO open (so
// calib64 waits for more): the moment a signal should find it mid-write.
struct slow_input {
    int fd = -1;
    explicit slow_input(const std::string& fifo) {
        fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // waits for calib64 to open it
        REQUIRE(fd >= 0);
    }
    void feed(const std::string& data) const {
        for (std::size_t done = 0; done < data.size();) {
            const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
            REQUIRE(n > 0);
            done += static_cast<std::size_t>(n);
        }
    }
    ~slow_input() { ::close(fd); }
};

}  // namespace

TEST_CASE("SIGINT, SIGTERM, SIGHUP and SIGQUIT during -o remove the temporary file and end calib64 by that signal") {
    // Ignored here, so that a write to a FIFO whose reader died cannot end the tests.
    struct sigaction ign {}, old_pipe {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        for (const bool decoding : {false, true}) {
            CAPTURE(sig);
            CAPTURE(decoding);
            temp_dir dir;
            REQUIRE(::mkfifo(dir.file("in").c_str(), 0600) == 0);
            write_file(dir.file("out"), "the old content\n");
            std::vector<std::string> args{"-o", dir.file("out"), dir.file("in")};
            if (decoding) args.insert(args.begin(), "-d");
            const pid_t pid = spawn_calib64(dir, args);
            {
                const slow_input input(dir.file("in"));
                const std::string data = random_bytes(3 << 20, 40);
                input.feed(decoding ? calib64::encode(data) : data);
                // Partly written, still waiting for input: now the signal.
                const std::string temp =
                    wait_for_new_file(dir, {"in", "out", "stdout", "stderr"}, decoding ? 1 << 20 : 2 << 20);
                REQUIRE_MESSAGE(!temp.empty(), "no temporary file appeared");
                CHECK(temp.starts_with(".out."));
                REQUIRE(::kill(pid, sig) == 0);
                const int status = wait_for(pid, 20);
                REQUIRE(status != -1);
                CHECK(WIFSIGNALED(status));
                CHECK(WTERMSIG(status) == sig);  // what a shell reports as 128 + sig
            }
            CHECK(dir.entries() == std::vector<std::string>{"in", "out", "stderr", "stdout"});
            CHECK(read_file(dir.file("out")) == "the old content\n");
        }
    }
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
}

TEST_CASE("a signal ignored when calib64 starts (nohup) stays ignored, and the output completes") {
    temp_dir dir;
    REQUIRE(::mkfifo(dir.file("in").c_str(), 0600) == 0);
    const pid_t pid = spawn_calib64(dir, {"-o", dir.file("out"), dir.file("in")}, -1, SIGHUP);
    const std::string data = random_bytes(3 << 20, 41);
    {
        const slow_input input(dir.file("in"));
        input.feed(data.substr(0, 2 << 20));
        REQUIRE_FALSE(wait_for_new_file(dir, {"in", "stdout", "stderr"}, 1 << 20).empty());
        REQUIRE(::kill(pid, SIGHUP) == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        input.feed(data.substr(2 << 20));
    }
    const int status = wait_for(pid, 20);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    write_file(dir.file("raw"), data);
    CHECK(read_file(dir.file("out")) == run(dir, coreutils_base64(), dir.file("raw")).out);
}

// ---------------------------------------------------------------- -o and links, -o ''

namespace {
bool is_symlink(const std::string& path) {
    std::error_code ec;
    return fs::is_symlink(fs::symlink_status(path, ec));
}
}  // namespace

TEST_CASE("-o onto a symbolic link writes its target like a shell's >, keeping the link") {
    // Each case twice: `base64 in > LINK` in one directory, `calib64 -o LINK in` in
    // another set up the same way; then the two directories must look the same.
    struct setup {
        const char* what;
        void (*make)(const temp_dir&);
        const char* link;        // the path written to, relative to the directory
        const char* lands_in;    // the file that must then hold the encoding
    };
    const setup cases[] = {
        {"link to a file", [](const temp_dir& d) {
             write_file(d.file("target"), "old\n");
             fs::create_symlink("target", d.file("link"));
         }, "link", "target"},
        {"dangling link", [](const temp_dir& d) { fs::create_symlink("missing", d.file("link")); }, "link", "missing"},
        {"relative link from another directory, through a second link", [](const temp_dir& d) {
             fs::create_directories(d.file("a"));
             fs::create_directories(d.file("b"));
             write_file(d.file("b/target"), "old\n");
             fs::create_symlink("../b/hop", d.file("a/link"));
             fs::create_symlink("target", d.file("b/hop"));
         }, "a/link", "b/target"},
    };
    for (const setup& c : cases) {
        CAPTURE(c.what);
        temp_dir shell, ours, inputs;
        write_file(inputs.file("in"), random_bytes(5000, 42));
        c.make(shell);
        c.make(ours);
        const int sh = std::system((coreutils_base64() + " " + inputs.file("in") + " > " + shell.file(c.link)).c_str());
        CHECK(WEXITSTATUS(sh) == 0);
        const outcome o = run(inputs, calib64_binary(), "-o " + ours.file(c.link) + " " + inputs.file("in"));
        CHECK(o.exit_code == 0);
        CHECK(o.err.empty());
        CHECK(is_symlink(ours.file(c.link)));
        CHECK(read_file(ours.file(c.lands_in)) == read_file(shell.file(c.lands_in)));
        CHECK(read_file(ours.file(c.lands_in)).size() > 5000);
        CHECK(ours.entries() == shell.entries());  // no temporary left, nothing else created
        for (const char* sub : {"a", "b"})
            if (fs::exists(shell.file(sub))) CHECK(fs::directory_entry(ours.file(sub)).exists());
    }
}

TEST_CASE("-o onto a symbolic link loop or a link into a missing directory fails like a shell's >, creating nothing") {
    struct setup {
        const char* what;
        void (*make)(const temp_dir&);
        const char* reason;
    };
    const setup cases[] = {
        {"loop", [](const temp_dir& d) {
             fs::create_symlink("b", d.file("link"));
             fs::create_symlink("link", d.file("b"));
         }, "Too many levels of symbolic links"},
        {"self loop", [](const temp_dir& d) { fs::create_symlink("link", d.file("link")); },
         "Too many levels of symbolic links"},
        {"into a missing directory", [](const temp_dir& d) { fs::create_symlink("nodir/file", d.file("link")); },
         "No such file or directory"},
    };
    for (const setup& c : cases) {
        CAPTURE(c.what);
        temp_dir shell, ours, inputs;
        write_file(inputs.file("in"), random_bytes(5000, 43));
        c.make(shell);
        c.make(ours);
        const std::vector<std::string> before = ours.entries();
        const int sh = std::system(("{ " + coreutils_base64() + " " + inputs.file("in") + " > " + shell.file("link") +
                                    "; } 2> /dev/null").c_str());
        CHECK(WEXITSTATUS(sh) != 0);
        const outcome o = run(inputs, calib64_binary(), "-o " + ours.file("link") + " " + inputs.file("in"));
        CHECK(o.exit_code == 1);
        CHECK(o.out.empty());
        CHECK(o.err.find(c.reason) != std::string::npos);
        CHECK(ours.entries() == before);
        CHECK(shell.entries() == before);
    }
}

TEST_CASE("-o replaces the file: other hard links keep the old content, the mode is kept") {
    temp_dir dir;
    write_file(dir.file("in"), random_bytes(3000, 44));
    write_file(dir.file("out"), "old\n");
    ::chmod(dir.file("out").c_str(), 0640);
    fs::create_hard_link(dir.file("out"), dir.file("other-name"));
    const outcome o = run(dir, calib64_binary(), "-o " + dir.file("out") + " " + dir.file("in"));
    CHECK(o.exit_code == 0);
    CHECK(read_file(dir.file("out")) == run(dir, coreutils_base64(), dir.file("in")).out);
    CHECK(read_file(dir.file("other-name")) == "old\n");  // a shell's > would have changed both names
    struct stat st {};
    REQUIRE(::stat(dir.file("out").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(st.st_nlink == 1);
}

TEST_CASE("-o '' fails at once, before reading any input") {
    temp_dir dir;
    // Standard input is a pipe that never ends: a tool that read it first would hang.
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = spawn_calib64(dir, {"-o", ""}, fds[0]);
    ::close(fds[0]);
    const int status = wait_for(pid, 20);
    ::close(fds[1]);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(read_file(dir.file("stderr")).find("cannot write '': No such file or directory") != std::string::npos);
    CHECK(read_file(dir.file("stdout")).empty());
}

// ---------------------------------------------------------------- the lean tool and calib64-full

// False in a build configured with -Dcalibrate=disabled (tests/meson.build).
bool with_calibrate() {
    const char* v = std::getenv("CALIB64_TEST_WITH_CALIBRATE");
    return v == nullptr || std::string(v) != "0";
}

TEST_CASE("calib64 starts without loading libstdc++, oneTBB, hwloc, fmt or Google Benchmark") {
    const char* lean = std::getenv("CALIB64_TEST_LEAN_STATIC");
    if (lean == nullptr || std::string(lean) != "1") return;  // a sanitizer build keeps the shared libraries
    temp_dir dir;
    // What the dynamic loader would map, without running the program (what ldd does).
    const outcome o = run(dir, "LD_TRACE_LOADED_OBJECTS=1 " + calib64_binary(), "");
    CHECK(o.exit_code == 0);
    CAPTURE(o.out);
    CHECK(o.out.find("libc.so") != std::string::npos);
    for (const char* lib : {"libstdc++", "libtbb", "libhwloc", "libfmt", "libbenchmark", "libudev"})
        CHECK(o.out.find(lib) == std::string::npos);
}

TEST_CASE("calibrate, report and the work_stealing backend run in calib64-full, with the same arguments") {
    temp_dir dir;
    const std::string full = calib64_binary() + "-full";
    const outcome lean_report = run(dir, calib64_binary(), "report");
    const outcome full_report = run(dir, full, "report");
    CHECK(lean_report.exit_code == full_report.exit_code);
    CHECK(lean_report.err == full_report.err);
    write_file(dir.file("in"), random_bytes(300000, 61));
    const outcome reference = run(dir, coreutils_base64(), dir.file("in"));
    const outcome forced = run(dir, "CALIB64_BACKEND=' work_stealing' " + calib64_binary(), dir.file("in"));
    CHECK(forced.exit_code == 0);
    CHECK(forced.out == reference.out);
}

TEST_CASE("without calib64-full beside it, calib64 says what a command needs and exits 1; base64 work does not need it") {
    temp_dir dir;
    fs::copy_file(calib64_binary(), dir.file("calib64"));
    fs::permissions(dir.file("calib64"), fs::perms::owner_all);
    const outcome o = run(dir, dir.file("calib64"), "calibrate --quick");
    CHECK(o.exit_code == 1);
    if (with_calibrate())
        CHECK(o.err.find("calib64-full") != std::string::npos);
    else  // -Dcalibrate=disabled: the command is known and says why it cannot run
        CHECK(o.err.find("calibrate: not in this build") != std::string::npos);
    const outcome ws = run(dir, dir.file("calib64"), "--backend=work_stealing /dev/null");
    CHECK(ws.exit_code == 1);
    CHECK(ws.err.find("calib64-full") != std::string::npos);
    write_file(dir.file("in"), "abc");
    const outcome plain = run(dir, dir.file("calib64"), dir.file("in"));
    CHECK(plain.exit_code == 0);
    CHECK(plain.out == "YWJj\n");
}

// ---------------------------------------------------------------- the manual page

namespace {

// The man page's text with roff's escapes for '-' and fonts taken out, so that an
// option reads as it would be typed.
std::string man_source_as_text(const std::string& roff) {
    std::string out;
    for (std::size_t i = 0; i < roff.size(); ++i) {
        if (roff[i] == '\\' && i + 1 < roff.size()) {
            const char next = roff[i + 1];
            if (next == '-') { out += '-'; ++i; continue; }
            if (next == 'f' && i + 2 < roff.size()) { i += 2; continue; }  // \fB \fI \fR
            if (next == '&') { ++i; continue; }
        }
        out += roff[i];
    }
    return out;
}

// Every "--name" in a text.
std::vector<std::string> long_options_in(const std::string& text) {
    std::vector<std::string> names;
    for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
        std::size_t end = at + 2;
        while (end < text.size() && (std::islower(static_cast<unsigned char>(text[end])) || text[end] == '-')) ++end;
        if (end > at + 2 && std::islower(static_cast<unsigned char>(text[at + 2]))) names.push_back(text.substr(at, end - at));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace

TEST_CASE("the manual page renders without a warning and names every long option of --help") {
    temp_dir dir;
    const std::string page = std::string(std::getenv("CALIB64_TEST_BUILD_ROOT")) + "/src/cli/calib64.1";
    const std::string roff = read_file(page);
    REQUIRE(roff != "<missing>");
    // groff with every warning on (what man runs); a lint of the macros where it is missing.
    if (::access("/usr/bin/groff", X_OK) == 0) {
        const outcome o = run(dir, "/usr/bin/groff", "-man -Tutf8 -ww -z " + page);
        CHECK(o.exit_code == 0);
        CHECK(o.err.empty());
        const outcome text = run(dir, "/usr/bin/groff", "-man -Tascii -P-c -P-b -P-u " + page);
        CHECK(text.out.find("EXIT STATUS") != std::string::npos);
        CHECK(text.out.find("ENVIRONMENT") != std::string::npos);
    } else {
        const std::vector<std::string> known = {"TH", "SH", "SS", "TP", "PP", "B", "I", "BR", "IR", "RB", "IB", "BI", "br", "\\\""};
        std::istringstream lines(roff);
        for (std::string line; std::getline(lines, line);) {
            if (line.empty() || line[0] != '.') continue;
            const std::string macro = line.substr(1, line.find(' ') == std::string::npos ? std::string::npos : line.find(' ') - 1);
            CAPTURE(line);
            CHECK(std::find(known.begin(), known.end(), macro) != known.end());
        }
    }
    const std::string text = man_source_as_text(roff);
    for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT STATUS", ".SH ENVIRONMENT",
                                ".SH COMPATIBILITY", ".SH EXAMPLES"})
        CHECK(text.find(section) != std::string::npos);
    const outcome help = run(dir, calib64_binary(), "--help");
    const std::vector<std::string> options = long_options_in(help.out);
    CHECK(options.size() >= 13);
    for (const std::string& option : options) {
        CAPTURE(option);
        CHECK(text.find(option) != std::string::npos);
    }
    // And every CALIB64_* variable the library reads.
    for (const std::string_view name : calib64::runtime::known_variables()) {
        CAPTURE(name);
        CHECK(text.find(std::string(name)) != std::string::npos);
    }
}
