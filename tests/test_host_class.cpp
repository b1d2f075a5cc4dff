// Host identity in levels (exact / same class / foreign, and the distance), and which
// profile the runtime takes from several: files, folders and bundles. Every rule of
// docs/profile.md ("Host identity", "Which profile is used") with synthetic hosts, so
// none depends on the machine running the tests.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "runtime/host_class.h"
#include "runtime/profile_choice.h"
#include "runtime/settings.h"

using namespace calib64;
using namespace calib64::runtime;

namespace {

// The fresh Zen 5 VM of issue 9: the development VM's kind, but its hypervisor reports
// a plausible 32 MiB L3 where the development VM reported 508 MiB.
topology fresh_zen5_vm() {
    topology t;
    t.packages = 1;
    t.cores = t.pus = 2;
    t.l1d_bytes = 48 << 10;
    t.l2_bytes = 1 << 20;
    t.l3_bytes = 32 << 20;
    t.l3_count = 1;
    t.cores_per_l3 = 2;
    t.numa_nodes = 1;
    t.allowed_cpus = t.usable_cpus = 2;
    t.cpu_vendor = "AuthenticAMD";
    t.cpu_model = "Oxide Virtual Turin-like Processor";
    t.cpu_family = 0x1a;
    t.cpu_model_number = 0x02;
    t.simd_kernels = {"avx512", "avx2", "scalar"};
    return t;
}

// The Ice Lake-SP VM this branch was written on (issue 9's "second host").
topology icelake_vm() {
    topology t = fresh_zen5_vm();
    t.cpu_vendor = "GenuineIntel";
    t.cpu_model = "Intel(R) Xeon(R) Processor (Icelake)";
    t.cpu_family = 6;
    t.cpu_model_number = 106;
    t.l2_bytes = 1280 << 10;
    t.l3_bytes = 48 << 20;
    return t;
}

// A 16-core desktop: far from both VMs.
topology desktop_16c() {
    topology t = fresh_zen5_vm();
    t.cores = 16;
    t.pus = t.allowed_cpus = t.usable_cpus = 32;
    t.l3_count = 2;
    t.cores_per_l3 = 8;
    t.cpu_model = "AMD Ryzen 9 9950X";
    t.cpu_model_number = 0x44;
    return t;
}

std::filesystem::path source_root() {
    if (const char* root = std::getenv("CALIB64_TEST_SOURCE_ROOT")) return root;
    return std::filesystem::path(__FILE__).parent_path().parent_path();
}

// The committed calibration of the development VM (no cpu_family, cpu_model_number or
// fallbacks: older than those fields), decisions only.
profile committed_dev_vm_profile() {
    const auto r = load_profile(source_root() / "results" / "zen5-2c-1m-9fb26054" / "profile.json", profile_parts::decisions);
    REQUIRE_MESSAGE(r.ok(), "results/zen5-2c-1m-9fb26054/profile.json does not load");
    return *r.value;
}

// A profile measured on `t`: work_stealing from 96 KiB (encode) so it is told apart from
// the topology defaults (a power of two).
profile measured_on(const topology& t) {
    profile p = new_profile(t);
    p.encode.kernel = kernel_id::automatic;
    p.encode.switch_points = {{96 << 10, backend::work_stealing, 96 << 10, 96 << 10, ""}};
    p.decode.switch_points = {{200000, backend::work_stealing, 200000, 200000, ""}};
    return p;
}

candidate member(const std::string& name, const profile& p, bool in_collection = true) {
    return {"bundle.json#" + name, in_collection, p};
}

host_comparison compare(const topology& measured, const topology& here) {
    return compare_hosts(summarize(measured), summarize(here));
}

bool mentions(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) return true;
    return false;
}

std::filesystem::path scratch_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("calib64-test-class-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

void write_bundle(const std::filesystem::path& path, const std::vector<std::pair<std::string, profile>>& members) {
    profile_bundle b;
    b.tool_version = "test";
    b.created_utc = utc_now_iso8601();
    for (const auto& [name, p] : members) b.members.push_back(bundle_member_from(name, p));
    REQUIRE(save_bundle_atomic(b, path).empty());
}

}  // namespace

// ---------------------------------------------------------------- the levels

TEST_CASE("the same fingerprint is an exact match") {
    const host_comparison c = compare(fresh_zen5_vm(), fresh_zen5_vm());
    CHECK(c.level == host_match::exact);
    CHECK(c.distance == 0);
}

TEST_CASE("the committed development-VM profile is the same class as a fresh VM of its kind") {
    // The issue's first target: only the L3 reading differs, and the development VM's
    // was implausible (the profile's L3 is a copy of its L2: the fallback).
    const profile dev = committed_dev_vm_profile();
    const host_comparison c = compare_hosts(dev.host, summarize(fresh_zen5_vm()));
    CHECK(c.level == host_match::same_class);
    CHECK(mentions(c.differences, "not compared"));
    candidate_set set;
    set.members.push_back({"results/zen5-2c-1m-9fb26054/profile.json", false, dev});
    const profile_choice choice = choose_profile(set, fresh_zen5_vm(), false);
    REQUIRE(choice.chosen != nullptr);
    CHECK(choice.messages.empty());
    CHECK(choice.status.find("same class") != std::string::npos);
    CHECK(choice.status.find("L3") != std::string::npos);
    // And the runtime follows its switch points (encode: work_stealing from 387 140 bytes).
    const resolved_settings s = settings_from(set, {}, fresh_zen5_vm());
    CHECK(s.encode.choose(387140).how == backend::work_stealing);
    CHECK(s.encode.choose(387139).how == backend::serial);
    if (kernel_available(kernel_id::avx512)) CHECK(s.messages.empty());
}

TEST_CASE("L3 is compared when both sides report it plausibly") {
    topology other = fresh_zen5_vm();
    other.l3_bytes = 96 << 20;
    const host_comparison c = compare(other, fresh_zen5_vm());
    CHECK(c.level == host_match::foreign);
    CHECK(mentions(c.differences, "L3"));
    topology split = fresh_zen5_vm();
    split.l3_count = 2;
    CHECK(compare(split, fresh_zen5_vm()).level == host_match::foreign);
}

TEST_CASE("an L3 that either side did not report plausibly is left out of the class") {
    // Recorded as a fallback (profiles since the fallbacks field) ...
    topology fell_back = fresh_zen5_vm();
    fell_back.l3_bytes = 508ull << 20;
    fell_back.fallbacks.clear();
    apply_fallbacks(fell_back);
    REQUIRE_FALSE(fell_back.fallbacks.empty());
    CHECK(compare(fell_back, fresh_zen5_vm()).level == host_match::same_class);
    CHECK(compare(fresh_zen5_vm(), fell_back).level == host_match::same_class);  // either side
    // ... or, in an older profile without fallbacks, an L3 equal to the L2.
    host_summary old = summarize(fresh_zen5_vm());
    old.fingerprint = "0000000000000000";
    old.l3_bytes = old.l2_bytes;
    old.fallbacks.clear();
    CHECK_FALSE(l3_reported(old));
    CHECK(compare_hosts(old, summarize(fresh_zen5_vm())).level == host_match::same_class);
    CHECK(l3_reported(summarize(fresh_zen5_vm())));
}

TEST_CASE("family and model numbers decide the CPU when both sides know them") {
    topology renamed = fresh_zen5_vm();
    renamed.cpu_model = "AMD EPYC 9005 (other SKU string)";
    const host_comparison same = compare(renamed, fresh_zen5_vm());
    CHECK(same.level == host_match::same_class);
    CHECK(mentions(same.differences, "cpu model"));
    topology other_model = fresh_zen5_vm();
    other_model.cpu_model_number = 0x44;
    CHECK(compare(other_model, fresh_zen5_vm()).level == host_match::foreign);
}

TEST_CASE("a profile without family and model numbers is compared by its model string") {
    topology old = fresh_zen5_vm();
    old.cpu_family = old.cpu_model_number = -1;
    old.l3_bytes = 96 << 20;  // keep the fingerprints apart
    topology here = fresh_zen5_vm();
    here.l3_bytes = 96 << 20;
    here.cpu_model_number = 0x03;
    CHECK(compare(old, here).level == host_match::same_class);
    here.cpu_model = "Another Turin";
    const host_comparison c = compare(old, here);
    CHECK(c.level == host_match::foreign);
    CHECK(mentions(c.differences, "cpu model"));
}

TEST_CASE("each class fact that differs makes a host foreign") {
    auto foreign_when = [](auto change) {
        topology t = fresh_zen5_vm();
        change(t);
        return compare(t, fresh_zen5_vm()).level == host_match::foreign;
    };
    CHECK(foreign_when([](topology& t) { t.cpu_vendor = "GenuineIntel"; }));
    CHECK(foreign_when([](topology& t) { t.cpu_family = 0x19; }));
    CHECK(foreign_when([](topology& t) { t.simd_kernels = {"avx2", "scalar"}; }));
    CHECK(foreign_when([](topology& t) { t.cores = 4; }));
    CHECK(foreign_when([](topology& t) { t.pus = 4; }));
    CHECK(foreign_when([](topology& t) { t.packages = 2; }));
    CHECK(foreign_when([](topology& t) { t.cpukinds = 2; }));
    CHECK(foreign_when([](topology& t) { t.l1d_bytes = 32 << 10; }));
    CHECK(foreign_when([](topology& t) { t.l2_bytes = 2 << 20; }));
    CHECK(foreign_when([](topology& t) { t.numa_nodes = 2; }));
}

TEST_CASE("CPU limits are not identity: allowed CPUs and quota change neither fingerprint nor class") {
    topology limited = fresh_zen5_vm();
    limited.allowed_cpus = limited.usable_cpus = 1;
    limited.cpu_quota = 0.5;
    CHECK(compare(limited, fresh_zen5_vm()).level == host_match::exact);
    topology limited_other_l3 = limited;
    limited_other_l3.l3_bytes = 508ull << 20;
    apply_fallbacks(limited_other_l3);
    CHECK(compare(limited_other_l3, fresh_zen5_vm()).level == host_match::same_class);
}

TEST_CASE("the distance weighs cores double and stays small for another vendor of the same shape") {
    CHECK(compare(icelake_vm(), fresh_zen5_vm()).distance == doctest::Approx(1.0 + std::log2(1.25) + std::log2(1.5)));
    topology four = fresh_zen5_vm();
    four.cores = four.pus = 4;
    CHECK(compare(four, fresh_zen5_vm()).distance == doctest::Approx(2.0 + 1.0));
    CHECK(compare(desktop_16c(), fresh_zen5_vm()).distance > nearest_class_limit);
}

TEST_CASE("a profile runs here only if every kernel it was measured with runs here") {
    topology arm = fresh_zen5_vm();
    arm.simd_kernels = {"neon", "scalar"};
    CHECK_FALSE(kernels_runnable_here(measured_on(arm), summarize(fresh_zen5_vm())));
    topology older = fresh_zen5_vm();
    older.simd_kernels = {"avx2", "scalar"};
    CHECK(kernels_runnable_here(measured_on(older), summarize(fresh_zen5_vm())));
    profile names_neon = measured_on(fresh_zen5_vm());
    names_neon.decode.kernel = kernel_id::neon;
    CHECK_FALSE(kernels_runnable_here(names_neon, summarize(fresh_zen5_vm())));
}

// ---------------------------------------------------------------- choosing

TEST_CASE("a bundle's exact member wins over a same-class one, and same class over the nearest") {
    topology same_class = fresh_zen5_vm();
    same_class.l3_bytes = 508ull << 20;
    apply_fallbacks(same_class);
    candidate_set set;
    set.members = {member("near", measured_on(icelake_vm())), member("class", measured_on(same_class)),
                   member("exact", measured_on(fresh_zen5_vm()))};
    profile_choice c = choose_profile(set, fresh_zen5_vm(), false);
    REQUIRE(c.chosen != nullptr);
    CHECK(c.chosen->source == "bundle.json#exact");
    CHECK(c.status.find("exact") != std::string::npos);
    set.members.pop_back();
    c = choose_profile(set, fresh_zen5_vm(), false);
    REQUIRE(c.chosen != nullptr);
    CHECK(c.chosen->source == "bundle.json#class");
    set.members.pop_back();
    c = choose_profile(set, fresh_zen5_vm(), false);
    REQUIRE(c.chosen != nullptr);
    CHECK(c.chosen->source == "bundle.json#near");
    CHECK(c.status.find("nearest class") != std::string::npos);
    CHECK(c.messages.empty());
}

TEST_CASE("results/ with only the Zen 5 profile gives this Ice Lake host its nearest class") {
    // The issue's `CALIB64_PROFILE=results calib64 profile show` on the Intel VM.
    candidate_set set;
    set.members.push_back({"results/zen5-2c-1m-9fb26054/profile.json", true, committed_dev_vm_profile()});
    const profile_choice c = choose_profile(set, icelake_vm(), false);
    REQUIRE(c.chosen != nullptr);
    CHECK(c.status.find("nearest class") != std::string::npos);
    CHECK(c.status.find("zen5-2c-1m-9fb26054") != std::string::npos);
    CHECK(c.status.find("vendor") != std::string::npos);
    CHECK(c.messages.empty());
}

TEST_CASE("the committed results/ give an Ice Lake VM its own class's calibration, and under one CPU the one made under one CPU") {
    // results/intel-2c-48m-f3668e66 (the full VM) and ...-taskset-c0 (calibrated under
    // taskset -c 0): the same host class, told apart by the CPU limit.
    candidate_set set;
    gather_profiles(source_root() / "results", "results", set);
    REQUIRE(set.members.size() >= 3);
    const topology full = icelake_vm();  // another VM of that kind: not the same fingerprint
    const profile_choice two = choose_profile(set, full, false);
    REQUIRE(two.chosen != nullptr);
    CHECK(two.chosen->source.find("intel-2c-48m-f3668e66/") != std::string::npos);
    INFO(two.status);
    CHECK(two.status.find("same class") != std::string::npos);
    const resolved_settings parallel = settings_from(set, {}, full);
    CHECK(parallel.encode.choose(4 << 20).how != backend::serial);

    topology one = full;
    one.allowed_cpus = one.usable_cpus = 1;
    const profile_choice limited = choose_profile(set, one, false);
    REQUIRE(limited.chosen != nullptr);
    CHECK(limited.chosen->source.find("intel-2c-48m-f3668e66-taskset-c0") != std::string::npos);
    const resolved_settings s = settings_from(set, {}, one);
    for (std::uint64_t n : {std::uint64_t{1} << 20, std::uint64_t{64} << 20}) {
        CHECK(s.encode.choose(n).how == backend::serial);
        CHECK(s.decode.choose(n).how == backend::serial);
    }
}

TEST_CASE("with no member near enough, topology defaults apply and the status says why") {
    candidate_set set;
    set.members.push_back(member("desktop", measured_on(desktop_16c())));
    const profile_choice c = choose_profile(set, icelake_vm(), false);
    CHECK(c.chosen == nullptr);
    CHECK(c.status.find("no matching class") != std::string::npos);
    CHECK(c.status.find("topology defaults") != std::string::npos);
    CHECK(c.messages.empty());  // a bundle without this host's class is normal: no message
    const resolved_settings s = settings_from(set, {}, icelake_vm());
    CHECK(s.profile_path.empty());
    CHECK(s.encode.choose(96 << 10).how == backend::serial);
}

TEST_CASE("a member with a kernel this CPU lacks is never chosen, however near") {
    topology arm = fresh_zen5_vm();
    arm.cpu_vendor = "ARM implementer 0x41";
    arm.simd_kernels = {"neon", "scalar"};
    candidate_set set;
    set.members.push_back(member("arm", measured_on(arm)));
    const profile_choice c = choose_profile(set, fresh_zen5_vm(), false);
    CHECK(c.chosen == nullptr);
    CHECK(c.status.find("no matching class") != std::string::npos);
}

TEST_CASE("a lone profile from another class is not used, however near, and says so once") {
    candidate_set set;
    set.members.push_back(member("p.json", measured_on(icelake_vm()), false));
    const profile_choice c = choose_profile(set, fresh_zen5_vm(), false);
    CHECK(c.chosen == nullptr);
    REQUIRE(c.messages.size() == 1);
    CHECK(c.messages[0].find("another host") != std::string::npos);
    CHECK(c.messages[0].find("vendor") != std::string::npos);
    const profile_choice trusted = choose_profile(set, fresh_zen5_vm(), true);
    REQUIRE(trusted.chosen != nullptr);
    CHECK(trusted.status.find("CALIB64_TRUST_PROFILE") != std::string::npos);
}

TEST_CASE("CALIB64_TRUST_PROFILE=1 takes the nearest foreign member when none qualifies") {
    topology arm = fresh_zen5_vm();
    arm.simd_kernels = {"neon", "scalar"};
    candidate_set set;
    set.members = {member("arm", measured_on(arm)), member("desktop", measured_on(desktop_16c()))};
    const profile_choice c = choose_profile(set, icelake_vm(), true);
    REQUIRE(c.chosen != nullptr);
    CHECK(c.chosen->source == "bundle.json#desktop");  // runs here; the Arm one does not
    CHECK(c.trusted_foreign);
}

TEST_CASE("limits: a member calibrated under this process's CPU limit is preferred") {
    // The issue's test: a full-host and a 1-CPU member of the same class.
    topology full = fresh_zen5_vm();
    topology one_cpu = fresh_zen5_vm();
    one_cpu.allowed_cpus = one_cpu.usable_cpus = 1;
    profile from_one = measured_on(one_cpu);
    from_one.encode.switch_points.clear();  // what a 1-CPU calibration finds: serial
    from_one.decode.switch_points.clear();
    from_one.encode.kernel = kernel_id::scalar;  // to tell the two apart
    candidate_set set;
    set.members = {member("full", measured_on(full)), member("one-cpu", from_one)};
    for (bool reversed : {false, true}) {
        if (reversed) std::swap(set.members[0], set.members[1]);
        CAPTURE(reversed);
        profile_choice c = choose_profile(set, full, false);
        REQUIRE(c.chosen != nullptr);
        CHECK(c.chosen->source == "bundle.json#full");
        c = choose_profile(set, one_cpu, false);
        REQUIRE(c.chosen != nullptr);
        CHECK(c.chosen->source == "bundle.json#one-cpu");
        CHECK(c.status.find("CPU limit") != std::string::npos);
    }
    // The same for a quota: 0.8 CPUs is one usable CPU.
    topology quota = fresh_zen5_vm();
    quota.cpu_quota = 0.8;
    quota.usable_cpus = 1;
    CHECK(choose_profile(set, quota, false).chosen->source == "bundle.json#one-cpu");
}

TEST_CASE("limits: a full-host profile under one usable CPU caps threads and switches parallel backends off") {
    topology one_cpu = fresh_zen5_vm();
    one_cpu.allowed_cpus = one_cpu.usable_cpus = 1;
    profile full = measured_on(fresh_zen5_vm());
    full.encode.switch_points.push_back({32 << 20, backend::pipeline, 32 << 20, 32 << 20, ""});
    full.encode.tuning = {{backend::work_stealing, 2, 0}};
    candidate_set set;
    set.members = {member("full", full)};
    const resolved_settings s = settings_from(set, {}, one_cpu);
    CHECK(s.profile_status.find("parallel backends off") != std::string::npos);
    for (std::size_t n : {std::size_t{1}, std::size_t{96} << 10, std::size_t{64} << 20}) {
        CHECK(s.encode.choose(n).how == backend::serial);
        CHECK(s.decode.choose(n).how == backend::serial);
    }
    CHECK(s.encode.par[calib64::detail::backend_index(backend::work_stealing)].threads == 1);
}

// ---------------------------------------------------------------- gathering from files

TEST_CASE("CALIB64_PROFILE may name a folder, searched recursively for profile.json") {
    const auto dir = scratch_dir("folder");
    REQUIRE(save_profile_atomic(measured_on(desktop_16c()), dir / "desktop" / "profile.json").empty());
    REQUIRE(save_profile_atomic(measured_on(host_topology()), dir / "deeper" / "here" / "profile.json").empty());
    std::ofstream(dir / "other.json") << "not a profile and not named profile.json";
    const resolved_settings s = resolve_settings({{"CALIB64_PROFILE", dir.string()}}, host_topology());
    CHECK(s.profile_path == (dir / "deeper" / "here" / "profile.json").string());
    CHECK(s.profile_status.find("exact") != std::string::npos);
    if (host_topology().usable_cpus > 1) CHECK(s.encode.choose(96 << 10).how == backend::work_stealing);
    std::filesystem::remove_all(dir);
}

TEST_CASE("CALIB64_PROFILE may name a bundle file, and its member is named in the status") {
    const auto dir = scratch_dir("bundle");
    write_bundle(dir / "b.json", {{"desktop", measured_on(desktop_16c())}, {"here", measured_on(host_topology())}});
    const resolved_settings s = resolve_settings({{"CALIB64_PROFILE", (dir / "b.json").string()}}, host_topology());
    CHECK(s.messages.empty());
    CHECK(s.profile_path == (dir / "b.json").string() + "#here");
    std::filesystem::remove_all(dir);
}

TEST_CASE("a malformed bundle member is reported by name and skipped, never fatal") {
    const auto dir = scratch_dir("bad-member");
    write_bundle(dir / "b.json", {{"good", measured_on(host_topology())}});
    // Add two broken members by hand: a bad kernel name, and a member that is not an object.
    std::ifstream in(dir / "b.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("\"members\": [");
    REQUIRE(at != std::string::npos);
    text.insert(at + 12, R"({"name": "broken", "profile": {"schema_version": 1, "encode": {"kernel": "avx9"}}}, 42,)");
    std::ofstream(dir / "b.json", std::ios::trunc) << text;
    const resolved_settings s = resolve_settings({{"CALIB64_PROFILE", (dir / "b.json").string()}}, host_topology());
    CHECK(mentions(s.messages, "member broken skipped"));
    CHECK(mentions(s.messages, "member #1 skipped"));
    CHECK(s.profile_path == (dir / "b.json").string() + "#good");
    std::filesystem::remove_all(dir);
}

TEST_CASE("a malformed profile.json in a folder is reported and the others are used") {
    const auto dir = scratch_dir("bad-file");
    REQUIRE(save_profile_atomic(measured_on(host_topology()), dir / "a" / "profile.json").empty());
    std::filesystem::create_directories(dir / "b");
    std::ofstream(dir / "b" / "profile.json") << "{\"schema_version\": 1, \"encode\": ";
    const resolved_settings s = resolve_settings({{"CALIB64_PROFILE", dir.string()}}, host_topology());
    CHECK(mentions(s.messages, (dir / "b" / "profile.json").string()));
    CHECK(s.profile_path == (dir / "a" / "profile.json").string());
    std::filesystem::remove_all(dir);
}

TEST_CASE("an empty folder or an unreadable bundle leaves topology defaults with a reason") {
    const auto dir = scratch_dir("empty");
    const resolved_settings empty = resolve_settings({{"CALIB64_PROFILE", dir.string()}}, host_topology());
    CHECK(empty.profile_path.empty());
    CHECK(mentions(empty.messages, "no profile.json"));
    std::ofstream(dir / "future.json") << R"({"bundle_schema_version": 99, "members": []})";
    const resolved_settings future = resolve_settings({{"CALIB64_PROFILE", (dir / "future.json").string()}}, host_topology());
    CHECK(future.profile_path.empty());
    CHECK(mentions(future.messages, "rebuild the bundle"));
    CHECK(future.profile_status.find("rejected") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("every file on the search path offers its profiles: an exact bundle member beats a foreign profile") {
    const auto dir = scratch_dir("xdg-bundle");
    REQUIRE(save_profile_atomic(measured_on(desktop_16c()), dir / "calib64" / "profile.json").empty());
    write_bundle(dir / "calib64" / "profiles.json", {{"here", measured_on(host_topology())}});
    const resolved_settings s = resolve_settings({{"XDG_CONFIG_HOME", dir.string()}}, host_topology());
    CHECK(s.profile_path == (dir / "calib64" / "profiles.json").string() + "#here");
    CHECK(s.messages.empty());  // the foreign one was not needed: no message about it
    std::filesystem::remove_all(dir);
}

TEST_CASE("a lone foreign profile is still reported when a bundle beside it has no member for this host") {
    candidate_set set;
    set.members = {member("p.json", measured_on(icelake_vm()), false), member("desktop", measured_on(desktop_16c()))};
    const profile_choice c = choose_profile(set, fresh_zen5_vm(), false);
    CHECK(c.chosen == nullptr);
    REQUIRE(c.messages.size() == 1);  // the lone file, not the bundle member
    CHECK(c.messages[0].find("bundle.json#p.json") != std::string::npos);
    CHECK(c.status.find("no matching class") != std::string::npos);
}
