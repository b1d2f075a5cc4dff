// Internal: the calls a calibration times, on buffers of random data made once.
// Phases ask the workload for calls; the tests give phases a synthetic workload
// whose calls do nothing (their measurer makes the numbers up).
#pragma once

#include <calib64/calib64.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runtime/profile.h"
#include "runtime/settings.h"

namespace calib64::calib {

using call = std::function<bool()>;
using check = std::function<std::string()>;

class workload {
public:
    virtual ~workload() = default;
    // One call of `op` through a fixed backend on the first `size` bytes / characters.
    [[nodiscard]] virtual call codec_call(runtime::operation op, backend how, kernel_id kernel,
                                          const parallel_options& par, std::uint64_t size) = 0;
    // One encode_auto / decode_auto call as `settings` would run it (explicit
    // settings: nothing process-wide changes).
    [[nodiscard]] virtual call auto_call(runtime::operation op, std::shared_ptr<const runtime::resolved_settings> settings,
                                         std::uint64_t size) = 0;
    // memcpy of `size` bytes by one thread, or split over a team of all usable threads
    // that spin between calls (so the phase measures bandwidth, not wake-ups).
    [[nodiscard]] virtual call memcpy_call(std::uint64_t size, bool all_threads) = 0;
    // Whether the output of the last call of `op` at `size` is the scalar reference's.
    [[nodiscard]] virtual check verify(runtime::operation op, std::uint64_t size) = 0;
    // Starts / stops the all-threads memcpy team (it spins while it lives).
    virtual void start_copy_team() = 0;
    virtual void stop_copy_team() = 0;
};

// Random bytes of `max_bytes` (a multiple of 3), their encoding, output buffers; all
// touched before any timing.
[[nodiscard]] std::unique_ptr<workload> make_buffer_workload(std::uint64_t max_bytes, std::uint64_t seed,
                                                             unsigned threads);

}  // namespace calib64::calib
