// Settings resolution: profile -> fingerprint check -> environment overrides ->
// topology defaults. Policy lives here; encoder/ only runs what it is told.
#include "runtime/settings.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <new>
#include <system_error>

#include "common/sizes.h"
#include "platform/text.h"

extern char** environ;

namespace calib64::runtime {

std::string_view origin_name(origin o) noexcept {
    switch (o) {
        case origin::built_in: return "default";
        case origin::topology: return "topology";
        case origin::profile: return "profile";
        case origin::environment: return "environment";
    }
    return "unknown";
}

namespace {

constexpr std::string_view profile_variable = "CALIB64_PROFILE";
constexpr std::string_view backend_variable = "CALIB64_BACKEND";
constexpr std::string_view kernel_variable = "CALIB64_KERNEL";
constexpr std::string_view threads_variable = "CALIB64_THREADS";

// CALIB64_<OP>_<BACKEND>_FROM for every operation and parallel backend of the catalog.
std::string threshold_variable(operation op, backend how) {
    std::string name = fmt::format("CALIB64_{}_{}_FROM", operation_name(op), backend_name(how));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

const std::vector<std::string_view>& known_names() {
    static const std::vector<std::string>* owned = [] {
        auto* v = new std::vector<std::string>{std::string(profile_variable), std::string(trust_variable),
                                               std::string(backend_variable), std::string(kernel_variable),
                                               std::string(threads_variable)};
        for (operation op : operations)
            for (const auto& row : calib64::detail::backend_rows)
                if (row.executor != nullptr) v->push_back(threshold_variable(op, row.id));
        return v;
    }();
    static const std::vector<std::string_view>* views = new std::vector<std::string_view>(owned->begin(), owned->end());
    return *views;
}

// A variable's value, trimmed (one rule for every CALIB64_* value); nullopt when
// unset or empty.
std::optional<std::string_view> value_of(const environment& env, std::string_view name) {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    const std::string_view v = calib64::detail::trim(it->second);
    if (v.empty()) return std::nullopt;
    return v;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// ---------------------------------------------------------------- the environment

// Every CALIB64_* override, parsed once and checked; problems go to `messages`.
struct overrides {
    std::optional<backend> forced;
    bool backend_set = false;  // CALIB64_BACKEND given (auto included)
    std::optional<kernel_id> kernel;
    std::optional<unsigned> threads;
    bool trust_foreign = false;
    // Per operation and backend: unset, "off" (nullopt inside), or a size.
    std::map<std::pair<operation, backend>, std::optional<std::uint64_t>> from;
};

struct message_list {
    std::vector<std::string>& out;
    void ignored(std::string_view name, std::string_view value, std::string_view why) {
        out.push_back(fmt::format("{}=\"{}\" ignored: {}", name, value, why));
    }
};

overrides read_overrides(const environment& env, message_list& say) {
    overrides o;
    // Variables nobody reads are most likely typos; saying so beats silently ignoring them.
    for (const auto& [name, value] : env) {
        if (!name.starts_with("CALIB64_") || name.starts_with("CALIB64_TEST_")) continue;
        const auto& known = known_names();
        if (std::find(known.begin(), known.end(), name) == known.end())
            say.out.push_back(name + " is not a variable calib64 reads (see docs/profile.md); ignored");
    }
    if (const auto t = value_of(env, trust_variable)) {
        if (*t == "1") o.trust_foreign = true;
        else if (*t != "0") say.ignored(trust_variable, *t, "expected 1 or 0");
    }
    if (const auto b = value_of(env, backend_variable)) {
        if (*b == "auto") o.backend_set = true;
        else if (const auto how = calib64::detail::backend_from_name(*b)) o.forced = *how, o.backend_set = true;
        else say.ignored(backend_variable, *b, "expected " + calib64::detail::names_in_words(calib64::detail::backend_rows) + " or auto");
    }
    if (const auto k = value_of(env, kernel_variable)) {
        const kernel_lookup found = find_kernel(*k);
        if (found.ok()) o.kernel = found.id;
        else say.ignored(kernel_variable, *k, found.reason.empty() ? "unknown kernel" : found.reason);
    }
    if (const auto t = value_of(env, threads_variable)) {
        std::uint64_t n = 0;
        if (calib64::detail::parse_decimal(*t, n) && n >= 1 && n <= max_threads) o.threads = static_cast<unsigned>(n);
        else say.ignored(threads_variable, *t, fmt::format("expected a whole number from 1 to {}", max_threads));
    }
    for (operation op : operations)
        for (const auto& row : calib64::detail::backend_rows) {
            if (row.executor == nullptr) continue;
            const std::string name = threshold_variable(op, row.id);
            const auto v = value_of(env, name);
            if (!v) continue;
            const std::string word = lower(*v);
            if (word == "off" || word == "never") {
                o.from[{op, row.id}] = std::nullopt;
                continue;
            }
            std::string why;
            if (const auto size = common::parse_size(*v, &why)) o.from[{op, row.id}] = *size;
            else say.ignored(name, *v, why + " (or off)");
        }
    return o;
}

// ---------------------------------------------------------------- one operation

void resolve_kernel(operation_settings& s, const operation_profile* prof, const overrides& o, std::string_view source,
                    message_list& say, operation op) {
    s.kernel_from = {origin::topology, "best this CPU runs"};
    if (prof) {
        if (prof->kernel == kernel_id::automatic || kernel_available(prof->kernel)) {
            s.kernel = prof->kernel;
            s.kernel_from = {origin::profile, ""};
        } else {
            say.out.push_back(fmt::format("profile {} chooses kernel {} for {}, which this CPU or build cannot run; using "
                                          "the best available",
                                          source, kernel_name(prof->kernel), operation_name(op)));
        }
    }
    if (o.kernel) {
        s.kernel = *o.kernel;
        s.kernel_from = {origin::environment, std::string(kernel_variable)};
    }
}

void resolve_thresholds(operation_settings& s, operation op, const operation_profile* prof, const overrides& o,
                        const topology& host) {
    provenance base{origin::topology, ""};
    if (prof) {
        base = {origin::profile, ""};
        for (const switch_point& p : prof->switch_points) s.thresholds.push_back({p.from_bytes, p.how});
        if (host.usable_cpus <= 1) {
            // Same machine, but this process may use one CPU (taskset, cgroup).
            std::erase_if(s.thresholds, [](const threshold& t) { return t.how != backend::serial; });
            base = {origin::topology, "one usable CPU"};
        }
    } else {
        s.thresholds = topology_thresholds(op, host, s.kernel);
        if (host.usable_cpus <= 1) base.note = "one usable CPU";
    }
    s.thresholds_from.fill(base);
    for (const auto& [key, from] : o.from) {
        if (key.first != op) continue;
        const backend how = key.second;
        // The variable's point replaces any other backend's at the very same size: that
        // backend's switch now comes from the environment too (profile show says so).
        for (const threshold& t : s.thresholds)
            if (t.how != how && from && t.from_bytes == *from)
                s.thresholds_from[calib64::detail::backend_index(t.how)] = {origin::environment,
                                                                            "replaced by " + threshold_variable(op, how)};
        std::erase_if(s.thresholds, [&](const threshold& t) { return t.how == how || (from && t.from_bytes == *from); });
        if (from) s.thresholds.push_back({*from, how});
        std::stable_sort(s.thresholds.begin(), s.thresholds.end(),
                         [](const threshold& a, const threshold& b) { return a.from_bytes < b.from_bytes; });
        s.thresholds_from[calib64::detail::backend_index(how)] = {origin::environment, threshold_variable(op, how)};
    }
}

void resolve_parallel(operation_settings& s, const operation_profile* prof, const overrides& o, const topology& host) {
    for (const auto& row : calib64::detail::backend_rows) {
        if (row.executor == nullptr) continue;
        const std::size_t i = calib64::detail::backend_index(row.id);
        parallel_options& par = s.par[i];
        const backend_tuning* tuned = prof ? prof->tuning_for(row.id) : nullptr;
        par.threads = host.usable_cpus;
        s.threads_from[i] = {origin::topology, "usable CPUs"};
        if (tuned && tuned->threads != 0) {
            par.threads = tuned->threads;
            s.threads_from[i] = {origin::profile, ""};
            if (par.threads > host.usable_cpus) {
                // Measured with more CPUs than this process may use now.
                par.threads = host.usable_cpus;
                s.threads_from[i] = {origin::topology, fmt::format("profile's {} capped to usable CPUs", tuned->threads)};
            }
        }
        if (o.threads) {
            par.threads = *o.threads;
            s.threads_from[i] = {origin::environment, std::string(threads_variable)};
        }
        s.chunk_from[i] = {origin::built_in, ""};
        if (tuned && tuned->chunk_bytes != 0) {
            par.chunk_bytes = tuned->chunk_bytes;
            s.chunk_from[i] = {origin::profile, ""};
        }
    }
}

}  // namespace

std::span<const std::string_view> known_variables() noexcept { return known_names(); }

environment process_environment() {
    environment env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = entry.substr(0, eq);
        if (name.starts_with("CALIB64_") || name == "XDG_CONFIG_HOME" || name == "HOME")
            env.emplace(std::string(name), std::string(entry.substr(eq + 1)));
    }
    return env;
}

std::vector<threshold> topology_thresholds(operation op, const topology& host, kernel_id kernel) {
    // One usable CPU: a parallel backend can only add overhead.
    if (host.usable_cpus <= 1) return {};
    const double threads = host.usable_cpus;
    // (a) Where splitting pays for its overhead even at a low speed estimate: waking and
    // joining workers costs a few microseconds each plus a fixed part (VMs are at the
    // slow end, so this is generous); splitting n bytes over p threads saves
    // n/B * (1 - 1/p), which exceeds the overhead once n > overhead * B * p / (p - 1).
    const double overhead_ns = 10000.0 + 1000.0 * threads;
    const kernel_id k = kernel == kernel_id::automatic ? best_kernel() : kernel;
    const auto* row = calib64::detail::kernel_row_of(k);
    const double bytes_per_ns = row ? row->conservative_gb_per_s : 1.0;
    double pays = overhead_ns * bytes_per_ns * threads / (threads - 1);
    // (b) Where one core's L2 stops holding the call: input plus output is 7/3 of the
    // input for encode (4/3 out per byte in), 7/4 for decode (3/4 out per character in),
    // and serial slows down once that passes about three quarters of the L2, while p
    // threads still work from p L2s. Below it serial runs at in-cache speed, several
    // times the low estimate in (a), so going parallel there loses (the development
    // VM: work_stealing 37% slower than serial at 256 KiB, docs/profile.md).
    const double in_out = op == operation::encode ? 7.0 / 3.0 : 7.0 / 4.0;
    const double spills = 0.75 * static_cast<double>(host.l2_bytes) / in_out;
    if (op == operation::decode) pays *= 4.0 / 3.0;  // decode sizes count input characters
    // Parallel from the later of the two, rounded up to 16 KiB, within 64 KiB - 4 MiB.
    const auto from = static_cast<std::uint64_t>(std::max(pays, spills));
    const std::uint64_t rounded = (from + (16u << 10) - 1) / (16u << 10) * (16u << 10);
    // work_stealing from there on, also past the L3: with no measurement there is no
    // reliable crossover to pipeline, so the simpler backend stays (docs/profile.md).
    return {{std::clamp<std::uint64_t>(rounded, 64u << 10, 4u << 20), backend::work_stealing}};
}

profile topology_defaults_profile(const topology& host) {
    profile p = new_profile(host);
    p.made_by = std::string(made_by_topology_defaults);
    for (operation op : operations) {
        operation_profile& o = p.for_op(op);
        o.kernel = kernel_id::automatic;
        for (const threshold& t : topology_thresholds(op, host, kernel_id::automatic))
            o.switch_points.push_back({t.from_bytes, t.how, t.from_bytes, t.from_bytes,
                                       "topology default: derived from the host probe, not measured (docs/profile.md)"});
        for (const auto& row : calib64::detail::backend_rows)
            if (row.executor != nullptr) o.tuning.push_back({row.id, 0, 0});
    }
    return p;
}

resolved_settings settings_from(const candidate_set& candidates, const environment& env, const topology& host) {
    resolved_settings out;
    message_list say{out.messages};
    const overrides o = read_overrides(env, say);
    for (const std::string& m : candidates.messages) out.messages.push_back(m);
    profile_choice chosen = choose_profile(candidates, host, o.trust_foreign);
    for (std::string& m : chosen.messages) out.messages.push_back(std::move(m));
    out.profile_status = std::move(chosen.status);
    const profile* used = chosen.chosen ? &chosen.chosen->p : nullptr;
    const std::string source = chosen.chosen ? chosen.chosen->source : std::string();
    out.profile_path = source;
    out.host_id = host_id(host);
    out.host_class = class_words(summarize(host));
    out.usable_cpus = host.usable_cpus;
    out.usable_cpus_note = fmt::format("allowed {}{}", host.allowed_cpus,
                                       host.cpu_quota ? fmt::format(", cpu.max quota {:g}", *host.cpu_quota) : "");
    if (o.backend_set) out.backend_from = {origin::environment, std::string(backend_variable)};
    for (operation op : operations) {
        operation_settings& s = op == operation::encode ? out.encode : out.decode;
        const operation_profile* prof = used ? &used->for_op(op) : nullptr;
        s.forced = o.forced;
        resolve_kernel(s, prof, o, source, say, op);
        resolve_thresholds(s, op, prof, o, host);
        resolve_parallel(s, prof, o, host);
        s.finish();
    }
    return out;
}

resolved_settings settings_from(const profile* loaded, std::string_view source,
                                const std::vector<profile_error>& load_errors, const environment& env,
                                const topology& host) {
    candidate_set one;
    if (!load_errors.empty()) {
        std::string list;
        for (std::size_t i = 0; i < load_errors.size() && i < 3; ++i) list += (i ? "; " : "") + to_string(load_errors[i]);
        if (load_errors.size() > 3) list += fmt::format("; and {} more (calib64 profile check {})", load_errors.size() - 3, source);
        one.messages.push_back(fmt::format("profile {} rejected: {}", source, list));
        one.first_rejection = to_string(load_errors.front());
    } else if (loaded) {
        one.members.push_back({std::string(source), false, *loaded});
    }
    return settings_from(one, env, host);
}

std::vector<std::filesystem::path> profile_search_path(const environment& env) {
    std::vector<std::filesystem::path> paths;
    if (const auto p = value_of(env, profile_variable)) {
        paths.emplace_back(std::string(*p));
        return paths;  // an explicit choice: nothing else is considered
    }
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.has_parent_path()) {
        paths.push_back(exe.parent_path() / "calib64-profile.json");
        paths.push_back(exe.parent_path() / "calib64-profiles.json");
    }
    const auto xdg = value_of(env, "XDG_CONFIG_HOME");
    const auto home = value_of(env, "HOME");
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    std::filesystem::path config;
    if (xdg && xdg->front() == '/') config = std::filesystem::path(std::string(*xdg)) / "calib64";
    else if (home) config = std::filesystem::path(std::string(*home)) / ".config" / "calib64";
    if (!config.empty()) {
        paths.push_back(config / "profile.json");
        paths.push_back(config / "profiles.json");
    }
    return paths;
}

resolved_settings resolve_settings(const environment& env, const topology& host) {
    const bool explicit_path = value_of(env, profile_variable).has_value();
    candidate_set candidates;
    // Every file on the search path that exists offers its profiles; the choice then
    // prefers exact over same class over nearest, and search order breaks ties.
    for (const auto& path : profile_search_path(env)) {
        std::error_code ec;
        if (!explicit_path && !std::filesystem::exists(path, ec)) continue;
        // Name the variable when it chose the file: that is what the user has to fix.
        const std::string label = explicit_path ? fmt::format("{} ({})", path.string(), profile_variable) : path.string();
        gather_profiles(path, label, candidates);
    }
    return settings_from(candidates, env, host);
}

bool settings_overridden() {
    if (detail::settings_in_force.load(std::memory_order_acquire) != nullptr) return true;
    // Any CALIB64_* name, known or not: resolving is what warns about a misspelt one.
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        if (entry.starts_with("CALIB64_") && !entry.starts_with("CALIB64_TEST_")) return true;
    }
    return false;
}

bool settings_may_matter() {
    if (settings_overridden()) return true;
    const environment env = process_environment();
    for (const auto& path : profile_search_path(env)) {
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) return true;
    }
    return false;
}

// ---------------------------------------------------------------- process-wide settings

namespace detail {
std::atomic<const resolved_settings*> settings_in_force{nullptr};
}

namespace {

// Every settings object ever published, kept reachable from here: a reset or a swap
// forgets the pointer in force, and a leak checker would otherwise report the
// deliberately kept object. Lock-free, so a fork or a signal never waits on it.
struct kept_settings {
    const resolved_settings* settings;
    const kept_settings* older;
};
std::atomic<const kept_settings*> all_published{nullptr};

void keep(const resolved_settings* s) noexcept {
    auto* node = new (std::nothrow) kept_settings{s, all_published.load(std::memory_order_relaxed)};
    if (node == nullptr) return;  // only a leak report is lost
    while (!all_published.compare_exchange_weak(node->older, node, std::memory_order_release,
                                                std::memory_order_relaxed)) {
    }
}

}  // namespace

// Settings once in force are deliberately never freed: a reader may hold an old
// reference (calibration and tests swap settings), and static destructors of the
// application may call encode_auto after ours have run.
const resolved_settings& detail::resolve_settings_once() noexcept {
    // Serial everywhere: what runs if even resolving fails (out of memory). Built in
    // static storage (empty containers allocate nothing) and never destroyed.
    alignas(resolved_settings) static unsigned char serial_storage[sizeof(resolved_settings)];
    static const resolved_settings* serial_only = new (serial_storage) resolved_settings{};
    try {
        // Resolved with no lock held: reading files, loading hwloc and the application's
        // message sink may be slow, and a fork meanwhile must not leave the child waiting
        // on a lock. Threads that arrive together may each resolve; the first to publish
        // wins, and only its messages are sent.
        const auto* mine = new resolved_settings(resolve_settings(process_environment(), host_topology()));
        const resolved_settings* expected = nullptr;
        if (settings_in_force.compare_exchange_strong(expected, mine, std::memory_order_acq_rel,
                                                      std::memory_order_acquire)) {
            keep(mine);
            for (const std::string& m : mine->messages) send_message(m);
            return *mine;
        }
        delete mine;  // never published: nobody else has seen it
        return *expected;
    } catch (...) {
        return *serial_only;
    }
}

void reset_settings_in_force() { detail::settings_in_force.store(nullptr, std::memory_order_release); }

void put_in_force(resolved_settings s) {
    s.encode.finish();
    s.decode.finish();
    const auto* published = new resolved_settings(std::move(s));
    keep(published);
    detail::settings_in_force.store(published, std::memory_order_release);
}

// ---------------------------------------------------------------- show and check

std::vector<setting_row> describe_settings(const resolved_settings& s) {
    std::vector<setting_row> rows;
    rows.push_back({"profile", s.profile_path.empty() ? "(none)" : s.profile_path,
                    s.profile_path.empty() ? origin::built_in : origin::profile, s.profile_status});
    rows.push_back({"host", s.host_id, origin::topology, s.host_class});
    rows.push_back({"usable_cpus", std::to_string(s.usable_cpus), origin::topology, s.usable_cpus_note});
    rows.push_back({"backend", s.encode.forced ? std::string(backend_name(*s.encode.forced)) : "auto", s.backend_from.from,
                    s.backend_from.note});
    for (operation op : operations) {
        const operation_settings& o = s.for_op(op);
        const std::string opname(operation_name(op));
        const kernel_id effective = o.kernel == kernel_id::automatic ? best_kernel() : o.kernel;
        rows.push_back({opname + ".kernel",
                        std::string(kernel_name(effective)) + (o.kernel == kernel_id::automatic ? " (auto)" : ""),
                        o.kernel_from.from, o.kernel_from.note});
        for (const auto& row : calib64::detail::backend_rows) {
            const std::size_t i = calib64::detail::backend_index(row.id);
            bool listed = false;
            for (const threshold& t : o.thresholds) {
                if (t.how != row.id) continue;
                listed = true;
                rows.push_back({fmt::format("{}.{}.from", opname, row.name), common::format_size_exact(t.from_bytes),
                                o.thresholds_from[i].from, o.thresholds_from[i].note});
            }
            if (!listed && row.executor != nullptr)
                rows.push_back({fmt::format("{}.{}.from", opname, row.name), "never", o.thresholds_from[i].from,
                                o.thresholds_from[i].note});
        }
        for (const auto& row : calib64::detail::backend_rows) {
            if (row.executor == nullptr) continue;
            const std::size_t i = calib64::detail::backend_index(row.id);
            rows.push_back({fmt::format("{}.{}.threads", opname, row.name), std::to_string(o.par[i].threads),
                            o.threads_from[i].from, o.threads_from[i].note});
            rows.push_back({fmt::format("{}.{}.chunk_bytes", opname, row.name),
                            o.par[i].chunk_bytes ? common::format_size_exact(o.par[i].chunk_bytes) : "backend default",
                            o.chunk_from[i].from, o.chunk_from[i].note});
        }
    }
    return rows;
}

std::string format_settings(const resolved_settings& s) {
    const std::vector<setting_row> rows = describe_settings(s);
    std::size_t name_width = 0, value_width = 0;
    for (const auto& r : rows) {
        name_width = std::max(name_width, r.name.size());
        value_width = std::max(value_width, r.value.size());
    }
    std::string text;
    for (const auto& r : rows) {
        text += fmt::format("{:<{}}  {:<{}}  {}", r.name, name_width, r.value, value_width, origin_name(r.from));
        if (!r.note.empty()) text += " (" + r.note + ")";
        text += "\n";
    }
    return text;
}

namespace {

// Notes about one readable profile on this host: how its host compares, and kernels.
// `in_collection`: a bundle or folder member, which may stand in as the nearest class.
void note_profile(const profile& p, std::string_view prefix, bool in_collection, const topology& host,
                  std::vector<std::string>& notes) {
    const host_summary here = summarize(host);
    const host_comparison cmp = compare_hosts(p.host, here);
    std::string differences;
    for (const auto& d : cmp.differences) differences += (differences.empty() ? "" : "; ") + d;
    if (cmp.level == host_match::same_class) {
        notes.push_back(fmt::format("{}same class as this host ({}): encode_auto here would use it; differs only in {}", prefix,
                                    host_id(host), differences));
    } else if (cmp.level == host_match::foreign) {
        const bool near = cmp.distance <= nearest_class_limit && kernels_runnable_here(p, here);
        const std::string use =
            !in_collection ? fmt::format("encode_auto here would ignore it unless {}=1", trust_variable)
            : near ? fmt::format("in a bundle or folder it may stand in as the nearest class (distance {:.2f})", cmp.distance)
                   : fmt::format("too far to stand in as the nearest class ({})",
                                 kernels_runnable_here(p, here) ? fmt::format("distance {:.2f} > {:g}", cmp.distance, nearest_class_limit)
                                                                : std::string("a kernel this CPU lacks"));
        notes.push_back(fmt::format("{}measured on another host ({}, fingerprint {}; class differs in: {}); this host is {} "
                                    "({}): {}",
                                    prefix, p.host.host_id, p.host.fingerprint, differences, host_id(host), fingerprint(host),
                                    use));
    }
    if (p.made_by == made_by_topology_defaults)
        notes.push_back(fmt::format("{}made by `calib64 profile defaults`: derived from the host probe, not measured", prefix));
    for (operation op : operations) {
        const kernel_id k = p.for_op(op).kernel;
        if (k != kernel_id::automatic && !kernel_available(k))
            notes.push_back(fmt::format("{}{} kernel {} cannot run on this CPU or build; the best available would be used",
                                        prefix, operation_name(op), kernel_name(k)));
    }
}

void check_one_file(const std::filesystem::path& path, std::string_view prefix, bool in_folder, const topology& host,
                    profile_check& check, unsigned& members) {
    const profiles_result r = load_profiles_file(path, profile_parts::everything);
    for (const auto& e : r.errors) check.errors.push_back({fmt::format("{}{}", prefix, e.path), e.why});
    for (const member_problem& m : r.skipped)
        for (const auto& e : m.errors) check.errors.push_back({fmt::format("{}member {}: {}", prefix, m.name, e.path), e.why});
    if (!r.value) return;
    if (r.is_bundle && check.kind == "profile") check.kind = "bundle";
    for (const bundle_member& m : r.value->members) {
        ++members;
        note_profile(m.p, r.is_bundle ? fmt::format("{}member {}: ", prefix, m.name) : std::string(prefix),
                     r.is_bundle || in_folder, host, check.notes);
    }
}

}  // namespace

profile_check check_profile_file(const std::filesystem::path& path) {
    profile_check check;
    const topology& host = host_topology();
    unsigned members = 0;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        check.kind = "folder";
        std::string problem;
        const auto files = find_profile_files(path, &problem);  // the same search the runtime does
        if (!problem.empty()) check.notes.push_back(problem);
        if (files.empty()) check.errors.push_back({"", fmt::format("no profile.json under {}", path.string())});
        for (const auto& f : files) check_one_file(f, f.string() + ": ", true, host, check, members);
    } else {
        check_one_file(path, "", false, host, check, members);
    }
    check.members = members;
    if (check.kind != "profile") {
        candidate_set set;
        gather_profiles(path, path.string(), set);
        check.choice_here = choose_profile(set, host, false).status;
    }
    return check;
}

}  // namespace calib64::runtime
