// The coreutils dialect (coreutils.h): the library's strict decoder runs over runs of
// canonical quanta (SIMD); when it stops, only the group it rejected is decoded the
// gnulib way, and the strict decoder resumes after it.
#include "coreutils.h"

#include <algorithm>
#include <cstring>

#include "alphabet.h"

namespace calib64::detail {

coreutils_group decode_coreutils_group(const char* g, unsigned len, const std::uint8_t* values,
                                       std::uint8_t* out) noexcept {
    auto value = [&](unsigned i) { return values[static_cast<unsigned char>(g[i])]; };
    auto is_data = [&](unsigned i) { return value(i) != invalid_value; };
    auto fail = [](unsigned bytes, unsigned slot, status code) { return coreutils_group{false, bytes, slot, code}; };
    if (len < 2) return len == 1 && !is_data(0) ? fail(0, 0, status::invalid_character) : fail(0, len, status::truncated_input);
    for (unsigned i = 0; i < 2; ++i)
        if (!is_data(i)) return fail(0, i, g[i] == '=' ? status::bad_padding : status::invalid_character);
    out[0] = static_cast<std::uint8_t>(value(0) << 2 | value(1) >> 4);
    if (len == 2) return fail(1, 2, status::truncated_input);
    if (g[2] == '=') {
        if (len != 4) return fail(1, 3, status::truncated_input);
        if (g[3] != '=') return fail(1, 3, status::bad_padding);
        return {true, 1, 0, status::ok};
    }
    if (!is_data(2)) return fail(1, 2, status::invalid_character);
    out[1] = static_cast<std::uint8_t>((value(1) & 0x0F) << 4 | value(2) >> 2);
    if (len == 3) return fail(2, 3, status::truncated_input);
    if (g[3] == '=') return {true, 2, 0, status::ok};
    if (!is_data(3)) return fail(2, 3, status::invalid_character);
    out[2] = static_cast<std::uint8_t>((value(2) & 0x03) << 6 | value(3));
    return {true, 3, 0, status::ok};
}

namespace {

bool is_kept(unsigned char c, bool all_garbage, const std::uint8_t* values) noexcept {
    return all_garbage ? values[c] != invalid_value || c == '=' : c != '\n';
}

// The kept characters of `text`, contiguous, into dst; returns how many.
std::size_t compact(std::string_view text, bool all_garbage, const std::uint8_t* values, char* dst) noexcept {
    std::size_t m = 0;
    if (!all_garbage) {
        for (std::size_t i = 0; i < text.size();) {
            const void* nl = std::memchr(text.data() + i, '\n', text.size() - i);
            const std::size_t end = nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data())
                                                  : text.size();
            std::memcpy(dst + m, text.data() + i, end - i);
            m += end - i;
            i = end + 1;
        }
        return m;
    }
    for (const char c : text) {
        dst[m] = c;
        m += is_kept(static_cast<unsigned char>(c), true, values);
    }
    return m;
}

// The offset in `text` of kept character number k (k == the count: text.size()).
std::size_t text_offset(std::string_view text, bool all_garbage, const std::uint8_t* values, std::size_t k) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!is_kept(static_cast<unsigned char>(text[i]), all_garbage, values)) continue;
        if (k-- == 0) return i;
    }
    return text.size();
}

decode_result plain_decode(std::string_view in, std::span<std::uint8_t> out, const decode_options& o, const void*) noexcept {
    return decode(in, out, o);
}

}  // namespace

whitespace_hint whitespace_of(std::string_view text) noexcept {
    bool newline = false;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '\n') newline = true;
        else if (is_ascii_whitespace(u)) return whitespace_hint::other;
    }
    return newline ? whitespace_hint::only_newlines : whitespace_hint::none;
}

decode_result decode_coreutils(std::string_view text, std::span<std::uint8_t> out, const decode_options& o,
                               std::vector<char>& scratch, whitespace_hint hint, strict_decoder strict,
                               const void* context) {
    if (strict == nullptr) strict = plain_decode;
    if (out.size() < max_decoded_length(text.size())) return {status::output_too_small, 0, 0};
    const std::uint8_t* values = values_of(o.alpha);
    const bool all_garbage = o.skip == ignore::non_alphabet;
    if (!all_garbage && hint == whitespace_hint::unknown) hint = whitespace_of(text);
    if (!all_garbage && hint == whitespace_hint::only_newlines) {
        // With no whitespace but '\n', the library's whitespace skipping is exactly
        // coreutils' newline skipping on canonical text; anything it rejects takes the
        // path below.
        const decode_result r = strict(text, out, {o.alpha, padding::required, ignore::whitespace, o.kernel}, context);
        if (r.ok() || r.code == status::kernel_unavailable) return r;
    }
    // The kept characters, contiguous: in place when nothing is skipped.
    std::string_view s = text;
    bool moved = false;
    if (all_garbage || (hint != whitespace_hint::none && std::memchr(text.data(), '\n', text.size()) != nullptr)) {
        scratch.resize(text.size());
        s = {scratch.data(), compact(text, all_garbage, values, scratch.data())};
        moved = true;
    }
    const decode_options canonical{o.alpha, padding::required, ignore::none, o.kernel};
    std::size_t pos = 0;
    std::size_t written = 0;
    while (pos < s.size()) {
        const std::size_t rest = s.size() - pos;
        const decode_result r = strict(s.substr(pos), out.subspan(written), canonical, context);
        written += r.written;
        if (r.ok()) break;
        if (r.code == status::kernel_unavailable) return {r.code, 0, written};
        // Whole quanta before the one rejected are decoded; that one goes the gnulib way.
        pos += r.offset < rest ? r.offset / 4 * 4 : rest / 4 * 4;
        const auto len = static_cast<unsigned>(std::min<std::size_t>(4, s.size() - pos));
        const coreutils_group g = decode_coreutils_group(s.data() + pos, len, values, out.data() + written);
        written += g.bytes;
        if (!g.ok) {
            const std::size_t k = pos + g.bad_slot;
            return {g.code, moved ? text_offset(text, all_garbage, values, k) : k, written};
        }
        pos += len;
    }
    return {status::ok, 0, written};
}

}  // namespace calib64::detail
