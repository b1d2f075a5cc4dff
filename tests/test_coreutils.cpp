// The coreutils dialect's decoder (encoder/coreutils.h) against its model in
// test_codec_model.h, with every kernel this CPU runs: same status, offset and bytes
// (those of the bad group included) on random quirky text and on mutations of
// long valid text, where the SIMD runs and the group-by-group path take turns.
#include <doctest/doctest.h>

#include <calib64/calib64.h>

#include <random>
#include <string>
#include <vector>

#include "coreutils.h"
#include "test_codec_model.h"

using namespace calib64;

namespace {

struct run_result {
    decode_result r;
    std::vector<std::uint8_t> bytes;
};

run_result run_decoder(std::string_view text, const decode_options& o, detail::whitespace_hint hint) {
    std::vector<std::uint8_t> out(max_decoded_length(text.size()));
    std::vector<char> scratch;
    const decode_result r = detail::decode_coreutils(text, out, o, scratch, hint);
    REQUIRE(r.written <= out.size());
    return {r, std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.written))};
}

// Every kernel and hint: the decoder must say what the model says.
void check_against_model(const std::string& text, alphabet alpha, ignore skip) {
    const codec_model::outcome want = codec_model::decode_coreutils(text, alpha, skip);
    // Unknown, the truth, and `other`, which is safe for any text (the general path).
    const detail::whitespace_hint hints[] = {detail::whitespace_hint::unknown, detail::whitespace_of(text),
                                             detail::whitespace_hint::other};
    for (const kernel_id k : available_kernels()) {
        for (const detail::whitespace_hint hint : hints) {
            const run_result got = run_decoder(text, {alpha, padding::required, skip, k}, hint);
            CAPTURE(text);
            CAPTURE(kernel_name(k));
            CAPTURE(static_cast<int>(skip));
            CAPTURE(static_cast<int>(hint));
            REQUIRE(got.r.code == want.code);
            REQUIRE(got.r.offset == want.offset);
            REQUIRE(got.bytes == want.bytes);
        }
    }
}

}  // namespace

TEST_CASE("the coreutils decoder gives gnulib's answers on the dialect's quirks") {
    struct example {
        const char* text;
        ignore skip;
        const char* bytes;
        status code;
        std::size_t offset;
    };
    const example examples[] = {
        {"YQ==YQ==", ignore::none, "aa", status::ok, 0},             // '=' may end any group
        {"YR==", ignore::none, "a", status::ok, 0},                  // trailing bits are not checked
        {"YQ", ignore::none, "a", status::truncated_input, 2},       // a short last group yields its byte
        {"YW\nJ*", ignore::none, "ab", status::invalid_character, 4},  // the bad group's bytes before the fault
        {"YQ=\n=YWJj\n", ignore::none, "aabc", status::ok, 0},       // '\n' anywhere
        {"YWJj YQ==", ignore::none, "abc", status::invalid_character, 4},  // a space is kept, and invalid
        {"Y*Q=\n= YQ==", ignore::non_alphabet, "aa", status::ok, 0},  // -i skips all but alphabet and '='
        {"=QUJD", ignore::none, "", status::bad_padding, 0},
        {"QQ=A", ignore::none, "A", status::bad_padding, 3},
        {"=", ignore::none, "", status::invalid_character, 0},
    };
    for (const example& e : examples) {
        CAPTURE(e.text);
        const codec_model::outcome model = codec_model::decode_coreutils(e.text, alphabet::standard, e.skip);
        CHECK(model.code == e.code);
        CHECK(model.offset == e.offset);
        CHECK(std::string(model.bytes.begin(), model.bytes.end()) == e.bytes);
        check_against_model(e.text, alphabet::standard, e.skip);
    }
}

TEST_CASE("the coreutils decoder matches its model on random quirky text with every kernel and skip mode") {
    std::mt19937_64 rng(11);
    const std::string pieces[] = {"QUJD", "QUI=", "QQ==", "YR==", "\n", " ", "\r\n", "=", "*", "A", "-_", "Zm9v", "YQ", "\t"};
    int errors = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        const int parts = static_cast<int>(rng() % 24);
        const bool mostly_valid = rng() % 2 == 0;
        for (int i = 0; i < parts; ++i)
            text += mostly_valid && rng() % 6 != 0 ? std::string(i % 19 == 18 ? "\n" : "QUJD") : pieces[rng() % std::size(pieces)];
        const alphabet alpha = rng() % 4 == 0 ? alphabet::url : alphabet::standard;
        const ignore skip = rng() % 2 == 0 ? ignore::none : ignore::non_alphabet;
        errors += codec_model::decode_coreutils(text, alpha, skip).code != status::ok;
        check_against_model(text, alpha, skip);
    }
    CHECK(errors > 500);  // the generator reached the error paths
}

TEST_CASE("the coreutils decoder matches its model on mutations of long wrapped text") {
    std::mt19937_64 rng(12);
    const char inserts[] = {'=', '*', ' ', '\r', '\n', 'A', '-', '\t'};
    for (int round = 0; round < 400; ++round) {
        std::string raw(rng() % 3000, '\0');
        for (char& c : raw) c = static_cast<char>(rng());
        const alphabet alpha = rng() % 3 == 0 ? alphabet::url : alphabet::standard;
        const std::string flat = codec_model::encode({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()}, alpha, true);
        std::string text;
        for (std::size_t i = 0; i < flat.size(); i += 76) text += flat.substr(i, 76) + "\n";
        const int edits = static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const std::size_t at = rng() % text.size();
            switch (rng() % 3) {
                case 0: text.insert(at, 1, inserts[rng() % std::size(inserts)]); break;
                case 1: text.erase(at, 1); break;
                default: text[at] = inserts[rng() % std::size(inserts)]; break;
            }
        }
        check_against_model(text, alpha, rng() % 2 == 0 ? ignore::none : ignore::non_alphabet);
    }
}

TEST_CASE("the coreutils decoder refuses an output buffer smaller than the text could need") {
    std::vector<std::uint8_t> out(2);
    std::vector<char> scratch;
    const decode_result r = detail::decode_coreutils("QUJD", out, {}, scratch);
    CHECK(r.code == status::output_too_small);
    CHECK(r.written == 0);
}
