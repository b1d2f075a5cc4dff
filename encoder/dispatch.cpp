// Dispatch: which catalog rows this build has and this CPU runs, resolved once.
#include <algorithm>
#include <array>

#include "catalog.h"

namespace calib64::detail {
namespace {

struct kernel_registry {
    std::array<kernel_id, kernel_count> compiled{};
    std::size_t compiled_count = 0;
    std::array<kernel_id, kernel_count> runnable{};
    std::size_t runnable_count = 0;
    std::array<const kernel_ops*, 256> by_id{};  // indexed by kernel_id; nullptr = not runnable

    kernel_registry() noexcept {
        for (const kernel_row& row : kernel_rows) {
            if (row.ops == nullptr) continue;
            compiled[compiled_count++] = row.id;
            if (!row.ops->cpu_supports()) continue;
            runnable[runnable_count++] = row.id;
            by_id[static_cast<std::size_t>(row.id)] = row.ops;
        }
        // Best first: the first runnable kernel is what `automatic` means.
        by_id[static_cast<std::size_t>(kernel_id::automatic)] = by_id[static_cast<std::size_t>(runnable[0])];
    }
};
static_assert(kernel_rows[kernel_count - 1].id == kernel_id::scalar, "the scalar reference is the last resort");

const kernel_registry& registry() noexcept {
    static const kernel_registry r;  // CPU checks run once, thread-safely
    return r;
}

}  // namespace

const kernel_ops* resolve_kernel(kernel_id k) noexcept { return registry().by_id[static_cast<std::size_t>(k)]; }

}  // namespace calib64::detail

namespace calib64 {

std::span<const kernel_id> compiled_kernels() noexcept {
    const auto& r = detail::registry();
    return {r.compiled.data(), r.compiled_count};
}

std::span<const kernel_id> available_kernels() noexcept {
    const auto& r = detail::registry();
    return {r.runnable.data(), r.runnable_count};
}

kernel_id best_kernel() noexcept { return detail::registry().runnable[0]; }

bool kernel_available(kernel_id k) noexcept { return detail::resolve_kernel(k) != nullptr; }

std::string_view kernel_name(kernel_id k) noexcept {
    if (k == kernel_id::automatic) return detail::automatic_kernel_name;
    const detail::kernel_row* row = detail::kernel_row_of(k);
    return row ? row->name : "unknown";
}

kernel_lookup find_kernel(std::string_view name) noexcept {
    static const std::string expected =
        "unknown kernel name (expected " + detail::names_in_words(detail::kernel_rows, detail::automatic_kernel_name) + ")";
    const std::optional<kernel_id> id = detail::kernel_from_name(name);
    if (!id) return {kernel_id::automatic, status::kernel_unavailable, expected};
    const auto compiled = compiled_kernels();
    if (*id != kernel_id::automatic && std::find(compiled.begin(), compiled.end(), *id) == compiled.end())
        return {*id, status::kernel_unavailable, "kernel not compiled into this build"};
    if (!kernel_available(*id))
        return {*id, status::kernel_unavailable, "this CPU lacks the instructions the kernel needs"};
    return {*id, status::ok, {}};
}

}  // namespace calib64
