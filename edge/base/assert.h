#pragma once
// ET_ASSERT: checks for programmer errors, never for input. Stays on in
// release builds (it is cheap); a failure prints the condition and location
// and aborts. ET_DASSERT is for expensive checks and is compiled out with NDEBUG.

namespace edgetable::internal {
[[noreturn]] void AssertFail(const char* cond, const char* file, int line);
}  // namespace edgetable::internal

#define ET_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::edgetable::internal::AssertFail(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define ET_DASSERT(cond) static_cast<void>(0)
#else
#define ET_DASSERT(cond) ET_ASSERT(cond)
#endif
