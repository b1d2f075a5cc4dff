// work_stealing: oneTBB parallel_for over the chunks inside a task_arena.
//
// Creating a task_arena per call costs more than a small call, so arenas are cached
// per thread count for the life of the process: created once under a mutex, then
// found with one atomic load. Nested use (a call from inside a TBB task) is TBB's
// own business: parallel_for inside a task, or execute() of another arena from a
// worker, are both supported and do not deadlock.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>

#include "lazy_slots.h"
#include "parallel.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// When execute() hands our functor to an arena worker, the worker reads the
// functor's captures before it can reach any atomic of ours; tell TSan about the
// happens-before TBB provides there, on an address that needs no capture.
namespace { char tsan_execute_handoff; }
#define CALIB64_TSAN_RELEASE() __tsan_release(&tsan_execute_handoff)
#define CALIB64_TSAN_ACQUIRE() __tsan_acquire(&tsan_execute_handoff)
#else
#define CALIB64_TSAN_RELEASE() ((void)0)
#define CALIB64_TSAN_ACQUIRE() ((void)0)
#endif

namespace calib64::detail {
namespace {

// Trivially destructible, so it stays readable while and after static destructors run.
constinit std::atomic<bool> arenas_destroyed{false};

// Slot t holds the arena of t threads. Destroyed at exit, after which calls run inline.
// Arenas own no threads (TBB's workers are shared and capped by its global limit),
// so one per thread count stays bounded.
struct arena_cache {
    lazy_slots<tbb::task_arena, max_threads + 1> slots;
    ~arena_cache() {
        arenas_destroyed.store(true, std::memory_order_release);
        if (in_forked_child()) slots.keep_at_exit();  // TBB's state here is the parent's: leave it alone
    }

    tbb::task_arena* get(unsigned threads) noexcept {
        return slots.get(threads, [threads]() -> tbb::task_arena* {
            try {
                // One slot is the caller's; TBB fills the rest from its worker threads.
                auto* a = new tbb::task_arena(static_cast<int>(threads));
                a->initialize();
                count_executor_created(backend::work_stealing);
                return a;
            } catch (...) {
                return nullptr;  // out of memory: the caller runs the chunks itself
            }
        });
    }
};

arena_cache& arenas() noexcept {
    static arena_cache cache;
    return cache;
}

void run_all_here(const chunk_job_spec& job) noexcept {
    for (std::size_t i = 0; i < job.count; ++i) job.run(job.context, i);
}

}  // namespace

// Also in a forked child: TBB there is a copy of the parent's, without its threads
// and possibly with its locks held (about 14 of 220 children hung in TBB).
bool arenas_gone() noexcept { return arenas_destroyed.load(std::memory_order_acquire) || in_forked_child(); }

void run_in_arena(const chunk_job_spec& job, unsigned threads, bool /*pin_threads: pipeline only*/) noexcept {
    if (arenas_gone()) return run_all_here(job);
    // Before the first touch of TBB (active_value below initializes it) or the cache.
    executors_about_to_be_used();
    // TBB never runs more threads than its global limit (the hardware threads by
    // default) and warns on stderr when an arena asks for more, so ask for no more.
    const auto limit = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(limit, 1)));
    if (threads < 2) return run_all_here(job);
    tbb::task_arena* arena = arenas().get(threads);
    if (arena == nullptr) return run_all_here(job);
    // Redundant with TBB's own guarantees, but visible to ThreadSanitizer, which
    // cannot see the synchronization inside the uninstrumented libtbb: the caller
    // publishes the job (release) to every chunk (acquire), and every chunk
    // publishes its output (acq_rel) to the caller (acquire after execute). One
    // atomic per chunk of tens of KiB: free.
    std::atomic<std::size_t> handoff{0};
    handoff.store(0, std::memory_order_release);
    // Built before the release below: the worker reads this closure.
    const auto run_chunks = [&] {
        // execute() may run this on an arena worker while the caller waits.
        CALIB64_TSAN_ACQUIRE();
        (void)handoff.load(std::memory_order_acquire);
        // Chunks are already grain-sized: one task per chunk, stolen as needed. The
        // index form, not a blocked_range: the range lives in task memory that the
        // uninstrumented scheduler hands between threads, and reading it here looked
        // like a race to ThreadSanitizer; TBB's own header code reads it now.
        const auto run_one = [&](std::size_t i) {
            // Before this closure's captures are read: it was built on another thread.
            CALIB64_TSAN_ACQUIRE();
            (void)handoff.load(std::memory_order_acquire);
            job.run(job.context, i);
            handoff.fetch_add(1, std::memory_order_acq_rel);
        };
        CALIB64_TSAN_RELEASE();  // publishes run_one to the workers TBB hands it to
        tbb::parallel_for(std::size_t{0}, job.count, run_one, tbb::simple_partitioner());
        handoff.fetch_add(1, std::memory_order_acq_rel);
    };
    CALIB64_TSAN_RELEASE();
    try {
        arena->execute(run_chunks);
        (void)handoff.load(std::memory_order_acquire);
    } catch (...) {
        // Only TBB's own allocation can throw here; chunks are noexcept and
        // idempotent, so running all of them again is correct.
        run_all_here(job);
    }
}

}  // namespace calib64::detail
