/*
 * A tiny test harness for the C tests of krbap's C ABI (every .c file in c-tests/).
 *
 * Every .c file of c-tests/ is a program of its own: the test driver (scripts/test.sh) builds it
 * against the shared library, the static library and, as C++17, against the shared
 * library again, and runs each build (the shared one also under valgrind and with
 * AddressSanitizer). Write the tests in the common subset of C11 and C++17: no
 * designated initializers, no compound literals, no VLAs, cast the result of malloc.
 *
 * A test that needs other libraries names their pkg-config modules on a line of its own:
 *     // krbap-test-pkgs: krb5 krb5-gssapi
 * Tests run with the repository root as the working directory (for tests/data/...).
 *
 *     CHECK(cond, "what must hold");             counts a pass or prints the failure
 *     CHECK_STR(actual, len, "expected", "what"); compares a (length, bytes) string
 *     return TEST_SUMMARY();   prints "N passed, N failed"; 0 iff some passed and none failed
 */
#ifndef KRBAP_TEST_H
#define KRBAP_TEST_H

#include <stdio.h>
#include <string.h>

static int krbap_test_passed = 0;
static int krbap_test_failed = 0;

#define CHECK(cond, msg)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            krbap_test_passed++;                                                           \
        } else {                                                                           \
            krbap_test_failed++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s [%s]\n", __FILE__, __LINE__, (msg), #cond);    \
        }                                                                                  \
    } while (0)

/* True when the `length` bytes at `value` are exactly the NUL-terminated `expected`. */
static inline int krbap_test_bytes_equal(size_t length, const void *value, const char *expected) {
    size_t expected_length = strlen(expected);
    if (length != expected_length) {
        return 0;
    }
    return length == 0 || (value != NULL && memcmp(value, expected, length) == 0);
}

#define CHECK_STR(length, value, expected, msg)                                            \
    do {                                                                                   \
        if (krbap_test_bytes_equal((length), (value), (expected))) {                       \
            krbap_test_passed++;                                                           \
        } else {                                                                           \
            krbap_test_failed++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: got \"%.*s\", expected \"%s\"\n", __FILE__,   \
                    __LINE__, (msg), (int)(length),                                        \
                    (value) != NULL ? (const char *)(value) : "", (expected));             \
        }                                                                                  \
    } while (0)

/* Prints the counts on a line of their own and evaluates to the exit status: non-zero
 * when a check failed, and also when none ran (a test that checks nothing is broken). */
#define TEST_SUMMARY()                                                                     \
    (printf("%d passed, %d failed\n", krbap_test_passed, krbap_test_failed),               \
     fflush(stdout), (krbap_test_failed != 0 || krbap_test_passed == 0) ? 1 : 0)

#endif /* KRBAP_TEST_H */
