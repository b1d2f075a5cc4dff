// encode_auto / decode_auto: one acquire load of the resolved settings, a compare
// or two against the switch points, then the chosen backend. Nothing is allocated
// or locked per call once the settings exist.
#include <calib64/calib64.h>

#include "runtime/settings.h"

namespace calib64 {

namespace {

choice concrete(choice c) noexcept {
    if (c.kernel == kernel_id::automatic) c.kernel = best_kernel();
    return c;
}

}  // namespace

choice choose_encode(std::size_t input_bytes) noexcept {
    return concrete(runtime::current_settings().encode.choose(input_bytes));
}

choice choose_decode(std::size_t input_chars) noexcept {
    return concrete(runtime::current_settings().decode.choose(input_chars));
}

encode_result encode_auto(std::span<const std::uint8_t> in, std::span<char> out, const encode_options& opts) noexcept {
    const choice c = runtime::current_settings().encode.choose(in.size());
    encode_options o = opts;
    if (o.kernel == kernel_id::automatic) o.kernel = c.kernel;
    // Serial is encode() itself; skipping encode_with's dispatch keeps small calls cheap.
    if (c.how == backend::serial) return encode(in, out, o);
    return encode_with(c.how, in, out, o, c.par);
}

decode_result decode_auto(std::string_view in, std::span<std::uint8_t> out, const decode_options& opts) noexcept {
    const choice c = runtime::current_settings().decode.choose(in.size());
    decode_options o = opts;
    if (o.kernel == kernel_id::automatic) o.kernel = c.kernel;
    if (c.how == backend::serial) return decode(in, out, o);
    return decode_with(c.how, in, out, o, c.par);
}

}  // namespace calib64
