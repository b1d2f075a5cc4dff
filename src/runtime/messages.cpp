// The library's warnings: to the application's sink, each distinct text once.
#include <calib64/calib64.h>

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

#include "runtime/settings.h"

namespace calib64 {
void stderr_message_sink(std::string_view message, void*) {
    std::fprintf(stderr, "calib64: %.*s\n", static_cast<int>(message.size()), message.data());
}

namespace {

// Trivially destructible state, so messages still work in static destructors; the
// set of texts already sent is deliberately never freed for the same reason.
constinit std::mutex sink_mutex;
constinit message_sink current_sink = &stderr_message_sink;
constinit void* current_context = nullptr;

}  // namespace

void set_message_sink(message_sink sink, void* context) noexcept {
    const std::lock_guard lock(sink_mutex);
    current_sink = sink;
    current_context = context;
}

void runtime::send_message(std::string_view message) noexcept {
    try {
        const std::lock_guard lock(sink_mutex);
        static auto* sent = new std::set<std::string, std::less<>>();
        if (!sent->emplace(message).second || current_sink == nullptr) return;
        current_sink(message, current_context);
    } catch (...) {
        // Out of memory while warning: the warning is lost, nothing else is.
    }
}

}  // namespace calib64
