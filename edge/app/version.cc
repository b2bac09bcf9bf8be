#include "edge/app/version.h"

namespace edgetable::app {
namespace {

constexpr std::string_view Architecture() {
#if defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "armhf";
#elif defined(__x86_64__)
  return "amd64";
#elif defined(__i386__)
  return "i386";
#else
  return "unknown-arch";
#endif
}

}  // namespace

std::string VersionString() {
  std::string s = "edgetable ";
  s += kVersion;
  s += " (";
  s += Architecture();
  s += ", ";
  s += std::to_string(sizeof(void*) * 8);
  s += "-bit)";
  return s;
}

}  // namespace edgetable::app
