// The host probe: sane facts, safe fallbacks, a stable fingerprint, cpu.max parsing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "platform/cpus.h"
#include "runtime/topology.h"

using namespace calib64::runtime;

namespace {

// A fully described made-up host, so fallback and fingerprint rules are tested
// independently of the machine running the tests.
topology sample_host() {
    topology t;
    t.packages = 1;
    t.cores = 16;
    t.pus = 32;
    t.l1d_bytes = 48 << 10;
    t.l2_bytes = 1 << 20;
    t.l3_bytes = 32 << 20;
    t.l3_count = 2;
    t.cores_per_l3 = 8;
    t.numa_nodes = 1;
    t.cpukinds = 1;
    t.allowed_cpus = 32;
    t.usable_cpus = 32;
    t.cpu_vendor = "AuthenticAMD";
    t.cpu_model = "AMD Ryzen 9 9950X";
    t.cpu_family = 0x1a;
    t.cpu_model_number = 0x44;
    t.simd_kernels = {"avx512", "avx2", "scalar"};
    return t;
}

}  // namespace

TEST_CASE("the probe reports a sane, non-zero host") {
    const topology t = probe_topology();
    CHECK(t.packages >= 1);
    CHECK(t.cores >= t.packages);
    CHECK(t.pus >= t.cores);
    CHECK(t.numa_nodes >= 1);
    CHECK(t.l1d_bytes > 0);
    CHECK(t.l2_bytes >= t.l1d_bytes);
    CHECK(t.l3_bytes > 0);
    CHECK(t.l3_bytes <= implausible_l3_bytes);
    CHECK(t.l3_count >= 1);
    CHECK(t.cores_per_l3 >= 1);
    CHECK(t.cpukinds >= 1);
    CHECK(t.allowed_cpus >= 1);
    CHECK(t.allowed_cpus <= t.pus);
    CHECK(t.usable_cpus >= 1);
    CHECK(t.usable_cpus <= t.allowed_cpus);
    CHECK_FALSE(t.cpu_model.empty());
    CHECK_FALSE(t.cpu_vendor.empty());
    REQUIRE_FALSE(t.simd_kernels.empty());
    CHECK(t.simd_kernels.back() == "scalar");  // best first, the reference last
    for (const auto& note : t.fallbacks) MESSAGE("probe fallback: " << note);
}

TEST_CASE("the cached host topology is the probe's result") {
    const topology& a = host_topology();
    CHECK(&a == &host_topology());
    CHECK(fingerprint(a) == fingerprint(probe_topology()));
}

TEST_CASE("a missing L3 falls back to the L2 size and says so") {
    topology t = sample_host();
    t.l3_bytes = 0;
    t.l3_count = 0;
    t.cores_per_l3 = 0;
    apply_fallbacks(t);
    CHECK(t.l3_bytes == t.l2_bytes);
    CHECK(t.l3_count == 1);
    CHECK(t.cores_per_l3 == 16);
    REQUIRE(t.fallbacks.size() == 1);
    CHECK(t.fallbacks[0].find("l3") != std::string::npos);
}

TEST_CASE("missing L3 and L2 fall back to a safe constant, never zero") {
    topology t = sample_host();
    t.l3_bytes = t.l2_bytes = t.l1d_bytes = 0;
    apply_fallbacks(t);
    CHECK(t.l3_bytes == fallback_cache_bytes);
    CHECK(t.l2_bytes > 0);
    CHECK(t.l2_bytes <= t.l3_bytes);
    CHECK(t.l1d_bytes > 0);
    CHECK(t.l1d_bytes <= t.l2_bytes);
    CHECK(t.fallbacks.size() == 3);
}

TEST_CASE("an implausible cache size from the hypervisor is treated as missing") {
    topology t = sample_host();
    t.l3_bytes = 508ull << 20;  // what this development VM's cpuid claims per core
    apply_fallbacks(t);
    CHECK(t.l3_bytes == t.l2_bytes);
    REQUIRE_FALSE(t.fallbacks.empty());
    CHECK(t.fallbacks[0].find("implausible") != std::string::npos);
}

TEST_CASE("zero counts become one, so callers can divide by them") {
    topology t;
    t.packages = t.cores = t.pus = t.numa_nodes = t.l3_count = t.cores_per_l3 = t.allowed_cpus = 0;
    apply_fallbacks(t);
    CHECK(t.packages == 1);
    CHECK(t.cores == 1);
    CHECK(t.pus == 1);
    CHECK(t.numa_nodes == 1);
    CHECK(t.l3_count == 1);
    CHECK(t.cores_per_l3 == 1);
    CHECK(t.allowed_cpus == 1);
    CHECK(t.usable_cpus == 1);
    CHECK(t.l1d_bytes > 0);
    CHECK(t.l3_bytes > 0);
}

TEST_CASE("a cgroup CPU quota caps the usable CPUs, rounding up") {
    topology t = sample_host();
    t.cpu_quota = 2.5;
    apply_fallbacks(t);
    CHECK(t.usable_cpus == 3);
    topology loose = sample_host();
    loose.cpu_quota = 64.0;  // more than we are allowed anyway
    apply_fallbacks(loose);
    CHECK(loose.usable_cpus == 32);
    topology tiny = sample_host();
    tiny.cpu_quota = 0.2;
    apply_fallbacks(tiny);
    CHECK(tiny.usable_cpus == 1);
}

TEST_CASE("cpu.max \"max PERIOD\" means no quota and is not an error") {
    std::string error = "stale";
    CHECK_FALSE(calib64::detail::parse_cpu_max("max 100000", &error).has_value());
    CHECK(error.empty());
    CHECK_FALSE(calib64::detail::parse_cpu_max("max\n", &error).has_value());
    CHECK(error.empty());
}

TEST_CASE("cpu.max \"QUOTA PERIOD\" is quota over period in CPUs") {
    std::string error;
    CHECK(calib64::detail::parse_cpu_max("200000 100000", &error).value() == doctest::Approx(2.0));
    CHECK(error.empty());
    CHECK(calib64::detail::parse_cpu_max("50000 100000\n").value() == doctest::Approx(0.5));
    CHECK(calib64::detail::parse_cpu_max("150000 100000").value() == doctest::Approx(1.5));
    CHECK(calib64::detail::parse_cpu_max("150000").value() == doctest::Approx(1.5));  // default period
}

TEST_CASE("garbage in cpu.max is reported, not read as a quota") {
    for (const char* text : {"", "abc", "100000 0", "-5 100000", "0 100000", "12x 100000", "100 abc"}) {
        CAPTURE(text);
        std::string error;
        CHECK_FALSE(calib64::detail::parse_cpu_max(text, &error).has_value());
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("the fingerprint is stable and ignores what varies per run") {
    const topology a = sample_host();
    topology b = sample_host();
    b.allowed_cpus = 4;
    b.usable_cpus = 2;
    b.cpu_quota = 2.0;
    b.fallbacks = {"something"};
    CHECK(fingerprint(a) == fingerprint(b));
    const std::string hex = fingerprint(a);
    CHECK(hex.size() == 16);
    CHECK(std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
}

TEST_CASE("the fingerprint changes with each fact that changes speed") {
    const std::string base = fingerprint(sample_host());
    auto differs = [&](auto change) {
        topology t = sample_host();
        change(t);
        return fingerprint(t) != base;
    };
    CHECK(differs([](topology& t) { t.cores = 8; }));
    CHECK(differs([](topology& t) { t.pus = 16; }));
    CHECK(differs([](topology& t) { t.packages = 2; }));
    CHECK(differs([](topology& t) { t.l3_bytes = 96 << 20; }));
    CHECK(differs([](topology& t) { t.l2_bytes = 2 << 20; }));
    CHECK(differs([](topology& t) { t.l1d_bytes = 32 << 10; }));
    CHECK(differs([](topology& t) { t.cores_per_l3 = 16; }));
    CHECK(differs([](topology& t) { t.numa_nodes = 2; }));
    CHECK(differs([](topology& t) { t.cpukinds = 2; }));
    CHECK(differs([](topology& t) { t.cpu_model = "AMD EPYC 9755"; }));
    CHECK(differs([](topology& t) { t.simd_kernels = {"avx2", "scalar"}; }));
}

TEST_CASE("the host id is readable, directory-safe and ends in the fingerprint") {
    const topology t = sample_host();
    const std::string id = host_id(t);
    CHECK(id.rfind("zen5-16c-32m-", 0) == 0);
    CHECK(id.substr(id.size() - 8) == fingerprint(t).substr(0, 8));
    const std::string here = host_id(host_topology());
    CHECK(std::all_of(here.begin(), here.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    }));
}

TEST_CASE("skipping hwloc's I/O plugins keeps a user's own choice") {
    // Runs single-threaded inside doctest; setenv is safe here.
    ::setenv("HWLOC_PLUGINS_BLACKLIST", "user-choice", 1);
    skip_hwloc_io_plugins();
    CHECK(std::string(std::getenv("HWLOC_PLUGINS_BLACKLIST")) == "user-choice");
    ::unsetenv("HWLOC_PLUGINS_BLACKLIST");
    skip_hwloc_io_plugins();
    REQUIRE(std::getenv("HWLOC_PLUGINS_BLACKLIST") != nullptr);
    CHECK(std::string(std::getenv("HWLOC_PLUGINS_BLACKLIST")).find("hwloc_opencl") != std::string::npos);
    ::unsetenv("HWLOC_PLUGINS_BLACKLIST");
}
