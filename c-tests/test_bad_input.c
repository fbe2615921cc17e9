/*
 * The bad-input matrix through the C ABI (issue #8; tests/bad_input.rs is the same matrix
 * against the Rust API, README.md "Bad-input matrix" documents it). Each row is one class
 * of malformed input or API misuse with the major/minor status it must get; a row may
 * iterate several inputs (e.g. every truncation length) and passes only when all of them
 * get the row's status. A panic caught at the C boundary would show as FAILURE with
 * KRB5_ERR_GENERIC, which no row expects.
 *
 * After the table, the SAME acceptor credential and replay cache accept MIT's captured
 * initial token (no row consumed it) and refuse its replay, accept a fresh krbap token,
 * and the context used by the per-message rows still unwraps and verifies MIT's tokens in
 * sequence (no failed row advanced its sequence state).
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

/* MIT's asn1 error table and other codes the rows expect. */
#define ASN1_MISSING_FIELD 1859794433u
#define ASN1_OVERFLOW 1859794436u
#define ASN1_OVERRUN 1859794437u
#define ASN1_BAD_ID 1859794438u
#define ASN1_BAD_LENGTH 1859794439u
#define ASN1_BAD_FORMAT 1859794440u
#define ASN1_PARSE_ERROR 1859794441u
#define K5G(n) ((uint32_t)(int32_t)(-2045022976 + (n)))
#define G_BAD_MSG_CTX K5G(5)
#define G_BAD_TOK_HEADER K5G(10)
#define G_BAD_DIRECTION K5G(11)
#define G_TOK_TRUNC K5G(12)
#define G_WRONG_TOKID K5G(14)
#define G_WRONG_MECH K5G(20)
#define KRB5KDC_ERR_BAD_PVNO FX_KRB5(3)
#define KRB5KRB_AP_ERR_MSG_TYPE FX_KRB5(40)
#define KRB5_PARSE_MALFORMED FX_KRB5(134)
#define KRB5_BADMSGTYPE FX_KRB5(138)
#define KRB5_RC_TYPE_NOTFOUND FX_KRB5(161)
#define KRB5_RC_IO FX_KRB5(164)
#define KRB5_RC_PARSE FX_KRB5(166)
#define KRB5_BAD_MSIZE FX_KRB5(190)
#define KRB5_CC_FORMAT FX_KRB5(199)
#define MINOR_EAGAIN 11u
#define MINOR_EINVAL 22u
#define ANY_ASN1 0xffffffffu /* the row accepts any of MIT's asn1 codes */

/* ---- the row harness ------------------------------------------------------------------ */

static int rows = 0;
static int row_cases = 0;
static int row_bad = 0;
static const char *row_name = "";

static void row_begin(const char *name) {
    row_name = name;
    row_cases = 0;
    row_bad = 0;
}

static int is_asn1(uint32_t minor) {
    return minor >= ASN1_MISSING_FIELD && minor <= ASN1_PARSE_ERROR;
}

/* One case of the current row. */
static void row_case(uint32_t major, uint32_t minor, uint32_t want_major, uint32_t want_minor) {
    int ok = major == want_major && (want_minor == ANY_ASN1 ? is_asn1(minor) : minor == want_minor);
    row_cases++;
    if (!ok) {
        char text[256];
        fx_status_text(minor, KRBAP_C_MECH_CODE, text, sizeof text);
        if (row_bad++ < 3) {
            fprintf(stderr, "  %s [case %d]: major 0x%x minor %d (%s), expected 0x%x / %d\n",
                    row_name, row_cases - 1, major, (int)(int32_t)minor, text, want_major,
                    (int)(int32_t)want_minor);
        }
    }
}

static void row_end(void) {
    char msg[400];
    rows++;
    snprintf(msg, sizeof msg, "row %2d: %s (%d case%s)", rows, row_name, row_cases,
             row_cases == 1 ? "" : "s");
    CHECKP(row_cases > 0 && row_bad == 0, msg);
}

/* ---- token building --------------------------------------------------------------------- */

#define BUF_MAX 65536

typedef struct {
    unsigned char data[BUF_MAX];
    size_t len;
} bytes;

static void b_put(bytes *b, const void *p, size_t n) {
    if (b->len + n <= BUF_MAX) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static void b_byte(bytes *b, unsigned char c) {
    b_put(b, &c, 1);
}

/* A minimal DER length. */
static void b_len(bytes *b, size_t n) {
    if (n < 0x80) {
        b_byte(b, (unsigned char)n);
    } else if (n < 0x100) {
        b_byte(b, 0x81);
        b_byte(b, (unsigned char)n);
    } else if (n < 0x10000) {
        b_byte(b, 0x82);
        b_byte(b, (unsigned char)(n >> 8));
        b_byte(b, (unsigned char)n);
    } else {
        b_byte(b, 0x83);
        b_byte(b, (unsigned char)(n >> 16));
        b_byte(b, (unsigned char)(n >> 8));
        b_byte(b, (unsigned char)n);
    }
}

/* out = tag || len || content (out must not alias content). */
static void b_tlv(bytes *out, unsigned char tag, const unsigned char *content, size_t n) {
    out->len = 0;
    b_byte(out, tag);
    b_len(out, n);
    b_put(out, content, n);
}

static const unsigned char KRB5_OID[11] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x12, 0x01, 0x02, 0x02};

/* A framed token (RFC 2743 §3.1) with the krb5 OID, `tok_id` and `inner`. */
static void b_frame(bytes *out, unsigned char id0, unsigned char id1, const unsigned char *inner,
                    size_t n) {
    static bytes body;
    body.len = 0;
    b_put(&body, KRB5_OID, sizeof KRB5_OID);
    b_byte(&body, id0);
    b_byte(&body, id1);
    b_put(&body, inner, n);
    b_tlv(out, 0x60, body.data, body.len);
}

/* Position of `pattern` in data, or -1. */
static long find(const unsigned char *data, size_t len, const void *pattern, size_t plen) {
    size_t i;
    for (i = 0; i + plen <= len; i++) {
        if (memcmp(data + i, pattern, plen) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* ---- the acceptor under test -------------------------------------------------------------- */

static krbap_cred *AC;     /* every initial-token row goes to this credential */
static long long T;        /* the capture time */
static unsigned char *GOOD; /* MIT's mutual initial token */
static size_t GOOD_LEN;
static const unsigned char *INNER; /* its AP-REQ (after the TOK_ID) */
static size_t INNER_LEN;

static void accept_case(const void *token, size_t len, uint32_t want_major, uint32_t want_minor) {
    uint32_t minor = 0;
    uint32_t major = fx_accept_status(AC, token, len, NULL, &minor);
    row_case(major, minor, want_major, want_minor);
}

static void accept_bytes(const bytes *b, uint32_t want_major, uint32_t want_minor) {
    accept_case(b->data, b->len, want_major, want_minor);
}

/* The inner AP-REQ with a patch, re-framed. */
static void accept_patched_inner(long at, const void *patch, size_t n, uint32_t want_major,
                                 uint32_t want_minor) {
    static bytes inner;
    static bytes tok;
    if (at < 0) {
        row_case(0xdead, 0, want_major, want_minor); /* the pattern was not found */
        return;
    }
    inner.len = 0;
    b_put(&inner, INNER, INNER_LEN);
    memcpy(inner.data + at, patch, n);
    b_frame(&tok, 0x01, 0x00, inner.data, inner.len);
    accept_bytes(&tok, want_major, want_minor);
}

/* The AP-REQ rebuilt with the authenticator's ciphertext cut to `cipher_len` bytes. */
static void accept_short_authenticator(size_t cipher_len, uint32_t want_major,
                                       uint32_t want_minor) {
    static bytes seq, ed, part, apreq, tok, tmp;
    size_t ticket_off, ticket_len, auth_off, auth_len;
    const unsigned char *p = INNER;
    const unsigned char *end = INNER + INNER_LEN;
    const unsigned char *c = NULL;
    const unsigned char *ce = NULL;
    long a4;
    if (fx_locate_ciphers(GOOD, GOOD_LEN, &ticket_off, &ticket_len, &auth_off, &auth_len) != 0 ||
        fx_der_enter(&p, &end, 0x6e) != 0 || fx_der_enter(&p, &end, 0x30) != 0 ||
        (a4 = (long)(fx_der_find(p, end, 0xa4, &c, &ce) - INNER)) < 0) {
        row_case(0xdead, 0, want_major, want_minor);
        return;
    }
    /* EncryptedData { etype [0] 18, cipher [2] OCTET STRING } */
    ed.len = 0;
    b_put(&ed, "\xa0\x03\x02\x01\x12", 5);
    b_tlv(&tmp, 0x04, GOOD + auth_off, cipher_len);
    b_tlv(&part, 0xa2, tmp.data, tmp.len);
    b_put(&ed, part.data, part.len);
    b_tlv(&tmp, 0x30, ed.data, ed.len);
    b_tlv(&part, 0xa4, tmp.data, tmp.len);
    /* AP-REQ SEQUENCE: everything before the authenticator, then the new one. */
    seq.len = 0;
    b_put(&seq, p, (size_t)(INNER + a4 - p));
    b_put(&seq, part.data, part.len);
    b_tlv(&tmp, 0x30, seq.data, seq.len);
    b_tlv(&apreq, 0x6e, tmp.data, tmp.len);
    b_frame(&tok, 0x01, 0x00, apreq.data, apreq.len);
    accept_bytes(&tok, want_major, want_minor);
}

static void initial_token_rows(void) {
    static bytes b, t2;
    size_t n;
    int i;
    uint32_t D = KRBAP_S_DEFECTIVE_TOKEN;
    uint32_t F = KRBAP_S_FAILURE;
    size_t ticket_off = 0, ticket_len = 0, auth_off = 0, auth_len = 0;
    static const unsigned char ids[][2] = {{2, 0}, {3, 0}, {4, 4}, {5, 4}, {0, 0}, {0xff, 0xff}, {1, 1}};
    static const unsigned char spnego[] = {0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};

    row_begin("initial token truncated at every length");
    for (n = 0; n < GOOD_LEN; n++) {
        accept_case(GOOD, n, D, G_BAD_TOK_HEADER);
    }
    row_end();

    row_begin("AP-REQ truncated at every length, framing re-made to fit");
    for (n = 0; n < INNER_LEN; n++) {
        b_frame(&b, 0x01, 0x00, INNER, n);
        accept_bytes(&b, D, ANY_ASN1);
    }
    row_end();

    row_begin("byte after the framed token");
    b.len = 0;
    b_put(&b, GOOD, GOOD_LEN);
    b_byte(&b, 0);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("byte after the AP-REQ inside the framing");
    t2.len = 0;
    b_put(&t2, INNER, INNER_LEN);
    b_byte(&t2, 0);
    b_frame(&b, 0x01, 0x00, t2.data, t2.len);
    accept_bytes(&b, D, ANY_ASN1);
    row_end();

    row_begin("first byte not 0x60");
    b.len = 0;
    b_put(&b, GOOD, GOOD_LEN);
    b.data[0] = 0x30;
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("outer length larger than the data, indefinite, 9 octets, not minimal");
    b.len = 0;
    b_put(&b, GOOD, GOOD_LEN);
    b.data[3]++;
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    b.len = 0;
    b_put(&b, "\x60\x80", 2);
    b_put(&b, GOOD + 4, GOOD_LEN - 4);
    b_put(&b, "\0\0", 2);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    b.len = 0;
    b_put(&b, "\x60\x89\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
    b_put(&b, GOOD + 4, GOOD_LEN - 4);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    b.len = 0;
    b_put(&b, "\x60\x83\x00", 3);
    b_put(&b, GOOD + 2, GOOD_LEN - 2);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("wrong mechanism OID (each OID byte changed)");
    for (i = 2; i < 11; i++) {
        b.len = 0;
        b_put(&b, GOOD, GOOD_LEN);
        b.data[4 + i] ^= 1;
        accept_bytes(&b, D, G_WRONG_MECH);
    }
    row_end();

    /* The SPNEGO OID sends the token to the SPNEGO reader: TOK_ID 01 00 is no
     * NegotiationToken. */
    row_begin("SPNEGO OID around a krb5 TOK_ID and AP-REQ");
    t2.len = 0;
    b_put(&t2, spnego, sizeof spnego);
    b_put(&t2, GOOD + 15, GOOD_LEN - 15);
    b_tlv(&b, 0x60, t2.data, t2.len);
    accept_bytes(&b, D, ASN1_BAD_ID);
    row_end();

    row_begin("no TOK_ID, or no mechanism OID");
    b_tlv(&b, 0x60, KRB5_OID, sizeof KRB5_OID);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    b_tlv(&b, 0x60, (const unsigned char *)"\x05\x00\x01\x00", 4);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("wrong TOK_ID (AP-REP, KRB-ERROR, MIC, Wrap, 00 00, ff ff, 01 01)");
    for (i = 0; i < (int)(sizeof ids / sizeof ids[0]); i++) {
        b_frame(&b, ids[i][0], ids[i][1], INNER, INNER_LEN);
        accept_bytes(&b, D, G_WRONG_TOKID);
    }
    row_end();

    row_begin("MIT's AP-REP and KRB-ERROR tokens given to accept");
    {
        const char *files[2] = {FX_DIR "mutual/ap_rep_token.bin",
                                FX_DIR "mutual/replay_error_token.bin"};
        for (i = 0; i < 2; i++) {
            size_t len = 0;
            unsigned char *tok = fx_read_file(files[i], &len);
            accept_case(tok, len, D, G_WRONG_TOKID);
            free(tok);
        }
    }
    row_end();

    row_begin("AP-REQ length larger than the data");
    t2.len = 0;
    b_put(&t2, INNER, INNER_LEN);
    t2.data[3]++;
    b_frame(&b, 0x01, 0x00, t2.data, t2.len);
    accept_bytes(&b, D, ASN1_OVERRUN);
    row_end();

    row_begin("AP-REQ with an indefinite length (BER)");
    t2.len = 0;
    b_put(&t2, "\x6e\x80", 2);
    b_put(&t2, INNER + 4, INNER_LEN - 4);
    b_put(&t2, "\0\0", 2);
    b_frame(&b, 0x01, 0x00, t2.data, t2.len);
    accept_bytes(&b, D, ASN1_BAD_LENGTH);
    row_end();

    row_begin("AP-REQ length not minimally encoded (83 00 xx xx)");
    t2.len = 0;
    b_put(&t2, "\x6e\x83\x00", 3);
    b_put(&t2, INNER + 2, INNER_LEN - 2);
    b_frame(&b, 0x01, 0x00, t2.data, t2.len);
    accept_bytes(&b, D, ASN1_BAD_LENGTH);
    row_end();

    row_begin("AP-REQ length of 5 and 9 octets");
    t2.len = 0;
    b_put(&t2, "\x6e\x85\0\0\0", 5);
    b_put(&t2, INNER + 2, INNER_LEN - 2);
    b_frame(&b, 0x01, 0x00, t2.data, t2.len);
    accept_bytes(&b, D, ASN1_OVERFLOW);
    b_frame(&b, 0x01, 0x00, (const unsigned char *)"\x6e\x89\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            11);
    accept_bytes(&b, D, ASN1_OVERFLOW);
    row_end();

    row_begin("nesting 40 and 1000 levels deep");
    {
        int depths[2] = {40, 1000};
        for (i = 0; i < 2; i++) {
            int d;
            t2.len = 0;
            b_put(&t2, "\x05\x00", 2);
            for (d = 0; d < depths[i]; d++) {
                b_tlv(&b, 0x30, t2.data, t2.len);
                t2.len = 0;
                b_put(&t2, b.data, b.len);
            }
            b_tlv(&b, 0x6e, t2.data, t2.len);
            t2.len = 0;
            b_put(&t2, b.data, b.len);
            b_frame(&b, 0x01, 0x00, t2.data, t2.len);
            accept_bytes(&b, D, ASN1_PARSE_ERROR);
        }
    }
    row_end();

    row_begin("OCTET STRING claiming 2^31-1 and 2^32-1 bytes");
    {
        const char *lens[2] = {"\x84\x7f\xff\xff\xff", "\x84\xff\xff\xff\xff"};
        for (i = 0; i < 2; i++) {
            unsigned char octets[64];
            memset(octets, 0, sizeof octets);
            octets[0] = 0x04;
            memcpy(octets + 1, lens[i], 5);
            b_tlv(&b, 0xa2, octets, 6 + 32);
            b_tlv(&t2, 0x30, b.data, b.len);
            b_tlv(&b, 0xa4, t2.data, t2.len);
            b_tlv(&t2, 0x30, b.data, b.len);
            b_tlv(&b, 0x6e, t2.data, t2.len);
            t2.len = 0;
            b_put(&t2, b.data, b.len);
            b_frame(&b, 0x01, 0x00, t2.data, t2.len);
            accept_bytes(&b, D, ANY_ASN1);
        }
    }
    row_end();

    row_begin("wrong APPLICATION tag for the AP-REQ (AP-REP, Ticket, KRB-ERROR)");
    {
        unsigned char tags[3] = {0x6f, 0x61, 0x7e};
        for (i = 0; i < 3; i++) {
            accept_patched_inner(0, &tags[i], 1, D, KRB5KRB_AP_ERR_MSG_TYPE);
        }
    }
    row_end();

    row_begin("ticket APPLICATION 1 tag changed to APPLICATION 2");
    accept_patched_inner(find(INNER, INNER_LEN, "\x61\x82", 2), "\x62", 1, D, ASN1_BAD_ID);
    row_end();

    row_begin("msg-type 15 inside an AP-REQ");
    accept_patched_inner(find(INNER, INNER_LEN, "\xa1\x03\x02\x01\x0e", 5), "\xa1\x03\x02\x01\x0f",
                         5, D, KRB5_BADMSGTYPE);
    row_end();

    row_begin("pvno 4");
    accept_patched_inner(find(INNER, INNER_LEN, "\xa0\x03\x02\x01\x05", 5), "\xa0\x03\x02\x01\x04",
                         5, D, KRB5KDC_ERR_BAD_PVNO);
    row_end();

    /* The ticket's enc-part starts etype [0] 18, kvno [1] 1 (the authenticator has no kvno). */
    {
        long enc = find(INNER, INNER_LEN, "\xa0\x03\x02\x01\x12\xa1\x03\x02\x01\x01", 10);
        row_begin("ticket kvno not in the keytab (7, 127)");
        accept_patched_inner(enc < 0 ? -1 : enc + 9, "\x07", 1, F, KRB5KRB_AP_ERR_BADKEYVER);
        accept_patched_inner(enc < 0 ? -1 : enc + 9, "\x7f", 1, F, KRB5KRB_AP_ERR_BADKEYVER);
        row_end();
        row_begin("ticket enctype not in the keytab (rc4-hmac 23, des3 16, unknown 99)");
        accept_patched_inner(enc < 0 ? -1 : enc + 4, "\x17", 1, F, KRB5KRB_AP_ERR_NOKEY);
        accept_patched_inner(enc < 0 ? -1 : enc + 4, "\x10", 1, F, KRB5KRB_AP_ERR_NOKEY);
        accept_patched_inner(enc < 0 ? -1 : enc + 4, "\x63", 1, F, KRB5KRB_AP_ERR_NOKEY);
        row_end();
    }

    row_begin("ticket for another service / realm");
    {
        long at = find(INNER, INNER_LEN, "localhost", 9);
        accept_patched_inner(at < 0 ? -1 : at + 8, "u", 1, F, KRB5KRB_AP_ERR_NOT_US);
        at = find(INNER, INNER_LEN, "TEST.LOCAL", 10);
        accept_patched_inner(at < 0 ? -1 : at + 9, "M", 1, F, KRB5KRB_AP_ERR_NOT_US);
    }
    row_end();

    if (fx_locate_ciphers(GOOD, GOOD_LEN, &ticket_off, &ticket_len, &auth_off, &auth_len) != 0) {
        CHECK(0, "MIT's initial token has a ticket and an authenticator");
        return;
    }
    row_begin("ticket ciphertext: first, middle and last byte flipped");
    {
        size_t at[3];
        at[0] = ticket_off;
        at[1] = ticket_off + ticket_len / 2;
        at[2] = ticket_off + ticket_len - 1;
        for (i = 0; i < 3; i++) {
            b.len = 0;
            b_put(&b, GOOD, GOOD_LEN);
            b.data[at[i]] ^= 0x80;
            accept_bytes(&b, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
        }
    }
    row_end();

    row_begin("authenticator ciphertext: first and last byte flipped");
    b.len = 0;
    b_put(&b, GOOD, GOOD_LEN);
    b.data[auth_off] ^= 1;
    accept_bytes(&b, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    b.len = 0;
    b_put(&b, GOOD, GOOD_LEN);
    b.data[auth_off + auth_len - 1] ^= 1;
    accept_bytes(&b, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("authenticator ciphertext empty / shorter than confounder+MAC (0, 1, 27)");
    accept_short_authenticator(0, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    accept_short_authenticator(1, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    accept_short_authenticator(27, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("authenticator ciphertext cut to confounder+MAC and one byte short");
    accept_short_authenticator(28, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    accept_short_authenticator(auth_len - 1, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("authenticator enctype differs from the session key's (17)");
    {
        /* The authenticator is the AP-REQ's last element: the last etype [0] 18. */
        long last = -1;
        long at = 0;
        long hit;
        while ((hit = find(INNER + at, INNER_LEN - (size_t)at, "\xa0\x03\x02\x01\x12", 5)) >= 0) {
            last = at + hit;
            at = last + 1;
        }
        CHECK(last > (long)INNER_LEN - 300, "the authenticator's etype found");
        accept_patched_inner(last < 0 ? -1 : last + 4, "\x11", 1, F, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    }
    row_end();

    row_begin("all-zero and all-0xff buffers of the token's size");
    memset(b.data, 0, GOOD_LEN);
    b.len = GOOD_LEN;
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    memset(b.data, 0xff, GOOD_LEN);
    accept_bytes(&b, D, G_BAD_TOK_HEADER);
    row_end();
}

/* ---- per-message rows: an acceptor context from MIT's non-mutual capture ---------------- */

static krbap_ctx *CTX;

static void unwrap_case(const void *tok, size_t len, uint32_t want_major, uint32_t want_minor) {
    uint32_t minor = 0;
    krbap_buffer in = fx_buf(tok, len);
    krbap_buffer out = fx_empty();
    uint32_t major = krbap_unwrap(&minor, CTX, &in, &out, NULL, NULL);
    fx_free(&out);
    row_case(major, minor, want_major, want_minor);
}

static const unsigned char *MSG;
static size_t MSG_LEN;

static void verify_case(const void *tok, size_t len, uint32_t want_major, uint32_t want_minor) {
    uint32_t minor = 0;
    krbap_buffer msg = fx_buf(MSG, MSG_LEN);
    krbap_buffer in = fx_buf(tok, len);
    uint32_t major = krbap_verify_mic(&minor, CTX, &msg, &in, NULL);
    row_case(major, minor, want_major, want_minor);
}

static void mutated(bytes *b, const unsigned char *tok, size_t len, size_t at, unsigned char x) {
    b->len = 0;
    b_put(b, tok, len);
    b->data[at] ^= x;
}

static void per_message_rows(const unsigned char *conf, size_t conf_len,
                             const unsigned char *noconf, size_t noconf_len,
                             const unsigned char *mic, size_t mic_len) {
    static bytes b;
    size_t n;
    int i;
    uint32_t D = KRBAP_S_DEFECTIVE_TOKEN;
    uint32_t S = KRBAP_S_BAD_SIG;
    uint32_t minor = 0;
    krbap_buffer plain = fx_buf("reflected", 9);
    krbap_buffer own = fx_empty();

    row_begin("Wrap (sealed) truncated at every length");
    for (n = 0; n < conf_len; n++) {
        if (n < 16) {
            unwrap_case(conf, n, D, G_TOK_TRUNC);
        } else if (n < 16 + 28) {
            unwrap_case(conf, n, S, KRB5_BAD_MSIZE); /* shorter than confounder+MAC */
        } else {
            unwrap_case(conf, n, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
        }
    }
    row_end();

    row_begin("Wrap TOK_ID wrong (MIC, AP-REQ, RFC 1964 02 01, 05 05)");
    {
        static const unsigned char ids[][2] = {{4, 4}, {1, 0}, {2, 1}, {5, 5}};
        for (i = 0; i < 4; i++) {
            b.len = 0;
            b_put(&b, conf, conf_len);
            b.data[0] = ids[i][0];
            b.data[1] = ids[i][1];
            unwrap_case(b.data, b.len, D, G_WRONG_TOKID);
        }
    }
    row_end();

    row_begin("Wrap flags: SentByAcceptor set; our own Wrap token reflected");
    mutated(&b, conf, conf_len, 2, 0x01);
    unwrap_case(b.data, b.len, S, G_BAD_DIRECTION);
    krbap_wrap(&minor, CTX, 1, 0, &plain, NULL, &own);
    unwrap_case(own.value, own.length, S, G_BAD_DIRECTION);
    fx_free(&own);
    row_end();

    row_begin("Wrap (sealed) flags: AcceptorSubkey or a reserved bit set");
    mutated(&b, conf, conf_len, 2, 0x04);
    unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    mutated(&b, conf, conf_len, 2, 0x80);
    unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("Wrap flags: Sealed cleared");
    mutated(&b, conf, conf_len, 2, 0x02);
    unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("Wrap filler not 0xff");
    mutated(&b, conf, conf_len, 3, 0xff);
    unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("Wrap (sealed) EC changed (1, 0xffff)");
    mutated(&b, conf, conf_len, 5, 0x01);
    unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    b.data[4] = 0xff;
    b.data[5] = 0xff;
    unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    row_end();

    row_begin("Wrap (sealed) RRC changed (1, 0xffff)");
    mutated(&b, conf, conf_len, 7, 0x01);
    unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    b.data[6] = 0xff;
    b.data[7] = 0xff;
    unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("Wrap (sealed) SND_SEQ changed (each of its 8 bytes)");
    for (i = 8; i < 16; i++) {
        mutated(&b, conf, conf_len, (size_t)i, 0x01);
        unwrap_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    }
    row_end();

    row_begin("Wrap (sealed) ciphertext byte flipped (every 8th)");
    for (n = 16; n < conf_len; n += 8) {
        mutated(&b, conf, conf_len, n, 0x40);
        unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    }
    row_end();

    row_begin("Wrap (integrity) EC not the checksum length (0, 13)");
    mutated(&b, noconf, noconf_len, 5, 12);
    unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    mutated(&b, noconf, noconf_len, 5, 1);
    unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("Wrap (integrity) EC larger than the body");
    b.len = 0;
    b_put(&b, noconf, noconf_len);
    b.data[4] = 0xff;
    b.data[5] = 0xff;
    unwrap_case(b.data, b.len, D, G_TOK_TRUNC);
    row_end();

    row_begin("Wrap (integrity) flags, RRC, SND_SEQ, message, checksum changed");
    {
        size_t at[6];
        unsigned char x[6] = {0x04, 0x80, 0x05, 0x01, 0x01, 0x01};
        at[0] = 2;
        at[1] = 2;
        at[2] = 7;
        at[3] = 15;
        at[4] = 16;
        at[5] = noconf_len - 1;
        for (i = 0; i < 6; i++) {
            mutated(&b, noconf, noconf_len, at[i], x[i]);
            unwrap_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
        }
    }
    row_end();

    row_begin("MIC truncated at every length");
    for (n = 0; n < mic_len; n++) {
        verify_case(mic, n, n < 16 ? D : S, n < 16 ? G_TOK_TRUNC : KRB5_BAD_MSIZE);
    }
    row_end();

    row_begin("MIC TOK_ID wrong (Wrap, RFC 1964 01 01)");
    b.len = 0;
    b_put(&b, mic, mic_len);
    b.data[0] = 5;
    verify_case(b.data, b.len, D, G_WRONG_TOKID);
    b.data[0] = 1;
    b.data[1] = 1;
    verify_case(b.data, b.len, D, G_WRONG_TOKID);
    row_end();

    row_begin("MIC flags: SentByAcceptor set; our own MIC reflected");
    mutated(&b, mic, mic_len, 2, 0x01);
    verify_case(b.data, b.len, S, G_BAD_DIRECTION);
    krbap_get_mic(&minor, CTX, 0, &plain, &own);
    verify_case(own.value, own.length, S, G_BAD_DIRECTION);
    fx_free(&own);
    row_end();

    row_begin("MIC flags: Sealed, AcceptorSubkey, reserved bit set (under the MAC)");
    mutated(&b, mic, mic_len, 2, 0x02);
    verify_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    mutated(&b, mic, mic_len, 2, 0x04);
    verify_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    mutated(&b, mic, mic_len, 2, 0x80);
    verify_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("MIC filler: each of its 5 bytes changed");
    for (i = 3; i < 8; i++) {
        mutated(&b, mic, mic_len, (size_t)i, 0xff);
        verify_case(b.data, b.len, D, G_BAD_TOK_HEADER);
    }
    row_end();

    row_begin("MIC SND_SEQ (each byte) and checksum changed");
    for (i = 8; i < 16; i++) {
        mutated(&b, mic, mic_len, (size_t)i, 0x01);
        verify_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    }
    mutated(&b, mic, mic_len, mic_len - 1, 0x01);
    verify_case(b.data, b.len, S, KRB5KRB_AP_ERR_BAD_INTEGRITY);
    row_end();

    row_begin("MIC checksum one byte longer than the MAC");
    b.len = 0;
    b_put(&b, mic, mic_len);
    b_byte(&b, 0);
    verify_case(b.data, b.len, S, KRB5_BAD_MSIZE);
    row_end();
}

/* What krbap_cred_inquire_replay_cache shows for the unreachable Redis row. */
#define REDIS_SHOWN "redis://:***@127.0.0.1:1/0?prefix=krbap:rc:&timeout_ms=200"

/* A fresh krbap token accepted by `cred`: a row case expecting the fail-closed status of an
 * unusable file2 or redis replay cache. */
static void accept_case_with(const krbap_cred *cred) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T + 5);
    krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_buffer tok = fx_empty();
    (void)fx_initial_token(ic, target, KRBAP_C_MUTUAL_FLAG, NULL, &ictx, &tok);
    major = fx_accept_status(cred, tok.value, tok.length, NULL, &minor);
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_IO);
    fx_free(&tok);
    fx_delete(&ictx);
    krbap_release_name(&minor, &target);
    krbap_release_cred(&minor, &ic);
}

/* ---- API misuse ------------------------------------------------------------------------------ */

/* ---- SPNEGO (RFC 4178) ---------------------------------------------------------------- */

#define SPNEGO_NEGOTIATION_FAILED 0x20000004u
static const unsigned char SPNEGO_OID[8] = {0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const unsigned char REJECT[9] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02};

/* out = 0x60 { SPNEGO OID, body }. */
static void b_spnego(bytes *out, const unsigned char *body, size_t n) {
    static bytes t;
    t.len = 0;
    b_put(&t, SPNEGO_OID, sizeof SPNEGO_OID);
    b_put(&t, body, n);
    b_tlv(out, 0x60, t.data, t.len);
}

/* The body [0] SEQUENCE { [0] mechTypes(oids), [2] OCTET STRING mech_token }. */
static void b_init_body(bytes *out, const unsigned char *oids, size_t oids_len,
                        const unsigned char *mech_token, size_t mech_len) {
    static bytes types, seq, tmp, tmp2;
    b_tlv(&tmp, 0x30, oids, oids_len);
    b_tlv(&types, 0xa0, tmp.data, tmp.len);
    seq.len = 0;
    b_put(&seq, types.data, types.len);
    if (mech_token != NULL) {
        b_tlv(&tmp, 0x04, mech_token, mech_len);
        b_tlv(&tmp2, 0xa2, tmp.data, tmp.len);
        b_put(&seq, tmp2.data, tmp2.len);
    }
    b_tlv(&tmp, 0x30, seq.data, seq.len);
    b_tlv(out, 0xa0, tmp.data, tmp.len);
}

/* Accepts `token` and also checks the output token: MIT's 9-byte reject, when want_reject. */
static void accept_spnego(const bytes *token, uint32_t want_major, uint32_t want_minor,
                          int want_reject) {
    uint32_t minor = 0;
    krbap_ctx *ctx = NULL;
    krbap_buffer in = fx_buf(token->data, token->len);
    krbap_buffer out = fx_empty();
    uint32_t major =
        krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out, NULL);
    if (want_reject && !(out.length == sizeof REJECT && memcmp(out.value, REJECT, 9) == 0)) {
        major = 0xbad; /* the row reports it */
    }
    if (ctx != NULL) {
        major = 0xbad0; /* a failed first call must leave no context */
        fx_delete(&ctx);
    }
    fx_free(&out);
    row_case(major, minor, want_major, want_minor);
}

static void spnego_rows(void) {
    static const unsigned char krb5[11] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x12, 0x01, 0x02, 0x02};
    static const unsigned char ntlm[12] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x02, 0x0a};
    static const unsigned char ntlm_krb5[23] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
                                                0x37, 0x02, 0x02, 0x0a, 0x06, 0x09, 0x2a, 0x86,
                                                0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    static bytes body, tok, other, inner;
    uint32_t D = KRBAP_S_DEFECTIVE_TOKEN;
    size_t n;

    b_init_body(&body, krb5, sizeof krb5, GOOD, GOOD_LEN);
    b_spnego(&tok, body.data, body.len);
    row_begin("SPNEGO initial token truncated at every length");
    for (n = 0; n < tok.len; n++) {
        accept_case(tok.data, n, D, G_BAD_TOK_HEADER);
    }
    row_end();

    row_begin("SPNEGO NegotiationToken truncated at every length (framing re-made)");
    for (n = 0; n < body.len; n++) {
        b_spnego(&other, body.data, n);
        accept_bytes(&other, D, ANY_ASN1);
    }
    row_end();

    row_begin("SPNEGO first token a NegTokenResp: ASN1_BAD_ID and a reject");
    b_spnego(&other, REJECT, sizeof REJECT);
    accept_spnego(&other, D, ASN1_BAD_ID, 1);
    row_end();

    row_begin("SPNEGO without Kerberos (NTLMSSP alone): BAD_MECH and MIT's 9-byte reject");
    b_init_body(&body, ntlm, sizeof ntlm, (const unsigned char *)"NTLMSSP", 8);
    b_spnego(&other, body.data, body.len);
    accept_spnego(&other, KRBAP_S_BAD_MECH, SPNEGO_NEGOTIATION_FAILED, 1);
    b_init_body(&body, krb5, 0, NULL, 0);
    b_spnego(&other, body.data, body.len);
    accept_spnego(&other, KRBAP_S_BAD_MECH, SPNEGO_NEGOTIATION_FAILED, 1);
    row_end();

    row_begin("SPNEGO mech token framed for NTLMSSP: BAD_MECH");
    inner.len = 0;
    b_put(&inner, ntlm, sizeof ntlm);
    b_put(&inner, GOOD + 15, GOOD_LEN - 15);
    b_tlv(&other, 0x60, inner.data, inner.len);
    b_init_body(&body, krb5, sizeof krb5, other.data, other.len);
    b_spnego(&other, body.data, body.len);
    accept_spnego(&other, KRBAP_S_BAD_MECH, SPNEGO_NEGOTIATION_FAILED, 1);
    row_end();

    row_begin("SPNEGO mech token truncated (framing of the inner token wrong)");
    b_init_body(&body, krb5, sizeof krb5, GOOD, GOOD_LEN - 1);
    b_spnego(&other, body.data, body.len);
    accept_spnego(&other, D, G_BAD_TOK_HEADER, 0);
    row_end();

    /* The second leg after request-mic: a malformed NegTokenResp deletes the context. */
    row_begin("SPNEGO continuation: malformed NegTokenResp -> error, context deleted");
    for (n = 0; n < 4; n++) {
        static const unsigned char *bad[4] = {
            (const unsigned char *)"\xa1\x03\x30\x01\x00", (const unsigned char *)"\xa1\x02\x30",
            (const unsigned char *)"\xa0\x02\x30\x00", (const unsigned char *)"\xa1\x02\x30\x00"};
        static const size_t bad_len[4] = {5, 3, 4, 4};
        static const uint32_t bad_minor[4] = {ASN1_OVERRUN, ASN1_OVERRUN, ASN1_BAD_ID,
                                              SPNEGO_NEGOTIATION_FAILED};
        uint32_t minor = 0;
        uint32_t major;
        krbap_ctx *ctx = NULL;
        krbap_buffer in;
        krbap_buffer out = fx_empty();
        b_init_body(&body, ntlm_krb5, sizeof ntlm_krb5, (const unsigned char *)"NTLMSSP", 8);
        b_spnego(&other, body.data, body.len);
        in = fx_buf(other.data, other.len);
        major = krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out,
                                         NULL);
        fx_free(&out);
        if (major != KRBAP_S_CONTINUE_NEEDED || ctx == NULL) {
            row_case(major, minor, D, bad_minor[n]);
            fx_delete(&ctx);
            continue;
        }
        in = fx_buf(bad[n], bad_len[n]);
        major = krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out,
                                         NULL);
        if (ctx != NULL || !(out.length == sizeof REJECT && memcmp(out.value, REJECT, 9) == 0)) {
            major = 0xbad;
        }
        fx_free(&out);
        fx_delete(&ctx);
        row_case(major, minor, D, bad_minor[n] == ASN1_OVERRUN ? ANY_ASN1 : bad_minor[n]);
    }
    row_end();
}
static void ccache_file_rows(void);

static void api_misuse_rows(const unsigned char *conf, size_t conf_len) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_ctx *ctx = NULL;
    krbap_buffer in;
    krbap_buffer out = fx_empty();
    krbap_cred *cred = NULL;
    krbap_name *name = NULL;
    krbap_buffer text;
    char byte = 'x';

    row_begin("accept: NULL context pointer");
    in = fx_buf(GOOD, GOOD_LEN);
    major = krbap_accept_sec_context(&minor, NULL, AC, &in, NULL, NULL, NULL, NULL, &out, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    fx_free(&out);
    row_end();

    row_begin("accept: NULL input token, zero-length buffer with non-NULL value");
    major = krbap_accept_sec_context(&minor, &ctx, AC, NULL, NULL, NULL, NULL, NULL, &out, NULL);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_BAD_TOK_HEADER);
    fx_free(&out);
    in = fx_buf(&byte, 0);
    major = krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out, NULL);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_BAD_TOK_HEADER);
    fx_free(&out);
    CHECK(ctx == NULL, "no context after a failed accept");
    row_end();

    row_begin("accept: NULL value with a length; absurd length");
    in = fx_buf(NULL, 100);
    major = krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    in = fx_buf(GOOD, (size_t)KRBAP_MAX_BUFFER + 1);
    major = krbap_accept_sec_context(&minor, &ctx, AC, &in, NULL, NULL, NULL, NULL, &out, NULL);
    row_case(major, minor, KRBAP_S_CALL_BAD_STRUCTURE, MINOR_EINVAL);
    row_end();

    row_begin("unwrap, verify_mic, wrap: NULL context");
    in = fx_buf(conf, conf_len);
    major = krbap_unwrap(&minor, NULL, &in, &out, NULL, NULL);
    row_case(major, minor, KRBAP_S_NO_CONTEXT, G_BAD_MSG_CTX);
    major = krbap_verify_mic(&minor, NULL, &in, &in, NULL);
    row_case(major, minor, KRBAP_S_NO_CONTEXT, G_BAD_MSG_CTX);
    major = krbap_wrap(&minor, NULL, 1, 0, &in, NULL, &out);
    row_case(major, minor, KRBAP_S_NO_CONTEXT, G_BAD_MSG_CTX);
    row_end();

    row_begin("unwrap and wrap with a NULL output buffer (state untouched)");
    in = fx_buf(conf, conf_len);
    major = krbap_unwrap(&minor, CTX, &in, NULL, NULL, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    major = krbap_wrap(&minor, CTX, 1, 0, &in, NULL, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    row_end();

    row_begin("unwrap / verify_mic: NULL token, zero-length token with non-NULL value");
    major = krbap_unwrap(&minor, CTX, NULL, &out, NULL, NULL);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_TOK_TRUNC);
    in = fx_buf(&byte, 0);
    major = krbap_unwrap(&minor, CTX, &in, &out, NULL, NULL);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_TOK_TRUNC);
    major = krbap_verify_mic(&minor, CTX, &in, &in, NULL);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_TOK_TRUNC);
    fx_free(&out);
    row_end();

    row_begin("delete_sec_context twice through the same handle pointer; NULL pointer");
    {
        krbap_cred *ic = fx_initiator(T + 5);
        krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
        krbap_buffer tok = fx_empty();
        major = fx_initial_token(ic, target, KRBAP_C_MUTUAL_FLAG, NULL, &ctx, &tok);
        CHECK(major == KRBAP_S_CONTINUE_NEEDED && ctx != NULL, "an initiator context to delete");
        fx_free(&tok);
        major = krbap_delete_sec_context(&minor, &ctx, NULL);
        row_case(major, minor, KRBAP_S_COMPLETE, 0);
        CHECK(ctx == NULL, "delete sets the handle to NULL");
        major = krbap_delete_sec_context(&minor, &ctx, NULL);
        row_case(major, minor, KRBAP_S_NO_CONTEXT, G_BAD_MSG_CTX);
        major = krbap_delete_sec_context(&minor, NULL, NULL);
        row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ | KRBAP_S_NO_CONTEXT, MINOR_EINVAL);
        krbap_release_name(&minor, &target);
        krbap_release_cred(&minor, &ic);
    }
    row_end();

    row_begin("release_cred / release_name / buffer_free twice and on NULL handles");
    cred = fx_acceptor(T);
    major = krbap_release_cred(&minor, &cred);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    CHECK(cred == NULL, "release_cred sets the handle to NULL");
    major = krbap_release_cred(&minor, &cred);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    major = krbap_release_name(&minor, &name);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    major = krbap_release_name(&minor, &name);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    major = krbap_buffer_free(&minor, NULL);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    out = fx_empty();
    major = krbap_buffer_free(&minor, &out);
    row_case(major, minor, KRBAP_S_COMPLETE, 0);
    row_end();

    row_begin("import_name: NULL buffer, zero-length name with non-NULL value, bad type");
    major = krbap_import_name(&minor, NULL, KRBAP_NT_HOSTBASED_SERVICE, &name);
    row_case(major, minor, KRBAP_S_BAD_NAME, KRB5_PARSE_MALFORMED);
    text = fx_buf(&byte, 0);
    major = krbap_import_name(&minor, &text, KRBAP_NT_HOSTBASED_SERVICE, &name);
    row_case(major, minor, KRBAP_S_BAD_NAME, KRB5_PARSE_MALFORMED);
    text = fx_buf("test@localhost", 14);
    major = krbap_import_name(&minor, &text, 99, &name);
    row_case(major, minor, KRBAP_S_BAD_NAMETYPE, MINOR_EINVAL);
    CHECK(name == NULL, "no name after a failed import");
    row_end();

    row_begin("replay cache names: no type, unknown type, file2 without path");
    cred = fx_acceptor(T);
    major = krbap_cred_set_replay_cache(&minor, cred, "bogus");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "nope:x");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_TYPE_NOTFOUND);
    major = krbap_cred_set_replay_cache(&minor, cred, "file2:");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    row_end();

    row_begin("file2 replay cache that cannot be written fails closed (no such dir; a dir)");
    major = krbap_cred_set_replay_cache(&minor, cred, "file2:/nonexistent-krbap-dir/rc2");
    CHECK(major == KRBAP_S_COMPLETE, "setting an unusable path succeeds (checked per store)");
    accept_case_with(cred);
    major = krbap_cred_set_replay_cache(&minor, cred, "file2:/");
    accept_case_with(cred);
    krbap_release_cred(&minor, &cred);
    row_end();

    row_begin("redis replay cache names: malformed, unknown parameter, raw '@', TLS");
    cred = fx_acceptor(T);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis://127.0.0.1:99999");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis://127.0.0.1?colour=blue");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis://u:p@ss@127.0.0.1");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis://127.0.0.1/db");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis+unix:relative.sock");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "rediss+cluster://127.0.0.1");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_TYPE_NOTFOUND);
    major = krbap_cred_set_replay_cache(&minor, cred, "rediss://127.0.0.1?cert=/c.pem");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    major = krbap_cred_set_replay_cache(&minor, cred, "redis://127.0.0.1?ca=/ca.pem");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    /* The PEM files are read when the name is set, before any connection. */
    major = krbap_cred_set_replay_cache(&minor, cred,
                                        "rediss://127.0.0.1:1?ca=/nonexistent/krbap-ca.pem");
    row_case(major, minor, KRBAP_S_FAILURE, KRB5_RC_PARSE);
    row_end();

    row_begin("redis replay cache nobody answers fails closed; its name hides the password");
    /* Port 1 on loopback: refused at once. Not a configuration error when set (Redis may
     * start after the service); every accept fails closed until it answers. */
    major = krbap_cred_set_replay_cache(&minor, cred,
                                        "redis://:s3cret@127.0.0.1:1/0?timeout_ms=200");
    CHECK(major == KRBAP_S_COMPLETE, "setting an unreachable Redis succeeds (checked per accept)");
    accept_case_with(cred);
    {
        krbap_buffer name = fx_empty();
        major = krbap_cred_inquire_replay_cache(&minor, cred, &name);
        CHECK(major == KRBAP_S_COMPLETE && name.length == strlen(REDIS_SHOWN) &&
                  memcmp(name.value, REDIS_SHOWN, name.length) == 0,
              "krbap_cred_inquire_replay_cache shows the password as ***");
        fx_free(&name);
    }
    krbap_release_cred(&minor, &cred);
    row_end();

    ccache_file_rows();
}

/* Writes `n` bytes of `data` to `path` (plus `extra`/`extra_n` after them); 0 on success. */
static int write_file(const char *path, const unsigned char *data, size_t n,
                      const unsigned char *extra, size_t extra_n) {
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(data, 1, n, f) == n &&
             (extra_n == 0 || fwrite(extra, 1, extra_n, f) == extra_n);
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* The initiator's ccache as a file other programs write too (issue #20): a length past the
 * end of the whole file is KRB5_CC_FORMAT (MIT's reader says the same; a file that merely
 * ends inside a credential is read up to it), and a cache another holder keeps locked for
 * longer than KRBAP_LOCK_TIMEOUT_MS is EAGAIN (no hang). The lock here is a classic POSIX
 * record lock of this very process: it conflicts with krbap's open-file-description lock. */
static void ccache_file_rows(void) {
    static const unsigned char huge[] = {0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff};
    char dir[] = "/tmp/krbap-bad-ccache.XXXXXX";
    char path[64];
    size_t len = 0;
    uint32_t minor = 0, major;
    krbap_cred *ic = NULL;
    unsigned char *cc = fx_read_file(FX_CCACHE, &len);
    int fd;
    struct flock fl;

    row_begin("ccache: a length past the end of the file; locked longer than the timeout");
    if (cc == NULL || mkdtemp(dir) == NULL) {
        CHECK(0, "ccache fixture and temporary directory");
        free(cc);
        row_end();
        return;
    }
    snprintf(path, sizeof path, "%s/cc", dir);
    CHECK(write_file(path, cc, len, huge, sizeof huge) == 0, "damaged ccache written");
    major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, path, &ic, NULL);
    row_case(major, minor, KRBAP_S_NO_CRED, KRB5_CC_FORMAT);
    CHECK(ic == NULL, "no credential from a damaged ccache");
    /* Cut inside its last credential: read up to it, as MIT's klist does. */
    CHECK(write_file(path, cc, len - 9, NULL, 0) == 0, "torn ccache written");
    major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, path, &ic, NULL);
    CHECK(major == KRBAP_S_COMPLETE, "a ccache torn inside its last credential is read");
    krbap_release_cred(&minor, &ic);

    CHECK(write_file(path, cc, len, NULL, 0) == 0, "ccache written");
    fd = open(path, O_RDWR);
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    CHECK(fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0, "classic write lock taken");
    setenv("KRBAP_LOCK_TIMEOUT_MS", "150", 1);
    major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, path, &ic, NULL);
    row_case(major, minor, KRBAP_S_NO_CRED, MINOR_EAGAIN);
    CHECK(ic == NULL, "no credential while the ccache is locked");
    unsetenv("KRBAP_LOCK_TIMEOUT_MS");
    if (fd >= 0) {
        close(fd); /* releases the lock */
    }
    major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, path, &ic, NULL);
    CHECK(major == KRBAP_S_COMPLETE, "the ccache is read once the lock is gone");
    krbap_release_cred(&minor, &ic);
    unlink(path);
    rmdir(dir);
    free(cc);
    row_end();
}

/* An acceptor context from MIT's non-mutual capture, its clock at T. */
static krbap_ctx *nomutual_context(krbap_cred **cred) {
    size_t len = 0;
    uint32_t minor = 0;
    krbap_ctx *ctx = NULL;
    krbap_buffer in;
    krbap_buffer out = fx_empty();
    unsigned char *tok = fx_read_file(FX_DIR "nomutual/initial_token.bin", &len);
    *cred = fx_acceptor(T);
    in = fx_buf(tok, len);
    if (tok == NULL || *cred == NULL ||
        krbap_accept_sec_context(&minor, &ctx, *cred, &in, NULL, NULL, NULL, NULL, &out, NULL) !=
            KRBAP_S_COMPLETE) {
        ctx = NULL;
    } else {
        krbap_ctx_set_time(&minor, ctx, T);
    }
    fx_free(&out);
    free(tok);
    return ctx;
}

/* Unwraps/verifies the three genuine tokens; 0 when all succeed with no supplementary bit. */
static int genuine_tokens_pass(krbap_ctx *ctx, const unsigned char *conf, size_t conf_len,
                               const unsigned char *noconf, size_t noconf_len,
                               const unsigned char *mic, size_t mic_len) {
    uint32_t minor = 0;
    int failures = 0;
    krbap_buffer in = fx_buf(conf, conf_len);
    krbap_buffer out = fx_empty();
    krbap_buffer msg = fx_buf(MSG, MSG_LEN);
    if (krbap_unwrap(&minor, ctx, &in, &out, NULL, NULL) != KRBAP_S_COMPLETE ||
        out.length != MSG_LEN || memcmp(out.value, MSG, MSG_LEN) != 0) {
        failures++;
    }
    fx_free(&out);
    in = fx_buf(noconf, noconf_len);
    if (krbap_unwrap(&minor, ctx, &in, &out, NULL, NULL) != KRBAP_S_COMPLETE ||
        out.length != MSG_LEN) {
        failures++;
    }
    fx_free(&out);
    in = fx_buf(mic, mic_len);
    if (krbap_verify_mic(&minor, ctx, &msg, &in, NULL) != KRBAP_S_COMPLETE) {
        failures++;
    }
    return failures;
}

/* ---- HTTP Negotiate header values (RFC 4559) -------------------------------------------- */

#define MINOR_ENODATA 61u
#define MINOR_EBADMSG 74u
#define MINOR_EMSGSIZE 90u
#define MINOR_EPROTONOSUPPORT 93u

/* One Authorization value: parse must fail with the row's status and leave {0, NULL}. */
static void authz_case(const char *value, uint32_t want_major, uint32_t want_minor) {
    uint32_t minor = 0;
    krbap_buffer tok = fx_empty();
    uint32_t major = krbap_http_parse_authorization(&minor, value, &tok);
    row_case(major, minor, want_major, want_minor);
    if (tok.length != 0 || tok.value != NULL) {
        row_case(1, 0, 0, 1); /* the output must be empty on failure */
    }
    fx_free(&tok);
}

static void challenge_case(const char *value, uint32_t want_major, uint32_t want_minor) {
    uint32_t minor = 0;
    krbap_buffer tok = fx_empty();
    uint32_t major = krbap_http_parse_www_authenticate(&minor, value, &tok);
    row_case(major, minor, want_major, want_minor);
    fx_free(&tok);
}

/* "Negotiate <base64 of GOOD>" as a NUL-terminated string (malloc'ed). */
static char *good_authorization(void) {
    uint32_t minor = 0;
    krbap_buffer in = fx_buf(GOOD, GOOD_LEN);
    krbap_buffer v = fx_empty();
    char *s = NULL;
    if (krbap_http_authorization(&minor, &in, &v) == KRBAP_S_COMPLETE) {
        s = (char *)malloc(v.length + 1);
        if (s != NULL) {
            memcpy(s, v.value, v.length);
            s[v.length] = '\0';
        }
    }
    fx_free(&v);
    return s;
}

static void http_rows(void) {
    static const char *const other_scheme[] = {
        "", " \t ", "Basic YWxpY2U6cGFzcw==", "NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=",
        "Bearer abc.def", "Negotiatex YII=", "Negotiat", "=Negotiate YII="};
    static const char *const no_token[] = {"Negotiate", "negotiate ", "NEGOTIATE \t ", " Negotiate"};
    static const char *const malformed[] = {
        "Negotiate YIIC-A==", "Negotiate YIIC_A==", "Negotiate YIIC\xc3\xa9" "A==", "Negotiate YIIC\rA==",
        "Negotiate YII=YII=", "Negotiate ====", "Negotiate YIJ=", "Negotiate YJ==",
        "Negotiate\tYIIB", "Negotiate:YIIB", "Negotiate YII B", "Negotiate YIIB, Basic YWxpY2U6cA==",
        "Negotiate realm=\"x\""};
    static const char *const no_challenge[] = {"", ", ,", "Basic realm=\"x\"", "NTLM, Kerberos"};
    static const char *const bad_challenge[] = {
        "Negotiate realm=\"x\"", "Negotiate oQc=, Negotiate", "Negotiate oQ", "Negotiate\toQc=",
        "Basic realm=\"unterminated, Negotiate", "\"x\", Negotiate"};
    uint32_t minor = 0;
    uint32_t major;
    size_t i;
    char *good = good_authorization();
    char *big;
    krbap_buffer tok = fx_empty();
    krbap_buffer in;

    CHECK(good != NULL && strncmp(good, "Negotiate YII", 13) == 0,
          "krbap_http_authorization of MIT's token");
    if (good == NULL) {
        return;
    }
    row_begin("HTTP Authorization: another scheme or none");
    for (i = 0; i < sizeof other_scheme / sizeof other_scheme[0]; i++) {
        authz_case(other_scheme[i], KRBAP_S_BAD_MECH, MINOR_EPROTONOSUPPORT);
    }
    row_end();

    row_begin("HTTP Authorization: Negotiate without a token");
    for (i = 0; i < sizeof no_token / sizeof no_token[0]; i++) {
        authz_case(no_token[i], KRBAP_S_DEFECTIVE_TOKEN, MINOR_ENODATA);
    }
    row_end();

    row_begin("HTTP Authorization: not strict base64 or not one token68");
    for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        authz_case(malformed[i], KRBAP_S_DEFECTIVE_TOKEN, MINOR_EBADMSG);
    }
    row_end();

    row_begin("HTTP Authorization: MIT's token in base64 cut at every length not a multiple of 4");
    {
        size_t full = strlen(good);
        for (i = 11; i < full; i++) {
            char saved = good[i];
            if ((i - 10) % 4 == 0) {
                continue;
            }
            good[i] = '\0';
            authz_case(good, KRBAP_S_DEFECTIVE_TOKEN, MINOR_EBADMSG);
            good[i] = saved;
        }
    }
    row_end();

    row_begin("HTTP Authorization: token over 64 KiB; value over KRBAP_HTTP_MAX_HEADER");
    big = (char *)malloc(KRBAP_HTTP_MAX_HEADER + 16);
    if (big != NULL) {
        /* 64 KiB + 3 bytes of base64 'A's (a multiple of 4 characters). */
        size_t chars = (KRBAP_HTTP_MAX_TOKEN / 3 + 2) * 4;
        memcpy(big, "Negotiate ", 10);
        memset(big + 10, 'A', chars);
        big[10 + chars] = '\0';
        authz_case(big, KRBAP_S_DEFECTIVE_TOKEN, MINOR_EMSGSIZE);
        /* Exactly KRBAP_HTTP_MAX_HEADER + 1 bytes and no NUL: the helper must stop there
         * (ASan and valgrind check that it reads no further). */
        memset(big, 'A', KRBAP_HTTP_MAX_HEADER + 1);
        {
            char *exact = (char *)malloc(KRBAP_HTTP_MAX_HEADER + 1);
            if (exact != NULL) {
                memcpy(exact, big, KRBAP_HTTP_MAX_HEADER + 1);
                authz_case(exact, KRBAP_S_DEFECTIVE_TOKEN, MINOR_EMSGSIZE);
                challenge_case(exact, KRBAP_S_DEFECTIVE_TOKEN, MINOR_EMSGSIZE);
                free(exact);
            }
        }
        free(big);
    }
    {
        unsigned char *over = (unsigned char *)calloc(1, KRBAP_HTTP_MAX_TOKEN + 1);
        in = fx_buf(over, KRBAP_HTTP_MAX_TOKEN + 1);
        major = krbap_http_authorization(&minor, &in, &tok);
        row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, MINOR_EMSGSIZE);
        fx_free(&tok);
        free(over);
    }
    row_end();

    row_begin("HTTP Authorization: well-formed header around a truncated initial token");
    for (i = 1; i < GOOD_LEN; i += 97) {
        krbap_buffer part = fx_buf(GOOD, i);
        krbap_buffer v = fx_empty();
        char *value;
        (void)krbap_http_authorization(&minor, &part, &v);
        value = (char *)malloc(v.length + 1);
        if (value == NULL) {
            fx_free(&v);
            continue;
        }
        memcpy(value, v.value, v.length);
        value[v.length] = '\0';
        fx_free(&v);
        major = krbap_http_parse_authorization(&minor, value, &tok);
        if (major == KRBAP_S_COMPLETE && tok.length == i && memcmp(tok.value, GOOD, i) == 0) {
            major = fx_accept_status(AC, tok.value, tok.length, NULL, &minor);
        }
        row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, G_BAD_TOK_HEADER);
        fx_free(&tok);
        free(value);
    }
    row_end();

    row_begin("HTTP WWW-Authenticate: no Negotiate challenge");
    for (i = 0; i < sizeof no_challenge / sizeof no_challenge[0]; i++) {
        challenge_case(no_challenge[i], KRBAP_S_BAD_MECH, MINOR_EPROTONOSUPPORT);
    }
    row_end();

    row_begin("HTTP WWW-Authenticate: malformed list, parameters, two Negotiate challenges");
    for (i = 0; i < sizeof bad_challenge / sizeof bad_challenge[0]; i++) {
        challenge_case(bad_challenge[i], KRBAP_S_DEFECTIVE_TOKEN, MINOR_EBADMSG);
    }
    row_end();

    row_begin("HTTP helpers: NULL header value; NULL output buffer; NULL value with a length");
    major = krbap_http_parse_authorization(&minor, NULL, &tok);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    major = krbap_http_parse_www_authenticate(&minor, NULL, &tok);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    major = krbap_http_parse_authorization(&minor, good, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    major = krbap_http_www_authenticate(&minor, NULL, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    in = fx_buf(NULL, 10);
    major = krbap_http_www_authenticate(&minor, &in, &tok);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    major = krbap_http_authorization(&minor, NULL, &tok);
    row_case(major, minor, KRBAP_S_DEFECTIVE_TOKEN, MINOR_ENODATA);
    fx_free(&tok);
    row_end();

    /* The undamaged value still parses to MIT's exact token. */
    major = krbap_http_parse_authorization(&minor, good, &tok);
    CHECK(major == KRBAP_S_COMPLETE && tok.length == GOOD_LEN &&
              memcmp(tok.value, GOOD, GOOD_LEN) == 0,
          "HTTP: the undamaged Authorization value gives MIT's token back");
    fx_free(&tok);
    free(good);
}

/* ---- the PAC (MS-PAC): krbap_import_pac of damaged copies of a Samba AD DC's PAC, and
 * misuse of the PAC API --------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void import_case(const unsigned char *pac, size_t len, uint32_t want_major,
                        uint32_t want_minor) {
    uint32_t minor = 0;
    krbap_buffer in = fx_buf(pac, len);
    krbap_pac *handle = NULL;
    uint32_t major = krbap_import_pac(&minor, &in, &handle);
    row_case(major, minor, want_major, want_minor);
    if (handle != NULL) {
        row_case(1, 1, 0, 0); /* a handle for a refused PAC */
        krbap_release_pac(&minor, &handle);
    }
}

/* The PAC with 4 bytes at `at` replaced by the little-endian `v`. */
static void import_patched32(const unsigned char *pac, size_t len, size_t at, uint32_t v) {
    static unsigned char copy[4096];
    memcpy(copy, pac, len);
    copy[at] = (unsigned char)v;
    copy[at + 1] = (unsigned char)(v >> 8);
    copy[at + 2] = (unsigned char)(v >> 16);
    copy[at + 3] = (unsigned char)(v >> 24);
    import_case(copy, len, KRBAP_S_FAILURE, MINOR_EINVAL);
}

static void pac_rows(void) {
    size_t len = 0, i, n;
    unsigned char *pac = fx_read_file("tests/data/samba-ad/alice.pac", &len);
    uint32_t minor = 0, major;
    krbap_pac *handle = NULL;
    krbap_buffer in, out = fx_empty();
    size_t li = 0;
    if (pac == NULL || len < 200 || len > 4096) {
        CHECK(0, "tests/data/samba-ad/alice.pac readable");
        free(pac);
        return;
    }
    n = le32(pac);
    for (i = 0; i < n; i++) {
        if (le32(pac + 8 + 16 * i) == 1) {
            li = le32(pac + 8 + 16 * i + 8);
        }
    }

    row_begin("PAC (krbap_import_pac) truncated at every length");
    for (i = 0; i < len; i++) {
        import_case(pac, i, KRBAP_S_FAILURE, MINOR_EINVAL);
    }
    row_end();

    row_begin("PACTYPE: Version 1, cBuffers 0, 65, 2^32-1");
    import_patched32(pac, len, 4, 1);
    import_patched32(pac, len, 0, 0);
    import_patched32(pac, len, 0, 65);
    import_patched32(pac, len, 0, 0xffffffffu);
    row_end();

    row_begin("PAC_INFO_BUFFER offsets not 8-aligned, in the header, past the end; sizes past the end");
    for (i = 0; i < n; i++) {
        size_t at = 8 + 16 * i;
        import_patched32(pac, len, at + 8, le32(pac + at + 8) + 4);
        import_patched32(pac, len, at + 8, 8);
        import_patched32(pac, len, at + 8, (uint32_t)len + 8);
        import_patched32(pac, len, at + 4, 0xffffffffu);
    }
    row_end();

    row_begin("PAC buffer type twice; LOGON_INFO NDR: version 2, null top pointer, GroupCount 2^32-1");
    import_patched32(pac, len, 8 + 16, 1);
    import_patched32(pac, len, li, 0xcc080002u);
    import_patched32(pac, len, li + 16, 0);
    import_patched32(pac, len, li + 16 + 112, 0xffffffffu);
    row_end();

    /* Misuse of the PAC API. */
    in = fx_buf(pac, len);
    row_begin("krbap_import_pac with a NULL output pointer");
    major = krbap_import_pac(&minor, &in, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    row_end();
    row_begin("krbap_import_pac of a buffer with a NULL value and a length");
    in.value = NULL;
    major = krbap_import_pac(&minor, &in, &handle);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    row_end();
    row_begin("PAC getters on a NULL handle");
    major = krbap_pac_get_string(&minor, NULL, KRBAP_PAC_UPN, &out);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    major = krbap_pac_group_count(&minor, NULL, &i);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    major = krbap_pac_get_verified(&minor, NULL, NULL, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_READ, MINOR_EINVAL);
    row_end();
    row_begin("krbap_ctx_get_pac on a NULL context, into a NULL pointer");
    major = krbap_ctx_get_pac(&minor, NULL, &handle);
    row_case(major, minor, KRBAP_S_NO_CONTEXT, G_BAD_MSG_CTX);
    major = krbap_ctx_get_pac(&minor, NULL, NULL);
    row_case(major, minor, KRBAP_S_CALL_INACCESSIBLE_WRITE, MINOR_EINVAL);
    row_end();
    in = fx_buf(pac, len);
    CHECKP(krbap_import_pac(&minor, &in, &handle) == KRBAP_S_COMPLETE,
           "after the PAC rows: the genuine PAC imports");
    krbap_release_pac(&minor, &handle);
    free(pac);
}

int main(void) {
    uint32_t minor = 0;
    uint32_t major;
    size_t conf_len = 0, noconf_len = 0, mic_len = 0, msg_len = 0;
    unsigned char *conf = fx_read_file(FX_DIR "nomutual/c2s_wrap_conf.bin", &conf_len);
    unsigned char *noconf = fx_read_file(FX_DIR "nomutual/c2s_wrap_noconf.bin", &noconf_len);
    unsigned char *mic = fx_read_file(FX_DIR "nomutual/c2s_mic.bin", &mic_len);
    unsigned char *msg = fx_read_file(FX_DIR "nomutual/message.bin", &msg_len);
    krbap_cred *ctx_cred = NULL;
    krbap_cred *control_cred = NULL;
    krbap_ctx *control = NULL;

    T = fx_capture_time();
    GOOD = fx_read_file(FX_DIR "mutual/initial_token.bin", &GOOD_LEN);
    MSG = msg;
    MSG_LEN = msg_len;
    if (GOOD == NULL || conf == NULL || noconf == NULL || mic == NULL || msg == NULL || T < 0 ||
        GOOD_LEN < 200 || GOOD[1] != 0x82 || GOOD[15] != 0x01 || GOOD[16] != 0x00) {
        CHECK(0, "fixtures readable (run from the repository root)");
        return TEST_SUMMARY();
    }
    /* 60 82 LL LL | 06 09 <OID> | 01 00 | AP-REQ */
    INNER = GOOD + 17;
    INNER_LEN = GOOD_LEN - 17;
    AC = fx_acceptor(T);
    CTX = nomutual_context(&ctx_cred);
    control = nomutual_context(&control_cred);
    CHECK(AC != NULL && CTX != NULL && control != NULL, "acceptor and contexts");
    if (AC == NULL || CTX == NULL || control == NULL) {
        return TEST_SUMMARY();
    }
    /* The unmodified tokens are valid: no row fails for a reason other than its damage. */
    CHECKP(genuine_tokens_pass(control, conf, conf_len, noconf, noconf_len, mic, mic_len) == 0,
           "control: MIT's genuine tokens unwrap and verify");

    initial_token_rows();
    spnego_rows();
    per_message_rows(conf, conf_len, noconf, noconf_len, mic, mic_len);
    api_misuse_rows(conf, conf_len);
    http_rows();
    pac_rows();
    printf("bad-input matrix: %d rows\n", rows);
    CHECK(rows >= 40, "at least 40 rows");

    /* The same acceptor credential and replay cache: MIT's token is fresh for them. */
    major = fx_accept_status(AC, GOOD, GOOD_LEN, NULL, &minor);
    CHECKP(major == KRBAP_S_COMPLETE, "after the matrix: MIT's initial token accepted");
    major = fx_accept_status(AC, GOOD, GOOD_LEN, NULL, &minor);
    CHECKP(major == (KRBAP_S_FAILURE | KRBAP_S_DUPLICATE_TOKEN) && minor == KRB5KRB_AP_ERR_REPEAT,
           "after the matrix: its replay refused (KRB5KRB_AP_ERR_REPEAT)");
    {
        krbap_cred *ic = fx_initiator(T + 5);
        krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
        krbap_ctx *ictx = NULL;
        krbap_buffer tok = fx_empty();
        (void)fx_initial_token(ic, target, KRBAP_C_MUTUAL_FLAG, NULL, &ictx, &tok);
        major = fx_accept_status(AC, tok.value, tok.length, NULL, &minor);
        CHECKP(major == KRBAP_S_COMPLETE, "after the matrix: a fresh krbap token accepted");
        fx_free(&tok);
        fx_delete(&ictx);
        krbap_release_name(&minor, &target);
        krbap_release_cred(&minor, &ic);
    }
    /* The context: MIT's tokens in sequence (none consumed by a failed row). */
    CHECKP(genuine_tokens_pass(CTX, conf, conf_len, noconf, noconf_len, mic, mic_len) == 0,
           "after the matrix: the context unwraps and verifies MIT's tokens in sequence");

    fx_delete(&CTX);
    fx_delete(&control);
    krbap_release_cred(&minor, &AC);
    krbap_release_cred(&minor, &ctx_cred);
    krbap_release_cred(&minor, &control_cred);
    free(GOOD);
    free(conf);
    free(noconf);
    free(mic);
    free(msg);
    return TEST_SUMMARY();
}
