// Internal: one block of a stream, as one worker reads, codes and writes it.
//
// Decoding across block boundaries: the reader cuts each block after a multiple of
// four significant characters (those the decoder does not skip) and carries the 0-3
// left over, with their input offsets, to the front of the next block (each block has
// room for them before its data). Every block then decodes on its own, and errors map
// back to absolute input offsets.
#pragma once

#include <calib64/calib64.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace calib64::streaming {

inline constexpr std::size_t carry_room = 4;  // room for the carried 0-3 characters

struct block {
    std::unique_ptr<char[]> in;  // carry_room + capacity; data starts at in + carry_room
    std::unique_ptr<char[]> out;
    std::size_t out_capacity = 0;
    std::vector<char> scratch;   // the coder's: wrapped encode steps, kept characters

    // Set by the reader.
    std::uint64_t index = 0;
    std::uint64_t data_offset = 0;  // absolute input offset of the first data byte
    std::size_t data_len = 0;
    unsigned carry_count = 0;       // characters carried in front of the data
    std::array<std::uint64_t, 4> carry_offset{};
    bool last = false;
    int read_errno = 0;  // the read after this block's data failed
    bool out_of_memory = false;  // coding it needed memory that was not to be had
    // Decode: whitespace the reader counted in the data before the cut (an upper bound
    // for what the block keeps), so the coder can pick a fast path unscanned.
    std::size_t newlines = 0;
    std::size_t other_whitespace = 0;

    // Set by the coder.
    std::size_t out_len = 0;
    status code = status::ok;
    std::uint64_t error_offset = 0;
    // RFC 4648 decode: facts the writer needs to carry the "closed by padding" state.
    bool has_significant = false;
    bool first_is_data_or_pad = false;
    std::uint64_t first_significant_offset = 0;
    bool ends_closed = false;

    [[nodiscard]] char* data() noexcept { return in.get() + carry_room; }
    [[nodiscard]] char* staging() noexcept { return data() - carry_count; }
    [[nodiscard]] std::size_t staging_len() const noexcept { return carry_count + data_len; }
    // Absolute input offset of staging()[i]; i == staging_len() is the end of the data.
    [[nodiscard]] std::uint64_t absolute(std::size_t i) const noexcept {
        return i < carry_count ? carry_offset[i] : data_offset + (i - carry_count);
    }
};

}  // namespace calib64::streaming
