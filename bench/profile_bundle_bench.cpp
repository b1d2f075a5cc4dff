// calib64_profile_bundle_bench: what a bundle of profiles costs at first use
// (docs/profile.md, "Bundles"; target: under 5 ms for 100 profiles).
//
//   load_bundle/N      read and check a bundle file of N members (decisions only)
//   resolve_bundle/N   everything the first encode_auto does with CALIB64_PROFILE=that
//                      bundle: read, compare every member with this host, choose, resolve
//   resolve_folder/N   the same for a folder of N result folders, each with a full
//                      profile.json (curves and validation included, ~110 KiB each as
//                      calibrate writes them): why a fleet ships a bundle instead
//
// Members are synthetic hosts (varied cores, caches, vendors), one of them this host,
// written to a temporary folder once. The files stay in the page cache after the
// first iteration, as they would for a second process; the cold-cache cost adds one
// read of the file (bundle_bytes counter).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "runtime/profile.h"
#include "runtime/settings.h"

namespace {

using namespace calib64;
using namespace calib64::runtime;
namespace fs = std::filesystem;

// Member i: a host that differs from this one in cores, L2 and vendor, with the
// switch points and tuning a calibration writes. Member 0 is this host.
profile synthetic_member(unsigned i, bool with_audit) {
    topology t = host_topology();
    if (i > 0) {
        t.cores = 2u << (i % 6);
        t.pus = t.cores * (1 + i % 2);
        t.l2_bytes = (512u << 10) << (i % 3);
        t.l3_bytes = (16u << 20) << (i % 4);
        t.cpu_vendor = i % 2 ? "AuthenticAMD" : "GenuineIntel";
        t.cpu_model = "synthetic host " + std::to_string(i);
        t.cpu_model_number = static_cast<int>(i);
    }
    profile p = new_profile(t);
    p.encode.kernel = p.decode.kernel = kernel_id::automatic;
    p.encode.switch_points = {{300000u + i, backend::work_stealing, 280000, 320000, "work_stealing wins by 1.2x"},
                              {40000000u + i, backend::pipeline, 30000000, 50000000, "pipeline wins past the L3"}};
    p.decode.switch_points = {{350000u + i, backend::work_stealing, 300000, 400000, "work_stealing wins by 1.2x"}};
    p.encode.tuning = p.decode.tuning = {{backend::work_stealing, 0, 0}, {backend::pipeline, 0, 1u << 20}};
    if (with_audit) {
        // What calibrate records for audit: ~30 sizes x 5 series, validation rows.
        for (const char* series : {"serial", "work_stealing", "pipeline", "1_thread", "all_threads"}) {
            curve c{"encode", series, {}};
            for (std::uint64_t s = 4096; s <= (std::uint64_t{100} << 20); s = s * 3 / 2)
                c.points.push_back({s, 5000.0 + static_cast<double>(s % 997), 4900.0, 5100.0});
            p.curves.push_back(c);
            c.op = "decode";
            p.curves.push_back(std::move(c));
        }
        for (std::uint64_t s = 5000; s < (std::uint64_t{100} << 20); s *= 2)
            p.validation.push_back({operation::encode, s, 9000, {{"serial", 5000.0}, {"work_stealing", 9100.0}}, 0.99});
    }
    return p;
}

fs::path scratch() {
    static const fs::path dir = [] {
        fs::path d = fs::temp_directory_path() / ("calib64-bundle-bench-" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

const fs::path& bundle_file(unsigned n) {
    static std::map<unsigned, fs::path> made;
    auto& path = made[n];
    if (path.empty()) {
        profile_bundle b;
        b.tool_version = "bench";
        b.created_utc = utc_now_iso8601();
        for (unsigned i = 0; i < n; ++i) b.members.push_back(bundle_member_from("host-" + std::to_string(i), synthetic_member(n - 1 - i, false)));
        path = scratch() / ("bundle-" + std::to_string(n) + ".json");
        if (!save_bundle_atomic(b, path).empty()) path.clear();
    }
    return path;
}

const fs::path& folder_of(unsigned n) {
    static std::map<unsigned, fs::path> made;
    auto& path = made[n];
    if (path.empty()) {
        path = scratch() / ("folder-" + std::to_string(n));
        for (unsigned i = 0; i < n; ++i)
            if (!save_profile_atomic(synthetic_member(n - 1 - i, true), path / ("host-" + std::to_string(i)) / "profile.json").empty())
                return path = fs::path();
    }
    return path;
}

void load_bundle(benchmark::State& state) {
    const fs::path& path = bundle_file(static_cast<unsigned>(state.range(0)));
    if (path.empty()) return state.SkipWithError("could not write the bundle");
    for (auto _ : state) {
        profiles_result r = load_profiles_file(path, profile_parts::decisions);
        if (!r.value || r.value->members.size() != static_cast<std::size_t>(state.range(0)))
            return state.SkipWithError("the bundle did not read back whole");
        benchmark::DoNotOptimize(r);
    }
    state.counters["bundle_bytes"] = static_cast<double>(fs::file_size(path));
}

void resolve_from(benchmark::State& state, const fs::path& path) {
    if (path.empty()) return state.SkipWithError("could not write the profiles");
    const environment env{{"CALIB64_PROFILE", path.string()}};
    for (auto _ : state) {
        resolved_settings s = resolve_settings(env, host_topology());
        if (s.profile_path.empty()) return state.SkipWithError(("this host's member was not chosen: " + s.profile_status).c_str());
        benchmark::DoNotOptimize(s);
    }
}

void resolve_bundle(benchmark::State& state) {
    const fs::path& path = bundle_file(static_cast<unsigned>(state.range(0)));
    resolve_from(state, path);
    if (!path.empty()) state.counters["bundle_bytes"] = static_cast<double>(fs::file_size(path));
}

void resolve_folder(benchmark::State& state) { resolve_from(state, folder_of(static_cast<unsigned>(state.range(0)))); }

BENCHMARK(load_bundle)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(resolve_bundle)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(resolve_folder)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ec;
    fs::remove_all(scratch(), ec);
    return 0;
}
