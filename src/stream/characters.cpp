// Character classes of the stream decoders (characters.h).
#include "stream/characters.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace calib64::streaming {

significance significance_of(const decode_options& o, decode_dialect d) noexcept {
    if (o.skip == ignore::non_alphabet) return significance::alphabet_or_pad;
    if (d == decode_dialect::coreutils) return significance::not_newline;
    return o.skip == ignore::whitespace ? significance::not_space : significance::every_byte;
}

namespace {

// Counts the two classes in one byte: '\n', and any of SP HT LF VT FF CR.
inline void count_byte(unsigned char c, whitespace_counts& counts) noexcept {
    counts.newlines += c == '\n';
    counts.spaces += detail::is_ascii_whitespace(c);
}

// Portable: byte-wide lane counters that the compiler vectorizes, flushed before
// they can overflow.
whitespace_counts count_portable(const char* p, std::size_t n) noexcept {
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
    for (; i < n; ++i) count_byte(static_cast<unsigned char>(p[i]), counts);
    return counts;
}

#if defined(__x86_64__)
// A compare mask per class and a popcount per 64 (or 32) bytes: the reader counts
// every decoded byte in its serial stage, so this pass must cost next to nothing
// (the portable loop took more instructions per byte than the decoder itself).
[[gnu::target("avx512bw,popcnt")]] whitespace_counts count_avx512(const char* p, std::size_t n) noexcept {
    const __m512i newline = _mm512_set1_epi8('\n'), space = _mm512_set1_epi8(' ');
    const __m512i tab = _mm512_set1_epi8('\t'), four = _mm512_set1_epi8(4);
    whitespace_counts counts;
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i v = _mm512_loadu_si512(p + i);
        const __mmask64 nl = _mm512_cmpeq_epi8_mask(v, newline);
        const __mmask64 ws = _mm512_cmpeq_epi8_mask(v, space) | _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, tab), four);
        counts.newlines += static_cast<std::size_t>(_mm_popcnt_u64(nl));
        counts.spaces += static_cast<std::size_t>(_mm_popcnt_u64(ws));
    }
    for (; i < n; ++i) count_byte(static_cast<unsigned char>(p[i]), counts);
    return counts;
}

[[gnu::target("avx2,popcnt")]] whitespace_counts count_avx2(const char* p, std::size_t n) noexcept {
    const __m256i newline = _mm256_set1_epi8('\n'), space = _mm256_set1_epi8(' ');
    const __m256i tab = _mm256_set1_epi8('\t'), four = _mm256_set1_epi8(4);
    whitespace_counts counts;
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        const __m256i nl = _mm256_cmpeq_epi8(v, newline);
        // (c - '\t') <= 4, unsigned: min(x, 4) == x.
        const __m256i low = _mm256_sub_epi8(v, tab);
        const __m256i ws = _mm256_or_si256(_mm256_cmpeq_epi8(v, space), _mm256_cmpeq_epi8(_mm256_min_epu8(low, four), low));
        counts.newlines += static_cast<std::size_t>(_mm_popcnt_u32(static_cast<unsigned>(_mm256_movemask_epi8(nl))));
        counts.spaces += static_cast<std::size_t>(_mm_popcnt_u32(static_cast<unsigned>(_mm256_movemask_epi8(ws))));
    }
    for (; i < n; ++i) count_byte(static_cast<unsigned char>(p[i]), counts);
    return counts;
}
#endif

using count_fn = whitespace_counts (*)(const char*, std::size_t) noexcept;

count_fn pick_count() noexcept {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("popcnt")) return count_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return count_avx2;
#endif
    return count_portable;
}

}  // namespace

whitespace_counts count_whitespace(const char* p, std::size_t n) noexcept {
    static const count_fn count = pick_count();
    return count(p, n);
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

}  // namespace calib64::streaming
