// pipeline: a persistent pool of workers fed through a lock-free MPMC queue.
//
// One pool per pinning setting (pinned, unpinned), created on first use, grown to
// the largest thread count asked for and kept until the process exits: at most
// 2 * (max_threads - 1) threads, however many thread counts the callers use. A call
// for t threads lets at most t - 1 workers join it: it pushes that many "runner
// tickets" {job} into the pool's preallocated boost::lockfree::queue with
// bounded_push (never allocates). Whoever pops a ticket claims chunk indices from
// the job's atomic counter until none are left, then retires the ticket. The caller
// claims chunks too, then helps with whatever is queued (its own tickets or another
// caller's) until its tickets are all retired, and only then sleeps. When the queue
// is full the caller pushes no more tickets: fewer helpers, same result.
//
// Sleeping and waking use std::atomic wait/notify (futex), never locks and never
// spinning beyond what the library does before it sleeps:
//  - idle workers wait on `work_epoch_`; a producer bumps it after pushing and
//    wakes one sleeper per ticket (sleepers_ is checked after the bump, both
//    seq_cst, so a worker about to sleep either sees the new epoch or is counted);
//  - a caller waits on a completion slot owned by the pool, not on its job: the
//    thread that retires a job's last ticket must not touch the job afterwards
//    (the caller may already have returned and freed it), so it bumps and
//    notifies the slot, which lives as long as the pool.
//
// Re-entrancy: a call from a pool worker, or from inside a chunk run by a caller,
// runs inline (serially) instead of queueing behind itself.
//
// Shutdown: the registry is a function-local static; its destructor (at exit)
// stops and joins every worker after the queue drains. Afterwards a flag with
// trivial destruction makes later calls (other static destructors) run inline.
// fork: a forked child has none of the workers; it runs inline and leaves the pools alone.
#include <hwloc.h>

#include <algorithm>

#include "lazy_slots.h"
#include "parallel.h"
#include "platform/cpus.h"
#include "worker_pool.h"

namespace calib64::detail {

struct pool_job {
    chunk_job_spec spec;
    std::atomic<std::size_t> next{0};         // the next chunk index to claim
    std::atomic<std::size_t> tickets_out{0};  // tickets pushed and not yet retired
    worker_pool::completion_slot* slot = nullptr;
};

namespace {

constinit std::atomic<bool> pools_destroyed{false};
// Set for the life of a pool worker thread.
constinit thread_local bool this_thread_is_worker = false;
// How many chunks this thread is running right now (callers run chunks too).
constinit thread_local unsigned chunks_running_here = 0;

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

// Claims and runs chunks of `job` until none are left.
void run_claimed_chunks(pool_job& job, bool by_worker) noexcept {
    ++chunks_running_here;
    for (;;) {
        const std::size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
        if (i >= job.spec.count) break;
        job.spec.run(job.spec.context, i);
        count_chunk(backend::pipeline, by_worker);
    }
    --chunks_running_here;
}

}  // namespace

worker_pool::worker_pool(bool pin, std::size_t queue_capacity) : queue_(queue_capacity), pin_(pin) {}

worker_pool::~worker_pool() { stop_and_join(); }

// Starts workers until there are `workers`; returns how many there are (fewer when a
// thread cannot be started: the calls still complete, with less help).
unsigned worker_pool::grow_to(unsigned workers) noexcept {
    const unsigned have = started_.load(std::memory_order_acquire);
    if (have >= workers) return have;
    const std::lock_guard lock(grow_mutex_);
    try {
        threads_.reserve(workers);
        while (threads_.size() < workers) {
            // Workers take cores 1, 2, ...: the caller usually runs on one of its own.
            const auto index = static_cast<unsigned>(threads_.size());
            threads_.emplace_back([this, index] {
                if (pin_) pin_this_thread(index + 1);
                work();
            });
            count_worker_started(backend::pipeline);
            started_.store(static_cast<unsigned>(threads_.size()), std::memory_order_release);
        }
    } catch (...) {
        // Out of memory or threads: keep the workers we have.
    }
    return static_cast<unsigned>(threads_.size());
}

void worker_pool::run(const chunk_job_spec& spec, unsigned threads) noexcept {
    thread_local const unsigned my_slot = next_slot_.fetch_add(1, std::memory_order_relaxed) % slots_.size();
    const unsigned workers = grow_to(threads - 1);
    pool_job job;
    job.spec = spec;
    job.slot = &slots_[my_slot];
    const std::size_t wanted = std::min<std::size_t>({workers, threads - 1, spec.count - 1});
    // Counted before the first push: a worker may retire its ticket at once.
    job.tickets_out.store(wanted, std::memory_order_relaxed);
    std::size_t pushed = 0;
    while (pushed < wanted && queue_.bounded_push(ticket{&job})) ++pushed;
    if (pushed < wanted) {
        count_queue_full(backend::pipeline);
        job.tickets_out.fetch_sub(wanted - pushed, std::memory_order_acq_rel);
    }
    wake(pushed);
    run_claimed_chunks(job, false);
    // Every chunk is claimed; wait until every ticket is retired (its holder done
    // with our chunks and with `job`), helping with whatever is queued meanwhile.
    for (;;) {
        if (job.tickets_out.load(std::memory_order_acquire) == 0) return;
        ticket t;
        if (queue_.pop(t)) {
            run_ticket(t, false);
            continue;
        }
        const std::uint32_t seen = job.slot->epoch.load(std::memory_order_acquire);
        if (job.tickets_out.load(std::memory_order_acquire) == 0) return;
        job.slot->epoch.wait(seen, std::memory_order_acquire);
    }
}

void worker_pool::run_ticket(ticket t, bool by_worker) noexcept {
    pool_job& job = *t.job;
    completion_slot* slot = job.slot;  // read before our retirement may free the job
    run_claimed_chunks(job, by_worker);
    if (job.tickets_out.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The last ticket: from here on `job` may be gone; only the slot is touched.
        slot->epoch.fetch_add(1, std::memory_order_release);
        slot->epoch.notify_all();
    }
}

void worker_pool::wake(std::size_t tickets) noexcept {
    if (tickets == 0) return;
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    // One sleeper per ticket: a grown pool must not wake every worker for a small call.
    const std::size_t asleep = std::min<std::size_t>(sleepers_.load(std::memory_order_seq_cst), tickets);
    for (std::size_t i = 0; i < asleep; ++i) work_epoch_.notify_one();
}

void worker_pool::work() noexcept {
    this_thread_is_worker = true;
    ticket t;
    for (;;) {
        if (queue_.pop(t)) {
            run_ticket(t, true);
            continue;
        }
        const std::uint32_t seen = work_epoch_.load(std::memory_order_seq_cst);
        if (queue_.pop(t)) {
            run_ticket(t, true);
            continue;
        }
        if (stopping_.load(std::memory_order_seq_cst)) return;  // queue drained
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        work_epoch_.wait(seen, std::memory_order_seq_cst);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
}

void worker_pool::stop_and_join() noexcept {
    const std::lock_guard lock(grow_mutex_);
    stopping_.store(true, std::memory_order_seq_cst);
    work_epoch_.fetch_add(1, std::memory_order_seq_cst);
    work_epoch_.notify_all();
    for (auto& t : threads_) t.join();
}

namespace {

// Slot 0: the unpinned pool, slot 1: the pinned one. Destroyed at exit (every worker
// stopped and joined), after which calls run inline.
struct pool_registry {
    lazy_slots<worker_pool, 2> slots;
    ~pool_registry() {
        pools_destroyed.store(true, std::memory_order_release);
        if (in_forked_child()) slots.keep_at_exit();  // copies of pools whose threads live in the parent
    }

    worker_pool* get(bool pin) noexcept {
        return slots.get(pin ? 1 : 0, [pin]() -> worker_pool* {
            try {
                auto* p = new worker_pool(pin);
                count_executor_created(backend::pipeline);
                return p;
            } catch (...) {
                return nullptr;  // out of memory: the caller runs the chunks itself
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
    threads = std::min(threads, max_threads);
    worker_pool* pool = nullptr;
    if (!pipeline_must_run_inline() && threads >= 2 && job.count >= 2) {
        executors_about_to_be_used();  // before the registry's guard and mutex are touched
        pool = pools().get(pin_threads);
    }
    if (pool == nullptr) {
        for (std::size_t i = 0; i < job.count; ++i) job.run(job.context, i);
        return;
    }
    pool->run(job, threads);
}

}  // namespace calib64::detail
