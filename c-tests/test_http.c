/*
 * The HTTP Negotiate header helpers (RFC 4559) through the C ABI: exact header values,
 * round trips of every token length through both directions, the scheme's case, the
 * whitespace RFC 7235 allows, challenge lists, and the detail krbap_display_status
 * gives for each error class. (The failure classes are rows of test_bad_input.c.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "krbap.h"
#include "krbap_test.h"

#define MINOR_ENODATA 61u
#define MINOR_EBADMSG 74u
#define MINOR_EMSGSIZE 90u
#define MINOR_EPROTONOSUPPORT 93u

static krbap_buffer buf(const void *value, size_t length) {
    krbap_buffer b;
    b.length = length;
    b.value = (void *)value;
    return b;
}

static void release(krbap_buffer *b) {
    uint32_t minor = 0;
    krbap_buffer_free(&minor, b);
}

/* A krbap_buffer's characters as a NUL-terminated string (malloc'ed). */
static char *c_string(const krbap_buffer *b) {
    char *s = (char *)malloc(b->length + 1);
    if (s != NULL) {
        if (b->length > 0) {
            memcpy(s, b->value, b->length);
        }
        s[b->length] = '\0';
    }
    return s;
}

/* The minor status text of this thread's last failure. */
static void minor_text(uint32_t code, char *out, size_t size) {
    uint32_t minor = 0;
    uint32_t context = 0;
    krbap_buffer t = buf(NULL, 0);
    out[0] = '\0';
    if (krbap_display_status(&minor, code, KRBAP_C_MECH_CODE, &context, &t) == KRBAP_S_COMPLETE) {
        snprintf(out, size, "%.*s", (int)t.length, (const char *)t.value);
    }
    release(&t);
}

static void exact_values(void) {
    uint32_t minor = 0;
    krbap_buffer v = buf(NULL, 0);
    krbap_buffer tok = buf("\xa1\x07\x30\x05\xa0\x03\x0a\x01\x02", 9); /* a SPNEGO reject */

    CHECK(krbap_http_www_authenticate(&minor, NULL, &v) == KRBAP_S_COMPLETE, "challenge");
    CHECK_STR(v.length, v.value, "Negotiate", "the first challenge has no token");
    release(&v);
    {
        krbap_buffer empty = buf("x", 0);
        CHECK(krbap_http_www_authenticate(&minor, &empty, &v) == KRBAP_S_COMPLETE, "empty");
        CHECK_STR(v.length, v.value, "Negotiate", "an empty token is no token");
        release(&v);
    }
    CHECK(krbap_http_www_authenticate(&minor, &tok, &v) == KRBAP_S_COMPLETE, "with a token");
    CHECK_STR(v.length, v.value, "Negotiate oQcwBaADCgEC", "the token in base64 (Apache's reject)");
    release(&v);
    CHECK(krbap_http_authorization(&minor, &tok, &v) == KRBAP_S_COMPLETE, "authorization");
    CHECK_STR(v.length, v.value, "Negotiate oQcwBaADCgEC", "Authorization value");
    release(&v);
}

static void round_trips(void) {
    static unsigned char data[1024];
    uint32_t minor = 0;
    size_t n;
    int good = 1;
    for (n = 0; n < sizeof data; n++) {
        data[n] = (unsigned char)(n * 37 + 11);
    }
    for (n = 1; n <= sizeof data && good; n++) {
        krbap_buffer in = buf(data, n);
        krbap_buffer v = buf(NULL, 0);
        krbap_buffer out = buf(NULL, 0);
        char *s;
        if (krbap_http_authorization(&minor, &in, &v) != KRBAP_S_COMPLETE) {
            good = 0;
            break;
        }
        s = c_string(&v);
        good = s != NULL &&
               krbap_http_parse_authorization(&minor, s, &out) == KRBAP_S_COMPLETE &&
               out.length == n && memcmp(out.value, data, n) == 0;
        release(&out);
        /* The same value as a WWW-Authenticate challenge. */
        good = good && krbap_http_parse_www_authenticate(&minor, s, &out) == KRBAP_S_COMPLETE &&
               out.length == n && memcmp(out.value, data, n) == 0;
        release(&out);
        free(s);
        release(&v);
    }
    CHECK(good, "every token length 1..1024 round-trips through both directions");
}

static void accepted_forms(void) {
    static const char *const forms[] = {"Negotiate oQcwBaADCgEC", "negotiate oQcwBaADCgEC",
                                        "NEGOTIATE oQcwBaADCgEC", "nEgOtIaTe   oQcwBaADCgEC",
                                        " \tNegotiate oQcwBaADCgEC\t "};
    uint32_t minor = 0;
    size_t i;
    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        krbap_buffer out = buf(NULL, 0);
        uint32_t major = krbap_http_parse_authorization(&minor, forms[i], &out);
        CHECK(major == KRBAP_S_COMPLETE && out.length == 9 &&
                  memcmp(out.value, "\xa1\x07\x30\x05\xa0\x03\x0a\x01\x02", 9) == 0,
              forms[i]);
        release(&out);
    }
}

static void challenges(void) {
    uint32_t minor = 0;
    krbap_buffer out = buf(NULL, 0);
    uint32_t major = krbap_http_parse_www_authenticate(&minor, "Negotiate", &out);
    CHECK(major == KRBAP_S_COMPLETE && out.length == 0 && out.value == NULL,
          "a bare challenge: COMPLETE and an empty token");
    major = krbap_http_parse_www_authenticate(
        &minor, "Basic realm=\"Kerberos, or not\", charset=\"UTF-8\", Negotiate oQcwBaADCgEC",
        &out);
    CHECK(major == KRBAP_S_COMPLETE && out.length == 9, "Negotiate after a Basic challenge");
    release(&out);
    major = krbap_http_parse_www_authenticate(&minor, "NTLM, Negotiate oQcwBaADCgEC, Basic x=y",
                                              &out);
    CHECK(major == KRBAP_S_COMPLETE && out.length == 9, "Negotiate between NTLM and Basic");
    release(&out);
}

static void details(void) {
    uint32_t minor = 0;
    krbap_buffer out = buf(NULL, 0);
    char text[512];
    uint32_t major = krbap_http_parse_authorization(&minor, "Basic YWxpY2U6cA==", &out);
    minor_text(minor, text, sizeof text);
    CHECK(major == KRBAP_S_BAD_MECH && minor == MINOR_EPROTONOSUPPORT, "Basic: BAD_MECH");
    CHECK(strcmp(text, "Protocol not supported (authentication scheme \"Basic\" is not "
                       "Negotiate (RFC 4559))") == 0,
          text);
    major = krbap_http_parse_authorization(&minor, "Negotiate", &out);
    minor_text(minor, text, sizeof text);
    CHECK(major == KRBAP_S_DEFECTIVE_TOKEN && minor == MINOR_ENODATA, "no token: ENODATA");
    CHECK(strcmp(text, "No data available (Negotiate credentials without a token)") == 0, text);
    major = krbap_http_parse_authorization(&minor, "Negotiate oQcwBa-DCgEC", &out);
    minor_text(minor, text, sizeof text);
    CHECK(major == KRBAP_S_DEFECTIVE_TOKEN && minor == MINOR_EBADMSG, "'-': EBADMSG");
    CHECK(strcmp(text, "Bad message (Negotiate token: character '-' at offset 6 is not in the "
                       "base64 alphabet)") == 0,
          text);
    major = krbap_http_parse_www_authenticate(&minor, "Basic realm=\"x\", NTLM", &out);
    minor_text(minor, text, sizeof text);
    CHECK(major == KRBAP_S_BAD_MECH && minor == MINOR_EPROTONOSUPPORT, "no Negotiate challenge");
    CHECK(strcmp(text, "Protocol not supported (WWW-Authenticate: no Negotiate challenge "
                       "(offered: Basic, NTLM))") == 0,
          text);
    {
        size_t chars = (KRBAP_HTTP_MAX_TOKEN / 3 + 2) * 4;
        char *big = (char *)malloc(10 + chars + 1);
        if (big != NULL) {
            memcpy(big, "Negotiate ", 10);
            memset(big + 10, 'A', chars);
            big[10 + chars] = '\0';
            major = krbap_http_parse_authorization(&minor, big, &out);
            minor_text(minor, text, sizeof text);
            CHECK(major == KRBAP_S_DEFECTIVE_TOKEN && minor == MINOR_EMSGSIZE, "too long");
            CHECK(strcmp(text, "Message too long (Negotiate token of 65541 bytes exceeds the "
                               "limit of 65536 bytes)") == 0,
                  text);
            free(big);
        }
    }
    CHECK(out.length == 0 && out.value == NULL, "no output after failures");
}

int main(void) {
    exact_values();
    round_trips();
    accepted_forms();
    challenges();
    details();
    return TEST_SUMMARY();
}
