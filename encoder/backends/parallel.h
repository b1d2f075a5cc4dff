// Internal: the pieces behind encode_with / decode_with.
//
// A parallel call is planned once (chunk sizes, output offsets: chunk_plan.cpp) and
// then handed to an executor as "run chunk i for every i in [0, count)". The
// parallel backends differ only in their executor (catalog.h names them): a cached
// oneTBB task_arena (work_stealing.cpp) or a persistent worker pool fed by a
// lock-free queue (pipeline.cpp). Tests include this header to reach them directly.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>

#include "../catalog.h"

namespace calib64::detail {

// "Run chunk `index`." Must not throw; chunks of one job may run concurrently and
// in any order, on any thread.
struct chunk_job_spec {
    void (*run)(const void* context, std::size_t index) noexcept = nullptr;
    const void* context = nullptr;
    std::size_t count = 0;
};

// fork() gives the child only the forking thread: TBB's workers and the pool's
// threads stay in the parent, and whatever they held (TBB's locks, a static's
// initialization guard, the pools' mutex) stays held. So once a parallel executor
// is about to be used, a pthread_atfork handler (registered at load) marks every
// child (and its children), which then run the parallel backends serially, touch
// none of that state, and neither join nor free the executors at exit.
// executors_about_to_be_used() must come before the first touch of any of it.
void executors_about_to_be_used() noexcept;
[[nodiscard]] bool in_forked_child() noexcept;

// Counters behind backend_statistics(b) (relaxed atomics).
void count_executor_created(backend b) noexcept;
void count_worker_started(backend b) noexcept;
void count_chunk(backend b, bool by_worker) noexcept;
void count_queue_full(backend b) noexcept;

// The planners: split, run through `exec`, and fall back to serial whenever
// the serial answer is needed (errors, tiny inputs, one thread).
encode_result encode_chunked(chunk_executor exec, std::span<const std::uint8_t> in, std::span<char> out,
                             const encode_options& opts, const parallel_options& par) noexcept;
decode_result decode_chunked(chunk_executor exec, std::string_view in, std::span<std::uint8_t> out,
                             const decode_options& opts, const parallel_options& par) noexcept;

}  // namespace calib64::detail
