// The codec driver: runs a kernel over the bulk and the scalar reference over
// everything a kernel leaves (tails, padding, errors, skipped characters).
//
// Decoding has one precise, character-at-a-time path (decode_from) that defines
// the semantics: which input is valid, which error and offset an invalid input
// reports, how many bytes were written. The fast paths only ever decode runs the
// precise path would decode identically, and hand over to it (with the exact
// quantum state) the moment anything is unusual.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "alphabet.h"
#include "kernel.h"
#include "quantum.h"

namespace calib64 {

std::string_view describe(status s) noexcept {
    switch (s) {
        case status::ok: return "ok";
        case status::invalid_character: return "invalid character";
        case status::bad_padding: return "bad padding";
        case status::nonzero_trailing_bits: return "non-zero trailing bits (not canonical base64)";
        case status::truncated_input: return "truncated input";
        case status::output_too_small: return "output buffer too small";
        case status::kernel_unavailable: return "kernel unavailable";
    }
    return "unknown status";
}

namespace {

using detail::kernel_ops;

// encode() and decode() resolve their kernel here: after the first call per
// kernel id, one relaxed load (the kernel rows are constants: there is nothing
// to acquire) instead of a call into dispatch and its function-local-static guard.
constinit std::atomic<const kernel_ops*> resolved_kernels[256]{};  // every kernel_id value (uint8_t)

// The kernel for id if an earlier call resolved it, else nullptr.
const kernel_ops* remembered_kernel(kernel_id id) noexcept {
    const auto i = static_cast<std::size_t>(id);
    return i < std::size(resolved_kernels) ? resolved_kernels[i].load(std::memory_order_relaxed) : nullptr;
}

const kernel_ops* kernel_for(kernel_id id) noexcept {
    if (const kernel_ops* k = remembered_kernel(id)) return k;
    const kernel_ops* k = detail::resolve_kernel(id);  // nullptr (unavailable) is not cached: an error path
    const auto i = static_cast<std::size_t>(id);
    if (k != nullptr && i < std::size(resolved_kernels)) resolved_kernels[i].store(k, std::memory_order_relaxed);
    return k;
}

// ------------------------------------------------------------------ encode

void encode_tail(const std::uint8_t* src, std::size_t rem, char* dst, const char* chars, bool pad) noexcept {
    if (rem == 0) return;
    const std::uint32_t v = std::uint32_t{src[0]} << 16 | (rem == 2 ? std::uint32_t{src[1]} << 8 : 0);
    dst[0] = chars[v >> 18];
    dst[1] = chars[(v >> 12) & 63];
    if (rem == 2) dst[2] = chars[(v >> 6) & 63];
    if (pad) {
        if (rem == 1) dst[2] = '=';
        dst[3] = '=';
    }
}

// ------------------------------------------------------------------ decode

// A quantum in progress: up to four slots, data then padding.
struct quantum_state {
    std::uint8_t count = 0;  // slots filled (data + '=')
    std::uint8_t pads = 0;   // '=' among them
    bool closed = false;     // a padded quantum ended: nothing but skipped bytes may follow
    std::array<std::uint8_t, 4> value{};
    std::array<std::size_t, 4> offset{};
};

bool skipped(ignore skip, const std::uint8_t* values, unsigned char c) noexcept {
    switch (skip) {
        case ignore::none: return false;
        case ignore::whitespace: return detail::is_ascii_whitespace(c);
        case ignore::non_alphabet: return values[c] == detail::invalid_value && c != '=';
    }
    return false;
}

// Writes the bytes of a finished quantum (`data` data slots), checking the
// canonical-bits rule and the caller's capacity.
decode_result emit_quantum(const quantum_state& q, unsigned data, std::uint8_t* out, std::size_t cap,
                           std::size_t written) noexcept {
    const std::uint32_t v = std::uint32_t{q.value[0]} << 18 | std::uint32_t{q.value[1]} << 12 |
                            std::uint32_t{q.value[2]} << 6 | q.value[3];
    const unsigned bytes = data - 1;
    const std::uint32_t unused_mask = data == 2 ? 0xFFFFu : data == 3 ? 0xFFu : 0u;
    if ((v & unused_mask) != 0) return {status::nonzero_trailing_bits, q.offset[data - 1], written};
    if (cap - written < bytes) return {status::output_too_small, q.offset[0], written};
    for (unsigned i = 0; i < bytes; ++i) out[written + i] = static_cast<std::uint8_t>(v >> (16 - 8 * i));
    return {status::ok, 0, written + bytes};
}

// The precise path: decodes in[pos, n) character by character from state q.
decode_result decode_from(const char* src, std::size_t n, std::size_t pos, std::uint8_t* out, std::size_t cap,
                          std::size_t written, quantum_state q, const decode_options& o) noexcept {
    const std::uint8_t* values = detail::values_of(o.alpha);
    const auto* in = reinterpret_cast<const unsigned char*>(src);
    for (; pos < n; ++pos) {
        const unsigned char c = in[pos];
        const std::uint8_t v = values[c];
        if (v != detail::invalid_value) {
            if (q.closed || q.pads > 0) return {status::bad_padding, pos, written};  // data after '='
            q.value[q.count] = v;
            q.offset[q.count++] = pos;
        } else if (c == '=') {
            // '=' may only fill slots 2 and 3 of a quantum, once, and never when forbidden.
            if (o.pad == padding::forbidden || q.closed || q.count < 2) return {status::bad_padding, pos, written};
            q.value[q.count] = 0;
            q.offset[q.count++] = pos;
            ++q.pads;
        } else if (skipped(o.skip, values, c)) {
            continue;
        } else {
            return {status::invalid_character, pos, written};
        }
        if (q.count == 4) {
            const decode_result r = emit_quantum(q, 4u - q.pads, out, cap, written);
            if (!r.ok()) return r;
            written = r.written;
            q = quantum_state{.closed = q.pads > 0};
        }
    }
    if (q.count == 0) return {status::ok, 0, written};
    // The input ends inside a quantum.
    if (q.pads > 0 || q.count == 1 || o.pad == padding::required) return {status::truncated_input, n, written};
    const decode_result r = emit_quantum(q, q.count, out, cap, written);
    return r.ok() ? decode_result{status::ok, 0, r.written} : r;
}

// Whole quanta of pure alphabet from the front of src: kernel first, then scalar
// for whatever the kernel left. Returns characters consumed (multiple of 4).
std::size_t decode_bulk(const kernel_ops& k, const char* src, std::size_t len, std::uint8_t* dst,
                        alphabet alpha) noexcept {
    const std::size_t done = k.decode_bulk(src, len, dst, alpha);
    if (&k == &detail::scalar_kernel) return done;
    return done + detail::scalar_kernel.decode_bulk(src + done, len - done, dst + done / 4 * 3, alpha);
}

// A valid last quantum with padding or of 2-3 characters, what a strict input
// usually ends with after the bulk: its 1-2 bytes, written, or 0 for anything else
// (the precise path then decides). The caller has checked the room.
std::size_t decode_last_quantum(std::string_view rest, std::uint8_t* out, alphabet alpha, padding pad) noexcept {
    const std::size_t n = rest.size();
    if (n < 2 || n > 4) return 0;
    std::size_t data = n;
    if (n == 4) {
        if (rest[3] != '=' || pad == padding::forbidden) return 0;
        data = rest[2] == '=' ? 2 : 3;
    } else if (pad == padding::required) {
        return 0;
    }
    const std::uint8_t* values = detail::values_of(alpha);
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < data; ++i) {
        const std::uint8_t x = values[static_cast<unsigned char>(rest[i])];
        if (x == detail::invalid_value) return 0;
        v = v << 6 | x;
    }
    // The unused low bits of a 2- or 3-character quantum must be zero.
    if ((v & (data == 2 ? 0x0Fu : 0x03u)) != 0) return 0;
    v <<= 6 * (4 - data);
    out[0] = static_cast<std::uint8_t>(v >> 16);
    if (data == 3) out[1] = static_cast<std::uint8_t>(v >> 8);
    return data - 1;
}

decode_result decode_strict(const kernel_ops& k, std::string_view in, std::span<std::uint8_t> out,
                            const decode_options& o) noexcept {
    // Too little room for a valid input's bytes: the precise path reports what it
    // meets first (an earlier error, or the first quantum that does not fit), like
    // the skipping modes, and needs no scratch room.
    if (out.size() < detail::strict_decoded_size(in))
        return decode_from(in.data(), in.size(), 0, out.data(), out.size(), 0, {}, o);
    const std::size_t done = decode_bulk(k, in.data(), in.size(), out.data(), o.alpha);
    if (done == in.size()) return {status::ok, 0, done / 4 * 3};
    if (const std::size_t last = decode_last_quantum(in.substr(done), out.data() + done / 4 * 3, o.alpha, o.pad))
        return {status::ok, 0, done / 4 * 3 + last};
    return decode_from(in.data(), in.size(), done, out.data(), out.size(), done / 4 * 3, {}, o);
}

// Skipping modes: strip a chunk into a small buffer (stays in L1), decode the
// buffer's whole quanta with the kernel, carry the 0-3 leftover characters.
decode_result decode_skipping(const kernel_ops& k, std::string_view in, std::span<std::uint8_t> out,
                              const decode_options& o) noexcept {
    // 8 KiB of input per chunk: input, staging and output still fit in L1 (48 KiB
    // here), and the per-chunk bookkeeping costs half as much as with 4 KiB.
    constexpr std::size_t chunk_chars = 8192;
    // The strip pass stores into the staging buffer while it loads input ahead.
    // A load whose address agrees in its low 12 bits with an older store still in
    // flight waits for it (4K aliasing): with the buffer placed at random, whitespace
    // decode swung between 14% and 26% of memcpy. Measured on Zen 5, staging placed
    // 3/4 of a page after the input (mod 4 KiB) keeps the loads clear of recent
    // stores for any plausible whitespace density; 1/8 to 1/2 of a page was worst.
    constexpr std::size_t page = 4096;
    alignas(64) char staging_area[page + chunk_chars + 4];
    const std::size_t shift = (reinterpret_cast<std::uintptr_t>(in.data()) + page / 4 * 3 -
                               reinterpret_cast<std::uintptr_t>(staging_area)) % page;
    char* const staging = staging_area + shift;
    const std::uint8_t* values = detail::values_of(o.alpha);
    const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    const std::size_t cap = out.size();

    quantum_state carry;  // the state at the start of the current chunk
    std::size_t written = 0;
    for (std::size_t pos = 0; pos < n;) {
        const std::size_t end = std::min(n, pos + chunk_chars);
        for (unsigned i = 0; i < carry.count; ++i) staging[i] = detail::chars_of(o.alpha)[carry.value[i]];
        std::size_t m = carry.count;
        if (o.skip == ignore::whitespace) {
            m += k.strip_whitespace(in.data() + pos, end - pos, staging + m);
        } else {
            for (std::size_t i = pos; i < end; ++i) {
                staging[m] = static_cast<char>(bytes[i]);
                m += !skipped(o.skip, values, bytes[i]);
            }
        }
        const std::size_t whole = m / 4 * 4;
        // A full buffer: the precise path takes over from the chunk's start state.
        if (cap - written < whole / 4 * 3) return decode_from(in.data(), n, pos, out.data(), cap, written, carry, o);
        const std::size_t done = decode_bulk(k, staging, whole, out.data() + written, o.alpha);
        if (done < whole) {
            // A bad character or padding: keep the quanta decoded so far and let the
            // precise path go on from the input offset of staged character `done`.
            // All staged characters from `done` on come from this chunk (done >= 4 >
            // carry.count), so count them back from the chunk's end: cheap when, as
            // with final padding, the stop is near the end.
            if (done == 0) return decode_from(in.data(), n, pos, out.data(), cap, written, carry, o);
            std::size_t at = end;
            for (std::size_t left = m - done; left > 0;) left -= !skipped(o.skip, values, bytes[--at]);
            return decode_from(in.data(), n, at, out.data(), cap, written + done / 4 * 3, {}, o);
        }

        // Carry the leftover characters, with their input offsets, into the next chunk.
        quantum_state next;
        next.count = static_cast<std::uint8_t>(m - whole);
        std::size_t at = end;
        for (int slot = next.count - 1; slot >= 0; --slot) {
            const std::size_t staged = whole + static_cast<std::size_t>(slot);
            if (staged < carry.count) {  // came from the previous carry
                next.offset[slot] = carry.offset[staged];
            } else {
                do --at;
                while (skipped(o.skip, values, bytes[at]));
                next.offset[slot] = at;
            }
            next.value[slot] = values[static_cast<unsigned char>(staging[staged])];
            if (next.value[slot] == detail::invalid_value)
                return decode_from(in.data(), n, pos, out.data(), cap, written, carry, o);
        }
        written += whole / 4 * 3;
        carry = next;
        pos = end;
    }
    return decode_from(in.data(), n, n, out.data(), cap, written, carry, o);
}

// encode() on its first call per kernel id, for kernels without encode_whole, and
// its errors.
[[gnu::noinline]] encode_result encode_other(std::span<const std::uint8_t> in, std::span<char> out,
                                             const encode_options& o) noexcept {
    const kernel_ops* k = kernel_for(o.kernel);
    if (k == nullptr) return {status::kernel_unavailable, 0};
    // SIZE_MAX: the length does not fit a size_t (a span that lies about its size);
    // refused before a byte is read.
    const std::size_t need = encoded_length(in.size(), o.pad);
    if (need == SIZE_MAX || out.size() < need) return {status::output_too_small, 0};
    if (k->encode_whole != nullptr) return k->encode_whole(in.data(), in.size(), out.data(), o.alpha, o.pad);
    std::size_t done = k->encode_bulk(in.data(), in.size(), out.data(), o.alpha);
    if (k != &detail::scalar_kernel)
        done += detail::scalar_kernel.encode_bulk(in.data() + done, in.size() - done, out.data() + done / 3 * 4, o.alpha);
    encode_tail(in.data() + done, in.size() - done, out.data() + done / 3 * 4, detail::chars_of(o.alpha), o.pad);
    return {status::ok, need};
}

inline decode_result decode_whole(const kernel_ops& k, std::string_view in, std::span<std::uint8_t> out,
                                  const decode_options& o) noexcept {
    decode_result r;
    k.decode_whole(r, in.data(), in.size(), out.data(), out.size(), o);
    return r;
}

// decode() on its first call per kernel id, and for everything but a strict
// decode by a decode_whole kernel.
[[gnu::noinline]] decode_result decode_other(std::string_view in, std::span<std::uint8_t> out,
                                             const decode_options& o) noexcept {
    const kernel_ops* k = kernel_for(o.kernel);
    if (k == nullptr) return {status::kernel_unavailable, 0, 0};
    if (o.skip != ignore::none) return decode_skipping(*k, in, out, o);
    if (k->decode_whole != nullptr) return decode_whole(*k, in, out, o);
    return decode_strict(*k, in, out, o);
}

}  // namespace

namespace detail {

void decode_strict_from(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst, std::size_t cap,
                        const decode_options& o, std::size_t done) noexcept {
    r = decode_from(src, len, done, dst, cap, done / 4 * 3, {}, o);
}

void decode_strict_from_start(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst,
                              std::size_t cap, const decode_options& o) noexcept {
    r = decode_from(src, len, 0, dst, cap, 0, {}, o);
}

}  // namespace detail

// The common cases are one load and a call into the kernel's whole-call path (for
// encode a tail call: nothing to save or restore); everything else is out of line.
encode_result encode(std::span<const std::uint8_t> in, std::span<char> out, const encode_options& o) noexcept {
    const kernel_ops* k = remembered_kernel(o.kernel);
    // encoded_length() is SIZE_MAX for inputs whose encoding does not fit a size_t:
    // never the fast path, whatever the output span claims.
    const std::size_t need = encoded_length(in.size(), o.pad);
    if (k != nullptr && k->encode_whole != nullptr && need <= out.size() && need != SIZE_MAX) [[likely]]
        return k->encode_whole(in.data(), in.size(), out.data(), o.alpha, o.pad);
    return encode_other(in, out, o);
}

decode_result decode(std::string_view in, std::span<std::uint8_t> out, const decode_options& o) noexcept {
    const kernel_ops* k = remembered_kernel(o.kernel);
    if (k != nullptr && o.skip == ignore::none && k->decode_whole != nullptr) [[likely]]
        return decode_whole(*k, in, out, o);
    return decode_other(in, out, o);
}

std::string encode(std::string_view bytes, const encode_options& o) {
    std::string out(encoded_length(bytes.size(), o.pad), '\0');
    const auto r = encode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, out, o);
    out.resize(r.written);
    return out;
}

decode_result decode(std::string_view in, std::vector<std::uint8_t>& out, const decode_options& o) {
    out.resize(max_decoded_length(in.size()));
    const decode_result r = decode(in, std::span<std::uint8_t>(out), o);
    out.resize(r.written);
    return r;
}

decode_result decode(std::string_view in, std::string& out, const decode_options& o) {
    out.resize(max_decoded_length(in.size()));
    const decode_result r = decode(in, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, o);
    out.resize(r.written);
    return r;
}

}  // namespace calib64
