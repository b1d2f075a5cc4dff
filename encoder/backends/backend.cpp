// encode_with / decode_with: the three backends behind one call, and the counters.
//
// serial runs the codec on this thread. work_stealing and pipeline plan chunks
// (chunk_plan.cpp) and run them on a cached TBB arena or on the persistent pool.
// Both answer serially when the input fits in one chunk or one thread is asked for.
#include <sched.h>

#include <atomic>
#include <thread>

#include "parallel.h"

namespace calib64 {
namespace detail {
namespace {

struct backend_counters {
    std::atomic<std::uint64_t> arenas_created{0};
    std::atomic<std::uint64_t> workers_started{0};
    std::atomic<std::uint64_t> chunks_by_workers{0};
    std::atomic<std::uint64_t> chunks_by_callers{0};
    std::atomic<std::uint64_t> queue_full{0};
};
// Trivially destructible: usable from other static destructors at exit.
constinit backend_counters counters;

unsigned probe_usable_cpus() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<unsigned>(n);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? hw : 1;
}

}  // namespace

unsigned usable_cpus() noexcept {
    static const unsigned cpus = probe_usable_cpus();
    return cpus;
}

void count_arena_created() noexcept { counters.arenas_created.fetch_add(1, std::memory_order_relaxed); }
void count_pool_worker_started() noexcept { counters.workers_started.fetch_add(1, std::memory_order_relaxed); }
void count_pool_chunk(bool by_worker) noexcept {
    (by_worker ? counters.chunks_by_workers : counters.chunks_by_callers).fetch_add(1, std::memory_order_relaxed);
}
void count_pool_queue_full() noexcept { counters.queue_full.fetch_add(1, std::memory_order_relaxed); }

}  // namespace detail

std::string_view backend_name(backend b) noexcept {
    switch (b) {
        case backend::serial: return "serial";
        case backend::work_stealing: return "work_stealing";
        case backend::pipeline: return "pipeline";
    }
    return "unknown";
}

encode_result encode_with(backend b, std::span<const std::uint8_t> in, std::span<char> out,
                          const encode_options& opts, const parallel_options& par) noexcept {
    switch (b) {
        case backend::work_stealing:
            if (detail::arenas_gone()) break;
            return detail::encode_chunked(&detail::run_in_arena, in, out, opts, par);
        case backend::pipeline:
            if (detail::pipeline_must_run_inline()) break;
            return detail::encode_chunked(&detail::run_in_pool, in, out, opts, par);
        case backend::serial: break;
    }
    return encode(in, out, opts);
}

decode_result decode_with(backend b, std::string_view in, std::span<std::uint8_t> out,
                          const decode_options& opts, const parallel_options& par) noexcept {
    switch (b) {
        case backend::work_stealing:
            if (detail::arenas_gone()) break;
            return detail::decode_chunked(&detail::run_in_arena, in, out, opts, par);
        case backend::pipeline:
            if (detail::pipeline_must_run_inline()) break;
            return detail::decode_chunked(&detail::run_in_pool, in, out, opts, par);
        case backend::serial: break;
    }
    return decode(in, out, opts);
}

backend_stats backend_statistics() noexcept {
    using detail::counters;
    backend_stats s;
    s.work_stealing_arenas_created = counters.arenas_created.load(std::memory_order_relaxed);
    s.pipeline_workers_started = counters.workers_started.load(std::memory_order_relaxed);
    s.pipeline_chunks_by_workers = counters.chunks_by_workers.load(std::memory_order_relaxed);
    s.pipeline_chunks_by_callers = counters.chunks_by_callers.load(std::memory_order_relaxed);
    s.pipeline_queue_full = counters.queue_full.load(std::memory_order_relaxed);
    return s;
}

}  // namespace calib64
