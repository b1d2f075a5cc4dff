// Gathering candidate profiles from files, bundles and folders, and choosing one.
// The order of preference and its reasons are in docs/profile.md.
#include "runtime/profile_choice.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <system_error>

namespace calib64::runtime {
namespace {


std::string first_errors(const std::vector<profile_error>& errors, std::string_view check_path) {
    std::string list;
    for (std::size_t i = 0; i < errors.size() && i < 3; ++i) list += (i ? "; " : "") + to_string(errors[i]);
    if (errors.size() > 3) list += fmt::format("; and {} more (calib64 profile check {})", errors.size() - 3, check_path);
    return list;
}

// Adds one file's profiles. `in_folder`: found by searching a folder.
void gather_file(const std::filesystem::path& path, std::string_view label, bool in_folder, candidate_set& set) {
    const profiles_result r = load_profiles_file(path, profile_parts::decisions);
    if (!r.errors.empty()) {
        set.messages.push_back(fmt::format("{} {} rejected: {}", r.is_bundle ? "bundle" : "profile", label,
                                           first_errors(r.errors, path.string())));
        if (set.first_rejection.empty()) set.first_rejection = to_string(r.errors.front());
        return;
    }
    for (const member_problem& m : r.skipped)
        set.messages.push_back(fmt::format("bundle {}: member {} skipped: {}", label, m.name,
                                           first_errors(m.errors, path.string())));
    if (!r.value) return;
    for (const bundle_member& m : r.value->members)
        set.members.push_back({r.is_bundle ? fmt::format("{}#{}", path.string(), m.name) : path.string(),
                               r.is_bundle || in_folder, m.p});
}

void gather_folder(const std::filesystem::path& dir, std::string_view label, candidate_set& set) {
    std::string problem;
    const std::vector<std::filesystem::path> files = find_profile_files(dir, &problem);
    if (!problem.empty()) set.messages.push_back(fmt::format("folder {}: {}", label, problem));
    if (files.empty() && problem.empty()) {
        set.messages.push_back(fmt::format("folder {} holds no profile.json", label));
        if (set.first_rejection.empty()) set.first_rejection = fmt::format("no profile.json in {}", dir.string());
    }
    for (const auto& f : files) gather_file(f, f.string(), true, set);
}

// Where a candidate ranks: lower is better, compared in this order.
struct rank {
    int tier = 0;             // 0 exact, 1 same class, 2 nearest class, 3 trusted foreign
    bool unrunnable = false;  // trusted foreign only: a kernel this CPU lacks
    bool limit_differs = false;
    double limit_gap = 0;
    double distance = 0;
    std::size_t order = 0;
    auto key() const { return std::tie(tier, unrunnable, limit_differs, limit_gap, distance, order); }
};

std::string cpus_words(unsigned n) { return fmt::format("{} usable CPU{}", n, n == 1 ? "" : "s"); }

std::string join(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
    return s;
}

// "; calibrated with 2 usable CPUs, this process has 1: threads capped, parallel backends off"
std::string limit_words(const candidate& c, const topology& host) {
    const unsigned then = calibrated_usable_cpus(c.p.host), now = host.usable_cpus;
    if (then == now)
        return now < host.pus ? fmt::format("; calibrated under this process's CPU limit ({})", cpus_words(now)) : "";
    std::string effect = now <= 1 ? ": parallel backends off" : now < then ? ": threads capped" : "";
    return fmt::format("; calibrated with {}, this process has {}{}", cpus_words(then), now, effect);
}

}  // namespace

std::vector<std::filesystem::path> find_profile_files(const std::filesystem::path& dir, std::string* problem) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    unsigned seen = 0;
    // Directory symlinks are not followed (the iterator's default), so a loop cannot trap the search.
    for (; !ec && it != end && ++seen <= max_folder_entries; it.increment(ec)) {
        if (it.depth() >= max_folder_depth) it.disable_recursion_pending();
        std::error_code type_ec;
        if (it->path().filename() == "profile.json" && it->is_regular_file(type_ec)) files.push_back(it->path());
    }
    if (problem && ec) *problem = ec.message() + " (searched what could be read)";
    else if (problem && seen > max_folder_entries)
        *problem = fmt::format("more than {} entries; searched only the first", max_folder_entries);
    std::sort(files.begin(), files.end());  // the directory's own order is arbitrary
    return files;
}

void gather_profiles(const std::filesystem::path& path, std::string_view label, candidate_set& set) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) gather_folder(path, label, set);
    else gather_file(path, label, false, set);
}

profile_choice choose_profile(const candidate_set& set, const topology& host, bool trust_foreign) {
    profile_choice out;
    const host_summary here = summarize(host);
    std::vector<std::pair<rank, host_comparison>> ranked;
    std::vector<std::size_t> eligible;
    bool any_collection = false;
    const candidate* nearest_ineligible = nullptr;
    host_comparison nearest_cmp;
    for (std::size_t i = 0; i < set.members.size(); ++i) {
        const candidate& c = set.members[i];
        any_collection = any_collection || c.in_collection;
        host_comparison cmp = compare_hosts(c.p.host, here);
        const bool runnable = kernels_runnable_here(c.p, here);
        rank r;
        r.order = i;
        r.distance = cmp.distance;
        const unsigned then = calibrated_usable_cpus(c.p.host);
        r.limit_differs = then != host.usable_cpus;
        r.limit_gap = std::fabs(std::log2(static_cast<double>(std::max(1u, then)) / std::max(1u, host.usable_cpus)));
        if (cmp.level == host_match::exact) r.tier = 0;
        else if (cmp.level == host_match::same_class) r.tier = 1;
        else if (c.in_collection && runnable && cmp.distance <= nearest_class_limit) r.tier = 2;
        else if (trust_foreign) r.tier = 3, r.unrunnable = !runnable;
        else r.tier = -1;
        if (r.tier < 0 && runnable && (!nearest_ineligible || cmp.distance < nearest_cmp.distance))
            nearest_ineligible = &c, nearest_cmp = cmp;
        if (r.tier >= 0) eligible.push_back(ranked.size());
        ranked.emplace_back(r, std::move(cmp));
    }
    const auto best = std::min_element(eligible.begin(), eligible.end(), [&](std::size_t a, std::size_t b) {
        return ranked[a].first.key() < ranked[b].first.key();
    });
    if (best != eligible.end()) {
        const auto& [r, cmp] = ranked[*best];
        const candidate& c = set.members[r.order];
        out.chosen = &c;
        out.comparison = cmp;
        out.trusted_foreign = r.tier == 3;
        std::string level;
        switch (r.tier) {
            case 0: level = "this host (exact fingerprint)"; break;
            case 1: level = fmt::format("same class as this host ({}); differs only in {}", c.p.host.host_id, join(cmp.differences)); break;
            case 2:
                level = fmt::format("nearest class ({}, distance {:.2f}: {}); no profile of this host's class among {}",
                                    c.p.host.host_id, cmp.distance, join(cmp.differences), set.members.size());
                break;
            default: level = fmt::format("foreign host, trusted by {}=1", trust_variable);
        }
        out.status = fmt::format("loaded from {}: {}{}", c.source, level, limit_words(c, host));
        return out;
    }
    // Nothing usable.
    if (set.members.empty()) {
        out.status = set.first_rejection.empty() ? "none found; using topology defaults"
                                                 : "rejected: " + set.first_rejection + "; using topology defaults";
        return out;
    }
    // Lone profiles from another host: said once, as before bundles existed. A bundle is
    // made for many hosts; having none for this one is normal, not an error: no message.
    const std::string id = host_id(host), fp = fingerprint(host);
    for (std::size_t i = 0; i < set.members.size(); ++i) {
        const candidate& c = set.members[i];
        if (c.in_collection) continue;
        out.messages.push_back(fmt::format(
            "profile {} was measured on another host ({}, fingerprint {}; this host is {}, {}; class differs in: {}); not "
            "trusted, using topology defaults. Recalibrate with `calib64 calibrate`, or set {}=1 to use it anyway",
            c.source, c.p.host.host_id, c.p.host.fingerprint, id, fp, join(ranked[i].second.differences), trust_variable));
    }
    if (any_collection) {
        out.status = nearest_ineligible
                         ? fmt::format("no matching class among {} profiles (nearest {} at distance {:.2f}, limit {:g}: {}); "
                                       "using topology defaults",
                                       set.members.size(), nearest_ineligible->p.host.host_id, nearest_cmp.distance,
                                       nearest_class_limit, join(nearest_cmp.differences))
                         : fmt::format("no matching class among {} profiles (none runs only kernels this CPU has); using "
                                       "topology defaults",
                                       set.members.size());
        return out;
    }
    out.status = fmt::format("not trusted: measured on another host ({})", set.members.front().p.host.host_id);
    return out;
}

}  // namespace calib64::runtime
