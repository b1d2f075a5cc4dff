// pipeline: a persistent pool of workers fed through a lock-free MPMC queue.
//
// One pool per (thread count, pinning): `threads - 1` workers plus the calling
// thread, created on first use and kept until the process exits. A call pushes a
// descriptor {job, chunk index} per chunk into the pool's preallocated
// boost::lockfree::queue with bounded_push (never allocates); when the queue is
// full the caller runs that chunk itself. The caller then works too: it runs chunk
// 0 and pops descriptors until its job is done, and only then sleeps.
//
// Sleeping and waking use std::atomic wait/notify (futex), never locks and never
// spinning beyond what the library does before it sleeps:
//  - idle workers wait on `work_epoch_`; a producer bumps it after pushing and
//    notifies only when someone sleeps (sleepers_ is checked after the bump, both
//    seq_cst, so a worker about to sleep either sees the new epoch or is counted);
//  - a caller waits on a completion slot owned by the pool, not on its job: the
//    worker that finishes a job's last chunk must not touch the job afterwards
//    (the caller may already have returned and freed it), so it bumps and
//    notifies the slot, which lives as long as the pool.
//
// Re-entrancy: a call from a pool worker, or from inside a chunk run by a caller,
// runs inline (serially) instead of queueing behind itself.
//
// Shutdown: the registry is a function-local static; its destructor (at exit)
// stops and joins every worker after the queue drains. Afterwards a flag with
// trivial destruction makes later calls (other static destructors) run inline.
// fork: a forked child has none of the workers; it runs inline and never joins them.
#include <hwloc.h>

#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "lazy_slots.h"
#include "parallel.h"
#include "platform/cpus.h"

namespace calib64::detail {
namespace {

constinit std::atomic<bool> pools_destroyed{false};
// Set for the life of a pool worker thread.
constinit thread_local bool this_thread_is_worker = false;
// How many chunks this thread is running right now (callers run chunks too).
constinit thread_local unsigned chunks_running_here = 0;

struct job_state;

// A queue element: trivially copyable, as boost::lockfree::queue requires.
struct chunk_task {
    job_state* job;
    std::size_t index;
};

struct alignas(64) completion_slot {
    std::atomic<std::uint32_t> epoch{0};
};

struct job_state {
    chunk_job_spec spec;
    std::atomic<std::size_t> remaining;
    completion_slot* slot;
};

// Binds the calling thread to one PU of the index-th core (mod their count) among
// those this process may use. Best effort: on any failure the thread stays unpinned.
void pin_this_thread(unsigned index) noexcept {
    const hwloc_topology_t topo = machine_topology();
    if (topo == nullptr) return;
    const hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topo);
    const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    unsigned usable = 0;
    for (int i = 0; i < cores; ++i)
        usable += hwloc_bitmap_intersects(hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i))->cpuset, allowed);
    if (usable == 0) return;
    unsigned wanted = index % usable;
    for (int i = 0; i < cores; ++i) {
        const hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
        if (!hwloc_bitmap_intersects(core->cpuset, allowed) || wanted-- != 0) continue;
        hwloc_bitmap_t set = hwloc_bitmap_dup(core->cpuset);
        if (set == nullptr) return;
        hwloc_bitmap_and(set, set, allowed);
        hwloc_bitmap_singlify(set);  // one PU of the core, so the thread does not migrate between SMT siblings
        (void)hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
        hwloc_bitmap_free(set);
        return;
    }
}

class worker_pool {
public:
    static constexpr std::size_t queue_capacity = 4096;  // descriptors; fixed, preallocated

    worker_pool(unsigned workers, bool pin) : queue_(queue_capacity) {
        threads_.reserve(workers);
        try {
            for (unsigned i = 0; i < workers; ++i) {
                // Workers take cores 1, 2, ...: the caller usually runs on one of its own.
                threads_.emplace_back([this, i, pin] {
                    if (pin) pin_this_thread(i + 1);
                    work();
                });
                count_worker_started(backend::pipeline);
            }
        } catch (...) {
            stop_and_join();  // the threads already started must not outlive a failed pool
            throw;
        }
    }
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    ~worker_pool() { stop_and_join(); }

    void run(const chunk_job_spec& spec) noexcept {
        thread_local const unsigned my_slot = next_slot_.fetch_add(1, std::memory_order_relaxed) % slots_.size();
        job_state job{spec, {spec.count}, &slots_[my_slot]};
        bool woke = false;
        for (std::size_t i = 1; i < spec.count; ++i) {
            if (queue_.bounded_push(chunk_task{&job, i})) continue;
            // Full: get the workers going on what is queued, and help.
            if (!woke) wake_workers(), woke = true;
            count_queue_full(backend::pipeline);
            run_task({&job, i}, false);
        }
        wake_workers();
        run_task({&job, 0}, false);
        // Help until our job is done: run whatever is queued (ours or another
        // caller's); sleep only when there is nothing left to take.
        for (;;) {
            if (job.remaining.load(std::memory_order_acquire) == 0) return;
            chunk_task t;
            if (queue_.pop(t)) {
                run_task(t, false);
                continue;
            }
            const std::uint32_t seen = job.slot->epoch.load(std::memory_order_acquire);
            if (job.remaining.load(std::memory_order_acquire) == 0) return;
            job.slot->epoch.wait(seen, std::memory_order_acquire);
        }
    }

private:
    static void run_task(chunk_task t, bool by_worker) noexcept {
        job_state& job = *t.job;
        completion_slot* slot = job.slot;  // read before our decrement may free the job
        ++chunks_running_here;
        job.spec.run(job.spec.context, t.index);
        --chunks_running_here;
        count_chunk(backend::pipeline, by_worker);
        if (job.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            // Last chunk: from here on `job` may be gone; only the slot is touched.
            slot->epoch.fetch_add(1, std::memory_order_release);
            slot->epoch.notify_all();
        }
    }

    void stop_and_join() noexcept {
        stopping_.store(true, std::memory_order_seq_cst);
        work_epoch_.fetch_add(1, std::memory_order_seq_cst);
        work_epoch_.notify_all();
        for (auto& t : threads_) t.join();
    }

    void wake_workers() noexcept {
        work_epoch_.fetch_add(1, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) != 0) work_epoch_.notify_all();
    }

    void work() noexcept {
        this_thread_is_worker = true;
        chunk_task t;
        for (;;) {
            if (queue_.pop(t)) {
                run_task(t, true);
                continue;
            }
            const std::uint32_t seen = work_epoch_.load(std::memory_order_seq_cst);
            if (queue_.pop(t)) {
                run_task(t, true);
                continue;
            }
            if (stopping_.load(std::memory_order_seq_cst)) return;  // queue drained
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            work_epoch_.wait(seen, std::memory_order_seq_cst);
            sleepers_.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    boost::lockfree::queue<chunk_task, boost::lockfree::fixed_sized<true>> queue_;
    alignas(64) std::atomic<std::uint32_t> work_epoch_{0};
    alignas(64) std::atomic<std::uint32_t> sleepers_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<unsigned> next_slot_{0};
    std::array<completion_slot, 16> slots_{};
    std::vector<std::thread> threads_;
};

// Slot threads + (pin ? max_threads + 1 : 0) holds the pool of that shape. Destroyed
// at exit (every worker stopped and joined), after which calls run inline.
struct pool_registry {
    lazy_slots<worker_pool, 2 * (max_threads + 1)> slots;
    ~pool_registry() {
        pools_destroyed.store(true, std::memory_order_release);
        if (in_forked_child()) slots.forget();  // their threads live in the parent
    }

    worker_pool* get(unsigned threads, bool pin) noexcept {
        return slots.get(threads + (pin ? max_threads + 1 : 0), [threads, pin]() -> worker_pool* {
            watch_for_fork();  // before the pool starts any thread
            try {
                auto* p = new worker_pool(threads - 1, pin);
                count_executor_created(backend::pipeline);
                return p;
            } catch (...) {
                return nullptr;  // cannot start threads: the caller runs the chunks itself
            }
        });
    }
};

pool_registry& pools() noexcept {
    static pool_registry registry;
    return registry;
}

}  // namespace

bool pipeline_must_run_inline() noexcept {
    return this_thread_is_worker || chunks_running_here != 0 || pools_destroyed.load(std::memory_order_acquire) ||
           in_forked_child();
}

void run_in_pool(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept {
    worker_pool* pool = pipeline_must_run_inline() || threads < 2 ? nullptr : pools().get(threads, pin_threads);
    if (pool == nullptr) {
        for (std::size_t i = 0; i < job.count; ++i) job.run(job.context, i);
        return;
    }
    pool->run(job);
}

}  // namespace calib64::detail
