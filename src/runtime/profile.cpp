// The profile's JSON form. Reading collects every problem (with its JSON pointer)
// instead of stopping at the first, so `calib64 profile check` can list them all.
#include "runtime/profile.h"

#include "runtime/version.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

namespace calib64::runtime {

std::string_view operation_name(operation op) noexcept {
    return op == operation::encode ? "encode" : "decode";
}

std::optional<operation> operation_from_name(std::string_view name) noexcept {
    if (name == "encode") return operation::encode;
    if (name == "decode") return operation::decode;
    return std::nullopt;
}

std::optional<backend> backend_from_name(std::string_view name) noexcept {
    for (backend b : {backend::serial, backend::work_stealing, backend::pipeline})
        if (name == backend_name(b)) return b;
    return std::nullopt;
}

std::optional<kernel_id> kernel_from_name(std::string_view name) noexcept {
    for (kernel_id k : {kernel_id::automatic, kernel_id::scalar, kernel_id::avx2, kernel_id::avx512, kernel_id::neon})
        if (name == kernel_name(k)) return k;
    return std::nullopt;
}

const backend_tuning* operation_profile::tuning_for(backend how) const noexcept {
    for (const auto& t : tuning)
        if (t.how == how) return &t;
    return nullptr;
}

host_summary summarize(const topology& t) {
    host_summary h;
    h.fingerprint = fingerprint(t);
    h.host_id = host_id(t);
    h.cpu_vendor = t.cpu_vendor;
    h.cpu_model = t.cpu_model;
    h.packages = t.packages;
    h.cores = t.cores;
    h.pus = t.pus;
    h.numa_nodes = t.numa_nodes;
    h.l3_count = t.l3_count;
    h.cores_per_l3 = t.cores_per_l3;
    h.cpukinds = t.cpukinds;
    h.allowed_cpus = t.allowed_cpus;
    h.cpu_quota = t.cpu_quota;
    h.l1d_bytes = t.l1d_bytes;
    h.l2_bytes = t.l2_bytes;
    h.l3_bytes = t.l3_bytes;
    h.simd_kernels = t.simd_kernels;
    return h;
}

std::string utc_now_iso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

profile new_profile(const topology& t) {
    profile p;
    p.tool_version = calib64_version;
    p.created_utc = utc_now_iso8601();
    p.host = summarize(t);
    return p;
}

std::string to_string(const profile_error& e) {
    return (e.path.empty() ? std::string("(document)") : e.path) + ": " + e.why;
}

// ---------------------------------------------------------------- writing

namespace {

template <class Json>
Json build_json(const profile& p) {
    auto op_json = [](const operation_profile& o) {
        Json points = Json::array();
        for (const auto& s : o.switch_points)
            points.push_back(Json{{"from_bytes", s.from_bytes},
                                  {"backend", std::string(backend_name(s.how))},
                                  {"ci_low_bytes", s.ci_low_bytes},
                                  {"ci_high_bytes", s.ci_high_bytes},
                                  {"reason", s.reason}});
        Json tuning = Json::object();
        for (const auto& t : o.tuning)
            tuning[std::string(backend_name(t.how))] = Json{{"threads", t.threads}, {"chunk_bytes", t.chunk_bytes}};
        return Json{{"kernel", std::string(kernel_name(o.kernel))}, {"switch_points", points}, {"tuning", tuning}};
    };
    const host_summary& h = p.host;
    Json host{{"fingerprint", h.fingerprint},
              {"host_id", h.host_id},
              {"cpu_vendor", h.cpu_vendor},
              {"cpu_model", h.cpu_model},
              {"packages", h.packages},
              {"cores", h.cores},
              {"pus", h.pus},
              {"numa_nodes", h.numa_nodes},
              {"l1d_bytes", h.l1d_bytes},
              {"l2_bytes", h.l2_bytes},
              {"l3_bytes", h.l3_bytes},
              {"l3_count", h.l3_count},
              {"cores_per_l3", h.cores_per_l3},
              {"cpukinds", h.cpukinds},
              {"allowed_cpus", h.allowed_cpus},
              {"cpu_quota", h.cpu_quota ? Json(*h.cpu_quota) : Json(nullptr)},
              {"simd_kernels", h.simd_kernels}};
    Json validation = Json::array();
    for (const auto& v : p.validation) {
        Json per_backend = Json::object();
        for (const auto& [name, mbps] : v.backend_mb_per_s) per_backend[name] = mbps;
        validation.push_back(Json{{"operation", std::string(operation_name(v.op))},
                                  {"size_bytes", v.size_bytes},
                                  {"auto_mb_per_s", v.auto_mb_per_s},
                                  {"mb_per_s", per_backend},
                                  {"auto_over_best", v.auto_over_best}});
    }
    Json curves = Json::array();
    for (const auto& c : p.curves) {
        Json points = Json::array();
        for (const auto& pt : c.points)
            points.push_back(Json{{"size_bytes", pt.size_bytes},
                                  {"median_mb_per_s", pt.median_mb_per_s},
                                  {"ci_low_mb_per_s", pt.ci_low_mb_per_s},
                                  {"ci_high_mb_per_s", pt.ci_high_mb_per_s}});
        curves.push_back(Json{{"operation", c.op}, {"series", c.series}, {"points", points}});
    }
    Json stability = Json::array();
    for (const auto& s : p.stability)
        stability.push_back(Json{{"operation", s.op},
                                 {"series", s.series},
                                 {"size_bytes", s.size_bytes},
                                 {"kind", s.kind},
                                 {"detail", s.detail}});
    return Json{{"schema_version", p.schema_version},
                {"tool_version", p.tool_version},
                {"created_utc", p.created_utc},
                {"host", host},
                {"encode", op_json(p.encode)},
                {"decode", op_json(p.decode)},
                {"validation", validation},
                {"curves", curves},
                {"stability", stability}};
}

}  // namespace

nlohmann::json to_json(const profile& p) { return build_json<nlohmann::json>(p); }

std::string to_json_text(const profile& p) {
    // ordered_json keeps the field order above, which reads better than sorted keys.
    // Non-UTF-8 strings (a strange CPU model) are replaced rather than thrown on.
    return build_json<nlohmann::ordered_json>(p).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// ---------------------------------------------------------------- validation

std::vector<profile_error> validate_profile(const profile& p) {
    std::vector<profile_error> errors;
    auto err = [&](std::string path, std::string why) { errors.push_back({std::move(path), std::move(why)}); };
    auto check_bytes = [&](const std::string& path, std::uint64_t v) {
        if (v > max_sane_bytes) err(path, std::to_string(v) + " is larger than 1 TiB; not a plausible size");
    };
    if (p.schema_version != current_schema_version)
        err("/schema_version", "is " + std::to_string(p.schema_version) + "; this build writes and reads " +
                                   std::to_string(current_schema_version));
    if (p.host.fingerprint.empty()) err("/host/fingerprint", "is empty");
    for (operation op : {operation::encode, operation::decode}) {
        const std::string base = "/" + std::string(operation_name(op));
        const operation_profile& o = p.for_op(op);
        for (std::size_t i = 0; i < o.switch_points.size(); ++i) {
            const switch_point& s = o.switch_points[i];
            const std::string at = base + "/switch_points/" + std::to_string(i);
            check_bytes(at + "/from_bytes", s.from_bytes);
            check_bytes(at + "/ci_low_bytes", s.ci_low_bytes);
            check_bytes(at + "/ci_high_bytes", s.ci_high_bytes);
            if (s.ci_low_bytes > s.ci_high_bytes)
                err(at, "ci_low_bytes " + std::to_string(s.ci_low_bytes) + " is above ci_high_bytes " +
                            std::to_string(s.ci_high_bytes));
            if (i > 0 && s.from_bytes <= o.switch_points[i - 1].from_bytes)
                err(at + "/from_bytes", "switch points must increase: " + std::to_string(s.from_bytes) +
                                            " does not exceed the previous " +
                                            std::to_string(o.switch_points[i - 1].from_bytes));
        }
        for (std::size_t i = 0; i < o.tuning.size(); ++i) {
            const backend_tuning& t = o.tuning[i];
            const std::string at = base + "/tuning/" + std::string(backend_name(t.how));
            if (t.threads > max_sane_threads)
                err(at + "/threads", std::to_string(t.threads) + " threads is more than " +
                                         std::to_string(max_sane_threads) + "; not plausible");
            check_bytes(at + "/chunk_bytes", t.chunk_bytes);
            for (std::size_t j = 0; j < i; ++j)
                if (o.tuning[j].how == t.how) err(at, "appears twice");
        }
    }
    auto check_rate = [&](const std::string& path, double v) {
        if (!std::isfinite(v) || v < 0) err(path, "must be a finite number >= 0");
    };
    for (std::size_t i = 0; i < p.validation.size(); ++i) {
        const auto& v = p.validation[i];
        const std::string at = "/validation/" + std::to_string(i);
        check_bytes(at + "/size_bytes", v.size_bytes);
        check_rate(at + "/auto_mb_per_s", v.auto_mb_per_s);
        check_rate(at + "/auto_over_best", v.auto_over_best);
        for (const auto& [name, mbps] : v.backend_mb_per_s) {
            if (!backend_from_name(name)) err(at + "/mb_per_s/" + name, "unknown backend \"" + name + "\"");
            check_rate(at + "/mb_per_s/" + name, mbps);
        }
    }
    for (std::size_t i = 0; i < p.curves.size(); ++i) {
        const auto& c = p.curves[i];
        const std::string at = "/curves/" + std::to_string(i);
        if (c.op != "encode" && c.op != "decode" && c.op != "memcpy")
            err(at + "/operation", "must be \"encode\", \"decode\" or \"memcpy\", not \"" + c.op + "\"");
        if (c.series.empty()) err(at + "/series", "is empty");
        for (std::size_t j = 0; j < c.points.size(); ++j) {
            const auto& pt = c.points[j];
            const std::string pat = at + "/points/" + std::to_string(j);
            check_bytes(pat + "/size_bytes", pt.size_bytes);
            check_rate(pat + "/median_mb_per_s", pt.median_mb_per_s);
            check_rate(pat + "/ci_low_mb_per_s", pt.ci_low_mb_per_s);
            check_rate(pat + "/ci_high_mb_per_s", pt.ci_high_mb_per_s);
        }
    }
    for (std::size_t i = 0; i < p.stability.size(); ++i)
        check_bytes("/stability/" + std::to_string(i) + "/size_bytes", p.stability[i].size_bytes);
    return errors;
}

// ---------------------------------------------------------------- reading

namespace {

using json = nlohmann::json;

std::string type_word(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::string: return "a string";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "an integer";
        case json::value_t::number_float: return "a fractional number";
        default: return "something else";
    }
}

// Reads typed fields out of JSON objects, recording an error for each one that is
// missing or malformed and leaving the target at its default.
class reader {
public:
    explicit reader(std::vector<profile_error>& errors) : errors_(errors) {}

    void error(std::string path, std::string why) { errors_.push_back({std::move(path), std::move(why)}); }

    // The member, or nullptr (with an error when required).
    const json* member(const json& obj, const std::string& path, const char* key, bool required) {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) error(path + "/" + key, "is missing");
            return nullptr;
        }
        return &*it;
    }

    bool expect(const json& v, const std::string& path, json::value_t type, const char* wanted) {
        const bool numeric_ok = type == json::value_t::number_float && v.is_number();
        if (v.type() == type || numeric_ok) return true;
        error(path, std::string("expected ") + wanted + ", got " + type_word(v));
        return false;
    }

    void read_string(const json& obj, const std::string& path, const char* key, std::string& out, bool required) {
        const json* v = member(obj, path, key, required);
        if (v && expect(*v, path + "/" + key, json::value_t::string, "a string")) out = v->get<std::string>();
    }

    void read_u64(const json& obj, const std::string& path, const char* key, std::uint64_t& out, bool required,
                  std::uint64_t max, const char* unit) {
        const json* v = member(obj, path, key, required);
        if (!v) return;
        const std::string at = path + "/" + key;
        if (v->is_number_integer() && !v->is_number_unsigned() && v->get<std::int64_t>() < 0) {
            error(at, std::to_string(v->get<std::int64_t>()) + " is negative; " + unit + " cannot be");
            return;
        }
        if (v->is_number_float()) {
            const double d = v->get<double>();
            error(at, d < 0 ? "is negative; " + std::string(unit) + " cannot be" : "expected a whole number, got a fraction");
            return;
        }
        if (!v->is_number_integer()) {  // signed or unsigned; negatives were refused above
            error(at, "expected a whole number, got " + type_word(*v));
            return;
        }
        const std::uint64_t n = v->get<std::uint64_t>();
        if (n > max) {
            error(at, std::to_string(n) + " is larger than " + std::to_string(max) + "; not plausible");
            return;
        }
        out = n;
    }

    void read_unsigned(const json& obj, const std::string& path, const char* key, unsigned& out, bool required,
                       unsigned max) {
        std::uint64_t n = out;
        read_u64(obj, path, key, n, required, max, "a count");
        out = static_cast<unsigned>(n);
    }

    void read_rate(const json& obj, const std::string& path, const char* key, double& out, bool required) {
        const json* v = member(obj, path, key, required);
        if (!v) return;
        const std::string at = path + "/" + key;
        if (!v->is_number()) {
            error(at, "expected a number, got " + type_word(*v));
            return;
        }
        const double d = v->get<double>();
        if (!std::isfinite(d) || d < 0) {
            error(at, "must be a finite number >= 0");
            return;
        }
        out = d;
    }

    const json* object(const json& obj, const std::string& path, const char* key, bool required) {
        const json* v = member(obj, path, key, required);
        if (v && !expect(*v, path + "/" + key, json::value_t::object, "an object")) return nullptr;
        return v;
    }

    const json* array(const json& obj, const std::string& path, const char* key, bool required) {
        const json* v = member(obj, path, key, required);
        if (v && !expect(*v, path + "/" + key, json::value_t::array, "an array")) return nullptr;
        return v;
    }

private:
    std::vector<profile_error>& errors_;
};

void read_host(reader& r, const json& h, host_summary& out) {
    const std::string at = "/host";
    r.read_string(h, at, "fingerprint", out.fingerprint, true);
    r.read_string(h, at, "host_id", out.host_id, false);
    r.read_string(h, at, "cpu_vendor", out.cpu_vendor, false);
    r.read_string(h, at, "cpu_model", out.cpu_model, false);
    const unsigned big = 1u << 20;
    r.read_unsigned(h, at, "packages", out.packages, false, big);
    r.read_unsigned(h, at, "cores", out.cores, false, big);
    r.read_unsigned(h, at, "pus", out.pus, false, big);
    r.read_unsigned(h, at, "numa_nodes", out.numa_nodes, false, big);
    r.read_unsigned(h, at, "l3_count", out.l3_count, false, big);
    r.read_unsigned(h, at, "cores_per_l3", out.cores_per_l3, false, big);
    r.read_unsigned(h, at, "cpukinds", out.cpukinds, false, big);
    r.read_unsigned(h, at, "allowed_cpus", out.allowed_cpus, false, big);
    r.read_u64(h, at, "l1d_bytes", out.l1d_bytes, false, max_sane_bytes, "a size");
    r.read_u64(h, at, "l2_bytes", out.l2_bytes, false, max_sane_bytes, "a size");
    r.read_u64(h, at, "l3_bytes", out.l3_bytes, false, max_sane_bytes, "a size");
    if (const json* q = r.member(h, at, "cpu_quota", false); q && !q->is_null()) {
        double quota = 0;
        r.read_rate(h, at, "cpu_quota", quota, false);
        out.cpu_quota = quota;
    }
    if (const json* k = r.array(h, at, "simd_kernels", false)) {
        for (std::size_t i = 0; i < k->size(); ++i) {
            const json& name = (*k)[i];
            if (r.expect(name, at + "/simd_kernels/" + std::to_string(i), json::value_t::string, "a string"))
                out.simd_kernels.push_back(name.get<std::string>());
        }
    }
}

void read_operation(reader& r, const json& o, const std::string& at, operation_profile& out) {
    std::string kernel;
    r.read_string(o, at, "kernel", kernel, true);
    if (const json* k = r.member(o, at, "kernel", false); k && k->is_string()) {
        if (const auto id = kernel_from_name(kernel)) out.kernel = *id;
        else r.error(at + "/kernel", "unknown kernel \"" + kernel + "\" (expected auto, scalar, avx2, avx512 or neon)");
    }
    if (const json* points = r.array(o, at, "switch_points", true)) {
        for (std::size_t i = 0; i < points->size(); ++i) {
            const json& p = (*points)[i];
            const std::string pat = at + "/switch_points/" + std::to_string(i);
            if (!r.expect(p, pat, json::value_t::object, "an object")) continue;
            switch_point s;
            r.read_u64(p, pat, "from_bytes", s.from_bytes, true, max_sane_bytes, "a size");
            // Without a measured interval the switch point is its own interval.
            s.ci_low_bytes = s.ci_high_bytes = s.from_bytes;
            r.read_u64(p, pat, "ci_low_bytes", s.ci_low_bytes, false, max_sane_bytes, "a size");
            r.read_u64(p, pat, "ci_high_bytes", s.ci_high_bytes, false, max_sane_bytes, "a size");
            r.read_string(p, pat, "reason", s.reason, false);
            std::string name;
            r.read_string(p, pat, "backend", name, true);
            if (const json* b = r.member(p, pat, "backend", false); b && b->is_string()) {
                if (const auto how = backend_from_name(name)) s.how = *how;
                else r.error(pat + "/backend", "unknown backend \"" + name + "\" (expected serial, work_stealing or pipeline)");
            }
            out.switch_points.push_back(std::move(s));
        }
    }
    if (const json* tuning = r.object(o, at, "tuning", false)) {
        for (const auto& [name, t] : tuning->items()) {
            const std::string tat = at + "/tuning/" + name;
            const auto how = backend_from_name(name);
            if (!how) {
                r.error(tat, "unknown backend \"" + name + "\" (expected serial, work_stealing or pipeline)");
                continue;
            }
            if (!r.expect(t, tat, json::value_t::object, "an object")) continue;
            backend_tuning bt;
            bt.how = *how;
            r.read_unsigned(t, tat, "threads", bt.threads, false, max_sane_threads);
            r.read_u64(t, tat, "chunk_bytes", bt.chunk_bytes, false, max_sane_bytes, "a size");
            out.tuning.push_back(bt);
        }
    }
}

}  // namespace

profile_result profile_from_json(const json& doc) {
    profile_result result;
    reader r(result.errors);
    if (!doc.is_object()) {
        r.error("", "expected a JSON object at the top, got " + type_word(doc));
        return result;
    }
    // The version decides how to read everything else, so it is checked first and a
    // newer one stops here with one clear message rather than a cascade of field errors.
    const json* version = r.member(doc, "", "schema_version", true);
    if (!version) return result;
    if (!version->is_number_integer()) {
        r.error("/schema_version", "expected an integer, got " + type_word(*version));
        return result;
    }
    const std::int64_t v = version->get<std::int64_t>();
    if (v > current_schema_version) {
        r.error("/schema_version", "is " + std::to_string(v) + ", newer than this calib64 (" + calib64_version +
                                       ") reads (" + std::to_string(current_schema_version) +
                                       "); upgrade calib64 or recalibrate with this version");
        return result;
    }
    if (v < 1) {
        r.error("/schema_version", "is " + std::to_string(v) + "; versions start at 1");
        return result;
    }
    profile p;
    p.schema_version = static_cast<int>(v);
    r.read_string(doc, "", "tool_version", p.tool_version, true);
    r.read_string(doc, "", "created_utc", p.created_utc, true);
    if (const json* h = r.object(doc, "", "host", true)) read_host(r, *h, p.host);
    if (const json* e = r.object(doc, "", "encode", true)) read_operation(r, *e, "/encode", p.encode);
    if (const json* d = r.object(doc, "", "decode", true)) read_operation(r, *d, "/decode", p.decode);

    if (const json* rows = r.array(doc, "", "validation", false)) {
        for (std::size_t i = 0; i < rows->size(); ++i) {
            const json& row = (*rows)[i];
            const std::string at = "/validation/" + std::to_string(i);
            if (!r.expect(row, at, json::value_t::object, "an object")) continue;
            validation_row vr;
            std::string op;
            r.read_string(row, at, "operation", op, true);
            if (const auto o = operation_from_name(op)) vr.op = *o;
            else if (row.contains("operation") && row["operation"].is_string())
                r.error(at + "/operation", "must be \"encode\" or \"decode\", not \"" + op + "\"");
            r.read_u64(row, at, "size_bytes", vr.size_bytes, true, max_sane_bytes, "a size");
            r.read_rate(row, at, "auto_mb_per_s", vr.auto_mb_per_s, true);
            r.read_rate(row, at, "auto_over_best", vr.auto_over_best, true);
            if (const json* m = r.object(row, at, "mb_per_s", true)) {
                for (const auto& [name, rate] : m->items()) {
                    if (!backend_from_name(name)) {
                        r.error(at + "/mb_per_s/" + name, "unknown backend \"" + name + "\"");
                        continue;
                    }
                    double d = 0;
                    r.read_rate(*m, at + "/mb_per_s", name.c_str(), d, true);
                    vr.backend_mb_per_s[name] = d;
                }
            }
            p.validation.push_back(std::move(vr));
        }
    }
    if (const json* curves = r.array(doc, "", "curves", false)) {
        for (std::size_t i = 0; i < curves->size(); ++i) {
            const json& c = (*curves)[i];
            const std::string at = "/curves/" + std::to_string(i);
            if (!r.expect(c, at, json::value_t::object, "an object")) continue;
            curve cv;
            r.read_string(c, at, "operation", cv.op, true);
            r.read_string(c, at, "series", cv.series, true);
            if (const json* points = r.array(c, at, "points", true)) {
                for (std::size_t j = 0; j < points->size(); ++j) {
                    const json& pt = (*points)[j];
                    const std::string pat = at + "/points/" + std::to_string(j);
                    if (!r.expect(pt, pat, json::value_t::object, "an object")) continue;
                    curve_point cp;
                    r.read_u64(pt, pat, "size_bytes", cp.size_bytes, true, max_sane_bytes, "a size");
                    r.read_rate(pt, pat, "median_mb_per_s", cp.median_mb_per_s, true);
                    r.read_rate(pt, pat, "ci_low_mb_per_s", cp.ci_low_mb_per_s, false);
                    r.read_rate(pt, pat, "ci_high_mb_per_s", cp.ci_high_mb_per_s, false);
                    cv.points.push_back(cp);
                }
            }
            p.curves.push_back(std::move(cv));
        }
    }
    if (const json* notes = r.array(doc, "", "stability", false)) {
        for (std::size_t i = 0; i < notes->size(); ++i) {
            const json& n = (*notes)[i];
            const std::string at = "/stability/" + std::to_string(i);
            if (!r.expect(n, at, json::value_t::object, "an object")) continue;
            stability_note sn;
            r.read_string(n, at, "operation", sn.op, false);
            r.read_string(n, at, "series", sn.series, false);
            r.read_u64(n, at, "size_bytes", sn.size_bytes, false, max_sane_bytes, "a size");
            r.read_string(n, at, "kind", sn.kind, true);
            r.read_string(n, at, "detail", sn.detail, false);
            p.stability.push_back(std::move(sn));
        }
    }
    if (!result.errors.empty()) return result;
    // Type-correct: now the rules that span fields (increasing switch points, ...).
    result.errors = validate_profile(p);
    if (result.errors.empty()) result.value = std::move(p);
    return result;
}

profile_result profile_from_json_text(std::string_view text) {
    profile_result result;
    json doc;
    try {
        doc = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 1: ..."
        std::string what = e.what();
        if (const auto bracket = what.find("] "); what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
            what.erase(0, bracket + 2);
        result.errors.push_back({"", "not valid JSON: " + what});
        return result;
    } catch (const std::exception& e) {
        result.errors.push_back({"", std::string("could not read JSON: ") + e.what()});
        return result;
    }
    return profile_from_json(doc);
}

profile_result load_profile(const std::filesystem::path& path) {
    profile_result result;
    constexpr std::uintmax_t max_profile_bytes = 64u << 20;  // a profile is a few KiB; refuse absurd files
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        result.errors.push_back({"", "cannot read " + path.string() + ": " + ec.message()});
        return result;
    }
    if (size > max_profile_bytes) {
        result.errors.push_back({"", path.string() + " is " + std::to_string(size) + " bytes; a profile is never over 64 MiB"});
        return result;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        result.errors.push_back({"", "cannot open " + path.string() + ": " + std::strerror(errno)});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        result.errors.push_back({"", "error reading " + path.string()});
        return result;
    }
    return profile_from_json_text(text.str());
}

std::vector<profile_error> save_profile_atomic(const profile& p, const std::filesystem::path& path) {
    std::vector<profile_error> errors = validate_profile(p);
    if (!errors.empty()) return errors;
    auto fail = [&](std::string why) {
        errors.push_back({"", std::move(why)});
        return errors;
    };
    std::string text;
    try {
        text = to_json_text(p);
    } catch (const std::exception& e) {
        return fail(std::string("could not serialise the profile: ") + e.what());
    }
    std::error_code ec;
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::filesystem::create_directories(folder, ec);
    if (ec) return fail("cannot create " + folder.string() + ": " + ec.message());

    // Same folder as the target, so rename() is atomic (same file system).
    std::random_device entropy;
    const std::filesystem::path temp =
        folder / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(entropy()));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot create " + temp.string() + ": " + std::strerror(errno));
    const char* data = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, data, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(temp.c_str());
            return fail("cannot write " + temp.string() + ": " + why);
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    // fsync before rename: after a crash the name points at complete data, not an empty file.
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temp.c_str());
        return fail("cannot flush " + temp.string() + ": " + why);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temp.c_str());
        return fail("cannot rename " + temp.string() + " to " + path.string() + ": " + why);
    }
    if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);  // make the rename itself durable; best effort
        ::close(dir);
    }
    return errors;
}

}  // namespace calib64::runtime
