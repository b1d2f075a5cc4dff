// Internal: the contract every SIMD kernel implements, and the dispatch table.
//
// A kernel only does the bulk: whole 3-byte groups (encode) and whole 4-character
// quanta of pure alphabet (decode). Tails, padding, error offsets and skipped
// whitespace are handled once, in codec.cpp, with the scalar reference. That keeps
// each kernel small and makes "byte-identical to scalar" a property of one driver.
#pragma once

#include <calib64/calib64.h>

#include <cstddef>
#include <cstdint>

namespace calib64::detail {

struct alphabet_tables;

// The functions of one kernel; its name and description are its catalog row.
struct kernel_ops {
    // Whether this CPU can run the kernel (checked once, at dispatch).
    bool (*cpu_supports)() noexcept;

    // Encodes whole 3-byte groups from the front of src[0, len). Returns the bytes
    // consumed (a multiple of 3, at most len) and writes exactly consumed / 3 * 4
    // characters to dst. May stop early (leaving a tail for the scalar driver);
    // never reads past src + len and never writes past dst + consumed / 3 * 4.
    std::size_t (*encode_bulk)(const std::uint8_t* src, std::size_t len, char* dst,
                               alphabet alpha) noexcept;

    // Decodes whole quanta of four alphabet characters (no '=') from the front of
    // src[0, len). Returns the characters consumed (a multiple of 4) and writes
    // consumed / 4 * 3 bytes. Stops at or before the first quantum that holds a
    // character outside the alphabet; the driver finds and reports it. Never reads
    // past src + len. May use dst[consumed / 4 * 3, len / 4 * 3 - 2) as scratch (the
    // driver guarantees that room), never anything beyond.
    std::size_t (*decode_bulk)(const char* src, std::size_t len, std::uint8_t* dst,
                               alphabet alpha) noexcept;

    // Copies every byte of src[0, len) that is not ASCII whitespace (SP, HT, LF,
    // VT, FF, CR) to dst, in order; returns the count. dst has room for len bytes.
    std::size_t (*strip_whitespace)(const char* src, std::size_t len, char* dst) noexcept;

    // Optional whole-call paths (nullptr: the driver composes the bulk functions
    // above with the scalar reference). They exist so that a short input costs
    // one kernel call and no scalar tail (encode() tail-calls encode_whole).

    // All of encode() once the driver has checked the room: writes exactly
    // encoded_length(len, pad) characters to dst, the final partial group and '='
    // included, and returns {ok, that length}.
    encode_result (*encode_whole)(const std::uint8_t* src, std::size_t len, char* dst, alphabet alpha,
                                  bool pad) noexcept;

    // All of a strict decode (o.skip == ignore::none) into r: decodes src[0, len)
    // when it is valid under (o.alpha, o.pad), i.e. decode_from would accept it,
    // and its bytes fit dst[0, cap). At anything else it hands over to the precise
    // path, decode_strict_from, at a quantum boundary before the problem (0 when
    // the bytes would not fit), so every error comes from decode_from. It writes
    // nothing outside dst[0, cap), and past the decoded bytes only inside the room
    // decode_bulk may use as scratch. (Writing r itself lets decode() save nothing
    // but r around the call.)
    void (*decode_whole)(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst, std::size_t cap,
                         const decode_options& o) noexcept;
};

// The driver's precise path (codec.cpp) for a strict decode that decode_whole
// could not finish: src[0, done) is pure alphabet, done a multiple of 4, and its
// done / 4 * 3 bytes are in dst. The _from_start form (done = 0) has six
// arguments, so that a kernel can tail-call it.
void decode_strict_from(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst, std::size_t cap,
                        const decode_options& o, std::size_t done) noexcept;
void decode_strict_from_start(decode_result& r, const char* src, std::size_t len, std::uint8_t* dst,
                              std::size_t cap, const decode_options& o) noexcept;

// The scalar reference (kernels/scalar.cpp): always built, and what the codec
// driver runs over everything a kernel leaves. The others are declared with their
// catalog rows.
extern const kernel_ops scalar_kernel;

// The ops for k (automatic: the best this CPU runs); nullptr when k is not
// compiled in or the CPU cannot run it.
const kernel_ops* resolve_kernel(kernel_id k) noexcept;

}  // namespace calib64::detail
