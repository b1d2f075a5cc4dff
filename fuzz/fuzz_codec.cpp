// libFuzzer target for the codec (see docs/fuzzing.md).
//
// Each input is decoded with every kernel this CPU runs, in every skip mode,
// padding option and alphabet, and must give exactly what scalar gives (status,
// offset, bytes written, bytes) and what the specification model in
// tests/test_codec_model.h gives. Every successful decode must re-encode to the
// canonical form: the input with its skipped bytes removed, padded or not as the
// input was. The input is also encoded with every kernel, which must agree with
// scalar and decode back to the input. Decode and encode also run on a copy of
// the input at another alignment. Output buffers are heap blocks of the exact
// size, so AddressSanitizer sees any write past them. The coreutils dialect's decoder
// (encoder/coreutils.h) runs too, with every kernel, against its own model.
#include <calib64/calib64.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coreutils.h"
#include "test_codec_model.h"

namespace {

using namespace calib64;

[[noreturn]] void fail(const char* what, kernel_id k, const decode_options& o) {
    std::fprintf(stderr, "fuzz_codec: %s (kernel %s, alphabet %s, padding %d, skip %d)\n", what,
                 std::string(kernel_name(k)).c_str(), o.alpha == alphabet::url ? "url" : "standard",
                 static_cast<int>(o.pad), static_cast<int>(o.skip));
    std::abort();
}

// An exactly sized heap buffer (no slack for an overrun to hide in), refilled
// with a marker before each use so one kernel's output cannot stand in for
// another's missing writes.
struct exact_buffer {
    explicit exact_buffer(std::size_t n) : bytes(new std::uint8_t[n == 0 ? 1 : n]), size(n) {}
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t size;
};

struct decoded {
    decode_result result;
    std::vector<std::uint8_t> bytes;  // the `written` prefix
};

decoded decode_into(exact_buffer& out, std::string_view text, const decode_options& o) {
    std::memset(out.bytes.get(), 0xA5, out.size);
    const decode_result r = decode(text, std::span(out.bytes.get(), out.size), o);
    if (r.written > out.size) fail("decode claims more bytes than the buffer holds", o.kernel, o);
    return {r, std::vector<std::uint8_t>(out.bytes.get(), out.bytes.get() + r.written)};
}

bool same(const decoded& a, const decoded& b) {
    return a.result.code == b.result.code && a.result.offset == b.result.offset &&
           a.result.written == b.result.written && a.bytes == b.bytes;
}

void check_decode(std::string_view text, const decode_options& base, std::span<const kernel_id> kernels) {
    decode_options o = base;
    o.kernel = kernel_id::scalar;
    exact_buffer room(max_decoded_length(text.size()));
    const decoded ref = decode_into(room, text, o);

    const codec_model::outcome model = codec_model::decode(text, o);
    if (ref.result.code != model.code || ref.result.offset != model.offset || ref.bytes != model.bytes)
        fail("scalar disagrees with the specification model", o.kernel, o);

    // One byte short of what a successful decode needs (under one padding option
    // only: the short-buffer path is character-at-a-time and dominates the cost).
    const bool check_short = o.pad == padding::optional && ref.result.ok() && ref.result.written > 0;
    exact_buffer short_room(check_short ? ref.result.written - 1 : 0);
    decoded ref_short{};
    if (check_short) {
        ref_short = decode_into(short_room, text, o);
        if (ref_short.result.code != status::output_too_small) fail("one byte short is not output_too_small", o.kernel, o);
    }

    // The same text at another input alignment (the whole-call paths and aligned
    // loads depend on the address), in an exactly sized heap block after `shift`
    // bytes of slack, so ASan still sees any read past its end.
    const std::size_t shift = 1 + text.size() % 63;
    const std::unique_ptr<char[]> shifted_block(new char[shift + text.size()]);
    if (!text.empty()) std::memcpy(shifted_block.get() + shift, text.data(), text.size());
    const std::string_view shifted(shifted_block.get() + shift, text.size());

    for (const kernel_id k : kernels) {
        o.kernel = k;
        if (!same(decode_into(room, text, o), ref)) fail("decode differs from scalar", k, o);
        if (!same(decode_into(room, shifted, o), ref)) fail("decode at another input alignment differs from scalar", k, o);
        if (check_short && !same(decode_into(short_room, text, o), ref_short))
            fail("decode into a short buffer differs from scalar", k, o);
    }
    if (!ref.result.ok()) return;

    // Canonical form: the input without its skipped bytes must be exactly the
    // encoding of the decoded bytes, padded when the input carried '='.
    std::string kept;
    for (const char c : text)
        if (!codec_model::is_skipped(static_cast<unsigned char>(c), o.skip, o.alpha)) kept += c;
    const bool padded = kept.find('=') != std::string::npos;
    if (padded && o.pad == padding::forbidden) fail("'=' accepted although padding is forbidden", kernel_id::scalar, o);
    const bool wants_pad = o.pad == padding::required || (o.pad == padding::optional && padded);
    const std::string_view decoded_text(reinterpret_cast<const char*>(ref.bytes.data()), ref.bytes.size());
    if (encode(decoded_text, {.alpha = o.alpha, .pad = wants_pad, .kernel = kernel_id::scalar}) != kept)
        fail("a successful decode does not re-encode to the input's canonical form", kernel_id::scalar, o);
}

void check_encode(std::span<const std::uint8_t> data, alphabet alpha, bool pad, std::span<const kernel_id> kernels) {
    const std::size_t length = encoded_length(data.size(), pad);
    const std::string want = codec_model::encode(data, alpha, pad);
    const decode_options back{.alpha = alpha, .pad = pad ? padding::required : padding::forbidden};
    if (want.size() != length) fail("encoded_length disagrees with the model", kernel_id::scalar, back);
    // The input again at another alignment (see check_decode).
    const std::size_t shift = 1 + data.size() % 63;
    const std::unique_ptr<std::uint8_t[]> shifted_block(new std::uint8_t[shift + data.size()]);
    if (!data.empty()) std::memcpy(shifted_block.get() + shift, data.data(), data.size());
    const std::span<const std::uint8_t> shifted(shifted_block.get() + shift, data.size());
    for (const kernel_id k : kernels) {
        const std::unique_ptr<char[]> out(new char[length == 0 ? 1 : length]);
        const encode_result r = encode(data, {out.get(), length}, {.alpha = alpha, .pad = pad, .kernel = k});
        if (!r.ok() || r.written != length || std::string_view(out.get(), length) != want)
            fail("encode differs from scalar and the model", k, back);
        const encode_result rs = encode(shifted, {out.get(), length}, {.alpha = alpha, .pad = pad, .kernel = k});
        if (!rs.ok() || rs.written != length || std::string_view(out.get(), length) != want)
            fail("encode at another input alignment differs from scalar and the model", k, back);
        if (length > 0) {
            const encode_result short_r = encode(data, {out.get(), length - 1}, {.alpha = alpha, .pad = pad, .kernel = k});
            if (short_r.code != status::output_too_small || short_r.written != 0)
                fail("encode one byte short is not output_too_small", k, back);
        }
        decode_options o = back;
        o.kernel = k;
        exact_buffer room(data.size());
        const decoded round = decode_into(room, want, o);
        if (!round.result.ok() || round.bytes.size() != data.size() ||
            !std::equal(round.bytes.begin(), round.bytes.end(), data.begin()))
            fail("encode then decode does not round-trip", k, o);
    }
}

// The coreutils dialect: what the model says, with every kernel, into an exactly
// sized buffer, with the whitespace hint unknown and (when true) given.
void check_coreutils(std::string_view text, alphabet alpha, ignore skip, std::span<const kernel_id> kernels) {
    const codec_model::outcome want = codec_model::decode_coreutils(text, alpha, skip);
    exact_buffer room(max_decoded_length(text.size()));
    std::vector<char> scratch;
    for (const kernel_id k : kernels) {
        const decode_options o{.alpha = alpha, .skip = skip, .kernel = k};
        for (const auto hint : {detail::whitespace_hint::unknown, detail::whitespace_of(text)}) {
            std::memset(room.bytes.get(), 0xA5, room.size);
            const decode_result r = detail::decode_coreutils(text, std::span(room.bytes.get(), room.size), o, scratch, hint);
            if (r.written > room.size) fail("coreutils decode claims more bytes than the buffer holds", k, o);
            if (r.code != want.code || r.offset != want.offset ||
                !std::equal(want.bytes.begin(), want.bytes.end(), room.bytes.get(), room.bytes.get() + r.written) ||
                r.written != want.bytes.size())
                fail("coreutils decode disagrees with its model", k, o);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const kernel_id> kernels = available_kernels();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const alphabet alpha : {alphabet::standard, alphabet::url}) {
        for (const ignore skip : {ignore::none, ignore::whitespace, ignore::non_alphabet})
            for (const padding pad : {padding::required, padding::optional, padding::forbidden})
                check_decode(text, {.alpha = alpha, .pad = pad, .skip = skip}, kernels);
        for (const bool pad : {true, false}) check_encode({data, size}, alpha, pad, kernels);
        for (const ignore skip : {ignore::none, ignore::non_alphabet}) check_coreutils(text, alpha, skip, kernels);
    }
    return 0;
}
