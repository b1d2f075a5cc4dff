// AVX2 kernel (Haswell, Zen 1 and later): 24 bytes <-> 32 characters per step,
// with 16-entry in-lane byte shuffles (VPSHUFB) as the only lookups.
//
// Encode: VPERMD moves bytes 0..11 into the low lane and 12..23 into the high
//   lane; an in-lane VPSHUFB then lays every 3-byte group out as the 32-bit word
//   [b1 b0 b2 b1]. In that word the low 16 bits are b0:b1 and the high 16 bits
//   b1:b2, so each 6-bit field sits in a 16-bit half at a known position: one
//   VPMULHUW (a right shift per half) and one VPMULLW (a left shift per half)
//   move the four fields into four separate bytes. ASCII is field + offset, where
//   the offset depends only on the field's range (A-Z, a-z, 0-9, the two specials);
//   a saturating subtract and a blend on the sign of field - 26 turn the field
//   into a 0..13 range id, and VPSHUFB fetches the offset.
// Decode: a character is valid when its high nibble's class bit is absent from
//   the invalid mask of its low nibble (two VPSHUFB and a VPTEST for the whole
//   block). The 6-bit value is character + offset, the offset picked by high
//   nibble, except for the one special character ('/' or '_') that shares its
//   high nibble with characters of a different offset: a compare and a blend
//   give it a slot of its own.
//   VPMADDUBSW and VPMADDWD merge four values into a 24-bit word, VPSHUFB packs
//   each lane's 12 bytes and VPERMD closes the gap between the lanes.
// Strip whitespace: one VPSHUFB + compare finds SP and HT..CR in 32 bytes.
//   Blocks without any are copied whole; blocks with a few (the line breaks of
//   wrapped text) are copied whole and then, per break, the rest of the block is
//   copied again one position further left with an overlapping store; dense
//   blocks are compacted 8 bytes at a time with PEXT (BMI2), the keep mask as
//   the bit selector.
//
// Every lookup vector is derived at compile time from alphabet.h, and checked
// there, so the kernel agrees with the scalar reference by construction. The last
// partial block is handled by re-running the final whole block (overlapping work
// already done, same bytes written); inputs shorter than one block are left to the
// scalar driver. Nothing reads past src + len.
#include <immintrin.h>

#include <array>
#include <bit>
#include <cstring>

#include "../alphabet.h"
#include "../kernel.h"

namespace calib64::detail {
namespace {

bool cpu_supports() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}

using table16 = std::array<std::int8_t, 16>;

__m256i broadcast16(const table16& t) noexcept {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data())));
}

// ---------------------------------------------------------------- encode

// The encoder's range id of a 6-bit field: 0 for 26..51, 1..12 for 52..63
// (saturating v - 51), 13 for 0..25. Mirrors the SIMD sequence in encoder::operator().
constexpr int encode_range_id(int v) { return v < 26 ? 13 : v > 51 ? v - 51 : 0; }

// offsets[range id] = ASCII - field value; fails to compile if one range id
// would need two offsets (an alphabet this layout cannot express).
constexpr table16 make_encode_offsets(const char (&chars)[65]) {
    table16 t{};
    std::array<bool, 16> set{};
    for (int v = 0; v < 64; ++v) {
        const int id = encode_range_id(v);
        const int offset = static_cast<unsigned char>(chars[v]) - v;
        if (set[id] && t[id] != offset) throw "alphabet does not fit the AVX2 encode offset table";
        t[id] = static_cast<std::int8_t>(offset);
        set[id] = true;
    }
    return t;
}
constexpr table16 standard_encode_offsets = make_encode_offsets(standard_chars);
constexpr table16 url_encode_offsets = make_encode_offsets(url_chars);

struct encoder {
    __m256i spread, shuffle, mask_hi_fields, mul_hi_fields, mask_lo_fields, mul_lo_fields, offsets;
    explicit encoder(alphabet alpha) noexcept
        // Low lane <- dwords 0,1,2 (bytes 0..11); high lane <- dwords 3,4,5 (bytes 12..23).
        : spread(_mm256_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0)),
          // Per lane: group g at bytes 3g..3g+2 becomes [b1 b0 b2 b1].
          shuffle(_mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,  //
                                   1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10)),
          // Fields 0 (bits 10..15 of b0:b1) and 2 (bits 6..11 of b1:b2): shift right by
          // 10 and 6, i.e. keep the high half of a multiply by 2^6 and 2^10.
          mask_hi_fields(_mm256_set1_epi32(0x0FC0FC00)),
          mul_hi_fields(_mm256_set1_epi32(0x04000040)),
          // Fields 1 (bits 4..9 of b0:b1) and 3 (bits 0..5 of b1:b2): shift left by 4
          // and 8 into the upper byte of each half.
          mask_lo_fields(_mm256_set1_epi32(0x003F03F0)),
          mul_lo_fields(_mm256_set1_epi32(0x01000010)),
          offsets(broadcast16(alpha == alphabet::url ? url_encode_offsets : standard_encode_offsets)) {}

    // 24 input bytes in the low 24 bytes of `bytes` -> 32 characters.
    __m256i operator()(__m256i bytes) const noexcept {
        const __m256i words = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(bytes, spread), shuffle);
        const __m256i hi = _mm256_mulhi_epu16(_mm256_and_si256(words, mask_hi_fields), mul_hi_fields);
        const __m256i lo = _mm256_mullo_epi16(_mm256_and_si256(words, mask_lo_fields), mul_lo_fields);
        const __m256i fields = _mm256_or_si256(hi, lo);
        // encode_range_id: 0..12 from the saturating subtract, then 13 where
        // fields - 26 is negative (VPBLENDVB reads the sign bit).
        const __m256i id = _mm256_blendv_epi8(_mm256_subs_epu8(fields, _mm256_set1_epi8(51)), _mm256_set1_epi8(13),
                                              _mm256_sub_epi8(fields, _mm256_set1_epi8(26)));
        return _mm256_add_epi8(fields, _mm256_shuffle_epi8(offsets, id));
    }
};

__m256i load24(const std::uint8_t* p) noexcept {  // exactly 24 bytes, the rest zero
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0));
}

std::size_t encode_bulk(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha) noexcept {
    const encoder enc(alpha);
    const std::size_t groups = len / 3;
    // Shorter than one block: left to the scalar driver. Through a stack buffer
    // (two variable-length copies) it cost twice the scalar loop (Ice Lake, 4-16
    // bytes: 24 vs 12 ns per call).
    if (groups < 8) return 0;
    std::size_t i = 0;
    char* out = dst;
    // Full 32-byte loads (24 bytes used) while they stay inside src.
    for (; i + 24 + 32 <= len; i += 48, out += 64) {
        const __m256i a = enc(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
        const __m256i b = enc(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 24)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), a);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), b);
    }
    for (; i + 32 <= len; i += 24, out += 32)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), enc(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
    for (; i + 24 <= len; i += 24, out += 32)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), enc(load24(src + i)));
    // Fewer than 8 groups left: redo the last 8 whole groups (overlapping output
    // already written with the same characters).
    if (i < groups * 3) {
        const std::size_t last = (groups - 8) * 3;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + (groups - 8) * 4), enc(load24(src + last)));
    }
    return groups * 3;
}

// ---------------------------------------------------------------- decode

// Which low nibbles form a valid character, for each high nibble.
constexpr std::array<std::uint16_t, 16> valid_low_nibbles(const char (&chars)[65]) {
    std::array<std::uint16_t, 16> sets{};
    for (int v = 0; v < 64; ++v) {
        const auto c = static_cast<unsigned char>(chars[v]);
        sets[c >> 4] = static_cast<std::uint16_t>(sets[c >> 4] | 1u << (c & 15));
    }
    return sets;
}

struct validation_tables {
    table16 class_of_high;     // one class bit per distinct valid-low-nibble set
    table16 invalid_for_low;   // the classes in which this low nibble is not valid
};

// High nibbles with the same set of valid low nibbles share a class bit (at most
// 8 classes fit a byte); a character is invalid iff its class bit is set in its
// low nibble's invalid mask. Nibbles 8..15 (bytes >= 0x80) have the empty set.
constexpr validation_tables make_validation(const char (&chars)[65]) {
    const auto sets = valid_low_nibbles(chars);
    std::array<std::uint16_t, 8> class_sets{};
    int classes = 0;
    validation_tables t{};
    for (int hi = 0; hi < 16; ++hi) {
        int k = 0;
        while (k < classes && class_sets[k] != sets[hi]) ++k;
        if (k == classes) {
            if (classes == 8) throw "alphabet needs more than 8 nibble classes";
            class_sets[classes++] = sets[hi];
        }
        t.class_of_high[hi] = static_cast<std::int8_t>(1u << k);
    }
    for (int lo = 0; lo < 16; ++lo) {
        unsigned invalid = 0;
        for (int k = 0; k < classes; ++k)
            if ((class_sets[k] >> lo & 1) == 0) invalid |= 1u << k;
        t.invalid_for_low[lo] = static_cast<std::int8_t>(invalid);
    }
    return t;
}

// The translation side: value = character + offsets[slot], slot = high nibble,
// except for the special character, which takes slot high nibble | 8 (free: no
// valid character has a high nibble >= 8).
struct translation_tables {
    table16 offsets;
    char special;  // 0 when every high nibble has a single offset
};

constexpr translation_tables make_translation(const char (&chars)[65]) {
    translation_tables t{{}, 0};
    std::array<bool, 16> set{};
    // First pass: the offset of the lowest character in each high nibble.
    for (int c = 0; c < 128; ++c) {
        for (int v = 0; v < 64; ++v) {
            if (static_cast<unsigned char>(chars[v]) != c || set[c >> 4]) continue;
            t.offsets[c >> 4] = static_cast<std::int8_t>(v - c);
            set[c >> 4] = true;
        }
    }
    // Second pass: any character with a different offset is the special one.
    for (int v = 0; v < 64; ++v) {
        const int c = static_cast<unsigned char>(chars[v]);
        if (t.offsets[c >> 4] == v - c) continue;
        if (t.special != 0) throw "alphabet has more than one character off its nibble's offset";
        t.special = static_cast<char>(c);
        t.offsets[(c >> 4) | 8] = static_cast<std::int8_t>(v - c);
    }
    return t;
}

// The SIMD decode of one character, in scalar form, so the derivation can be
// checked against the alphabet for all 256 byte values at compile time.
constexpr bool tables_agree(const char (&chars)[65]) {
    const auto valid = make_validation(chars);
    const auto tr = make_translation(chars);
    const auto values = make_decode_table(chars);
    for (int c = 0; c < 256; ++c) {
        const bool ok = (valid.class_of_high[c >> 4] & valid.invalid_for_low[c & 15]) == 0;
        if (ok != (values[c] != invalid_value)) return false;
        const int slot = (c >> 4) | (c == static_cast<unsigned char>(tr.special) ? 8 : 0);
        if (ok && static_cast<std::uint8_t>(c + tr.offsets[slot]) != values[c]) return false;
    }
    return true;
}
static_assert(tables_agree(standard_chars));
static_assert(tables_agree(url_chars));

constexpr validation_tables standard_validation = make_validation(standard_chars);
constexpr validation_tables url_validation = make_validation(url_chars);
constexpr translation_tables standard_translation = make_translation(standard_chars);
constexpr translation_tables url_translation = make_translation(url_chars);

struct decoder {
    __m256i class_of_high, invalid_for_low, offsets, special, special_slot, nibble, pack_pairs, pack_words, gather, close_gap;
    explicit decoder(alphabet alpha) noexcept
        : class_of_high(broadcast16((alpha == alphabet::url ? url_validation : standard_validation).class_of_high)),
          invalid_for_low(broadcast16((alpha == alphabet::url ? url_validation : standard_validation).invalid_for_low)),
          offsets(broadcast16((alpha == alphabet::url ? url_translation : standard_translation).offsets)),
          special(_mm256_set1_epi8((alpha == alphabet::url ? url_translation : standard_translation).special)),
          special_slot(_mm256_set1_epi8(static_cast<char>(
              (static_cast<unsigned char>((alpha == alphabet::url ? url_translation : standard_translation).special) >> 4) | 8))),
          nibble(_mm256_set1_epi8(0x0F)),
          pack_pairs(_mm256_set1_epi32(0x01400140)),  // a*64 + b, c*64 + d
          pack_words(_mm256_set1_epi32(0x00011000)),  // ab*4096 + cd
          // Per lane: bytes 2,1,0 of each 24-bit word, big-endian, 12 bytes.
          gather(_mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,  //
                                  2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1)),
          close_gap(_mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7)) {}

    struct looked_up {
        __m256i values;  // 6-bit values (garbage in invalid lanes)
        __m256i bad;     // non-zero bytes in lanes holding a non-alphabet character
    };
    looked_up lookup(__m256i chars) const noexcept {
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(chars, 4), nibble);
        const __m256i lo = _mm256_and_si256(chars, nibble);
        const __m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(class_of_high, hi), _mm256_shuffle_epi8(invalid_for_low, lo));
        const __m256i slot = _mm256_blendv_epi8(hi, special_slot, _mm256_cmpeq_epi8(chars, special));
        return {_mm256_add_epi8(chars, _mm256_shuffle_epi8(offsets, slot)), bad};
    }
    // 32 values -> 24 bytes in the low 24 bytes.
    __m256i pack(__m256i values) const noexcept {
        const __m256i words = _mm256_madd_epi16(_mm256_maddubs_epi16(values, pack_pairs), pack_words);
        return _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, gather), close_gap);
    }
};

bool all_zero(__m256i x) noexcept { return _mm256_testz_si256(x, x) != 0; }

__m256i load32(const char* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

void store24(std::uint8_t* p, __m256i x) noexcept {  // exactly 24 bytes
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(x));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p + 16), _mm256_extracti128_si256(x, 1));
}

std::size_t decode_bulk(const char* src, std::size_t len, std::uint8_t* dst, alphabet alpha) noexcept {
    const decoder dec(alpha);
    const std::size_t quanta = len / 4;
    if (quanta < 8) return 0;  // shorter than one block: left to the scalar driver (see encode_bulk)
    std::size_t i = 0;
    std::uint8_t* out = dst;
    // A full 32-byte store writes 8 bytes past a block's 24; they are scratch
    // while at least 48 characters remain from the block's start (contract:
    // dst up to len / 4 * 3 - 2).
    for (; i + 64 + 48 <= len; i += 64, out += 48) {
        const auto a = dec.lookup(load32(src + i));
        const auto b = dec.lookup(load32(src + i + 32));
        if (!all_zero(_mm256_or_si256(a.bad, b.bad))) break;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), dec.pack(a.values));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 24), dec.pack(b.values));
    }
    for (; i + 48 <= len; i += 32, out += 24) {
        const auto a = dec.lookup(load32(src + i));
        if (!all_zero(a.bad)) return i;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), dec.pack(a.values));
    }
    for (; i + 32 <= len; i += 32, out += 24) {
        const auto a = dec.lookup(load32(src + i));
        if (!all_zero(a.bad)) return i;
        store24(out, dec.pack(a.values));
    }
    // Fewer than 8 quanta left: redo the last 8 whole quanta.
    if (i < quanta * 4) {
        const auto a = dec.lookup(load32(src + (quanta - 8) * 4));
        if (!all_zero(a.bad)) return i;
        store24(dst + (quanta - 8) * 3, dec.pack(a.values));
    }
    return quanta * 4;
}

// ---------------------------------------------------------------- whitespace

// match[low nibble] = the one whitespace character with that low nibble, or a
// byte whose low nibble differs (so it can never compare equal). VPSHUFB yields
// 0 for bytes >= 0x80, which never equals them either.
constexpr table16 make_whitespace_match() {
    table16 t{};
    for (int lo = 0; lo < 16; ++lo) t[lo] = static_cast<std::int8_t>(lo ^ 1);
    for (int c = 0; c < 128; ++c) {
        if (!is_ascii_whitespace(static_cast<unsigned char>(c))) continue;
        if ((t[c & 15] & 15) == (c & 15)) throw "two whitespace characters share a low nibble";
        t[c & 15] = static_cast<std::int8_t>(c);
    }
    return t;
}
constexpr table16 whitespace_match = make_whitespace_match();

std::size_t strip_whitespace(const char* src, std::size_t len, char* dst) noexcept {
    const __m256i match = broadcast16(whitespace_match);
    std::size_t i = 0, n = 0;
    for (; i + 32 <= len; i += 32) {
        const __m256i x = load32(src + i);
        const __m256i space = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(match, x), x);
        // n <= i, so a whole 32-byte store (or 8-byte store below) ends inside dst[0, len).
        const auto space_bits = static_cast<unsigned>(_mm256_movemask_epi8(space));
        if (space_bits == 0) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n), x);
            n += 32;
            continue;
        }
        // A few whitespace bytes (line breaks in wrapped text): the block, then
        // for each break, the bytes after it copied over it, each copy shifted by
        // the breaks before. Copies write up to 32 bytes past this block's output,
        // all before dst + i + 64 <= dst + len; later output overwrites them.
        if (std::popcount(space_bits) <= 4 && i + 64 <= len) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n), x);
            if ((space_bits & (space_bits - 1)) == 0) {  // the common case, without a loop
                const auto at = static_cast<std::size_t>(std::countr_zero(space_bits));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n + at), load32(src + i + at + 1));
                n += 31;
                continue;
            }
            std::size_t removed = 0;
            for (unsigned bits = space_bits; bits != 0; bits &= bits - 1, ++removed) {
                const auto at = static_cast<std::size_t>(std::countr_zero(bits));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n + at - removed), load32(src + i + at + 1));
            }
            n += 32 - removed;
            continue;
        }
        alignas(32) std::uint64_t keep[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(keep), _mm256_xor_si256(space, _mm256_set1_epi8(-1)));
        for (int k = 0; k < 4; ++k) {
            std::uint64_t bytes;
            std::memcpy(&bytes, src + i + 8 * k, 8);
            const std::uint64_t packed = _pext_u64(bytes, keep[k]);
            std::memcpy(dst + n, &packed, 8);
            n += static_cast<std::size_t>(std::popcount(keep[k])) / 8;
        }
    }
    for (; i < len; ++i) {
        dst[n] = src[i];
        n += !is_ascii_whitespace(static_cast<unsigned char>(src[i]));
    }
    return n;
}

}  // namespace

extern const kernel_ops avx2_kernel{cpu_supports, encode_bulk, decode_bulk, strip_whitespace, nullptr, nullptr};

}  // namespace calib64::detail
