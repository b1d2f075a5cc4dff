// The profile format: round trip, atomic save, and every kind of malformed input
// reported with its JSON pointer. Also keeps docs/profile.schema.json honest.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/profile.h"

using namespace calib64;
using namespace calib64::runtime;
using nlohmann::json;

namespace {

profile sample_profile() {
    profile p = new_profile(host_topology());
    p.encode.kernel = kernel_id::scalar;
    p.encode.switch_points = {{64 << 10, backend::work_stealing, 48 << 10, 96 << 10, "wins by 1.7x from 64 KiB"},
                              {32 << 20, backend::pipeline, 24 << 20, 40 << 20, "wins past the L3"}};
    p.encode.tuning = {{backend::work_stealing, 2, 256 << 10}, {backend::pipeline, 2, 1 << 20}};
    p.decode.kernel = kernel_id::automatic;
    p.decode.switch_points = {{128 << 10, backend::work_stealing, 100 << 10, 160 << 10, ""}};
    p.decode.tuning = {{backend::work_stealing, 0, 0}};
    p.validation = {{operation::encode, 3000000, 9100.5, {{"serial", 5000.0}, {"work_stealing", 9200.0}}, 0.989},
                    {operation::decode, 777777, 7000, {{"serial", 7100.0}}, 0.986}};
    p.curves = {{"encode", "serial", {{4096, 8000, 7900, 8100}, {1 << 20, 7000, 6800, 7200}}},
                {"memcpy", "all_threads", {{1 << 20, 30000, 25000, 41000}}}};
    p.stability = {{"memcpy", "all_threads", 1 << 20, "bimodal", "25 and 41 GB/s levels"},
                   {"", "", 0, "busy_machine", "load average 1.3"}};
    return p;
}

// The profile's JSON, as the test's own document to mutate (the library keeps its
// JSON type to itself; the text is the interface).
json to_json(const profile& p) { return json::parse(to_json_text(p)); }
json sample_json() { return to_json(sample_profile()); }
profile_result profile_from_json(const json& doc) { return profile_from_json_text(doc.dump()); }

// The errors for a document, as "path: why" lines (for failure messages).
std::string listing(const profile_result& r) {
    std::string s;
    for (const auto& e : r.errors) s += to_string(e) + "\n";
    return s;
}

bool has_error_at(const profile_result& r, const std::string& path, const std::string& why_part) {
    for (const auto& e : r.errors)
        if (e.path == path && e.why.find(why_part) != std::string::npos) return true;
    return false;
}

std::filesystem::path scratch_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("calib64-test-profile-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::filesystem::path source_root() {
    // meson sets the variable; run by hand, try this file's own location (relative to
    // the build folder) and the current folder.
    if (const char* root = std::getenv("CALIB64_TEST_SOURCE_ROOT")) return root;
    for (const std::filesystem::path& candidate : {std::filesystem::path(__FILE__).parent_path().parent_path(),
                                                   std::filesystem::path("..") / std::filesystem::path(__FILE__).parent_path().parent_path(),
                                                   std::filesystem::path(".")})
        if (std::filesystem::exists(candidate / "docs" / "profile.schema.json")) return candidate;
    return ".";
}

// A small JSON Schema (2020-12) checker covering what docs/profile.schema.json uses.
// `strict` also flags keys the schema does not list, so the schema cannot fall behind
// to_json.
class schema_checker {
public:
    schema_checker(const json& root, bool strict) : root_(root), strict_(strict) {}

    std::vector<std::string> check(const json& instance) {
        problems_.clear();
        visit(root_, instance, "");
        return problems_;
    }

private:
    const json& resolve(const json& schema) const {
        if (!schema.contains("$ref")) return schema;
        const std::string ref = schema["$ref"];
        REQUIRE(ref.rfind("#/", 0) == 0);
        return resolve(root_.at(json::json_pointer(ref.substr(1))));
    }

    static bool has_type(const json& v, const std::string& type) {
        if (type == "object") return v.is_object();
        if (type == "array") return v.is_array();
        if (type == "string") return v.is_string();
        if (type == "integer") return v.is_number_integer();
        if (type == "number") return v.is_number();
        if (type == "boolean") return v.is_boolean();
        if (type == "null") return v.is_null();
        return false;
    }

    void visit(const json& schema_in, const json& v, const std::string& at) {
        const json& schema = resolve(schema_in);
        auto problem = [&](const std::string& why) { problems_.push_back((at.empty() ? "/" : at) + ": " + why); };
        if (schema.contains("type")) {
            const json& t = schema["type"];
            bool ok = false;
            if (t.is_string()) ok = has_type(v, t);
            else for (const auto& one : t) ok = ok || has_type(v, one);
            if (!ok) return problem("wrong type, schema wants " + t.dump());
        }
        if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
            problem("not one of " + schema["enum"].dump());
        if (schema.contains("const") && schema["const"] != v) problem("not " + schema["const"].dump());
        if (v.is_number() && schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>())
            problem("below minimum");
        if (v.is_number() && schema.contains("maximum") && v.get<double>() > schema["maximum"].get<double>())
            problem("above maximum");
        if (v.is_string() && schema.contains("minLength") && v.get<std::string>().size() < schema["minLength"].get<std::size_t>())
            problem("too short");
        if (v.is_string() && schema.contains("pattern") &&
            !std::regex_search(v.get<std::string>(), std::regex(schema["pattern"].get<std::string>())))
            problem("does not match " + schema["pattern"].get<std::string>());
        if (v.is_array() && schema.contains("items"))
            for (std::size_t i = 0; i < v.size(); ++i) visit(schema["items"], v[i], at + "/" + std::to_string(i));
        if (!v.is_object()) return;
        if (schema.contains("required"))
            for (const auto& key : schema["required"])
                if (!v.contains(key.get<std::string>())) problem("missing required " + key.get<std::string>());
        for (const auto& [key, value] : v.items()) {
            if (schema.contains("propertyNames")) visit(schema["propertyNames"], key, at + "/" + key);
            if (schema.contains("properties") && schema["properties"].contains(key)) {
                visit(schema["properties"][key], value, at + "/" + key);
            } else if (schema.contains("additionalProperties")) {
                visit(schema["additionalProperties"], value, at + "/" + key);
            } else if (strict_) {
                problem("key \"" + key + "\" is not in the schema");
            }
        }
    }

    const json& root_;
    bool strict_;
    std::vector<std::string> problems_;
};

json load_schema() {
    std::ifstream in(source_root() / "docs" / "profile.schema.json");
    REQUIRE(in);
    return json::parse(in);
}

}  // namespace

// ---------------------------------------------------------------- round trip

TEST_CASE("a profile survives to_json and back unchanged") {
    const profile p = sample_profile();
    const profile_result back = profile_from_json_text(to_json_text(p));
    REQUIRE_MESSAGE(back.ok(), listing(back));
    CHECK(to_json(*back.value) == to_json(p));
    CHECK(back.value->encode.switch_points.size() == 2);
    CHECK(back.value->encode.switch_points[1].how == backend::pipeline);
    CHECK(back.value->encode.switch_points[0].ci_high_bytes == 96u << 10);
    CHECK(back.value->encode.kernel == kernel_id::scalar);
    CHECK(back.value->validation[0].backend_mb_per_s.at("work_stealing") == doctest::Approx(9200.0));
    CHECK(back.value->host.fingerprint == fingerprint(host_topology()));
}

TEST_CASE("a new profile carries the version, a UTC time and this host") {
    const profile p = new_profile(host_topology());
    CHECK(p.schema_version == current_schema_version);
    CHECK_FALSE(p.tool_version.empty());
    CHECK(std::regex_match(p.created_utc, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")));
    CHECK(p.host.fingerprint == fingerprint(host_topology()));
    CHECK(p.host.host_id == host_id(host_topology()));
    CHECK(p.host.l3_bytes == host_topology().l3_bytes);
}

TEST_CASE("saving writes the whole profile atomically and leaves no temporary file") {
    const auto dir = scratch_dir("save");
    const auto path = dir / "nested" / "profile.json";
    const profile p = sample_profile();
    const auto errors = save_profile_atomic(p, path);
    REQUIRE(errors.empty());
    const profile_result back = load_profile(path);
    REQUIRE_MESSAGE(back.ok(), listing(back));
    CHECK(to_json(*back.value) == to_json(p));
    // Overwriting an existing profile works the same way.
    profile q = p;
    q.tool_version = "9.9.9";
    REQUIRE(save_profile_atomic(q, path).empty());
    CHECK(load_profile(path).value->tool_version == "9.9.9");
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
        CAPTURE(entry.path());
        ++files;
    }
    CHECK(files == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("saving an invalid profile writes nothing and keeps the old file") {
    const auto dir = scratch_dir("invalid-save");
    const auto path = dir / "profile.json";
    REQUIRE(save_profile_atomic(sample_profile(), path).empty());
    const auto before = std::filesystem::file_size(path);
    profile bad = sample_profile();
    bad.encode.switch_points[1].from_bytes = 1;  // not increasing
    const auto errors = save_profile_atomic(bad, path);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].path == "/encode/switch_points/1/from_bytes");
    CHECK(std::filesystem::file_size(path) == before);
    CHECK(load_profile(path).ok());
    std::filesystem::remove_all(dir);
}

TEST_CASE("saving into a folder that cannot be created reports why") {
    const auto dir = scratch_dir("blocked");
    std::ofstream(dir / "file") << "x";
    const auto errors = save_profile_atomic(sample_profile(), dir / "file" / "profile.json");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].why.find("cannot create") != std::string::npos);
    std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- malformed input

TEST_CASE("truncated JSON is reported as invalid JSON with its position") {
    const std::string text = to_json_text(sample_profile());
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 3}) {
        CAPTURE(cut);
        const profile_result r = profile_from_json_text(text.substr(0, cut));
        CHECK_FALSE(r.ok());
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].path.empty());
        CHECK(r.errors[0].why.find("not valid JSON") != std::string::npos);
        CHECK(r.errors[0].why.find("line") != std::string::npos);
    }
}

TEST_CASE("a document that is not an object is refused") {
    const profile_result r = profile_from_json_text("[1, 2, 3]");
    REQUIRE_FALSE(r.ok());
    CHECK(r.errors[0].why.find("expected a JSON object") != std::string::npos);
}

TEST_CASE("wrong types are reported with their JSON pointer") {
    json doc = sample_json();
    doc["encode"]["switch_points"][0]["from_bytes"] = "64KiB";
    doc["decode"]["kernel"] = 3;
    doc["host"]["cores"] = true;
    doc["validation"][0]["auto_mb_per_s"] = "fast";
    doc["curves"] = json::object();
    const profile_result r = profile_from_json(doc);
    CHECK_FALSE(r.ok());
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/0/from_bytes", "got a string"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/decode/kernel", "expected a string, got an integer"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/host/cores", "got a boolean"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/validation/0/auto_mb_per_s", "expected a number"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/curves", "expected an array"), listing(r));
    CHECK(r.errors.size() == 5);
}

TEST_CASE("a fractional size is refused") {
    json doc = sample_json();
    doc["encode"]["switch_points"][0]["from_bytes"] = 65536.5;
    const profile_result r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/0/from_bytes", "whole number"), listing(r));
}

TEST_CASE("negative thresholds are refused") {
    json doc = sample_json();
    doc["encode"]["switch_points"][0]["from_bytes"] = -65536;
    doc["encode"]["tuning"]["work_stealing"]["chunk_bytes"] = -1;
    doc["decode"]["tuning"]["work_stealing"]["threads"] = -2;
    const profile_result r = profile_from_json(doc);
    CHECK_FALSE(r.ok());
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/0/from_bytes", "negative"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/encode/tuning/work_stealing/chunk_bytes", "negative"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/decode/tuning/work_stealing/threads", "negative"), listing(r));
}

TEST_CASE("absurd thresholds above 1 TiB are refused") {
    json doc = sample_json();
    doc["encode"]["switch_points"][1]["from_bytes"] = (1ull << 40) + 1;
    doc["encode"]["tuning"]["pipeline"]["threads"] = 100000;
    const profile_result r = profile_from_json(doc);
    CHECK_FALSE(r.ok());
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/1/from_bytes", "larger than"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/encode/tuning/pipeline/threads", "larger than"), listing(r));
}

TEST_CASE("switch points that do not increase are refused") {
    json doc = sample_json();
    doc["encode"]["switch_points"][1]["from_bytes"] = 64 << 10;  // equal to the first
    profile_result r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/1/from_bytes", "must increase"), listing(r));
    doc["encode"]["switch_points"][1]["from_bytes"] = 1024;  // below the first
    r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/1/from_bytes", "must increase"), listing(r));
}

TEST_CASE("a confidence interval with low above high is refused") {
    json doc = sample_json();
    doc["decode"]["switch_points"][0]["ci_low_bytes"] = 1 << 20;
    const profile_result r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/decode/switch_points/0", "ci_low_bytes"), listing(r));
}

TEST_CASE("unknown backend and kernel names are refused") {
    json doc = sample_json();
    doc["encode"]["switch_points"][0]["backend"] = "gpu";
    doc["decode"]["kernel"] = "avx9";
    doc["decode"]["tuning"]["fibers"] = json{{"threads", 2}};
    doc["validation"][0]["mb_per_s"]["turbo"] = 1.0;
    const profile_result r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/0/backend", "unknown backend \"gpu\""), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/decode/kernel", "unknown kernel \"avx9\""), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/decode/tuning/fibers", "unknown backend"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/validation/0/mb_per_s/turbo", "unknown backend"), listing(r));
}

TEST_CASE("a newer schema version is refused with one clear message") {
    json doc = sample_json();
    doc["schema_version"] = current_schema_version + 1;
    doc["encode"] = "a format this build does not know";
    const profile_result r = profile_from_json(doc);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/schema_version");
    CHECK(r.errors[0].why.find("newer") != std::string::npos);
    CHECK(r.errors[0].why.find("upgrade") != std::string::npos);
}

TEST_CASE("a schema version below 1 or of the wrong type is refused") {
    json doc = sample_json();
    doc["schema_version"] = 0;
    CHECK(has_error_at(profile_from_json(doc), "/schema_version", "start at 1"));
    doc["schema_version"] = "1";
    CHECK(has_error_at(profile_from_json(doc), "/schema_version", "expected an integer"));
    doc.erase("schema_version");
    CHECK(has_error_at(profile_from_json(doc), "/schema_version", "missing"));
}

TEST_CASE("unknown keys are ignored at every level") {
    const json original = sample_json();
    json doc = original;
    doc["made_by_a_newer_tool"] = {{"x", 1}};
    doc["host"]["gpu"] = "none";
    doc["encode"]["prefetch"] = true;
    doc["encode"]["switch_points"][0]["p_value"] = 0.01;
    doc["validation"][0]["note"] = "held out";
    const profile_result r = profile_from_json(doc);
    REQUIRE_MESSAGE(r.ok(), listing(r));
    CHECK(to_json(*r.value) == original);
}

TEST_CASE("every problem in a document is reported, not only the first") {
    json doc = sample_json();
    doc.erase("tool_version");
    doc["encode"]["switch_points"][0]["from_bytes"] = -1;
    doc["decode"]["kernel"] = "avx9";
    doc["host"].erase("fingerprint");
    const profile_result r = profile_from_json(doc);
    CHECK_MESSAGE(has_error_at(r, "/tool_version", "missing"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/encode/switch_points/0/from_bytes", "negative"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/decode/kernel", "unknown kernel"), listing(r));
    CHECK_MESSAGE(has_error_at(r, "/host/fingerprint", "missing"), listing(r));
    CHECK_FALSE(r.value.has_value());
}

TEST_CASE("a missing or unreadable file is an error, not a crash") {
    const profile_result r = load_profile("/nonexistent/calib64/profile.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.errors[0].why.find("cannot read") != std::string::npos);
    const auto dir = scratch_dir("dir-as-file");
    CHECK_FALSE(load_profile(dir).ok());
    std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- the JSON Schema

TEST_CASE("the schema's required top-level keys are exactly the ones the reader requires") {
    const json schema = load_schema();
    const json doc = sample_json();
    std::vector<std::string> required;
    for (const auto& key : schema["required"]) required.push_back(key);
    for (const auto& [key, value] : doc.items()) {
        CAPTURE(key);
        CHECK(schema["properties"].contains(key));
        json without = doc;
        without.erase(key);
        const profile_result r = profile_from_json(without);
        const bool schema_requires = std::find(required.begin(), required.end(), key) != required.end();
        // Dropping a required key must fail the reader; dropping an optional one must not.
        CHECK(r.ok() != schema_requires);
        if (schema_requires) CHECK(has_error_at(r, "/" + key, "missing"));
    }
    for (const auto& key : required) CHECK(doc.contains(key));
}

TEST_CASE("to_json output validates against the schema, which lists every key it writes") {
    const json schema = load_schema();
    schema_checker strict(schema, true);
    const auto problems = strict.check(sample_json());
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    CHECK_MESSAGE(problems.empty(), all);
    CHECK(strict.check(to_json(new_profile(host_topology()))).empty());
}

TEST_CASE("the schema rejects what the reader rejects") {
    const json schema = load_schema();
    schema_checker checker(schema, false);
    json negative = sample_json();
    negative["encode"]["switch_points"][0]["from_bytes"] = -1;
    CHECK_FALSE(checker.check(negative).empty());
    json absurd = sample_json();
    absurd["encode"]["switch_points"][0]["from_bytes"] = (1ull << 40) + 1;
    CHECK_FALSE(checker.check(absurd).empty());
    json unknown_backend = sample_json();
    unknown_backend["encode"]["switch_points"][0]["backend"] = "gpu";
    CHECK_FALSE(checker.check(unknown_backend).empty());
    json future = sample_json();
    future["schema_version"] = current_schema_version + 1;
    CHECK_FALSE(checker.check(future).empty());
    json extra = sample_json();
    extra["newer_field"] = 1;  // unknown keys are allowed by the schema too
    CHECK(checker.check(extra).empty());
}

TEST_CASE("docs/profile.schema.json is exactly the schema the reader and writer are built from") {
    std::ifstream in(source_root() / "docs" / "profile.schema.json");
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    // Regenerate with: build/src/cli/calib64 profile schema > docs/profile.schema.json
    CHECK(text.str() == profile_schema_text());
}

TEST_CASE("a reader that wants only the decisions skips the audit data, and still rejects broken decisions") {
    json doc = sample_json();
    doc["curves"] = "not even an array";  // audit data it never looks at
    const profile_result decisions = profile_from_json_text(doc.dump(), profile_parts::decisions);
    REQUIRE(decisions.ok());
    CHECK(decisions.value->curves.empty());
    CHECK(decisions.value->validation.empty());
    CHECK(decisions.value->encode.switch_points.size() == 2);
    CHECK_FALSE(profile_from_json_text(doc.dump(), profile_parts::everything).ok());
    doc["encode"]["kernel"] = "avx9";
    CHECK_FALSE(profile_from_json_text(doc.dump(), profile_parts::decisions).ok());
}

TEST_CASE("a file larger than any profile, or one that is not a regular file, is refused with a read error") {
    const auto dir = scratch_dir("huge");
    {
        std::ofstream out(dir / "huge.json");
        out << "{\"schema_version\": 1, \"pad\": \"";
        out << std::string(max_profile_file_bytes, 'x') << "\"}";
    }
    const profile_result huge = load_profile(dir / "huge.json");
    REQUIRE_FALSE(huge.errors.empty());
    CHECK(huge.errors[0].why.find("larger than") != std::string::npos);
    const profile_result dir_as_file = load_profile(dir);
    REQUIRE_FALSE(dir_as_file.errors.empty());
    CHECK(dir_as_file.errors[0].why.find("cannot read") != std::string::npos);
    // Looks like an empty regular file, but reading it fails (EIO): a read error, not "not valid JSON".
    const profile_result mem = load_profile("/proc/self/mem");
    REQUIRE_FALSE(mem.errors.empty());
    CHECK(mem.errors[0].why.find("cannot read") != std::string::npos);
    std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- how a profile was made

TEST_CASE("made_by says whether a profile was measured or derived, and defaults to measured") {
    json doc = sample_json();
    CHECK(doc["made_by"] == "calibrate");
    doc.erase("made_by");  // profiles older than the field
    const profile_result old = profile_from_json(doc);
    REQUIRE(old.ok());
    CHECK(old.value->made_by == made_by_calibration);
    doc["made_by"] = "topology_defaults";
    CHECK(profile_from_json(doc).value->made_by == made_by_topology_defaults);
    doc["made_by"] = "guesswork";
    CHECK(has_error_at(profile_from_json(doc), "/made_by", "guesswork"));
}

// ---------------------------------------------------------------- bundles

namespace {

profile_bundle sample_bundle() {
    profile_bundle b;
    b.tool_version = "test";
    b.created_utc = "2026-12-01T00:00:00Z";
    b.members.push_back(bundle_member_from("host-a", sample_profile()));
    profile other = sample_profile();
    other.host.fingerprint = "0123456789abcdef";
    other.host.cores = 16;
    b.members.push_back(bundle_member_from("host-b", other));
    return b;
}

json load_bundle_schema() {
    std::ifstream in(source_root() / "docs" / "profile-bundle.schema.json");
    REQUIRE(in);
    return json::parse(in);
}

}  // namespace

TEST_CASE("a bundle member keeps the decisions and host facts and drops the audit data and reasons") {
    const bundle_member m = bundle_member_from("x", sample_profile());
    CHECK(m.p.validation.empty());
    CHECK(m.p.curves.empty());
    CHECK(m.p.stability.empty());
    CHECK(m.p.encode.switch_points.size() == 2);
    CHECK(m.p.encode.switch_points[0].reason.empty());
    CHECK(m.p.encode.switch_points[0].ci_high_bytes == 96u << 10);
    CHECK(m.p.host.fingerprint == sample_profile().host.fingerprint);
    CHECK(m.p.encode.tuning.size() == 2);
}

TEST_CASE("a bundle survives to_json and back, one member per line") {
    const profile_bundle b = sample_bundle();
    const std::string text = to_json_text(b);
    CHECK(std::count(text.begin(), text.end(), '\n') == 9);  // {, 3 header lines, "members": [, 2 members, ], }
    const profiles_result back = profiles_from_json_text(text, "unused");
    REQUIRE(back.errors.empty());
    REQUIRE(back.skipped.empty());
    REQUIRE(back.value);
    CHECK(back.is_bundle);
    REQUIRE(back.value->members.size() == 2);
    CHECK(back.value->members[1].name == "host-b");
    CHECK(back.value->members[1].p.host.cores == 16);
    CHECK(to_json(back.value->members[0].p) == to_json(b.members[0].p));
}

TEST_CASE("a single profile reads as a bundle of one, named after its result folder") {
    const auto dir = scratch_dir("single");
    REQUIRE(save_profile_atomic(sample_profile(), dir / "zen5-2c-32m-1234abcd" / "profile.json").empty());
    const profiles_result r = load_profiles_file(dir / "zen5-2c-32m-1234abcd" / "profile.json");
    REQUIRE(r.value);
    CHECK_FALSE(r.is_bundle);
    REQUIRE(r.value->members.size() == 1);
    CHECK(r.value->members[0].name == "zen5-2c-32m-1234abcd");
    std::filesystem::remove_all(dir);
}

TEST_CASE("a bundle with malformed members keeps the others and names each bad one") {
    json doc = json::parse(to_json_text(sample_bundle()));
    doc["members"][0]["profile"]["encode"]["kernel"] = "avx9";
    doc["members"].push_back({{"profile", doc["members"][1]["profile"]}});  // no name
    doc["members"].push_back(doc["members"][1]);                           // the same name twice
    const profiles_result r = profiles_from_json_text(doc.dump(), "unused");
    REQUIRE(r.errors.empty());
    REQUIRE(r.value);
    REQUIRE(r.value->members.size() == 1);
    CHECK(r.value->members[0].name == "host-b");
    REQUIRE(r.skipped.size() == 3);
    CHECK(r.skipped[0].name == "host-a");
    REQUIRE_FALSE(r.skipped[0].errors.empty());
    CHECK(r.skipped[0].errors[0].path == "/profile/encode/kernel");
    CHECK(r.skipped[1].name == "#2");
    CHECK(r.skipped[2].errors[0].why.find("another member") != std::string::npos);
}

TEST_CASE("a newer bundle version, or no member list, refuses the whole bundle with one clear message") {
    json doc = json::parse(to_json_text(sample_bundle()));
    doc["bundle_schema_version"] = current_bundle_schema_version + 1;
    profiles_result r = profiles_from_json_text(doc.dump(), "unused");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].path == "/bundle_schema_version");
    CHECK(r.errors[0].why.find("rebuild the bundle") != std::string::npos);
    CHECK_FALSE(r.value);
    doc = json::parse(to_json_text(sample_bundle()));
    doc.erase("members");
    r = profiles_from_json_text(doc.dump(), "unused");
    REQUIRE_FALSE(r.errors.empty());
    CHECK(r.errors[0].path == "/members");
    CHECK(profiles_from_json_text("{\"bundle_schema_version\": 1, \"members\": [", "x").errors[0].why.find("not valid JSON") !=
          std::string::npos);
}

TEST_CASE("saving a bundle validates every member first") {
    const auto dir = scratch_dir("bundle-save");
    profile_bundle b = sample_bundle();
    REQUIRE(save_bundle_atomic(b, dir / "b.json").empty());
    CHECK(load_profiles_file(dir / "b.json").value->members.size() == 2);
    b.members[1].name = b.members[0].name;
    b.members[0].p.encode.switch_points[1].from_bytes = 1;
    const auto errors = save_bundle_atomic(b, dir / "c.json");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].path == "/members/0/profile/encode/switch_points/1/from_bytes");
    CHECK(errors[1].path == "/members/1/name");
    CHECK_FALSE(std::filesystem::exists(dir / "c.json"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("docs/profile-bundle.schema.json is exactly the generated bundle schema, and bundles validate against it") {
    std::ifstream in(source_root() / "docs" / "profile-bundle.schema.json");
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    // Regenerate with: build/src/cli/calib64 profile schema --bundle > docs/profile-bundle.schema.json
    CHECK(text.str() == bundle_schema_text());
    const json schema = load_bundle_schema();
    schema_checker strict(schema, true);
    const auto problems = strict.check(json::parse(to_json_text(sample_bundle())));
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    CHECK_MESSAGE(problems.empty(), all);
    json future = json::parse(to_json_text(sample_bundle()));
    future["bundle_schema_version"] = 2;
    CHECK_FALSE(strict.check(future).empty());
}

TEST_CASE("a whole number written with a zero fraction is read, as JSON Schema's integer allows; a fraction is not") {
    json doc = sample_json();
    doc["encode"]["switch_points"][0]["from_bytes"] = 65536.0;
    doc["host"]["cpu_family"] = 26.0;
    const profile_result r = profile_from_json(doc);
    REQUIRE_MESSAGE(r.ok(), listing(r));
    CHECK(r.value->encode.switch_points[0].from_bytes == 65536u);
    CHECK(r.value->host.cpu_family == 26);
    doc["encode"]["switch_points"][0]["from_bytes"] = 65536.5;
    CHECK(has_error_at(profile_from_json(doc), "/encode/switch_points/0/from_bytes", "fraction"));
}
