// Internal: a fixed table of objects created on first use and kept until exit, found
// afterwards with one atomic load (the executors' caches: a TBB arena per thread
// count, a worker pool per pinning).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>

namespace calib64::detail {

template <class T, std::size_t Slots>
class lazy_slots {
public:
    lazy_slots() = default;
    lazy_slots(const lazy_slots&) = delete;
    lazy_slots& operator=(const lazy_slots&) = delete;
    ~lazy_slots() {
        if (keep_) return;
        for (auto& slot : slots_) delete slot.load(std::memory_order_acquire);
    }

    // The object in `slot` (< Slots), made by `make()` (returning a new T, or nullptr
    // on failure) the first time. `make` runs under a mutex, at most once per slot
    // while it succeeds; returns nullptr when it failed.
    template <class Make>
    T* get(std::size_t slot, Make&& make) noexcept {
        auto& s = slots_[slot];
        if (T* p = s.load(std::memory_order_acquire)) return p;
        const std::lock_guard lock(create_mutex_);
        if (T* p = s.load(std::memory_order_relaxed)) return p;
        T* p = make();
        if (p != nullptr) s.store(p, std::memory_order_release);
        return p;
    }

    // Makes the destructor leave every object as it is: in a forked child, where
    // they are copies of objects the parent's threads were using (TBB's arenas
    // above all, whose teardown would call into TBB's inherited state). The
    // pointers stay in this table, so leak checkers still find the objects.
    void keep_at_exit() noexcept { keep_ = true; }

private:
    std::array<std::atomic<T*>, Slots> slots_{};
    std::mutex create_mutex_;
    bool keep_ = false;
};

}  // namespace calib64::detail
