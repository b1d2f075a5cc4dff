// Internal: coding one block, on whichever worker holds it. Blocks are independent
// (the reader cut them at whole groups), so any number of them code at once.
#pragma once

#include <cstdint>

#include "stream/block.h"
#include "stream/characters.h"
#include "stream/job.h"

namespace calib64::streaming {

class block_coder {
public:
    explicit block_coder(const job& j) noexcept;
    // Bytes the out buffer of a block needs for this job's capacity.
    [[nodiscard]] std::size_t output_capacity() const noexcept;
    // Codes b (its read_errno is 0) into b.out; sets out_len, code, error_offset and
    // the RFC 4648 facts the writer checks across blocks.
    void code(block& b) const;

private:
    void encode_block(block& b) const;
    void decode_block_rfc(block& b) const;
    void decode_block_coreutils(block& b) const;

    const job& job_;
    const std::uint8_t* values_;
    significance significance_;
};

}  // namespace calib64::streaming
