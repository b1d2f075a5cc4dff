#include "common/sizes.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "platform/text.h"

namespace calib64::common {
namespace {

struct unit {
    std::string_view name;  // lower case
    long double factor;
};
constexpr std::array<unit, 10> units = {{{"", 1},
                                         {"b", 1},
                                         {"kb", 1e3L},
                                         {"mb", 1e6L},
                                         {"gb", 1e9L},
                                         {"tb", 1e12L},
                                         {"kib", 1024.0L},
                                         {"mib", 1048576.0L},
                                         {"gib", 1073741824.0L},
                                         {"tib", 1099511627776.0L}}};

constexpr std::array<std::string_view, 5> binary_names = {"B", "KiB", "MiB", "GiB", "TiB"};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<std::uint64_t> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (error) error->clear();
    const std::string_view s = detail::trim(text);
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        value = value * 10 + (s[i++] - '0');
        digits = true;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        long double scale = 0.1L;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            value += (s[i++] - '0') * scale;
            scale /= 10;
            digits = true;
        }
    }
    if (!digits) return fail(s.empty() ? "empty; expected a size such as 4096, 64KiB or 20MB" : "does not start with a number");
    const std::string_view written_unit = detail::trim(s.substr(i));
    std::string lower(written_unit);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto* u = std::find_if(units.begin(), units.end(), [&](const unit& x) { return lower == x.name; });
    if (u == units.end())
        return fail(fmt::format("unknown unit \"{}\"; use B, kB, MB, GB, KiB, MiB or GiB", written_unit));
    const long double bytes = std::floor(value * u->factor);
    if (bytes > static_cast<long double>(max_sane_bytes)) return fail("larger than 1 TiB; not a plausible size");
    return static_cast<std::uint64_t>(bytes);
}

std::string format_size(std::uint64_t bytes) {
    std::size_t unit = 0;
    std::uint64_t v = bytes;
    while (unit + 1 < binary_names.size() && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        ++unit;
    }
    if (unit > 0 || bytes < 1024) return fmt::format("{} {}", v, binary_names[unit]);
    if (bytes % 1000000000 == 0) return fmt::format("{} GB", bytes / 1000000000);
    if (bytes % 1000000 == 0) return fmt::format("{} MB", bytes / 1000000);
    double d = static_cast<double>(bytes);
    unit = 0;
    while (unit + 1 < binary_names.size() && d >= 1024) {
        d /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", d, binary_names[unit]);
}

std::string format_size_exact(std::uint64_t bytes) {
    std::string words = format_size(bytes);
    if (words.find('.') != std::string::npos) words += fmt::format(" ({} B)", bytes);
    return words;
}

}  // namespace calib64::common
