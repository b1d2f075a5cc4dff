// `calib64 profile show | check PATH | schema [--bundle] | bundle OUT PATH... | defaults OUT`.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "commands.h"
#include "runtime/profile_choice.h"
#include "runtime/settings.h"
#include "version.h"

namespace calib64::cli {
namespace {

namespace fs = std::filesystem;

int usage(std::FILE* to) {
    std::fputs("usage: calib64 profile show               settings encode_auto/decode_auto use here, and where each came from\n"
               "       calib64 profile check PATH         validate a profile, a bundle or a folder of them (exit 0: usable)\n"
               "       calib64 profile bundle OUT PATH... one bundle of every profile under the PATHs (result folders,\n"
               "                                          profile.json files, other bundles), each checked first\n"
               "       calib64 profile defaults OUT       this host's topology defaults written as a profile (not measured)\n"
               "       calib64 profile schema [--bundle]  the JSON Schema of a profile (docs/profile.schema.json) or a\n"
               "                                          bundle (docs/profile-bundle.schema.json)\n",
               to);
    return to == stdout ? 0 : 1;
}

int show() {
    const runtime::resolved_settings& s = runtime::current_settings();  // prints its messages once
    std::printf("profile: %s\n", s.profile_status.c_str());
    std::fputs(runtime::format_settings(s).c_str(), stdout);
    return 0;
}

int check(const char* path) {
    const runtime::profile_check c = runtime::check_profile_file(path);
    for (const runtime::profile_error& e : c.errors) std::printf("error: %s\n", runtime::to_string(e).c_str());
    for (const std::string& n : c.notes) std::printf("note: %s\n", n.c_str());
    if (!c.choice_here.empty()) std::printf("here: %s\n", c.choice_here.c_str());
    if (c.kind == "profile") std::printf("%s: %s\n", path, c.ok() ? "valid profile" : "NOT a usable profile");
    else
        std::printf("%s: %s with %u usable profile%s%s\n", path, c.kind.c_str(), c.members, c.members == 1 ? "" : "s",
                    c.ok() ? "" : "; the errors above name what is skipped");
    return c.ok() ? 0 : 1;
}

// The member name of a profile found under `root`: its folder relative to root, or
// root's own name when the profile sits directly in it.
std::string member_name(const fs::path& root, const fs::path& file) {
    std::error_code ec;
    fs::path rel = fs::relative(file.parent_path(), root, ec);
    if (ec || rel.empty() || rel == ".") rel = fs::absolute(file, ec).parent_path().filename();
    std::string name = rel.generic_string();
    return name.empty() ? file.filename().string() : name;
}

// Adds the profiles in `file` (a profile or a bundle) to `out`, each checked in full.
void add_file(const fs::path& file, const std::string& name, runtime::profile_bundle& out, unsigned& skipped) {
    const runtime::profiles_result r = runtime::load_profiles_file(file, runtime::profile_parts::everything);
    auto skip = [&](const std::string& who, const std::vector<runtime::profile_error>& errors) {
        ++skipped;
        std::fprintf(stderr, "calib64 profile bundle: skipped %s (%s): %s%s\n", who.c_str(), file.string().c_str(),
                     errors.empty() ? "" : runtime::to_string(errors.front()).c_str(),
                     errors.size() > 1 ? fmt::format(" (and {} more: calib64 profile check {})", errors.size() - 1,
                                                     file.string()).c_str()
                                       : "");
    };
    if (!r.errors.empty()) return skip(name, r.errors);
    for (const auto& m : r.skipped) skip(m.name, m.errors);
    if (!r.value) return;
    for (const auto& m : r.value->members) {
        std::string unique = r.is_bundle ? m.name : name;
        for (int n = 2; std::any_of(out.members.begin(), out.members.end(), [&](const auto& x) { return x.name == unique; }); ++n)
            unique = fmt::format("{}-{}", r.is_bundle ? m.name : name, n);
        if (const auto errors = runtime::validate_profile(m.p); !errors.empty()) {
            skip(unique, errors);
            continue;
        }
        out.members.push_back(runtime::bundle_member_from(unique, m.p));
    }
}

int bundle(int argc, char** argv) {
    if (argc < 4) return usage(stderr);
    const fs::path out = argv[2];
    runtime::profile_bundle b;
    b.tool_version = runtime::calib64_version;
    b.created_utc = runtime::utc_now_iso8601();
    unsigned skipped = 0;
    for (int i = 3; i < argc; ++i) {
        const fs::path root = argv[i];
        std::error_code ec;
        if (fs::is_directory(root, ec)) {
            std::string problem;
            const auto files = runtime::find_profile_files(root, &problem);
            if (!problem.empty()) std::fprintf(stderr, "calib64 profile bundle: %s: %s\n", root.string().c_str(), problem.c_str());
            if (files.empty()) std::fprintf(stderr, "calib64 profile bundle: no profile.json under %s\n", root.string().c_str());
            for (const auto& f : files) add_file(f, member_name(root, f), b, skipped);
        } else {
            add_file(root, member_name(root.parent_path().empty() ? "." : root.parent_path(), root), b, skipped);
        }
    }
    if (b.members.empty()) {
        std::fprintf(stderr, "calib64 profile bundle: no usable profile found; %s not written\n", out.string().c_str());
        return 1;
    }
    if (const auto errors = runtime::save_bundle_atomic(b, out); !errors.empty()) {
        for (const auto& e : errors) std::fprintf(stderr, "calib64 profile bundle: %s\n", runtime::to_string(e).c_str());
        return 1;
    }
    std::printf("%s: %zu profile%s", out.string().c_str(), b.members.size(), b.members.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < b.members.size(); ++i) std::printf("%s%s", i ? ", " : " (", b.members[i].name.c_str());
    std::printf(")%s\n", skipped ? fmt::format("; {} skipped (see above)", skipped).c_str() : "");
    return 0;
}

int defaults(const char* out) {
    const runtime::profile p = runtime::topology_defaults_profile(runtime::host_topology());
    if (const auto errors = runtime::save_profile_atomic(p, out); !errors.empty()) {
        for (const auto& e : errors) std::fprintf(stderr, "calib64 profile defaults: %s\n", runtime::to_string(e).c_str());
        return 1;
    }
    std::printf("%s: topology defaults of %s (derived from the host probe, not measured)\n", out, p.host.host_id.c_str());
    return 0;
}

}  // namespace

int run_profile(int argc, char** argv) {
    const std::string_view what = argc >= 2 ? argv[1] : "";
    if (what == "show" && argc == 2) return show();
    if (what == "check" && argc == 3) return check(argv[2]);
    if (what == "bundle") return bundle(argc, argv);
    if (what == "defaults" && argc == 3) return defaults(argv[2]);
    if (what == "schema" && argc == 2) return std::fputs(runtime::profile_schema_text().c_str(), stdout) < 0 ? 1 : 0;
    if (what == "schema" && argc == 3 && std::string_view(argv[2]) == "--bundle")
        return std::fputs(runtime::bundle_schema_text().c_str(), stdout) < 0 ? 1 : 0;
    if (what == "--help" || what == "-h") return usage(stdout);
    return usage(stderr);
}

}  // namespace calib64::cli
