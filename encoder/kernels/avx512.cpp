// AVX-512 VBMI kernel (Ice Lake, Zen 4 and later): 48 bytes <-> 64 characters
// per instruction sequence, using byte permutes as 64- and 128-entry lookups.
//
// Encode: VPERMB places each 3-byte group as the 32-bit word [b1 b0 b2 b1]; in
//   that word the four 6-bit fields start at bits 10, 4, 22 and 16, so one
//   VPMULTISHIFTQB pulls all four into separate bytes, and a second VPERMB with
//   the 64-character alphabet as its table turns the fields into ASCII (VPERMB
//   reads only the low 6 bits of each index, so the stray top bits are harmless).
// Decode: VPERMI2B looks every character up in a 128-entry table (invalid ->
//   0xFF); one OR and a sign-bit test finds non-alphabet bytes and bytes >= 0x80.
//   VPMADDUBSW and VPMADDWD merge four 6-bit values into a 24-bit word, and VPERMB
//   gathers the three bytes of every word into 48 contiguous output bytes.
// Strip whitespace: VPCOMPRESSB (VBMI2) packs the kept bytes of 64 at a time.
//
// Partial blocks use masked loads and stores, so the kernel never touches memory
// outside its buffers. The whole-call paths (encode_whole, decode_whole) also do
// the last partial group or quantum, padding and validation included, in one
// masked step: a call of up to 48 bytes / 64 characters is one load, one lookup
// and one store, with no scalar tail and no character-at-a-time decoding.
// GCC 12's VBMI intrinsics trip a false -Wmaybe-uninitialized / -Wuninitialized
// inside the header (its "undefined" pass-through vector is self-initialized).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <array>
#include <bit>

#include "../alphabet.h"
#include "../kernel.h"

namespace calib64::detail {
namespace {

bool cpu_supports() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2");
}

// The helpers below take the encoder/decoder constants by reference: inlined, they
// stay in registers; called, GCC reloads every table from memory per block (a
// store through char* may alias them) and encode at 1 KiB ran 35% slower.
#define CALIB64_INLINE [[gnu::always_inline]] inline

// The low n bits set (all 64 for n >= 64: BZHI keeps every bit then).
inline __mmask64 low_bytes(unsigned n) noexcept { return _bzhi_u64(~0ull, n); }

// ---------------------------------------------------------------- encode

constexpr std::array<char, 64> encode_gather_index() {
    std::array<char, 64> idx{};
    for (int i = 0; i < 16; ++i) {
        idx[4 * i + 0] = static_cast<char>(3 * i + 1);
        idx[4 * i + 1] = static_cast<char>(3 * i + 0);
        idx[4 * i + 2] = static_cast<char>(3 * i + 2);
        idx[4 * i + 3] = static_cast<char>(3 * i + 1);
    }
    return idx;
}
alignas(64) constexpr auto encode_gather = encode_gather_index();

// Bit offsets of the four 6-bit fields in [b1 b0 b2 b1], for both words of a qword.
constexpr long long field_shifts = 0x3036242a1016040aLL;

struct encoder {
    __m512i gather, shifts, table;
    explicit encoder(alphabet alpha) noexcept
        : gather(_mm512_load_si512(encode_gather.data())),
          shifts(_mm512_set1_epi64(field_shifts)),
          table(_mm512_loadu_si512(chars_of(alpha))) {}
    __m512i operator()(__m512i bytes) const noexcept {
        const __m512i words = _mm512_permutexvar_epi8(gather, bytes);
        const __m512i fields = _mm512_multishift_epi64_epi8(shifts, words);
        return _mm512_permutexvar_epi8(fields, table);
    }
};

// Block k of four (48 bytes each, 192 in all) read from the aligned vectors
// A0..A3 of a window that starts s < 16 bytes into A0: block k starts in A_q with
// q = 0, 0, 1, 2, at byte s, s + 48, s + 32, s + 16 of it, and ends in A_q or
// A_q+1. One VPERMT2B with these indices both gathers [b1 b0 b2 b1] and picks the
// bytes from the two vectors, so aligned loads cost no extra permute.
struct aligned_gathers {
    __m512i idx[4];
    explicit aligned_gathers(unsigned s) noexcept {
        const __m512i gather = _mm512_load_si512(encode_gather.data());
        constexpr unsigned start[4] = {0, 48, 32, 16};
        for (int k = 0; k < 4; ++k) idx[k] = _mm512_add_epi8(gather, _mm512_set1_epi8(static_cast<char>(s + start[k])));
    }
};

CALIB64_INLINE __m512i encode_words(const encoder& enc, __m512i words) noexcept {
    return _mm512_permutexvar_epi8(_mm512_multishift_epi64_epi8(enc.shifts, words), enc.table);
}

// Encodes 48-byte blocks from src[i, len) while a full 64-byte load stays inside
// src; returns the new i (at most 63 bytes short of len).
CALIB64_INLINE std::size_t encode_blocks(const encoder& enc, const std::uint8_t* src, std::size_t len, std::size_t i,
                          char*& out) noexcept {
    for (; i + 64 + 48 <= len; i += 96, out += 128) {
        const __m512i a = _mm512_loadu_si512(src + i);
        const __m512i b = _mm512_loadu_si512(src + i + 48);
        _mm512_storeu_si512(out, enc(a));
        _mm512_storeu_si512(out + 64, enc(b));
    }
    for (; i + 64 <= len; i += 48, out += 64) _mm512_storeu_si512(out, enc(_mm512_loadu_si512(src + i)));
    return i;
}

// Encodes `groups` (at most 16) groups with a masked load and store.
CALIB64_INLINE void encode_masked(const encoder& enc, const std::uint8_t* src, unsigned groups, char* out) noexcept {
    const __m512i bytes = _mm512_maskz_loadu_epi8(low_bytes(groups * 3), src);
    _mm512_mask_storeu_epi8(out, low_bytes(groups * 4), enc(bytes));
}

// Large inputs. A 64-byte load every 48 bytes splits a cache line three times in
// four, and past L1 that costs a quarter of the speed (Ice Lake, 64 KiB: 27 GB/s
// for a bare load-48/store-64 loop, 36 GB/s with aligned loads). So: a head of
// masked groups makes the stores 64-byte aligned (possible when dst is 4-byte
// aligned, as allocations are) and leaves the input less than 16 bytes past a
// 64-byte boundary (adding 16 groups keeps the output aligned and moves the input
// by 48 = -16 mod 64); then every load is an aligned one.
CALIB64_INLINE std::size_t encode_aligned(const encoder& enc, const std::uint8_t* src, std::size_t len, char*& out) noexcept {
    const auto out_misalign = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(out) % 64);
    const auto src_misalign = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(src) % 64);
    unsigned head = 0;  // groups
    if (out_misalign % 4 == 0) {
        head = (64 - out_misalign) % 64 / 4;
        head += (src_misalign + 3 * head) % 64 / 16 * 16;
    } else {
        while ((src_misalign + 3 * head) % 64 >= 16) ++head;
    }
    std::size_t i = 0;
    for (; head > 0; head -= std::min(head, 16u)) {
        const unsigned groups = std::min(head, 16u);
        encode_masked(enc, src + i, groups, out);
        i += groups * 3;
        out += groups * 4;
    }
    const unsigned s = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(src + i) % 64);
    const aligned_gathers g(s);
    const auto* base = reinterpret_cast<const std::uint8_t*>(reinterpret_cast<std::uintptr_t>(src + i) - s);
    // The first vector starts before src + i: load only its bytes from there on
    // (they lie inside src: i < 192 and len >= aligned_encode_min_bytes > 256).
    __m512i a0 = _mm512_maskz_loadu_epi8(~low_bytes(s), base);
    for (; i + 256 <= len + s; i += 192, base += 192, out += 256) {
        const __m512i a1 = _mm512_load_si512(base + 64), a2 = _mm512_load_si512(base + 128);
        const __m512i a3 = _mm512_load_si512(base + 192);
        _mm512_storeu_si512(out, encode_words(enc, _mm512_permutex2var_epi8(a0, g.idx[0], a1)));
        _mm512_storeu_si512(out + 64, encode_words(enc, _mm512_permutex2var_epi8(a0, g.idx[1], a1)));
        _mm512_storeu_si512(out + 128, encode_words(enc, _mm512_permutex2var_epi8(a1, g.idx[2], a2)));
        _mm512_storeu_si512(out + 192, encode_words(enc, _mm512_permutex2var_epi8(a2, g.idx[3], a3)));
        a0 = a3;
    }
    return i;
}

// Below this many bytes the aligned path's head (up to 63 groups) costs more than
// the split loads it saves. Measured on Ice Lake with 512 strings at random offsets
// (in L2): at 512..2047 bytes the aligned path is 10-25% faster, at 300 equal.
constexpr std::size_t aligned_encode_min_bytes = 512;
static_assert(aligned_encode_min_bytes > 189 + 64, "encode_aligned's head and first load must fit in the input");

std::size_t encode_bulk(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha) noexcept {
    const encoder enc(alpha);
    char* out = dst;
    std::size_t i = len >= aligned_encode_min_bytes ? encode_aligned(enc, src, len, out) : 0;
    i = encode_blocks(enc, src, len, i, out);
    // Last whole groups (up to 21): masked load and store.
    while (len - i >= 3) {
        const unsigned groups = static_cast<unsigned>(std::min<std::size_t>((len - i) / 3, 16));
        encode_masked(enc, src + i, groups, out);
        i += groups * 3;
        out += groups * 4;
    }
    return i;
}

// The last 0-48 bytes of encode() in one masked load and store, partial group and
// padding included (the masked load reads zeros past the end, which is what the
// partial group's last character needs; '=' is blended in). Returns the end.
CALIB64_INLINE char* encode_last(const encoder& enc, const std::uint8_t* src, unsigned n, char* out, bool pad) noexcept {
    const unsigned data_chars = (n * 4 + 2) / 3;
    const unsigned chars = pad ? (n + 2) / 3 * 4 : data_chars;
    const __m512i bytes = _mm512_maskz_loadu_epi8(low_bytes(n), src);
    const __m512i encoded = _mm512_mask_blend_epi8(low_bytes(data_chars), _mm512_set1_epi8('='), enc(bytes));
    _mm512_mask_storeu_epi8(out, low_bytes(chars), encoded);
    return out + chars;
}

[[gnu::noinline]] encode_result encode_long(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha,
                                            bool pad) noexcept {
    const encoder enc(alpha);
    char* out = dst;
    std::size_t i = len >= aligned_encode_min_bytes ? encode_aligned(enc, src, len, out) : 0;
    i = encode_blocks(enc, src, len, i, out);
    if (len - i > 48) {
        encode_masked(enc, src + i, 16, out);
        i += 48;
        out += 64;
    }
    return {status::ok, static_cast<std::size_t>(encode_last(enc, src + i, static_cast<unsigned>(len - i), out, pad) - dst)};
}

// All of encode() (kernel.h). Up to 48 bytes: one masked step, nothing to save.
encode_result encode_whole(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha, bool pad) noexcept {
    if (len > 48) return encode_long(src, len, dst, alpha, pad);
    return {status::ok, static_cast<std::size_t>(encode_last(encoder(alpha), src, static_cast<unsigned>(len), dst, pad) - dst)};
}

// ---------------------------------------------------------------- decode

constexpr std::array<char, 64> decode_gather_index() {
    std::array<char, 64> idx{};
    for (int i = 0; i < 16; ++i)
        for (int k = 0; k < 3; ++k) idx[3 * i + k] = static_cast<char>(4 * i + 2 - k);
    return idx;
}
alignas(64) constexpr auto decode_gather = decode_gather_index();

struct decoder {
    __m512i lut_lo, lut_hi, gather;
    explicit decoder(alphabet alpha) noexcept
        : lut_lo(_mm512_loadu_si512(values_of(alpha))),
          lut_hi(_mm512_loadu_si512(values_of(alpha) + 64)),
          gather(_mm512_load_si512(decode_gather.data())) {}
    // 6-bit values of 64 characters (lanes of invalid characters hold 0xFF).
    __m512i values(__m512i chars) const noexcept { return _mm512_permutex2var_epi8(lut_lo, chars, lut_hi); }
    // Lanes holding a non-alphabet character: an invalid value, or a byte >= 0x80
    // (which the 7-bit table index cannot see).
    static __mmask64 invalid(__m512i chars, __m512i v) noexcept {
        return _mm512_movepi8_mask(_mm512_or_si512(v, chars));
    }
    __m512i pack(__m512i v) const noexcept {
        const __m512i pairs = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));
        const __m512i words = _mm512_madd_epi16(pairs, _mm512_set1_epi32(0x00011000));
        return _mm512_permutexvar_epi8(gather, words);
    }
};

// Four blocks make 192 output bytes = three whole 64-byte vectors. Output vector
// k takes its bytes from blocks k and k+1, so one VPERMT2B per vector gathers
// and merges at once: three permutes and three full stores instead of four each.
constexpr std::array<char, 192> merge_gather_index() {
    std::array<char, 192> idx{};
    for (int t = 0; t < 192; ++t) {
        const int k = t / 64, block = t / 48, u = t % 48;
        idx[t] = static_cast<char>((block - k) * 64 + 4 * (u / 3) + 2 - u % 3);
    }
    return idx;
}
alignas(64) constexpr auto merge_gather = merge_gather_index();

// Loads 64 characters once. The decoder uses each character vector twice (the
// VPERMI2B lookup overwrites its index register, and the validity OR needs the
// characters again); without this GCC 12 loads them twice from memory, and with
// an input that is not 64-byte aligned every extra load splits two cache lines:
// decode at 64 KiB ran at 0.72 of its aligned speed on Ice Lake.
__m512i load_chars(const char* p) noexcept {
    __m512i x = _mm512_loadu_si512(p);
    asm("" : "+v"(x));
    return x;
}

// Decodes one masked block of up to 16 quanta, stopping before the first quantum
// with a non-alphabet byte. Returns the quanta decoded.
CALIB64_INLINE unsigned decode_partial(const decoder& dec, const char* src, unsigned quanta, std::uint8_t* out) noexcept {
    const __m512i chars = _mm512_maskz_loadu_epi8(low_bytes(quanta * 4), src);
    const __m512i v = dec.values(chars);
    const __mmask64 bad = decoder::invalid(chars, v) & low_bytes(quanta * 4);
    const unsigned good = bad ? static_cast<unsigned>(std::countr_zero(bad)) / 4 : quanta;
    _mm512_mask_storeu_epi8(out, low_bytes(good * 3), dec.pack(v));
    return good;
}

// Whole quanta of pure alphabet from the front of src[0, len), as decode_bulk.
CALIB64_INLINE std::size_t decode_blocks(const decoder& dec, const char* src, std::size_t len, std::uint8_t* dst) noexcept {
    std::size_t i = 0;
    std::uint8_t* out = dst;
    // Large inputs: decode a few quanta first so the main loop's stores are
    // 64-byte aligned (dst advances 3 bytes a quantum, and 3 * 43 = 1 mod 64).
    if (len > 8192) {  // not for whitespace decoding's 8 KiB staging chunks: the head costs more there
        unsigned head = static_cast<unsigned>(((64 - reinterpret_cast<std::uintptr_t>(dst) % 64) * 43) % 64);
        while (head > 0) {
            const unsigned quanta = std::min(head, 16u);
            const unsigned good = decode_partial(dec, src + i, quanta, out);
            i += good * 4;
            out += good * 3;
            if (good < quanta) return i;
            head -= quanta;
        }
    }
    const __m512i pair_weights = _mm512_set1_epi32(0x01400140), word_weights = _mm512_set1_epi32(0x00011000);
    const auto words = [&](__m512i v) {
        return _mm512_madd_epi16(_mm512_maddubs_epi16(v, pair_weights), word_weights);
    };
    // Four blocks (256 characters) a step. OR-ing every value with its character
    // into `bad` flags non-alphabet bytes in the sign bits (see decoder::invalid).
    struct four {
        __m512i v0, v1, v2, v3;
    };
    // The characters go into `bad` before the lookups, so that each lookup may
    // overwrite its characters (VPERMI2B) instead of a copy of the table (VPERMT2B
    // plus a register move per block).
    const auto look_up = [&](std::size_t at, __m512i& bad) {
        const __m512i c0 = load_chars(src + at), c1 = load_chars(src + at + 64);
        const __m512i c2 = load_chars(src + at + 128), c3 = load_chars(src + at + 192);
        bad = _mm512_ternarylogic_epi64(bad, c0, c1, 0xFE);  // 0xFE: a | b | c
        bad = _mm512_ternarylogic_epi64(bad, c2, c3, 0xFE);
        const four v{dec.values(c0), dec.values(c1), dec.values(c2), dec.values(c3)};
        bad = _mm512_ternarylogic_epi64(bad, v.v0, v.v1, 0xFE);
        bad = _mm512_ternarylogic_epi64(bad, v.v2, v.v3, 0xFE);
        return v;
    };
    // tail: characters that must follow a step for its stores to stay inside the
    // room for scratch (kernel.h: up to len / 4 * 3 - 2 bytes).
    const auto run = [&](auto store, std::size_t tail) {
        // 1024 characters a step, checked once: testing the flags every 256 cost ~8%
        // at 64 KiB (Ice Lake). A step with a bad byte has written only scratch
        // output; the loops below redo it and stop at the exact quantum.
        for (; i + 1024 + std::max<std::size_t>(tail, 4) <= len; i += 1024, out += 768) {
            __m512i bad = _mm512_setzero_si512();
            for (std::size_t k = 0; k < 4; ++k) store(look_up(i + 256 * k, bad), out + 192 * k);
            if (_mm512_movepi8_mask(bad) != 0) break;
        }
        for (; i + 256 + tail <= len; i += 256, out += 192) {
            __m512i bad = _mm512_setzero_si512();
            const four v = look_up(i, bad);
            if (_mm512_movepi8_mask(bad) != 0) break;  // the masked loop below finds the exact quantum
            store(v, out);
        }
    };
    if (len > 8192) {
        // Large inputs, output made 64-byte aligned by the head: four blocks give
        // 192 bytes = three whole vectors, and output vector k takes its bytes from
        // blocks k and k+1, so one VPERMT2B per vector gathers and merges: three
        // aligned stores. Past L1 this beats four overlapping stores, which with an
        // unaligned input lost a fifth at 64 KiB.
        const __m512i merge0 = _mm512_load_si512(merge_gather.data());
        const __m512i merge1 = _mm512_load_si512(merge_gather.data() + 64);
        const __m512i merge2 = _mm512_load_si512(merge_gather.data() + 128);
        run([&](const four& v, std::uint8_t* to) {
            const __m512i w0 = words(v.v0), w1 = words(v.v1), w2 = words(v.v2), w3 = words(v.v3);
            _mm512_storeu_si512(to, _mm512_permutex2var_epi8(w0, merge0, w1));
            _mm512_storeu_si512(to + 64, _mm512_permutex2var_epi8(w1, merge1, w2));
            _mm512_storeu_si512(to + 128, _mm512_permutex2var_epi8(w2, merge2, w3));
        }, 0);
    } else {
        // Otherwise one single-source VPERMB per block and four overlapping 64-byte
        // stores 48 apart: a two-source permute costs twice a VPERMB on Ice Lake,
        // and this is ~20% faster in L1. The last store writes 16 bytes past the
        // step, which needs 24 more characters of room.
        run([&](const four& v, std::uint8_t* to) {
            _mm512_storeu_si512(to, _mm512_permutexvar_epi8(dec.gather, words(v.v0)));
            _mm512_storeu_si512(to + 48, _mm512_permutexvar_epi8(dec.gather, words(v.v1)));
            _mm512_storeu_si512(to + 96, _mm512_permutexvar_epi8(dec.gather, words(v.v2)));
            _mm512_storeu_si512(to + 144, _mm512_permutexvar_epi8(dec.gather, words(v.v3)));
        }, 24);
    }
    // Single blocks: full 64-byte stores write 16 bytes past the block's 48, inside
    // the output of the next block, which exists while two more blocks remain.
    for (; i + 128 <= len; i += 64, out += 48) {
        const __m512i chars = load_chars(src + i);
        const __m512i v = dec.values(chars);
        if (decoder::invalid(chars, v) != 0) break;
        _mm512_storeu_si512(out, dec.pack(v));
    }
    // The rest (or the blocks from one with a non-alphabet byte): masked blocks,
    // decoding every whole quantum before the first bad character.
    while (len - i >= 4) {
        const unsigned quanta = static_cast<unsigned>(std::min<std::size_t>((len - i) / 4, 16));
        const unsigned good = decode_partial(dec, src + i, quanta, out);
        i += good * 4;
        out += good * 3;
        if (good < quanta) break;
    }
    return i;
}

std::size_t decode_bulk(const char* src, std::size_t len, std::uint8_t* dst, alphabet alpha) noexcept {
    return decode_blocks(decoder(alpha), src, len, dst);
}

// The last 1-64 characters of a strict input, validated as decode_from would
// accept them: alphabet characters, then up to two '=' that end a whole quantum
// (or, where padding is not required, a final quantum of 2 or 3 characters), and
// zero unused bits in a final partial quantum. Writes and returns the decoded
// bytes when all of it is valid; returns -1 (having written nothing) otherwise.
// One branch decides: short strings of random lengths do not mispredict on the
// padding and partial-quantum cases.
CALIB64_INLINE int decode_last(const decoder& dec, const char* src, unsigned n, std::size_t cap, padding pad,
                               std::uint8_t* out) noexcept {
    const __m512i chars = _mm512_maskz_loadu_epi8(low_bytes(n), src);
    const __mmask64 eq = _mm512_cmpeq_epi8_mask(chars, _mm512_set1_epi8('='));
    // Trailing '=' can only end whole quanta (n a multiple of 4, so n >= 4). Of the
    // last two characters, count those that are '=': a lone '=' before a data
    // character is then counted as data, and rejected as invalid below. (Written
    // with arithmetic on flags: GCC turns the obvious ?: into branches.)
    const unsigned whole_quanta = n % 4 == 0;
    const unsigned pads = whole_quanta * static_cast<unsigned>(std::popcount(eq >> ((n - 2) & 63) & 3));
    const unsigned data = n - pads, partial = data % 4;
    const unsigned padded_ok = (pads != 0) & (pad != padding::forbidden);
    const unsigned bare_ok = (pads == 0) & ((partial == 0) | ((partial != 1) & (pad != padding::required)));
    const __m512i v = dec.values(chars);
    const unsigned bytes = data * 3 / 4;  // 3 per quantum, 1 or 2 for a final partial one
    // With the lanes past the data zeroed, the unused low bits of a final partial
    // quantum land in the byte after the last one: it must be zero.
    const __m512i packed = dec.pack(_mm512_maskz_mov_epi8(low_bytes(data), v));
    const __mmask64 stray =
        _mm512_mask_test_epi8_mask(static_cast<__mmask64>(partial != 0) << (bytes & 63), packed, packed);
    const __mmask64 bad = (decoder::invalid(chars, v) & low_bytes(data)) | stray;
    const bool padding_ok = (padded_ok | bare_ok) != 0;
    if (!padding_ok || bad != 0 || bytes > cap) return -1;
    _mm512_mask_storeu_epi8(out, low_bytes(bytes), packed);
    return static_cast<int>(bytes);
}

// Exact decoded size of a strict input, assuming it is valid.
// (Flag arithmetic, not a loop: the number of '=' varies with random lengths.)
std::size_t valid_decoded_size(const char* src, std::size_t len) noexcept {  // len >= 2
    const std::size_t last = src[len - 1] == '=', both = last & (src[len - 2] == '=');
    return (len - last - both) * 3 / 4;
}

[[gnu::noinline]] void decode_long(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst,
                                   std::size_t cap, const decode_options& o) noexcept {
    // The bulk may write scratch output up to the size of a valid input's bytes.
    if (cap < valid_decoded_size(src, len)) return decode_strict_from_start(r, src, len, dst, cap, o);
    const decoder dec(o.alpha);
    const std::size_t body = (len - 1) / 64 * 64;  // leaves 1-64 characters
    const std::size_t i = decode_blocks(dec, src, body, dst);
    if (i == body) {
        const int last = decode_last(dec, src + i, static_cast<unsigned>(len - i), cap - i / 4 * 3, o.pad, dst + i / 4 * 3);
        if (last >= 0) {
            r = {status::ok, 0, i / 4 * 3 + static_cast<std::size_t>(last)};
            return;
        }
    }
    decode_strict_from(r, src, len, dst, cap, o, i);
}

// All of a strict decode (kernel.h): the bulk, then the last 1-64 characters in
// one masked step, so a short input is one load, one lookup and one store, and
// only invalid input goes through the character-at-a-time path.
void decode_whole(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst, std::size_t cap,
                  const decode_options& o) noexcept {
    if (len > 64) return decode_long(r, src, len, dst, cap, o);
    // (An empty input decodes to nothing through the same step.)
    const int bytes = decode_last(decoder(o.alpha), src, static_cast<unsigned>(len), cap, o.pad, dst);
    if (bytes < 0) return decode_strict_from_start(r, src, len, dst, cap, o);
    r = {status::ok, 0, static_cast<std::size_t>(bytes)};
}

// ---------------------------------------------------------------- whitespace

// Bytes to keep: not ASCII whitespace. A byte is whitespace exactly when it equals
// the table entry at its low nibble (0x20 at 0, 0x09..0x0D at 9..13, 0xFF elsewhere;
// vpshufb gives 0 for bytes >= 0x80, and 0 is not whitespace). Two instructions
// instead of three compares and two mask operations: mask-register work is what
// limited the strip loop on Zen 5 (57 -> 82 GB/s on 76-column text).
__mmask64 keep_mask(__m512i x) noexcept {
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(' ', -1, -1, -1, -1, -1, -1, -1, -1, 9, 10, 11, 12, 13, -1, -1));
    return _mm512_cmpneq_epi8_mask(x, _mm512_shuffle_epi8(table, x));
}

std::size_t strip_whitespace(const char* src, std::size_t len, char* dst) noexcept {
    std::size_t i = 0, n = 0;
    // Four blocks a step: their masks, compresses and popcounts are independent;
    // only the store addresses chain through the counts.
    for (; i + 256 <= len; i += 256) {
        const __m512i x0 = _mm512_loadu_si512(src + i), x1 = _mm512_loadu_si512(src + i + 64);
        const __m512i x2 = _mm512_loadu_si512(src + i + 128), x3 = _mm512_loadu_si512(src + i + 192);
        const __mmask64 k0 = keep_mask(x0), k1 = keep_mask(x1), k2 = keep_mask(x2), k3 = keep_mask(x3);
        const std::size_t n1 = n + static_cast<std::size_t>(std::popcount(k0));
        const std::size_t n2 = n1 + static_cast<std::size_t>(std::popcount(k1));
        const std::size_t n3 = n2 + static_cast<std::size_t>(std::popcount(k2));
        // n <= i, so each full 64-byte store ends inside dst[0, len).
        _mm512_storeu_si512(dst + n, _mm512_maskz_compress_epi8(k0, x0));
        _mm512_storeu_si512(dst + n1, _mm512_maskz_compress_epi8(k1, x1));
        _mm512_storeu_si512(dst + n2, _mm512_maskz_compress_epi8(k2, x2));
        _mm512_storeu_si512(dst + n3, _mm512_maskz_compress_epi8(k3, x3));
        n = n3 + static_cast<std::size_t>(std::popcount(k3));
    }
    for (; i + 64 <= len; i += 64) {
        const __m512i x = _mm512_loadu_si512(src + i);
        const __mmask64 keep = keep_mask(x);
        _mm512_storeu_si512(dst + n, _mm512_maskz_compress_epi8(keep, x));
        n += static_cast<std::size_t>(std::popcount(keep));
    }
    if (i < len) {
        const __mmask64 valid = low_bytes(static_cast<unsigned>(len - i));
        const __m512i x = _mm512_maskz_loadu_epi8(valid, src + i);
        const __mmask64 keep = keep_mask(x) & valid;
        const unsigned kept = static_cast<unsigned>(std::popcount(keep));
        _mm512_mask_storeu_epi8(dst + n, low_bytes(kept), _mm512_maskz_compress_epi8(keep, x));
        n += kept;
    }
    return n;
}

}  // namespace

extern const kernel_ops avx512_kernel{cpu_supports, encode_bulk, decode_bulk, strip_whitespace, encode_whole,
                                      decode_whole};

}  // namespace calib64::detail
