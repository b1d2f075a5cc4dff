// A minimal application using an installed calib64 (see README.md beside this file).
#include <calib64/calib64.h>

#include <cstdio>
#include <string>

int main() {
    const std::string text = calib64::encode("hello, calib64");
    std::string back;
    if (const auto r = calib64::decode(text, back); !r.ok()) {
        std::fprintf(stderr, "decode failed at offset %zu: %.*s\n", r.offset,
                     static_cast<int>(calib64::describe(r.code).size()), calib64::describe(r.code).data());
        return 1;
    }
    // encode_auto picks serial / work_stealing / pipeline from this host's profile.
    std::string big(8 << 20, 'x');
    std::string out(calib64::encoded_length(big.size()), '\0');
    const auto e = calib64::encode_auto({reinterpret_cast<const std::uint8_t*>(big.data()), big.size()}, out);
    const calib64::choice c = calib64::choose_encode(big.size());
    std::printf("%s -> %s; 8 MiB ran on %.*s with kernel %.*s (%s)\n", text.c_str(), back.c_str(),
                static_cast<int>(calib64::backend_name(c.how).size()), calib64::backend_name(c.how).data(),
                static_cast<int>(calib64::kernel_name(calib64::best_kernel()).size()),
                calib64::kernel_name(calib64::best_kernel()).data(), e.ok() ? "ok" : "failed");
    return back == "hello, calib64" && e.ok() ? 0 : 1;
}
