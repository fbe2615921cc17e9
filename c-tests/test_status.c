/*
 * krbap_display_status, krbap_buffer_free, krbap_version and the status constants.
 * Expected values are RFC 2744's (§3.9.1 status codes, §3.9 display_status) and the
 * texts MIT krb5 1.20 prints (checked against MIT itself in test_status_mit.c).
 */
#include "krbap.h"
#include "krbap_test.h"

#include <stdint.h>

/* Calls krbap_display_status until message_context returns to 0 and checks that the
 * messages are exactly `expected` (NULL-terminated list), in order. */
static void check_major_messages(uint32_t status, const char *const *expected, const char *what) {
    uint32_t context = 0;
    size_t index = 0;
    do {
        uint32_t minor = 12345;
        krbap_buffer text;
        text.length = 99;
        text.value = NULL;
        uint32_t major =
            krbap_display_status(&minor, status, KRBAP_C_GSS_CODE, &context, &text);
        CHECK(major == KRBAP_S_COMPLETE, what);
        CHECK(minor == 0, "a successful call writes minor status 0");
        if (expected[index] == NULL) {
            CHECK(0, "more messages than expected");
            krbap_buffer_free(&minor, &text);
            break;
        }
        CHECK_STR(text.length, text.value, expected[index], what);
        krbap_buffer_free(&minor, &text);
        index++;
        if (major != KRBAP_S_COMPLETE) {
            break;
        }
    } while (context != 0 && index < 16);
    CHECK(context == 0, "message_context is 0 after the last message");
    CHECK(expected[index] == NULL, "as many messages as expected");
}

static void test_constants(void) {
    /* RFC 2744 §3.9.1: calling errors at bit 24, routine errors at bit 16. */
    CHECK(KRBAP_S_COMPLETE == 0u, "GSS_S_COMPLETE");
    CHECK(KRBAP_S_CONTINUE_NEEDED == 1u, "GSS_S_CONTINUE_NEEDED");
    CHECK(KRBAP_S_DUPLICATE_TOKEN == 2u, "GSS_S_DUPLICATE_TOKEN");
    CHECK(KRBAP_S_OLD_TOKEN == 4u, "GSS_S_OLD_TOKEN");
    CHECK(KRBAP_S_UNSEQ_TOKEN == 8u, "GSS_S_UNSEQ_TOKEN");
    CHECK(KRBAP_S_GAP_TOKEN == 16u, "GSS_S_GAP_TOKEN");
    CHECK(KRBAP_S_CALL_INACCESSIBLE_READ == (1u << 24), "GSS_S_CALL_INACCESSIBLE_READ");
    CHECK(KRBAP_S_CALL_INACCESSIBLE_WRITE == (2u << 24), "GSS_S_CALL_INACCESSIBLE_WRITE");
    CHECK(KRBAP_S_CALL_BAD_STRUCTURE == (3u << 24), "GSS_S_CALL_BAD_STRUCTURE");
    CHECK(KRBAP_S_BAD_MECH == (1u << 16), "GSS_S_BAD_MECH");
    CHECK(KRBAP_S_BAD_NAME == (2u << 16), "GSS_S_BAD_NAME");
    CHECK(KRBAP_S_BAD_NAMETYPE == (3u << 16), "GSS_S_BAD_NAMETYPE");
    CHECK(KRBAP_S_BAD_BINDINGS == (4u << 16), "GSS_S_BAD_BINDINGS");
    CHECK(KRBAP_S_BAD_STATUS == (5u << 16), "GSS_S_BAD_STATUS");
    CHECK(KRBAP_S_BAD_SIG == (6u << 16), "GSS_S_BAD_SIG");
    CHECK(KRBAP_S_NO_CRED == (7u << 16), "GSS_S_NO_CRED");
    CHECK(KRBAP_S_NO_CONTEXT == (8u << 16), "GSS_S_NO_CONTEXT");
    CHECK(KRBAP_S_DEFECTIVE_TOKEN == (9u << 16), "GSS_S_DEFECTIVE_TOKEN");
    CHECK(KRBAP_S_DEFECTIVE_CREDENTIAL == (10u << 16), "GSS_S_DEFECTIVE_CREDENTIAL");
    CHECK(KRBAP_S_CREDENTIALS_EXPIRED == (11u << 16), "GSS_S_CREDENTIALS_EXPIRED");
    CHECK(KRBAP_S_CONTEXT_EXPIRED == (12u << 16), "GSS_S_CONTEXT_EXPIRED");
    CHECK(KRBAP_S_FAILURE == (13u << 16), "GSS_S_FAILURE");
    CHECK(KRBAP_S_BAD_QOP == (14u << 16), "GSS_S_BAD_QOP");
    CHECK(KRBAP_S_UNAUTHORIZED == (15u << 16), "GSS_S_UNAUTHORIZED");
    CHECK(KRBAP_S_UNAVAILABLE == (16u << 16), "GSS_S_UNAVAILABLE");
    /* RFC 2744 §3.9: GSS_C_GSS_CODE 1, GSS_C_MECH_CODE 2. */
    CHECK(KRBAP_C_GSS_CODE == 1, "GSS_C_GSS_CODE");
    CHECK(KRBAP_C_MECH_CODE == 2, "GSS_C_MECH_CODE");
    CHECK(KRBAP_MAX_BUFFER == ((size_t)1 << 30), "KRBAP_MAX_BUFFER is 1 GiB");
}

static void test_display_major(void) {
    static const char *const complete[] = {"The routine completed successfully", NULL};
    check_major_messages(KRBAP_S_COMPLETE, complete, "GSS_S_COMPLETE");

    static const char *const defective_duplicate[] = {
        "Invalid token was supplied", "The token was a duplicate of an earlier token", NULL};
    check_major_messages(KRBAP_S_DEFECTIVE_TOKEN | KRBAP_S_DUPLICATE_TOKEN, defective_duplicate,
                         "DEFECTIVE_TOKEN|DUPLICATE_TOKEN");

    /* Calling error first, then the routine error, then the supplementary bits in
     * increasing order (as MIT). */
    static const char *const all_parts[] = {
        "A required input parameter could not be read",
        "Unspecified GSS failure.  Minor code may provide more information",
        "The token's validity period has expired",
        "An expected per-message token was not received", NULL};
    check_major_messages(KRBAP_S_CALL_INACCESSIBLE_READ | KRBAP_S_FAILURE | KRBAP_S_GAP_TOKEN |
                             KRBAP_S_OLD_TOKEN,
                         all_parts, "calling + routine + two supplementary parts");

    static const char *const continue_needed[] = {
        "The routine must be called again to complete its function", NULL};
    check_major_messages(KRBAP_S_CONTINUE_NEEDED, continue_needed, "GSS_S_CONTINUE_NEEDED");

    static const char *const bad_sig[] = {
        "A token had an invalid Message Integrity Check (MIC)", NULL};
    check_major_messages(KRBAP_S_BAD_SIG, bad_sig, "GSS_S_BAD_SIG");

    /* A NULL message_context is treated as 0: the first message. */
    uint32_t minor = 0;
    krbap_buffer text;
    text.length = 0;
    text.value = NULL;
    uint32_t major = krbap_display_status(&minor, KRBAP_S_DEFECTIVE_TOKEN | KRBAP_S_DUPLICATE_TOKEN,
                                          KRBAP_C_GSS_CODE, NULL, &text);
    CHECK(major == KRBAP_S_COMPLETE, "NULL message_context is accepted");
    CHECK_STR(text.length, text.value, "Invalid token was supplied", "NULL message_context");
    krbap_buffer_free(&minor, &text);

    /* A NULL minor_status pointer is accepted (nothing is written through it). */
    uint32_t context = 0;
    major = krbap_display_status(NULL, KRBAP_S_NO_CRED, KRBAP_C_GSS_CODE, &context, &text);
    CHECK(major == KRBAP_S_COMPLETE, "NULL minor_status is accepted");
    CHECK(text.length > 0 && text.value != NULL, "a message with NULL minor_status");
    krbap_buffer_free(NULL, &text);
}

static void test_display_minor(void) {
    uint32_t minor = 99;
    uint32_t context = 0;
    krbap_buffer text;
    text.length = 0;
    text.value = NULL;
    /* KRB5KRB_AP_ERR_SKEW = ERROR_TABLE_BASE_krb5 (-1765328384) + 37. */
    uint32_t major = krbap_display_status(&minor, (uint32_t)(int32_t)-1765328347,
                                          KRBAP_C_MECH_CODE, &context, &text);
    CHECK(major == KRBAP_S_COMPLETE, "display of a minor code succeeds");
    CHECK(minor == 0, "minor status 0 on success");
    CHECK(context == 0, "a minor code has exactly one message");
    CHECK_STR(text.length, text.value, "Clock skew too great", "KRB5KRB_AP_ERR_SKEW");
    krbap_buffer_free(&minor, &text);

    /* KRB5_KT_NOTFOUND = base + 181. */
    major = krbap_display_status(&minor, (uint32_t)(int32_t)(-1765328384 + 181),
                                 KRBAP_C_MECH_CODE, &context, &text);
    CHECK(major == KRBAP_S_COMPLETE, "display of KRB5_KT_NOTFOUND");
    CHECK_STR(text.length, text.value, "Key table entry not found", "KRB5_KT_NOTFOUND");
    krbap_buffer_free(&minor, &text);
}

static void test_display_errors(void) {
    uint32_t minor = 0;
    uint32_t context = 0;
    krbap_buffer text;
    text.length = 7;
    text.value = &context; /* garbage the call must overwrite with {0, NULL} */
    uint32_t major = krbap_display_status(&minor, KRBAP_S_FAILURE, 3, &context, &text);
    CHECK(major == KRBAP_S_BAD_STATUS, "an unknown status_type gives GSS_S_BAD_STATUS");
    CHECK(minor == 22u, "minor status EINVAL for an unknown status_type");
    CHECK(text.length == 0 && text.value == NULL, "a failed call leaves the output empty");

    /* The detail of this thread's last failure is appended to the minor code's text. */
    context = 0;
    major = krbap_display_status(&minor, 22u, KRBAP_C_MECH_CODE, &context, &text);
    CHECK(major == KRBAP_S_COMPLETE, "display of EINVAL");
    CHECK_STR(text.length, text.value, "Invalid argument (unknown status_type)",
              "EINVAL with the detail of the last failure");
    krbap_buffer_free(&minor, &text);

    context = 0;
    major = krbap_display_status(&minor, KRBAP_S_FAILURE, KRBAP_C_GSS_CODE, &context, NULL);
    CHECK((major & 0xff000000u) != 0, "a NULL output buffer is a calling error");
    CHECK(major == KRBAP_S_CALL_INACCESSIBLE_WRITE,
          "a NULL output buffer gives GSS_S_CALL_INACCESSIBLE_WRITE");
}

static void test_buffer_free(void) {
    uint32_t minor = 77;
    CHECK(krbap_buffer_free(&minor, NULL) == KRBAP_S_COMPLETE, "freeing a NULL buffer");
    CHECK(minor == 0, "freeing a NULL buffer sets minor 0");

    krbap_buffer empty;
    empty.length = 0;
    empty.value = NULL;
    minor = 77;
    CHECK(krbap_buffer_free(&minor, &empty) == KRBAP_S_COMPLETE, "freeing an empty buffer");
    CHECK(minor == 0 && empty.length == 0 && empty.value == NULL, "an empty buffer stays empty");

    uint32_t context = 0;
    krbap_buffer text;
    text.length = 0;
    text.value = NULL;
    krbap_display_status(&minor, KRBAP_S_NO_CONTEXT, KRBAP_C_GSS_CODE, &context, &text);
    CHECK(text.length > 0 && text.value != NULL, "display_status returned an owned buffer");
    CHECK(krbap_buffer_free(&minor, &text) == KRBAP_S_COMPLETE, "freeing an owned buffer");
    CHECK(text.length == 0 && text.value == NULL, "a freed buffer is set to {0, NULL}");
    /* The second free sees {0, NULL} and does nothing (valgrind/ASan catch a double free). */
    CHECK(krbap_buffer_free(&minor, &text) == KRBAP_S_COMPLETE, "freeing it again is a no-op");
    CHECK(text.length == 0 && text.value == NULL, "still {0, NULL}");
}

static void test_version(void) {
    const char *version = krbap_version();
    CHECK(version != NULL, "krbap_version is not NULL");
    if (version != NULL) {
        CHECK(strlen(version) > 0, "krbap_version is not empty");
        CHECK(version[0] >= '0' && version[0] <= '9' && strchr(version, '.') != NULL,
              "krbap_version looks like MAJOR.MINOR.PATCH");
        CHECK(krbap_version() == version, "krbap_version is a static string");
    }
}

int main(void) {
    test_constants();
    test_display_major();
    test_display_minor();
    test_display_errors();
    test_buffer_free();
    test_version();
    return TEST_SUMMARY();
}
