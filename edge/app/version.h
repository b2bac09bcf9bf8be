#pragma once
// The version of this build of EdgeTable.

#include <string>
#include <string_view>

namespace edgetable::app {

inline constexpr std::string_view kVersion = EDGETABLE_VERSION;

// "edgetable 0.1.0 (x86_64, sqlite 3.40.1, ...)".
std::string VersionString();

}  // namespace edgetable::app
