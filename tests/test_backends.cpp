// The parallel backends as a specification: whatever the backend, thread count or
// chunk size, encode_with / decode_with give exactly what serial encode / decode
// give (bytes, status, offset, written); they survive many callers at once, nested
// use and process exit. No timing assertions; deadlock guards only.
#include <calib64/calib64.h>
#include <doctest/doctest.h>
#include <oneapi/tbb/parallel_for.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/parallel.h"
#include "backends/worker_pool.h"
#include "platform/cpus.h"
#include "test_child.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// TBB tasks read their lambda's captures before any atomic of ours can order
// them; TSan cannot see libtbb's own synchronization, so state it (static address).
static char tsan_task_handoff;
#define TEST_TSAN_RELEASE() __tsan_release(&tsan_task_handoff)
#define TEST_TSAN_ACQUIRE() __tsan_acquire(&tsan_task_handoff)
#else
#define TEST_TSAN_RELEASE() ((void)0)
#define TEST_TSAN_ACQUIRE() ((void)0)
#endif

using namespace calib64;

namespace {

constexpr std::array all_backends{backend::serial, backend::work_stealing, backend::pipeline};
constexpr std::array parallel_backends{backend::work_stealing, backend::pipeline};

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string encode_by(backend b, std::string_view in, const encode_options& o, const parallel_options& par) {
    std::string out(encoded_length(in.size(), o.pad), '\0');
    const encode_result r = encode_with(b, as_bytes(in), out, o, par);
    REQUIRE(r.ok());
    REQUIRE(r.written == out.size());
    return out;
}

struct decoded {
    decode_result result;
    std::string bytes;  // the first result.written bytes of the output
};

decoded decode_by(backend b, std::string_view in, const decode_options& o, const parallel_options& par,
                  std::size_t out_size) {
    std::string out(out_size, '\x55');
    decode_result r = b == backend::serial && par.threads == 0 && par.chunk_bytes == 0
                          ? decode(in, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, o)
                          : decode_with(b, in, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, o, par);
    out.resize(std::min(r.written, out.size()));
    return {r, out};
}

// Decodes with backend b and with serial decode(), and requires identical answers.
void require_decode_matches_serial(backend b, std::string_view in, const decode_options& o,
                                   const parallel_options& par, std::size_t out_size) {
    const decoded want = decode_by(backend::serial, in, o, {}, out_size);
    const decoded got = decode_by(b, in, o, par, out_size);
    INFO("backend ", backend_name(b), " threads ", par.threads, " chunk ", par.chunk_bytes, " size ", in.size(),
         " out ", out_size, " status ", describe(want.result.code), " vs ", describe(got.result.code));
    REQUIRE(got.result.code == want.result.code);
    REQUIRE(got.result.offset == want.result.offset);
    REQUIRE(got.result.written == want.result.written);
    REQUIRE(got.bytes == want.bytes);
}

// Sizes 0..3 and k * chunk + {-2..+2} for k up to `multiples`.
std::vector<std::size_t> sizes_around(std::size_t chunk, std::size_t multiples) {
    std::vector<std::size_t> sizes{0, 1, 2, 3, 4, 5};
    for (std::size_t k = 1; k <= multiples; ++k)
        for (std::size_t d = 0; d <= 4; ++d)
            if (k * chunk + d >= 2) sizes.push_back(k * chunk + d - 2);
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    return sizes;
}

padding padding_for(bool pad) { return pad ? padding::required : padding::forbidden; }

// Fails the run (instead of hanging it) if `seconds` pass before it is destroyed.
class deadlock_guard {
public:
    deadlock_guard(const char* what, int seconds) : thread_([this, what, seconds] {
        std::unique_lock lock(mutex_);
        if (!done_cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) {
            std::fprintf(stderr, "deadlock guard: '%s' still running after %d s\n", what, seconds);
            std::_Exit(97);
        }
    }) {}
    ~deadlock_guard() {
        {
            const std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_cv_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::thread thread_;
};

// Line-wraps `text` at random widths with random whitespace (SP, HT, CR, LF, VT,
// FF), including long whitespace-only runs and leading/trailing whitespace.
std::string wrap_randomly(std::string_view text, std::mt19937_64& rng, std::size_t max_line) {
    static constexpr char spaces[] = {' ', '\t', '\r', '\n', '\v', '\f'};
    std::string out;
    auto add_space = [&] {
        const std::size_t run = rng() % 8 == 0 ? 1 + rng() % 40 : 1 + rng() % 2;
        for (std::size_t i = 0; i < run; ++i) out += spaces[rng() % 6];
    };
    if (rng() % 2) add_space();
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t line = 1 + rng() % max_line;
        out.append(text.substr(i, line));
        i += line;
        add_space();
    }
    return out;
}

}  // namespace

using calib64::testing::run_child_case;

TEST_CASE("backend names are serial, work_stealing and pipeline") {
    CHECK(backend_name(backend::serial) == "serial");
    CHECK(backend_name(backend::work_stealing) == "work_stealing");
    CHECK(backend_name(backend::pipeline) == "pipeline");
}

TEST_CASE("threads = 0 plans for the CPUs this process may use") {
    const unsigned cpus = detail::usable_cpus();
    for (const std::size_t size : {std::size_t{1} << 20, std::size_t{8} << 20, std::size_t{48} << 20}) {
        CHECK(encode_chunk_count(size, {}) == encode_chunk_count(size, {cpus, 0}));
        CHECK(decode_chunk_count(size, {}) == decode_chunk_count(size, {cpus, 0}));
    }
}

// The child re-executes this binary limited to one CPU (sched_setaffinity before
// anything reads the CPU count): a parallel backend with threads = 0 must then plan
// one chunk and run serial's work, not oversubscribe the one CPU.
TEST_CASE("child process: limited to one CPU threads = 0 runs serially" * doctest::skip()) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) std::_Exit(4);
    if (detail::usable_cpus() != 1) std::_Exit(5);
    if (encode_chunk_count(8 << 20, {}) != 1 || decode_chunk_count(8 << 20, {}) != 1) std::_Exit(6);
    const std::string data = random_bytes(4 << 20, 40);
    const backend_stats before = backend_statistics(backend::pipeline);
    if (encode_by(backend::pipeline, data, {}, {}) != encode(data, {})) std::_Exit(7);
    const backend_stats after = backend_statistics(backend::pipeline);
    if (after.workers_started != before.workers_started || after.chunks_by_callers != before.chunks_by_callers) std::_Exit(8);
}

TEST_CASE("a process limited to one CPU runs the parallel backends serially by default") {
    CHECK(run_child_case("child process: limited to one CPU threads = 0 runs serially") == 0);
}

TEST_CASE("every backend encodes byte-identically to serial around every chunk boundary") {
    const std::string input = random_bytes(6 * 3000 + 8, 11);
    for (const std::size_t chunk : {3u, 12u, 48u, 3000u}) {
        for (const std::size_t size : sizes_around(chunk, chunk == 3000 ? 6 : 9)) {
            const std::string_view in(input.data(), size);
            for (const auto alpha : {alphabet::standard, alphabet::url}) {
                for (const bool pad : {true, false}) {
                    const encode_options o{alpha, pad};
                    const std::string want = encode(in, o);
                    for (const backend b : all_backends) {
                        for (unsigned threads = 1; threads <= 8; ++threads) {
                            INFO(backend_name(b), " chunk ", chunk, " size ", size, " threads ", threads, " pad ", pad);
                            REQUIRE(encode_by(b, in, o, {threads, chunk}) == want);
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("every backend encodes megabytes byte-identically to serial with default and odd chunk sizes") {
    const std::string input = random_bytes(3 * 1024 * 1024 + 7, 12);
    for (const std::size_t size : {std::size_t{64 * 1024 - 1}, std::size_t{64 * 1024}, std::size_t{64 * 1024 + 1},
                                   std::size_t{128 * 1024 + 1}, std::size_t{1024 * 1024}, input.size()}) {
        const std::string_view in(input.data(), size);
        for (const bool pad : {true, false}) {
            const encode_options o{alphabet::standard, pad};
            const std::string want = encode(in, o);
            for (const backend b : parallel_backends) {
                for (unsigned threads = 0; threads <= 8; threads += 2) {
                    for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{100'000}}) {
                        INFO(backend_name(b), " size ", size, " threads ", threads, " chunk ", chunk);
                        REQUIRE(encode_by(b, in, o, {threads, chunk}) == want);
                    }
                }
            }
        }
    }
}

TEST_CASE("every backend decodes byte-identically to serial around every chunk boundary") {
    const std::string input = random_bytes(6 * 3000, 13);
    for (const auto alpha : {alphabet::standard, alphabet::url}) {
        for (const bool pad : {true, false}) {
            const std::string text = encode(input, {alpha, pad});
            for (const std::size_t chunk : {4u, 16u, 64u, 4000u}) {
                for (const std::size_t size : sizes_around(chunk, chunk == 4000 ? 6 : 9)) {
                    // A prefix of whole input bytes, so every size is a valid encoding.
                    const std::size_t bytes = std::min(input.size(), size * 3 / 4);
                    const std::string_view in = std::string_view(text).substr(0, encoded_length(bytes, pad));
                    for (const padding p : {padding_for(pad), padding::optional}) {
                        const decode_options o{alpha, p};
                        for (const backend b : parallel_backends)
                            for (unsigned threads = 1; threads <= 8; ++threads)
                                require_decode_matches_serial(b, in, o, {threads, chunk}, max_decoded_length(in.size()));
                    }
                }
            }
        }
    }
}

TEST_CASE("every backend decodes megabytes byte-identically to serial") {
    const std::string input = random_bytes(3 * 1024 * 1024 + 2, 14);
    for (const bool pad : {true, false}) {
        const std::string text = encode(input, {alphabet::url, pad});
        const decode_options o{alphabet::url, padding::optional};
        for (const backend b : parallel_backends) {
            for (unsigned threads = 0; threads <= 8; threads += 4) {
                for (const std::size_t chunk : {std::size_t{0}, std::size_t{5}, std::size_t{262'147}}) {
                    std::string out(input.size(), '\0');
                    const decode_result r =
                        decode_with(b, text, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, o, {threads, chunk});
                    INFO(backend_name(b), " threads ", threads, " chunk ", chunk);
                    REQUIRE(r.ok());
                    REQUIRE(r.written == input.size());
                    REQUIRE(out == input);
                }
            }
        }
    }
}

TEST_CASE("decode errors anywhere give exactly serial's status, offset and written") {
    const std::string text = encode(random_bytes(30 * 3, 15), {});  // 120 characters, 7.5 chunks of 16
    const std::string bad_chars = std::string("!=*\n ") + '\0' + "-";
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        for (const char bad : bad_chars) {
            std::string in = text;
            in[pos] = bad;
            for (const padding p : {padding::required, padding::forbidden, padding::optional}) {
                for (const backend b : parallel_backends)
                    for (const unsigned threads : {2u, 3u})
                        require_decode_matches_serial(b, in, {alphabet::standard, p}, {threads, 16}, 200);
            }
        }
    }
}

TEST_CASE("padding inside a middle chunk is bad padding, as in serial") {
    // "QQ==" closes the first chunk of 16 characters: fine alone, wrong mid-input.
    const std::string in = "QUJDREVGR0hJSkQQ==" + encode(random_bytes(60, 16), {});
    const std::string exact_edge = "QUJDREVGR0hJSkQQ" "QQ==" + encode(random_bytes(60, 17), {});
    for (const std::string& text : {in, exact_edge, std::string("QQ==QQ==QQ==QQ==QQ==")}) {
        for (const padding p : {padding::required, padding::optional, padding::forbidden})
            for (const backend b : parallel_backends)
                for (const std::size_t chunk : {4u, 8u, 16u})
                    require_decode_matches_serial(b, text, {alphabet::standard, p}, {2, chunk}, 200);
    }
}

TEST_CASE("truncated input and non-canonical trailing bits are reported like serial") {
    const std::string base = encode(random_bytes(100, 18), {});  // ends in "==": 1 byte in the last quantum
    for (std::size_t cut = 0; cut <= 8; ++cut) {
        const std::string in = base.substr(0, base.size() - cut);
        for (const padding p : {padding::required, padding::optional, padding::forbidden})
            for (const backend b : parallel_backends) require_decode_matches_serial(b, in, {alphabet::standard, p}, {2, 8}, 200);
    }
    std::string noncanonical = base;
    noncanonical[noncanonical.size() - 3] = 'B';  // "xB==": unused bits set
    for (const backend b : parallel_backends) require_decode_matches_serial(b, noncanonical, {}, {3, 12}, 200);
}

TEST_CASE("a too-small output buffer is reported like serial, in every decode mode") {
    const std::string data = random_bytes(3000, 19);
    const std::string text = encode(data, {});
    std::mt19937_64 rng(20);
    const std::string wrapped = wrap_randomly(text, rng, 60);
    for (const std::size_t out_size : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, data.size() - 1, data.size(),
                                       data.size() + 1}) {
        for (const ignore skip : {ignore::none, ignore::whitespace, ignore::non_alphabet}) {
            const std::string& in = skip == ignore::none ? text : wrapped;
            for (const backend b : parallel_backends)
                require_decode_matches_serial(b, in, {alphabet::standard, padding::required, skip}, {2, 64}, out_size);
        }
    }
    for (const backend b : all_backends) {
        std::string out(10, '\0');
        const encode_result r = encode_with(b, as_bytes(data), out, {}, {2, 300});
        CHECK(r.code == status::output_too_small);
        CHECK(r.written == 0);
    }
}

TEST_CASE("an unavailable kernel is reported like serial") {
    for (const kernel_id k : {kernel_id::avx2, kernel_id::avx512, kernel_id::neon}) {
        if (kernel_available(k)) continue;
        const std::string data = random_bytes(1000, 21);
        const std::string text = encode(data, {});
        for (const backend b : all_backends) {
            std::string out(2000, '\0');
            const encode_result e = encode_with(b, as_bytes(data), out, {alphabet::standard, true, k}, {2, 30});
            CHECK(e.code == status::kernel_unavailable);
            require_decode_matches_serial(b, text, {alphabet::standard, padding::required, ignore::none, k}, {2, 32}, 2000);
            require_decode_matches_serial(b, text, {alphabet::standard, padding::required, ignore::whitespace, k}, {2, 32}, 2000);
        }
    }
}

TEST_CASE("whitespace-skipping decode matches serial on every backend for random wrapping") {
    std::mt19937_64 rng(22);
    for (int round = 0; round < 60; ++round) {
        const std::size_t bytes = rng() % 3 == 0 ? rng() % 40 : rng() % 5000;
        const bool pad = rng() % 2;
        const alphabet alpha = rng() % 2 ? alphabet::standard : alphabet::url;
        const std::string data = random_bytes(bytes, rng());
        const std::string text = wrap_randomly(encode(data, {alpha, pad}), rng, 1 + rng() % 100);
        for (const ignore skip : {ignore::whitespace, ignore::non_alphabet}) {
            const decode_options o{alpha, padding::optional, skip};
            for (const backend b : parallel_backends) {
                for (const std::size_t chunk : {1u, 3u, 5u, 7u, 16u, 61u, 1000u}) {
                    require_decode_matches_serial(b, text, o, {2 + static_cast<unsigned>(chunk % 3), chunk},
                                                  max_decoded_length(text.size()));
                }
            }
            // And the bytes are the original data.
            const decoded got = decode_by(backend::pipeline, text, o, {3, 8}, bytes + 3);
            REQUIRE(got.result.ok());
            REQUIRE(got.bytes == data);
        }
    }
}

TEST_CASE("whitespace right at chunk edges, whitespace-only chunks and a padded quantum split across chunks") {
    const std::string data = random_bytes(47, 23);  // ends in one byte: "xx=="
    const std::string text = encode(data, {});
    for (const std::size_t chunk : {2u, 4u, 8u, 12u}) {
        // Whitespace exactly at each chunk edge, then whole chunks of whitespace.
        std::string at_edges;
        for (std::size_t i = 0; i < text.size(); ++i) {
            at_edges += text[i];
            if ((at_edges.size() + 1) % chunk == 0) at_edges += '\n';
        }
        std::string blank_chunks;
        for (std::size_t i = 0; i < text.size(); i += 3)
            blank_chunks += text.substr(i, 3) + std::string(chunk * (1 + i % 3), ' ');
        std::string split_padding = text.substr(0, text.size() - 2) + std::string(chunk, '\n') + "=" +
                                    std::string(chunk, ' ') + "=" + std::string(2 * chunk + 1, '\r');
        std::string only_space(5 * chunk, ' ');
        for (const std::string& in : {at_edges, blank_chunks, split_padding, only_space, std::string(" ") + text}) {
            for (const ignore skip : {ignore::whitespace, ignore::non_alphabet})
                for (const padding p : {padding::required, padding::optional})
                    for (const backend b : parallel_backends)
                        for (const unsigned threads : {2u, 5u})
                            require_decode_matches_serial(b, in, {alphabet::standard, p, skip}, {threads, chunk}, 100);
        }
    }
}

TEST_CASE("whitespace-skipping decode errors give serial's status, offset and written on every backend") {
    std::mt19937_64 rng(24);
    const std::string data = random_bytes(300, 25);
    const std::string text = wrap_randomly(encode(data, {}), rng, 30);
    for (std::size_t pos = 0; pos < text.size(); pos += 1 + rng() % 3) {
        for (const char bad : {'!', '=', '\0', 'A', '\n', '-'}) {
            std::string in = text;
            in[pos] = bad;
            for (const ignore skip : {ignore::whitespace, ignore::non_alphabet})
                for (const padding p : {padding::required, padding::forbidden, padding::optional})
                    for (const backend b : parallel_backends)
                        require_decode_matches_serial(b, in, {alphabet::standard, p, skip}, {3, 1 + pos % 40}, 400);
        }
    }
    // Data after the padding, with whitespace between.
    const std::string after_pad = encode(random_bytes(40, 26), {}) + " \n QUJD";
    for (const backend b : parallel_backends)
        require_decode_matches_serial(b, after_pad, {alphabet::standard, padding::optional, ignore::whitespace}, {2, 7}, 100);
}

TEST_CASE("whitespace-skipping decode of megabytes matches serial with default chunks") {
    std::mt19937_64 rng(27);
    const std::string data = random_bytes(2 * 1024 * 1024 + 1, 28);
    std::string text = encode(data, {});
    std::string wrapped;
    for (std::size_t i = 0; i < text.size(); i += 76) wrapped += text.substr(i, 76) + "\r\n";
    for (const backend b : parallel_backends)
        for (const unsigned threads : {0u, 2u, 7u})
            require_decode_matches_serial(b, wrapped, {alphabet::standard, padding::required, ignore::whitespace},
                                          {threads, 0}, data.size());
}

TEST_CASE("32 threads calling each backend at once with mixed sizes all get correct results") {
    const deadlock_guard guard("32-thread stress", 240);
    const std::string data = random_bytes(1536 * 1024, 29);
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (unsigned t = 0; t < 32; ++t) {
        callers.emplace_back([&, t] {
            std::mt19937_64 rng(100 + t);
            for (int call = 0; call < 12; ++call) {
                const backend b = parallel_backends[(t + call) % 2];
                const std::size_t bytes = rng() % 4 == 0 ? rng() % data.size() : rng() % 70'000;
                const parallel_options par{1 + static_cast<unsigned>(rng() % 4),
                                           rng() % 2 ? 0 : 3 * (1 + rng() % 20'000)};
                const std::string_view in(data.data(), bytes);
                std::string out(encoded_length(bytes), '\0');
                if (!encode_with(b, as_bytes(in), out, {}, par).ok() || out != encode(in, {})) ++failures;
                std::string back(bytes, '\0');
                const decode_result r =
                    decode_with(b, out, {reinterpret_cast<std::uint8_t*>(back.data()), back.size()}, {}, par);
                if (!r.ok() || r.written != bytes || back != in) ++failures;
            }
        });
    }
    for (auto& c : callers) c.join();
    CHECK(failures.load() == 0);
}

TEST_CASE("backend calls from inside TBB tasks are correct and do not deadlock") {
    const deadlock_guard guard("calls from TBB tasks", 120);
    const std::string data = random_bytes(300'000, 30);
    const std::string want = encode(data, {});
    std::atomic<int> failures{0};
    // Each task acquires the test's data and releases its results through this
    // atomic: TBB guarantees both, but ThreadSanitizer cannot see inside libtbb.
    std::atomic<int> handoff{0};
    handoff.store(0, std::memory_order_release);
    const auto task = [&](int i) {
        TEST_TSAN_ACQUIRE();
        (void)handoff.load(std::memory_order_acquire);
        const backend b = parallel_backends[i % 2];
        const std::string got = encode_by(b, data, {}, {static_cast<unsigned>(2 + i % 3), 30'000});
        if (got != want) ++failures;
        std::string back(data.size(), '\0');
        const decode_result r =
            decode_with(parallel_backends[(i + 1) % 2], got, {reinterpret_cast<std::uint8_t*>(back.data()), back.size()},
                        {}, {2, 40'000});
        if (!r.ok() || back != data) ++failures;
        handoff.fetch_add(1, std::memory_order_acq_rel);
    };
    TEST_TSAN_RELEASE();  // after the closure is built: tasks read it
    tbb::parallel_for(0, 16, task);
    CHECK(handoff.load(std::memory_order_acquire) == 16);
    CHECK(failures.load() == 0);
}

namespace {
struct nested_call_context {
    const std::string* data;
    const std::string* want;
    std::atomic<int>* failures;
    std::atomic<int>* inline_on_pool;
};

void nested_call_chunk(const void* context, std::size_t index) noexcept {
    const auto& c = *static_cast<const nested_call_context*>(context);
    // Inside a pool chunk, a pipeline call must be answered inline, not queued.
    if (detail::pipeline_must_run_inline()) ++*c.inline_on_pool;
    const backend b = parallel_backends[index % 2];
    std::string out(c.want->size(), '\0');
    if (!encode_with(b, as_bytes(*c.data), out, {}, {3, 9'000}).ok() || out != *c.want) ++*c.failures;
}
}  // namespace

TEST_CASE("backend calls from pipeline workers run inline, correctly, without deadlock") {
    const deadlock_guard guard("calls from pipeline workers", 120);
    const std::string data = random_bytes(100'000, 31);
    const std::string want = encode(data, {});
    std::atomic<int> failures{0};
    std::atomic<int> inline_on_pool{0};
    const nested_call_context context{&data, &want, &failures, &inline_on_pool};
    for (const unsigned threads : {2u, 3u, 4u})
        detail::run_in_pool({&nested_call_chunk, &context, 24}, threads, false);
    CHECK(failures.load() == 0);
    CHECK(inline_on_pool.load() == 3 * 24);
}

TEST_CASE("pipeline workers are created once per thread count and reused across calls") {
    const std::string data = random_bytes(600'000, 32);
    const std::string want = encode(data, {});
    REQUIRE(encode_by(backend::pipeline, data, {}, {5, 60'000}) == want);  // the 5-thread pool exists now
    const backend_stats before = backend_statistics(backend::pipeline);
    for (int i = 0; i < 20; ++i) REQUIRE(encode_by(backend::pipeline, data, {}, {5, 60'000}) == want);
    const backend_stats after = backend_statistics(backend::pipeline);
    CHECK(after.workers_started == before.workers_started);
    // Every chunk ran exactly once, by a worker or by the caller (10 chunks a call).
    const auto chunks = (after.chunks_by_workers - before.chunks_by_workers) +
                        (after.chunks_by_callers - before.chunks_by_callers);
    CHECK(chunks == 20 * 10);
}

TEST_CASE("work_stealing arenas are created once per thread count and reused") {
    const std::string data = random_bytes(200'000, 33);
    const std::string want = encode(data, {});
    REQUIRE(encode_by(backend::work_stealing, data, {}, {6, 30'000}) == want);
    const auto before = backend_statistics(backend::work_stealing).executors_created;
    for (int i = 0; i < 20; ++i) REQUIRE(encode_by(backend::work_stealing, data, {}, {6, 30'000}) == want);
    CHECK(backend_statistics(backend::work_stealing).executors_created == before);
}

namespace {
// Chunks that wait (at most 20 s) until the pool's queue has overflowed, so tickets
// pile up; each records that it ran.
struct gated_job {
    std::uint64_t full_before;
    std::vector<std::atomic<int>> ran;
    explicit gated_job(std::size_t chunks)
        : full_before(backend_statistics(backend::pipeline).queue_full), ran(chunks) {}
    static void chunk(const void* context, std::size_t index) noexcept {
        auto& job = *static_cast<gated_job*>(const_cast<void*>(context));
        for (int ms = 0; ms < 20'000 && backend_statistics(backend::pipeline).queue_full == job.full_before; ++ms)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        job.ran[index].fetch_add(1);
    }
};
}  // namespace

TEST_CASE("when the queue is full the pipeline caller queues fewer tickets and every chunk still runs once") {
    const deadlock_guard guard("queue-full pipeline calls", 120);
    // Two callers of 8 threads want 7 tickets each; 7 workers hold one each (blocked
    // in a chunk) and the queue holds 2, so at least 5 pushes must fail.
    detail::worker_pool pool(false, 2);
    gated_job a(64), b(64);
    std::thread other([&] { pool.run({&gated_job::chunk, &b, 64}, 8); });
    pool.run({&gated_job::chunk, &a, 64}, 8);
    other.join();
    CHECK(backend_statistics(backend::pipeline).queue_full > a.full_before);
    for (const gated_job* job : {&a, &b})
        for (const auto& r : job->ran) CHECK(r.load() == 1);
    CHECK(pool.workers() == 7);
}

TEST_CASE("pipeline pools stay bounded: one per pinning, grown to the largest thread count asked for") {
    // Every thread count from 2 to 64, pinned and not, each with enough chunks to
    // want all its threads: one pool per thread count would start 2 * 2016 threads.
    const std::string data = random_bytes(64 * 3000, 45);
    const std::string want = encode(data, {});
    const backend_stats before = backend_statistics(backend::pipeline);
    const std::size_t tasks_before = std::distance(std::filesystem::directory_iterator("/proc/self/task"), {});
    for (const bool pin : {false, true})
        for (unsigned threads = 2; threads <= 64; ++threads) REQUIRE(encode_by(backend::pipeline, data, {}, {threads, 3000, pin}) == want);
    const backend_stats after = backend_statistics(backend::pipeline);
    CHECK(after.workers_started - before.workers_started <= 2 * 63);
    CHECK(after.executors_created <= 2);
    const std::size_t tasks_after = std::distance(std::filesystem::directory_iterator("/proc/self/task"), {});
    CHECK(tasks_after <= tasks_before + 2 * 63);
    // Asking again, for any count up to the largest, starts nothing.
    for (const bool pin : {false, true})
        for (unsigned threads = 2; threads <= 64; threads += 7) REQUIRE(encode_by(backend::pipeline, data, {}, {threads, 3000, pin}) == want);
    CHECK(backend_statistics(backend::pipeline).workers_started == after.workers_started);
}

TEST_CASE("a pipeline call for t threads lets at most t - 1 workers of a larger pool join it") {
    detail::worker_pool pool(false);
    struct seen_threads {
        std::mutex mutex;
        std::vector<std::thread::id> ids;
        static void chunk(const void* context, std::size_t) noexcept {
            auto& s = *static_cast<seen_threads*>(const_cast<void*>(context));
            std::this_thread::sleep_for(std::chrono::milliseconds(1));  // long enough that every helper takes some
            const std::lock_guard lock(s.mutex);
            if (std::find(s.ids.begin(), s.ids.end(), std::this_thread::get_id()) == s.ids.end())
                s.ids.push_back(std::this_thread::get_id());
        }
    };
    seen_threads big;
    pool.run({&seen_threads::chunk, &big, 64}, 9);  // grows the pool to 8 workers
    REQUIRE(pool.workers() == 8);
    for (const unsigned threads : {2u, 3u}) {
        seen_threads small;
        pool.run({&seen_threads::chunk, &small, 64}, threads);
        CHECK(small.ids.size() <= threads);  // the caller and at most threads - 1 workers
    }
}

TEST_CASE("pinned pipeline workers produce the same bytes") {
    const std::string data = random_bytes(500'000, 35);
    const std::string text = encode(data, {});
    for (const unsigned threads : {2u, 3u}) {
        CHECK(encode_by(backend::pipeline, data, {}, {threads, 30'000, true}) == text);
        require_decode_matches_serial(backend::pipeline, text, {}, {threads, 40'000, true}, data.size());
    }
}

namespace {
// CPUs in the affinity mask of every pool worker that ran a chunk of a job of 64
// slow chunks (the caller's own chunks are not counted).
std::vector<int> worker_affinity_sizes(unsigned threads, bool pin) {
    struct context {
        std::thread::id caller = std::this_thread::get_id();
        std::mutex mutex;
        std::vector<int> sizes;
    } ctx;
    detail::chunk_job_spec job;
    job.count = 64;
    job.context = &ctx;
    job.run = [](const void* c, std::size_t) noexcept {
        auto& x = *static_cast<context*>(const_cast<void*>(c));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // long enough that workers take chunks
        if (std::this_thread::get_id() == x.caller) return;
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) != 0) return;
        const std::lock_guard lock(x.mutex);
        x.sizes.push_back(CPU_COUNT(&set));
    };
    detail::run_in_pool(job, threads, pin);
    return ctx.sizes;
}
}  // namespace

TEST_CASE("pinned pipeline workers run on one CPU each; unpinned ones may use all") {
    const std::vector<int> pinned = worker_affinity_sizes(2, true);
    REQUIRE_FALSE(pinned.empty());
    for (const int n : pinned) CHECK(n == 1);
    const std::vector<int> free = worker_affinity_sizes(2, false);
    REQUIRE_FALSE(free.empty());
    for (const int n : free) CHECK(n == static_cast<int>(detail::probe_cpu_limits().allowed_cpus));
}

// ---------------------------------------------------------------- process exit
// The parent runs this binary again with only the child test case below; the child
// starts every pool, leaves them idle and returns from main. It must exit 0,
// promptly: static destructors stop and join the pool, and a static object whose
// destructor runs after the pools are gone still gets correct (inline) results.

namespace {
struct uses_backends_after_pools_are_gone {
    ~uses_backends_after_pools_are_gone() {
        const std::string data = random_bytes(200'000, 36);
        const std::string want = encode(data, {});
        for (const backend b : parallel_backends) {
            std::string out(want.size(), '\0');
            if (!encode_with(b, as_bytes(data), out, {}, {3, 30'000}).ok() || out != want) std::_Exit(3);
        }
    }
};
}  // namespace

TEST_CASE("child process: start every pool and exit" * doctest::skip()) {
    // Constructed before the pools, so destroyed after them.
    static uses_backends_after_pools_are_gone late_user;
    const std::string data = random_bytes(400'000, 37);
    const std::string want = encode(data, {});
    for (const backend b : parallel_backends)
        for (const unsigned threads : {2u, 4u})
            for (const bool pin : {false, true}) REQUIRE(encode_by(b, data, {}, {threads, 30'000, pin}) == want);
}

TEST_CASE("the pools start and shut down cleanly at program exit") {
    CHECK(run_child_case("child process: start every pool and exit") == 0);
}


TEST_CASE("inputs that fit in one default chunk (64 KiB) run serially inside the parallel backends") {
    const std::string data = random_bytes(64 * 1024, 38);
    const std::string text = encode(data, {});
    const backend_stats before = backend_statistics(backend::pipeline);
    CHECK(encode_by(backend::pipeline, data, {}, {2, 0}) == text);
    CHECK(encode_by(backend::pipeline, data.substr(0, 1000), {}, {8, 0}) == encode(data.substr(0, 1000), {}));
    require_decode_matches_serial(backend::pipeline, text.substr(0, 64 * 1024), {}, {2, 0}, data.size());
    const backend_stats after = backend_statistics(backend::pipeline);
    CHECK(after.chunks_by_callers == before.chunks_by_callers);
    CHECK(after.chunks_by_workers == before.chunks_by_workers);
    // A few bytes more than a chunk (64 KiB rounded up to a multiple of 3) is two chunks.
    CHECK(encode_by(backend::pipeline, data + "xyz", {}, {2, 0}) == encode(data + "xyz", {}));
    const backend_stats split = backend_statistics(backend::pipeline);
    CHECK(split.chunks_by_callers + split.chunks_by_workers ==
          after.chunks_by_callers + after.chunks_by_workers + 2);
}

TEST_CASE("the chunk count a parallel backend will use is queryable and agrees with what it runs") {
    // Default chunks: 64 KiB rounded up to a whole quantum, or size / (threads * 4).
    CHECK(encode_chunk_count(0, {2, 0}) <= 1);
    CHECK(encode_chunk_count(64 * 1024, {2, 0}) == 1);
    CHECK(encode_chunk_count(64 * 1024 + 3, {2, 0}) == 2);
    CHECK(decode_chunk_count(64 * 1024, {2, 0}) == 1);
    CHECK(decode_chunk_count(64 * 1024 + 4, {2, 0}) == 2);
    CHECK(encode_chunk_count(8 << 20, {2, 0}) == 8);  // four chunks per thread
    CHECK(encode_chunk_count(3000, {2, 999}) == 4);   // the caller's chunk size (a multiple of 3)
    CHECK(decode_chunk_count(3000, {2, 1000}) == 3);
    CHECK(encode_chunk_count(8 << 20, {1, 0}) == 1);  // one thread: serial
    // What the pipeline actually ran for an input of three chunks.
    const std::string data = random_bytes(3 * 999, 39);
    const backend_stats before = backend_statistics(backend::pipeline);
    CHECK(encode_by(backend::pipeline, data, {}, {2, 999}) == encode(data, {}));
    const backend_stats after = backend_statistics(backend::pipeline);
    CHECK(after.chunks_by_callers + after.chunks_by_workers -
              (before.chunks_by_callers + before.chunks_by_workers) ==
          encode_chunk_count(data.size(), {2, 999}));
}

// ---------------------------------------------------------------- sizes that lie
// A span that claims more bytes than its encoding could count (encoded_length
// would wrap to a small number) must be refused before a byte is read: here the
// real buffers end at a PROT_NONE page, so any read or write past them crashes.

namespace {
struct guarded_page {
    char* base = nullptr;
    std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    guarded_page() {
        void* p = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        base = static_cast<char*>(p);
        REQUIRE(::mprotect(base + page, page, PROT_NONE) == 0);
    }
    ~guarded_page() { ::munmap(base, 2 * page); }
    // The last `n` bytes before the guard.
    [[nodiscard]] char* last(std::size_t n) const { return base + page - n; }
};
}  // namespace

TEST_CASE("an input whose encoding is longer than SIZE_MAX is refused by encode, every backend and encode_auto, unread") {
    const guarded_page in_page, out_page;
    std::memset(in_page.base, 'x', in_page.page);
    char* out = out_page.last(64);
    std::memset(out, '#', 64);
    const auto* in = reinterpret_cast<const std::uint8_t*>(in_page.last(16));
    for (const std::size_t claimed : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, max_encodable_bytes + 1,
                                      max_encodable_bytes + 3}) {
        CAPTURE(claimed);
        for (const bool pad : {true, false}) {
            const encode_options o{alphabet::standard, pad, kernel_id::automatic};
            const std::span<const std::uint8_t> lie(in, claimed);
            CHECK(encode(lie, {out, 64}, o).code == status::output_too_small);
            for (const backend b : all_backends) CHECK(encode_with(b, lie, {out, 64}, o, {2, 0}).code == status::output_too_small);
            CHECK(encode_auto(lie, {out, 64}, o).code == status::output_too_small);
            // Also against an output span that lies as much as the input: no length fits.
            CHECK(encode(lie, {out, SIZE_MAX}, o).code == status::output_too_small);
            CHECK(encode_with(backend::work_stealing, lie, {out, SIZE_MAX}, o, {2, 0}).code == status::output_too_small);
        }
    }
    CHECK(std::string(out, 64) == std::string(64, '#'));
    CHECK_THROWS_AS((void)encode(std::string_view(in_page.last(16), SIZE_MAX - 1), {}), std::length_error);
}

// ---------------------------------------------------------------- fork
// fork() copies only the calling thread. A child forked while other threads are
// inside encode_with(work_stealing / pipeline) inherits TBB's scheduler state and
// the pool's queue mid-use, but none of their threads: it must still get correct
// results, promptly, from every backend (it runs them serially).

namespace {
// What a forked child does: every backend, 2 and 4 threads (4: an arena and a pool
// size its parent never made), encode and decode, into buffers made before the fork.
// Its exit status: 0, or what went wrong.
int use_every_backend_in_child(const std::string& data, const std::string& text, std::string& out, std::string& back) {
    for (const backend b : all_backends)
        for (const unsigned threads : {2u, 4u}) {
            if (!encode_with(b, as_bytes(data), out, {}, {threads, 0}).ok() || out != text) return 2;
            const decode_result r =
                decode_with(b, text, {reinterpret_cast<std::uint8_t*>(back.data()), back.size()}, {}, {threads, 0});
            if (!r.ok() || r.written != data.size() || back != data) return 3;
        }
    return 0;
}

// How `children` ended: hung (still running after 60 s, then killed) or failed.
std::pair<int, int> wait_for_children(const std::vector<pid_t>& children) {
    int hung = 0, failed = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (const pid_t pid : children) {
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (r == 0) {
            ++hung;
            ::kill(pid, SIGKILL);
            (void)::waitpid(pid, &status, 0);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            ++failed;
        }
    }
    return {hung, failed};
}
}  // namespace

TEST_CASE("children forked while other threads are inside both parallel backends can use every backend") {
    constexpr int forks = 50;
    const std::string data = random_bytes(4 << 20, 50);
    const std::string text = encode(data, {});
    // Everything a child touches exists before the fork: the child only calls
    // calib64 and compares, then _exits.
    std::string out(text.size(), '\0');
    std::string back(data.size(), '\0');
    std::atomic<bool> stop{false};
    std::atomic<int> parent_failures{0};
    std::atomic<int> calls{0};
    std::vector<std::string> buffers(4, std::string(text.size(), '\0'));
    std::vector<std::thread> busy;
    for (const backend b : parallel_backends)
        for (const unsigned threads : {2u, 3u})
            busy.emplace_back([&, b, threads, &mine = buffers[busy.size()]] {
                while (!stop.load(std::memory_order_relaxed)) {
                    if (!encode_with(b, as_bytes(data), mine, {}, {threads, 0}).ok() || mine != text) ++parent_failures;
                    calls.fetch_add(1);
                }
            });
#if defined(__SANITIZE_ADDRESS__)
    // GCC 12's ASan allocator is not fork-safe: a child forked while the executors
    // are being created (allocating) can hang in malloc. Fork once they exist.
    while (calls.load() < 8) std::this_thread::yield();
#endif
    std::vector<pid_t> children;
    for (int k = 0; k < forks; ++k) {
        std::this_thread::sleep_for(std::chrono::microseconds(300 * (k % 7)));  // fork at varied moments
        const pid_t pid = ::fork();
        // The child ends with _exit(), as POSIX asks of a child of a multithreaded
        // process (exit() would also run oneTBB's own destructors: see the next test).
        if (pid == 0) ::_exit(use_every_backend_in_child(data, text, out, back));
        REQUIRE(pid > 0);
        children.push_back(pid);
    }
    stop.store(true);
    for (std::thread& t : busy) t.join();
    // A child needs well under a second; one still running after 60 s is hung.
    const auto [hung, failed] = wait_for_children(children);
    CHECK(parent_failures.load() == 0);
    CHECK(hung == 0);
    CHECK(failed == 0);
}

// exit() in a forked child runs every static destructor: calib64's must neither join
// the inherited pool's workers (they do not exist there; the join would never
// return) nor free what the parent's threads may be using. The parent here is a
// fresh process that never started TBB (only the pipeline is busy), because exit()
// also runs oneTBB's own library destructors, which can wait forever on a lock that
// one of TBB's threads held at the fork (about 1 child in 100 in the test above
// when it used exit()); docs/backends.md says to end such a child with _exit().
TEST_CASE("child process: pipeline busy while children fork and end with exit" * doctest::skip()) {
    const std::string data = random_bytes(2 << 20, 51);
    const std::string text = encode(data, {});
    std::string out(text.size(), '\0'), back(data.size(), '\0');
    std::vector<std::string> buffers(2, std::string(text.size(), '\0'));
    std::atomic<bool> stop{false};
    std::atomic<int> calls{0};
    std::vector<std::thread> busy;
    for (std::string& mine : buffers)
        busy.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (!encode_with(backend::pipeline, as_bytes(data), mine, {}, {3, 0}).ok() || mine != text) std::_Exit(10);
                calls.fetch_add(1);
            }
        });
#if defined(__SANITIZE_ADDRESS__)
    // GCC 12's ASan allocator is not fork-safe: a child forked while the pool is
    // being created (allocating) can hang in malloc. Fork once the calls allocate
    // nothing, i.e. after the first ones.
    while (calls.load() < 4) std::this_thread::yield();
#endif
    std::vector<pid_t> children;
    for (int k = 0; k < 20; ++k) {
        std::this_thread::sleep_for(std::chrono::microseconds(500 * (k % 5)));
        std::fflush(nullptr);  // nothing buffered for the children to write twice
        const pid_t pid = ::fork();
        if (pid == 0) std::exit(use_every_backend_in_child(data, text, out, back));
        if (pid < 0) std::_Exit(11);
        children.push_back(pid);
    }
    stop.store(true);
    for (std::thread& t : busy) t.join();
    const auto [hung, failed] = wait_for_children(children);
    if (hung != 0) std::_Exit(12);
    if (failed != 0) std::_Exit(13);
}

TEST_CASE("a forked child that ends with exit() does not hang in calib64's static destructors") {
    CHECK(run_child_case("child process: pipeline busy while children fork and end with exit", 120) == 0);
}
