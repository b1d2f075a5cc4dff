// The single dispatch table: every kernel built into this binary, best first.
// Adding an ISA = its own file in kernels/ plus one row here.
#include <algorithm>
#include <array>

#include "kernel.h"

namespace calib64::detail {
namespace {

constexpr const kernel_ops* all_kernels[] = {
#if CALIB64_HAVE_AVX512
    &avx512_kernel,
#endif
#if CALIB64_HAVE_AVX2
    &avx2_kernel,
#endif
#if CALIB64_HAVE_NEON
    &neon_kernel,
#endif
    &scalar_kernel,
};
constexpr std::size_t kernel_count = std::size(all_kernels);

struct kernel_registry {
    std::array<kernel_id, kernel_count> compiled{};
    std::array<kernel_id, kernel_count> runnable{};
    std::size_t runnable_count = 0;
    std::array<const kernel_ops*, 5> by_id{};  // indexed by kernel_id; nullptr = not runnable

    kernel_registry() noexcept {
        for (std::size_t i = 0; i < kernel_count; ++i) {
            const kernel_ops* k = all_kernels[i];
            compiled[i] = k->id;
            if (!k->cpu_supports()) continue;
            runnable[runnable_count++] = k->id;
            by_id[static_cast<std::size_t>(k->id)] = k;
        }
        // Best first: the first runnable kernel is what `automatic` means.
        by_id[static_cast<std::size_t>(kernel_id::automatic)] = by_id[static_cast<std::size_t>(runnable[0])];
    }
};

const kernel_registry& registry() noexcept {
    static const kernel_registry r;  // CPU checks run once, thread-safely
    return r;
}

}  // namespace

const kernel_ops* resolve_kernel(kernel_id k) noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < registry().by_id.size() ? registry().by_id[i] : nullptr;
}

}  // namespace calib64::detail

namespace calib64 {

std::span<const kernel_id> compiled_kernels() noexcept { return detail::registry().compiled; }

std::span<const kernel_id> available_kernels() noexcept {
    const auto& r = detail::registry();
    return {r.runnable.data(), r.runnable_count};
}

kernel_id best_kernel() noexcept { return detail::registry().runnable[0]; }

bool kernel_available(kernel_id k) noexcept { return detail::resolve_kernel(k) != nullptr; }

std::string_view kernel_name(kernel_id k) noexcept {
    switch (k) {
        case kernel_id::automatic: return "auto";
        case kernel_id::scalar: return "scalar";
        case kernel_id::avx2: return "avx2";
        case kernel_id::avx512: return "avx512";
        case kernel_id::neon: return "neon";
    }
    return "unknown";
}

kernel_lookup find_kernel(std::string_view name) noexcept {
    constexpr kernel_id every[] = {kernel_id::automatic, kernel_id::scalar, kernel_id::avx2,
                                   kernel_id::avx512, kernel_id::neon};
    const auto* hit = std::find_if(std::begin(every), std::end(every),
                                   [&](kernel_id k) { return kernel_name(k) == name; });
    if (hit == std::end(every))
        return {kernel_id::automatic, status::kernel_unavailable,
                "unknown kernel name (expected auto, scalar, avx2, avx512 or neon)"};
    const auto compiled = compiled_kernels();
    if (*hit != kernel_id::automatic && std::find(compiled.begin(), compiled.end(), *hit) == compiled.end())
        return {*hit, status::kernel_unavailable, "kernel not compiled into this build"};
    if (!kernel_available(*hit))
        return {*hit, status::kernel_unavailable, "this CPU lacks the instructions the kernel needs"};
    return {*hit, status::ok, {}};
}

}  // namespace calib64
