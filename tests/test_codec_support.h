// Helpers shared by the kernel/codec tests (tests/test_codec*.cpp).
#pragma once

#include <calib64/calib64.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_codec_model.h"

// doctest prints a status by its description.
namespace calib64 {
inline std::ostream& operator<<(std::ostream& os, status s) { return os << describe(s); }
}  // namespace calib64

namespace codec_test {

// The skipping modes decode through a staging buffer of this many input characters
// at a time (encoder/codec.cpp, decode_skipping); tests aim at its edges.
inline constexpr std::size_t staging_chunk_chars = 8192;

using calib64::alphabet;
using calib64::decode_options;
using calib64::encode_options;
using calib64::ignore;
using calib64::kernel_id;
using calib64::padding;
using calib64::status;

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string as_text(std::span<const std::uint8_t> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

// The kernels this CPU runs (every test runs all of them).
inline std::vector<kernel_id> kernels_under_test() {
    const auto k = calib64::available_kernels();
    return {k.begin(), k.end()};
}

// Compiled kernels this CPU cannot run, by name ("" when none).
inline std::string skipped_kernel_names() {
    std::string names;
    const auto runnable = calib64::available_kernels();
    for (kernel_id k : calib64::compiled_kernels())
        if (std::find(runnable.begin(), runnable.end(), k) == runnable.end())
            names += (names.empty() ? "" : ", ") + std::string(calib64::kernel_name(k));
    return names;
}

inline std::string kernel_names(std::span<const kernel_id> ks) {
    std::string names;
    for (kernel_id k : ks) names += (names.empty() ? "" : ", ") + std::string(calib64::kernel_name(k));
    return names;
}

// Decoding options a valid encoding made with `pad` must be accepted under.
inline padding padding_accepting(bool pad, bool prefer_optional) {
    return prefer_optional ? padding::optional : pad ? padding::required : padding::forbidden;
}

// Wraps text into lines of `columns` characters ended by `eol` (MIME / PEM style).
inline std::string wrap(std::string_view text, std::size_t columns, std::string_view eol) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += columns) {
        out += text.substr(i, columns);
        out += eol;
    }
    return out;
}

// A 64-byte-aligned scratch area where a payload is placed at a chosen
// misalignment between two canary guards:
//   [guard_bytes + misalignment of canary][payload][guard_bytes of canary]
class guarded_arena {
public:
    static constexpr std::size_t guard_bytes = 64;
    static constexpr std::uint8_t canary = 0xA5;

    explicit guarded_arena(std::size_t max_payload_bytes)
        : storage_(new std::uint8_t[max_payload_bytes + 2 * guard_bytes + 64 + 64]) {
        const auto address = reinterpret_cast<std::uintptr_t>(storage_.get());
        base_ = storage_.get() + ((64 - address % 64) % 64);
    }

    // Fills guards and payload with the canary; returns the payload start.
    std::uint8_t* place(std::size_t misalignment, std::size_t payload_bytes) {
        std::memset(base_, canary, guard_bytes + misalignment + payload_bytes + guard_bytes);
        misalignment_ = misalignment;
        payload_bytes_ = payload_bytes;
        return base_ + guard_bytes + misalignment;
    }
    std::uint8_t* payload() const { return base_ + guard_bytes + misalignment_; }

    // Whether every byte outside [payload, payload + payload_bytes) still holds the canary.
    bool guards_intact() const {
        return all_canary(base_, guard_bytes + misalignment_) && all_canary(payload() + payload_bytes_, guard_bytes);
    }
    // Whether payload bytes from `from` on still hold the canary (nothing was written there).
    bool payload_untouched_from(std::size_t from) const {
        return all_canary(payload() + from, payload_bytes_ - from);
    }

private:
    static bool all_canary(const std::uint8_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            if (p[i] != canary) return false;
        return true;
    }
    std::unique_ptr<std::uint8_t[]> storage_;
    std::uint8_t* base_ = nullptr;
    std::size_t misalignment_ = 0;
    std::size_t payload_bytes_ = 0;
};

}  // namespace codec_test
