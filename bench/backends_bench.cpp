// calib64_backends_bench: each backend, encode and decode, from 64 KiB to 100 MiB,
// next to a 2-thread memcpy of the same bytes as the out-of-cache bandwidth
// reference. Names: <encode|decode>/<backend>/<bytes>, memcpy_mt/<bytes>.
// Bytes processed: input bytes for encode, decoded bytes for decode. Parallel rows
// use real time (the work happens on other threads too).
//
// Extra rows for the per-call overhead of a parallel backend on a small input:
// <encode|decode>/<backend>_forced4/<bytes> split a 64 KiB call into 4 chunks
// (by default a 64 KiB call runs serially inside the parallel backends).
//
// dispatch/encode/1024 and dispatch/encode_auto/1024: what encode_auto's choice
// costs on a 1 KiB call.
//
// Options beyond Google Benchmark's: none; thread counts are the defaults (all
// CPUs this process may use).
#include <benchmark/benchmark.h>
#include <calib64/calib64.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using calib64::backend;

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;
const std::vector<std::size_t> sizes_bytes{64 * KiB, 256 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB,
                                           16 * MiB, 32 * MiB, 64 * MiB, 100 * MiB};

const std::vector<std::uint8_t>& random_input(std::size_t bytes) {
    static std::vector<std::uint8_t> data = [] {
        std::vector<std::uint8_t> d(100 * MiB);
        std::mt19937_64 rng(42);
        for (std::size_t i = 0; i + 8 <= d.size(); i += 8) {
            const std::uint64_t v = rng();
            std::memcpy(d.data() + i, &v, 8);
        }
        return d;
    }();
    (void)bytes;
    return data;
}

void encode_rows(benchmark::State& state, backend how, calib64::parallel_options par) {
    const auto bytes = static_cast<std::size_t>(state.range(0));
    const std::span<const std::uint8_t> in(random_input(bytes).data(), bytes);
    std::vector<char> out(calib64::encoded_length(bytes));
    for (auto _ : state) {
        const auto r = calib64::encode_with(how, in, out, {}, par);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void decode_rows(benchmark::State& state, backend how, calib64::parallel_options par) {
    const auto bytes = static_cast<std::size_t>(state.range(0));
    const std::span<const std::uint8_t> raw(random_input(bytes).data(), bytes);
    std::string text(calib64::encoded_length(bytes), '\0');
    if (!calib64::encode(raw, text).ok()) {
        state.SkipWithError("encode failed");
        return;
    }
    std::vector<std::uint8_t> out(bytes);
    for (auto _ : state) {
        const auto r = calib64::decode_with(how, text, out, {}, par);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
        if (!r.ok()) {
            state.SkipWithError("decode failed");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// Two benchmark threads, each copying its half of the buffer: what two cores
// can move through memory, the ceiling for a bandwidth-bound encode.
void memcpy_mt(benchmark::State& state) {
    const auto bytes = static_cast<std::size_t>(state.range(0));
    static std::vector<std::uint8_t> destination(100 * MiB);
    const std::size_t half = bytes / 2;
    const std::size_t begin = static_cast<std::size_t>(state.thread_index()) * half;
    const std::size_t len = state.thread_index() == 0 ? half : bytes - half;
    const std::uint8_t* src = random_input(bytes).data();
    for (auto _ : state) {
        std::memcpy(destination.data() + begin, src + begin, len);
        benchmark::DoNotOptimize(destination.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * len));
}

// The cost of encode_auto's choice on a small call: the same 1 KiB through
// encode() (the best kernel, serial) and through encode_auto(). Compare the two
// rows of one run (issue 4: auto's dispatch <= 5% at 1 KiB).
void dispatch_rows(benchmark::State& state, bool through_auto) {
    const auto bytes = static_cast<std::size_t>(state.range(0));
    const std::span<const std::uint8_t> in(random_input(bytes).data(), bytes);
    std::vector<char> out(calib64::encoded_length(bytes));
    (void)calib64::choose_encode(bytes);  // resolve the settings before timing
    for (auto _ : state) {
        const auto r = through_auto ? calib64::encode_auto(in, out) : calib64::encode(in, out);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void register_all() {
    benchmark::RegisterBenchmark("dispatch/encode", dispatch_rows, false)->Arg(1 * KiB);
    benchmark::RegisterBenchmark("dispatch/encode_auto", dispatch_rows, true)->Arg(1 * KiB);
    (void)random_input(0);  // generate before any timing
    for (const backend how : {backend::serial, backend::work_stealing, backend::pipeline}) {
        const std::string name(calib64::backend_name(how));
        for (const bool encoding : {true, false}) {
            auto* b = encoding ? benchmark::RegisterBenchmark(("encode/" + name).c_str(), encode_rows, how,
                                                              calib64::parallel_options{})
                               : benchmark::RegisterBenchmark(("decode/" + name).c_str(), decode_rows, how,
                                                              calib64::parallel_options{});
            for (const std::size_t s : sizes_bytes) b->Arg(static_cast<std::int64_t>(s));
            b->Unit(benchmark::kMicrosecond);
            if (how != backend::serial) b->UseRealTime();
        }
        if (how == backend::serial) continue;
        // 64 KiB in four chunks of 16 KiB (4 * 3-byte / 4-char multiples): the
        // cost of actually going parallel on a small call.
        auto* e = benchmark::RegisterBenchmark(("encode/" + name + "_forced4").c_str(), encode_rows, how,
                                               calib64::parallel_options{0, 16 * KiB / 12 * 12});
        auto* d = benchmark::RegisterBenchmark(("decode/" + name + "_forced4").c_str(), decode_rows, how,
                                               calib64::parallel_options{0, calib64::encoded_length(16 * KiB) / 4 * 4});
        for (auto* b : {e, d}) b->Arg(64 * KiB)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    auto* m = benchmark::RegisterBenchmark("memcpy_mt", memcpy_mt);
    for (const std::size_t s : sizes_bytes) m->Arg(static_cast<std::int64_t>(s));
    m->Threads(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
