// Host identity in levels: exact fingerprint, host class, distance. The rules and
// their reasons are in docs/profile.md ("Host identity"); each has a test in
// tests/test_host_class.cpp.
#include "runtime/host_class.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "catalog.h"
#include "common/sizes.h"
#include "platform/cpus.h"

namespace calib64::runtime {

std::string_view host_match_name(host_match m) noexcept {
    switch (m) {
        case host_match::exact: return "exact";
        case host_match::same_class: return "same class";
        case host_match::foreign: return "foreign";
    }
    return "foreign";
}

bool l3_reported(const host_summary& h) noexcept {
    for (const auto& note : h.fallbacks)
        if (note.starts_with("l3:")) return false;
    return h.l3_bytes != 0 && h.l3_bytes <= implausible_l3_bytes && h.l3_bytes != h.l2_bytes;
}

unsigned calibrated_usable_cpus(const host_summary& h) noexcept { return detail::usable_from(h.allowed_cpus, h.cpu_quota); }

namespace {

bool numbers_known(const host_summary& h) { return h.cpu_family >= 0 && h.cpu_model_number >= 0; }

// |log2(a / b)|, counts and sizes below 1 read as 1.
double log2_ratio(double a, double b) { return std::fabs(std::log2(std::max(a, 1.0) / std::max(b, 1.0))); }

std::string kernel_list(const std::vector<std::string>& k) {
    std::string s;
    for (const auto& name : k) s += (s.empty() ? "" : " ") + name;
    return s.empty() ? "none" : s;
}

// One pass over the class facts: each that differs adds its words and its weight.
struct tally {
    host_comparison& out;
    void differs(std::string words, double weight) {
        out.differences.push_back(std::move(words));
        out.distance += weight;
    }
    void count(const char* what, unsigned a, unsigned b, double weight) {
        if (a != b) differs(fmt::format("{} {} vs {}", what, a, b), weight * log2_ratio(a, b));
    }
    void bytes(const char* what, std::uint64_t a, std::uint64_t b, double weight) {
        if (a != b)
            differs(fmt::format("{} {} vs {}", what, common::format_size(a), common::format_size(b)),
                    weight * log2_ratio(static_cast<double>(a), static_cast<double>(b)));
    }
};

}  // namespace

host_comparison compare_hosts(const host_summary& a, const host_summary& b) {
    host_comparison out;
    if (!a.fingerprint.empty() && a.fingerprint == b.fingerprint) {
        out.level = host_match::exact;
        return out;
    }
    tally t{out};
    // The CPU itself. Family and model numbers name the microarchitecture; a profile
    // older than those fields is compared by its model string instead (stricter: the
    // same string implies the same numbers).
    const bool by_numbers = numbers_known(a) && numbers_known(b);
    if (a.cpu_vendor != b.cpu_vendor) {
        t.differs(fmt::format("vendor {} vs {}", a.cpu_vendor, b.cpu_vendor), 1.0);
    } else if (by_numbers && (a.cpu_family != b.cpu_family || a.cpu_model_number != b.cpu_model_number)) {
        t.differs(fmt::format("family/model {}/{} vs {}/{}", a.cpu_family, a.cpu_model_number, b.cpu_family,
                              b.cpu_model_number), 0.5);
    } else if (!by_numbers && a.cpu_model != b.cpu_model) {
        t.differs(fmt::format("cpu model \"{}\" vs \"{}\" (family/model numbers not known on both sides)", a.cpu_model,
                              b.cpu_model), 0.5);
    }
    if (a.simd_kernels != b.simd_kernels) {
        const bool same_best = !a.simd_kernels.empty() && !b.simd_kernels.empty() && a.simd_kernels[0] == b.simd_kernels[0];
        t.differs(fmt::format("kernels {} vs {}", kernel_list(a.simd_kernels), kernel_list(b.simd_kernels)),
                  same_best ? 0.5 : 1.0);
    }
    t.count("packages", a.packages, b.packages, 1.0);
    t.count("cores", a.cores, b.cores, 2.0);  // parallel speed-up: the fact switch points depend on most
    t.count("PUs", a.pus, b.pus, 1.0);
    if (a.cpukinds != b.cpukinds) t.differs(fmt::format("cpu kinds {} vs {}", a.cpukinds, b.cpukinds), 1.0);
    t.bytes("L1d", a.l1d_bytes, b.l1d_bytes, 0.5);
    t.bytes("L2", a.l2_bytes, b.l2_bytes, 1.0);
    t.count("NUMA nodes", a.numa_nodes, b.numa_nodes, 1.0);
    const bool l3_both = l3_reported(a) && l3_reported(b);
    if (l3_both) {
        t.bytes("L3", a.l3_bytes, b.l3_bytes, 1.0);
        t.count("L3 instances", a.l3_count, b.l3_count, 1.0);
    }
    if (!out.differences.empty()) {
        out.level = host_match::foreign;
        return out;
    }
    // Same class: say what the fingerprint saw that the class does not compare.
    out.level = host_match::same_class;
    out.distance = 0;
    if (by_numbers && a.cpu_model != b.cpu_model) out.differences.push_back(fmt::format("cpu model \"{}\" vs \"{}\"", a.cpu_model, b.cpu_model));
    if (!l3_both && (a.l3_bytes != b.l3_bytes || a.l3_count != b.l3_count)) {
        const char* whose = !l3_reported(a) && !l3_reported(b) ? "neither side's" : !l3_reported(a) ? "the profile's" : "this host's";
        out.differences.push_back(fmt::format("L3 {} vs {}, not compared: {} L3 was not reported plausibly",
                                              common::format_size(a.l3_bytes), common::format_size(b.l3_bytes), whose));
    }
    if (out.differences.empty()) out.differences.push_back("facts outside the class (fingerprint inputs) differ");
    return out;
}

bool kernels_runnable_here(const profile& p, const host_summary& here) {
    auto runs = [&](std::string_view name) {
        return std::find(here.simd_kernels.begin(), here.simd_kernels.end(), name) != here.simd_kernels.end();
    };
    for (const auto& k : p.host.simd_kernels)
        if (!runs(k)) return false;
    for (operation op : operations) {
        const kernel_id k = p.for_op(op).kernel;
        if (k != kernel_id::automatic && !runs(kernel_name(k))) return false;
    }
    return true;
}

std::string class_words(const host_summary& h) {
    std::string cpu = numbers_known(h) ? fmt::format("{} {}/{}", h.cpu_vendor, h.cpu_family, h.cpu_model_number)
                                       : fmt::format("{} \"{}\"", h.cpu_vendor, h.cpu_model);
    std::string words = fmt::format("{}, {} cores, {} PUs, L1d {}, L2 {}", cpu, h.cores, h.pus, common::format_size(h.l1d_bytes),
                                    common::format_size(h.l2_bytes));
    if (l3_reported(h)) words += fmt::format(", L3 {}{}", common::format_size(h.l3_bytes),
                                             h.l3_count > 1 ? fmt::format(" x{}", h.l3_count) : "");
    else words += ", L3 not reported";
    words += fmt::format(", {} NUMA node{}, {}", h.numa_nodes, h.numa_nodes == 1 ? "" : "s", kernel_list(h.simd_kernels));
    if (h.packages > 1) words += fmt::format(", {} packages", h.packages);
    if (h.cpukinds > 1) words += fmt::format(", {} cpu kinds", h.cpukinds);
    return words;
}

}  // namespace calib64::runtime
