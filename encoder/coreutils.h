// Internal: the GNU coreutils `base64 -d` dialect (gnulib's base64_decode_ctx), the
// second decoder beside the RFC 4648 one in codec.cpp. The stream runs it per block
// (decode_dialect::coreutils); tests/test_codec_model.h has its model, and the fuzzer
// checks one against the other.
//
// The rules: without -i only '\n' is skipped (ignore::non_alphabet, `-d -i`: every
// byte but the alphabet and '='); the kept characters are cut into groups of four and
// each group decodes on its own ('=' may end any group, trailing bits are not
// checked); on a bad group the bytes it yields before the fault are still written.
#pragma once

#include <calib64/calib64.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace calib64::detail {

// One group of 1-4 kept characters decoded the way gnulib's decode_4 does.
struct coreutils_group {
    bool ok = true;
    unsigned bytes = 0;     // written to out (also on failure: what precedes the fault)
    unsigned bad_slot = 0;  // on failure: the slot at fault (== len: the group is cut short)
    status code = status::ok;
};
[[nodiscard]] coreutils_group decode_coreutils_group(const char* g, unsigned len, const std::uint8_t* values,
                                                     std::uint8_t* out) noexcept;

// Decodes canonical quanta for decode_coreutils: decode() itself (nullptr), or the
// caller's choice (the stream passes decode_with and its backend). `context` is
// handed through.
using strict_decoder = decode_result (*)(std::string_view in, std::span<std::uint8_t> out, const decode_options& o,
                                         const void* context) noexcept;

// What the caller knows about the text's ASCII whitespace: none at all (the strict
// decoder then runs in place), '\n' alone (the SIMD whitespace-skipping decoder takes
// the text whole), or other whitespace too (which the dialect keeps, and rejects).
enum class whitespace_hint : std::uint8_t { unknown, none, only_newlines, other };
[[nodiscard]] whitespace_hint whitespace_of(std::string_view text) noexcept;

// Decodes `text` by the dialect's rules (o.skip: non_alphabet skips every byte but
// the alphabet and '=', anything else '\n' only; o.pad is unused). `out` must hold
// max_decoded_length(text.size()) bytes, else output_too_small. Returns the status,
// the offset in `text` of the byte at fault (text.size() for a group cut short at
// the end) and the bytes written, including those of the bad group. `scratch` holds
// the kept characters when some byte is skipped.
[[nodiscard]] decode_result decode_coreutils(std::string_view text, std::span<std::uint8_t> out,
                                             const decode_options& o, std::vector<char>& scratch,
                                             whitespace_hint hint = whitespace_hint::unknown,
                                             strict_decoder strict = nullptr, const void* context = nullptr);

}  // namespace calib64::detail
