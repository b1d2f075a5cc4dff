// Internal: sizes as people write and read them. The one parser (CALIB64_* variables,
// --max-size, --block-bytes) and the one formatter (profile show, reports, charts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace calib64::common {

// The largest size any setting, profile field or flag may name: larger is a typo.
inline constexpr std::uint64_t max_sane_bytes = 1ull << 40;  // 1 TiB

// "4096", "64KiB", "1 MiB", "20MB", "1.5GiB": B, kB/KB, MB, GB, TB are powers of 1000;
// KiB, MiB, GiB, TiB powers of 1024; case-insensitive, spaces allowed around the number
// and between number and unit; fractions round down to whole bytes. nullopt with *error
// set for anything else (a sign, hex, exponents, single-letter units such as 1k), or
// above 1 TiB.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error = nullptr);

// "256 KiB" (binary units when exact), "5 MB" (decimal MB/GB when exact: the seed
// note's sizes), otherwise one decimal in the largest binary unit: "1.5 MiB"; below 1 KiB "1023 B".
[[nodiscard]] std::string format_size(std::uint64_t bytes);
// format_size, followed by " (N B)" when the words are rounded: where the exact value matters.
[[nodiscard]] std::string format_size_exact(std::uint64_t bytes);

}  // namespace calib64::common
