// Splitting one encode/decode call into chunks that run independently and write
// straight into the caller's buffer at offsets computed up front.
//
// Correctness rule: the parallel answer is only ever returned when it is provably
// the serial answer (every chunk decoded cleanly, whole quanta, no padding except in
// the final quantum). Anything else — an error anywhere, a buffer that may be too
// small, padding in a middle chunk — is answered by serial decode(), so status,
// offset and `written` are exactly serial's. The error path is slower; that is fine.
#include <algorithm>
#include <atomic>
#include <memory>
#include <new>

#include "../alphabet.h"
#include "../kernel.h"
#include "../quantum.h"
#include "platform/cpus.h"
#include "parallel.h"

namespace calib64::detail {
namespace {

constexpr std::size_t default_min_chunk_bytes = 64 * 1024;
// Keeps chunk indices small and the per-chunk bookkeeping bounded for any input.
constexpr std::size_t max_chunks = std::size_t{1} << 20;

unsigned effective_threads(const parallel_options& par) noexcept {
    const unsigned t = par.threads == 0 ? usable_cpus() : par.threads;
    return std::clamp(t, 1u, max_threads);
}

// Chunk size in input units (bytes for encode, characters for decode), rounded up
// to a multiple of `quantum` (3 or 4): the caller's, or max(64 KiB, size / (threads * 4)) so that
// each thread gets about four chunks to balance with.
std::size_t chunk_size(std::size_t input_size, unsigned threads, std::size_t requested, std::size_t quantum) noexcept {
    std::size_t c = requested != 0 ? requested : std::max(default_min_chunk_bytes, input_size / (std::size_t{threads} * 4));
    c = std::min(c, SIZE_MAX - quantum);                            // rounding up must not wrap
    c = std::max((c + quantum - 1) / quantum * quantum, quantum);  // up: 64 KiB stays one chunk
    if (input_size / c >= max_chunks) c = (input_size / max_chunks + quantum) / quantum * quantum;
    return c;
}

std::size_t chunk_count(std::size_t size, std::size_t chunk) noexcept { return size / chunk + (size % chunk != 0); }

// ------------------------------------------------------------------ encode

struct encode_job {
    const std::uint8_t* in;
    std::size_t in_size;
    char* out;
    std::size_t chunk_bytes;  // multiple of 3: every chunk but the last is whole groups
    encode_options opts;
};

void encode_chunk(const void* context, std::size_t index) noexcept {
    const auto& job = *static_cast<const encode_job*>(context);
    const std::size_t begin = index * job.chunk_bytes;
    const std::size_t len = std::min(job.chunk_bytes, job.in_size - begin);
    const std::size_t out_at = begin / 3 * 4;
    // Padding only matters for the last chunk; the others are whole 3-byte groups.
    (void)encode({job.in + begin, len}, {job.out + out_at, encoded_length(len, job.opts.pad)}, job.opts);
}

// ------------------------------------------------------------------ strict decode

struct strict_decode_job {
    std::string_view in;
    std::uint8_t* out;
    std::size_t out_size;
    std::size_t chunk_chars;  // multiple of 4
    std::size_t chunks;
    decode_options opts;
    mutable std::atomic<bool> failed{false};
};

void strict_decode_chunk(const void* context, std::size_t index) noexcept {
    const auto& job = *static_cast<const strict_decode_job*>(context);
    if (job.failed.load(std::memory_order_relaxed)) return;  // serial will answer anyway
    const std::size_t begin = index * job.chunk_chars;
    const std::string_view part = job.in.substr(begin, job.chunk_chars);
    const std::size_t out_at = begin / 4 * 3;
    const bool last = index + 1 == job.chunks;
    const decode_result r = decode(part, {job.out + out_at, last ? job.out_size - out_at : part.size() / 4 * 3}, job.opts);
    // A middle chunk must be whole quanta without padding: "QQ==" decodes fine on its
    // own but is bad padding in the middle of the input, and writes fewer than 3 bytes.
    if (!r.ok() || (!last && r.written != part.size() / 4 * 3)) job.failed.store(true, std::memory_order_relaxed);
}

// ------------------------------------------------------------------ skipping decode
//
// Characters the decoder skips can sit anywhere, so chunk edges in the input are
// not quantum edges. Pass 1 counts the significant (not skipped) characters of each
// fixed-size input chunk; a prefix sum gives each chunk the index of its first
// significant character. Pass 2: chunk i owns the quanta whose first character lies
// in it. It starts at its first significant character whose index is a multiple of
// 4 and reads past its end, into following chunks, to finish its last quantum. It
// writes at (first quantum index) * 3. The chunk that owns the final quantum reads
// to the end of the input, so the codec sees the real tail (padding, partial
// quantum, trailing garbage) exactly as serial does.

struct skipping_decode_job {
    std::string_view in;
    std::uint8_t* out;
    std::size_t out_size;
    std::size_t chunk_chars;
    std::size_t chunks;
    decode_options opts;
    const std::uint8_t* values;
    std::size_t* significant_before;  // [chunks + 1]: prefix sums after pass 1
    std::size_t total_significant = 0;
    mutable std::atomic<bool> failed{false};
    mutable std::atomic<std::size_t> final_end{0};  // output bytes through the final quantum
};

bool is_significant(ignore skip, const std::uint8_t* values, unsigned char c) noexcept {
    if (skip == ignore::whitespace) return !is_ascii_whitespace(c);
    return values[c] != invalid_value || c == '=';
}

// Pass 1: significant characters in chunk `index`, stored at significant_before[index + 1].
void count_chunk(const void* context, std::size_t index) noexcept {
    const auto& job = *static_cast<const skipping_decode_job*>(context);
    const std::size_t begin = index * job.chunk_chars;
    const std::size_t end = std::min(job.in.size(), begin + job.chunk_chars);
    const auto* bytes = reinterpret_cast<const unsigned char*>(job.in.data());
    std::size_t count = 0;
    if (job.opts.skip == ignore::whitespace) {
        // Branch-free so the compiler vectorizes it.
        for (std::size_t i = begin; i < end; ++i) count += !is_ascii_whitespace(bytes[i]);
    } else {
        for (std::size_t i = begin; i < end; ++i) count += is_significant(ignore::non_alphabet, job.values, bytes[i]);
    }
    job.significant_before[index + 1] = count;
}

// Position just past the `n`-th significant character at or after `pos` (n >= 1),
// or, for n == 0, the first significant character at or after `pos` (end if none).
std::size_t skip_significant(const skipping_decode_job& job, std::size_t pos, std::size_t n) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(job.in.data());
    const std::size_t end = job.in.size();
    for (; pos < end; ++pos) {
        if (!is_significant(job.opts.skip, job.values, bytes[pos])) continue;
        if (n == 0) return pos;
        --n;
        if (n == 0) return pos + 1;
    }
    return end;
}

constexpr std::size_t round_up4(std::size_t x) noexcept { return (x + 3) / 4 * 4; }

// Pass 2.
void skipping_decode_chunk(const void* context, std::size_t index) noexcept {
    const auto& job = *static_cast<const skipping_decode_job*>(context);
    if (job.failed.load(std::memory_order_relaxed)) return;
    const std::size_t before = job.significant_before[index];
    const std::size_t through = job.significant_before[index + 1];
    const std::size_t first_quantum = round_up4(before);  // significant index where our first quantum starts
    if (first_quantum >= through) return;                   // no quantum starts in this chunk
    const std::size_t chunk_begin = index * job.chunk_chars;
    const std::size_t chunk_end = std::min(job.in.size(), chunk_begin + job.chunk_chars);

    // Step over the 0-3 significant characters that finish the previous chunk's quantum.
    const std::size_t lead = first_quantum - before;
    const std::size_t start = lead == 0 ? skip_significant(job, chunk_begin, 0)
                                        : skip_significant(job, skip_significant(job, chunk_begin, lead), 0);
    const std::size_t owned_end = round_up4(through);  // significant index just past our last quantum
    const bool owns_final_quantum = owned_end >= job.total_significant;
    const std::size_t stop = owns_final_quantum ? job.in.size()
                             : owned_end == through ? chunk_end
                                                    : skip_significant(job, chunk_end, owned_end - through);
    const std::size_t out_at = first_quantum / 4 * 3;
    const std::size_t whole_bytes = (owned_end - first_quantum) / 4 * 3;
    const decode_result r = decode(job.in.substr(start, stop - start),
                                   {job.out + out_at, owns_final_quantum ? job.out_size - out_at : whole_bytes}, job.opts);
    // A middle run must decode to whole quanta: fewer bytes means padding inside.
    if (!r.ok() || (!owns_final_quantum && r.written != whole_bytes)) job.failed.store(true, std::memory_order_relaxed);
    if (owns_final_quantum) job.final_end.store(out_at + r.written, std::memory_order_relaxed);
}

}  // namespace

}  // namespace calib64::detail

namespace calib64 {

std::size_t encode_chunk_count(std::size_t input_bytes, const parallel_options& par) noexcept {
    const unsigned threads = detail::effective_threads(par);
    return threads == 1 ? 1 : detail::chunk_count(input_bytes, detail::chunk_size(input_bytes, threads, par.chunk_bytes, 3));
}

std::size_t decode_chunk_count(std::size_t input_chars, const parallel_options& par) noexcept {
    const unsigned threads = detail::effective_threads(par);
    return threads == 1 ? 1 : detail::chunk_count(input_chars, detail::chunk_size(input_chars, threads, par.chunk_bytes, 4));
}

}  // namespace calib64

namespace calib64::detail {

encode_result encode_chunked(chunk_executor exec, std::span<const std::uint8_t> in, std::span<char> out,
                             const encode_options& opts, const parallel_options& par) noexcept {
    // Serial answers every error (unknown kernel, small buffer, a size whose length
    // does not fit) and tiny inputs.
    const std::size_t need = encoded_length(in.size(), opts.pad);
    if (need == SIZE_MAX || out.size() < need || resolve_kernel(opts.kernel) == nullptr) return encode(in, out, opts);
    const unsigned threads = effective_threads(par);
    const std::size_t chunk = chunk_size(in.size(), threads, par.chunk_bytes, 3);
    const std::size_t chunks = chunk_count(in.size(), chunk);
    if (threads == 1 || chunks < 2) return encode(in, out, opts);
    const encode_job job{in.data(), in.size(), out.data(), chunk, opts};
    exec({&encode_chunk, &job, chunks}, threads, par.pin_threads);
    return {status::ok, need};
}

decode_result decode_chunked(chunk_executor exec, std::string_view in, std::span<std::uint8_t> out,
                             const decode_options& opts, const parallel_options& par) noexcept {
    const unsigned threads = effective_threads(par);
    const std::size_t chunk = chunk_size(in.size(), threads, par.chunk_bytes, 4);
    const std::size_t chunks = chunk_count(in.size(), chunk);
    if (threads == 1 || chunks < 2 || resolve_kernel(opts.kernel) == nullptr) return decode(in, out, opts);

    if (opts.skip == ignore::none) {
        const std::size_t need = strict_decoded_size(in);
        if (out.size() < need) return decode(in, out, opts);
        strict_decode_job job{in, out.data(), out.size(), chunk, chunks, opts};
        exec({&strict_decode_chunk, &job, chunks}, threads, par.pin_threads);
        if (job.failed.load(std::memory_order_relaxed)) return decode(in, out, opts);
        return {status::ok, 0, need};
    }

    std::unique_ptr<std::size_t[]> significant(new (std::nothrow) std::size_t[chunks + 1]);
    if (!significant) return decode(in, out, opts);
    skipping_decode_job job{in, out.data(), out.size(), chunk, chunks, opts, values_of(opts.alpha), significant.get()};
    significant[0] = 0;
    exec({&count_chunk, &job, chunks}, threads, par.pin_threads);
    for (std::size_t i = 1; i <= chunks; ++i) significant[i] += significant[i - 1];
    job.total_significant = significant[chunks];
    // Capacity as if no padding: if it might not fit, serial decides (and reports).
    const std::size_t total = job.total_significant;
    if (total == 0 || out.size() < decoded_size_of(total)) return decode(in, out, opts);
    exec({&skipping_decode_chunk, &job, chunks}, threads, par.pin_threads);
    if (job.failed.load(std::memory_order_relaxed)) return decode(in, out, opts);
    // Every quantum decoded; the run with the final quantum knows the exact end.
    const std::size_t written = job.final_end.load(std::memory_order_relaxed);
    return {status::ok, 0, written};
}

}  // namespace calib64::detail
