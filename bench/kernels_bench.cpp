// calib64_kernels_bench: one core, every kernel, encode and decode, against
// memcpy of the same size measured in the same run.
//
// Rows: encode/<kernel>/<bytes>, decode/<kernel>/<bytes> (strict),
// decode_ws/<kernel>/<bytes> (76-column text, ignore::whitespace), memcpy/<bytes>.
// bytes_per_second counts input bytes for encode and decoded bytes for decode,
// so every row compares directly with memcpy of <bytes>.
//
// Short strings: short_encode/<kernel>/<lo>-<hi> and short_decode/<kernel>/<lo>-<hi>,
// one call per string over 512 strings of random lengths in [lo, hi] bytes (decode:
// their padded base64) at random offsets; counter ns_per_call.
// Unaligned input: encode_at/<kernel>/<bytes>/<offset> and decode_at/<kernel>/<bytes>/<offset>,
// input at <offset> bytes past a 4 KiB boundary, output page-aligned.
//
// After the Google Benchmark output, summaries print each row's median as a
// percentage of the memcpy median of the same size, short strings in ns per call,
// and unaligned rows as a fraction of the same kernel's offset-0 row, each with the
// min-max spread of the repetitions. Pass --benchmark_filter etc. as usual;
// repetitions default to 5.
#include <benchmark/benchmark.h>
#include <calib64/calib64.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
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

// ---------------------------------------------------------------- short strings

struct length_range {
    std::size_t lo, hi;  // bytes, inclusive
};
constexpr length_range short_ranges[] = {{4, 16}, {16, 64}, {64, 256}, {1024, 1024}};
constexpr std::size_t strings_per_set = 512;

std::string range_label(const length_range& r) { return std::to_string(r.lo) + "-" + std::to_string(r.hi); }

struct string_set {
    std::vector<std::uint8_t> bytes_pool;
    std::string text_pool;
    std::vector<std::span<const std::uint8_t>> bytes;
    std::vector<std::string_view> texts;
};

// Strings at random (unaligned) offsets in one pool, their base64 in another.
const string_set& strings_for(const length_range& r) {
    static std::map<std::size_t, std::unique_ptr<string_set>> cache;
    auto& slot = cache[r.lo];
    if (slot) return *slot;
    slot = std::make_unique<string_set>();
    std::mt19937_64 rng(r.lo * 1000 + r.hi);
    std::vector<std::size_t> lengths, byte_at, text_at;
    std::size_t bytes_size = 0, text_size = 0;
    for (std::size_t i = 0; i < strings_per_set; ++i) {
        lengths.push_back(r.lo + rng() % (r.hi - r.lo + 1));
        byte_at.push_back(bytes_size += rng() % 8);
        bytes_size += lengths.back();
        text_at.push_back(text_size += rng() % 8);
        text_size += calib64::encoded_length(lengths.back());
    }
    slot->bytes_pool.resize(bytes_size);
    for (auto& b : slot->bytes_pool) b = static_cast<std::uint8_t>(rng());
    slot->text_pool.resize(text_size);
    for (std::size_t i = 0; i < strings_per_set; ++i) {
        const std::span<const std::uint8_t> b(slot->bytes_pool.data() + byte_at[i], lengths[i]);
        const std::span<char> t(slot->text_pool.data() + text_at[i], calib64::encoded_length(lengths[i]));
        if (!calib64::encode(b, t, {.kernel = kernel_id::scalar}).ok()) std::abort();
        slot->bytes.push_back(b);
        slot->texts.emplace_back(t.data(), t.size());
    }
    return *slot;
}

void bench_short_encode(benchmark::State& state, kernel_id k, length_range r) {
    const string_set& set = strings_for(r);
    std::vector<char> out(calib64::encoded_length(r.hi));
    const calib64::encode_options opts{.kernel = k};
    for (auto _ : state) {
        for (const auto& b : set.bytes) {
            const auto e = calib64::encode(b, out, opts);
            benchmark::DoNotOptimize(e);
        }
        benchmark::ClobberMemory();
    }
    state.counters["ns_per_call"] = benchmark::Counter(static_cast<double>(state.iterations() * set.bytes.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void bench_short_decode(benchmark::State& state, kernel_id k, length_range r) {
    const string_set& set = strings_for(r);
    std::vector<std::uint8_t> out(r.hi);
    const calib64::decode_options opts{.kernel = k};
    for (auto _ : state) {
        for (const std::string_view t : set.texts) {
            const auto d = calib64::decode(t, out, opts);
            if (!d.ok()) state.SkipWithError("decode failed");
            benchmark::DoNotOptimize(d);
        }
        benchmark::ClobberMemory();
    }
    state.counters["ns_per_call"] = benchmark::Counter(static_cast<double>(state.iterations() * set.texts.size()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------- unaligned input

constexpr std::size_t offset_sizes_bytes[] = {64 * KiB, 16 * MiB};
constexpr std::size_t input_offsets[] = {0, 1, 7, 33, 63};

// The input copied to `offset` bytes past a page boundary, a page-aligned output.
struct offset_fixture {
    std::unique_ptr<std::uint8_t[], decltype(&std::free)> in{nullptr, std::free}, out{nullptr, std::free};
};

std::uint8_t* page_aligned(std::size_t n) {
    return static_cast<std::uint8_t*>(std::aligned_alloc(4096, (n + 4096) / 4096 * 4096));
}

void bench_encode_at(benchmark::State& state, kernel_id k, std::size_t n, std::size_t offset) {
    fixture& f = fixture_for(n);
    offset_fixture o;
    o.in.reset(page_aligned(n + offset));
    o.out.reset(page_aligned(f.text.size()));
    std::memcpy(o.in.get() + offset, f.bytes.data(), n);
    const calib64::encode_options opts{.kernel = k};
    const std::span<char> out(reinterpret_cast<char*>(o.out.get()), f.text.size());
    for (auto _ : state) {
        const auto r = calib64::encode({o.in.get() + offset, n}, out, opts);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void bench_decode_at(benchmark::State& state, kernel_id k, std::size_t n, std::size_t offset) {
    fixture& f = fixture_for(n);
    offset_fixture o;
    o.in.reset(page_aligned(f.text.size() + offset));
    o.out.reset(page_aligned(n));
    std::memcpy(o.in.get() + offset, f.text.data(), f.text.size());
    const calib64::decode_options opts{.kernel = k};
    const std::string_view in(reinterpret_cast<const char*>(o.in.get() + offset), f.text.size());
    for (auto _ : state) {
        const auto r = calib64::decode(in, {o.out.get(), n}, opts);
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
    std::map<std::string, std::vector<double>> ns_per_call;

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            const auto it = r.counters.find("bytes_per_second");
            if (it != r.counters.end()) bytes_per_second[r.run_name.str()].push_back(it->second.value);
            const auto ns = r.counters.find("ns_per_call");
            if (ns != r.counters.end()) ns_per_call[r.run_name.str()].push_back(ns->second.value * 1e9);
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

// Short strings: median ns per call (min-max of repetitions), one column per range.
void print_short_summary(const summary_reporter& rep) {
    std::printf("\nShort strings: median ns per call (min-max of repetitions), %zu strings of random length per set\n",
                strings_per_set);
    std::printf("%-22s", "row");
    for (const length_range& r : short_ranges) std::printf("%20s", (range_label(r) + " B").c_str());
    std::printf("\n");
    for (const char* op : {"short_encode", "short_decode"}) {
        for (kernel_id k : calib64::available_kernels()) {
            const std::string prefix = std::string(op) + "/" + std::string(calib64::kernel_name(k));
            std::printf("%-22s", prefix.c_str());
            for (const length_range& r : short_ranges) {
                const auto row = rep.ns_per_call.find(prefix + "/" + range_label(r));
                char cell[64] = "-";
                if (row != rep.ns_per_call.end()) {
                    const auto [lo, hi] = std::minmax_element(row->second.begin(), row->second.end());
                    std::snprintf(cell, sizeof cell, "%7.2f (%5.1f-%-5.1f)", median(row->second), *lo, *hi);
                }
                std::printf("%20s", cell);
            }
            std::printf("\n");
        }
    }
}

// Unaligned input: each offset's median throughput as a fraction of offset 0's.
void print_offset_summary(const summary_reporter& rep) {
    std::printf("\nUnaligned input: median throughput at input offset N / offset 0 (min-max of repetitions / offset-0 median)\n");
    std::printf("%-30s%12s", "row", "offset 0");
    for (std::size_t off : input_offsets)
        if (off != 0) std::printf("%18s", ("offset " + std::to_string(off)).c_str());
    std::printf("\n");
    for (const char* op : {"encode_at", "decode_at"}) {
        for (kernel_id k : calib64::available_kernels()) {
            for (std::size_t n : offset_sizes_bytes) {
                const std::string prefix = std::string(op) + "/" + std::string(calib64::kernel_name(k)) + "/" + std::to_string(n);
                const auto base = rep.bytes_per_second.find(prefix + "/0");
                if (base == rep.bytes_per_second.end()) continue;
                const double b = median(base->second);
                std::printf("%-30s%7.1f GB/s",
                            (std::string(op) + "/" + std::string(calib64::kernel_name(k)) + "/" + size_label(n)).c_str(),
                            b / 1e9);
                for (std::size_t off : input_offsets) {
                    if (off == 0) continue;
                    const auto row = rep.bytes_per_second.find(prefix + "/" + std::to_string(off));
                    char cell[64] = "-";
                    if (row != rep.bytes_per_second.end()) {
                        const auto [lo, hi] = std::minmax_element(row->second.begin(), row->second.end());
                        std::snprintf(cell, sizeof cell, "%6.3f (%.2f-%.2f)", median(row->second) / b, *lo / b, *hi / b);
                    }
                    std::printf("%18s", cell);
                }
                std::printf("\n");
            }
        }
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
    // Short strings, every kernel of one range back to back.
    for (const length_range& r : short_ranges) {
        for (kernel_id k : calib64::available_kernels()) {
            const std::string name = std::string(calib64::kernel_name(k)) + "/" + range_label(r);
            benchmark::RegisterBenchmark(("short_encode/" + name).c_str(), bench_short_encode, k, r);
            benchmark::RegisterBenchmark(("short_decode/" + name).c_str(), bench_short_decode, k, r);
        }
    }
    // Unaligned input: the offsets of one kernel and size back to back.
    for (std::size_t n : offset_sizes_bytes) {
        for (kernel_id k : calib64::available_kernels()) {
            for (const char* op : {"encode_at", "decode_at"}) {
                for (std::size_t off : input_offsets) {
                    const std::string name = std::string(op) + "/" + std::string(calib64::kernel_name(k)) + "/" +
                                             std::to_string(n) + "/" + std::to_string(off);
                    if (op[0] == 'e')
                        benchmark::RegisterBenchmark(name.c_str(), bench_encode_at, k, n, off);
                    else
                        benchmark::RegisterBenchmark(name.c_str(), bench_decode_at, k, n, off);
                }
            }
        }
    }
    summary_reporter rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    print_summary(rep);
    print_short_summary(rep);
    print_offset_summary(rep);
    benchmark::Shutdown();
    return 0;
}
