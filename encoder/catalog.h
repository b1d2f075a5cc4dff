// Internal: the catalog. One row per kernel and one per backend; everything that
// lists kernels or backends reads these rows: dispatch, names and name lookups, the
// CLI's help, CALIB64_* parsing, the profile's reader, writer and schema,
// calibration's loops and the report's columns (docs/architecture.md).
//
// A new ISA is its file in kernels/, one row in kernel_rows below, its enumerator in
// the public header and one entry in encoder/meson.build's kernel_builds. A new
// backend is its executor file in backends/, one row in backend_rows, its
// enumerator and its file in backends/meson.build.
#pragma once

#include <calib64/calib64.h>

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kernel.h"

// encoder/meson.build defines CALIB64_KERNEL_<name> as 1 or 0 for every entry of
// kernel_builds; a row naming a kernel meson does not know fails to compile here.
// The if-constexpr keeps an unbuilt kernel's symbol from being referenced at all.
#define CALIB64_KERNEL_OPS(name)                                                   \
    [] {                                                                           \
        if constexpr (CALIB64_KERNEL_##name) return &::calib64::detail::name##_kernel; \
        else return static_cast<const ::calib64::detail::kernel_ops*>(nullptr);    \
    }()

namespace calib64::detail {

struct kernel_row {
    kernel_id id;
    std::string_view name;          // in profiles, CALIB64_KERNEL, --kernel; kernels/<name>.cpp
    std::string_view requires_cpu;  // plain words, for messages and docs
    // A deliberately low estimate of serial speed in cache (GB/s of input): the
    // topology defaults use it where no profile measured the host (docs/profile.md).
    double conservative_gb_per_s;
    const kernel_ops* ops;          // nullptr: not compiled into this build
};

// Each defined in its own file, kernels/<name>.cpp; only the kernels this build
// compiles exist, and the rows refer to the others not at all.
extern const kernel_ops avx512_kernel;
extern const kernel_ops avx2_kernel;
extern const kernel_ops neon_kernel;

// Best first: the first row this build has and this CPU runs is what `automatic`
// means. The scalar reference is last and always built.
inline constexpr kernel_row kernel_rows[] = {
    {kernel_id::avx512, "avx512", "AVX-512 F, BW, VL, VBMI and VBMI2 (Ice Lake, Zen 4 and later)", 8.0,
     CALIB64_KERNEL_OPS(avx512)},
    {kernel_id::avx2, "avx2", "AVX2 and BMI2 (Haswell, Zen 1 and later)", 4.0, CALIB64_KERNEL_OPS(avx2)},
    {kernel_id::neon, "neon", "AArch64 Advanced SIMD", 3.0, CALIB64_KERNEL_OPS(neon)},
    {kernel_id::scalar, "scalar", "any CPU", 1.0, &scalar_kernel},
};
inline constexpr std::size_t kernel_count = std::size(kernel_rows);

// Names a CALIB64_KERNEL value, a --kernel flag or a profile may use: `auto` and
// every row, whether or not this build has it (a profile may come from another host).
inline constexpr std::string_view automatic_kernel_name = "auto";

[[nodiscard]] constexpr const kernel_row* kernel_row_of(kernel_id k) noexcept {
    for (const kernel_row& r : kernel_rows)
        if (r.id == k) return &r;
    return nullptr;
}
[[nodiscard]] constexpr std::optional<kernel_id> kernel_from_name(std::string_view name) noexcept {
    if (name == automatic_kernel_name) return kernel_id::automatic;
    for (const kernel_row& r : kernel_rows)
        if (r.name == name) return r.id;
    return std::nullopt;
}

// ---------------------------------------------------------------- backends

// Runs every chunk of a planned job (backends/parallel.h).
struct chunk_job_spec;
using chunk_executor = void (*)(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;

struct backend_row {
    backend id;
    std::string_view name;     // in profiles, CALIB64_BACKEND, --backend, reports
    std::string_view summary;  // one line for help texts
    // nullptr: the codec on the calling thread (serial). Otherwise the executor that
    // runs a planned call's chunks, and when it must not be used right now (exit,
    // re-entrant use from its own workers): then the call runs serially.
    chunk_executor executor;
    bool (*must_run_inline)() noexcept;
};

// backends/: the executors (declared here so the rows can name them).
void run_in_arena(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;
void run_in_pool(const chunk_job_spec& job, unsigned threads, bool pin_threads) noexcept;
[[nodiscard]] bool arenas_gone() noexcept;
[[nodiscard]] bool pipeline_must_run_inline() noexcept;

// Simplest first: calibration prefers an earlier row where two tie.
inline constexpr backend_row backend_rows[] = {
    {backend::serial, "serial", "this thread, one kernel call", nullptr, nullptr},
    {backend::work_stealing, "work_stealing", "oneTBB task arena, chunks stolen by idle threads", &run_in_arena,
     &arenas_gone},
    {backend::pipeline, "pipeline", "persistent worker pool fed by a lock-free queue", &run_in_pool,
     &pipeline_must_run_inline},
};
inline constexpr std::size_t backend_count = std::size(backend_rows);

// Position of a backend in backend_rows: the index of every per-backend array.
[[nodiscard]] constexpr std::size_t backend_index(backend b) noexcept {
    for (std::size_t i = 0; i < backend_count; ++i)
        if (backend_rows[i].id == b) return i;
    return 0;
}
[[nodiscard]] constexpr std::optional<backend> backend_from_name(std::string_view name) noexcept {
    for (const backend_row& r : backend_rows)
        if (r.name == name) return r.id;
    return std::nullopt;
}
static_assert(backend_rows[0].executor == nullptr, "row 0 is serial, the simplest backend");

// "a, b, c or d": the names of a list of rows, for messages and help texts.
template <class Rows>
[[nodiscard]] std::string names_in_words(const Rows& rows, std::string_view first = {}) {
    std::string out(first);
    std::size_t i = first.empty() ? 0 : 1;
    const std::size_t total = std::size(rows) + i;
    for (const auto& r : rows) {
        if (i > 0) out += i + 1 == total ? " or " : ", ";
        out += r.name;
        ++i;
    }
    return out;
}

}  // namespace calib64::detail
