// The stream's automatic mode: how many workers, which kernel and backend, what block
// size. Measured on the 2-CPU development VM (docs/cli.md, "Measurements").
#include <algorithm>

#include "platform/cpus.h"
#include "runtime/settings.h"
#include "stream/job.h"

namespace calib64::streaming {
namespace {

// Input bytes (encode) or characters (decode) per block: one read() and one write()
// each. Against 64 KiB and 1 MiB, 256 KiB was fastest or within noise of it in all
// nine cells of output mode x operation on the 2-CPU VM (docs/cli.md): small enough
// that the block is still in L2 between reading, coding and writing, large enough
// that the hand-offs between two workers (one futex wake per block) stay rare.
constexpr std::size_t default_block_bytes = std::size_t{256} << 10;
// Below this the calling thread does everything: a second worker needs a thread, a
// CPU probe and maybe the settings, which cost more than it saves.
constexpr std::uint64_t parallel_from_bytes = std::uint64_t{1} << 20;
// Serial blocks: one worker per usable CPU, up to this many (reading and writing are
// serial stages, so more would only wait).
constexpr unsigned max_automatic_workers = 8;
// A parallel backend brings its own threads to each block: two workers overlap one's
// reading and writing with the other's coding.
constexpr unsigned parallel_backend_workers = 2;
// A small regular input gets blocks its size (at least a page): buffers of 256 KiB
// would cost an mmap and munmap each for a few bytes.
constexpr std::size_t small_input_block_bytes = 4096;

std::size_t block_capacity(direction dir, const stream_options& so, const io_facts& io) {
    std::size_t want = so.block_bytes != 0 ? std::min(so.block_bytes, max_block_bytes) : default_block_bytes;
    if (so.block_bytes == 0 && io.regular_input && io.input_size < want)
        want = std::max<std::size_t>(small_input_block_bytes, static_cast<std::size_t>(io.input_size) + 1);
    return dir == direction::encode ? std::max<std::size_t>(3, want / 3 * 3) : std::max<std::size_t>(4, want / 4 * 4);
}

// One CPU per pipe end is left to the process at the other end, which copies every
// byte as well: on 2 CPUs, two workers and `cat` on the pipe competed (100 MiB
// encode into cat, 31 interleaved rounds: 48.1 ms on one worker, 54.4 on two).
unsigned automatic_workers(backend how, unsigned pipe_ends) {
    const unsigned cpus = detail::usable_cpus();
    const unsigned free = cpus > pipe_ends ? cpus - pipe_ends : 1;
    if (free <= 1) return 1;
    return how == backend::serial ? std::min(free, max_automatic_workers) : parallel_backend_workers;
}

kernel_id& kernel_of(job& j) { return j.dir == direction::encode ? j.enc.kernel : j.dec.kernel; }

// The settings' kernel (unless the caller named one) and a backend CALIB64_BACKEND
// forces. Read for a parallel stream only when they could say anything but the
// defaults (the host probe behind them costs more than a small stream), and for a
// single-threaded one only when a person set an override.
void apply_settings(job& j, bool parallel) {
    if (j.settings_read || !(parallel ? runtime::settings_may_matter() : runtime::settings_overridden())) return;
    const runtime::resolved_settings& s = runtime::current_settings();
    j.settings_read = true;
    const runtime::operation_settings& op = j.dir == direction::encode ? s.encode : s.decode;
    const choice c = op.choose(j.capacity);
    if (kernel_of(j) == kernel_id::automatic) kernel_of(j) = c.kernel;
    // The stream already codes blocks in parallel; a parallel backend inside each
    // block only competes with it (100 MiB encode: 72 ms vs 42 ms, docs/cli.md). So
    // serial blocks, unless CALIB64_BACKEND forces a backend.
    if (op.forced) {
        j.how = c.how;
        j.par = c.par;
    }
}

// One worker is enough into /dev/null without wrapping: reading is then most of the
// work and stays serial, and a second worker only adds hand-offs (100 MiB encode:
// 27.0 ms on one thread, 29.5 ms on two; wrapped: 38 ms on one, 28.6 ms on two;
// docs/cli.md).
bool reading_dominates(const job& j, const io_facts& io) noexcept {
    return io.output_discarded && j.dir == direction::encode && j.wrap_columns == 0;
}

}  // namespace

job plan_job(direction dir, const encode_options& enc, const decode_options& dec, const stream_options& so,
             const io_facts& io) {
    job j;
    j.dir = dir;
    j.enc = enc;
    j.dec = dec;
    j.wrap_columns = so.wrap_columns;
    j.dialect = so.dialect;
    j.automatic = !so.how.has_value();
    if (so.how) {
        j.how = *so.how;
        j.par = so.par;
    }
    j.capacity = block_capacity(dir, so, io);
    if (so.workers != 0) {
        j.workers = std::min(so.workers, max_workers);
    } else if ((io.regular_input && io.input_size < parallel_from_bytes) || reading_dominates(j, io)) {
        j.workers = 1;
    } else if (!io.regular_input) {
        j.workers = 1;  // until the input proves large (plan_growth)
        j.grow_after_bytes = parallel_from_bytes;
    } else {
        j.workers = automatic_workers(j.how, io.pipe_ends);
    }
    j.pipe_ends = io.pipe_ends;
    if (j.automatic) {
        apply_settings(j, j.workers > 1);
        if (j.how != backend::serial && so.workers == 0) j.workers = std::min(j.workers, parallel_backend_workers);
    }
    j.automatic_kernel = kernel_of(j) == kernel_id::automatic && !j.settings_read;
    if (kernel_of(j) == kernel_id::automatic) kernel_of(j) = best_kernel();
    return j;
}

void plan_growth(job& j) {
    j.grow_after_bytes = UINT64_MAX;
    const kernel_id kernel = j.kernel();
    if (j.automatic && !j.settings_read) {
        kernel_of(j) = j.automatic_kernel ? kernel_id::automatic : kernel;
        apply_settings(j, true);
        if (kernel_of(j) == kernel_id::automatic) kernel_of(j) = best_kernel();
    }
    j.workers = automatic_workers(j.how, j.pipe_ends);
}

stream_plan plan_of(const job& j, unsigned workers_run) noexcept {
    stream_plan p;
    p.how = j.how;
    p.kernel = j.kernel();
    p.workers = workers_run;
    p.threads_per_block = j.how == backend::serial ? 0 : j.par.threads;
    p.block_bytes = j.capacity;
    p.settings_read = j.settings_read;
    return p;
}

}  // namespace calib64::streaming
