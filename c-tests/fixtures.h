/*
 * Helpers shared by the C tests of the exchange and of per-message protection: the MIT
 * krb5 1.20 fixtures of tests/data/mit-capture/ (README.md there), credentials with
 * fixed clocks, one-call context establishment, a minimal DER walker to locate the
 * ciphertexts inside an initial context token.
 *
 * Written in the common subset of C11 and C++17 (casts on malloc, no designated
 * initializers). All functions are static inline so that a test using only some of
 * them compiles without unused-function warnings.
 */
#ifndef KRBAP_C_TESTS_FIXTURES_H
#define KRBAP_C_TESTS_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krbap.h"

#define FX_DIR "tests/data/mit-capture/"
#define FX_KEYTAB FX_DIR "service.keytab"
#define FX_CCACHE FX_DIR "alice.ccache"
#define FX_CLIENT "alice@TEST.LOCAL"
#define FX_SERVICE_PRINCIPAL "test/localhost@TEST.LOCAL"

/* MIT krb5.h com_err codes: ERROR_TABLE_BASE_krb5 (-1765328384) + n. */
#define FX_KRB5(n) ((uint32_t)(int32_t)(-1765328384 + (n)))
#define KRB5KRB_AP_ERR_BAD_INTEGRITY FX_KRB5(31) /* -1765328353 */
#define KRB5KRB_AP_ERR_TKT_EXPIRED FX_KRB5(32)   /* -1765328352 */
#define KRB5KRB_AP_ERR_TKT_NYV FX_KRB5(33)       /* -1765328351 */
#define KRB5KRB_AP_ERR_REPEAT FX_KRB5(34)        /* -1765328350 */
#define KRB5KRB_AP_ERR_NOT_US FX_KRB5(35)        /* -1765328349 */
#define KRB5KRB_AP_ERR_SKEW FX_KRB5(37)          /* -1765328347 */
#define KRB5KRB_AP_ERR_MODIFIED FX_KRB5(41)      /* -1765328343 */
#define KRB5KRB_AP_ERR_BADKEYVER FX_KRB5(44)     /* -1765328340 */
#define KRB5KRB_AP_ERR_NOKEY FX_KRB5(45)         /* -1765328339 */
#define KRB5KRB_AP_WRONG_PRINC FX_KRB5(144)      /* -1765328240 */

/* Major status parts (RFC 2744 §3.9.1). */
#define FX_ROUTINE(major) ((major) & 0x00ff0000u)
#define FX_CALLING(major) ((major) & 0xff000000u)
#define FX_SUPPLEMENTARY(major) ((major) & 0x0000ffffu)
#define FX_IS_ERROR(major) (((major) & 0xffff0000u) != 0)

/* Prints every check (the harness prints only the failures). */
#define CHECKP(cond, msg)                                                                  \
    do {                                                                                   \
        int fx_ok_ = (cond) ? 1 : 0;                                                       \
        printf("%s %s\n", fx_ok_ ? "ok  " : "FAIL", (msg));                                \
        fflush(stdout);                                                                    \
        CHECK(fx_ok_, (msg));                                                              \
    } while (0)

static inline krbap_buffer fx_buf(const void *value, size_t length) {
    krbap_buffer b;
    b.length = length;
    b.value = (void *)value;
    return b;
}

static inline krbap_buffer fx_empty(void) {
    return fx_buf(NULL, 0);
}

static inline void fx_free(krbap_buffer *b) {
    uint32_t minor = 0;
    (void)krbap_buffer_free(&minor, b);
}

/* Reads a whole file (NUL-terminated for convenience). NULL and a message on error. */
static inline unsigned char *fx_read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t used = 0;
    size_t cap = 0;
    *length = 0;
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (run the tests from the repository root)\n", path);
        return NULL;
    }
    for (;;) {
        size_t n;
        if (cap - used < 4096) {
            unsigned char *grown;
            cap = cap * 2 + 8192;
            grown = (unsigned char *)realloc(data, cap + 1);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        n = fread(data + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            break;
        }
    }
    fclose(f);
    data[used] = '\0';
    *length = used;
    return data;
}

/* The number after `marker` in a text file of the fixtures (e.g. "captured at unix
 * time "), parsed in `base` (10, or 16 for "0x" numbers); -1 when absent. */
static inline long long fx_file_number(const char *path, const char *marker, int base) {
    size_t length = 0;
    unsigned char *text = fx_read_file(path, &length);
    const char *hit;
    long long value = -1;
    if (text == NULL) {
        return -1;
    }
    hit = strstr((const char *)text, marker);
    if (hit != NULL) {
        char *end = NULL;
        value = strtoll(hit + strlen(marker), &end, base);
        if (end == hit + strlen(marker)) {
            value = -1;
        }
    }
    free(text);
    return value;
}

static inline long long fx_info_number(const char *case_name, const char *marker, int base) {
    char path[256];
    snprintf(path, sizeof path, FX_DIR "%s/info.txt", case_name);
    return fx_file_number(path, marker, base);
}

/* Capture time of the fixtures and end time of the tickets in alice.ccache. */
static inline long long fx_capture_time(void) {
    return fx_info_number("mutual", "captured at unix time ", 10);
}
static inline long long fx_ticket_endtime(void) {
    return fx_info_number("mutual", " endtime ", 10);
}

static inline krbap_name *fx_name(const char *text, int32_t type) {
    uint32_t minor = 0;
    krbap_name *name = NULL;
    krbap_buffer b = fx_buf(text, strlen(text));
    if (FX_IS_ERROR(krbap_import_name(&minor, &b, type, &name))) {
        fprintf(stderr, "cannot import name %s (minor %d)\n", text, (int)(int32_t)minor);
        return NULL;
    }
    return name;
}

/* The display form of a name into out. */
static inline void fx_name_text(const krbap_name *name, char *out, size_t out_size) {
    uint32_t minor = 0;
    krbap_buffer b = fx_empty();
    out[0] = '\0';
    if (!FX_IS_ERROR(krbap_display_name(&minor, name, &b))) {
        snprintf(out, out_size, "%.*s", (int)b.length, b.value ? (const char *)b.value : "");
    }
    fx_free(&b);
}

/* An acceptor credential on the fixture keytab with its clock fixed at `now`. */
static inline krbap_cred *fx_acceptor(long long now) {
    uint32_t minor = 0;
    krbap_cred *cred = NULL;
    if (FX_IS_ERROR(krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT, FX_KEYTAB, &cred, NULL))) {
        fprintf(stderr, "cannot read %s (minor %d)\n", FX_KEYTAB, (int)(int32_t)minor);
        return NULL;
    }
    (void)krbap_cred_set_time(&minor, cred, (int64_t)now);
    return cred;
}

/* An initiator credential on alice's ccache with its clock fixed at `now`. */
static inline krbap_cred *fx_initiator(long long now) {
    uint32_t minor = 0;
    krbap_cred *cred = NULL;
    if (FX_IS_ERROR(krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, FX_CCACHE, &cred, NULL))) {
        fprintf(stderr, "cannot read %s (minor %d)\n", FX_CCACHE, (int)(int32_t)minor);
        return NULL;
    }
    (void)krbap_cred_set_time(&minor, cred, (int64_t)now);
    return cred;
}

/* Makes an initial token for `target`; *ctx receives the initiator context. Returns
 * the init major status. */
static inline uint32_t fx_initial_token(const krbap_cred *ic, const krbap_name *target,
                                        uint32_t req_flags,
                                        const krbap_channel_bindings *bindings, krbap_ctx **ctx,
                                        krbap_buffer *token) {
    uint32_t minor = 0;
    *token = fx_empty();
    *ctx = NULL;
    return krbap_init_sec_context(&minor, ic, ctx, target, req_flags, bindings, NULL, NULL, NULL,
                                  token);
}

/* Accepts `token` with `ac`, discarding everything but the major/minor status (and the
 * context, which is deleted). Returns the major status. */
static inline uint32_t fx_accept_status(const krbap_cred *ac, const void *token, size_t length,
                                        const krbap_channel_bindings *bindings,
                                        uint32_t *minor_out) {
    uint32_t minor = 0;
    uint32_t ignored = 0;
    krbap_ctx *ctx = NULL;
    krbap_buffer in = fx_buf(token, length);
    krbap_buffer out = fx_empty();
    uint32_t major =
        krbap_accept_sec_context(&minor, &ctx, ac, &in, bindings, NULL, NULL, NULL, &out, NULL);
    if (minor_out != NULL) {
        *minor_out = minor;
    }
    fx_free(&out);
    if (ctx != NULL) {
        (void)krbap_delete_sec_context(&ignored, &ctx, NULL);
    }
    return major;
}

/* A full exchange (mutual or not, per req_flags). Returns 0 with both contexts
 * established, -1 (and both NULL) otherwise. */
static inline int fx_establish(const krbap_cred *ic, const krbap_cred *ac, const char *target,
                               int32_t name_type, uint32_t req_flags, krbap_ctx **ictx,
                               krbap_ctx **actx) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_name *name = fx_name(target, name_type);
    krbap_buffer tok = fx_empty();
    krbap_buffer rep = fx_empty();
    krbap_buffer none = fx_empty();
    int result = -1;

    *ictx = NULL;
    *actx = NULL;
    if (name == NULL) {
        return -1;
    }
    major = fx_initial_token(ic, name, req_flags, NULL, ictx, &tok);
    if (FX_IS_ERROR(major)) {
        goto done;
    }
    if (FX_IS_ERROR(krbap_accept_sec_context(&minor, actx, ac, &tok, NULL, NULL, NULL, NULL, &rep,
                                             NULL))) {
        goto done;
    }
    if (major == KRBAP_S_CONTINUE_NEEDED) {
        major = krbap_init_sec_context(&minor, ic, ictx, name, req_flags, NULL, &rep, NULL, NULL,
                                       &none);
        if (major != KRBAP_S_COMPLETE) {
            goto done;
        }
    }
    result = 0;
done:
    if (result != 0) {
        if (*ictx != NULL) {
            (void)krbap_delete_sec_context(&minor, ictx, NULL);
        }
        if (*actx != NULL) {
            (void)krbap_delete_sec_context(&minor, actx, NULL);
        }
    }
    fx_free(&tok);
    fx_free(&rep);
    fx_free(&none);
    (void)krbap_release_name(&minor, &name);
    return result;
}

static inline void fx_delete(krbap_ctx **ctx) {
    uint32_t minor = 0;
    if (*ctx != NULL) {
        (void)krbap_delete_sec_context(&minor, ctx, NULL);
    }
}

/* ---- A minimal DER walker (X.690 definite lengths), enough to find the ciphertexts. */

/* Reads the TLV at [p, end): on success sets *tag, *content and *content_end and
 * returns the end of the TLV; NULL when malformed. Single-byte tags only. */
static inline const unsigned char *fx_der_tlv(const unsigned char *p, const unsigned char *end,
                                              unsigned *tag, const unsigned char **content,
                                              const unsigned char **content_end) {
    size_t len;
    if (p == NULL || end - p < 2) {
        return NULL;
    }
    *tag = p[0];
    len = p[1];
    p += 2;
    if (len & 0x80) {
        size_t n = len & 0x7f;
        if (n == 0 || n > 4 || (size_t)(end - p) < n) {
            return NULL;
        }
        len = 0;
        while (n-- > 0) {
            len = (len << 8) | *p++;
        }
    }
    if ((size_t)(end - p) < len) {
        return NULL;
    }
    *content = p;
    *content_end = p + len;
    return p + len;
}

/* Finds the element with `tag` among the TLVs of [p, end); NULL when absent. */
static inline const unsigned char *fx_der_find(const unsigned char *p, const unsigned char *end,
                                               unsigned tag, const unsigned char **content,
                                               const unsigned char **content_end) {
    while (p != NULL && p < end) {
        unsigned t = 0;
        const unsigned char *next = fx_der_tlv(p, end, &t, content, content_end);
        if (next == NULL) {
            return NULL;
        }
        if (t == tag) {
            return p;
        }
        p = next;
    }
    return NULL;
}

/* Enters a constructed element with `tag` at p: its content range. */
static inline int fx_der_enter(const unsigned char **p, const unsigned char **end, unsigned tag) {
    const unsigned char *c = NULL;
    const unsigned char *ce = NULL;
    if (fx_der_find(*p, *end, tag, &c, &ce) == NULL) {
        return -1;
    }
    *p = c;
    *end = ce;
    return 0;
}

/* Locates, inside a GSS initial context token (RFC 2743 §3.1 framing, RFC 4121 TOK_ID
 * 01 00, then KRB_AP_REQ), the ciphertext of the ticket's enc-part and of the
 * authenticator as [offset, offset + length). Returns 0 on success. */
static inline int fx_locate_ciphers(const unsigned char *tok, size_t len, size_t *ticket_off,
                                    size_t *ticket_len, size_t *auth_off, size_t *auth_len) {
    const unsigned char *end = tok + len;
    const unsigned char *p = tok;
    const unsigned char *c = NULL;
    const unsigned char *ce = NULL;
    const unsigned char *ap_p;
    const unsigned char *ap_end;
    const unsigned char *q;
    const unsigned char *qe;

    if (fx_der_enter(&p, &end, 0x60) != 0) {
        return -1;
    }
    /* mech OID, then the 2-byte TOK_ID, then the AP-REQ (APPLICATION 14). */
    p = fx_der_find(p, end, 0x06, &c, &ce);
    if (p == NULL || end - ce < 2 || ce[0] != 0x01 || ce[1] != 0x00) {
        return -1;
    }
    p = ce + 2;
    if (fx_der_enter(&p, &end, 0x6e) != 0 || fx_der_enter(&p, &end, 0x30) != 0) {
        return -1;
    }
    ap_p = p;
    ap_end = end;
    /* ticket [3] Ticket (APPLICATION 1) SEQUENCE { ... enc-part [3] EncryptedData } */
    q = ap_p;
    qe = ap_end;
    if (fx_der_enter(&q, &qe, 0xa3) != 0 || fx_der_enter(&q, &qe, 0x61) != 0 ||
        fx_der_enter(&q, &qe, 0x30) != 0 || fx_der_enter(&q, &qe, 0xa3) != 0 ||
        fx_der_enter(&q, &qe, 0x30) != 0 || fx_der_enter(&q, &qe, 0xa2) != 0 ||
        fx_der_enter(&q, &qe, 0x04) != 0) {
        return -1;
    }
    *ticket_off = (size_t)(q - tok);
    *ticket_len = (size_t)(qe - q);
    /* authenticator [4] EncryptedData { ... cipher [2] OCTET STRING } */
    q = ap_p;
    qe = ap_end;
    if (fx_der_enter(&q, &qe, 0xa4) != 0 || fx_der_enter(&q, &qe, 0x30) != 0 ||
        fx_der_enter(&q, &qe, 0xa2) != 0 || fx_der_enter(&q, &qe, 0x04) != 0) {
        return -1;
    }
    *auth_off = (size_t)(q - tok);
    *auth_len = (size_t)(qe - q);
    return 0;
}

/* The RFC 4121 TOK_ID of a GSS framed token (0x60, length, OID, TOK_ID), or -1. */
static inline int fx_tok_id(const void *value, size_t len) {
    const unsigned char *tok = (const unsigned char *)value;
    const unsigned char *p = tok;
    const unsigned char *end = tok + len;
    const unsigned char *c = NULL;
    const unsigned char *ce = NULL;
    if (tok == NULL || fx_der_enter(&p, &end, 0x60) != 0) {
        return -1;
    }
    if (fx_der_find(p, end, 0x06, &c, &ce) == NULL || end - ce < 2) {
        return -1;
    }
    return (ce[0] << 8) | ce[1];
}

/* True when `needle` occurs in the buffer. */
static inline int fx_contains(const void *hay, size_t hay_len, const void *needle,
                              size_t needle_len) {
    size_t i;
    const unsigned char *h = (const unsigned char *)hay;
    if (h == NULL || needle_len > hay_len) {
        return 0;
    }
    for (i = 0; i + needle_len <= hay_len; i++) {
        if (memcmp(h + i, needle, needle_len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Text of a status (first message only for a major status) into out. */
static inline void fx_status_text(uint32_t code, int32_t type, char *out, size_t out_size) {
    uint32_t minor = 0;
    uint32_t message_context = 0;
    krbap_buffer b = fx_empty();
    out[0] = '\0';
    if (!FX_IS_ERROR(krbap_display_status(&minor, code, type, &message_context, &b))) {
        snprintf(out, out_size, "%.*s", (int)b.length, b.value ? (const char *)b.value : "");
    }
    fx_free(&b);
}

#endif /* KRBAP_C_TESTS_FIXTURES_H */
