#include "engine.h"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

namespace calib64::calib {

std::atomic<bool> interrupted{false};

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Google Benchmark needs Initialize() once (its JSON context names the executable).
void init_benchmark_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        static char name[] = "calib64-calibrate";
        static char* argv[] = {name, nullptr};
        int argc = 1;
        benchmark::Initialize(&argc, argv);
    });
}

struct collected_run {
    std::string name;
    bool error = false;
    std::string error_message;
    double real_seconds = 0;
    std::int64_t iterations = 0;
};

// Keeps every iteration run (we never ask Google Benchmark for aggregates: the
// rounds are ours) and forwards everything to a JSONReporter writing to memory.
class collecting_reporter : public benchmark::BenchmarkReporter {
public:
    explicit collecting_reporter(std::function<void()> on_run) : on_run_(std::move(on_run)) {
        json_.SetOutputStream(&json_text_);
        json_.SetErrorStream(&json_errors_);
    }
    bool ReportContext(const Context& context) override { return json_.ReportContext(context); }
    void ReportRuns(const std::vector<Run>& runs) override {
        json_.ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration) continue;
            runs_.push_back({r.run_name.function_name, r.error_occurred, r.error_message, r.real_accumulated_time,
                             static_cast<std::int64_t>(r.iterations)});
        }
        if (on_run_) on_run_();
    }
    void Finalize() override { json_.Finalize(); }

    std::vector<collected_run> runs_;
    std::ostringstream json_text_;
    std::ostringstream json_errors_;

private:
    benchmark::JSONReporter json_;
    std::function<void()> on_run_;
};

}  // namespace

// ------------------------------------------------------------------ progress

progress::progress(bool enabled) : enabled_(enabled), tty_(isatty(2) == 1), start_s_(now_s()) {}

double progress::elapsed_s() const { return now_s() - start_s_; }

void progress::begin_phase(const std::string& name, double share_of_total) {
    phase_ = name;
    phase_share_ = share_of_total;
    phase_fraction_ = 0;
    if (enabled_ && !tty_) std::fprintf(stderr, "calibrate: %s ...\n", name.c_str());
    draw(true);
}

void progress::update(double phase_fraction) {
    phase_fraction_ = std::clamp(phase_fraction, 0.0, 1.0);
    draw(false);
}

void progress::end_phase() {
    done_share_ += phase_share_;
    phase_share_ = 0;
    phase_fraction_ = 0;
    draw(true);
}

void progress::finish() {
    if (enabled_ && tty_) std::fprintf(stderr, "\r\033[K");
    if (enabled_) std::fprintf(stderr, "calibrate: done in %.1f s\n", elapsed_s());
}

void progress::draw(bool force) {
    if (!enabled_) return;
    const double t = elapsed_s();
    const double f = std::clamp(done_share_ + phase_share_ * phase_fraction_, 0.0, 1.0);
    const std::string eta = f > 0.02 ? fmt::format("{:.0f} s", t * (1 - f) / f) : std::string("?");
    if (tty_) {
        if (!force && t - last_draw_s_ < 0.1) return;
        last_draw_s_ = t;
        constexpr int width = 30;
        const int filled = static_cast<int>(f * width);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.append(static_cast<std::size_t>(width - filled), '.');
        std::fprintf(stderr, "\r\033[K[%s] %3.0f%%  %-10s elapsed %.0f s  ETA %s", bar.c_str(), f * 100, phase_.c_str(),
                     t, eta.c_str());
        std::fflush(stderr);
    } else {
        const int decile = static_cast<int>(f * 10);
        if (decile <= last_plain_decile_) return;
        last_plain_decile_ = decile;
        std::fprintf(stderr, "calibrate: %3.0f%% (%s), elapsed %.0f s, ETA %s\n", f * 100, phase_.c_str(), t, eta.c_str());
    }
}

// ------------------------------------------------------------------ engine

engine::engine(std::uint64_t seed, progress& prog) : seed_(seed), rng_(seed), progress_(prog) { init_benchmark_once(); }

std::string engine::probe(std::vector<cell>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (interrupted) return "interrupted";
        cell& c = cells[i];
        if (!c.run_once()) return c.phase + " " + c.op + " " + c.series + " failed at " + std::to_string(c.size_bytes) + " bytes";
        if (c.verify) {
            const std::string why = c.verify();
            if (!why.empty()) return c.phase + " " + c.op + " " + c.series + " at " + std::to_string(c.size_bytes) + " bytes: " + why;
        }
        // Time enough calls to reach ~200 us, so clock resolution does not matter,
        // and keep the fastest of three tries: a try that was preempted would give
        // this cell far fewer iterations than its neighbours, and on a busy machine
        // a short sample escapes preemption more often than a long one, which would
        // bias the comparison (seen on this VM: a 4x "win" from sample length alone).
        std::uint64_t n = 1;
        double per_call = 0;
        for (;;) {
            const double t0 = now_s();
            for (std::uint64_t k = 0; k < n; ++k) (void)c.run_once();
            const double dt = now_s() - t0;
            if (dt >= 200e-6 || n >= (1u << 20)) {
                per_call = dt / static_cast<double>(n);
                break;
            }
            n *= 4;
        }
        for (int again = 0; again < 2 && per_call * static_cast<double>(n) < 20e-3; ++again) {
            const double t0 = now_s();
            for (std::uint64_t k = 0; k < n; ++k) (void)c.run_once();
            per_call = std::min(per_call, (now_s() - t0) / static_cast<double>(n));
        }
        c.probe_seconds = per_call;
        progress_.update(0.1 * static_cast<double>(i + 1) / static_cast<double>(cells.size()));
    }
    return {};
}

int engine::plan(std::vector<cell>& cells, double budget_s, int min_rounds, int max_rounds, double min_sample_s,
                 double max_sample_s) {
    constexpr double overhead_per_run_s = 60e-6;  // Google Benchmark's own work per run (measured order)
    auto round_cost = [&](double target) {
        double sum = 0;
        for (const cell& c : cells) sum += std::max(target, c.probe_seconds) + overhead_per_run_s;
        return sum;
    };
    double lo = min_sample_s, hi = max_sample_s;
    double target = min_sample_s;
    if (round_cost(hi) * min_rounds <= budget_s) {
        target = hi;
    } else {
        for (int i = 0; i < 40; ++i) {
            const double mid = (lo + hi) / 2;
            if (round_cost(mid) * min_rounds <= budget_s) lo = mid; else hi = mid;
        }
        target = lo;
    }
    const double cost = round_cost(target);
    int rounds = cost > 0 ? static_cast<int>(std::floor(budget_s / cost)) : max_rounds;
    rounds = std::clamp(rounds, min_rounds, max_rounds);
    // Cells of one block are compared in pairs, so they make the same number of
    // calls per sample (sized by the slowest of them): a different count would give
    // them a different share of cold first calls, and the comparison a bias.
    std::map<std::string, double> slowest_in_block;
    for (const cell& c : cells)
        if (!c.block.empty()) slowest_in_block[c.block] = std::max(slowest_in_block[c.block], c.probe_seconds);
    for (cell& c : cells) {
        const double per_call = std::max(c.block.empty() ? c.probe_seconds : slowest_in_block[c.block], 1e-9);
        c.iterations = static_cast<std::uint64_t>(std::max(1.0, std::round(target / per_call)));
    }
    return rounds;
}

bool engine::measure(std::vector<cell>& cells, const round_plan& plan, const settled_fn& settled) {
    const double t0 = now_s();
    error_ = probe(cells);
    if (!error_.empty()) return false;
    // The probe's own time comes out of the budget, but the rounds always get 30%.
    const double left = std::max(plan.budget_s - (now_s() - t0), plan.budget_s * 0.3);
    const int rounds = this->plan(cells, left, plan.min_rounds, plan.max_rounds, plan.min_sample_s, plan.max_sample_s);
    return run(cells, rounds, plan.min_rounds, left, settled);
}

bool engine::run(std::vector<cell>& cells, int rounds, int min_rounds, double budget_s, const settled_fn& settled) {
    for (cell& c : cells) c.mb_per_s.clear();
    rounds_run_ = 0;
    const double t0 = now_s();
    for (int r = 0; r < rounds; ++r) {
        if (r >= std::max(1, min_rounds)) {
            const double spent = now_s() - t0;
            if (spent + spent / r > budget_s) break;  // the next round would overrun
        }
        // Fresh random order each round: blocks (e.g. one size) shuffled, and the
        // cells inside a block shuffled, so paired cells run back to back.
        std::map<std::string, std::vector<std::size_t>> blocks;
        std::vector<std::vector<std::size_t>> groups;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells[i].block.empty()) groups.push_back({i});
            else blocks[cells[i].block].push_back(i);
        }
        for (auto& [key, members] : blocks) groups.push_back(members);
        std::shuffle(groups.begin(), groups.end(), rng_);
        std::vector<std::size_t> order;
        for (auto& g : groups) {
            std::shuffle(g.begin(), g.end(), rng_);
            order.insert(order.end(), g.begin(), g.end());
        }
        if (!run_round(cells, order, r, rounds)) return false;
        rounds_run_ = r + 1;
        if (settled && rounds_run_ >= min_rounds && settled(cells)) break;
    }
    return true;
}

bool engine::run_round(std::vector<cell>& cells, const std::vector<std::size_t>& order, int round, int rounds) {
    benchmark::ClearRegisteredBenchmarks();
    std::map<std::string, std::size_t> by_name;
    for (std::size_t k = 0; k < order.size(); ++k) {
        cell* c = &cells[order[k]];
        const std::string name = c->phase + "/" + c->op + "/" + c->series + "/" + std::to_string(c->size_bytes) + "#" +
                                 std::to_string(order[k]);
        by_name[name] = order[k];
        benchmark::RegisterBenchmark(name.c_str(),
                                     [c](benchmark::State& state) {
                                         if (interrupted) {
                                             state.SkipWithError("interrupted");
                                             return;
                                         }
                                         bool ok = true;
                                         for (auto _ : state) {
                                             ok = c->run_once() && ok;
                                             benchmark::ClobberMemory();
                                         }
                                         if (!ok) state.SkipWithError("operation reported an error");
                                         state.SetBytesProcessed(state.iterations() *
                                                                 static_cast<std::int64_t>(c->size_bytes));
                                     })
            ->Iterations(static_cast<benchmark::IterationCount>(c->iterations))
            ->Repetitions(1)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
    std::size_t done = 0;
    collecting_reporter reporter([&] {
        ++done;
        progress_.update(0.1 + 0.9 * (static_cast<double>(round) + static_cast<double>(done) / static_cast<double>(order.size())) /
                                   static_cast<double>(rounds));
    });
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::ClearRegisteredBenchmarks();

    // Keep Google Benchmark's JSON, tagged with what each run was.
    try {
        auto doc = nlohmann::json::parse(reporter.json_text_.str());
        if (context_json_.empty() && doc.contains("context")) context_json_ = doc["context"].dump();
        for (auto& b : doc.value("benchmarks", nlohmann::json::array())) {
            // Google Benchmark appends "/iterations:N/real_time" to the registered name.
            std::string name = b.value("name", std::string{});
            name = name.substr(0, name.find("/iterations:"));
            const auto it = by_name.find(name);
            if (it != by_name.end()) {
                const cell& c = cells[it->second];
                b["calib64"] = {{"phase", c.phase}, {"op", c.op}, {"series", c.series},
                                {"size_bytes", c.size_bytes}, {"round", round}};
            }
            run_json_.push_back(b.dump());
        }
    } catch (const nlohmann::json::exception& e) {
        error_ = std::string("could not read Google Benchmark's JSON output: ") + e.what();
        return false;
    }

    if (interrupted) {
        error_ = "interrupted";
        return false;
    }
    for (const auto& r : reporter.runs_) {
        const auto it = by_name.find(r.name);
        if (it == by_name.end()) continue;
        cell& c = cells[it->second];
        if (r.error) {
            error_ = r.name + ": " + r.error_message;
            return false;
        }
        const double seconds = r.real_seconds;
        c.mb_per_s.push_back(seconds > 0 ? static_cast<double>(c.size_bytes) * static_cast<double>(r.iterations) / seconds / 1e6 : 0);
    }
    for (std::size_t i : order)
        if (cells[i].mb_per_s.size() != static_cast<std::size_t>(round) + 1) {
            error_ = "Google Benchmark did not report " + cells[i].phase + "/" + cells[i].series;
            return false;
        }
    return true;
}

std::string engine::raw_json_text(const std::vector<std::pair<std::string, std::string>>& tags) const {
    nlohmann::json calib64 = nlohmann::json::object();
    for (const auto& [key, value] : tags) calib64[key] = value;
    nlohmann::json doc{{"calib64", calib64},
                       {"context", context_json_.empty() ? nlohmann::json::object() : nlohmann::json::parse(context_json_)},
                       {"benchmarks", nlohmann::json::array()}};
    for (const std::string& run : run_json_) doc["benchmarks"].push_back(nlohmann::json::parse(run));
    return doc.dump(1);
}

}  // namespace calib64::calib
