// calib64_kernels_bench: one core, every kernel, encode and decode, against
// memcpy of the same size measured in the same run.
//
// Rows: encode/<kernel>/<bytes>, decode/<kernel>/<bytes> (strict),
// decode_ws/<kernel>/<bytes> (76-column text, ignore::whitespace), memcpy/<bytes>.
// bytes_per_second counts input bytes for encode and decoded bytes for decode,
// so every row compares directly with memcpy of <bytes>.
//
// After the Google Benchmark output, a summary prints each row's median as a
// percentage of the memcpy median of the same size, with the min-max spread of
// the repetitions. Pass --benchmark_filter etc. as usual; repetitions default to 5.
#include <benchmark/benchmark.h>
#include <calib64/calib64.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using calib64::kernel_id;

constexpr std::size_t KiB = 1024, MiB = 1024 * KiB;
constexpr std::size_t sizes_bytes[] = {1 * KiB,   16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB,
                                       4 * MiB,   16 * MiB, 64 * MiB, 100 * MiB};

// Buffers are made once per size and reused by every row, so page faults and
// random-number generation stay out of the measurements.
struct fixture {
    std::vector<std::uint8_t> bytes;  // random input
    std::string text;                 // its base64
    std::string wrapped;              // its base64, 76 columns + '\n'
    std::vector<char> out_chars;
    std::vector<std::uint8_t> out_bytes;
};

fixture& fixture_for(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<fixture>> cache;
    auto& slot = cache[n];
    if (!slot) {
        slot = std::make_unique<fixture>();
        std::mt19937_64 rng(n);
        slot->bytes.resize(n);
        for (auto& b : slot->bytes) b = static_cast<std::uint8_t>(rng());
        slot->text = calib64::encode(std::string_view(reinterpret_cast<const char*>(slot->bytes.data()), n));
        for (std::size_t i = 0; i < slot->text.size(); i += 76) {
            slot->wrapped.append(slot->text, i, 76);
            slot->wrapped += '\n';
        }
        slot->out_chars.assign(slot->text.size() + 64, 1);
        slot->out_bytes.assign(n + 64, 1);
    }
    return *slot;
}

void bench_memcpy(benchmark::State& state, std::size_t n) {
    fixture& f = fixture_for(n);
    for (auto _ : state) {
        std::memcpy(f.out_bytes.data(), f.bytes.data(), n);
        benchmark::DoNotOptimize(f.out_bytes.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void bench_encode(benchmark::State& state, kernel_id k, std::size_t n) {
    fixture& f = fixture_for(n);
    const calib64::encode_options opts{.kernel = k};
    for (auto _ : state) {
        const auto r = calib64::encode(f.bytes, f.out_chars, opts);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void bench_decode(benchmark::State& state, kernel_id k, std::size_t n, bool wrapped) {
    fixture& f = fixture_for(n);
    const calib64::decode_options opts{.skip = wrapped ? calib64::ignore::whitespace : calib64::ignore::none,
                                       .kernel = k};
    const std::string& in = wrapped ? f.wrapped : f.text;
    for (auto _ : state) {
        const auto r = calib64::decode(in, f.out_bytes, opts);
        if (!r.ok() || r.written != n) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Collects every repetition so the summary can show medians and spread.
class summary_reporter : public benchmark::ConsoleReporter {
public:
    std::map<std::string, std::vector<double>> bytes_per_second;  // by row name

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            const auto it = r.counters.find("bytes_per_second");
            if (it != r.counters.end()) bytes_per_second[r.run_name.str()].push_back(it->second.value);
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string size_label(std::size_t n) {
    return n >= MiB ? std::to_string(n / MiB) + " MiB" : std::to_string(n / KiB) + " KiB";
}

void print_summary(const summary_reporter& rep) {
    std::printf("\nSummary: median throughput as %% of memcpy of the same size (min-max of repetitions)\n");
    std::printf("%-22s", "row");
    for (std::size_t n : sizes_bytes) std::printf("%18s", size_label(n).c_str());
    std::printf("\n");
    std::vector<std::string> prefixes{"memcpy GB/s"};
    for (const char* op : {"encode", "decode", "decode_ws"})
        for (kernel_id k : calib64::available_kernels())
            prefixes.push_back(std::string(op) + "/" + std::string(calib64::kernel_name(k)));
    for (const std::string& prefix : prefixes) {
        std::string line;
        char cell[64];
        std::snprintf(cell, sizeof cell, "%-22s", prefix.c_str());
        line += cell;
        bool any = false;
        for (std::size_t n : sizes_bytes) {
            const auto base = rep.bytes_per_second.find("memcpy/" + std::to_string(n));
            const bool is_memcpy = prefix == "memcpy GB/s";
            const auto row = rep.bytes_per_second.find(is_memcpy ? "memcpy/" + std::to_string(n)
                                                                  : prefix + "/" + std::to_string(n));
            if (base == rep.bytes_per_second.end() || row == rep.bytes_per_second.end()) {
                std::snprintf(cell, sizeof cell, "%18s", "-");
            } else if (is_memcpy) {
                const auto [lo, hi] = std::minmax_element(row->second.begin(), row->second.end());
                std::snprintf(cell, sizeof cell, "%7.1f (%4.0f-%-4.0f)", median(row->second) / 1e9, *lo / 1e9,
                              *hi / 1e9);
                any = true;
            } else {
                const double b = median(base->second);
                const auto [lo, hi] = std::minmax_element(row->second.begin(), row->second.end());
                std::snprintf(cell, sizeof cell, "%6.1f%% (%3.0f-%-3.0f)", 100 * median(row->second) / b,
                              100 * *lo / b, 100 * *hi / b);
                any = true;
            }
            line += cell;
        }
        if (any) std::printf("%s\n", line.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Defaults suited to a noisy shared machine; any flag given on the command line wins.
    std::vector<char*> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=5", min_time = "--benchmark_min_time=0.05";
    const auto given = [&](const char* flag) {
        return std::any_of(args.begin(), args.end(), [&](const char* a) { return std::strncmp(a, flag, std::strlen(flag)) == 0; });
    };
    if (!given("--benchmark_repetitions")) args.push_back(reps.data());
    if (!given("--benchmark_min_time")) args.push_back(min_time.data());
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());

    // Interleave by size: every kernel and memcpy of one size run back to back,
    // so a slow phase of the machine hits them alike.
    for (std::size_t n : sizes_bytes) {
        const std::string size = std::to_string(n);
        benchmark::RegisterBenchmark(("memcpy/" + size).c_str(), bench_memcpy, n);
        for (kernel_id k : calib64::available_kernels()) {
            const std::string name(calib64::kernel_name(k));
            benchmark::RegisterBenchmark(("encode/" + name + "/" + size).c_str(), bench_encode, k, n);
            benchmark::RegisterBenchmark(("decode/" + name + "/" + size).c_str(), bench_decode, k, n, false);
            benchmark::RegisterBenchmark(("decode_ws/" + name + "/" + size).c_str(), bench_decode, k, n, true);
        }
    }
    summary_reporter rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    print_summary(rep);
    benchmark::Shutdown();
    return 0;
}
