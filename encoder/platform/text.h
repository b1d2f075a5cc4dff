// Internal: the few text helpers every layer needs, once.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace calib64::detail {

// ASCII whitespace (SP, HT, LF, VT, FF, CR) off both ends.
[[nodiscard]] constexpr std::string_view trim(std::string_view s) noexcept {
    constexpr std::string_view space = " \t\n\v\f\r";
    const auto first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// The whole of `s` as a decimal number: no sign, no spaces, no trailing text.
[[nodiscard]] inline bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace calib64::detail
