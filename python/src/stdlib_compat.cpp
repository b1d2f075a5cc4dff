// See stdlib_compat.h. The order of the fast steps matters only for speed; each
// step's successful answer is the reference's answer, which is what makes the
// fallbacks safe (tests/python/test_parity.py checks it on random inputs).
#include "stdlib_compat.h"

#include <array>
#include <span>

namespace calib64::python {
namespace {

constexpr std::uint8_t not_data = 0xFF;

constexpr std::array<std::uint8_t, 256> make_values(bool url_too) {
    std::array<std::uint8_t, 256> v{};
    v.fill(not_data);
    for (int i = 0; i < 26; ++i) {
        v['A' + i] = static_cast<std::uint8_t>(i);
        v['a' + i] = static_cast<std::uint8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<std::uint8_t>(52 + i);
    v['+'] = 62;
    v['/'] = 63;
    if (url_too) {
        v['-'] = 62;
        v['_'] = 63;
    }
    return v;
}
constexpr auto standard_values = make_values(false);
constexpr auto standard_url_values = make_values(true);

const std::uint8_t* values_of(data_chars chars) noexcept {
    return chars == data_chars::standard ? standard_values.data() : standard_url_values.data();
}

compat_result success(std::size_t written) noexcept { return {.ok = true, .written = written}; }

compat_result failure(status code, std::size_t offset, const char* message) noexcept {
    return {.ok = false, .code = code, .offset = offset, .message = message};
}

// validate=True: calib64's strict decoder accepts exactly what a2b_base64's strict mode
// accepts, except non-zero trailing bits (and, for standard_url, '+' and '/', which the
// url alphabet refuses). On any refusal the reference decides from the start of the
// refused quantum, so it only ever looks at a few characters, and it also finds the
// standard library's words for a real error.
compat_result strict_decode(std::string_view in, const decode_rules& rules, std::uint8_t* out, std::size_t cap) noexcept {
    const decode_options o{.alpha = rules.chars == data_chars::standard ? alphabet::standard : alphabet::url,
                           .pad = padding::required,
                           .skip = ignore::none};
    const decode_result r = decode_auto(in, {out, cap}, o);
    if (r.ok()) return success(r.written);
    // A padded quantum was decoded and something follows it.
    if (r.written % 3 != 0) return failure(status::bad_padding, r.offset, "Excess data after padding");
    return reference_decode(in, r.written / 3 * 4, r.written, rules, out);
}

// validate=False. Bytes the reference discards cannot change its answer at either end
// (a trailing newline is common), so they are trimmed first. Then decode_auto with
// padding::required and, in turn, ignore::none, ::whitespace and ::non_alphabet (each
// skips a subset of what the reference discards; non_alphabet with the url alphabet
// would skip '+' and '/', so not for standard_url). The strict step's progress is
// exact (every character before its refused quantum was data), the skipping steps
// restart from there. A refusal after a padded quantum is the reference's answer too:
// it stops at the first padded quantum and ignores the rest.
compat_result lenient_decode(std::string_view in, const decode_rules& rules, std::uint8_t* out, std::size_t cap) noexcept {
    const data_chars chars = rules.chars;
    const std::uint8_t* values = values_of(chars);
    const auto discarded = [values](char c) {
        return values[static_cast<unsigned char>(c)] == not_data && c != '=';
    };
    std::size_t lo = 0, hi = in.size();
    while (lo < hi && discarded(in[lo])) ++lo;
    while (hi > lo && discarded(in[hi - 1])) --hi;
    const std::string_view text = in.substr(lo, hi - lo);

    constexpr ignore steps[] = {ignore::none, ignore::whitespace, ignore::non_alphabet};
    const std::size_t step_count = chars == data_chars::standard ? 3 : 2;
    std::size_t pos = 0, written = 0;
    for (std::size_t i = 0; i < step_count; ++i) {
        const decode_options o{.alpha = chars == data_chars::standard ? alphabet::standard : alphabet::url,
                               .pad = padding::required,
                               .skip = steps[i]};
        const decode_result r = decode_auto(text.substr(pos), {out + written, cap - written}, o);
        if (r.ok() || r.written % 3 != 0) return success(written + r.written);
        if (steps[i] == ignore::none) {
            pos += r.written / 3 * 4;
            written += r.written;
        }
        // Padding trouble or trailing bits: only the reference knows what it means.
        if (r.code != status::invalid_character) break;
    }
    compat_result r = reference_decode(text, pos, written, rules, out);
    if (!r.ok) r.offset = r.code == status::truncated_input ? in.size() : r.offset + lo;
    return r;
}

}  // namespace

std::size_t decoded_size_bound(std::string_view in) noexcept {
    std::size_t chars = in.size();
    for (int i = 0; i < 2 && chars > 0 && in[chars - 1] == '='; ++i) --chars;
    return chars / 4 * 3 + (chars % 4 > 1 ? chars % 4 - 1 : 0);
}

compat_result stdlib_decode(std::string_view in, const decode_rules& rules, std::uint8_t* out) noexcept {
    const std::size_t cap = decoded_size_bound(in);
    return rules.strict ? strict_decode(in, rules, out, cap) : lenient_decode(in, rules, out, cap);
}

compat_result reference_decode(std::string_view in, std::size_t pos, std::size_t written, const decode_rules& rules,
                               std::uint8_t* out) noexcept {
    const std::uint8_t* values = values_of(rules.chars);
    const bool strict = rules.strict;
    const auto* s = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    if (strict && pos == 0 && n > 0 && s[0] == '=') return failure(status::bad_padding, 0, "Leading padding not allowed");
    unsigned quad = 0;   // data characters of the current quantum
    unsigned pads = 0;   // '=' since the last data character (counted from quad 2 on)
    bool padding_seen = false;
    std::uint8_t left = 0;  // bits of the current quantum not yet written
    std::uint8_t* o = out + written;
    for (std::size_t i = pos; i < n; ++i) {
        const unsigned char c = s[i];
        if (c == '=') {
            padding_seen = true;
            if (strict && quad == 0 && rules.excess_padding_error)
                return failure(status::bad_padding, i, "Excess padding not allowed");
            // Enough '=' to finish the quantum: decoding stops here.
            if (quad >= 2 && quad + ++pads >= 4) {
                if (strict && i + 1 < n) return failure(status::bad_padding, i + 1, "Excess data after padding");
                return success(static_cast<std::size_t>(o - out));
            }
            continue;  // a '=' that finishes nothing is ignored (strict: data may not follow)
        }
        const std::uint8_t v = values[c];
        if (v == not_data) {
            if (strict) return failure(status::invalid_character, i, "Only base64 data is allowed");
            continue;
        }
        if (strict && padding_seen) return failure(status::bad_padding, i, "Discontinuous padding not allowed");
        pads = 0;
        switch (quad) {
            case 0: left = v; break;
            case 1: *o++ = static_cast<std::uint8_t>(left << 2 | v >> 4); left = v & 0x0F; break;
            case 2: *o++ = static_cast<std::uint8_t>(left << 4 | v >> 2); left = v & 0x03; break;
            default: *o++ = static_cast<std::uint8_t>(left << 6 | v); break;
        }
        quad = (quad + 1) % 4;
    }
    if (quad == 1) {
        compat_result r = failure(status::truncated_input, n,
                                  "Invalid base64-encoded string: number of data characters (%zu) cannot be 1 "
                                  "more than a multiple of 4");
        r.data_chars_before = static_cast<std::size_t>(o - out) / 3 * 4 + 1;
        return r;
    }
    if (quad != 0) return failure(status::truncated_input, n, "Incorrect padding");
    return success(static_cast<std::size_t>(o - out));
}

}  // namespace calib64::python
