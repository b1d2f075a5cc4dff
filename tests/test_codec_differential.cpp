// Differential and randomized tests: every kernel this CPU runs must be
// byte-identical to scalar for every length, alignment, alphabet and padding,
// must never touch memory outside its buffers, and must decode arbitrary
// (mutated) input exactly as the specification model in test_codec_model.h.
//
// Alignment coverage, kept fast: every length 0..2048 runs 64 (input, output)
// misalignment pairs (a, (a + length) % 64), so each length sees every input and
// every output misalignment and every 64 consecutive lengths see all 4096 pairs;
// a set of lengths around kernel block sizes runs all 4096 pairs.
#include <calib64/calib64.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#if __has_include(<sys/mman.h>) && __has_include(<unistd.h>)
#include <sys/mman.h>
#include <unistd.h>
#define CALIB64_TEST_HAVE_MPROTECT 1
#endif

#include "test_codec_support.h"

namespace {

using namespace codec_test;
using calib64::kernel_name;
using namespace std::string_view_literals;

constexpr std::size_t max_length = 2048;
// Lengths that meet kernel block edges (48/64-byte encode blocks, 64/128-character
// decode blocks, 3- and 4-byte groups) and the largest: all 4096 alignment pairs.
constexpr std::size_t full_grid_lengths[] = {0,   1,   2,   3,   4,   5,   6,   7,   8,   45,   46,   47,  48, 49,
                                             50,  63,  64,  65,  95,  96,  97,  111, 112, 113,  127,  128, 129,
                                             143, 144, 191, 192, 193, 255, 256, 257, 383, 384, 1023, 1024, 2047, 2048};

bool is_full_grid_length(std::size_t n) {
    return std::find(std::begin(full_grid_lengths), std::end(full_grid_lengths), n) != std::end(full_grid_lengths);
}

template <class Body>
void for_each_alignment(std::size_t length, Body body) {
    if (is_full_grid_length(length)) {
        for (std::size_t in = 0; in < 64; ++in)
            for (std::size_t out = 0; out < 64; ++out) body(in, out);
    } else {
        for (std::size_t in = 0; in < 64; ++in) body(in, (in + length) % 64);
    }
}

struct codec_options {
    alphabet alpha;
    bool pad;
};
constexpr codec_options every_codec_option[] = {
    {alphabet::standard, true}, {alphabet::standard, false}, {alphabet::url, true}, {alphabet::url, false}};

void report_kernels() {
    const std::string skipped = skipped_kernel_names();
    MESSAGE("kernels under test: ", kernel_names(calib64::available_kernels()),
            "; compiled but skipped on this CPU: ", skipped.empty() ? std::string("none") : skipped);
}

}  // namespace

TEST_CASE("every kernel encodes like scalar at every length 0..2048 and misalignment 0..63, touching nothing around its output") {
    report_kernels();
    std::mt19937_64 rng(0xE1C0DE);
    const auto data = random_bytes(rng, max_length);
    guarded_arena input(max_length + 64), output(calib64::encoded_length(max_length) + 64);
    std::size_t calls = 0;
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::span<const std::uint8_t> bytes(data.data(), n);
        for (const codec_options& co : every_codec_option) {
            // The reference: scalar at natural alignment, itself checked against the model.
            const std::string want = calib64::encode(as_text(bytes), {co.alpha, co.pad, kernel_id::scalar});
            if (want != codec_model::encode(bytes, co.alpha, co.pad)) FAIL_CHECK("scalar disagrees with the model at ", n);
            for (kernel_id k : kernels_under_test()) {
                for_each_alignment(n, [&](std::size_t in_shift, std::size_t out_shift) {
                    std::uint8_t* in = input.place(in_shift, n);
                    if (n > 0) std::memcpy(in, bytes.data(), n);
                    char* out = reinterpret_cast<char*>(output.place(out_shift, want.size()));
                    const auto r = calib64::encode({in, n}, {out, want.size()}, {co.alpha, co.pad, k});
                    ++calls;
                    if (!r.ok() || r.written != want.size() || std::memcmp(out, want.data(), want.size()) != 0 ||
                        !output.guards_intact()) {
                        FAIL("kernel ", kernel_name(k), ", ", n, " bytes, url ", co.alpha == alphabet::url, ", pad ",
                             co.pad, ", input misaligned by ", in_shift, ", output by ", out_shift, ": ", r.code,
                             ", written ", r.written, ", guards intact ", output.guards_intact());
                    }
                });
            }
        }
    }
    MESSAGE(calls, " encode calls compared");
}

TEST_CASE("every kernel decodes like scalar at every length 0..2048 and misalignment 0..63, touching nothing around its output") {
    report_kernels();
    std::mt19937_64 rng(0xDEC0DE);
    const auto data = random_bytes(rng, max_length);
    guarded_arena input(calib64::encoded_length(max_length) + 64), output(max_length + 64);
    std::size_t calls = 0;
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::span<const std::uint8_t> bytes(data.data(), n);
        for (const codec_options& co : every_codec_option) {
            const std::string text = codec_model::encode(bytes, co.alpha, co.pad);
            for (kernel_id k : kernels_under_test()) {
                for_each_alignment(n, [&](std::size_t in_shift, std::size_t out_shift) {
                    char* in = reinterpret_cast<char*>(input.place(in_shift, text.size()));
                    if (!text.empty()) std::memcpy(in, text.data(), text.size());
                    // Mostly an exact-size output; sometimes room to spare, which
                    // must stay untouched too.
                    const std::size_t spare = in_shift % 8 == 0 ? 16 : 0;
                    std::uint8_t* out = output.place(out_shift, n + spare);
                    const decode_options o{co.alpha, padding_accepting(co.pad, in_shift % 2 == 1), ignore::none, k};
                    const auto r = calib64::decode({in, text.size()}, {out, n + spare}, o);
                    ++calls;
                    if (!r.ok() || r.written != n || (n > 0 && std::memcmp(out, bytes.data(), n) != 0) ||
                        !output.guards_intact() || !output.payload_untouched_from(n)) {
                        FAIL("kernel ", kernel_name(k), ", ", n, " bytes, url ", co.alpha == alphabet::url, ", pad ",
                             co.pad, ", input misaligned by ", in_shift, ", output by ", out_shift, ": ", r.code,
                             " at ", r.offset, ", written ", r.written, ", guards intact ", output.guards_intact());
                    }
                });
            }
        }
    }
    MESSAGE(calls, " decode calls compared");
}

TEST_CASE("every kernel decodes wrapped, junk-laden and corrupted text like scalar at every length 0..2048") {
    std::mt19937_64 rng(0x5EED);
    const auto data = random_bytes(rng, max_length);
    constexpr std::string_view strays = "=!*\x80\xff\n -_+/A";
    guarded_arena input(3 * max_length + 64), output(max_length + 64);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::span<const std::uint8_t> bytes(data.data(), n);
        const codec_options co = every_codec_option[n % 4];
        const std::string text = codec_model::encode(bytes, co.alpha, co.pad);
        for (const ignore skip : {ignore::whitespace, ignore::non_alphabet}) {
            std::string spaced = n % 2 == 0 ? wrap(text, 76, "\r\n") : std::string();
            if (n % 2 == 1) {
                for (const char c : text) {
                    while (rng() % 8 == 0) spaced += skip == ignore::whitespace ? " \t\n\v\f\r"[rng() % 6] : "!*\x80\n"[rng() % 4];
                    spaced += c;
                }
            }
            std::string corrupt = spaced;
            if (!corrupt.empty()) corrupt[rng() % corrupt.size()] = strays[rng() % strays.size()];
            for (const bool corrupted : {false, true}) {
                const std::string& given = corrupted ? corrupt : spaced;
                const decode_options o{co.alpha, padding_accepting(co.pad, n % 3 == 0), skip, kernel_id::scalar};
                const codec_model::outcome want = codec_model::decode(given, o);
                // A stray that replaces '=' by data can add up to two bytes.
                const std::size_t room = corrupted ? n + 2 : n;
                if (!corrupted && (want.code != status::ok || want.bytes.size() != n))
                    FAIL_CHECK("the model rejects valid spaced text of ", n, " bytes");
                for (kernel_id k : kernels_under_test()) {
                    const std::size_t in_shift = n % 64, out_shift = (n * 7 + static_cast<std::size_t>(k)) % 64;
                    char* in = reinterpret_cast<char*>(input.place(in_shift, given.size()));
                    if (!given.empty()) std::memcpy(in, given.data(), given.size());
                    std::uint8_t* out = output.place(out_shift, room);
                    decode_options ko = o;
                    ko.kernel = k;
                    const auto r = calib64::decode({in, given.size()}, {out, room}, ko);
                    const bool same = r.code == want.code && r.offset == want.offset && r.written == want.bytes.size() &&
                                      std::equal(want.bytes.begin(), want.bytes.end(), out);
                    if (!same || !output.guards_intact()) {
                        FAIL_CHECK("kernel ", kernel_name(k), ", ", n, " bytes, skip ", static_cast<int>(skip),
                                   ", corrupted ", corrupted, ": got ", r.code, " at ", r.offset, " written ",
                                   r.written, "; want ", want.code, " at ", want.offset, " written ", want.bytes.size());
                    }
                }
            }
        }
    }
}

TEST_CASE("every kernel round-trips random data of random sizes up to 1 MiB") {
    std::mt19937_64 rng(0x1A1B);
    constexpr std::size_t mib = std::size_t{1} << 20;
    for (const std::size_t n : {mib, mib - 1, mib - 2, rng() % mib, rng() % mib, rng() % mib, rng() % 65536}) {
        const auto data = random_bytes(rng, n);
        const std::string bytes = as_text(data);
        for (const codec_options& co : every_codec_option) {
            const std::string want = calib64::encode(bytes, {co.alpha, co.pad, kernel_id::scalar});
            for (kernel_id k : kernels_under_test()) {
                INFO("kernel ", kernel_name(k), ", ", n, " bytes, url ", co.alpha == alphabet::url, ", pad ", co.pad);
                const std::string text = calib64::encode(bytes, {co.alpha, co.pad, k});
                CHECK(text == want);
                std::string back;
                CHECK(calib64::decode(text, back, {co.alpha, padding_accepting(co.pad, false), ignore::none, k}).ok());
                CHECK(back == bytes);
                if (co.pad) {
                    const std::string wrapped = wrap(text, 76, "\n");
                    back.clear();
                    CHECK(calib64::decode(wrapped, back, {co.alpha, padding::required, ignore::whitespace, k}).ok());
                    CHECK(back == bytes);
                }
            }
        }
    }
}

TEST_CASE("every kernel decodes random mutations of valid text exactly as the specification model") {
    // Insertions, deletions and replacements by '=', skipped bytes, junk, the other
    // alphabet's characters and truncation, in every mode, padding and alphabet;
    // one round in eight is long enough to span one or two staging chunks.
    std::mt19937_64 rng(0x30DE1);
    constexpr std::string_view pool = "====  \n\r\t\v\f!*.-_+/\x80\xff\x00" "AZaz09"sv;
    const auto kernels = kernels_under_test();
    std::size_t errors_seen = 0, rounds = 0;
    for (int round = 0; round < 6000; ++round, ++rounds) {
        const std::size_t n = round % 8 == 0 ? rng() % (2 * staging_chunk_chars) : rng() % 200;
        const auto data = random_bytes(rng, n);
        const alphabet alpha = rng() % 2 == 0 ? alphabet::standard : alphabet::url;
        const padding pad = static_cast<padding>(rng() % 3);
        const ignore skip = static_cast<ignore>(rng() % 3);
        std::string text = codec_model::encode(data, alpha, rng() % 2 == 0);
        if (skip != ignore::none && !text.empty()) {
            for (std::size_t i = rng() % (text.size() / 16 + 2); i > 0; --i)
                text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng() % (text.size() + 1)), " \n!\r"[rng() % 4]);
        }
        for (std::size_t mutations = rng() % 4; mutations > 0; --mutations) {
            const std::size_t at = text.empty() ? 0 : rng() % text.size();
            const char c = rng() % 4 == 0 ? static_cast<char>(rng()) : pool[rng() % pool.size()];
            switch (rng() % 4) {
                case 0: if (!text.empty()) text[at] = c; break;
                case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
                case 2: if (!text.empty()) text.erase(at, 1); break;
                case 3: text.resize(at); break;
            }
        }
        const decode_options o{alpha, pad, skip, kernel_id::scalar};
        const codec_model::outcome want = codec_model::decode(text, o);
        errors_seen += want.code != status::ok;
        for (kernel_id k : kernels) {
            decode_options ko = o;
            ko.kernel = k;
            std::vector<std::uint8_t> got;
            const auto r = calib64::decode(text, got, ko);
            if (r.code != want.code || r.offset != want.offset || r.written != want.bytes.size() || got != want.bytes) {
                FAIL_CHECK("kernel ", kernel_name(k), ", round ", round, ", ", text.size(), " chars, url ",
                           alpha == alphabet::url, ", padding ", static_cast<int>(pad), ", skip ",
                           static_cast<int>(skip), ": got ", r.code, " at ", r.offset, " written ", r.written,
                           "; want ", want.code, " at ", want.offset, " written ", want.bytes.size());
            }
        }
    }
    MESSAGE(rounds, " mutated inputs, ", errors_seen, " of them invalid");
    CHECK(errors_seen > rounds / 4);  // the mutations really do produce errors
    CHECK(errors_seen < rounds);      // and valid inputs too
}

#if CALIB64_TEST_HAVE_MPROTECT
namespace {

// Readable and writable pages between two inaccessible ones, so that any access
// just before or just after the usable area faults.
class fenced_pages {
public:
    explicit fenced_pages(std::size_t usable_bytes) {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        usable_ = (usable_bytes + page_ - 1) / page_ * page_;
        void* p = mmap(nullptr, usable_ + 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        base_ = static_cast<std::uint8_t*>(p);
        REQUIRE(mprotect(base_, page_, PROT_NONE) == 0);
        REQUIRE(mprotect(base_ + page_ + usable_, page_, PROT_NONE) == 0);
    }
    ~fenced_pages() { munmap(base_, usable_ + 2 * page_); }
    fenced_pages(const fenced_pages&) = delete;
    fenced_pages& operator=(const fenced_pages&) = delete;

    std::uint8_t* right_after_low_fence() const { return base_ + page_; }
    std::uint8_t* ending_at_high_fence(std::size_t n) const { return base_ + page_ + usable_ - n; }

private:
    std::uint8_t* base_ = nullptr;
    std::size_t page_ = 0, usable_ = 0;
};

}  // namespace

TEST_CASE("no kernel reads or writes past either end of its buffers, checked against protected pages") {
    // A stray access faults (the test dies with SIGSEGV naming this case).
    fenced_pages input_pages(16384), output_pages(16384);
    std::mt19937_64 rng(0xFE7CE);
    std::size_t calls = 0;
    // Every length to 512, and lengths around the larger kernel paths (aligned
    // encode loads from 512 bytes, 1024-character decode steps) up to 4 KiB.
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 512; ++n) lengths.push_back(n);
    for (const std::size_t n : {513u, 514u, 515u, 575u, 767u, 768u, 769u, 1023u, 1024u, 1025u, 1536u, 2047u, 2048u, 3071u, 4097u})
        lengths.push_back(n);
    for (kernel_id k : kernels_under_test()) {
        for (const std::size_t n : lengths) {
            const auto data = random_bytes(rng, n);
            for (const codec_options& co : every_codec_option) {
                const std::string want = codec_model::encode(data, co.alpha, co.pad);
                const encode_options eo{co.alpha, co.pad, k};
                // Encode: input against the high fence, then the low fence; output against the high fence.
                for (std::uint8_t* in : {input_pages.ending_at_high_fence(n), input_pages.right_after_low_fence()}) {
                    if (n > 0) std::memcpy(in, data.data(), n);
                    char* out = reinterpret_cast<char*>(output_pages.ending_at_high_fence(want.size()));
                    const auto r = calib64::encode({in, n}, {out, want.size()}, eo);
                    ++calls;
                    if (!r.ok() || std::string_view(out, want.size()) != want)
                        FAIL_CHECK("encode, kernel ", kernel_name(k), ", ", n, " bytes: ", r.code);
                    char* low_out = reinterpret_cast<char*>(output_pages.right_after_low_fence());
                    const auto low = calib64::encode({in, n}, {low_out, want.size()}, eo);
                    if (!low.ok() || std::string_view(low_out, want.size()) != want)
                        FAIL_CHECK("encode to the low fence, kernel ", kernel_name(k), ", ", n, " bytes");
                }
                // Decode the text, wrapped text and junk-laden text in each mode, and
                // text whose last character is invalid, each ending at the high fence.
                const padding accept = padding_accepting(co.pad, false);
                std::string junk;
                for (const char c : want) junk += c, junk += (rng() % 3 == 0 ? "!" : "");
                struct decode_case {
                    std::string text;
                    ignore skip;
                };
                const decode_case cases[] = {{want, ignore::none},
                                             {wrap(want, 76, "\n"), ignore::whitespace},
                                             {wrap(want, 64, "\r\n").substr(0, wrap(want, 64, "\r\n").size() - (n > 0 ? 2 : 0)), ignore::whitespace},
                                             {junk, ignore::non_alphabet},
                                             {want + "!", ignore::none}};
                for (const decode_case& c : cases) {
                    const decode_options o{co.alpha, accept, c.skip, k};
                    const codec_model::outcome model = codec_model::decode(c.text, o);
                    for (char* in : {reinterpret_cast<char*>(input_pages.ending_at_high_fence(c.text.size())),
                                     reinterpret_cast<char*>(input_pages.right_after_low_fence())}) {
                        if (!c.text.empty()) std::memcpy(in, c.text.data(), c.text.size());
                        std::uint8_t* out = output_pages.ending_at_high_fence(n);
                        const auto r = calib64::decode({in, c.text.size()}, {out, n}, o);
                        ++calls;
                        if (r.code != model.code || r.offset != model.offset || r.written != model.bytes.size() ||
                            !std::equal(model.bytes.begin(), model.bytes.end(), out))
                            FAIL_CHECK("decode, kernel ", kernel_name(k), ", ", n, " bytes, skip ",
                                       static_cast<int>(c.skip), ": ", r.code, " at ", r.offset);
                    }
                }
            }
        }
    }
    MESSAGE(calls, " calls against fenced pages");
}
#else
TEST_CASE("no kernel reads or writes past either end of its buffers, checked against protected pages") {
    MESSAGE("skipped: this platform has no mmap/mprotect; the canary guards in the other tests still apply");
}
#endif
