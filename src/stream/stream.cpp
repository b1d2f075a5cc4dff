// Bounded-memory streaming: reader thread -> block workers -> in-order writer.
//
// A fixed pool of blocks circulates: the reader fills a free block and hands it to
// worker (index % workers) through that worker's SPSC queue; the worker runs the
// codec and passes it on through its own SPSC queue to the writer, which pops the
// workers' queues round-robin (so output stays in input order), writes, and returns
// the block to the reader through a free-block SPSC queue. Memory is the pool, no
// matter how long the input is. Waiting uses std::atomic wait/notify on a sequence
// counter per queue, so idle threads sleep instead of spinning.
//
// Decoding across block boundaries: the reader cuts each block after a multiple of
// four significant characters (those the decoder does not skip) and carries the 0-3
// left over, with their input offsets, to the front of the next block (each block
// has room for them before its data). Every block then decodes on its own, and
// errors map back to absolute input offsets.
#include <calib64/calib64.h>

#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alphabet.h"
#include "backends/parallel.h"
#include "common/atomic_file.h"
#include "platform/cpus.h"

namespace calib64 {
namespace {

// Small blocks measured best here (docs/cli.md): they stay in L2 between stages and
// touch few fresh pages; 192 KiB of input costs ~0.5k read() calls per 100 MiB.
constexpr std::size_t default_encode_block_bytes = 192 * 1024;  // 3 * 64 Ki
constexpr std::size_t default_decode_block_chars = 256 * 1024;
// Larger requests are clamped: a block's buffers are allocated whole, and sizes near
// SIZE_MAX would wrap the arithmetic that sizes them.
constexpr std::size_t max_block_bytes = std::size_t{1} << 30;
constexpr std::size_t carry_room = 4;                    // room for the carried 0-3 characters
constexpr std::size_t read_piece_bytes = 64 * 1024;    // decode reads: counted while in L2
constexpr std::size_t wrap_subchunk_bytes = 12 * 1024;  // encode-then-wrap step; stays in L1

// ------------------------------------------------------------------ blocks

struct block {
    std::unique_ptr<char[]> in;  // carry_room + capacity; data starts at in + carry_room
    std::unique_ptr<char[]> out;
    std::size_t out_capacity = 0;

    std::uint64_t index = 0;
    std::uint64_t data_offset = 0;  // absolute input offset of the first data byte
    std::size_t data_len = 0;
    unsigned carry_count = 0;       // characters carried in front of the data
    std::array<std::uint64_t, 4> carry_offset{};
    bool last = false;
    int read_errno = 0;  // the read after this block's data failed
    // Decode: whitespace the reader counted in the data before the cut (an upper
    // bound for what the block keeps), so workers can pick a fast path unscanned.
    std::size_t newlines = 0;
    std::size_t other_whitespace = 0;

    // Worker results.
    std::size_t out_len = 0;
    status code = status::ok;
    std::uint64_t error_offset = 0;
    // RFC 4648 decode: facts the writer needs to carry the "closed by padding" state.
    bool has_significant = false;
    bool first_is_data_or_pad = false;
    std::uint64_t first_significant_offset = 0;
    bool ends_closed = false;

    [[nodiscard]] char* data() noexcept { return in.get() + carry_room; }
    [[nodiscard]] char* staging() noexcept { return data() - carry_count; }
    [[nodiscard]] std::size_t staging_len() const noexcept { return carry_count + data_len; }
    // Absolute input offset of staging()[i]; i == staging_len() is the end of the data.
    [[nodiscard]] std::uint64_t absolute(std::size_t i) const noexcept {
        return i < carry_count ? carry_offset[i] : data_offset + (i - carry_count);
    }
};

using block_queue = boost::lockfree::spsc_queue<block*>;

// A sequence number a consumer sleeps on until the producer bumps it.
class wakeup {
public:
    [[nodiscard]] std::uint32_t snapshot() const noexcept { return seq_.load(std::memory_order_acquire); }
    void wait(std::uint32_t seen) const noexcept { seq_.wait(seen, std::memory_order_acquire); }
    void notify() noexcept {
        seq_.fetch_add(1, std::memory_order_acq_rel);
        seq_.notify_all();
    }

private:
    std::atomic<std::uint32_t> seq_{0};
};

// An SPSC queue with a sleeping pop. Capacity is the whole pool, so push never fails.
struct channel {
    explicit channel(std::size_t capacity) : queue(capacity) {}
    void push(block* b) {
        while (!queue.push(b)) std::this_thread::yield();  // unreachable with pool-sized capacity
        ready.notify();
    }
    // Pops one block; returns false if `stop` became true while empty.
    bool pop(block*& b, const std::atomic<bool>* stop = nullptr) {
        for (;;) {
            if (queue.pop(b)) return true;
            const std::uint32_t seen = ready.snapshot();
            if (queue.pop(b)) return true;
            if (stop != nullptr && stop->load(std::memory_order_acquire)) return false;
            ready.wait(seen);
        }
    }
    block_queue queue;
    wakeup ready;
};

// ------------------------------------------------------------------ character classes

enum class significance : std::uint8_t {
    every_byte,   // RFC 4648, ignore::none
    not_newline,  // coreutils without -i
    not_space,    // RFC 4648, ignore::whitespace
    alphabet_or_pad,  // ignore::non_alphabet (both dialects)
};

significance significance_of(const decode_options& o, decode_dialect d) noexcept {
    if (o.skip == ignore::non_alphabet) return significance::alphabet_or_pad;
    if (d == decode_dialect::coreutils) return significance::not_newline;
    return o.skip == ignore::whitespace ? significance::not_space : significance::every_byte;
}

bool is_significant(significance s, const std::uint8_t* values, unsigned char c) noexcept {
    switch (s) {
        case significance::every_byte: return true;
        case significance::not_newline: return c != '\n';
        case significance::not_space: return !detail::is_ascii_whitespace(c);
        case significance::alphabet_or_pad: return values[c] != detail::invalid_value || c == '=';
    }
    return true;
}

struct whitespace_counts {
    std::size_t newlines = 0;
    std::size_t spaces = 0;  // all six ASCII whitespace bytes, '\n' included
};

// One pass, written so the compiler vectorizes it: byte-wide lane counters that
// are flushed before they can overflow.
whitespace_counts count_whitespace(const char* p, std::size_t n) noexcept {
    constexpr std::size_t lanes = 32;
    constexpr std::size_t max_rounds = 255;
    whitespace_counts counts;
    std::size_t i = 0;
    while (n - i >= lanes) {
        std::uint8_t newline_lanes[lanes] = {};
        std::uint8_t space_lanes[lanes] = {};
        const std::size_t stop = i + std::min((n - i) / lanes, max_rounds) * lanes;
        for (; i < stop; i += lanes) {
            for (std::size_t j = 0; j < lanes; ++j) {
                const auto c = static_cast<unsigned char>(p[i + j]);
                newline_lanes[j] = static_cast<std::uint8_t>(newline_lanes[j] + (c == '\n'));
                space_lanes[j] = static_cast<std::uint8_t>(space_lanes[j] + ((c == ' ') | (static_cast<unsigned char>(c - '\t') < 5)));
            }
        }
        for (std::size_t j = 0; j < lanes; ++j) {
            counts.newlines += newline_lanes[j];
            counts.spaces += space_lanes[j];
        }
    }
    for (; i < n; ++i) {
        const auto c = static_cast<unsigned char>(p[i]);
        counts.newlines += c == '\n';
        counts.spaces += detail::is_ascii_whitespace(c);
    }
    return counts;
}

std::size_t count_significant(significance s, const std::uint8_t* values, const char* p, std::size_t n) noexcept {
    switch (s) {
        case significance::every_byte: return n;
        case significance::not_newline: return n - count_whitespace(p, n).newlines;
        case significance::not_space: return n - count_whitespace(p, n).spaces;
        case significance::alphabet_or_pad: {
            std::size_t count = 0;
            for (std::size_t i = 0; i < n; ++i) count += is_significant(s, values, static_cast<unsigned char>(p[i]));
            return count;
        }
    }
    return n;
}

// ------------------------------------------------------------------ coreutils groups

// One group of 1-4 significant characters decoded the way GNU base64 does (gnulib
// decode_4): the bytes it yields before any fault are written even when it fails.
struct group_result {
    bool ok = true;
    unsigned bytes = 0;
    unsigned bad_slot = 0;  // on failure: the slot at fault (== len: the group is cut short)
    status code = status::ok;
};

group_result decode_coreutils_group(const char* g, unsigned len, const std::uint8_t* values, std::uint8_t* out) noexcept {
    auto value = [&](unsigned i) { return values[static_cast<unsigned char>(g[i])]; };
    auto is_data = [&](unsigned i) { return value(i) != detail::invalid_value; };
    auto fail = [](unsigned bytes, unsigned slot, status code) { return group_result{false, bytes, slot, code}; };
    if (len < 2) return len == 1 && !is_data(0) ? fail(0, 0, status::invalid_character) : fail(0, len, status::truncated_input);
    for (unsigned i = 0; i < 2; ++i)
        if (!is_data(i)) return fail(0, i, g[i] == '=' ? status::bad_padding : status::invalid_character);
    out[0] = static_cast<std::uint8_t>(value(0) << 2 | value(1) >> 4);
    if (len == 2) return fail(1, 2, status::truncated_input);
    if (g[2] == '=') {
        if (len != 4) return fail(1, 3, status::truncated_input);
        if (g[3] != '=') return fail(1, 3, status::bad_padding);
        return {true, 1, 0, status::ok};
    }
    if (!is_data(2)) return fail(1, 2, status::invalid_character);
    out[1] = static_cast<std::uint8_t>((value(1) & 0x0F) << 4 | value(2) >> 2);
    if (len == 3) return fail(2, 3, status::truncated_input);
    if (g[3] == '=') return {true, 2, 0, status::ok};
    if (!is_data(3)) return fail(2, 3, status::invalid_character);
    out[2] = static_cast<std::uint8_t>((value(2) & 0x03) << 6 | value(3));
    return {true, 3, 0, status::ok};
}

// ------------------------------------------------------------------ the engine

enum class direction : std::uint8_t { encode, decode };

struct engine_config {
    direction dir = direction::encode;
    encode_options enc{};
    decode_options dec{};
    stream_options so{};
    std::string input_name;
    std::string output_name;
};

std::string errno_text(int e) { return std::strerror(e); }

// Serial blocks: one worker per CPU left after the reader and the writer, which
// each keep a core busy copying through the kernel (read()/write()). On 2 CPUs one
// worker beats two (100 MiB encode 42 vs 53 ms, decode 55 vs 59 ms; docs/cli.md).
// A parallel backend per block brings its own threads, so two block workers.
unsigned default_workers(backend how) noexcept {
    if (how != backend::serial) return 2;
    const unsigned cpus = detail::usable_cpus();
    return std::clamp(cpus > 2 ? cpus - 2 : 1u, 1u, 8u);
}

class engine {
public:
    explicit engine(const engine_config& cfg) : cfg_(cfg) {
        const stream_options& so = cfg.so;
        workers_ = so.workers != 0 ? so.workers : default_workers(so.how);
        // Default pool: 4 blocks per worker, but never more than 64 (memory stays a few
        // tens of MiB even for --threads 1000); an explicit count is taken as given.
        blocks_ = std::max(so.blocks_in_flight != 0 ? so.blocks_in_flight : std::min(4 * workers_, 64u), 3u);
        workers_ = std::min(workers_, blocks_);  // a worker without a block would only idle
        if (cfg.dir == direction::encode) {
            const std::size_t want = so.block_bytes != 0 ? std::min(so.block_bytes, max_block_bytes) : default_encode_block_bytes;
            capacity_ = std::max<std::size_t>(3, want / 3 * 3);
        } else {
            const std::size_t want = so.block_bytes != 0 ? std::min(so.block_bytes, max_block_bytes) : default_decode_block_chars;
            capacity_ = std::max<std::size_t>(4, want / 4 * 4);
        }
        values_ = detail::values_of(cfg.dir == direction::encode ? cfg.enc.alpha : cfg.dec.alpha);
        significance_ = significance_of(cfg.dec, so.dialect);
    }

    stream_result run(int in_fd, int out_fd) {
        in_fd_ = in_fd;
        out_fd_ = out_fd;
        struct stat st{};
        input_is_regular_ = fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode);

        pool_.resize(blocks_);
        free_ = std::make_unique<channel>(blocks_ + 1);
        for (block& b : pool_) {
            b.in.reset(new char[carry_room + capacity_]);
            b.out_capacity = output_capacity();
            b.out.reset(new char[b.out_capacity]);
            free_->queue.push(&b);
        }
        for (unsigned w = 0; w < workers_; ++w) {
            to_worker_.push_back(std::make_unique<channel>(blocks_ + 2));
            to_writer_.push_back(std::make_unique<channel>(blocks_ + 2));
        }
        std::vector<std::thread> threads;
        threads.reserve(workers_ + 1);
        threads.emplace_back([this] { read_loop(); });
        for (unsigned w = 0; w < workers_; ++w) threads.emplace_back([this, w] { work_loop(w); });
        write_loop();  // on this thread
        stop_.store(true, std::memory_order_release);
        free_->ready.notify();  // wake a reader waiting for a free block
        for (std::thread& t : threads) t.join();
        result_.bytes_read = bytes_read_;
        return std::move(result_);
    }

private:
    std::size_t output_capacity() const noexcept {
        if (cfg_.dir == direction::decode) return max_decoded_length(carry_room + capacity_) + 4;
        const std::size_t chars = encoded_length(capacity_, cfg_.enc.pad);
        const std::size_t cols = cfg_.so.wrap_columns;
        return cols == 0 ? chars : chars + chars / cols + 2;
    }

    // -------------------------------------------------------------- reader

    // Fills [dst, dst + want) from the input; returns bytes read, sets eof / err.
    // Reads at most `piece` bytes per call and shows each piece to `on_data` while
    // it is still in cache.
    template <typename OnData>
    std::size_t fill(char* dst, std::size_t want, std::size_t piece, bool& eof, int& err, OnData on_data) {
        std::size_t got = 0;
        while (got < want) {
            if (!input_is_regular_ && !wait_readable()) break;  // stopping
            const ssize_t n = ::read(in_fd_, dst + got, std::min(piece, want - got));
            if (n > 0) {
                on_data(dst + got, static_cast<std::size_t>(n));
                got += static_cast<std::size_t>(n);
            } else if (n == 0) {
                eof = true;
                break;
            } else if (errno != EINTR && errno != EAGAIN) {
                err = errno;
                break;
            }
        }
        return got;
    }

    // Pipes and terminals may stay silent: poll so a failed writer can stop us.
    bool wait_readable() {
        for (;;) {
            if (stop_.load(std::memory_order_acquire)) return false;
            pollfd p{in_fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, 100);
            if (r > 0 || (r < 0 && errno != EINTR)) return true;  // ready, or let read() report it
        }
    }

    void read_loop() {
        unsigned carry_count = 0;
        std::array<char, 4> carry_chars{};
        std::array<std::uint64_t, 4> carry_offsets{};
        std::uint64_t position = 0;
        for (std::uint64_t index = 0;; ++index) {
            block* b = nullptr;
            if (!free_->pop(b, &stop_)) break;
            b->index = index;
            b->data_offset = position;
            b->carry_count = carry_count;
            std::copy_n(carry_chars.begin(), carry_count, b->data() - carry_count);
            b->carry_offset = carry_offsets;
            bool eof = false;
            int err = 0;
            // Decode counts what the cut needs as the data arrives.
            std::size_t significant = 0;
            whitespace_counts ws;
            if (cfg_.dir == direction::encode) {
                b->data_len = fill(b->data(), capacity_, capacity_, eof, err, [](const char*, std::size_t) {});
            } else if (significance_ == significance::alphabet_or_pad) {
                b->data_len = fill(b->data(), capacity_, read_piece_bytes, eof, err, [&](const char* p, std::size_t n) {
                    significant += count_significant(significance_, values_, p, n);
                });
            } else {
                b->data_len = fill(b->data(), capacity_, read_piece_bytes, eof, err, [&](const char* p, std::size_t n) {
                    const whitespace_counts piece = count_whitespace(p, n);
                    ws.newlines += piece.newlines;
                    ws.spaces += piece.spaces;
                });
                b->newlines = ws.newlines;
                b->other_whitespace = ws.spaces - ws.newlines;
                significant = b->data_len - (significance_ == significance::not_newline ? ws.newlines
                                             : significance_ == significance::not_space  ? ws.spaces
                                                                                         : 0);
            }
            position += b->data_len;
            bytes_read_ = position;
            b->read_errno = err;
            b->last = eof || err != 0 || stop_.load(std::memory_order_acquire);
            carry_count = 0;
            if (cfg_.dir == direction::decode) {
                if (!b->last) cut_at_whole_groups(*b, significant, carry_count, carry_chars, carry_offsets);
            }
            to_worker_[index % workers_]->push(b);
            if (b->last) break;
        }
        for (auto& q : to_worker_) q->push(nullptr);
    }

    // Moves the last (significant count % 4) significant characters of the block to
    // the carry, so the block holds whole groups.
    void cut_at_whole_groups(block& b, std::size_t significant_in_data, unsigned& carry_count,
                             std::array<char, 4>& chars, std::array<std::uint64_t, 4>& offsets) const {
        const char* data = b.data();
        const std::size_t total = b.carry_count + significant_in_data;
        unsigned move = static_cast<unsigned>(total % 4);
        std::array<char, 4> rev_chars{};
        std::array<std::uint64_t, 4> rev_offsets{};
        unsigned taken = 0;
        std::size_t cut = b.data_len;
        while (taken < move && cut > 0) {
            --cut;
            if (is_significant(significance_, values_, static_cast<unsigned char>(data[cut]))) {
                rev_chars[taken] = data[cut];
                rev_offsets[taken++] = b.data_offset + cut;
            }
        }
        if (taken < move) {
            // Nothing significant left in the data: the rest comes from this block's own
            // carry, and the carry it keeps must end right before the (now empty) data.
            cut = 0;
            const unsigned from_carry = move - taken;
            for (unsigned i = 0; i < from_carry; ++i) {
                const unsigned slot = b.carry_count - 1 - i;
                rev_chars[taken] = b.staging()[slot];
                rev_offsets[taken++] = b.carry_offset[slot];
            }
            const unsigned keep = b.carry_count - from_carry;
            std::memmove(b.data() - keep, b.staging(), keep);
            b.carry_count = keep;
        }
        b.data_len = cut;
        carry_count = move;
        for (unsigned i = 0; i < move; ++i) {
            chars[i] = rev_chars[move - 1 - i];
            offsets[i] = rev_offsets[move - 1 - i];
        }
    }

    // -------------------------------------------------------------- workers

    void work_loop(unsigned w) {
        std::vector<char> scratch;
        for (;;) {
            block* b = nullptr;
            to_worker_[w]->pop(b);
            if (b == nullptr) break;
            b->out_len = 0;
            b->code = status::ok;
            b->has_significant = b->ends_closed = false;
            if (b->read_errno == 0) {
                if (cfg_.dir == direction::encode) encode_block(*b, scratch);
                else if (cfg_.so.dialect == decode_dialect::coreutils) decode_block_coreutils(*b, scratch);
                else decode_block_rfc(*b);
            }
            to_writer_[w]->push(b);
        }
    }

    void encode_block(block& b, std::vector<char>& scratch) {
        const stream_options& so = cfg_.so;
        const auto* in = reinterpret_cast<const std::uint8_t*>(b.data());
        const std::size_t cols = so.wrap_columns;
        if (cols == 0) {
            const encode_result r = encode_with(so.how, {in, b.data_len}, {b.out.get(), b.out_capacity}, cfg_.enc, so.par);
            b.code = r.code;
            b.out_len = r.written;
            return;
        }
        // Every block but the last is full, so its first character's column is known.
        std::size_t column = static_cast<std::size_t>(b.index * (capacity_ / 3 * 4) % cols);
        char* dst = b.out.get();
        if (so.how == backend::serial) {
            scratch.resize(wrap_subchunk_bytes / 3 * 4 + 4);
            for (std::size_t done = 0; done < b.data_len;) {
                const std::size_t n = std::min(wrap_subchunk_bytes, b.data_len - done);
                const encode_result r = encode({in + done, n}, scratch, cfg_.enc);
                if (!r.ok()) { b.code = r.code; return; }
                dst += wrap_lines(scratch.data(), r.written, dst, cols, column);
                done += n;
            }
        } else {
            scratch.resize(encoded_length(capacity_, cfg_.enc.pad));
            const encode_result r = encode_with(so.how, {in, b.data_len}, scratch, cfg_.enc, so.par);
            if (!r.ok()) { b.code = r.code; return; }
            dst += wrap_lines(scratch.data(), r.written, dst, cols, column);
        }
        if (b.last && column != 0) *dst++ = '\n';
        b.out_len = static_cast<std::size_t>(dst - b.out.get());
    }

    static std::size_t wrap_lines(const char* src, std::size_t n, char* dst, std::size_t cols, std::size_t& column) {
        char* d = dst;
        while (n > 0) {
            const std::size_t take = std::min(n, cols - column);
            std::memcpy(d, src, take);
            d += take;
            src += take;
            n -= take;
            column += take;
            if (column == cols) {
                *d++ = '\n';
                column = 0;
            }
        }
        return static_cast<std::size_t>(d - dst);
    }

    void decode_block_rfc(block& b) {
        const stream_options& so = cfg_.so;
        const char* s = b.staging();
        const std::size_t n = b.staging_len();
        const decode_result r = decode_with(so.how, {s, n}, {reinterpret_cast<std::uint8_t*>(b.out.get()), b.out_capacity},
                                            cfg_.dec, so.par);
        b.out_len = r.written;
        b.code = r.code;
        if (!r.ok()) b.error_offset = r.code == status::kernel_unavailable ? 0 : b.absolute(std::min<std::size_t>(r.offset, n));
        // No block may start with data after a padded quantum in an earlier one (an
        // error at its first significant character, whatever the block's own verdict):
        // note what the writer needs to check that across blocks.
        std::size_t first = 0;
        while (first < n && !is_significant(significance_, values_, static_cast<unsigned char>(s[first]))) ++first;
        if (first == n) return;
        b.has_significant = true;
        b.first_significant_offset = b.absolute(first);
        b.first_is_data_or_pad = values_[static_cast<unsigned char>(s[first])] != detail::invalid_value || s[first] == '=';
        std::size_t last = n;
        while (!is_significant(significance_, values_, static_cast<unsigned char>(s[last - 1]))) --last;
        b.ends_closed = s[last - 1] == '=';
    }

    void decode_block_coreutils(block& b, std::vector<char>& scratch) {
        const stream_options& so = cfg_.so;
        const char* staged = b.staging();
        const std::size_t staged_len = b.staging_len();
        auto* out = reinterpret_cast<std::uint8_t*>(b.out.get());
        bool carry_has_whitespace = false;
        for (unsigned i = 0; i < b.carry_count; ++i)
            carry_has_whitespace |= detail::is_ascii_whitespace(static_cast<unsigned char>(staged[i]));
        const bool only_newlines = significance_ == significance::not_newline && b.other_whitespace == 0 && !carry_has_whitespace;
        if (only_newlines && b.newlines > 0) {
            // With no whitespace but '\n', the library's whitespace skipping (SIMD) is
            // exactly coreutils' newline skipping; anything it rejects takes the path below.
            const decode_options lines{cfg_.dec.alpha, padding::required, ignore::whitespace, cfg_.dec.kernel};
            const decode_result r = decode_with(so.how, {staged, staged_len}, {out, b.out_capacity}, lines, so.par);
            if (r.ok()) {
                b.out_len = r.written;
                return;
            }
        }
        // The significant characters, contiguous: in place when nothing is skipped.
        const char* s = staged;
        std::size_t n = staged_len;
        const bool no_newlines = only_newlines && b.newlines == 0;
        if (significance_ == significance::alphabet_or_pad ||
            (!no_newlines && std::memchr(staged, '\n', staged_len) != nullptr)) {
            scratch.resize(staged_len);
            n = compact(staged, staged_len, scratch.data());
            s = scratch.data();
        }
        const decode_options strict{cfg_.dec.alpha, padding::required, ignore::none, cfg_.dec.kernel};
        std::size_t pos = 0;
        std::size_t written = 0;
        while (pos < n) {
            // The library decodes runs of canonical quanta; each group it rejects is
            // decoded the coreutils way, then the library resumes after it.
            const std::size_t rest = n - pos;
            const decode_result r = decode_with(so.how, {s + pos, rest}, {out + written, b.out_capacity - written}, strict, so.par);
            written += r.written;
            if (r.ok()) break;
            if (r.code == status::kernel_unavailable) {
                b.code = r.code;
                break;
            }
            pos += r.offset < rest ? r.offset / 4 * 4 : rest / 4 * 4;
            const auto len = static_cast<unsigned>(std::min<std::size_t>(4, n - pos));
            const group_result g = decode_coreutils_group(s + pos, len, values_, out + written);
            written += g.bytes;
            if (!g.ok) {
                b.code = g.code;
                b.error_offset = b.absolute(staging_index(staged, staged_len, s == staged, pos + g.bad_slot));
                break;
            }
            pos += len;
        }
        b.out_len = written;
    }

    std::size_t compact(const char* src, std::size_t n, char* dst) const noexcept {
        std::size_t m = 0;
        if (significance_ == significance::not_newline) {
            for (std::size_t i = 0; i < n;) {
                const void* nl = std::memchr(src + i, '\n', n - i);
                const std::size_t end = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - src) : n;
                std::memcpy(dst + m, src + i, end - i);
                m += end - i;
                i = end + 1;
            }
            return m;
        }
        for (std::size_t i = 0; i < n; ++i) {
            dst[m] = src[i];
            m += is_significant(significance_, values_, static_cast<unsigned char>(src[i]));
        }
        return m;
    }

    // The staging index of the significant character number `k` (k == count: the end).
    std::size_t staging_index(const char* staged, std::size_t len, bool identity, std::size_t k) const noexcept {
        if (identity) return k;
        for (std::size_t i = 0; i < len; ++i) {
            if (!is_significant(significance_, values_, static_cast<unsigned char>(staged[i]))) continue;
            if (k-- == 0) return i;
        }
        return len;
    }

    // -------------------------------------------------------------- writer

    void write_loop() {
        bool closed = false;  // RFC 4648 decode: a padded quantum ended; no data may follow
        for (std::uint64_t index = 0;; ++index) {
            block* b = nullptr;
            to_writer_[index % workers_]->pop(b);
            bool done = b->last;
            if (b->read_errno != 0) {
                fail_io(stream_failure::read, b->read_errno, "error reading " + quoted(cfg_.input_name));
                done = true;
            } else if (cfg_.dir == direction::decode && cfg_.so.dialect == decode_dialect::rfc4648 && closed &&
                       b->has_significant) {
                fail_codec(b->first_is_data_or_pad ? status::bad_padding : status::invalid_character,
                           b->first_significant_offset);
                done = true;
            } else {
                if (!write_all(b->out.get(), b->out_len)) {
                    done = true;
                } else if (b->code != status::ok) {
                    fail_codec(b->code, b->error_offset);
                    done = true;
                }
                closed = closed || b->ends_closed;
            }
            free_->push(b);
            if (done) break;
        }
    }

    bool write_all(const char* p, std::size_t n) {
        while (n > 0) {
            const ssize_t w = ::write(out_fd_, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                fail_io(stream_failure::write, errno, "error writing " + quoted(cfg_.output_name));
                return false;
            }
            p += w;
            n -= static_cast<std::size_t>(w);
            result_.bytes_written += static_cast<std::uint64_t>(w);
        }
        return true;
    }

    static std::string quoted(const std::string& name) { return "'" + name + "'"; }

    void fail_io(stream_failure f, int err, const std::string& what) {
        result_.failure = f;
        result_.error_number = err;
        result_.message = what + ": " + errno_text(err);
    }

    void fail_codec(status code, std::uint64_t offset) {
        result_.failure = stream_failure::codec;
        result_.code = code;
        result_.offset = offset;
        if (code == status::kernel_unavailable) {
            result_.message = "kernel unavailable";
        } else {
            result_.message = "invalid input in " + quoted(cfg_.input_name) + " at byte offset " +
                              std::to_string(offset) + ": " + std::string(describe(code));
        }
    }

    const engine_config& cfg_;
    unsigned workers_ = 1;
    unsigned blocks_ = 3;
    std::size_t capacity_ = 0;
    const std::uint8_t* values_ = nullptr;
    significance significance_ = significance::every_byte;
    int in_fd_ = -1;
    int out_fd_ = -1;
    bool input_is_regular_ = false;

    std::vector<block> pool_;
    std::unique_ptr<channel> free_;
    std::vector<std::unique_ptr<channel>> to_worker_;
    std::vector<std::unique_ptr<channel>> to_writer_;
    std::atomic<bool> stop_{false};
    std::uint64_t bytes_read_ = 0;  // reader-owned; read after join
    stream_result result_;          // writer-owned
};

std::string fd_name(int fd, bool input) {
    if (input && fd == 0) return "standard input";
    if (!input && fd == 1) return "standard output";
    return "fd " + std::to_string(fd);
}

stream_result run_fds(engine_config cfg, int in_fd, int out_fd) {
    cfg.input_name = cfg.so.input_name.empty() ? fd_name(in_fd, true) : std::string(cfg.so.input_name);
    cfg.output_name = cfg.so.output_name.empty() ? fd_name(out_fd, false) : std::string(cfg.so.output_name);
    engine e(cfg);
    return e.run(in_fd, out_fd);
}

// ------------------------------------------------------------------ files

stream_result io_failure(stream_failure f, int err, const std::string& what) {
    stream_result r;
    r.failure = f;
    r.error_number = err;
    r.message = what + ": " + errno_text(err);
    return r;
}

// Closes an fd on scope exit unless released.
struct fd_guard {
    int fd = -1;
    bool owned = false;
    ~fd_guard() {
        if (owned && fd >= 0) ::close(fd);
    }
};

stream_result run_paths(engine_config cfg, const std::string& in_path, const std::string& out_path) {
    const bool in_std = in_path == "-";
    const bool out_std = out_path == "-";
    cfg.input_name = !cfg.so.input_name.empty() ? std::string(cfg.so.input_name) : in_std ? "standard input" : in_path;
    cfg.output_name = !cfg.so.output_name.empty() ? std::string(cfg.so.output_name) : out_std ? "standard output" : out_path;

    fd_guard in{in_std ? 0 : ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC), !in_std};
    if (in.fd < 0) return io_failure(stream_failure::open_input, errno, "cannot open " + ("'" + in_path + "'"));

    if (out_std) {
        engine e(cfg);
        return e.run(in.fd, 1);
    }
    struct stat st{};
    if (::stat(out_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        // A device or FIFO cannot be replaced atomically: write to it in place.
        fd_guard out{::open(out_path.c_str(), O_WRONLY | O_CLOEXEC), true};
        if (out.fd < 0) return io_failure(stream_failure::create_output, errno, "cannot open '" + out_path + "'");
        engine e(cfg);
        return e.run(in.fd, out.fd);
    }
    common::atomic_file out(out_path);
    if (!out.ok()) {
        stream_result r;
        r.failure = stream_failure::create_output;
        r.error_number = errno;
        r.message = out.error();
        return r;
    }
    engine e(cfg);
    stream_result r = e.run(in.fd, out.fd());
    if (!r.ok()) return r;  // `out` removes the temporary file
    if (std::string why = out.commit(); !why.empty()) {
        r.failure = stream_failure::commit;
        r.error_number = errno;
        r.message = why;
    }
    return r;
}

engine_config encode_config(const encode_options& o, const stream_options& s) {
    engine_config c;
    c.dir = direction::encode;
    c.enc = o;
    c.so = s;
    return c;
}

engine_config decode_config(const decode_options& o, const stream_options& s) {
    engine_config c;
    c.dir = direction::decode;
    c.dec = o;
    c.so = s;
    return c;
}

}  // namespace

stream_result encode_stream(int in_fd, int out_fd, const encode_options& opts, const stream_options& stream) {
    return run_fds(encode_config(opts, stream), in_fd, out_fd);
}

stream_result decode_stream(int in_fd, int out_fd, const decode_options& opts, const stream_options& stream) {
    return run_fds(decode_config(opts, stream), in_fd, out_fd);
}

stream_result encode_file(const std::string& in_path, const std::string& out_path, const encode_options& opts,
                          const stream_options& stream) {
    return run_paths(encode_config(opts, stream), in_path, out_path);
}

stream_result decode_file(const std::string& in_path, const std::string& out_path, const decode_options& opts,
                          const stream_options& stream) {
    return run_paths(decode_config(opts, stream), in_path, out_path);
}

}  // namespace calib64
