#pragma once
// Logging for every module goes through spdlog, configured once by the binary
// (edge/app). Modules log with ET_LOG_INFO("...{}...", x) and friends.
// Threads: spdlog's default logger is thread-safe.

#include <spdlog/spdlog.h>

#include <string_view>

namespace edgetable::log {
// Sets the global level from "trace", "debug", "info", "warn", "error", "off".
// Returns false (and leaves the level alone) for any other name.
bool SetLevel(std::string_view level);
}  // namespace edgetable::log

#define ET_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define ET_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define ET_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define ET_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
