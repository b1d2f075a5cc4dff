// The read stage (input.h).
#include "stream/input.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace calib64::streaming {
namespace {

// Decode reads in pieces this size and counts each while it is still in L2.
constexpr std::size_t decode_read_piece_bytes = 256 * 1024;

// Waits until fd is readable; false once `stop` is set (checked every 100 ms).
bool wait_readable(int fd, const std::atomic<bool>& stop) {
    for (;;) {
        if (stop.load(std::memory_order_acquire)) return false;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 100);
        if (r > 0 || (r < 0 && errno != EINTR)) return true;  // ready, or let read() report it
    }
}

}  // namespace

input_reader::input_reader(const job& j, int fd, bool regular) noexcept
    : job_(j),
      fd_(fd),
      regular_(regular),
      values_(detail::values_of(j.dec.alpha)),
      significance_(significance_of(j.dec, j.dialect)) {}

// Fills [dst, dst + want) from the input; returns the bytes read, sets eof / err.
// Reads at most `piece` bytes per call and shows each piece to `on_data` while it is
// still in cache.
template <typename OnData>
std::size_t input_reader::fill(char* dst, std::size_t want, std::size_t piece, bool& eof, int& err,
                               const std::atomic<bool>& stop, bool stoppable, OnData on_data) {
    std::size_t got = 0;
    while (got < want) {
        if (stoppable && !regular_ && !wait_readable(fd_, stop)) break;
        const ssize_t n = ::read(fd_, dst + got, std::min(piece, want - got));
        if (n > 0) {
            on_data(dst + got, static_cast<std::size_t>(n));
            got += static_cast<std::size_t>(n);
        } else if (n == 0) {
            eof = true;
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // A non-blocking descriptor (inherited stdin): wait for data, never spin.
            pollfd p{fd_, POLLIN, 0};
            (void)::poll(&p, 1, stoppable ? 100 : -1);
        } else if (errno != EINTR) {
            err = errno;
            break;
        }
    }
    return got;
}

void input_reader::read_into(block& b, const std::atomic<bool>& stop, bool stoppable) {
    b.index = next_index_++;
    b.data_offset = position_;
    b.carry_count = carry_count_;
    std::copy_n(carry_chars_.begin(), carry_count_, b.data() - carry_count_);
    b.carry_offset = carry_offsets_;
    b.newlines = b.other_whitespace = 0;
    bool eof = false;
    int err = 0;
    const std::size_t capacity = job_.capacity;
    std::size_t significant = 0;  // decode: what the cut needs, counted as the data arrives
    if (job_.dir == direction::encode) {
        b.data_len = fill(b.data(), capacity, capacity, eof, err, stop, stoppable, [](const char*, std::size_t) {});
    } else if (significance_ == significance::alphabet_or_pad) {
        b.data_len = fill(b.data(), capacity, decode_read_piece_bytes, eof, err, stop, stoppable,
                          [&](const char* p, std::size_t n) { significant += count_significant(significance_, values_, p, n); });
    } else {
        whitespace_counts ws;
        b.data_len = fill(b.data(), capacity, decode_read_piece_bytes, eof, err, stop, stoppable,
                          [&](const char* p, std::size_t n) {
                              const whitespace_counts piece = count_whitespace(p, n);
                              ws.newlines += piece.newlines;
                              ws.spaces += piece.spaces;
                          });
        b.newlines = ws.newlines;
        b.other_whitespace = ws.spaces - ws.newlines;
        significant = b.data_len - (significance_ == significance::not_newline ? ws.newlines
                                    : significance_ == significance::not_space  ? ws.spaces
                                                                                : 0);
    }
    position_ += b.data_len;
    b.read_errno = err;
    b.last = eof || err != 0 || stop.load(std::memory_order_acquire);
    carry_count_ = 0;
    if (job_.dir == direction::decode && !b.last) cut_at_whole_groups(b, significant);
    done_ = b.last;
}

// Moves the last (significant count % 4) significant characters of the block to the
// carry, so the block holds whole groups.
void input_reader::cut_at_whole_groups(block& b, std::size_t significant_in_data) {
    const char* data = b.data();
    const std::size_t total = b.carry_count + significant_in_data;
    const auto move = static_cast<unsigned>(total % 4);
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
    carry_count_ = move;
    for (unsigned i = 0; i < move; ++i) {
        carry_chars_[i] = rev_chars[move - 1 - i];
        carry_offsets_[i] = rev_offsets[move - 1 - i];
    }
}

}  // namespace calib64::streaming
