// Internal: the stream engine. Every worker (the calling thread and up to
// job::workers - 1 others) runs the same loop: take the read lock and read the next
// block into its own buffers, code it with the lock released, then wait for its
// block's turn and write it. Reading and writing are in input order; coding runs on
// as many workers as hold a block. No queues and no thread that only waits: a worker
// sleeps (futex, no spinning) only for the read lock or its write turn. An input of
// unknown size starts on the calling thread alone; the others start once it proves
// large (plan_growth).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stream/block.h"
#include "stream/block_codec.h"
#include "stream/input.h"
#include "stream/job.h"

namespace calib64::streaming {

class engine {
public:
    explicit engine(job j);
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;
    // Streams in_fd to out_fd (neither is closed) and says how it went.
    stream_result run(int in_fd, int out_fd);

private:
    void work() noexcept;                 // a started worker's whole life
    void work_on(block& b);               // the loop every worker runs
    [[nodiscard]] bool read_next(block& b);
    void write_in_turn(block& b);
    void write_block(block& b);           // the write stage's work, in turn
    void grow();                          // start the other workers (under the read lock)
    void allocate(block& b) const;
    bool write_all(const char* p, std::size_t n);
    void fail_io(stream_failure f, int err, const std::string& what);
    void fail_codec(status code, std::uint64_t offset);

    job job_;
    block_coder coder_;
    int out_fd_ = -1;
    std::atomic<bool> stop_{false};  // a failure: read no more, write no more

    // The read stage.
    std::mutex read_mutex_;
    std::unique_ptr<input_reader> reader_;  // guarded by read_mutex_
    std::atomic<unsigned> running_{1};      // workers started, the calling one included

    // The write stage: the block whose turn it is, and one wake-up per slot (the
    // blocks in flight have consecutive indexes, fewer than the workers, so slot
    // index % workers has one waiter at most).
    std::mutex write_mutex_;
    std::uint64_t write_turn_ = 0;
    std::vector<std::condition_variable> turn_changed_;
    bool closed_ = false;     // RFC 4648 decode: a padded quantum ended; no data may follow
    stream_result result_;    // written in turn only

    std::vector<std::thread> threads_;  // started by grow() or run(), joined by run()
};

}  // namespace calib64::streaming
