// Runs fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer, so that
// every fuzz target is also a plain test over its seed corpus (and runs under
// ASan/UBSan in the sanitizer build).
//
//   fuzz_<name> <dir-or-file>...
// Each argument is a file, or a directory whose regular files are all run,
// in name order. Every input is copied into a buffer of exactly its size so
// that a read past its end is caught by AddressSanitizer. Exits 1 if an
// argument cannot be read or no input was found (an empty corpus is a
// mistake, not a pass); a failing input aborts inside the target, after its
// name was printed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool RunOne(const fs::path& path) {
  std::string bytes;
  if (!ReadFile(path, &bytes)) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), bytes.size());
  // An exact-size heap copy: no slack after the last byte for a stray read.
  // (A zero-size input still gets a valid, unreadable pointer.)
  auto buf = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buf.get());
  LLVMFuzzerTestOneInput(buf.get(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus dir or file>...\n", argv[0]);
    return 2;
  }
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      if (ec) {
        std::fprintf(stderr, "cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
        return 1;
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        if (!RunOne(f)) return 1;
        ++ran;
      }
    } else {
      if (!RunOne(arg)) return 1;
      ++ran;
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }
  std::fprintf(stderr, "%zu inputs ran without a failure\n", ran);
  return 0;
}
