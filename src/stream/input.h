// Internal: the read stage. One worker at a time (the engine's read lock) fills its
// block with the next piece of input; decode cuts it after a whole number of groups
// of four significant characters and carries the 0-3 left over, with their offsets,
// to the front of the next block (block.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "stream/block.h"
#include "stream/characters.h"
#include "stream/job.h"

namespace calib64::streaming {

class input_reader {
public:
    input_reader(const job& j, int fd, bool regular) noexcept;
    // Fills b with the next block (index, offsets, data, carry, counts, last,
    // read_errno). With `stoppable`, a silent pipe or terminal is polled so that
    // `stop` (another worker failed) ends the wait.
    void read_into(block& b, const std::atomic<bool>& stop, bool stoppable);
    // All input read (end of file, a read error, or stopped).
    [[nodiscard]] bool done() const noexcept { return done_; }
    [[nodiscard]] std::uint64_t position() const noexcept { return position_; }

private:
    template <typename OnData>
    std::size_t fill(char* dst, std::size_t want, std::size_t piece, bool& eof, int& err, const std::atomic<bool>& stop,
                     bool stoppable, OnData on_data);
    void cut_at_whole_groups(block& b, std::size_t significant_in_data);

    const job& job_;
    int fd_;
    bool regular_;
    const std::uint8_t* values_;
    significance significance_;
    std::uint64_t next_index_ = 0;
    std::uint64_t position_ = 0;
    bool done_ = false;
    unsigned carry_count_ = 0;
    std::array<char, 4> carry_chars_{};
    std::array<std::uint64_t, 4> carry_offsets_{};
};

}  // namespace calib64::streaming
