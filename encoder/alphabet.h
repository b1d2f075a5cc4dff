// Internal: the two RFC 4648 alphabets as compile-time tables, shared by the
// scalar reference and the SIMD kernels (which derive their lookup vectors here,
// so every kernel agrees with scalar by construction).
#pragma once

#include <calib64/calib64.h>

#include <array>
#include <cstdint>

namespace calib64::detail {

inline constexpr char standard_chars[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr char url_chars[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline constexpr std::uint8_t invalid_value = 0xFF;

// value_of[c]: the 6-bit value of character c, or invalid_value.
constexpr std::array<std::uint8_t, 256> make_decode_table(const char (&chars)[65]) {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = invalid_value;
    for (int i = 0; i < 64; ++i) t[static_cast<std::uint8_t>(chars[i])] = static_cast<std::uint8_t>(i);
    return t;
}

inline constexpr auto standard_values = make_decode_table(standard_chars);
inline constexpr auto url_values = make_decode_table(url_chars);

constexpr const char* chars_of(alphabet a) { return a == alphabet::url ? url_chars : standard_chars; }
constexpr const std::uint8_t* values_of(alphabet a) {
    return a == alphabet::url ? url_values.data() : standard_values.data();
}

constexpr bool is_ascii_whitespace(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

}  // namespace calib64::detail
