// The calib64 tool against coreutils base64: same bytes on stdout, same exit codes,
// and clear errors that leave no partial output file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "calib64-cli-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

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

void write_file(const std::string& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(f.good());
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f.good()) return "<missing>";
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
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

// Both tools, same arguments and stdin: same stdout, same exit code.
void check_same_as_coreutils(const temp_dir& dir, const std::string& args, const std::string& stdin_path = "/dev/null",
                             const std::string& calib64_extra = "") {
    const outcome ours = run(dir, calib64_binary(), calib64_extra + " " + args, stdin_path);
    const outcome theirs = run(dir, coreutils_base64(), args, stdin_path);
    CAPTURE(args);
    CAPTURE(calib64_extra);
    CAPTURE(ours.err);
    CHECK(ours.exit_code == theirs.exit_code);
    CHECK(ours.out == theirs.out);
    CHECK(ours.err.empty() == theirs.err.empty());
}

}  // namespace

TEST_CASE("calib64 encodes byte for byte like coreutils base64 for every wrap width") {
    temp_dir dir;
    for (std::size_t n : {0, 1, 2, 3, 56, 57, 58, 1000, 4099, 70001}) {
        write_file(dir.file("in"), random_bytes(n, n));
        for (const char* wrap : {"", "-w 0", "-w 76", "-w 1", "-w 5", "--wrap=64"}) {
            check_same_as_coreutils(dir, std::string(wrap) + " " + dir.file("in"));
            // Small blocks put block boundaries mid-line.
            check_same_as_coreutils(dir, std::string(wrap) + " " + dir.file("in"), "/dev/null", "--block-bytes=300");
        }
        check_same_as_coreutils(dir, "-w 76", dir.file("in"));      // stdin
        check_same_as_coreutils(dir, "-w 76 -", dir.file("in"));    // '-' is stdin
    }
}

TEST_CASE("calib64 -d decodes byte for byte like coreutils base64") {
    temp_dir dir;
    for (std::size_t n : {0, 1, 2, 3, 57, 1000, 70001}) {
        const std::string data = random_bytes(n, n + 1);
        write_file(dir.file("raw"), data);
        for (const char* wrap : {"0", "76", "1", "5"}) {
            const outcome enc = run(dir, coreutils_base64(), std::string("-w ") + wrap + " " + dir.file("raw"));
            REQUIRE(enc.exit_code == 0);
            write_file(dir.file("in.b64"), enc.out);
            check_same_as_coreutils(dir, "-d " + dir.file("in.b64"));
            check_same_as_coreutils(dir, "--decode " + dir.file("in.b64"), "/dev/null", "--block-bytes=64");
            check_same_as_coreutils(dir, "-d -i", dir.file("in.b64"));
            const outcome ours = run(dir, calib64_binary(), "-d " + dir.file("in.b64"));
            CHECK(ours.out == data);
        }
    }
}

// Random text built from pieces that hit every coreutils quirk: concatenated padded
// groups, non-zero trailing bits, missing padding, spaces, CR, garbage.
TEST_CASE("calib64 -d and -d -i match coreutils on random quirky input, output and exit code") {
    temp_dir dir;
    std::mt19937_64 rng(7);
    const std::string pieces[] = {"QUJD", "QUI=", "QQ==", "YR==", "\n", " ", "\r\n", "=", "*", "A", "Zm9v", "YQ"};
    for (int round = 0; round < 120; ++round) {
        std::string text;
        const int parts = 1 + static_cast<int>(rng() % 30);
        for (int i = 0; i < parts; ++i) text += pieces[rng() % std::size(pieces)];
        write_file(dir.file("q.b64"), text);
        CAPTURE(text);
        check_same_as_coreutils(dir, "-d " + dir.file("q.b64"), "/dev/null", round % 2 == 0 ? "--block-bytes=4" : "");
        check_same_as_coreutils(dir, "-d -i " + dir.file("q.b64"), "/dev/null", round % 2 == 0 ? "--block-bytes=8" : "");
    }
}

TEST_CASE("invalid input exits 1 with 'invalid input' on stderr, like coreutils") {
    temp_dir dir;
    for (const char* text : {"QUJD*", "QQ", "Q", "QUJD\r\n", "=QUJD"}) {
        write_file(dir.file("bad"), text);
        check_same_as_coreutils(dir, "-d " + dir.file("bad"));
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

    const outcome bad = run(dir, calib64_binary(), "-d --block-bytes=1024 -o " + dir.file("out.bin") + " " + dir.file("bad.b64"));
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
    for (const char* how : {"serial", "work_stealing", "pipeline"}) {
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
    CHECK(help.out.find("Examples:") != std::string::npos);
    const outcome version = run(dir, calib64_binary(), "--version");
    CHECK(version.exit_code == 0);
    CHECK(version.out.find("calib64") == 0);
}
