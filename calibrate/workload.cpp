#include "workload.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CALIB64_SPIN_PAUSE() _mm_pause()
#else
#define CALIB64_SPIN_PAUSE() ((void)0)
#endif

namespace calib64::calib {
namespace {

using runtime::operation;

// memcpy split over `parts` threads that spin between calls: a sleeping team would
// measure waking it (tens of microseconds on a VM), not memory bandwidth.
class copy_team {
public:
    explicit copy_team(unsigned parts) : parts_(std::max(1u, parts)) {
        for (unsigned i = 1; i < parts_; ++i) workers_.emplace_back([this, i] { work(i); });
    }
    copy_team(const copy_team&) = delete;
    copy_team& operator=(const copy_team&) = delete;
    ~copy_team() {
        stop_.store(true, std::memory_order_release);
        for (auto& t : workers_) t.join();
    }
    void copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
        dst_ = dst;
        src_ = src;
        n_ = n;
        pending_.store(parts_ - 1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
        part(0);
        while (pending_.load(std::memory_order_acquire) != 0) CALIB64_SPIN_PAUSE();
    }

private:
    void part(unsigned i) {
        const std::size_t per = (n_ / parts_ + 63) / 64 * 64;
        const std::size_t begin = std::min(n_, per * i), end = i + 1 == parts_ ? n_ : std::min(n_, per * (i + 1));
        if (end > begin) std::memcpy(dst_ + begin, src_ + begin, end - begin);
    }
    void work(unsigned i) {
        std::uint64_t seen = 0;
        while (!stop_.load(std::memory_order_acquire)) {
            const std::uint64_t g = generation_.load(std::memory_order_acquire);
            if (g == seen) {
                CALIB64_SPIN_PAUSE();
                continue;
            }
            seen = g;
            part(i);
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
    unsigned parts_;
    std::vector<std::thread> workers_;
    alignas(64) std::atomic<std::uint64_t> generation_{0};
    alignas(64) std::atomic<unsigned> pending_{0};
    std::atomic<bool> stop_{false};
    std::uint8_t* dst_ = nullptr;
    const std::uint8_t* src_ = nullptr;
    std::size_t n_ = 0;
};

class buffer_workload final : public workload {
public:
    buffer_workload(std::uint64_t max_bytes, std::uint64_t seed, unsigned threads) : threads_(threads) {
        src_.resize((max_bytes + 2) / 3 * 3);
        // splitmix64: cheap, and random enough that no kernel sees a pattern.
        std::uint64_t state = seed ^ 0x9e3779b97f4a7c15ull;
        for (std::size_t i = 0; i + 8 <= src_.size(); i += 8) {
            std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            std::memcpy(src_.data() + i, &z, 8);
        }
        // The scalar reference's encoding: every kernel and backend is checked against it.
        encoded_.resize(encoded_length(src_.size()));
        (void)calib64::encode(src_, std::span<char>(encoded_.data(), encoded_.size()), {.kernel = kernel_id::scalar});
        out_chars_.assign(encoded_.size() + 64, 0);  // touched now: no page faults in timing
        out_bytes_.assign(src_.size() + 64, 0);
    }

    call codec_call(operation op, backend how, kernel_id kernel, const parallel_options& par, std::uint64_t n) override {
        if (op == operation::encode)
            return [this, how, kernel, par, n] {
                encode_options o;
                o.kernel = kernel;
                return encode_with(how, in_bytes(n), std::span<char>(out_chars_), o, par).ok();
            };
        return [this, how, kernel, par, n] {
            decode_options o;
            o.kernel = kernel;
            return decode_with(how, in_chars(n), std::span<std::uint8_t>(out_bytes_), o, par).ok();
        };
    }

    call auto_call(operation op, std::shared_ptr<const runtime::resolved_settings> s, std::uint64_t n) override {
        if (op == operation::encode)
            return [this, s, n] { return runtime::encode_auto_with(*s, in_bytes(n), std::span<char>(out_chars_)).ok(); };
        return [this, s, n] { return runtime::decode_auto_with(*s, in_chars(n), std::span<std::uint8_t>(out_bytes_)).ok(); };
    }

    call memcpy_call(std::uint64_t n, bool all_threads) override {
        if (all_threads)
            return [this, n] {
                team_->copy(out_bytes_.data(), src_.data(), n);
                return true;
            };
        return [this, n] {
            std::memcpy(out_bytes_.data(), src_.data(), n);
            return true;
        };
    }

    check verify(operation op, std::uint64_t n) override {
        if (op == operation::encode) return [this, n] { return verify_encoded(n); };
        return [this, n] {
            if (std::memcmp(out_bytes_.data(), src_.data(), n / 4 * 3) != 0) return std::string("decoded bytes differ from the input");
            return std::string();
        };
    }

    void start_copy_team() override { team_ = std::make_unique<copy_team>(threads_); }
    void stop_copy_team() override { team_.reset(); }

private:
    std::span<const std::uint8_t> in_bytes(std::uint64_t n) const { return {src_.data(), static_cast<std::size_t>(n)}; }
    std::string_view in_chars(std::uint64_t n) const { return {encoded_.data(), static_cast<std::size_t>(n)}; }

    std::string verify_encoded(std::uint64_t n) const {
        const std::size_t whole = n / 3 * 4;
        if (std::memcmp(out_chars_.data(), encoded_.data(), whole) != 0) return "encoded text differs from the scalar reference";
        const std::string tail = calib64::encode(std::string_view(reinterpret_cast<const char*>(src_.data()) + n / 3 * 3, n % 3),
                                                 {.kernel = kernel_id::scalar});
        if (std::memcmp(out_chars_.data() + whole, tail.data(), tail.size()) != 0) return "encoded tail differs from the reference";
        return {};
    }

    unsigned threads_;
    std::vector<std::uint8_t> src_;
    std::string encoded_;
    std::vector<char> out_chars_;
    std::vector<std::uint8_t> out_bytes_;
    std::unique_ptr<copy_team> team_;
};

}  // namespace

std::unique_ptr<workload> make_buffer_workload(std::uint64_t max_bytes, std::uint64_t seed, unsigned threads) {
    return std::make_unique<buffer_workload>(max_bytes, seed, threads);
}

}  // namespace calib64::calib
