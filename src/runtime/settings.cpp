// Settings resolution: profile -> fingerprint check -> environment overrides ->
// topology defaults. Policy lives here; encoder/ only runs what it is told.
#include "runtime/settings.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <system_error>

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

constexpr std::string_view known_names[] = {
    "CALIB64_PROFILE",
    "CALIB64_TRUST_PROFILE",
    "CALIB64_BACKEND",
    "CALIB64_KERNEL",
    "CALIB64_THREADS",
    "CALIB64_ENCODE_WORK_STEALING_FROM",
    "CALIB64_ENCODE_PIPELINE_FROM",
    "CALIB64_DECODE_WORK_STEALING_FROM",
    "CALIB64_DECODE_PIPELINE_FROM",
};

constexpr backend parallel_backends[] = {backend::work_stealing, backend::pipeline};

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

const std::string* lookup(const environment& env, std::string_view name) {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
}

std::string threshold_variable(operation op, backend how) {
    return "CALIB64_" + upper(operation_name(op)) + "_" + upper(backend_name(how)) + "_FROM";
}

// Serial throughput of a kernel in bytes per nanosecond (= GB/s), deliberately on
// the low side of what these kernels reach in cache: a low estimate moves the
// parallel threshold down, where the cost of a wrong guess is small (see docs).
double serial_bytes_per_ns(kernel_id k) {
    switch (k) {
        case kernel_id::avx512: return 8.0;
        case kernel_id::avx2: return 4.0;
        case kernel_id::neon: return 3.0;
        default: return 1.0;
    }
}

std::uint64_t round_up_pow2(std::uint64_t v) {
    std::uint64_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

}  // namespace

std::span<const std::string_view> known_variables() noexcept { return known_names; }

environment process_environment() {
    environment env;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = entry.substr(0, eq);
        if (name.rfind("CALIB64_", 0) == 0 || name == "XDG_CONFIG_HOME" || name == "HOME")
            env.emplace(std::string(name), std::string(entry.substr(eq + 1)));
    }
    return env;
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<std::uint64_t> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (error) error->clear();
    const std::string_view s = trim(text);
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        value = value * 10 + (s[i++] - '0');
        digits = true;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        long double scale = 0.1L;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            value += (s[i++] - '0') * scale;
            scale /= 10;
            digits = true;
        }
    }
    if (!digits) return fail(s.empty() ? "empty; expected a size such as 4096, 64KiB or 20MB" : "does not start with a number");
    const std::string unit = lower(trim(s.substr(i)));
    static constexpr struct {
        const char* name;
        long double factor;
    } units[] = {{"", 1},           {"b", 1},
                 {"kb", 1e3L},      {"mb", 1e6L},          {"gb", 1e9L},           {"tb", 1e12L},
                 {"kib", 1024.0L},  {"mib", 1048576.0L},   {"gib", 1073741824.0L}, {"tib", 1099511627776.0L}};
    const auto* u = std::find_if(std::begin(units), std::end(units), [&](const auto& x) { return unit == x.name; });
    if (u == std::end(units))
        return fail("unknown unit \"" + std::string(trim(s.substr(i))) + "\"; use B, kB, MB, GB, KiB, MiB or GiB");
    const long double bytes = std::floor(value * u->factor);
    if (bytes > static_cast<long double>(max_sane_bytes)) return fail("larger than 1 TiB; not a plausible size");
    return static_cast<std::uint64_t>(bytes);
}

std::string format_size(std::uint64_t bytes) {
    static constexpr const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    std::uint64_t v = bytes;
    while (unit < 4 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        ++unit;
    }
    if (unit > 0 || bytes < 1024) return std::to_string(v) + " " + names[unit];
    // Not an exact binary multiple: one decimal in the largest unit that fits.
    double d = static_cast<double>(bytes);
    unit = 0;
    while (unit < 4 && d >= 1024) {
        d /= 1024;
        ++unit;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f %s (%llu B)", d, names[unit], static_cast<unsigned long long>(bytes));
    return buf;
}

std::vector<threshold> topology_thresholds(operation op, const topology& host, kernel_id kernel) {
    // One usable CPU: a parallel backend can only add overhead.
    if (host.usable_cpus <= 1) return {};
    const double threads = host.usable_cpus;
    // Cost of going parallel once: waking workers and joining them, a few microseconds
    // each plus a fixed part; VMs are at the slow end, so this is generous.
    const double overhead_ns = 10000.0 + 1000.0 * threads;
    const kernel_id k = kernel == kernel_id::automatic ? best_kernel() : kernel;
    // Splitting n bytes over p threads saves n/B * (1 - 1/p); it pays once that
    // exceeds the overhead: n > overhead * B * p / (p - 1).
    double bytes = overhead_ns * serial_bytes_per_ns(k) * threads / (threads - 1);
    if (op == operation::decode) bytes *= 4.0 / 3.0;  // decode sizes count input characters
    const std::uint64_t from = std::clamp<std::uint64_t>(round_up_pow2(static_cast<std::uint64_t>(bytes)),
                                                         64u << 10, 4u << 20);
    // work_stealing from there on, also past the L3: with no measurement there is no
    // reliable crossover to pipeline, so the simpler backend stays (docs/profile.md).
    return {{from, backend::work_stealing}};
}

resolved_settings settings_from(const profile* loaded, std::string_view source,
                                const std::vector<profile_error>& load_errors, const environment& env,
                                const topology& host) {
    resolved_settings out;
    auto message = [&](std::string m) { out.messages.push_back(std::move(m)); };
    auto bad_variable = [&](std::string_view name, std::string_view value, std::string_view why) {
        message(std::string(name) + "=\"" + std::string(value) + "\" ignored: " + std::string(why));
    };

    // Variables nobody reads are most likely typos; saying so beats silently ignoring them.
    for (const auto& [name, value] : env) {
        if (name.rfind("CALIB64_", 0) != 0 || name.rfind("CALIB64_TEST_", 0) == 0) continue;
        if (std::find(std::begin(known_names), std::end(known_names), name) == std::end(known_names))
            message(name + " is not a variable calib64 reads (see docs/profile.md); ignored");
    }

    // ---- the profile, if trusted
    std::string profile_note;
    if (!load_errors.empty()) {
        std::string list;
        for (std::size_t i = 0; i < load_errors.size() && i < 3; ++i)
            list += (i ? "; " : "") + to_string(load_errors[i]);
        if (load_errors.size() > 3)
            list += "; and " + std::to_string(load_errors.size() - 3) + " more (calib64 profile check " +
                    std::string(source) + ")";
        message("profile " + std::string(source) + " rejected: " + list + "; using topology defaults");
        out.profile_status = "rejected: " + to_string(load_errors.front());
        loaded = nullptr;
    }
    bool trust_foreign = false;
    if (const std::string* t = lookup(env, "CALIB64_TRUST_PROFILE")) {
        if (*t == "1") trust_foreign = true;
        else if (!t->empty() && *t != "0") bad_variable("CALIB64_TRUST_PROFILE", *t, "expected 1 or 0");
    }
    if (loaded) {
        const std::string here = fingerprint(host);
        if (loaded->host.fingerprint != here) {
            const std::string what = "profile " + std::string(source) + " was measured on another host (" +
                                     loaded->host.host_id + ", fingerprint " + loaded->host.fingerprint +
                                     "; this host is " + host_id(host) + ", " + here + ")";
            if (trust_foreign) {
                out.profile_status = "loaded from " + std::string(source) + " (foreign host, trusted by CALIB64_TRUST_PROFILE=1)";
            } else {
                message(what + "; not trusted, using topology defaults. Recalibrate with `calib64 calibrate`, "
                               "or set CALIB64_TRUST_PROFILE=1 to use it anyway");
                out.profile_status = "not trusted: measured on another host (" + loaded->host.host_id + ")";
                loaded = nullptr;
            }
        } else {
            out.profile_status = "loaded from " + std::string(source);
        }
        if (loaded) out.profile_path = std::string(source);
    } else if (load_errors.empty()) {
        out.profile_status = "none found; using topology defaults";
    }
    out.rows.push_back({"profile", out.profile_path.empty() ? "(none)" : out.profile_path,
                        out.profile_path.empty() ? origin::built_in : origin::profile, out.profile_status});
    out.rows.push_back({"usable_cpus", std::to_string(host.usable_cpus), origin::topology,
                        "allowed " + std::to_string(host.allowed_cpus) +
                            (host.cpu_quota ? ", cpu.max quota " + std::to_string(*host.cpu_quota) : std::string())});

    // ---- environment values that apply to both operations, parsed once
    std::optional<backend> forced;
    origin forced_from = origin::built_in;
    if (const std::string* b = lookup(env, "CALIB64_BACKEND"); b && !b->empty()) {
        if (*b == "auto") {
            forced_from = origin::environment;
        } else if (const auto how = backend_from_name(*b)) {
            forced = *how;
            forced_from = origin::environment;
        } else {
            bad_variable("CALIB64_BACKEND", *b, "expected serial, work_stealing, pipeline or auto");
        }
    }
    std::optional<kernel_id> env_kernel;
    if (const std::string* k = lookup(env, "CALIB64_KERNEL"); k && !k->empty()) {
        const kernel_lookup found = find_kernel(*k);
        if (found.ok()) env_kernel = found.id;
        else bad_variable("CALIB64_KERNEL", *k, found.reason.empty() ? "unknown kernel" : found.reason);
    }
    std::optional<unsigned> env_threads;
    if (const std::string* t = lookup(env, "CALIB64_THREADS"); t && !t->empty()) {
        unsigned long n = 0;
        const std::string v(trim(*t));
        const bool digits = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits && v.size() <= 6) n = std::stoul(v);
        if (!digits || n == 0 || n > max_sane_threads)
            bad_variable("CALIB64_THREADS", *t, "expected a whole number from 1 to " + std::to_string(max_sane_threads));
        else
            env_threads = static_cast<unsigned>(n);
    }
    out.rows.push_back({"backend", forced ? std::string(backend_name(*forced)) : "auto", forced_from,
                        forced_from == origin::environment ? "CALIB64_BACKEND" : ""});

    for (operation op : {operation::encode, operation::decode}) {
        operation_settings& s = op == operation::encode ? out.encode : out.decode;
        const std::string opname(operation_name(op));
        const operation_profile* prof = loaded ? &loaded->for_op(op) : nullptr;
        s.forced = forced;

        // kernel
        origin kernel_from = origin::topology;
        std::string kernel_note = "best this CPU runs";
        if (prof) {
            if (prof->kernel == kernel_id::automatic || kernel_available(prof->kernel)) {
                s.kernel = prof->kernel;
                kernel_from = origin::profile;
                kernel_note.clear();
            } else {
                message("profile " + std::string(source) + " chooses kernel " + std::string(kernel_name(prof->kernel)) +
                        " for " + opname + ", which this CPU or build cannot run; using the best available");
            }
        }
        if (env_kernel) {
            s.kernel = *env_kernel;
            kernel_from = origin::environment;
            kernel_note = "CALIB64_KERNEL";
        }
        const kernel_id effective = s.kernel == kernel_id::automatic ? best_kernel() : s.kernel;
        out.rows.push_back({opname + ".kernel",
                            std::string(kernel_name(effective)) + (s.kernel == kernel_id::automatic ? " (auto)" : ""),
                            kernel_from, kernel_note});

        // thresholds: the profile's, or the topology's, then per-variable overrides
        origin base_from = origin::topology;
        if (prof) {
            base_from = origin::profile;
            for (const switch_point& p : prof->switch_points) s.thresholds.push_back({p.from_bytes, p.how});
            if (host.usable_cpus <= 1) {
                // Same machine, but this process may use one CPU (taskset, cgroup).
                std::erase_if(s.thresholds, [](const threshold& t) { return t.how != backend::serial; });
                base_from = origin::topology;
            }
        } else {
            s.thresholds = topology_thresholds(op, host, effective);
        }
        origin from_origin[3] = {base_from, base_from, base_from};
        std::string from_note[3];
        for (backend how : parallel_backends) {
            const std::string name = threshold_variable(op, how);
            const std::string* v = lookup(env, name);
            if (!v || v->empty()) continue;
            std::optional<std::uint64_t> from;
            const std::string word = lower(trim(*v));
            if (word != "off" && word != "never") {
                std::string why;
                from = parse_size(*v, &why);
                if (!from) {
                    bad_variable(name, *v, why + " (or off)");
                    continue;
                }
            }
            std::erase_if(s.thresholds, [&](const threshold& t) { return t.how == how || (from && t.from_bytes == *from); });
            if (from) s.thresholds.push_back({*from, how});
            std::stable_sort(s.thresholds.begin(), s.thresholds.end(),
                             [](const threshold& a, const threshold& b) { return a.from_bytes < b.from_bytes; });
            from_origin[static_cast<std::size_t>(how)] = origin::environment;
            from_note[static_cast<std::size_t>(how)] = name;
        }
        for (backend how : {backend::serial, backend::work_stealing, backend::pipeline}) {
            const auto i = static_cast<std::size_t>(how);
            bool listed = false;
            for (const threshold& t : s.thresholds) {
                if (t.how != how) continue;
                listed = true;
                out.rows.push_back({opname + "." + std::string(backend_name(how)) + ".from", format_size(t.from_bytes),
                                    from_origin[i], from_note[i]});
            }
            if (!listed && how != backend::serial)
                out.rows.push_back({opname + "." + std::string(backend_name(how)) + ".from", "never", from_origin[i],
                                    from_note[i].empty() && base_from == origin::topology && host.usable_cpus <= 1
                                        ? "one usable CPU"
                                        : from_note[i]});
        }

        // threads and chunk sizes per parallel backend
        for (backend how : parallel_backends) {
            parallel_options& par = s.par[static_cast<std::size_t>(how)];
            const std::string prefix = opname + "." + std::string(backend_name(how));
            const backend_tuning* tuned = prof ? prof->tuning_for(how) : nullptr;
            origin threads_from = origin::topology;
            std::string threads_note = "usable CPUs";
            par.threads = host.usable_cpus;
            if (tuned && tuned->threads != 0) {
                par.threads = tuned->threads;
                threads_from = origin::profile;
                threads_note.clear();
                if (par.threads > host.usable_cpus) {
                    // Measured with more CPUs than this process may use now.
                    par.threads = host.usable_cpus;
                    threads_from = origin::topology;
                    threads_note = "profile's " + std::to_string(tuned->threads) + " capped to usable CPUs";
                }
            }
            if (env_threads) {
                par.threads = *env_threads;
                threads_from = origin::environment;
                threads_note = "CALIB64_THREADS";
            }
            out.rows.push_back({prefix + ".threads", std::to_string(par.threads), threads_from, threads_note});
            if (tuned && tuned->chunk_bytes != 0) {
                par.chunk_bytes = tuned->chunk_bytes;
                out.rows.push_back({prefix + ".chunk_bytes", format_size(par.chunk_bytes), origin::profile, ""});
            } else {
                out.rows.push_back({prefix + ".chunk_bytes", "backend default", origin::built_in, ""});
            }
        }
        s.finish();
    }
    return out;
}

std::vector<std::filesystem::path> profile_search_path(const environment& env) {
    std::vector<std::filesystem::path> paths;
    if (const std::string* p = lookup(env, "CALIB64_PROFILE"); p && !p->empty()) {
        paths.emplace_back(*p);
        return paths;  // an explicit choice: nothing else is considered
    }
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.has_parent_path()) paths.push_back(exe.parent_path() / "calib64-profile.json");
    const std::string* xdg = lookup(env, "XDG_CONFIG_HOME");
    const std::string* home = lookup(env, "HOME");
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if (xdg && !xdg->empty() && (*xdg)[0] == '/') paths.push_back(std::filesystem::path(*xdg) / "calib64" / "profile.json");
    else if (home && !home->empty()) paths.push_back(std::filesystem::path(*home) / ".config" / "calib64" / "profile.json");
    return paths;
}

resolved_settings resolve_settings(const environment& env, const topology& host) {
    const bool explicit_path = lookup(env, "CALIB64_PROFILE") && !lookup(env, "CALIB64_PROFILE")->empty();
    for (const auto& path : profile_search_path(env)) {
        std::error_code ec;
        if (!explicit_path && !std::filesystem::exists(path, ec)) continue;
        // Name the variable when it chose the file: that is what the user has to fix.
        const std::string source = explicit_path ? path.string() + " (CALIB64_PROFILE)" : path.string();
        const profile_result loaded = load_profile(path);
        return settings_from(loaded.value ? &*loaded.value : nullptr, source, loaded.errors, env, host);
    }
    return settings_from(nullptr, "", {}, env, host);
}

// ---------------------------------------------------------------- process-wide settings

namespace detail {
std::atomic<const resolved_settings*> settings_in_force{nullptr};
}

namespace {

std::mutex& settings_mutex() {
    static std::mutex m;
    return m;
}

// Every settings object ever published, kept so a reader holding an old reference
// (tests swap settings) never sees it freed.
std::vector<std::unique_ptr<const resolved_settings>>& published() {
    static std::vector<std::unique_ptr<const resolved_settings>> all;
    return all;
}

void publish(resolved_settings s) {
    auto owned = std::make_unique<const resolved_settings>(std::move(s));
    detail::settings_in_force.store(owned.get(), std::memory_order_release);
    published().push_back(std::move(owned));
}

}  // namespace

const resolved_settings& detail::resolve_settings_once() noexcept {
    // Serial everywhere: what runs if even resolving fails (out of memory).
    static const resolved_settings serial_only{};
    try {
        std::lock_guard lock(settings_mutex());
        if (const resolved_settings* s = settings_in_force.load(std::memory_order_acquire)) return *s;
        resolved_settings s = resolve_settings(process_environment(), host_topology());
        for (const std::string& m : s.messages) std::fprintf(stderr, "calib64: %s\n", m.c_str());
        publish(std::move(s));
        return *settings_in_force.load(std::memory_order_acquire);
    } catch (...) {
        return serial_only;
    }
}

void reset_settings_for_testing() {
    std::lock_guard lock(settings_mutex());
    detail::settings_in_force.store(nullptr, std::memory_order_release);
}

void install_settings_for_testing(resolved_settings s) {
    s.encode.finish();
    s.decode.finish();
    std::lock_guard lock(settings_mutex());
    publish(std::move(s));
}

// ---------------------------------------------------------------- show and check

std::string format_settings(const resolved_settings& s) {
    std::size_t name_width = 0, value_width = 0;
    for (const auto& r : s.rows) {
        name_width = std::max(name_width, r.name.size());
        value_width = std::max(value_width, r.value.size());
    }
    std::string text;
    for (const auto& r : s.rows) {
        std::string line = r.name;
        line.resize(name_width + 2, ' ');
        line += r.value;
        line.resize(name_width + 2 + value_width + 2, ' ');
        line += origin_name(r.from);
        if (!r.note.empty()) line += " (" + r.note + ")";
        text += line + "\n";
    }
    return text;
}

profile_check check_profile_file(const std::filesystem::path& path) {
    profile_check check;
    profile_result loaded = load_profile(path);
    check.errors = std::move(loaded.errors);
    if (!loaded.value) return check;
    const profile& p = *loaded.value;
    const topology& host = host_topology();
    if (p.host.fingerprint != fingerprint(host))
        check.notes.push_back("measured on another host (" + p.host.host_id + ", fingerprint " + p.host.fingerprint +
                              "); this host is " + host_id(host) + " (" + fingerprint(host) +
                              "): encode_auto here would ignore it unless CALIB64_TRUST_PROFILE=1");
    for (operation op : {operation::encode, operation::decode}) {
        const kernel_id k = p.for_op(op).kernel;
        if (k != kernel_id::automatic && !kernel_available(k))
            check.notes.push_back(std::string(operation_name(op)) + " kernel " + std::string(kernel_name(k)) +
                                  " cannot run on this CPU or build; the best available would be used");
    }
    return check;
}

}  // namespace calib64::runtime
