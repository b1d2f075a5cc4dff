// Internal: how many bytes base64 characters decode to, for the codec driver and
// the parallel planner alike.
#pragma once

#include <cstddef>
#include <string_view>

namespace calib64::detail {

// Bytes that `chars` data characters (no '=') decode to when they are valid.
[[nodiscard]] constexpr std::size_t decoded_size_of(std::size_t chars) noexcept {
    return chars / 4 * 3 + (chars % 4 > 1 ? chars % 4 - 1 : 0);
}

// Exact decoded size of a strict (ignore::none) input, assuming it is valid: at
// most two final '=' are padding.
[[nodiscard]] constexpr std::size_t strict_decoded_size(std::string_view in) noexcept {
    std::size_t chars = in.size();
    for (int i = 0; i < 2 && chars > 0 && in[chars - 1] == '='; ++i) --chars;
    return decoded_size_of(chars);
}

}  // namespace calib64::detail
