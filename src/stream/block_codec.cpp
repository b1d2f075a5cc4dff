// Coding one block (block_codec.h): encode with line wrapping, RFC 4648 decode, and
// the coreutils dialect through encoder/coreutils.h.
#include "stream/block_codec.h"

#include <algorithm>
#include <cstring>

#include "coreutils.h"

namespace calib64::streaming {
namespace {

constexpr std::size_t wrap_step_bytes = 12 * 1024;  // encode-then-wrap step; its output stays in L1

// Copies n characters to dst with a '\n' after every cols of them, the first line
// starting at `column`. Whole lines of a width known at compile time (76, coreutils'
// default; 64, PEM's) are fixed-size copies, which the compiler unrolls, instead of
// a memcpy call per line.
template <std::size_t Cols>
std::size_t wrap_fixed(const char* src, std::size_t n, char* dst, std::size_t& column) noexcept {
    char* d = dst;
    if (column != 0) {  // finish the line the previous step left open
        const std::size_t take = std::min(n, Cols - column);
        std::memcpy(d, src, take);
        d += take, src += take, n -= take, column += take;
        if (column < Cols) return static_cast<std::size_t>(d - dst);
        *d++ = '\n';
        column = 0;
    }
    for (; n >= Cols; n -= Cols, src += Cols, d += Cols + 1) {
        std::memcpy(d, src, Cols);
        d[Cols] = '\n';
    }
    std::memcpy(d, src, n);
    column = n;
    return static_cast<std::size_t>(d + n - dst);
}

std::size_t wrap_any(const char* src, std::size_t n, char* dst, std::size_t cols, std::size_t& column) noexcept {
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

std::size_t wrap_lines(const char* src, std::size_t n, char* dst, std::size_t cols, std::size_t& column) noexcept {
    if (cols == 76) return wrap_fixed<76>(src, n, dst, column);
    if (cols == 64) return wrap_fixed<64>(src, n, dst, column);
    return wrap_any(src, n, dst, cols, column);
}

// The coreutils decoder's strict runs through the job's backend.
decode_result decode_by_job(std::string_view in, std::span<std::uint8_t> out, const decode_options& o,
                            const void* context) noexcept {
    const job& j = *static_cast<const job*>(context);
    return decode_with(j.how, in, out, o, j.par);
}

}  // namespace

block_coder::block_coder(const job& j) noexcept
    : job_(j),
      values_(detail::values_of(j.dir == direction::encode ? j.enc.alpha : j.dec.alpha)),
      significance_(significance_of(j.dec, j.dialect)) {}

std::size_t block_coder::output_capacity() const noexcept {
    if (job_.dir == direction::decode) return max_decoded_length(carry_room + job_.capacity) + 4;
    const std::size_t chars = encoded_length(job_.capacity, job_.enc.pad);
    const std::size_t cols = job_.wrap_columns;
    return cols == 0 ? chars : chars + chars / cols + 2;
}

void block_coder::code(block& b) const {
    b.out_len = 0;
    b.code = status::ok;
    b.has_significant = b.ends_closed = false;
    if (job_.dir == direction::encode) encode_block(b);
    else if (job_.dialect == decode_dialect::coreutils) decode_block_coreutils(b);
    else decode_block_rfc(b);
}

void block_coder::encode_block(block& b) const {
    const auto* in = reinterpret_cast<const std::uint8_t*>(b.data());
    const std::size_t cols = job_.wrap_columns;
    if (cols == 0) {
        const encode_result r = encode_with(job_.how, {in, b.data_len}, {b.out.get(), b.out_capacity}, job_.enc, job_.par);
        b.code = r.code;
        b.out_len = r.written;
        return;
    }
    // Every block but the last is full, so its first character's column is known.
    std::size_t column = static_cast<std::size_t>(b.index * (job_.capacity / 3 * 4) % cols);
    char* dst = b.out.get();
    if (job_.how == backend::serial) {
        b.scratch.resize(wrap_step_bytes / 3 * 4 + 4);
        for (std::size_t done = 0; done < b.data_len;) {
            const std::size_t n = std::min(wrap_step_bytes, b.data_len - done);
            const encode_result r = encode({in + done, n}, b.scratch, job_.enc);
            if (!r.ok()) { b.code = r.code; return; }
            dst += wrap_lines(b.scratch.data(), r.written, dst, cols, column);
            done += n;
        }
    } else {
        b.scratch.resize(encoded_length(job_.capacity, job_.enc.pad));
        const encode_result r = encode_with(job_.how, {in, b.data_len}, b.scratch, job_.enc, job_.par);
        if (!r.ok()) { b.code = r.code; return; }
        dst += wrap_lines(b.scratch.data(), r.written, dst, cols, column);
    }
    if (b.last && column != 0) *dst++ = '\n';
    b.out_len = static_cast<std::size_t>(dst - b.out.get());
}

void block_coder::decode_block_rfc(block& b) const {
    const char* s = b.staging();
    const std::size_t n = b.staging_len();
    const decode_result r = decode_with(job_.how, {s, n}, {reinterpret_cast<std::uint8_t*>(b.out.get()), b.out_capacity},
                                        job_.dec, job_.par);
    b.out_len = r.written;
    b.code = r.code;
    if (!r.ok()) b.error_offset = r.code == status::kernel_unavailable ? 0 : b.absolute(std::min<std::size_t>(r.offset, n));
    // No block may start with data after a padded quantum in an earlier one (an error
    // at its first significant character, whatever the block's own verdict): note
    // what the writer needs to check that across blocks.
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

void block_coder::decode_block_coreutils(block& b) const {
    const char* staged = b.staging();
    bool carry_has_whitespace = false;
    for (unsigned i = 0; i < b.carry_count; ++i)
        carry_has_whitespace |= detail::is_ascii_whitespace(static_cast<unsigned char>(staged[i]));
    // The reader counted the data's whitespace: the decoder need not scan for it.
    using detail::whitespace_hint;
    const whitespace_hint hint = b.other_whitespace != 0 || carry_has_whitespace ? whitespace_hint::other
                                 : b.newlines != 0                               ? whitespace_hint::only_newlines
                                                                                 : whitespace_hint::none;
    const decode_result r = detail::decode_coreutils({staged, b.staging_len()},
                                                     {reinterpret_cast<std::uint8_t*>(b.out.get()), b.out_capacity},
                                                     job_.dec, b.scratch, hint, decode_by_job, &job_);
    b.out_len = r.written;
    b.code = r.code;
    if (!r.ok()) b.error_offset = r.code == status::kernel_unavailable ? 0 : b.absolute(r.offset);
}

}  // namespace calib64::streaming
