// encode_auto / decode_auto and the settings behind them: selection by switch
// points, every environment override (valid and invalid), the fingerprint check,
// the profile search order, and concurrent first use. No timing anywhere: what
// would run is observable through choose_encode / choose_decode and the settings.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

#include "runtime/settings.h"
#include "test_child.h"

using namespace calib64;
using namespace calib64::runtime;

namespace {

// A two-core host that is not the machine running the tests.
topology two_core_host() {
    topology t;
    t.cores = t.pus = t.allowed_cpus = t.usable_cpus = 2;
    t.l1d_bytes = 48 << 10;
    t.l2_bytes = 1 << 20;
    t.l3_bytes = 32 << 20;
    t.cores_per_l3 = 2;
    t.cpu_vendor = "AuthenticAMD";
    t.cpu_model = "test host";
    t.cpu_family = 0x1a;
    t.simd_kernels = {"scalar"};
    return t;
}

// A profile measured on `host`: work_stealing from 64 KiB, pipeline from 32 MiB (encode);
// work_stealing from 100 000 characters (decode).
profile profile_for(const topology& host) {
    profile p = new_profile(host);
    p.encode.kernel = kernel_id::scalar;
    p.encode.switch_points = {{64 << 10, backend::work_stealing, 60 << 10, 70 << 10, ""},
                              {32 << 20, backend::pipeline, 30 << 20, 34 << 20, ""}};
    p.encode.tuning = {{backend::work_stealing, 2, 128 << 10}};
    p.decode.switch_points = {{100000, backend::work_stealing, 100000, 100000, ""}};
    return p;
}

resolved_settings resolve(const profile* p, const environment& env, const topology& host = two_core_host()) {
    return settings_from(p, "test-profile.json", {}, env, host);
}

bool mentions(const resolved_settings& s, const std::string& part) {
    for (const auto& m : s.messages)
        if (m.find(part) != std::string::npos) return true;
    return false;
}

std::string all_messages(const resolved_settings& s) {
    std::string text;
    for (const auto& m : s.messages) text += m + "\n";
    return text;
}

// The `profile show` row called `name`, if any.
std::optional<setting_row> row(const resolved_settings& s, const std::string& name) {
    for (const auto& r : describe_settings(s))
        if (r.name == name) return r;
    return std::nullopt;
}

std::filesystem::path scratch_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("calib64-test-auto-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

}  // namespace

// ---------------------------------------------------------------- selection

TEST_CASE("the backend follows the profile's switch points, inclusive at each point") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {});
    REQUIRE_MESSAGE(s.messages.empty(), all_messages(s));
    CHECK(s.encode.choose(0).how == backend::serial);
    CHECK(s.encode.choose(1024).how == backend::serial);
    CHECK(s.encode.choose((64 << 10) - 1).how == backend::serial);
    CHECK(s.encode.choose(64 << 10).how == backend::work_stealing);
    CHECK(s.encode.choose((32 << 20) - 1).how == backend::work_stealing);
    CHECK(s.encode.choose(32 << 20).how == backend::pipeline);
    CHECK(s.encode.choose(std::size_t{1} << 40).how == backend::pipeline);
    CHECK(s.decode.choose(99999).how == backend::serial);
    CHECK(s.decode.choose(100000).how == backend::work_stealing);
}

TEST_CASE("switch points in any order of backends are followed as written") {
    topology host = two_core_host();
    profile p = profile_for(host);
    p.encode.switch_points = {{0, backend::pipeline, 0, 0, ""}, {1 << 20, backend::serial, 1 << 20, 1 << 20, ""}, {8 << 20, backend::work_stealing, 8 << 20, 8 << 20, ""}};
    const resolved_settings s = resolve(&p, {}, host);
    CHECK(s.encode.choose(0).how == backend::pipeline);
    CHECK(s.encode.choose((1 << 20) - 1).how == backend::pipeline);
    CHECK(s.encode.choose(1 << 20).how == backend::serial);
    CHECK(s.encode.choose(8 << 20).how == backend::work_stealing);
}

TEST_CASE("the profile's kernel, threads and chunk size reach the choice") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {});
    const choice c = s.encode.choose(1 << 20);
    CHECK(c.kernel == kernel_id::scalar);
    CHECK(c.par.threads == 2);
    CHECK(c.par.chunk_bytes == 128u << 10);
    CHECK(s.decode.choose(1 << 20).kernel == kernel_id::automatic);
    CHECK(row(s, "encode.kernel")->from == origin::profile);
    CHECK(row(s, "encode.work_stealing.chunk_bytes")->from == origin::profile);
}

TEST_CASE("profile thread counts above the usable CPUs are capped") {
    topology host = two_core_host();
    profile p = profile_for(host);
    p.encode.tuning = {{backend::work_stealing, 64, 0}};
    const resolved_settings s = resolve(&p, {}, host);
    CHECK(s.encode.choose(1 << 20).par.threads == 2);
}

TEST_CASE("without a profile, small inputs run serial and large ones in parallel") {
    const resolved_settings s = resolve(nullptr, {});
    REQUIRE(s.messages.empty());
    CHECK(s.encode.choose(1024).how == backend::serial);
    CHECK(s.encode.choose(16 << 10).how == backend::serial);
    CHECK(s.encode.choose(64 << 20).how == backend::work_stealing);
    CHECK(s.decode.choose(1024).how == backend::serial);
    CHECK(s.decode.choose(64 << 20).how == backend::work_stealing);
    REQUIRE(s.encode.thresholds.size() == 1);
    CHECK(s.encode.thresholds[0].from_bytes >= 64u << 10);
    CHECK(s.encode.thresholds[0].from_bytes <= 4u << 20);
    CHECK(s.encode.choose(64 << 20).par.threads == 2);
    CHECK(row(s, "encode.work_stealing.from")->from == origin::topology);
}

TEST_CASE("with one usable CPU everything runs serial") {
    topology one = two_core_host();
    one.usable_cpus = 1;
    CHECK(topology_thresholds(operation::encode, one, kernel_id::scalar).empty());
    const resolved_settings defaults = resolve(nullptr, {}, one);
    CHECK(defaults.encode.choose(std::size_t{1} << 30).how == backend::serial);
    // Even a profile of this very machine: the process may use only one CPU now.
    const profile p = profile_for(one);
    const resolved_settings with_profile = resolve(&p, {}, one);
    CHECK(with_profile.encode.choose(std::size_t{1} << 30).how == backend::serial);
    CHECK(with_profile.decode.choose(std::size_t{1} << 30).how == backend::serial);
}

TEST_CASE("faster kernels and decode's larger units move the default threshold up") {
    const topology host = two_core_host();
    const auto scalar = topology_thresholds(operation::encode, host, kernel_id::scalar);
    const auto avx512 = topology_thresholds(operation::encode, host, kernel_id::avx512);
    const auto decode = topology_thresholds(operation::decode, host, kernel_id::avx512);
    REQUIRE(scalar.size() == 1);
    REQUIRE(avx512.size() == 1);
    REQUIRE(decode.size() == 1);
    CHECK(scalar[0].from_bytes <= avx512[0].from_bytes);
    CHECK(avx512[0].from_bytes <= decode[0].from_bytes);
}

TEST_CASE("the default switch to work_stealing sits where one core's L2 stops holding the call") {
    // Input plus output: 7/3 of the input for encode, 7/4 for decode; serial slows once
    // that passes three quarters of the L2 (docs/profile.md, "Topology defaults").
    topology host = two_core_host();  // 1 MiB L2
    const auto encode = topology_thresholds(operation::encode, host, kernel_id::avx512);
    const auto decode = topology_thresholds(operation::decode, host, kernel_id::avx512);
    REQUIRE(encode.size() == 1);
    REQUIRE(decode.size() == 1);
    CHECK(encode[0].from_bytes == 336u << 10);  // 0.75 MiB * 3/7 = 329 KiB, rounded up to 16 KiB
    CHECK(decode[0].from_bytes == 448u << 10);  // 0.75 MiB * 4/7 = 439 KiB
    host.l2_bytes = 2 << 20;
    CHECK(topology_thresholds(operation::encode, host, kernel_id::avx512)[0].from_bytes == 672u << 10);
    // A small L2 leaves the overhead rule: no parallel call below ~192 KB at AVX-512's low estimate.
    host.l2_bytes = 256 << 10;
    CHECK(topology_thresholds(operation::encode, host, kernel_id::avx512)[0].from_bytes == 192u << 10);
}

TEST_CASE("the topology defaults of the development VM land near its calibrated switch points") {
    // results/zen5-2c-1m-9fb26054: encode from 378 KiB (CI 362-395 KiB), decode from
    // 347 KiB (CI 256-470 KiB). The defaults must land within 20% of each interval; the
    // old rule (256 KiB for both) lost 37% at 256 KiB by going parallel inside the L2.
    const char* root = std::getenv("CALIB64_TEST_SOURCE_ROOT");
    const std::filesystem::path path = std::filesystem::path(root ? root : ".") / "results" / "zen5-2c-1m-9fb26054" / "profile.json";
    const profile_result dev = load_profile(path, profile_parts::decisions);
    REQUIRE(dev.ok());
    topology t;
    const host_summary& h = dev.value->host;
    t.cores = h.cores, t.pus = h.pus, t.allowed_cpus = t.usable_cpus = h.allowed_cpus;
    t.l1d_bytes = h.l1d_bytes, t.l2_bytes = h.l2_bytes, t.l3_bytes = h.l3_bytes;
    for (operation op : operations) {
        CAPTURE(operation_name(op));
        const auto defaults = topology_thresholds(op, t, kernel_id::avx512);
        REQUIRE(defaults.size() == 1);
        const switch_point& measured = dev.value->for_op(op).switch_points.at(0);
        CHECK(defaults[0].how == measured.how);
        CHECK(defaults[0].from_bytes >= measured.ci_low_bytes * 8 / 10);
        CHECK(defaults[0].from_bytes <= measured.ci_high_bytes * 12 / 10);
    }
}

// ---------------------------------------------------------------- environment: valid

TEST_CASE("CALIB64_BACKEND forces each backend, and auto leaves the choice") {
    const profile p = profile_for(two_core_host());
    for (backend b : {backend::serial, backend::work_stealing, backend::pipeline}) {
        const resolved_settings s = resolve(&p, {{"CALIB64_BACKEND", std::string(backend_name(b))}});
        CAPTURE(backend_name(b));
        CHECK(s.messages.empty());
        CHECK(s.encode.choose(1).how == b);
        CHECK(s.decode.choose(std::size_t{1} << 30).how == b);
        CHECK(row(s, "backend")->from == origin::environment);
    }
    const resolved_settings automatic = resolve(&p, {{"CALIB64_BACKEND", "auto"}});
    CHECK(automatic.messages.empty());
    CHECK(automatic.encode.choose(1).how == backend::serial);
    CHECK(automatic.encode.choose(64 << 10).how == backend::work_stealing);
}

TEST_CASE("CALIB64_KERNEL chooses any kernel this CPU runs, over the profile's") {
    const profile p = profile_for(two_core_host());
    for (kernel_id k : available_kernels()) {
        const resolved_settings s = resolve(&p, {{"CALIB64_KERNEL", std::string(kernel_name(k))}});
        CAPTURE(kernel_name(k));
        CHECK(s.messages.empty());
        CHECK(s.encode.choose(10).kernel == k);
        CHECK(s.decode.choose(10).kernel == k);
        CHECK(row(s, "encode.kernel")->from == origin::environment);
    }
    CHECK(resolve(&p, {{"CALIB64_KERNEL", "auto"}}).encode.choose(10).kernel == kernel_id::automatic);
}

TEST_CASE("CALIB64_THREADS sets the threads of both parallel backends") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {{"CALIB64_THREADS", "3"}});
    CHECK(s.messages.empty());
    CHECK(s.encode.choose(64 << 10).par.threads == 3);
    CHECK(s.encode.choose(32 << 20).par.threads == 3);
    CHECK(s.decode.choose(1 << 20).par.threads == 3);
    CHECK(row(s, "encode.pipeline.threads")->from == origin::environment);
}

TEST_CASE("every CALIB64_ value is trimmed of surrounding whitespace by one rule") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {{"CALIB64_BACKEND", " pipeline"},
                                             {"CALIB64_THREADS", " 3\t"},
                                             {"CALIB64_KERNEL", "\tscalar "},
                                             {"CALIB64_DECODE_WORK_STEALING_FROM", " 2MiB\n"}});
    CHECK_MESSAGE(s.messages.empty(), all_messages(s));
    CHECK(s.encode.choose(1).how == backend::pipeline);
    CHECK(s.encode.choose(1).par.threads == 3);
    CHECK(s.encode.choose(1).kernel == kernel_id::scalar);
    CHECK(row(s, "decode.work_stealing.from")->value == "2 MiB");
    const resolved_settings trusted = resolve(&p, {{"CALIB64_TRUST_PROFILE", " 1 "}});
    CHECK(trusted.messages.empty());
}

TEST_CASE("each switch-point variable moves its backend's threshold, with sizes in any unit") {
    const profile p = profile_for(two_core_host());
    struct example {
        const char* value;
        std::uint64_t bytes;
    };
    const example sizes[] = {{"1MiB", 1 << 20}, {"20MB", 20000000}, {"4096", 4096}, {"64 KiB", 64 << 10}};
    for (operation op : {operation::encode, operation::decode}) {
        for (backend how : {backend::work_stealing, backend::pipeline}) {
            const std::string name = std::string("CALIB64_") + (op == operation::encode ? "ENCODE" : "DECODE") + "_" +
                                     (how == backend::pipeline ? "PIPELINE" : "WORK_STEALING") + "_FROM";
            for (const example& e : sizes) {
                CAPTURE(name);
                CAPTURE(e.value);
                const resolved_settings s = resolve(&p, {{name, e.value}});
                CHECK_MESSAGE(s.messages.empty(), all_messages(s));
                const operation_settings& o = s.for_op(op);
                CHECK(o.choose(e.bytes).how == how);
                CHECK(o.choose(e.bytes - 1).how != how);
                const std::string row_name = std::string(operation_name(op)) + "." + std::string(backend_name(how)) + ".from";
                REQUIRE(row(s, row_name).has_value());
                CHECK(row(s, row_name)->from == origin::environment);
                CHECK(row(s, row_name)->note == name);
            }
        }
    }
}

TEST_CASE("a switch-point variable set to off removes that backend") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {{"CALIB64_ENCODE_PIPELINE_FROM", "off"}});
    CHECK(s.messages.empty());
    CHECK(s.encode.choose(std::size_t{1} << 35).how == backend::work_stealing);
    const resolved_settings never = resolve(&p, {{"CALIB64_DECODE_WORK_STEALING_FROM", "never"}});
    CHECK(never.decode.choose(std::size_t{1} << 35).how == backend::serial);
    CHECK(row(never, "decode.work_stealing.from")->value == "never");
}

// ---------------------------------------------------------------- environment: invalid

TEST_CASE("an invalid CALIB64_BACKEND is named in a message and ignored") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {{"CALIB64_BACKEND", "fastest"}});
    REQUIRE(s.messages.size() == 1);
    CHECK(s.messages[0].find("CALIB64_BACKEND") != std::string::npos);
    CHECK(s.messages[0].find("fastest") != std::string::npos);
    CHECK_FALSE(s.encode.forced.has_value());
    CHECK(s.encode.choose(1).how == backend::serial);
    CHECK(s.encode.choose(64 << 10).how == backend::work_stealing);
}

TEST_CASE("an unknown or unrunnable CALIB64_KERNEL is named in a message and ignored") {
    const profile p = profile_for(two_core_host());
    std::vector<std::string> bad = {"avx9", ""};
    bad.pop_back();  // an empty value means unset, tested below
    for (kernel_id k : {kernel_id::avx2, kernel_id::avx512, kernel_id::neon})
        if (!kernel_available(k)) bad.emplace_back(kernel_name(k));
    for (const std::string& value : bad) {
        CAPTURE(value);
        const resolved_settings s = resolve(&p, {{"CALIB64_KERNEL", value}});
        REQUIRE(s.messages.size() == 1);
        CHECK(s.messages[0].find("CALIB64_KERNEL") != std::string::npos);
        CHECK(s.encode.choose(10).kernel == kernel_id::scalar);  // the profile's stays
    }
    CHECK(resolve(&p, {{"CALIB64_KERNEL", ""}}).messages.empty());
}

TEST_CASE("an invalid CALIB64_THREADS is named in a message and ignored") {
    const profile p = profile_for(two_core_host());
    for (const char* value : {"0", "-1", "two", "2.5", "99999", "4097", "12345678901234567890"}) {
        CAPTURE(value);
        const resolved_settings s = resolve(&p, {{"CALIB64_THREADS", value}});
        REQUIRE(s.messages.size() == 1);
        CHECK(s.messages[0].find("CALIB64_THREADS") != std::string::npos);
        CHECK(s.encode.choose(1 << 20).par.threads == 2);
    }
}

TEST_CASE("an invalid switch-point variable is named in a message and ignored") {
    const profile p = profile_for(two_core_host());
    for (const char* name : {"CALIB64_ENCODE_WORK_STEALING_FROM", "CALIB64_ENCODE_PIPELINE_FROM",
                             "CALIB64_DECODE_WORK_STEALING_FROM", "CALIB64_DECODE_PIPELINE_FROM"}) {
        for (const char* value : {"12 parsecs", "2TiB", "-5", "soon"}) {
            CAPTURE(name);
            CAPTURE(value);
            const resolved_settings s = resolve(&p, {{name, value}});
            REQUIRE(s.messages.size() == 1);
            CHECK(s.messages[0].find(name) != std::string::npos);
            CHECK(s.messages[0].find("ignored") != std::string::npos);
            // The profile's thresholds stand.
            CHECK(s.encode.choose(64 << 10).how == backend::work_stealing);
            CHECK(s.encode.choose(32 << 20).how == backend::pipeline);
            CHECK(s.decode.choose(100000).how == backend::work_stealing);
        }
    }
}

TEST_CASE("an invalid CALIB64_TRUST_PROFILE is named in a message and counts as no") {
    const profile foreign = profile_for(two_core_host());
    topology here = two_core_host();
    here.cores = 16;  // another machine
    const resolved_settings s = resolve(&foreign, {{"CALIB64_TRUST_PROFILE", "yes please"}}, here);
    CHECK(mentions(s, "CALIB64_TRUST_PROFILE"));
    CHECK(s.profile_path.empty());
}

TEST_CASE("a misspelt CALIB64_ variable is reported") {
    const resolved_settings s = resolve(nullptr, {{"CALIB64_BAKEND", "serial"}, {"CALIB64_TEST_BUILD_ROOT", "/x"}});
    REQUIRE(s.messages.size() == 1);
    CHECK(s.messages[0].find("CALIB64_BAKEND") != std::string::npos);
}

namespace {
// The variables docs/profile.md's table documents: every `CALIB64_NAME` at the start
// of a table row.
std::set<std::string> documented_variables() {
    const char* root = std::getenv("CALIB64_TEST_SOURCE_ROOT");
    std::ifstream in(std::filesystem::path(root ? root : ".") / "docs" / "profile.md");
    REQUIRE(in);
    std::set<std::string> names;
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("| `CALIB64_")) continue;
        const std::size_t end = line.find('`', 3);
        names.insert(line.substr(3, end - 3));
    }
    return names;
}
}  // namespace

TEST_CASE("the variables docs/profile.md documents are exactly the ones the library reads") {
    const std::set<std::string> documented = documented_variables();
    const auto known = known_variables();
    const std::set<std::string> read(known.begin(), known.end());
    CHECK(documented.size() >= 5);
    for (const auto& name : documented) {
        CAPTURE(name);
        CHECK(read.count(name) == 1);
    }
    for (const auto& name : read) {
        CAPTURE(name);
        CHECK(documented.count(name) == 1);
    }
}

// ---------------------------------------------------------------- profile trust

TEST_CASE("a profile from another host is not trusted, with one clear message") {
    const profile foreign = profile_for(two_core_host());
    topology here = two_core_host();
    here.l3_bytes = 96 << 20;
    const resolved_settings s = resolve(&foreign, {}, here);
    REQUIRE(s.messages.size() == 1);
    CHECK(s.messages[0].find("another host") != std::string::npos);
    CHECK(s.messages[0].find("CALIB64_TRUST_PROFILE") != std::string::npos);
    CHECK(s.profile_path.empty());
    // Topology defaults, not the profile's 64 KiB / scalar.
    CHECK(s.encode.choose(64 << 10).how == backend::serial);
    CHECK(s.encode.choose(10).kernel == kernel_id::automatic);
    CHECK(row(s, "encode.work_stealing.from")->from == origin::topology);
}

TEST_CASE("CALIB64_TRUST_PROFILE=1 uses a profile from another host") {
    const profile foreign = profile_for(two_core_host());
    topology here = two_core_host();
    here.l3_bytes = 96 << 20;
    const resolved_settings s = resolve(&foreign, {{"CALIB64_TRUST_PROFILE", "1"}}, here);
    CHECK(s.messages.empty());
    CHECK(s.profile_path == "test-profile.json");
    CHECK(s.encode.choose(64 << 10).how == backend::work_stealing);
}

TEST_CASE("a rejected profile is reported with its first errors and topology defaults apply") {
    const resolved_settings s = settings_from(nullptr, "/tmp/p.json",
                                              {{"/encode/kernel", "unknown kernel"}, {"/a", "1"}, {"/b", "2"}, {"/c", "3"}},
                                              {}, two_core_host());
    REQUIRE(s.messages.size() == 1);
    CHECK(s.messages[0].find("/tmp/p.json") != std::string::npos);
    CHECK(s.messages[0].find("/encode/kernel") != std::string::npos);
    CHECK(s.messages[0].find("1 more") != std::string::npos);
    CHECK(s.profile_status.find("rejected") != std::string::npos);
    CHECK(s.encode.choose(1024).how == backend::serial);
    CHECK(s.encode.choose(64 << 20).how == backend::work_stealing);
}

TEST_CASE("a profile kernel this CPU cannot run is reported and replaced by the best") {
    topology host = two_core_host();
    profile p = profile_for(host);
    kernel_id missing = kernel_id::automatic;
    for (kernel_id k : {kernel_id::neon, kernel_id::avx512, kernel_id::avx2})
        if (!kernel_available(k)) missing = k;
    if (missing == kernel_id::automatic) return;  // a CPU that runs every kernel: nothing to test
    p.encode.kernel = missing;
    const resolved_settings s = resolve(&p, {}, host);
    REQUIRE(s.messages.size() == 1);
    CHECK(s.messages[0].find(std::string(kernel_name(missing))) != std::string::npos);
    CHECK(s.encode.choose(10).kernel == kernel_id::automatic);
}

// ---------------------------------------------------------------- finding the profile

TEST_CASE("the profile search order is CALIB64_PROFILE, beside the executable, then XDG, each with a bundle") {
    auto paths = profile_search_path({{"CALIB64_PROFILE", "/opt/p.json"}, {"HOME", "/home/u"}});
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == "/opt/p.json");
    paths = profile_search_path({{"XDG_CONFIG_HOME", "/cfg"}, {"HOME", "/home/u"}});
    REQUIRE(paths.size() == 4);
    CHECK(paths[0].filename() == "calib64-profile.json");
    CHECK(paths[1].filename() == "calib64-profiles.json");
    CHECK(paths[1].parent_path() == paths[0].parent_path());
    CHECK(paths[2] == "/cfg/calib64/profile.json");
    CHECK(paths[3] == "/cfg/calib64/profiles.json");
    paths = profile_search_path({{"HOME", "/home/u"}});
    CHECK(paths.back() == "/home/u/.config/calib64/profiles.json");
    paths = profile_search_path({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/home/u"}});
    CHECK(paths.back() == "/home/u/.config/calib64/profiles.json");
}

TEST_CASE("CALIB64_PROFILE loads that file") {
    const auto dir = scratch_dir("env-profile");
    const profile p = profile_for(host_topology());
    REQUIRE(save_profile_atomic(p, dir / "p.json").empty());
    const resolved_settings s = resolve_settings({{"CALIB64_PROFILE", (dir / "p.json").string()}}, host_topology());
    CHECK_MESSAGE(s.messages.empty(), all_messages(s));
    CHECK(s.profile_path.find((dir / "p.json").string()) != std::string::npos);
    CHECK(s.encode.choose(10).kernel == kernel_id::scalar);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a missing or malformed CALIB64_PROFILE is named in a message and defaults apply") {
    const auto dir = scratch_dir("bad-profile");
    const resolved_settings missing = resolve_settings({{"CALIB64_PROFILE", (dir / "none.json").string()}}, host_topology());
    REQUIRE(missing.messages.size() == 1);
    CHECK(missing.messages[0].find("CALIB64_PROFILE") != std::string::npos);
    CHECK(missing.profile_path.empty());
    std::ofstream(dir / "broken.json") << "{\"schema_version\": 1, \"encode\": ";
    const resolved_settings broken = resolve_settings({{"CALIB64_PROFILE", (dir / "broken.json").string()}}, host_topology());
    REQUIRE(broken.messages.size() == 1);
    CHECK(broken.messages[0].find("not valid JSON") != std::string::npos);
    CHECK(broken.encode.choose(10).kernel == kernel_id::automatic);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the XDG config profile is found when nothing comes before it") {
    const auto dir = scratch_dir("xdg");
    REQUIRE(save_profile_atomic(profile_for(host_topology()), dir / "calib64" / "profile.json").empty());
    const resolved_settings s = resolve_settings({{"XDG_CONFIG_HOME", dir.string()}}, host_topology());
    CHECK(s.profile_path == (dir / "calib64" / "profile.json").string());
    CHECK(s.encode.choose(64 << 10).how == backend::work_stealing);
    const resolved_settings none = resolve_settings({{"XDG_CONFIG_HOME", (dir / "empty").string()}}, host_topology());
    CHECK(none.profile_path.empty());
    CHECK(none.messages.empty());
    std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- show and check

TEST_CASE("profile show lists each setting with where it came from") {
    const profile p = profile_for(two_core_host());
    const resolved_settings s = resolve(&p, {{"CALIB64_THREADS", "2"}});
    const std::string text = format_settings(s);
    CHECK(text.find("encode.kernel") != std::string::npos);
    const auto line_start = text.find("encode.work_stealing.from ");
    REQUIRE(line_start != std::string::npos);
    const std::string line = text.substr(line_start, text.find('\n', line_start) - line_start);
    CHECK(line.find("64 KiB") != std::string::npos);
    CHECK(line.find("profile") != std::string::npos);
    CHECK(text.find("profile") != std::string::npos);
    CHECK(text.find("environment (CALIB64_THREADS)") != std::string::npos);
    CHECK(text.find("topology") != std::string::npos);
}

TEST_CASE("profile check reports a bad file's errors and notes a foreign host") {
    const auto dir = scratch_dir("check");
    std::ofstream(dir / "bad.json") << R"({"schema_version": 1, "tool_version": "x", "created_utc": "2026-12-01T00:00:00Z",
        "host": {"fingerprint": "abc"}, "encode": {"kernel": "avx9", "switch_points": []},
        "decode": {"kernel": "auto", "switch_points": [{"from_bytes": -1, "backend": "serial"}]}})";
    const profile_check bad = check_profile_file(dir / "bad.json");
    CHECK_FALSE(bad.ok());
    CHECK(bad.errors.size() == 2);
    REQUIRE(save_profile_atomic(profile_for(two_core_host()), dir / "foreign.json").empty());
    const profile_check foreign = check_profile_file(dir / "foreign.json");
    CHECK(foreign.ok());
    REQUIRE_FALSE(foreign.notes.empty());
    CHECK(foreign.notes[0].find("another host") != std::string::npos);
    std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- the process-wide entry points

TEST_CASE("installed settings decide what choose_encode and choose_decode report") {
    const profile p = profile_for(host_topology());
    put_in_force(resolve(&p, {}, host_topology()));
    CHECK(choose_encode(1024).how == backend::serial);
    CHECK(choose_encode(64 << 10).how == backend::work_stealing);
    CHECK(choose_encode(32 << 20).how == backend::pipeline);
    CHECK(choose_encode(1024).kernel == kernel_id::scalar);
    CHECK(choose_decode(100000).how == backend::work_stealing);
    CHECK(choose_decode(10).kernel == best_kernel());  // automatic is reported concretely
    reset_settings_in_force();
}

TEST_CASE("encode_auto and decode_auto match encode and decode on every backend the settings pick") {
    const profile p = profile_for(host_topology());
    put_in_force(resolve(&p, {}, host_topology()));
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{(64 << 10) + 1},
                          std::size_t{(32 << 20) + 2}}) {
        CAPTURE(n);
        const auto bytes = random_bytes(n, static_cast<std::uint32_t>(n));
        std::string expected(encoded_length(n), '\0'), got(encoded_length(n), '\0');
        REQUIRE(encode(bytes, std::span<char>(expected)).ok());
        const encode_result e = encode_auto(bytes, std::span<char>(got));
        REQUIRE(e.ok());
        CHECK(e.written == expected.size());
        CHECK(got == expected);
        std::vector<std::uint8_t> back(max_decoded_length(got.size()));
        const decode_result d = decode_auto(got, back);
        REQUIRE(d.ok());
        back.resize(d.written);
        CHECK(back == bytes);
    }
    reset_settings_in_force();
}

TEST_CASE("the caller's kernel wins over the profile's") {
    const profile p = profile_for(host_topology());  // scalar
    put_in_force(resolve(&p, {}, host_topology()));
    const auto bytes = random_bytes(300, 7);
    std::string out(encoded_length(bytes.size()), '\0');
    kernel_id missing = kernel_id::automatic;
    for (kernel_id k : {kernel_id::neon, kernel_id::avx512, kernel_id::avx2})
        if (!kernel_available(k)) missing = k;
    if (missing != kernel_id::automatic) {
        // A kernel this CPU lacks fails the call: proof the caller's choice was used.
        encode_options forced;
        forced.kernel = missing;
        CHECK(encode_auto(bytes, std::span<char>(out), forced).code == status::kernel_unavailable);
    }
    encode_options scalar;
    scalar.kernel = kernel_id::scalar;
    CHECK(encode_auto(bytes, std::span<char>(out), scalar).ok());
    reset_settings_in_force();
}

TEST_CASE("encode_auto reports a too-small output buffer like encode") {
    reset_settings_in_force();
    const auto bytes = random_bytes(100, 3);
    std::string out(10, '\0');
    CHECK(encode_auto(bytes, std::span<char>(out)).code == status::output_too_small);
    std::vector<std::uint8_t> small(2);
    CHECK(decode_auto("QUJDRA==", small).code == status::output_too_small);
}

TEST_CASE("many threads using encode_auto for the first time at once all get correct results") {
    reset_settings_in_force();  // the next call resolves from the real environment
    constexpr int thread_count = 16;
    std::atomic<int> ready{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    const resolved_settings* seen[thread_count] = {};
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            const auto bytes = random_bytes(static_cast<std::size_t>(1 + t * 997), static_cast<std::uint32_t>(t));
            std::string expected(encoded_length(bytes.size()), '\0'), got(expected.size(), '\0');
            if (!encode(bytes, std::span<char>(expected)).ok()) ++failures;
            ready.fetch_add(1);
            while (ready.load() < thread_count) std::this_thread::yield();  // start together
            const encode_result e = encode_auto(bytes, std::span<char>(got));
            seen[t] = &current_settings();
            if (!e.ok() || got != expected) ++failures;
            std::vector<std::uint8_t> back(bytes.size());
            const decode_result d = decode_auto(got, back);
            if (!d.ok() || back != bytes) ++failures;
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures.load() == 0);
    // Resolved once: every thread sees the same settings object.
    for (int t = 1; t < thread_count; ++t) CHECK(seen[t] == seen[0]);
}

namespace {
struct captured_messages {
    std::vector<std::string> texts;
    static void sink(std::string_view message, void* context) {
        static_cast<captured_messages*>(context)->texts.emplace_back(message);
    }
};
}  // namespace

TEST_CASE("an application's message sink receives each warning once, and a null sink silences them") {
    captured_messages got;
    set_message_sink(&captured_messages::sink, &got);
    ::setenv("CALIB64_SINK_TEST_TYPO", "1", 1);
    reset_settings_in_force();
    (void)current_settings();
    reset_settings_in_force();
    (void)current_settings();  // resolved again: the same warning is not sent twice
    std::size_t mentions = 0;
    for (const auto& t : got.texts) mentions += t.find("CALIB64_SINK_TEST_TYPO") != std::string::npos;
    CHECK(mentions == 1);
    ::setenv("CALIB64_SINK_TEST_OTHER", "1", 1);
    set_message_sink(nullptr);
    reset_settings_in_force();
    (void)current_settings();
    for (const auto& t : got.texts) CHECK(t.find("CALIB64_SINK_TEST_OTHER") == std::string::npos);
    ::unsetenv("CALIB64_SINK_TEST_TYPO");
    ::unsetenv("CALIB64_SINK_TEST_OTHER");
    set_message_sink(&stderr_message_sink);
    reset_settings_in_force();
}

// ---------------------------------------------------------------- process exit
// An application's static object, built before its first encode_auto, is destroyed
// after every static the runtime made afterwards (settings, topology, messages, the
// backends' pools). Its destructor must still get correct bytes: the settings it
// reads must still exist. The child process runs the case below and exits; under
// ASan a read of freed settings fails it (heap-use-after-free, exit status 1).

namespace {
// 1 KiB runs serial; 3 MiB + 2 runs work_stealing (encode) and pipeline (decode)
// under the settings the child puts in force.
bool auto_round_trip(std::size_t n) {
    const auto bytes = random_bytes(n, static_cast<std::uint32_t>(n));
    std::string expected(encoded_length(n), '\0'), got(expected.size(), '\0');
    if (!encode(bytes, std::span<char>(expected)).ok()) return false;
    const encode_result e = encode_auto(bytes, std::span<char>(got));
    if (!e.ok() || e.written != expected.size() || got != expected) return false;
    std::vector<std::uint8_t> back(max_decoded_length(got.size()));
    const decode_result d = decode_auto(got, back);
    back.resize(d.ok() ? d.written : 0);
    return d.ok() && back == bytes;
}

struct uses_auto_at_exit {
    ~uses_auto_at_exit() {
        for (std::size_t n : {std::size_t{1000}, std::size_t{(3 << 20) + 2}})
            if (!auto_round_trip(n)) std::_Exit(3);
        // What the choices say must be a real backend and kernel, not freed memory.
        const choice e = choose_encode(3 << 20), d = choose_decode(3 << 20);
        if (e.how != backend::work_stealing || d.how != backend::pipeline || !kernel_available(e.kernel)) std::_Exit(4);
    }
};
}  // namespace

TEST_CASE("child process: the runtime used from a static destructor at exit" * doctest::skip()) {
    static uses_auto_at_exit late_user;  // before the first encode_auto: destroyed after the runtime's statics
    if (!auto_round_trip(1000)) std::_Exit(5);  // resolves the real settings (topology, messages, profile search)
    // Then settings as calibration or an application might install them, so that the
    // destructor's large calls go parallel whatever this host's defaults say.
    put_in_force(resolve(nullptr,
                         {{"CALIB64_ENCODE_WORK_STEALING_FROM", "1MiB"},
                          {"CALIB64_DECODE_PIPELINE_FROM", "1MiB"},
                          {"CALIB64_DECODE_WORK_STEALING_FROM", "off"},
                          {"CALIB64_THREADS", "3"}},
                         host_topology()));
    if (!auto_round_trip((3 << 20) + 2)) std::_Exit(6);  // starts the arena and the pool
}

TEST_CASE("encode_auto, decode_auto and choose_* work from static destructors at exit") {
    CHECK(calib64::testing::run_child_case("child process: the runtime used from a static destructor at exit") == 0);
}

TEST_CASE("a switch-point variable that replaces another backend's point says so in profile show") {
    const profile p = profile_for(two_core_host());  // work_stealing from 64 KiB
    const resolved_settings s = resolve(&p, {{"CALIB64_ENCODE_PIPELINE_FROM", "64KiB"}});
    CHECK(s.encode.choose(64 << 10).how == backend::pipeline);
    const auto ws = row(s, "encode.work_stealing.from");
    REQUIRE(ws.has_value());
    CHECK(ws->value == "never");
    CHECK(ws->from == origin::environment);
    CHECK(ws->note.find("replaced by CALIB64_ENCODE_PIPELINE_FROM") != std::string::npos);
}
