// Short inputs, where a kernel's whole-call path (encode_whole / decode_whole in
// encoder/kernel.h) does everything in one or a few masked steps: every length
// 0..300 at every input and output offset 0..63, every invalid byte position,
// every form of the last quantum, and the output-capacity edges, each against
// the scalar reference and the specification model (test_codec_model.h).
#include <calib64/calib64.h>
#include <doctest/doctest.h>

#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "test_codec_support.h"

namespace {

using namespace codec_test;
using calib64::kernel_name;

constexpr std::size_t max_short_bytes = 300;

struct codec_options {
    alphabet alpha;
    bool pad;
};
constexpr codec_options every_codec_option[] = {
    {alphabet::standard, true}, {alphabet::standard, false}, {alphabet::url, true}, {alphabet::url, false}};

// What a decoder returned, with the bytes it reports as written.
struct decoded {
    calib64::decode_result result;
    std::vector<std::uint8_t> bytes;
};

bool same_as_model(const decoded& got, const codec_model::outcome& want) {
    return got.result.code == want.code && got.result.offset == want.offset &&
           got.result.written == want.bytes.size() && got.bytes == want.bytes;
}

decoded decode_with(std::string_view text, const decode_options& o, std::size_t room) {
    std::vector<std::uint8_t> out(room);
    const calib64::decode_result r = calib64::decode(text, std::span<std::uint8_t>(out), o);
    out.resize(std::min(r.written, room));
    return {r, out};
}

}  // namespace

TEST_CASE("every kernel encodes every length 0..300 at every input and output offset 0..63 like scalar") {
    std::mt19937_64 rng(0x5407);
    const auto data = random_bytes(rng, max_short_bytes);
    guarded_arena input(max_short_bytes + 64), output(calib64::encoded_length(max_short_bytes) + 64);
    std::size_t calls = 0;
    for (std::size_t n = 0; n <= max_short_bytes; ++n) {
        std::string want[4];
        for (std::size_t c = 0; c < 4; ++c) {
            const codec_options co = every_codec_option[c];
            want[c] = codec_model::encode({data.data(), n}, co.alpha, co.pad);
            REQUIRE(calib64::encode(as_text({data.data(), n}), {co.alpha, co.pad, kernel_id::scalar}) == want[c]);
        }
        for (kernel_id k : kernels_under_test()) {
            for (std::size_t in_shift = 0; in_shift < 64; ++in_shift) {
                for (std::size_t out_shift = 0; out_shift < 64; ++out_shift) {
                    const std::size_t c = (in_shift + out_shift + n) % 4;
                    const codec_options co = every_codec_option[c];
                    std::uint8_t* in = input.place(in_shift, n);
                    if (n > 0) std::memcpy(in, data.data(), n);
                    char* out = reinterpret_cast<char*>(output.place(out_shift, want[c].size()));
                    const auto r = calib64::encode({in, n}, {out, want[c].size()}, {co.alpha, co.pad, k});
                    ++calls;
                    if (!r.ok() || r.written != want[c].size() || std::memcmp(out, want[c].data(), want[c].size()) != 0 ||
                        !output.guards_intact())
                        FAIL("kernel ", kernel_name(k), ", ", n, " bytes, url ", co.alpha == alphabet::url, ", pad ",
                             co.pad, ", input offset ", in_shift, ", output offset ", out_shift, ": ", r.code,
                             ", written ", r.written, ", guards intact ", output.guards_intact());
                }
            }
        }
    }
    MESSAGE(calls, " encode calls compared");
}

TEST_CASE("every kernel decodes every length 0..300 at every input and output offset 0..63 like the model") {
    std::mt19937_64 rng(0xDEC5);
    const auto data = random_bytes(rng, max_short_bytes);
    guarded_arena input(calib64::encoded_length(max_short_bytes) + 64), output(max_short_bytes + 64);
    std::size_t calls = 0;
    for (std::size_t n = 0; n <= max_short_bytes; ++n) {
        std::string text[4];
        for (std::size_t c = 0; c < 4; ++c)
            text[c] = codec_model::encode({data.data(), n}, every_codec_option[c].alpha, every_codec_option[c].pad);
        for (kernel_id k : kernels_under_test()) {
            for (std::size_t in_shift = 0; in_shift < 64; ++in_shift) {
                for (std::size_t out_shift = 0; out_shift < 64; ++out_shift) {
                    const std::size_t c = (in_shift + out_shift + n) % 4;
                    const codec_options co = every_codec_option[c];
                    char* in = reinterpret_cast<char*>(input.place(in_shift, text[c].size()));
                    if (!text[c].empty()) std::memcpy(in, text[c].data(), text[c].size());
                    // Exact room, or a few bytes to spare that must stay untouched.
                    const std::size_t spare = out_shift % 3;
                    std::uint8_t* out = output.place(out_shift, n + spare);
                    const decode_options o{co.alpha, padding_accepting(co.pad, in_shift % 2 == 1), ignore::none, k};
                    const auto r = calib64::decode({in, text[c].size()}, {out, n + spare}, o);
                    ++calls;
                    if (!r.ok() || r.written != n || (n > 0 && std::memcmp(out, data.data(), n) != 0) ||
                        !output.guards_intact() || !output.payload_untouched_from(n))
                        FAIL("kernel ", kernel_name(k), ", ", n, " bytes, url ", co.alpha == alphabet::url, ", pad ",
                             co.pad, ", input offset ", in_shift, ", output offset ", out_shift, ": ", r.code,
                             " at ", r.offset, ", written ", r.written, ", guards intact ", output.guards_intact());
                }
            }
        }
    }
    MESSAGE(calls, " decode calls compared");
}

TEST_CASE("a strict decode of every length 0..300 reports an invalid byte at every position exactly as the model") {
    // Bytes outside both alphabets, '=', whitespace, NUL, bytes >= 0x80 (which a
    // 7-bit table index would alias onto alphabet characters) and the other
    // alphabet's two specials; each position gets three of them in turn.
    constexpr unsigned char strays[] = {'=', '!', 0x80, 0xFF, 0x00, ' ', '\n', '.', 0x7F, 0xC1, 0xEF, '+', '/', '-', '_'};
    constexpr std::size_t stray_count = sizeof strays;
    std::mt19937_64 rng(0xBAD5);
    const auto data = random_bytes(rng, max_short_bytes);
    guarded_arena input(calib64::encoded_length(max_short_bytes) + 64);
    std::size_t calls = 0, invalid = 0;
    for (std::size_t n = 0; n <= max_short_bytes; ++n) {
        const codec_options co = every_codec_option[n % 4];
        const std::string text = codec_model::encode({data.data(), n}, co.alpha, co.pad);
        for (std::size_t p = 0; p < text.size(); ++p) {
            for (std::size_t j = 0; j < 3; ++j) {
                std::string corrupt = text;
                corrupt[p] = static_cast<char>(strays[(p + 5 * j + n) % stray_count]);
                const decode_options o{co.alpha, static_cast<padding>((p + j) % 3), ignore::none, kernel_id::scalar};
                const codec_model::outcome want = codec_model::decode(corrupt, o);
                invalid += want.code != status::ok;
                char* in = reinterpret_cast<char*>(input.place((p + j) % 64, corrupt.size()));
                std::memcpy(in, corrupt.data(), corrupt.size());
                for (kernel_id k : kernels_under_test()) {
                    decode_options ko = o;
                    ko.kernel = k;
                    const decoded got = decode_with({in, corrupt.size()}, ko, n + 2);
                    ++calls;
                    if (!same_as_model(got, want))
                        FAIL_CHECK("kernel ", kernel_name(k), ", ", n, " bytes, byte ",
                                   static_cast<unsigned>(static_cast<unsigned char>(corrupt[p])), " at ", p, " of ",
                                   corrupt.size(), ", padding ", static_cast<int>(o.pad), ": got ", got.result.code,
                                   " at ", got.result.offset, " written ", got.result.written, "; want ", want.code,
                                   " at ", want.offset, " written ", want.bytes.size());
                }
            }
        }
    }
    MESSAGE(calls, " corrupted decodes compared, ", invalid, " inputs invalid");
    CHECK(invalid > calls / 4);
}

TEST_CASE("a strict decode of every length 0..300 treats every form of the last quantum as the model does") {
    // Padding present, missing, doubled or cut; the last one to three characters
    // dropped; data after '='; a last data character with nonzero unused bits.
    std::mt19937_64 rng(0x7A11);
    const auto data = random_bytes(rng, max_short_bytes);
    std::size_t calls = 0;
    for (std::size_t n = 0; n <= max_short_bytes; ++n) {
        const alphabet alpha = n % 2 == 0 ? alphabet::standard : alphabet::url;
        const std::string padded = codec_model::encode({data.data(), n}, alpha, true);
        const std::string bare = codec_model::encode({data.data(), n}, alpha, false);
        std::vector<std::string> forms = {padded, bare, padded + "=", padded + "==", padded + "A", bare + "=",
                                          bare + "==", bare + "===", bare + "A", bare + "A=", bare + "AA="};
        for (std::size_t cut = 1; cut <= 3 && cut <= padded.size(); ++cut) {
            forms.push_back(padded.substr(0, padded.size() - cut));
            if (cut <= bare.size()) forms.push_back(bare.substr(0, bare.size() - cut));
        }
        if (padded.size() >= 4 && padded.back() == '=') {
            std::string data_after_pad = padded;
            data_after_pad.back() = 'A';
            if (data_after_pad[data_after_pad.size() - 2] == '=') data_after_pad[data_after_pad.size() - 2] = 'B';
            forms.push_back(data_after_pad);
            std::string pad_first = padded;
            std::swap(pad_first[pad_first.size() - 1], pad_first[pad_first.size() - 3]);
            forms.push_back(pad_first);
        }
        if (n % 3 != 0) {  // a partial last quantum: set one of its unused bits
            for (std::string form : {padded, bare}) {
                const std::size_t last = n / 3 * 4 + n % 3;  // index of the last data character
                const std::string_view chars = codec_model::chars_of(alpha);
                form[last] = chars[static_cast<std::size_t>(codec_model::value_of(static_cast<unsigned char>(form[last]), alpha)) | 1];
                forms.push_back(form);
            }
        }
        for (const std::string& form : forms) {
            for (const padding pad : {padding::required, padding::optional, padding::forbidden}) {
                const decode_options o{alpha, pad, ignore::none, kernel_id::scalar};
                const codec_model::outcome want = codec_model::decode(form, o);
                for (kernel_id k : kernels_under_test()) {
                    decode_options ko = o;
                    ko.kernel = k;
                    const decoded got = decode_with(form, ko, calib64::max_decoded_length(form.size()));
                    ++calls;
                    if (!same_as_model(got, want))
                        FAIL_CHECK("kernel ", kernel_name(k), ", ", n, " bytes, tail \"",
                                   form.substr(form.size() > 6 ? form.size() - 6 : 0), "\" of ", form.size(),
                                   " chars, padding ", static_cast<int>(pad), ": got ", got.result.code, " at ",
                                   got.result.offset, " written ", got.result.written, "; want ", want.code, " at ",
                                   want.offset, " written ", want.bytes.size());
                }
            }
        }
    }
    MESSAGE(calls, " decodes of last-quantum forms compared");
}

TEST_CASE("short encodes and decodes one byte short of room fail like scalar and write nothing past the buffer") {
    std::mt19937_64 rng(0x500F);
    const auto data = random_bytes(rng, max_short_bytes);
    guarded_arena output(calib64::encoded_length(max_short_bytes) + 64);
    for (std::size_t n = 1; n <= max_short_bytes; ++n) {
        const codec_options co = every_codec_option[n % 4];
        const std::string text = codec_model::encode({data.data(), n}, co.alpha, co.pad);
        const decode_options scalar_o{co.alpha, padding_accepting(co.pad, true), ignore::none, kernel_id::scalar};
        const decoded want = decode_with(text, scalar_o, n - 1);
        REQUIRE(want.result.code == status::output_too_small);
        for (kernel_id k : kernels_under_test()) {
            char* out = reinterpret_cast<char*>(output.place(n % 64, text.size() - 1));
            const auto e = calib64::encode({data.data(), n}, {out, text.size() - 1}, {co.alpha, co.pad, k});
            if (e.code != status::output_too_small || e.written != 0 || !output.guards_intact() ||
                !output.payload_untouched_from(0))
                FAIL_CHECK("encode, kernel ", kernel_name(k), ", ", n, " bytes into ", text.size() - 1, ": ", e.code);
            decode_options o = scalar_o;
            o.kernel = k;
            std::uint8_t* bytes = output.place((n * 7) % 64, n - 1);
            const auto r = calib64::decode(text, {bytes, n - 1}, o);
            const bool same = r.code == want.result.code && r.offset == want.result.offset &&
                              r.written == want.result.written &&
                              std::equal(want.bytes.begin(), want.bytes.end(), bytes);
            if (!same || !output.guards_intact())
                FAIL_CHECK("decode, kernel ", kernel_name(k), ", ", n, " bytes into ", n - 1, ": ", r.code, " at ",
                           r.offset, " written ", r.written, "; scalar ", want.result.code, " at ",
                           want.result.offset, " written ", want.result.written);
        }
    }
}
