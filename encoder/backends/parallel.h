// Internal: the pieces behind encode_with / decode_with.
//
// A parallel call is planned once (chunk sizes, output offsets: chunk_plan.cpp) and
// then handed to an executor as "run chunk i for every i in [0, count)". The two
// parallel backends differ only in the executor: a cached oneTBB task_arena
// (work_stealing.cpp) or a persistent worker pool fed by a lock-free queue
// (pipeline.cpp). Tests include this header to reach the executors directly.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>

namespace calib64::detail {

// "Run chunk `index`." Must not throw; chunks of one job may run concurrently and
// in any order, on any thread.
struct chunk_job_spec {
    void (*run)(const void* context, std::size_t index) noexcept = nullptr;
    const void* context = nullptr;
    std::size_t count = 0;
};

// Runs every chunk of `job` and returns when all have finished.
using chunk_executor = void (*)(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;

// work_stealing: parallel_for over the chunks inside a task_arena of `threads`
// slots, cached per thread count.
void run_in_arena(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;

// pipeline: the persistent pool for `threads` (the caller plus threads-1 workers),
// created on first use and reused.
void run_in_pool(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;

// True when a pipeline call on this thread must run inline: the thread is a pool
// worker, is already running a pool chunk (nested call), or the pools are gone
// (static destruction at exit has begun).
[[nodiscard]] bool pipeline_must_run_inline() noexcept;
// True when the arenas are gone (static destruction at exit has begun).
[[nodiscard]] bool arenas_gone() noexcept;

// CPUs this process may run on (sched_getaffinity; at least 1). Read once.
[[nodiscard]] unsigned usable_cpus() noexcept;

// The largest thread count the backends honour; larger requests are clamped.
inline constexpr unsigned max_backend_threads = 256;

// Counters behind backend_statistics() (relaxed atomics).
void count_arena_created() noexcept;
void count_pool_worker_started() noexcept;
void count_pool_chunk(bool by_worker) noexcept;
void count_pool_queue_full() noexcept;

// The planners: split, run through `exec`, and fall back to serial whenever
// the serial answer is needed (errors, tiny inputs).
encode_result encode_chunked(chunk_executor exec, std::span<const std::uint8_t> in, std::span<char> out,
                             const encode_options& opts, const parallel_options& par) noexcept;
decode_result decode_chunked(chunk_executor exec, std::string_view in, std::span<std::uint8_t> out,
                             const decode_options& opts, const parallel_options& par) noexcept;

}  // namespace calib64::detail
