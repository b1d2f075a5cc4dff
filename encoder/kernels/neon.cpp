// NEON kernel (AArch64, where Advanced SIMD is baseline): 48 bytes <-> 64
// characters per step, using the structure loads and stores to do the
// (de)interleaving that x86 kernels do with shuffles.
//
// Encode: VLD3 splits 48 bytes into three vectors holding byte 0, 1 and 2 of 16
//   groups. Shifts and shift-insert (SLI) form the four 6-bit fields as four
//   vectors; TBL with four table registers (the 64-character alphabet) turns
//   each into ASCII, and VST4 interleaves them into 64 characters.
// Decode: VLD4 splits 64 characters into the 1st..4th character of 16 quanta.
//   Each is looked up in the 128-entry value table as two 64-entry halves: TBL
//   over the low half (indices >= 64 give 0) and TBX over the high half with
//   index c - 64 (out of range keeps the TBL result). Invalid characters map to
//   0xFF; OR-ing value and character leaves the top bit set for those and for
//   bytes >= 0x80, so one max-reduction tells whether the block is pure
//   alphabet. SLI merges the four values into three bytes and VST3 interleaves.
// Strip whitespace: compares find SP and HT..CR in 16 bytes; blocks without any
//   are copied whole, others are compacted 8 bytes at a time with a TBL through
//   a 256-entry table of index vectors (one per 8-bit keep mask).
//
// Tables come from alphabet.h, so the kernel agrees with scalar by construction.
// The last partial block re-runs the final whole block (overlapping, same bytes
// written); inputs shorter than a block go through a stack buffer.
#include <arm_neon.h>

#include <array>
#include <bit>
#include <cstring>

#include "../alphabet.h"
#include "../kernel.h"

namespace calib64::detail {
namespace {

bool cpu_supports() noexcept { return true; }  // Advanced SIMD is mandatory on AArch64

// ---------------------------------------------------------------- encode

struct encoder {
    uint8x16x4_t table;
    uint8x16_t low6;
    explicit encoder(alphabet alpha) noexcept
        : table(vld1q_u8_x4(reinterpret_cast<const std::uint8_t*>(chars_of(alpha)))), low6(vdupq_n_u8(63)) {}

    // 16 groups (48 bytes) at src -> 64 characters at dst.
    void operator()(const std::uint8_t* src, char* dst) const noexcept {
        const uint8x16x3_t in = vld3q_u8(src);
        uint8x16x4_t fields;
        fields.val[0] = vshrq_n_u8(in.val[0], 2);
        fields.val[1] = vandq_u8(vsliq_n_u8(vshrq_n_u8(in.val[1], 4), in.val[0], 4), low6);
        fields.val[2] = vandq_u8(vsliq_n_u8(vshrq_n_u8(in.val[2], 6), in.val[1], 2), low6);
        fields.val[3] = vandq_u8(in.val[2], low6);
        uint8x16x4_t out;
        for (int k = 0; k < 4; ++k) out.val[k] = vqtbl4q_u8(table, fields.val[k]);
        vst4q_u8(reinterpret_cast<std::uint8_t*>(dst), out);
    }
};

std::size_t encode_bulk(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha) noexcept {
    const encoder enc(alpha);
    const std::size_t groups = len / 3;
    if (groups < 16) {  // shorter than one block: through a stack buffer
        if (groups == 0) return 0;
        std::uint8_t in[48] = {};
        char out[64];
        std::memcpy(in, src, groups * 3);
        enc(in, out);
        std::memcpy(dst, out, groups * 4);
        return groups * 3;
    }
    std::size_t i = 0;
    char* out = dst;
    for (; i + 96 <= len; i += 96, out += 128) {
        enc(src + i, out);
        enc(src + i + 48, out + 64);
    }
    for (; i + 48 <= len; i += 48, out += 64) enc(src + i, out);
    // Fewer than 16 groups left: redo the last 16 whole groups.
    if (i < groups * 3) enc(src + (groups - 16) * 3, dst + (groups - 16) * 4);
    return groups * 3;
}

// ---------------------------------------------------------------- decode

struct decoder {
    uint8x16x4_t low_half, high_half;  // value table for characters 0..63 and 64..127
    uint8x16_t sixty_four;
    explicit decoder(alphabet alpha) noexcept
        : low_half(vld1q_u8_x4(values_of(alpha))),
          high_half(vld1q_u8_x4(values_of(alpha) + 64)),
          sixty_four(vdupq_n_u8(64)) {}

    uint8x16_t value(uint8x16_t c) const noexcept {
        return vqtbx4q_u8(vqtbl4q_u8(low_half, c), high_half, vsubq_u8(c, sixty_four));
    }

    // Decodes 16 quanta (64 characters) at src into 48 bytes at dst; false (and
    // nothing written) when any of the characters is outside the alphabet.
    bool operator()(const char* src, std::uint8_t* dst) const noexcept {
        const uint8x16x4_t c = vld4q_u8(reinterpret_cast<const std::uint8_t*>(src));
        uint8x16x4_t v;
        for (int k = 0; k < 4; ++k) v.val[k] = value(c.val[k]);
        const uint8x16_t flags = vorrq_u8(vorrq_u8(vorrq_u8(v.val[0], c.val[0]), vorrq_u8(v.val[1], c.val[1])),
                                          vorrq_u8(vorrq_u8(v.val[2], c.val[2]), vorrq_u8(v.val[3], c.val[3])));
        if (vmaxvq_u8(flags) >= 0x80) return false;
        uint8x16x3_t out;
        out.val[0] = vsliq_n_u8(vshrq_n_u8(v.val[1], 4), v.val[0], 2);
        out.val[1] = vsliq_n_u8(vshrq_n_u8(v.val[2], 2), v.val[1], 4);
        out.val[2] = vsliq_n_u8(v.val[3], v.val[2], 6);
        vst3q_u8(dst, out);
        return true;
    }
};

std::size_t decode_bulk(const char* src, std::size_t len, std::uint8_t* dst, alphabet alpha) noexcept {
    const decoder dec(alpha);
    const std::size_t quanta = len / 4;
    if (quanta < 16) {  // shorter than one block: through a stack buffer, padded with a valid character
        if (quanta == 0) return 0;
        char in[64];
        std::uint8_t out[48];
        std::memset(in, chars_of(alpha)[0], sizeof in);
        std::memcpy(in, src, quanta * 4);
        if (!dec(in, out)) return 0;  // the scalar driver finds the bad quantum
        std::memcpy(dst, out, quanta * 3);
        return quanta * 4;
    }
    std::size_t i = 0;
    std::uint8_t* out = dst;
    for (; i + 64 <= len; i += 64, out += 48)
        if (!dec(src + i, out)) return i;
    // Fewer than 16 quanta left: redo the last 16 whole quanta.
    if (i < quanta * 4 && !dec(src + (quanta - 16) * 4, dst + (quanta - 16) * 3)) return i;
    return quanta * 4;
}

// ---------------------------------------------------------------- whitespace

// compact[mask]: TBL indices that pack the bytes whose mask bit is set to the
// front of an 8-byte vector.
constexpr std::array<std::array<std::uint8_t, 8>, 256> make_compaction_table() {
    std::array<std::array<std::uint8_t, 8>, 256> t{};
    for (unsigned mask = 0; mask < 256; ++mask) {
        unsigned n = 0;
        for (unsigned b = 0; b < 8; ++b)
            if (mask >> b & 1) t[mask][n++] = static_cast<std::uint8_t>(b);
        for (; n < 8; ++n) t[mask][n] = 0xFF;  // out of range: TBL writes 0
    }
    return t;
}
alignas(16) constexpr auto compaction = make_compaction_table();

// Lanes of x that are SP or HT..CR (0xFF) — the set is_ascii_whitespace accepts.
uint8x16_t whitespace_lanes(uint8x16_t x) noexcept {
    static_assert(is_ascii_whitespace(' ') && is_ascii_whitespace('\t') && is_ascii_whitespace('\r') &&
                  !is_ascii_whitespace('\t' - 1) && !is_ascii_whitespace('\r' + 1));
    return vorrq_u8(vceqq_u8(x, vdupq_n_u8(' ')), vcltq_u8(vsubq_u8(x, vdupq_n_u8('\t')), vdupq_n_u8('\r' - '\t' + 1)));
}

std::size_t strip_whitespace(const char* src, std::size_t len, char* dst) noexcept {
    const auto* in = reinterpret_cast<const std::uint8_t*>(src);
    auto* out = reinterpret_cast<std::uint8_t*>(dst);
    const uint8x8_t bit_of_lane = vcreate_u8(0x8040201008040201ull);
    std::size_t i = 0, n = 0;
    for (; i + 16 <= len; i += 16) {
        const uint8x16_t x = vld1q_u8(in + i);
        const uint8x16_t space = whitespace_lanes(x);
        // n <= i, so whole 16- and 8-byte stores end inside dst[0, len).
        if (vmaxvq_u8(space) == 0) {
            vst1q_u8(out + n, x);
            n += 16;
            continue;
        }
        const uint8x16_t keep = vmvnq_u8(space);
        const unsigned mask_lo = vaddv_u8(vand_u8(vget_low_u8(keep), bit_of_lane));
        const unsigned mask_hi = vaddv_u8(vand_u8(vget_high_u8(keep), bit_of_lane));
        vst1_u8(out + n, vtbl1_u8(vget_low_u8(x), vld1_u8(compaction[mask_lo].data())));
        n += static_cast<std::size_t>(std::popcount(mask_lo));
        vst1_u8(out + n, vtbl1_u8(vget_high_u8(x), vld1_u8(compaction[mask_hi].data())));
        n += static_cast<std::size_t>(std::popcount(mask_hi));
    }
    for (; i < len; ++i) {
        out[n] = in[i];
        n += !is_ascii_whitespace(in[i]);
    }
    return n;
}

}  // namespace

extern const kernel_ops neon_kernel{cpu_supports, encode_bulk, decode_bulk, strip_whitespace, nullptr, nullptr};

}  // namespace calib64::detail
