// Internal: which profile the runtime uses when several are on offer: the files on
// the search path, folders of result folders and bundles (docs/profile.md, "Which
// profile is used"). Gathering reads files; choosing is a pure function of the
// candidates and the host, so every rule is testable with synthetic hosts.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/host_class.h"
#include "runtime/profile.h"
#include "runtime/topology.h"

namespace calib64::runtime {

struct candidate {
    std::string source;          // for people: a file, or "bundle.json#member"
    bool in_collection = false;  // from a bundle or a folder: may stand in as the nearest class
    profile p;                   // decisions and host facts
};

struct candidate_set {
    std::vector<candidate> members;  // in search order
    // Unreadable files and malformed members, by name: told once per process; each
    // is skipped and never stops the others from being used.
    std::vector<std::string> messages;
    std::string first_rejection;  // the first file-level error, for the status when nothing is usable
};

// Set to 1, a lone profile of another host class is used anyway (docs/profile.md).
inline constexpr std::string_view trust_variable = "CALIB64_TRUST_PROFILE";

// A folder is searched at most this deep, and at most this many entries are looked at,
// so a CALIB64_PROFILE=/ costs milliseconds, not minutes.
inline constexpr int max_folder_depth = 6;
inline constexpr unsigned max_folder_entries = 4096;

// The files named profile.json under `dir`, sorted; *problem says what stopped the search early.
[[nodiscard]] std::vector<std::filesystem::path> find_profile_files(const std::filesystem::path& dir, std::string* problem);

// Adds what `path` holds: a profile file, a bundle file (told apart by their content),
// or a folder searched recursively for files named profile.json. `label` names the
// path in messages (e.g. "p.json (CALIB64_PROFILE)").
void gather_profiles(const std::filesystem::path& path, std::string_view label, candidate_set& set);

struct profile_choice {
    const candidate* chosen = nullptr;  // into the set; nullptr: topology defaults
    host_comparison comparison;         // of the chosen one's host with this host
    bool trusted_foreign = false;       // used only because CALIB64_TRUST_PROFILE=1
    std::string status;                 // one line for `calib64 profile show`
    std::vector<std::string> messages;  // a lone profile from another host, as before bundles
};

// Exact, else same class, else (bundle and folder members only) the nearest class
// within nearest_class_limit whose kernels all run here, else topology defaults; within
// a level, a member calibrated under this process's CPU limit first. trust_foreign
// (CALIB64_TRUST_PROFILE=1) lets any readable profile through, nearest first.
[[nodiscard]] profile_choice choose_profile(const candidate_set& set, const topology& host, bool trust_foreign);

}  // namespace calib64::runtime
