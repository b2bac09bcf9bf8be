/* Prints the data model of the machine it runs on, for cross-test.sh: the
 * widths EdgeTable's code must not assume (time_t and long are 32 bits on
 * armhf), the C library, and the ARM architecture it was compiled for.
 * Exit status 0; the caller compares the figures with what it expects. */
#include <gnu/libc-version.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  /* 2100-01-01T00:00:00Z: past the 32-bit time_t limit of 2038-01-19. */
  const int64_t t2100 = INT64_C(4102444800);
  const int time_t_holds_2100 = (int64_t)(time_t)t2100 == t2100;
#if defined(__aarch64__)
  const char* isa = "aarch64 (ARMv8-A)";
#elif defined(__ARM_ARCH)
  char isa_buf[64];
  snprintf(isa_buf, sizeof isa_buf, "ARMv%d%s, FP 0x%x%s", __ARM_ARCH,
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'A'
           "-A",
#else
           "",
#endif
#if defined(__ARM_FP)
           __ARM_FP,
#else
           0,
#endif
#if defined(__thumb2__)
           ", Thumb-2"
#else
           ""
#endif
  );
  const char* isa = isa_buf;
#else
  const char* isa = "not ARM";
#endif
  printf("sizeof(time_t)=%zu sizeof(long)=%zu sizeof(void*)=%zu sizeof(off_t)=%zu "
         "time_t_holds_2100=%s glibc=%s isa=%s\n",
         sizeof(time_t), sizeof(long), sizeof(void*), sizeof(off_t),
         time_t_holds_2100 ? "yes" : "no", gnu_get_libc_version(), isa);
  return 0;
}
