// encode_with / decode_with: every backend of the catalog behind one call, and the
// counters. A row with no executor (serial), or whose executor must not run now,
// answers with the codec on this thread.
#include <pthread.h>

#include <array>
#include <atomic>

#include "parallel.h"

namespace calib64 {
namespace detail {
namespace {

struct counters_of_one {
    std::atomic<std::uint64_t> executors_created{0};
    std::atomic<std::uint64_t> workers_started{0};
    std::atomic<std::uint64_t> chunks_by_workers{0};
    std::atomic<std::uint64_t> chunks_by_callers{0};
    std::atomic<std::uint64_t> queue_full{0};
};
// Trivially destructible: usable from other static destructors at exit.
constinit std::array<counters_of_one, backend_count> counters;

counters_of_one& of(backend b) noexcept { return counters[backend_index(b)]; }

// Trivially destructible: readable at exit.
constinit std::atomic<bool> executors_in_use{false};
constinit std::atomic<bool> forked_child{false};

extern "C" void mark_forked_child() {
    if (executors_in_use.load(std::memory_order_relaxed)) forked_child.store(true, std::memory_order_relaxed);
}

// Registered while the program loads, before its threads run: registering on first
// use instead would race with a fork in another thread (a child forked while the
// registering thread held the static's guard hung on it).
[[maybe_unused]] const bool fork_handler_registered = ::pthread_atfork(nullptr, nullptr, &mark_forked_child) == 0;

// The executor to use for `b` now, or nullptr for the codec on this thread.
chunk_executor executor_for(backend b) noexcept {
    const backend_row& row = backend_rows[backend_index(b)];
    if (row.id != b || row.executor == nullptr) return nullptr;
    if (row.must_run_inline != nullptr && row.must_run_inline()) return nullptr;
    return row.executor;
}

}  // namespace

void executors_about_to_be_used() noexcept {
    if (!executors_in_use.load(std::memory_order_relaxed)) executors_in_use.store(true, std::memory_order_seq_cst);
}

bool in_forked_child() noexcept { return forked_child.load(std::memory_order_relaxed); }

void count_executor_created(backend b) noexcept { of(b).executors_created.fetch_add(1, std::memory_order_relaxed); }
void count_worker_started(backend b) noexcept { of(b).workers_started.fetch_add(1, std::memory_order_relaxed); }
void count_chunk(backend b, bool by_worker) noexcept {
    (by_worker ? of(b).chunks_by_workers : of(b).chunks_by_callers).fetch_add(1, std::memory_order_relaxed);
}
void count_queue_full(backend b) noexcept { of(b).queue_full.fetch_add(1, std::memory_order_relaxed); }

}  // namespace detail

std::string_view backend_name(backend b) noexcept {
    const detail::backend_row& row = detail::backend_rows[detail::backend_index(b)];
    return row.id == b ? row.name : "unknown";
}

encode_result encode_with(backend b, std::span<const std::uint8_t> in, std::span<char> out,
                          const encode_options& opts, const parallel_options& par) noexcept {
    if (const detail::chunk_executor exec = detail::executor_for(b)) return detail::encode_chunked(exec, in, out, opts, par);
    return encode(in, out, opts);
}

decode_result decode_with(backend b, std::string_view in, std::span<std::uint8_t> out,
                          const decode_options& opts, const parallel_options& par) noexcept {
    if (const detail::chunk_executor exec = detail::executor_for(b)) return detail::decode_chunked(exec, in, out, opts, par);
    return decode(in, out, opts);
}

backend_stats backend_statistics(backend b) noexcept {
    const auto& c = detail::of(b);
    backend_stats s;
    s.executors_created = c.executors_created.load(std::memory_order_relaxed);
    s.workers_started = c.workers_started.load(std::memory_order_relaxed);
    s.chunks_by_workers = c.chunks_by_workers.load(std::memory_order_relaxed);
    s.chunks_by_callers = c.chunks_by_callers.load(std::memory_order_relaxed);
    s.queue_full = c.queue_full.load(std::memory_order_relaxed);
    return s;
}

}  // namespace calib64
