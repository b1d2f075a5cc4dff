// The kernel catalog as a specification: names, lookups and dispatch all come from
// its rows, so a new row is found, named, listed and dispatched without other edits.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "catalog.h"

using namespace calib64;

TEST_CASE("every catalog row is found by its name and named by its id") {
    for (const auto& row : detail::kernel_rows) {
        CAPTURE(row.name);
        CHECK(kernel_name(row.id) == row.name);
        CHECK(detail::kernel_from_name(row.name) == row.id);
        const kernel_lookup found = find_kernel(row.name);
        CHECK(found.id == row.id);
        CHECK(found.ok() == kernel_available(row.id));
    }
    CHECK(find_kernel("auto").ok());
    CHECK(kernel_name(kernel_id::automatic) == "auto");
}

TEST_CASE("the kernels this build compiled are the rows with code, in catalog order, scalar last") {
    std::vector<kernel_id> rows_with_code;
    for (const auto& row : detail::kernel_rows)
        if (row.ops != nullptr) rows_with_code.push_back(row.id);
    const auto compiled = compiled_kernels();
    CHECK(std::vector<kernel_id>(compiled.begin(), compiled.end()) == rows_with_code);
    REQUIRE_FALSE(compiled.empty());
    CHECK(compiled.back() == kernel_id::scalar);
}

TEST_CASE("automatic is the first runnable row, and every runnable kernel is dispatched to its own code") {
    const auto runnable = available_kernels();
    REQUIRE_FALSE(runnable.empty());
    CHECK(best_kernel() == runnable.front());
    for (const kernel_id k : runnable) CHECK(detail::resolve_kernel(k) == detail::kernel_row_of(k)->ops);
    CHECK(detail::resolve_kernel(kernel_id::automatic) == detail::resolve_kernel(best_kernel()));
}

TEST_CASE("an unknown kernel name is refused with every known name listed") {
    const kernel_lookup k = find_kernel("sse9");
    CHECK_FALSE(k.ok());
    const std::string reason(k.reason);
    CHECK(reason.find("auto") != std::string::npos);
    for (const auto& row : detail::kernel_rows) CHECK(reason.find(row.name) != std::string::npos);
}

TEST_CASE("a kernel that is not compiled in, or not runnable here, is refused with the reason") {
    for (const auto& row : detail::kernel_rows) {
        CAPTURE(row.name);
        const kernel_lookup k = find_kernel(row.name);
        if (row.ops == nullptr) CHECK(std::string(k.reason).find("not compiled") != std::string::npos);
        else if (!row.ops->cpu_supports()) CHECK(std::string(k.reason).find("lacks") != std::string::npos);
        else CHECK(k.ok());
    }
}

TEST_CASE("ids outside the catalog have no name and no code") {
    const auto unknown = static_cast<kernel_id>(200);
    CHECK(kernel_name(unknown) == "unknown");
    CHECK(detail::resolve_kernel(unknown) == nullptr);
    CHECK_FALSE(kernel_available(unknown));
}
