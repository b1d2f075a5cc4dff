// Internal: the pipeline backend's worker pool (pipeline.cpp). In this header so
// that tests can build a pool of their own, e.g. with a tiny queue.
#pragma once

#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel.h"

namespace calib64::detail {

// A job being run: its chunks are claimed one index at a time from `next` by the
// caller and by every thread holding one of its runner tickets.
struct pool_job;

// Workers that grow on demand to the largest thread count asked for (and never
// shrink), fed "runner tickets" through a preallocated lock-free queue. A call for
// t threads pushes at most t - 1 tickets, so at most t - 1 workers join its job
// however large the pool has grown; the caller claims chunks too.
class worker_pool {
public:
    static constexpr std::size_t default_queue_capacity = 4096;  // tickets; fixed, preallocated

    explicit worker_pool(bool pin, std::size_t queue_capacity = default_queue_capacity);
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;
    ~worker_pool();  // stops and joins every worker (after the queue drains)

    // Runs every chunk of `spec` with up to `threads` threads (the caller included)
    // and returns when all have run. No allocation, except threads the first time
    // the pool needs more workers.
    void run(const chunk_job_spec& spec, unsigned threads) noexcept;

    [[nodiscard]] unsigned workers() const noexcept { return started_.load(std::memory_order_acquire); }

private:
    struct alignas(64) completion_slot {
        std::atomic<std::uint32_t> epoch{0};
    };
    struct ticket {  // a queue element: trivially copyable, as boost::lockfree::queue requires
        pool_job* job;
    };

    unsigned grow_to(unsigned workers) noexcept;
    static void run_ticket(ticket t, bool by_worker) noexcept;
    void wake(std::size_t tickets) noexcept;
    void work() noexcept;
    void stop_and_join() noexcept;

    boost::lockfree::queue<ticket, boost::lockfree::fixed_sized<true>> queue_;
    alignas(64) std::atomic<std::uint32_t> work_epoch_{0};
    alignas(64) std::atomic<std::uint32_t> sleepers_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<unsigned> started_{0};
    std::atomic<unsigned> next_slot_{0};
    std::array<completion_slot, 16> slots_{};
    const bool pin_;
    std::mutex grow_mutex_;  // guards threads_
    std::vector<std::thread> threads_;

    friend struct pool_job;
};

}  // namespace calib64::detail
