// A deliberately plain model of RFC 4648 base64 as calib64 specifies it, written
// independently of encoder/ so that tests and the fuzzer can check the library's
// driver (not just kernel-vs-scalar agreement) against the specification:
//
// - alphabet characters fill the four slots of a quantum; '=' may fill slots 2
//   and 3 only, and once a quantum holds '=' only '=' may complete it;
// - after a padded quantum, nothing but skipped bytes may follow;
// - a finished quantum with d data characters yields d - 1 bytes, and its unused
//   low bits must be zero (else nonzero_trailing_bits at its last data character);
// - input that ends inside a quantum is truncated_input (offset: input size)
//   unless it ends after 2 or 3 data characters and padding is not required;
// - skipped bytes (whitespace or every non-alphabet byte but '=') are ignored,
//   anything else outside the alphabet is invalid_character;
// - on error, the output holds the bytes of every quantum finished before it.
//
// Below it, decode_coreutils models GNU coreutils' `base64 -d` (gnulib's decode_4),
// the stream's decode_dialect::coreutils and encoder/coreutils.h.
#pragma once

#include <calib64/calib64.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace codec_model {

inline constexpr std::string_view standard_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr std::string_view url_chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline std::string_view chars_of(calib64::alphabet a) {
    return a == calib64::alphabet::url ? url_chars : standard_chars;
}

// The 6-bit value of c, or -1 when c is not in the alphabet (the position of c
// in the alphabet string, looked up once per byte value).
inline int value_of(unsigned char c, calib64::alphabet a) {
    struct table {
        int value[256];
        explicit table(std::string_view chars) {
            for (int b = 0; b < 256; ++b) {
                const auto at = chars.find(static_cast<char>(b));
                value[b] = at == std::string_view::npos ? -1 : static_cast<int>(at);
            }
        }
    };
    static const table standard(standard_chars), url(url_chars);
    return (a == calib64::alphabet::url ? url : standard).value[c];
}

inline bool is_whitespace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

inline bool is_skipped(unsigned char c, calib64::ignore skip, calib64::alphabet a) {
    switch (skip) {
        case calib64::ignore::none: return false;
        case calib64::ignore::whitespace: return is_whitespace(c);
        case calib64::ignore::non_alphabet: return value_of(c, a) < 0 && c != '=';
    }
    return false;
}

inline std::string encode(std::span<const std::uint8_t> bytes, calib64::alphabet a, bool pad) {
    const std::string_view chars = chars_of(a);
    std::string text;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t have = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 3; ++k) group = group << 8 | (k < have ? bytes[i + k] : 0u);
        for (std::size_t k = 0; k < have + 1; ++k) text += chars[(group >> (18 - 6 * k)) & 63];
        if (pad) text.append(3 - have, '=');
    }
    return text;
}

struct outcome {
    calib64::status code = calib64::status::ok;
    std::size_t offset = 0;           // 0 when ok
    std::vector<std::uint8_t> bytes;  // what the decoder has written (its `written` prefix)
};

// Decodes with unlimited output room (capacity errors are tested separately).
inline outcome decode(std::string_view text, const calib64::decode_options& o) {
    using calib64::status;
    outcome r;
    int slot_value[4] = {};
    std::size_t slot_offset[4] = {};
    int filled = 0, pads = 0;
    bool padded_quantum_seen = false;

    // Emits a quantum of `data` data characters; false on nonzero trailing bits.
    auto finish = [&](int data) {
        const bool stray_bits = (data == 2 && (slot_value[1] & 0x0F) != 0) || (data == 3 && (slot_value[2] & 0x03) != 0);
        if (stray_bits) {
            r.code = status::nonzero_trailing_bits;
            r.offset = slot_offset[data - 1];
            return false;
        }
        const std::uint32_t group = std::uint32_t(slot_value[0]) << 18 | std::uint32_t(slot_value[1]) << 12 |
                                    std::uint32_t(data > 2 ? slot_value[2] : 0) << 6 | std::uint32_t(data > 3 ? slot_value[3] : 0);
        for (int k = 0; k < data - 1; ++k) r.bytes.push_back(static_cast<std::uint8_t>(group >> (16 - 8 * k)));
        return true;
    };
    auto fail = [&](status s, std::size_t at) {
        r.code = s;
        r.offset = at;
        return r;
    };

    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        const auto c = static_cast<unsigned char>(text[pos]);
        if (is_skipped(c, o.skip, o.alpha)) continue;
        const int v = value_of(c, o.alpha);
        if (v >= 0) {
            if (pads > 0 || padded_quantum_seen) return fail(status::bad_padding, pos);
            slot_value[filled] = v;
        } else if (c == '=') {
            if (o.pad == calib64::padding::forbidden || padded_quantum_seen || filled < 2)
                return fail(status::bad_padding, pos);
            slot_value[filled] = 0;
            ++pads;
        } else {
            return fail(status::invalid_character, pos);
        }
        slot_offset[filled++] = pos;
        if (filled == 4) {
            if (!finish(4 - pads)) return r;
            padded_quantum_seen = pads > 0;
            filled = pads = 0;
        }
    }
    if (filled == 0) return r;
    if (pads > 0 || filled == 1 || o.pad == calib64::padding::required)
        return fail(status::truncated_input, text.size());
    finish(filled);
    return r;
}

// GNU coreutils' `base64 -d` (and `-d -i`), as calib64 specifies it:
//
// - kept characters: without -i every byte but '\n'; with -i (ignore::non_alphabet)
//   only the alphabet and '='; all others are skipped;
// - the kept characters form groups of four, each decoded on its own: slots 0 and 1
//   must hold alphabet characters ('=' there is bad_padding, anything else
//   invalid_character); "xx==" yields one byte, "xxx=" two, "xxxx" three; trailing
//   bits are never checked, and '=' may end any group, not only the last;
// - after "xx=" only '=' may fill slot 3 (else bad_padding there); a byte outside
//   the alphabet in slot 2 or 3 is invalid_character;
// - a last group of one alphabet character, of two, or of three (with or without
//   '=') is truncated_input at offset text.size(); a last group of one other byte is
//   invalid_character at it;
// - the decoder stops at the first bad group, having written every byte before the
//   slot at fault (so "QUJ*" writes "AB" and "QU" writes "A").
inline outcome decode_coreutils(std::string_view text, calib64::alphabet a, calib64::ignore skip) {
    using calib64::status;
    const bool only_alphabet = skip == calib64::ignore::non_alphabet;
    std::vector<std::size_t> kept;  // offsets of the kept characters
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (only_alphabet ? value_of(c, a) >= 0 || c == '=' : c != '\n') kept.push_back(i);
    }
    outcome r;
    auto fail = [&](status s, std::size_t at) {
        r.code = s;
        r.offset = at;
        return r;
    };
    for (std::size_t g = 0; g < kept.size(); g += 4) {
        const std::size_t len = std::min<std::size_t>(4, kept.size() - g);
        auto ch = [&](std::size_t slot) { return static_cast<unsigned char>(text[kept[g + slot]]); };
        auto val = [&](std::size_t slot) { return value_of(ch(slot), a); };
        auto at = [&](std::size_t slot) { return kept[g + slot]; };
        if (len == 1) return val(0) >= 0 ? fail(status::truncated_input, text.size()) : fail(status::invalid_character, at(0));
        for (std::size_t slot = 0; slot < 2; ++slot)
            if (val(slot) < 0) return fail(ch(slot) == '=' ? status::bad_padding : status::invalid_character, at(slot));
        r.bytes.push_back(static_cast<std::uint8_t>(val(0) << 2 | val(1) >> 4));
        if (len == 2) return fail(status::truncated_input, text.size());
        if (ch(2) == '=') {
            if (len == 3) return fail(status::truncated_input, text.size());
            if (ch(3) != '=') return fail(status::bad_padding, at(3));
            continue;
        }
        if (val(2) < 0) return fail(status::invalid_character, at(2));
        r.bytes.push_back(static_cast<std::uint8_t>((val(1) & 0x0F) << 4 | val(2) >> 2));
        if (len == 3) return fail(status::truncated_input, text.size());
        if (ch(3) == '=') continue;
        if (val(3) < 0) return fail(status::invalid_character, at(3));
        r.bytes.push_back(static_cast<std::uint8_t>((val(2) & 0x03) << 6 | val(3)));
    }
    return r;
}

}  // namespace codec_model
