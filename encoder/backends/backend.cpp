// TEMPORARY: serial-only stand-in for encode_with/decode_with so src/ links while
// the real work_stealing and pipeline backends are written. Replaced by the backends work.
#include <calib64/calib64.h>

namespace calib64 {

std::string_view backend_name(backend b) noexcept {
    switch (b) {
        case backend::serial: return "serial";
        case backend::work_stealing: return "work_stealing";
        case backend::pipeline: return "pipeline";
    }
    return "unknown";
}

encode_result encode_with(backend, std::span<const std::uint8_t> in, std::span<char> out,
                          const encode_options& opts, const parallel_options&) noexcept {
    return encode(in, out, opts);
}

decode_result decode_with(backend, std::string_view in, std::span<std::uint8_t> out,
                          const decode_options& opts, const parallel_options&) noexcept {
    return decode(in, out, opts);
}

}  // namespace calib64
