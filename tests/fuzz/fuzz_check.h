#pragma once
// FUZZ_CHECK: an invariant of a fuzz target. A failure prints what broke and
// aborts, which libFuzzer reports as a crash (and saves the input) and the
// corpus driver reports as a failed test.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s: %s\n", __FILE__, __LINE__, \
                   #cond, (what));                                                    \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)
