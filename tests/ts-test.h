/* ts-test.h — the few macros our C tests need.
 *
 * A test file defines static void test_*(void) functions and a main that
 * calls TS_RUN(test_x) for each, then returns ts_test_finish(). Failed
 * checks print file:line and the expression, and the test keeps going so one
 * run shows every failure. Exit 77 means "skipped" to meson. */
#ifndef TS_TESTS_TEST_H
#define TS_TESTS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ts_test_checks, ts_test_failed_checks, ts_test_failed_tests;
static int ts_test_current_failed;

#define TS_CHECK(cond)                                                                    \
  do {                                                                                    \
    ts_test_checks++;                                                                     \
    if (!(cond)) {                                                                        \
      ts_test_failed_checks++;                                                            \
      ts_test_current_failed = 1;                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);            \
    }                                                                                     \
  } while (0)

#define TS_CHECKF(cond, ...)                                                              \
  do {                                                                                    \
    ts_test_checks++;                                                                     \
    if (!(cond)) {                                                                        \
      ts_test_failed_checks++;                                                            \
      ts_test_current_failed = 1;                                                         \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);            \
      fprintf(stderr, __VA_ARGS__);                                                       \
      fputc('\n', stderr);                                                                \
    }                                                                                     \
  } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define TS_CHECK_CLOSE(a, b, tol)                                                         \
  do {                                                                                    \
    double ts_a_ = (double)(a), ts_b_ = (double)(b);                                      \
    double ts_s_ = fmax(1.0, fmax(fabs(ts_a_), fabs(ts_b_)));                             \
    TS_CHECKF(fabs(ts_a_ - ts_b_) <= (tol) * ts_s_ || (ts_a_ == ts_b_), "%s = %.17g, %s = %.17g", #a, ts_a_, #b, \
              ts_b_);                                                                     \
  } while (0)

#define TS_RUN(fn)                                                                        \
  do {                                                                                    \
    ts_test_current_failed = 0;                                                           \
    fn();                                                                                 \
    printf("%s %s\n", ts_test_current_failed ? "FAIL" : "ok  ", #fn);                     \
    fflush(stdout);                                                                       \
    ts_test_failed_tests += ts_test_current_failed;                                       \
  } while (0)

static inline int ts_test_finish(void) {
  printf("%d checks, %d failed\n", ts_test_checks, ts_test_failed_checks);
  return ts_test_failed_tests ? 1 : 0;
}

/* Skip the whole test file (meson counts exit 77 as skipped). */
#define TS_SKIP(...)                                                                      \
  do {                                                                                    \
    printf("SKIP: ");                                                                     \
    printf(__VA_ARGS__);                                                                  \
    printf("\n");                                                                         \
    exit(77);                                                                             \
  } while (0)

#endif
