// The standard library's base64 decoding rules (CPython 3.11 binascii.a2b_base64,
// what base64.b64decode / decodebytes call) on top of calib64::decode_auto.
//
// No Python here: plain C++ so the rules are readable in one place. The module
// (module.cpp) only converts arguments and results.
//
// How: the stdlib rules differ from every calib64 decode_options combination in a
// few places (it ignores non-zero trailing bits; without validate it discards any
// non-alphabet byte, ignores a stray '=' and stops at the first padded quantum). So
// decode_auto runs first with options whose every successful answer is provably the
// stdlib's answer, and only what it refuses goes on to the next, slower step, ending
// in a character-at-a-time reference (reference_decode) that defines the semantics.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace calib64::python {

// Which characters count as data.
enum class data_chars : std::uint8_t {
    standard,      // A-Z a-z 0-9 + /
    standard_url,  // also - _  (b64decode(altchars=b"-_") / urlsafe_b64decode translate -_ to +/)
};

struct compat_result {
    bool ok = true;
    std::size_t written = 0;      // output bytes (on error: meaningless)
    status code = status::ok;     // on error: invalid_character, bad_padding or truncated_input
    std::size_t offset = 0;       // on error: input offset the error is about
    const char* message = "";     // on error: the standard library's words (a printf format for
                                  // the "number of data characters" one: see data_chars_before)
    std::size_t data_chars_before = 0;  // for that message: data characters decoded (a multiple of 4) + 1
};

// Upper bound on the output bytes for an input of `chars` characters, for either
// mode below. Exact for an input the strict decoder accepts.
[[nodiscard]] std::size_t decoded_size_bound(std::string_view in) noexcept;

// Which of a2b_base64's rules apply.
struct decode_rules {
    data_chars chars = data_chars::standard;
    bool strict = false;  // strict_mode (b64decode's validate)
    // Strict mode and a '=' where a quantum would start: CPython 3.11 to 3.12.3 ignore
    // it ("AAAA==" decodes), 3.12.4 and later raise "Excess padding not allowed". The
    // module asks the running interpreter's binascii which it is.
    bool excess_padding_error = false;
};

// binascii.a2b_base64(in, strict_mode=rules.strict). `out` has room for
// decoded_size_bound(in) bytes. Thread-safe; does not touch Python.
[[nodiscard]] compat_result stdlib_decode(std::string_view in, const decode_rules& rules, std::uint8_t* out) noexcept;

// The definition: a2b_base64's rules one character at a time, starting at `pos`, a
// quantum boundary where `written` bytes have been produced (0, 0 for a whole input).
[[nodiscard]] compat_result reference_decode(std::string_view in, std::size_t pos, std::size_t written,
                                             const decode_rules& rules, std::uint8_t* out) noexcept;

}  // namespace calib64::python
