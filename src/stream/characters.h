// Internal: which characters a stream decoder keeps ("significant": those it does not
// skip), and counting them as blocks arrive, so the reader can cut each block after a
// whole number of groups of four.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>

#include "alphabet.h"

namespace calib64::streaming {

enum class significance : std::uint8_t {
    every_byte,       // RFC 4648, ignore::none
    not_newline,      // coreutils without -i
    not_space,        // RFC 4648, ignore::whitespace
    alphabet_or_pad,  // ignore::non_alphabet (both dialects)
};

[[nodiscard]] significance significance_of(const decode_options& o, decode_dialect d) noexcept;

[[nodiscard]] inline bool is_significant(significance s, const std::uint8_t* values, unsigned char c) noexcept {
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

// One vectorized pass over p[0, n).
[[nodiscard]] whitespace_counts count_whitespace(const char* p, std::size_t n) noexcept;

// Significant characters in p[0, n) (alphabet_or_pad; the others follow from
// count_whitespace).
[[nodiscard]] std::size_t count_significant(significance s, const std::uint8_t* values, const char* p,
                                            std::size_t n) noexcept;

}  // namespace calib64::streaming
