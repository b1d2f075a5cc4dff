// The codec's specification, as tests: RFC 4648 vectors, every error with its
// exact status, offset and bytes written, the skipping modes, output buffer
// limits, kernel selection and the size functions. Every decode here runs with
// every kernel this CPU supports. Differential and randomized tests against
// scalar and the model are in test_codec_differential.cpp.
#include <calib64/calib64.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "test_codec_support.h"

namespace {

using namespace codec_test;
using namespace std::string_view_literals;
using calib64::kernel_name;

// The text with control and non-ASCII bytes as \xNN, for failure messages.
std::string show(std::string_view text) {
    std::string shown;
    for (const char ch : text.substr(0, 200)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7F) {
            shown += ch;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            shown += hex;
        }
    }
    return text.size() > 200 ? shown + "...(" + std::to_string(text.size()) + " chars)" : shown;
}

// Decodes `text` with every kernel and checks status, offset, bytes written and
// the bytes themselves.
void check_decode(std::string_view text, decode_options o, status code, std::size_t offset,
                  std::string_view bytes) {
    for (kernel_id k : kernels_under_test()) {
        o.kernel = k;
        std::string out;
        const calib64::decode_result r = calib64::decode(text, out, o);
        INFO("kernel ", kernel_name(k), ", input \"", show(text), "\"");
        CHECK(r.code == code);
        CHECK(r.offset == offset);
        CHECK(r.written == bytes.size());
        CHECK(out == bytes);
    }
}

void check_decodes_to(std::string_view text, decode_options o, std::string_view bytes) {
    check_decode(text, o, status::ok, 0, bytes);
}

decode_options options(padding pad, ignore skip = ignore::none, alphabet alpha = alphabet::standard) {
    return {.alpha = alpha, .pad = pad, .skip = skip};
}

constexpr ignore every_skip_mode[] = {ignore::none, ignore::whitespace, ignore::non_alphabet};
constexpr padding every_padding[] = {padding::required, padding::forbidden, padding::optional};

struct vector_pair {
    std::string_view bytes, text;
};
// RFC 4648 section 10.
constexpr vector_pair rfc4648_padded[] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};
constexpr vector_pair rfc4648_unpadded[] = {
    {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

}  // namespace

// ------------------------------------------------------------------ kernels in use

TEST_CASE("the suite runs every kernel this CPU supports and names the compiled ones it skips") {
    const auto runnable = calib64::available_kernels();
    const auto compiled = calib64::compiled_kernels();
    MESSAGE("kernels under test: ", kernel_names(runnable));
    const std::string skipped = skipped_kernel_names();
    MESSAGE("compiled but skipped (this CPU lacks them): ", skipped.empty() ? std::string("none") : skipped);

    REQUIRE(!runnable.empty());
    CHECK(calib64::best_kernel() == runnable.front());
    CHECK(std::find(runnable.begin(), runnable.end(), kernel_id::scalar) != runnable.end());
    // Runnable kernels are the compiled ones the CPU supports, in the same best-first order.
    auto next = compiled.begin();
    for (kernel_id k : runnable) {
        next = std::find(next, compiled.end(), k);
        CHECK(next != compiled.end());
    }
}

// ------------------------------------------------------------------ RFC 4648 vectors

TEST_CASE("encode produces the RFC 4648 section 10 test vectors, padded and unpadded") {
    for (kernel_id k : kernels_under_test()) {
        INFO("kernel ", kernel_name(k));
        for (const auto& v : rfc4648_padded) CHECK(calib64::encode(v.bytes, {.kernel = k}) == v.text);
        for (const auto& v : rfc4648_unpadded) CHECK(calib64::encode(v.bytes, {.pad = false, .kernel = k}) == v.text);
        CHECK(calib64::encode("Many hands make light work.", {.kernel = k}) == "TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu");
    }
}

TEST_CASE("decode accepts the RFC 4648 section 10 test vectors under the padding options that allow them") {
    for (const auto& v : rfc4648_padded) {
        check_decodes_to(v.text, options(padding::required), v.bytes);
        check_decodes_to(v.text, options(padding::optional), v.bytes);
    }
    for (const auto& v : rfc4648_unpadded) {
        check_decodes_to(v.text, options(padding::forbidden), v.bytes);
        check_decodes_to(v.text, options(padding::optional), v.bytes);
    }
    check_decodes_to("TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu", options(padding::required), "Many hands make light work.");
}

TEST_CASE("the URL alphabet writes '-' and '_' where the standard alphabet writes '+' and '/'") {
    const std::string bytes = "\xfb\xff\xbf\xfb\xef\xbe\xff\xff\xff\xfb\xff";
    for (kernel_id k : kernels_under_test()) {
        INFO("kernel ", kernel_name(k));
        CHECK(calib64::encode(bytes, {.alpha = alphabet::standard, .kernel = k}) == "+/+/++++////+/8=");
        CHECK(calib64::encode(bytes, {.alpha = alphabet::url, .kernel = k}) == "-_-_----____-_8=");
        CHECK(calib64::encode(bytes, {.alpha = alphabet::url, .pad = false, .kernel = k}) == "-_-_----____-_8");
    }
    check_decodes_to("-_-_----____-_8=", options(padding::required, ignore::none, alphabet::url), bytes);
    check_decodes_to("-_-_----____-_8", options(padding::forbidden, ignore::none, alphabet::url), bytes);
    check_decodes_to("+/+/++++////+/8=", options(padding::required), bytes);
    // Each alphabet rejects the other's two characters.
    check_decode("AAAA-AAA", options(padding::required), status::invalid_character, 4, "\0\0\0"sv);
    check_decode("AAAA+AAA", options(padding::required, ignore::none, alphabet::url), status::invalid_character, 4,
                 "\0\0\0"sv);
    check_decode("AAAA_AAA", options(padding::required), status::invalid_character, 4, "\0\0\0"sv);
    check_decode("AAAA/AAA", options(padding::required, ignore::none, alphabet::url), status::invalid_character, 4,
                 "\0\0\0"sv);
}

// ------------------------------------------------------------------ invalid characters

TEST_CASE("decode reports every byte outside the alphabet as an invalid character at its exact offset") {
    // Positions cover the start, both sides of 64- and 128-character kernel blocks,
    // the middle, and every slot of the last quantum; texts are short enough for a
    // kernel's masked tail and long enough for its full-block loop.
    std::mt19937_64 rng(0x1BADB002);
    std::size_t decodes = 0;
    for (const alphabet alpha : {alphabet::standard, alphabet::url}) {
        for (const std::size_t text_chars : {4u, 8u, 60u, 64u, 68u, 128u, 132u, 256u, 520u}) {
            const auto data = random_bytes(rng, text_chars / 4 * 3);
            const std::string text = codec_model::encode(data, alpha, true);
            REQUIRE(text.size() == text_chars);
            std::vector<std::size_t> positions = {0, 1, 2, 3, 62, 63, 64, 65, 66, 126, 127, 128, 129, 130,
                                                  190, 191, 192, 193, 254, 255, 256, 257, 258, text_chars / 2};
            for (std::size_t back = 1; back <= 4; ++back) positions.push_back(text_chars - back);
            std::erase_if(positions, [&](std::size_t p) { return p >= text_chars; });
            std::sort(positions.begin(), positions.end());
            positions.erase(std::unique(positions.begin(), positions.end()), positions.end());

            for (kernel_id k : kernels_under_test()) {
                for (const ignore skip : {ignore::none, ignore::whitespace}) {
                    const decode_options o{.alpha = alpha, .pad = padding::required, .skip = skip, .kernel = k};
                    for (unsigned bad = 0; bad < 256; ++bad) {
                        const auto c = static_cast<unsigned char>(bad);
                        if (codec_model::value_of(c, alpha) >= 0 || c == '=') continue;
                        if (skip == ignore::whitespace && codec_model::is_whitespace(c)) continue;
                        for (const std::size_t p : positions) {
                            std::string corrupt = text;
                            corrupt[p] = static_cast<char>(c);
                            std::vector<std::uint8_t> out;
                            const calib64::decode_result r = calib64::decode(corrupt, out, o);
                            ++decodes;
                            const std::size_t whole_quanta_bytes = p / 4 * 3;
                            const bool exact = r.code == status::invalid_character && r.offset == p &&
                                               r.written == whole_quanta_bytes &&
                                               std::equal(out.begin(), out.end(), data.begin(), data.begin() + whole_quanta_bytes);
                            if (!exact) {
                                FAIL_CHECK("kernel ", kernel_name(k), ", alphabet url=", alpha == alphabet::url,
                                           ", skip=", static_cast<int>(skip), ", byte ", bad,
                                           " at ", p, " of ", text_chars, ": got ", r.code, " at ", r.offset,
                                           ", written ", r.written, " (want ", whole_quanta_bytes, ")");
                            }
                        }
                    }
                }
            }
        }
    }
    MESSAGE(decodes, " corrupted inputs decoded");
}

TEST_CASE("strict mode rejects whitespace as an invalid character") {
    check_decode("Zm9v\nYmFy", options(padding::required), status::invalid_character, 4, "foo");
    check_decode("Zm9vYmFy\n", options(padding::required), status::invalid_character, 8, "foobar");
    check_decode(" Zg==", options(padding::required), status::invalid_character, 0, "");
    check_decode("Zg=\r\n=", options(padding::required), status::invalid_character, 3, "");
}

// ------------------------------------------------------------------ padding

namespace {

struct padding_case {
    std::string_view text;
    padding pad;
    status code;
    std::size_t offset;  // ignored when ok
    std::string_view bytes;
};

// Runs each case in every skip mode (the texts hold nothing skippable, so the
// expectations are the same) and behind a 256-character valid prefix, which the
// kernels decode in bulk before the driver meets the case.
void check_padding_cases(std::span<const padding_case> cases) {
    std::string prefix_text, prefix_bytes;
    for (int i = 0; i < 32; ++i) prefix_text += "Zm9vYmFy", prefix_bytes += "foobar";
    for (const padding_case& c : cases) {
        for (const ignore skip : every_skip_mode) {
            for (const bool with_prefix : {false, true}) {
                const std::string text = (with_prefix ? prefix_text : "") + std::string(c.text);
                const std::string bytes = (with_prefix ? prefix_bytes : "") + std::string(c.bytes);
                const std::size_t shift = with_prefix ? prefix_text.size() : 0;
                INFO("skip mode ", static_cast<int>(skip), ", padding ", static_cast<int>(c.pad));
                check_decode(text, options(c.pad, skip), c.code, c.code == status::ok ? 0 : c.offset + shift, bytes);
            }
        }
    }
}

}  // namespace

TEST_CASE("decode rejects '=' in the first or second slot of a quantum as bad padding") {
    constexpr padding_case cases[] = {
        {"====", padding::required, status::bad_padding, 0, ""},
        {"=AAA", padding::required, status::bad_padding, 0, ""},
        {"=", padding::optional, status::bad_padding, 0, ""},
        {"A===", padding::required, status::bad_padding, 1, ""},
        {"A=AA", padding::required, status::bad_padding, 1, ""},
        {"Z=", padding::optional, status::bad_padding, 1, ""},
        {"Zm9v=", padding::optional, status::bad_padding, 4, "foo"},
        {"Zm9vZ=", padding::required, status::bad_padding, 5, "foo"},
    };
    check_padding_cases(cases);
}

TEST_CASE("decode rejects data or more '=' after padding, including a padded quantum in the middle") {
    constexpr padding_case cases[] = {
        {"Zg=A", padding::required, status::bad_padding, 3, ""},
        {"Zg=A", padding::optional, status::bad_padding, 3, ""},
        {"Zg==A", padding::optional, status::bad_padding, 4, "f"},
        {"Zg==Zm9v", padding::required, status::bad_padding, 4, "f"},
        {"Zm8=Zm9v", padding::required, status::bad_padding, 4, "fo"},
        {"Zg==Zg==", padding::required, status::bad_padding, 4, "f"},
        {"Zg===", padding::required, status::bad_padding, 4, "f"},
        {"Zm8==", padding::optional, status::bad_padding, 4, "fo"},
    };
    check_padding_cases(cases);
}

TEST_CASE("padding::forbidden rejects every '=' as bad padding") {
    constexpr padding_case cases[] = {
        {"Zg==", padding::forbidden, status::bad_padding, 2, ""},
        {"Zm8=", padding::forbidden, status::bad_padding, 3, ""},
        {"Zm9vZg==", padding::forbidden, status::bad_padding, 6, "foo"},
        {"=", padding::forbidden, status::bad_padding, 0, ""},
        {"Zg", padding::forbidden, status::ok, 0, "f"},
        {"Zm8", padding::forbidden, status::ok, 0, "fo"},
    };
    check_padding_cases(cases);
}

TEST_CASE("padding::required reports missing padding as truncated input at the input size") {
    constexpr padding_case cases[] = {
        {"Zg", padding::required, status::truncated_input, 2, ""},
        {"Zm8", padding::required, status::truncated_input, 3, ""},
        {"Zm9vZg", padding::required, status::truncated_input, 6, "foo"},
        {"Zg=", padding::required, status::truncated_input, 3, ""},
        {"Zg==", padding::required, status::ok, 0, "f"},
    };
    check_padding_cases(cases);
}

TEST_CASE("a quantum cut short after its '=' is truncated input under every padding option that allows '='") {
    constexpr padding_case cases[] = {
        {"Zg=", padding::optional, status::truncated_input, 3, ""},
        {"Zm9vZg=", padding::optional, status::truncated_input, 7, "foo"},
        {"Zh=", padding::required, status::truncated_input, 3, ""},  // cut short before its bits are checked
    };
    check_padding_cases(cases);
}

TEST_CASE("a single leftover character is truncated input under every padding option") {
    for (const padding pad : every_padding) {
        const padding_case cases[] = {
            {"Z", pad, status::truncated_input, 1, ""},
            {"Zm9vZ", pad, status::truncated_input, 5, "foo"},
        };
        check_padding_cases(cases);
    }
}

TEST_CASE("decode rejects nonzero trailing bits at the offset of the last data character") {
    constexpr padding_case cases[] = {
        {"Zh==", padding::required, status::nonzero_trailing_bits, 1, ""},  // 'h' = 100001
        {"Zh", padding::forbidden, status::nonzero_trailing_bits, 1, ""},
        {"Zh", padding::optional, status::nonzero_trailing_bits, 1, ""},
        {"Zm9=", padding::required, status::nonzero_trailing_bits, 2, ""},  // '9' = 111101
        {"Zm9", padding::optional, status::nonzero_trailing_bits, 2, ""},
        {"Zm9vZm9=", padding::required, status::nonzero_trailing_bits, 6, "foo"},
        {"AQ==", padding::required, status::ok, 0, "\x01"},  // 'Q' = 010000: the unused four bits are zero
        {"AAE=", padding::required, status::ok, 0, "\0\x01"sv},
    };
    check_padding_cases(cases);
}

TEST_CASE("padding::optional accepts padded and unpadded input alike") {
    constexpr padding_case cases[] = {
        {"Zg==", padding::optional, status::ok, 0, "f"},
        {"Zg", padding::optional, status::ok, 0, "f"},
        {"Zm8=", padding::optional, status::ok, 0, "fo"},
        {"Zm8", padding::optional, status::ok, 0, "fo"},
        {"Zm9vYmE=", padding::optional, status::ok, 0, "fooba"},
        {"Zm9vYmE", padding::optional, status::ok, 0, "fooba"},
        {"", padding::optional, status::ok, 0, ""},
    };
    check_padding_cases(cases);
}

// ------------------------------------------------------------------ whitespace and other skipped bytes

TEST_CASE("whitespace mode decodes 76- and 64-column wrapped text with LF or CRLF line ends") {
    std::mt19937_64 rng(76);
    for (const std::size_t n : {0u, 1u, 2u, 3u, 47u, 48u, 56u, 57u, 58u, 100u, 1000u, 3000u, 3100u, 5000u, 12345u}) {
        const auto data = random_bytes(rng, n);
        const std::string bytes = as_text(data);
        for (const bool pad : {true, false}) {
            const std::string text = calib64::encode(bytes, {.pad = pad, .kernel = kernel_id::scalar});
            for (const std::size_t columns : {76u, 64u}) {
                for (const std::string_view eol : {"\n", "\r\n"}) {
                    INFO(n, " bytes, ", columns, " columns, pad ", pad, ", CRLF ", eol.size() == 2);
                    const std::string wrapped = wrap(text, columns, eol);
                    check_decodes_to(wrapped, options(padding_accepting(pad, false), ignore::whitespace), bytes);
                    check_decodes_to(wrapped, options(padding::optional, ignore::whitespace), bytes);
                    check_decodes_to(wrapped, options(padding::optional, ignore::non_alphabet), bytes);
                }
            }
        }
    }
}

TEST_CASE("whitespace mode skips exactly SP, HT, LF, VT, FF and CR") {
    for (unsigned b = 0; b < 256; ++b) {
        const auto c = static_cast<char>(b);
        if (codec_model::value_of(static_cast<unsigned char>(b), alphabet::standard) >= 0 || c == '=') continue;
        const std::string text = std::string("Zm9v") + c + "YmFy";
        if (b == ' ' || (b >= 0x09 && b <= 0x0D)) {
            check_decodes_to(text, options(padding::required, ignore::whitespace), "foobar");
        } else {
            check_decode(text, options(padding::required, ignore::whitespace), status::invalid_character, 4, "foo");
        }
    }
}

TEST_CASE("whitespace mode decodes text with whitespace injected at random positions like the text without it") {
    // The whitespace-free text may be valid or carry one corruption; either way the
    // result is the same, with the error offset mapped into the text as given.
    std::mt19937_64 rng(0xC0FFEE);
    constexpr std::string_view whitespace = " \t\n\v\f\r";
    const auto kernels = kernels_under_test();
    for (int round = 0; round < 400; ++round) {
        const std::size_t n = round % 4 == 0 ? rng() % 12000 : rng() % 300;
        const auto data = random_bytes(rng, n);
        const bool pad = rng() % 2 == 0;
        const alphabet alpha = rng() % 2 == 0 ? alphabet::standard : alphabet::url;
        std::string clean = codec_model::encode(data, alpha, pad);
        if (round % 2 == 1 && !clean.empty()) clean[rng() % clean.size()] = "=!\x80*"[rng() % 4];

        std::string spaced;
        std::vector<std::size_t> spaced_offset;  // where clean[i] landed
        const unsigned density = 1 + static_cast<unsigned>(rng() % 8);
        for (const char c : clean) {
            while (rng() % 16 < density) spaced += whitespace[rng() % whitespace.size()];
            spaced_offset.push_back(spaced.size());
            spaced += c;
        }
        while (rng() % 4 == 0) spaced += whitespace[rng() % whitespace.size()];
        spaced_offset.push_back(spaced.size());  // where the clean text's end maps

        for (const padding accept : {padding_accepting(pad, false), padding::optional}) {
            std::string want;
            const auto ref = calib64::decode(clean, want, {.alpha = alpha, .pad = accept, .kernel = kernel_id::scalar});
            const std::size_t want_offset = ref.code == status::truncated_input ? spaced.size()
                                          : ref.ok()                         ? 0
                                                                             : spaced_offset[ref.offset];
            for (kernel_id k : kernels) {
                std::string got;
                const auto r = calib64::decode(spaced, got,
                                               {.alpha = alpha, .pad = accept, .skip = ignore::whitespace, .kernel = k});
                if (r.code != ref.code || r.offset != want_offset || r.written != ref.written || got != want) {
                    FAIL_CHECK("kernel ", kernel_name(k), ", round ", round, ", ", n, " bytes: got ", r.code, " at ",
                               r.offset, " written ", r.written, "; want ", ref.code, " at ", want_offset, " written ",
                               ref.written);
                }
            }
        }
    }
}

TEST_CASE("whitespace-only and empty input decode to no bytes") {
    const std::string long_blank = wrap(std::string(9000, ' '), 76, "\r\n");
    for (const padding pad : every_padding) {
        for (const ignore skip : {ignore::whitespace, ignore::non_alphabet}) {
            for (const std::string_view blank : {""sv, " "sv, "\r\n"sv, "\t\v\f\r\n "sv, std::string_view(long_blank)})
                check_decodes_to(blank, options(pad, skip), "");
        }
        check_decodes_to("", options(pad), "");
        check_decodes_to("!!*\x80\xff", options(pad, ignore::non_alphabet), "");
    }
}

TEST_CASE("whitespace mode reports errors at their offsets in the original input") {
    const decode_options required = options(padding::required, ignore::whitespace);
    check_decode("Zm9v\n!YmFy", required, status::invalid_character, 5, "foo");
    check_decode("Zm9v\r\n  \x80", required, status::invalid_character, 8, "foo");
    check_decode("Zm9v\r\nYm\n=Fy", required, status::bad_padding, 10, "foo");
    check_decode("  =Zg==", required, status::bad_padding, 2, "");
    check_decode("Zg==\n\nZg==", required, status::bad_padding, 6, "f");
    check_decode("Zg\n=\n", required, status::truncated_input, 5, "");
    check_decode("Zg  \n", required, status::truncated_input, 5, "");
    check_decode("Zh==\n", required, status::nonzero_trailing_bits, 1, "");
    check_decode("Z \nh==", required, status::nonzero_trailing_bits, 3, "");
    check_decode("Zm9v\nZ\n", options(padding::optional, ignore::whitespace), status::truncated_input, 7, "foo");
    check_decodes_to("Z g = =", required, "f");
    check_decodes_to("Zg=\n=\n\n", required, "f");
}

TEST_CASE("non_alphabet mode skips every byte outside the alphabet except '=', like base64 -d -i") {
    for (const alphabet alpha : {alphabet::standard, alphabet::url}) {
        for (unsigned b = 0; b < 256; ++b) {
            const auto c = static_cast<unsigned char>(b);
            if (codec_model::value_of(c, alpha) >= 0 || c == '=') continue;
            const std::string text = std::string("Zm9v") + static_cast<char>(c) + "YmFy";
            check_decodes_to(text, options(padding::required, ignore::non_alphabet, alpha), "foobar");
        }
    }
    // The other alphabet's two characters are junk too.
    check_decodes_to("Zm9v-_YmFy", options(padding::required, ignore::non_alphabet), "foobar");
    check_decodes_to("Zm9v+/YmFy", options(padding::required, ignore::non_alphabet, alphabet::url), "foobar");
    // '=' keeps its meaning.
    check_decodes_to("!Z!g!=!=!", options(padding::required, ignore::non_alphabet), "f");
    check_decode("Zg==!Zg==", options(padding::required, ignore::non_alphabet), status::bad_padding, 5, "f");
    check_decode("Zg!==", options(padding::forbidden, ignore::non_alphabet), status::bad_padding, 3, "");
    check_decode("Zm9v!Z!", options(padding::optional, ignore::non_alphabet), status::truncated_input, 7, "foo");
}

// ------------------------------------------------------------------ the staging chunks of the skipping modes

namespace {

// Decodes with every kernel and checks the result against the model.
void check_against_model(std::string_view text, const decode_options& o) {
    const codec_model::outcome want = codec_model::decode(text, o);
    for (kernel_id k : kernels_under_test()) {
        decode_options ko = o;
        ko.kernel = k;
        std::vector<std::uint8_t> got;
        const auto r = calib64::decode(text, got, ko);
        if (r.code != want.code || r.offset != want.offset || r.written != want.bytes.size() || got != want.bytes) {
            FAIL_CHECK("kernel ", kernel_name(k), ", ", text.size(), " chars, skip ", static_cast<int>(o.skip),
                       ", padding ", static_cast<int>(o.pad), ": got ", r.code, " at ", r.offset, " written ",
                       r.written, "; want ", want.code, " at ", want.offset, " written ", want.bytes.size());
        }
    }
}

}  // namespace

TEST_CASE("skipping modes carry partial quanta across the staging chunks") {
    // Leading skipped bytes shift where each chunk boundary falls, so every
    // quantum phase (0-3 characters carried) and both line layouts meet a boundary.
    std::mt19937_64 rng(4096);
    const auto data = random_bytes(rng, staging_chunk_chars * 3 / 4 * 2 + 3);  // ~2 chunks of text
    const std::string bytes = as_text(data);
    const std::string text = codec_model::encode(data, alphabet::standard, true);
    std::string every_other;  // one skipped byte after each character: half a chunk of characters per chunk
    for (const char c : text) every_other += c, every_other += ' ';
    for (std::size_t shift = 0; shift < 8; ++shift) {
        for (const std::string& body : {wrap(text, 76, "\n"), wrap(text, 64, "\r\n"), every_other}) {
            const std::string spaced = std::string(shift, ' ') + body;
            check_decodes_to(spaced, options(padding::required, ignore::whitespace), bytes);
            check_against_model(spaced, options(padding::required, ignore::whitespace));
            std::string junk = spaced;
            std::replace(junk.begin(), junk.end(), ' ', '*');
            check_decodes_to(junk, options(padding::required, ignore::non_alphabet), bytes);
        }
    }
}

TEST_CASE("skipping modes report errors in later chunks at their offsets in the original input") {
    std::mt19937_64 rng(8192);
    const auto data = random_bytes(rng, staging_chunk_chars * 3 / 4 * 3);  // three chunks of characters and more
    const std::string wrapped = wrap(codec_model::encode(data, alphabet::standard, true), 76, "\n");
    std::vector<std::size_t> positions;
    for (const std::size_t edge : {staging_chunk_chars / 2, staging_chunk_chars, 2 * staging_chunk_chars, 3 * staging_chunk_chars})
        for (std::size_t p = edge - 5; p <= edge + 5; ++p) positions.push_back(p);
    for (const std::size_t p : positions) {
        std::string corrupt = wrapped;
        corrupt[p] = '!';
        // Exact expectation, stated directly: the bytes of the whole quanta before p.
        const std::size_t chars_before = static_cast<std::size_t>(
            std::count_if(wrapped.begin(), wrapped.begin() + static_cast<std::ptrdiff_t>(p),
                          [](char c) { return c != '\n'; }));
        const std::size_t written = chars_before / 4 * 3;
        check_decode(corrupt, options(padding::required, ignore::whitespace), status::invalid_character, p,
                     std::string_view(reinterpret_cast<const char*>(data.data()), written));
        // In non_alphabet mode '!' is skipped; a stray '=' is the error there.
        for (const char stray : {'=', '!'}) {
            corrupt[p] = stray;
            check_against_model(corrupt, options(padding::required, ignore::non_alphabet));
            check_against_model(corrupt, options(padding::optional, ignore::whitespace));
        }
        // A bad trailing-bits or truncation error after many chunks.
        check_against_model(corrupt.substr(0, p), options(padding::optional, ignore::whitespace));
    }
}

TEST_CASE("skipping modes accept and reject '=' at the edges of a staging chunk") {
    std::mt19937_64 rng(0x3D);
    // A chunk less 8 characters, ending "==": one byte in the last quantum.
    const std::size_t n = (staging_chunk_chars - 8) / 4 * 3 - 2;
    const auto data = random_bytes(rng, n);
    const std::string text = codec_model::encode(data, alphabet::standard, true);
    REQUIRE(text.size() == staging_chunk_chars - 8);
    REQUIRE(text.substr(text.size() - 2) == "==");
    const std::string bytes = as_text(data);
    const std::string unpadded = codec_model::encode(std::span(data).first(n - 1), alphabet::standard, false);
    for (std::size_t shift = 0; shift <= 12; ++shift) {
        const std::string lead(shift, '\n');
        // The final "==" lands on every position around the chunk boundary.
        check_decodes_to(lead + text, options(padding::required, ignore::whitespace), bytes);
        check_decodes_to(lead + text, options(padding::optional, ignore::non_alphabet), bytes);
        // Whitespace between the two '=' characters.
        const std::string split = lead + text.substr(0, text.size() - 1) + "\n=";
        check_decodes_to(split, options(padding::required, ignore::whitespace), bytes);
        // A padded quantum, then more data: the error sits just past the boundary.
        const std::string middle = lead + unpadded + "Zg==Zg==";
        check_decode(middle, options(padding::required, ignore::whitespace), status::bad_padding,
                     shift + unpadded.size() + 4, as_text(std::span(data).first(n - 1)) + "f");
        check_against_model(middle, options(padding::optional, ignore::non_alphabet));
        // '=' in the first slot of the quantum that straddles the boundary.
        check_against_model(lead + unpadded + "=", options(padding::optional, ignore::whitespace));
        check_against_model(lead + unpadded + "Z=", options(padding::optional, ignore::whitespace));
    }
}

// ------------------------------------------------------------------ output buffers

TEST_CASE("encode reports output_too_small and writes nothing when the buffer is one byte short") {
    std::mt19937_64 rng(1);
    guarded_arena arena(1024);
    for (kernel_id k : kernels_under_test()) {
        for (std::size_t n = 1; n <= 300; ++n) {
            const auto data = random_bytes(rng, n);
            for (const bool pad : {true, false}) {
                const std::size_t need = calib64::encoded_length(n, pad);
                char* out = reinterpret_cast<char*>(arena.place(n % 64, need - 1));
                const auto r = calib64::encode(data, std::span(out, need - 1), {.pad = pad, .kernel = k});
                INFO("kernel ", kernel_name(k), ", ", n, " bytes, pad ", pad);
                CHECK(r.code == status::output_too_small);
                CHECK(r.written == 0);
                CHECK(arena.guards_intact());
                CHECK(arena.payload_untouched_from(0));
            }
        }
    }
}

TEST_CASE("decode stops at the first quantum that does not fit the buffer, keeping the bytes before it") {
    // In every mode: output_too_small names the first character of the quantum
    // that did not fit, and the whole quanta before it are written.
    std::mt19937_64 rng(3);
    guarded_arena arena(8192);
    for (kernel_id k : kernels_under_test()) {
        for (const std::size_t n : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 47u, 48u, 49u, 100u, 767u, 3071u, 3072u, 3073u, 6000u}) {
            const auto data = random_bytes(rng, n);
            const std::string unwrapped = codec_model::encode(data, alphabet::standard, true);
            const std::string text = wrap(unwrapped, 76, "\r\n");
            std::vector<std::size_t> identity(unwrapped.size()), data_char_offsets;
            for (std::size_t i = 0; i < identity.size(); ++i) identity[i] = i;
            for (std::size_t i = 0; i < text.size(); ++i)
                if (text[i] != '\r' && text[i] != '\n') data_char_offsets.push_back(i);
            for (const std::size_t cap : {n - 1, n / 2, std::size_t{0}}) {
                if (cap >= n) continue;
                for (const ignore skip : every_skip_mode) {
                    const std::string& given = skip == ignore::none ? unwrapped : text;
                    const std::vector<std::size_t>& data_offsets = skip == ignore::none ? identity : data_char_offsets;
                    std::uint8_t* out = arena.place(cap % 64, cap);
                    const auto r = calib64::decode(given, std::span(out, cap),
                                                   {.pad = padding::required, .skip = skip, .kernel = k});
                    const std::size_t written = cap / 3 * 3;
                    INFO("kernel ", kernel_name(k), ", ", n, " bytes into ", cap, ", skip mode ", static_cast<int>(skip));
                    CHECK(r.code == status::output_too_small);
                    CHECK(r.written == written);
                    CHECK(r.offset == data_offsets[written / 3 * 4]);
                    CHECK(std::equal(out, out + written, data.begin()));
                    CHECK(arena.guards_intact());
                }
            }
        }
    }
}

TEST_CASE("decode reports an error it meets before the buffer runs out, even when the buffer is too small") {
    for (kernel_id k : kernels_under_test()) {
        for (const ignore skip : every_skip_mode) {
            INFO("kernel ", kernel_name(k), ", skip mode ", static_cast<int>(skip));
            std::uint8_t out[4] = {};
            const decode_options o{.pad = padding::required, .skip = skip, .kernel = k};
            const auto early = calib64::decode("Zg==Zg", std::span(out, 1), o);  // 1 byte fits, then data after padding
            CHECK(early.code == status::bad_padding);
            CHECK(early.offset == 4);
            CHECK(early.written == 1);
            const auto late = calib64::decode("Zm9vZm9v\x80", std::span(out, 2), o);  // the first quantum does not fit
            CHECK(late.code == status::output_too_small);
            CHECK(late.offset == 0);
            CHECK(late.written == 0);
        }
    }
}

TEST_CASE("the std::string and std::vector conveniences size their own output") {
    for (kernel_id k : kernels_under_test()) {
        CHECK(calib64::encode("foobar", {.kernel = k}) == "Zm9vYmFy");
        CHECK(calib64::encode("fooba", {.alpha = alphabet::url, .pad = false, .kernel = k}) == "Zm9vYmE");
        std::vector<std::uint8_t> v{1, 2, 3};  // replaced, not appended to
        CHECK(calib64::decode("Zm9vYmE=", v, {.kernel = k}).ok());
        CHECK(v == std::vector<std::uint8_t>{'f', 'o', 'o', 'b', 'a'});
        std::string s = "old";
        const auto r = calib64::decode("Zm9v!mFy", s, {.kernel = k});
        CHECK(r.code == status::invalid_character);
        CHECK(s == "foo");  // the bytes before the bad quantum
        CHECK(calib64::decode(" Zm9v\nYmFy ", s, {.skip = ignore::whitespace, .kernel = k}).ok());
        CHECK(s == "foobar");
    }
}

// ------------------------------------------------------------------ choosing a kernel

TEST_CASE("find_kernel finds every kernel this CPU runs and explains why any other name is unavailable") {
    const auto compiled = calib64::compiled_kernels();
    const auto runnable = calib64::available_kernels();
    for (const kernel_id k : {kernel_id::scalar, kernel_id::avx2, kernel_id::avx512, kernel_id::neon}) {
        const calib64::kernel_lookup found = calib64::find_kernel(kernel_name(k));
        INFO("kernel ", kernel_name(k));
        CHECK(found.id == k);
        const bool is_compiled = std::find(compiled.begin(), compiled.end(), k) != compiled.end();
        const bool is_runnable = std::find(runnable.begin(), runnable.end(), k) != runnable.end();
        CHECK(calib64::kernel_available(k) == is_runnable);
        if (is_runnable) {
            CHECK(found.ok());
            CHECK(found.reason.empty());
        } else {
            CHECK(found.code == status::kernel_unavailable);
            CHECK(!found.reason.empty());
            MESSAGE("find_kernel(\"", kernel_name(k), "\"): ", found.reason, std::string(is_compiled ? " (compiled)" : ""));
        }
    }
    const calib64::kernel_lookup automatic = calib64::find_kernel("auto");
    CHECK(automatic.ok());
    CHECK(automatic.id == kernel_id::automatic);
    CHECK(calib64::kernel_available(kernel_id::automatic));
    CHECK(calib64::find_kernel("scalar").ok());  // the reference runs everywhere
    for (const std::string_view unknown : {"nope"sv, ""sv, "AVX2"sv, "scalar "sv}) {
        const calib64::kernel_lookup none = calib64::find_kernel(unknown);
        INFO("name \"", unknown, "\"");
        CHECK(none.code == status::kernel_unavailable);
        CHECK(!none.reason.empty());
    }
}

TEST_CASE("encode and decode with a kernel this build or CPU cannot run report kernel_unavailable") {
    const auto runnable = calib64::available_kernels();
    std::vector<kernel_id> unavailable{static_cast<kernel_id>(200)};  // not a kernel at all
    for (const kernel_id k : {kernel_id::scalar, kernel_id::avx2, kernel_id::avx512, kernel_id::neon})
        if (std::find(runnable.begin(), runnable.end(), k) == runnable.end()) unavailable.push_back(k);
    for (const kernel_id k : unavailable) {
        INFO("kernel id ", static_cast<int>(k));
        CHECK(!calib64::kernel_available(k));
        char text[8] = {};
        CHECK(calib64::encode(as_bytes("foo"), text, {.kernel = k}).code == status::kernel_unavailable);
        std::uint8_t bytes[8] = {};
        for (const ignore skip : every_skip_mode)
            CHECK(calib64::decode("Zm9v", bytes, {.skip = skip, .kernel = k}).code == status::kernel_unavailable);
    }
}

TEST_CASE("every status has its own plain-words description") {
    std::vector<std::string_view> seen;
    for (const status s : {status::ok, status::invalid_character, status::bad_padding, status::nonzero_trailing_bits,
                           status::truncated_input, status::output_too_small, status::kernel_unavailable}) {
        const std::string_view d = calib64::describe(s);
        CHECK(!d.empty());
        CHECK(std::find(seen.begin(), seen.end(), d) == seen.end());
        seen.push_back(d);
    }
    CHECK(calib64::describe(status::invalid_character) == "invalid character");
}

// ------------------------------------------------------------------ sizes

// The largest input whose padded length fits a size_t, and one past it, which
// saturates instead of wrapping to a small number.
static_assert(calib64::max_encodable_bytes % 3 == 0 &&
              calib64::encoded_length(calib64::max_encodable_bytes) == SIZE_MAX - 3 &&
              calib64::encoded_length(calib64::max_encodable_bytes, false) == SIZE_MAX - 3);
static_assert(calib64::encoded_length(calib64::max_encodable_bytes + 1) == SIZE_MAX &&
              calib64::encoded_length(SIZE_MAX - 1) == SIZE_MAX && calib64::encoded_length(SIZE_MAX, false) == SIZE_MAX);
static_assert(calib64::encoded_length(0) == 0 && calib64::encoded_length(1) == 4 && calib64::encoded_length(3) == 4 &&
              calib64::encoded_length(4) == 8);
static_assert(calib64::encoded_length(1, false) == 2 && calib64::encoded_length(2, false) == 3 &&
              calib64::encoded_length(3, false) == 4);
static_assert(calib64::max_decoded_length(0) == 0 && calib64::max_decoded_length(4) == 3 &&
              calib64::max_decoded_length(2) == 1 && calib64::max_decoded_length(3) == 2);

TEST_CASE("encoded_length is the exact number of characters encode writes") {
    std::mt19937_64 rng(5);
    for (std::size_t n = 0; n <= 3000; ++n) {
        CHECK(calib64::encoded_length(n, true) == (n + 2) / 3 * 4);
        CHECK(calib64::encoded_length(n, false) == (n * 4 + 2) / 3);  // ceil(8n / 6)
        if (n <= 300) {
            const std::string bytes = as_text(random_bytes(rng, n));
            for (const bool pad : {true, false})
                CHECK(calib64::encode(bytes, {.pad = pad}).size() == calib64::encoded_length(n, pad));
        }
    }
}

TEST_CASE("max_decoded_length bounds every decode and is exact for unpadded canonical text") {
    for (std::size_t n = 0; n <= 3000; ++n) {
        CHECK(calib64::max_decoded_length(calib64::encoded_length(n, false)) == n);
        const std::size_t padded_bound = calib64::max_decoded_length(calib64::encoded_length(n, true));
        CHECK(padded_bound >= n);
        CHECK(padded_bound < n + 3);  // whole quanta: rounds n up to a multiple of 3
    }
    // A bound on whatever a text of c characters can decode to, in any mode.
    std::mt19937_64 rng(6);
    for (int round = 0; round < 2000; ++round) {
        const auto data = random_bytes(rng, rng() % 200);
        std::string text = codec_model::encode(data, alphabet::standard, rng() % 2 == 0);
        for (std::size_t spaces = rng() % 5; spaces > 0; --spaces) text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng() % (text.size() + 1)), ' ');
        std::string out;
        const auto r = calib64::decode(text, out, {.pad = padding::optional, .skip = ignore::whitespace});
        REQUIRE(r.ok());
        CHECK(r.written <= calib64::max_decoded_length(text.size()));
    }
}
