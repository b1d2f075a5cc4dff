// encode_auto / decode_auto: one acquire load of the resolved settings and one
// compare on the common (serial) path, then the codec itself; nothing is allocated
// or locked per call once the settings exist. The 1 KiB target is a dispatch cost
// of at most 5% of encode(), about a nanosecond on AVX-512, hence the fast path.
#include <calib64/calib64.h>

#include "runtime/settings.h"

namespace calib64 {

namespace {

choice concrete(choice c) noexcept {
    if (c.kernel == kernel_id::automatic) c.kernel = best_kernel();
    return c;
}

template <class Options>
Options with_kernel(const Options& opts, kernel_id settings_kernel) noexcept {
    Options o = opts;
    if (o.kernel == kernel_id::automatic) o.kernel = settings_kernel;
    return o;
}

// Out of line and taking the caller's arguments unchanged, so that the fast path's
// fallback is a plain tail call too.
[[gnu::noinline]] encode_result encode_chosen(std::span<const std::uint8_t> in, std::span<char> out,
                                              const encode_options& opts) noexcept {
    return runtime::encode_auto_with(runtime::current_settings(), in, out, opts);
}

[[gnu::noinline]] decode_result decode_chosen(std::string_view in, std::span<std::uint8_t> out,
                                              const decode_options& opts) noexcept {
    return runtime::decode_auto_with(runtime::current_settings(), in, out, opts);
}

}  // namespace

namespace runtime {

encode_result encode_auto_with(const resolved_settings& s, std::span<const std::uint8_t> in, std::span<char> out,
                               const encode_options& opts) noexcept {
    const choice c = s.encode.choose(in.size());
    const encode_options o = with_kernel(opts, c.kernel);
    if (c.how == backend::serial) return encode(in, out, o);
    return encode_with(c.how, in, out, o, c.par);
}

decode_result decode_auto_with(const resolved_settings& s, std::string_view in, std::span<std::uint8_t> out,
                               const decode_options& opts) noexcept {
    const choice c = s.decode.choose(in.size());
    const decode_options o = with_kernel(opts, c.kernel);
    if (c.how == backend::serial) return decode(in, out, o);
    return decode_with(c.how, in, out, o, c.par);
}

}  // namespace runtime

choice choose_encode(std::size_t input_bytes) noexcept {
    return concrete(runtime::current_settings().encode.choose(input_bytes));
}

choice choose_decode(std::size_t input_chars) noexcept {
    return concrete(runtime::current_settings().decode.choose(input_chars));
}

// The fast path reads the published pointer itself, so that everything else (first
// use, parallel sizes, a settings kernel to substitute) sits behind one out-of-line
// call and the common case is a tail call into encode() without saving registers.
encode_result encode_auto(std::span<const std::uint8_t> in, std::span<char> out, const encode_options& opts) noexcept {
    const runtime::resolved_settings* s = runtime::detail::settings_in_force.load(std::memory_order_acquire);
    // Serial is encode() itself (encode_with(serial) is defined to equal it).
    if (s && in.size() < s->encode.serial_below_bytes &&
        (opts.kernel != kernel_id::automatic || s->encode.kernel_is_best)) [[likely]]
        return encode(in, out, opts);
    return encode_chosen(in, out, opts);
}

decode_result decode_auto(std::string_view in, std::span<std::uint8_t> out, const decode_options& opts) noexcept {
    const runtime::resolved_settings* s = runtime::detail::settings_in_force.load(std::memory_order_acquire);
    if (s && in.size() < s->decode.serial_below_bytes &&
        (opts.kernel != kernel_id::automatic || s->decode.kernel_is_best)) [[likely]]
        return decode(in, out, opts);
    return decode_chosen(in, out, opts);
}

}  // namespace calib64
