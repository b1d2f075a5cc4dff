// The scalar kernel: portable, readable, and the reference every other kernel
// is tested against. One 3-byte group / 4-character quantum at a time.
#include "../alphabet.h"
#include "../kernel.h"

namespace calib64::detail {
namespace {

bool always() noexcept { return true; }

std::size_t encode_bulk(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha) noexcept {
    const char* chars = chars_of(alpha);
    const std::size_t groups = len / 3;
    for (std::size_t g = 0; g < groups; ++g, src += 3, dst += 4) {
        const std::uint32_t v = std::uint32_t{src[0]} << 16 | std::uint32_t{src[1]} << 8 | src[2];
        dst[0] = chars[v >> 18];
        dst[1] = chars[(v >> 12) & 63];
        dst[2] = chars[(v >> 6) & 63];
        dst[3] = chars[v & 63];
    }
    return groups * 3;
}

std::size_t decode_bulk(const char* src, std::size_t len, std::uint8_t* dst, alphabet alpha) noexcept {
    const std::uint8_t* values = values_of(alpha);
    const auto* in = reinterpret_cast<const unsigned char*>(src);
    std::size_t done = 0;
    for (; done + 4 <= len; done += 4, in += 4, dst += 3) {
        const std::uint8_t a = values[in[0]], b = values[in[1]], c = values[in[2]], d = values[in[3]];
        if (((a | b | c | d) & 0xC0) != 0) break;  // invalid_value has the top bits set
        const std::uint32_t v = std::uint32_t{a} << 18 | std::uint32_t{b} << 12 | std::uint32_t{c} << 6 | d;
        dst[0] = static_cast<std::uint8_t>(v >> 16);
        dst[1] = static_cast<std::uint8_t>(v >> 8);
        dst[2] = static_cast<std::uint8_t>(v);
    }
    return done;
}

std::size_t strip_whitespace(const char* src, std::size_t len, char* dst) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < len; ++i) {
        dst[n] = src[i];
        n += !is_ascii_whitespace(static_cast<unsigned char>(src[i]));
    }
    return n;
}

}  // namespace

const kernel_ops scalar_kernel{always, encode_bulk, decode_bulk, strip_whitespace, nullptr, nullptr};

}  // namespace calib64::detail
