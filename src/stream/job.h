// Internal: what one stream runs, resolved from the caller's options by the automatic
// mode (policy.cpp), and the sizes every part of the stream shares.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace calib64::streaming {

enum class direction : std::uint8_t { encode, decode };

// Larger block requests are clamped: a block's buffers are allocated whole, and sizes
// near SIZE_MAX would wrap the arithmetic that sizes them.
inline constexpr std::size_t max_block_bytes = std::size_t{1} << 30;
// Each worker owns one block, so this bounds memory whatever is asked.
inline constexpr unsigned max_workers = 16;

// What the stream knows about its input and output before it starts.
struct io_facts {
    bool regular_input = false;  // a regular file: `input_size` is its size now (it may still grow)
    std::uint64_t input_size = 0;
    bool output_discarded = false;  // /dev/null: writing costs nothing
    // Ends that are pipes (or sockets): another process is reading or writing there,
    // on a CPU of its own.
    unsigned pipe_ends = 0;
};

struct job {
    direction dir = direction::encode;
    encode_options enc{};   // kernel resolved: never automatic
    decode_options dec{};
    std::size_t wrap_columns = 0;
    decode_dialect dialect = decode_dialect::rfc4648;
    backend how = backend::serial;
    parallel_options par{};
    std::size_t capacity = 0;  // input bytes per block: a multiple of 3 (encode) or 4 (decode)
    unsigned workers = 1;      // threads at most, the calling one included
    // An input of unknown size starts with the calling thread alone; once this much
    // input has been read, plan_growth() decides the rest and the others start.
    std::uint64_t grow_after_bytes = UINT64_MAX;
    unsigned pipe_ends = 0;  // io_facts::pipe_ends, for plan_growth
    bool automatic = false;         // how was left to the automatic mode
    bool automatic_kernel = false;  // the kernel is best_kernel() only for want of settings so far
    bool settings_read = false;
    std::string input_name;
    std::string output_name;

    [[nodiscard]] kernel_id kernel() const noexcept { return dir == direction::encode ? enc.kernel : dec.kernel; }
};

// Resolves the caller's options into a job (policy.cpp; the rules are in the public
// header above stream_options).
[[nodiscard]] job plan_job(direction dir, const encode_options& enc, const decode_options& dec,
                           const stream_options& so, const io_facts& io);
// The rest of the automatic mode once an input of unknown size has proved large:
// workers, and the kernel and backend if the settings have a say. Runs on the only
// thread of the stream, before any other starts.
void plan_growth(job& j);
// What stream_result::plan reports.
[[nodiscard]] stream_plan plan_of(const job& j, unsigned workers_run) noexcept;

}  // namespace calib64::streaming
