/*
 * bench_common.h - what the benchmark programs (krbap_bench.c, farm_bench.c) share: their
 * checks and the closing "N passed, N failed" line that scripts/test.sh counts, a fatal
 * error that still prints that line, krbap's status text, and the monotonic clock.
 * Each program defines BENCH_NAME (its name in messages) before including it.
 */
#ifndef KRBAP_BENCH_COMMON_H
#define KRBAP_BENCH_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "krbap.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_common.h"
#endif

/* --smoke: every check is printed, not only the failures. */
static int smoke;
static int checks_passed, checks_failed;

static void check(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (ok) {
    checks_passed++;
    if (smoke) {
      printf("ok    ");
      vprintf(fmt, ap);
      printf("\n");
    }
  } else {
    checks_failed++;
    printf("FAIL  ");
    vprintf(fmt, ap);
    printf("\n");
  }
  va_end(ap);
}

/* A setup failure: the reason on stderr, and one more failure in the closing line. */
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, BENCH_NAME ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  printf("%d passed, %d failed\n", checks_passed, checks_failed + 1);
  exit(1);
}

static void krbap_status(const char *what, uint32_t major, uint32_t minor) {
  uint32_t m, ctx = 0;
  krbap_buffer s = {0, NULL};
  fprintf(stderr, BENCH_NAME ": krbap %s: major 0x%x minor %d", what, (unsigned)major,
          (int)minor);
  if (krbap_display_status(&m, minor, KRBAP_C_MECH_CODE, &ctx, &s) == 0) {
    fprintf(stderr, " (%.*s)", (int)s.length, s.value ? (const char *)s.value : "");
    krbap_buffer_free(&m, &s);
  }
  fprintf(stderr, "\n");
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
