/*
 * Per-message protection (RFC 4121 §4.2) through the C header, after an exchange on the
 * MIT fixtures: Wrap with and without confidentiality and MIC tokens in both
 * directions, empty and 20 MiB messages, tampering, reflection, replay and ordering
 * (supplementary status bits), wrap_size_limit, and MIT's own per-message tokens
 * unwrapped by a krbap acceptor built from MIT's initial token.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

static long long T0;
static long long ENDTIME;

static const uint32_t ALL_FLAGS = KRBAP_C_MUTUAL_FLAG | KRBAP_C_REPLAY_FLAG |
                                  KRBAP_C_SEQUENCE_FLAG | KRBAP_C_CONF_FLAG | KRBAP_C_INTEG_FLAG;

static uint32_t wrap(krbap_ctx *ctx, int conf, const void *msg, size_t len, krbap_buffer *out) {
    uint32_t minor = 0;
    krbap_buffer in = fx_buf(msg, len);
    int32_t conf_state = -1;
    uint32_t major;
    *out = fx_empty();
    major = krbap_wrap(&minor, ctx, conf, 0, &in, &conf_state, out);
    if (major == KRBAP_S_COMPLETE && conf_state != (conf ? 1 : 0)) {
        return KRBAP_S_FAILURE;
    }
    return major;
}

/* Unwraps and compares with the expected plaintext; returns the major status (and
 * KRBAP_S_FAILURE when the plaintext or conf_state differ). */
static uint32_t unwrap_expect(krbap_ctx *ctx, const krbap_buffer *tok, const void *msg, size_t len,
                              int conf, uint32_t *minor_out) {
    uint32_t minor = 0;
    krbap_buffer out = fx_empty();
    int32_t conf_state = -1;
    uint32_t qop = 99;
    uint32_t major = krbap_unwrap(&minor, ctx, tok, &out, &conf_state, &qop);
    if (minor_out != NULL) {
        *minor_out = minor;
    }
    if (!FX_IS_ERROR(major) &&
        (out.length != len || (len > 0 && memcmp(out.value, msg, len) != 0) ||
         conf_state != (conf ? 1 : 0) || qop != 0)) {
        major = KRBAP_S_FAILURE;
    }
    fx_free(&out);
    return major;
}

static uint32_t unwrap_status(krbap_ctx *ctx, const krbap_buffer *tok, uint32_t *minor_out) {
    uint32_t minor = 0;
    krbap_buffer out = fx_empty();
    uint32_t major = krbap_unwrap(&minor, ctx, tok, &out, NULL, NULL);
    if (minor_out != NULL) {
        *minor_out = minor;
    }
    fx_free(&out);
    return major;
}

static uint32_t get_mic(krbap_ctx *ctx, const void *msg, size_t len, krbap_buffer *tok) {
    uint32_t minor = 0;
    krbap_buffer in = fx_buf(msg, len);
    *tok = fx_empty();
    return krbap_get_mic(&minor, ctx, 0, &in, tok);
}

static uint32_t verify_mic(krbap_ctx *ctx, const void *msg, size_t len, const krbap_buffer *tok) {
    uint32_t minor = 0;
    uint32_t qop = 99;
    krbap_buffer in = fx_buf(msg, len);
    uint32_t major = krbap_verify_mic(&minor, ctx, &in, tok, &qop);
    if (!FX_IS_ERROR(major) && qop != 0) {
        major = KRBAP_S_FAILURE;
    }
    return major;
}

static int pair(uint32_t flags, krbap_ctx **ictx, krbap_ctx **actx) {
    uint32_t minor = 0;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    int rc = fx_establish(ic, ac, "test@localhost", KRBAP_NT_HOSTBASED_SERVICE, flags, ictx, actx);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    return rc;
}

static void test_round_trips(void) {
    static const char msg[] = "krbap per-message protection test message";
    const size_t len = sizeof msg - 1;
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_buffer tok;
    int conf;
    const unsigned char *t;

    printf("== Wrap and MIC round trips\n");
    CHECKP(pair(ALL_FLAGS, &ictx, &actx) == 0, "mutual exchange (credentials released after)");
    for (conf = 1; conf >= 0; conf--) {
        char what[128];
        CHECKP(wrap(ictx, conf, msg, len, &tok) == KRBAP_S_COMPLETE, conf ? "initiator wrap (conf)" : "initiator wrap (integrity only)");
        t = (const unsigned char *)tok.value;
        snprintf(what, sizeof what, "initiator Wrap token: 05 04, flags %s", conf ? "Sealed" : "not Sealed");
        CHECKP(tok.length >= 16 && t[0] == 0x05 && t[1] == 0x04 && (t[2] & 0x01) == 0 &&
                   ((t[2] & 0x02) != 0) == (conf != 0) && t[3] == 0xff,
               what);
        CHECKP(unwrap_expect(actx, &tok, msg, len, conf, NULL) == KRBAP_S_COMPLETE,
               conf ? "acceptor unwrap (conf): same message, conf_state 1, qop 0"
                    : "acceptor unwrap (integ): same message, conf_state 0, qop 0");
        fx_free(&tok);
        CHECKP(wrap(actx, conf, msg, len, &tok) == KRBAP_S_COMPLETE, conf ? "acceptor wrap (conf)" : "acceptor wrap (integrity only)");
        t = (const unsigned char *)tok.value;
        CHECKP(tok.length >= 16 && (t[2] & 0x01) == 0x01, "acceptor Wrap token: SentByAcceptor");
        CHECKP(unwrap_expect(ictx, &tok, msg, len, conf, NULL) == KRBAP_S_COMPLETE,
               conf ? "initiator unwrap (conf)" : "initiator unwrap (integ)");
        fx_free(&tok);
    }
    CHECKP(get_mic(ictx, msg, len, &tok) == KRBAP_S_COMPLETE && tok.length >= 16 &&
               ((const unsigned char *)tok.value)[0] == 0x04 &&
               ((const unsigned char *)tok.value)[1] == 0x04,
           "initiator get_mic: MIC token 04 04");
    CHECKP(verify_mic(actx, msg, len, &tok) == KRBAP_S_COMPLETE, "acceptor verify_mic");
    fx_free(&tok);
    CHECKP(get_mic(actx, msg, len, &tok) == KRBAP_S_COMPLETE, "acceptor get_mic");
    CHECKP(verify_mic(ictx, msg, len, &tok) == KRBAP_S_COMPLETE, "initiator verify_mic");
    fx_free(&tok);

    /* Empty messages. */
    CHECKP(wrap(ictx, 1, NULL, 0, &tok) == KRBAP_S_COMPLETE &&
               unwrap_expect(actx, &tok, NULL, 0, 1, NULL) == KRBAP_S_COMPLETE,
           "empty message, Wrap with conf");
    fx_free(&tok);
    CHECKP(wrap(actx, 0, "", 0, &tok) == KRBAP_S_COMPLETE &&
               unwrap_expect(ictx, &tok, "", 0, 0, NULL) == KRBAP_S_COMPLETE,
           "empty message, Wrap integrity only");
    fx_free(&tok);
    CHECKP(get_mic(ictx, NULL, 0, &tok) == KRBAP_S_COMPLETE &&
               verify_mic(actx, NULL, 0, &tok) == KRBAP_S_COMPLETE,
           "empty message, MIC");
    fx_free(&tok);

    /* 20 MiB. */
    {
        const size_t big = 20u * 1024u * 1024u;
        unsigned char *m = (unsigned char *)malloc(big);
        size_t i;
        CHECKP(m != NULL, "20 MiB buffer");
        if (m != NULL) {
            for (i = 0; i < big; i++) {
                m[i] = (unsigned char)(i * 131u + (i >> 12));
            }
            CHECKP(wrap(ictx, 1, m, big, &tok) == KRBAP_S_COMPLETE && tok.length > big &&
                       unwrap_expect(actx, &tok, m, big, 1, NULL) == KRBAP_S_COMPLETE,
                   "20 MiB message: Wrap (conf) and unwrap, identical");
            fx_free(&tok);
            CHECKP(get_mic(actx, m, big, &tok) == KRBAP_S_COMPLETE &&
                       verify_mic(ictx, m, big, &tok) == KRBAP_S_COMPLETE,
                   "20 MiB message: MIC");
            m[big / 2] ^= 1;
            CHECKP(FX_ROUTINE(verify_mic(ictx, m, big, &tok)) == KRBAP_S_BAD_SIG,
                   "20 MiB message changed in the middle: BAD_SIG");
            fx_free(&tok);
            free(m);
        }
    }
    fx_delete(&ictx);
    fx_delete(&actx);
}

static void test_bad_tokens(void) {
    static const char msg[] = "tamper with me";
    const size_t len = sizeof msg - 1;
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_buffer tok;
    krbap_buffer bad;
    unsigned char *copy;
    uint32_t minor = 0;
    size_t i;
    size_t rejected = 0;

    printf("== tampered, reflected, replayed and reordered tokens\n");
    CHECKP(pair(ALL_FLAGS, &ictx, &actx) == 0, "mutual exchange with REPLAY|SEQUENCE");

    (void)wrap(ictx, 1, msg, len, &tok);
    copy = (unsigned char *)malloc(tok.length);
    if (copy != NULL) {
        /* Every byte of the token in turn (header, RRC, ciphertext, checksum). */
        for (i = 0; i < tok.length; i++) {
            memcpy(copy, tok.value, tok.length);
            copy[i] ^= 0x10;
            bad = fx_buf(copy, tok.length);
            if (FX_IS_ERROR(unwrap_status(actx, &bad, NULL))) {
                rejected++;
            }
        }
        printf("     (%zu of %zu single-byte changes rejected)\n", rejected, tok.length);
        memcpy(copy, tok.value, tok.length);
        copy[tok.length - 1] ^= 1;
        bad = fx_buf(copy, tok.length);
        CHECKP(FX_ROUTINE(unwrap_status(actx, &bad, &minor)) == KRBAP_S_BAD_SIG,
               "Wrap token with a changed checksum byte: BAD_SIG");
        memcpy(copy, tok.value, tok.length);
        copy[20] ^= 1;
        bad = fx_buf(copy, tok.length);
        CHECKP(FX_ROUTINE(unwrap_status(actx, &bad, &minor)) == KRBAP_S_BAD_SIG,
               "Wrap token with a changed ciphertext byte: BAD_SIG");
        /* RFC 4121 §4.2.6.2: the RRC may vary; only the Filler is constant. 0xff at byte 3. */
        CHECKP(rejected >= tok.length - 2, "(nearly) every changed byte is rejected");
        free(copy);
    }
    CHECKP(unwrap_expect(actx, &tok, msg, len, 1, NULL) == KRBAP_S_COMPLETE,
           "the genuine token still unwraps after the tampered ones (sequence not consumed)");
    CHECKP(FX_ROUTINE(unwrap_status(ictx, &tok, &minor)) == KRBAP_S_BAD_SIG,
           "initiator's own token fed back to the initiator (reflection): BAD_SIG");
    {
        uint32_t major = unwrap_status(actx, &tok, &minor);
        CHECKP(!FX_IS_ERROR(major) && (major & KRBAP_S_DUPLICATE_TOKEN),
               "the same token again: DUPLICATE_TOKEN supplementary bit");
    }
    fx_free(&tok);

    (void)get_mic(ictx, msg, len, &tok);
    CHECKP(FX_ROUTINE(verify_mic(actx, "tamper with mE", len, &tok)) == KRBAP_S_BAD_SIG,
           "MIC over another message: BAD_SIG");
    CHECKP(FX_ROUTINE(verify_mic(ictx, msg, len, &tok)) == KRBAP_S_BAD_SIG,
           "initiator's MIC verified by the initiator: BAD_SIG");
    CHECKP(verify_mic(actx, msg, len, &tok) == KRBAP_S_COMPLETE, "the genuine MIC verifies");
    fx_free(&tok);

    /* Out of order: A(n) B(n+1) C(n+2), received C, A, B, then B again. */
    {
        krbap_buffer a;
        krbap_buffer b;
        krbap_buffer c;
        uint32_t m1;
        uint32_t m2;
        uint32_t m3;
        uint32_t m4;
        (void)wrap(ictx, 1, "A", 1, &a);
        (void)wrap(ictx, 1, "B", 1, &b);
        (void)wrap(ictx, 1, "C", 1, &c);
        m1 = unwrap_status(actx, &c, &minor);
        m2 = unwrap_status(actx, &a, &minor);
        m3 = unwrap_status(actx, &b, &minor);
        m4 = unwrap_status(actx, &b, &minor);
        printf("     (C: 0x%x, A: 0x%x, B: 0x%x, B again: 0x%x)\n", (unsigned)m1, (unsigned)m2,
               (unsigned)m3, (unsigned)m4);
        CHECKP(!FX_IS_ERROR(m1) && (m1 & KRBAP_S_GAP_TOKEN), "C before A and B: GAP_TOKEN");
        CHECKP(!FX_IS_ERROR(m2) && (m2 & KRBAP_S_UNSEQ_TOKEN), "A after C: UNSEQ_TOKEN");
        CHECKP(!FX_IS_ERROR(m3) && (m3 & KRBAP_S_UNSEQ_TOKEN), "B after C: UNSEQ_TOKEN");
        CHECKP(!FX_IS_ERROR(m4) && (m4 & KRBAP_S_DUPLICATE_TOKEN), "B again: DUPLICATE_TOKEN");
        fx_free(&a);
        fx_free(&b);
        fx_free(&c);
    }
    fx_delete(&ictx);
    fx_delete(&actx);

    /* REPLAY without SEQUENCE: order is not reported, replays are. */
    CHECKP(pair(KRBAP_C_MUTUAL_FLAG | KRBAP_C_REPLAY_FLAG, &ictx, &actx) == 0,
           "mutual exchange with REPLAY only");
    {
        krbap_buffer a;
        krbap_buffer b;
        uint32_t m1;
        uint32_t m2;
        uint32_t m3;
        (void)wrap(ictx, 1, "A", 1, &a);
        (void)wrap(ictx, 1, "B", 1, &b);
        m1 = unwrap_status(actx, &b, &minor);
        m2 = unwrap_status(actx, &a, &minor);
        m3 = unwrap_status(actx, &a, &minor);
        CHECKP(m1 == KRBAP_S_COMPLETE && m2 == KRBAP_S_COMPLETE,
               "REPLAY only: out-of-order tokens are plain COMPLETE");
        CHECKP(!FX_IS_ERROR(m3) && (m3 & KRBAP_S_DUPLICATE_TOKEN),
               "REPLAY only: a replay is still DUPLICATE_TOKEN");
        fx_free(&a);
        fx_free(&b);
    }
    fx_delete(&ictx);
    fx_delete(&actx);
}

static void test_size_limit(void) {
    static const uint32_t sizes[] = {64, 100, 1000, 4096, 65536};
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    size_t i;
    int conf;
    unsigned char *m = (unsigned char *)calloc(65536 + 1, 1);

    printf("== krbap_wrap_size_limit\n");
    CHECKP(pair(ALL_FLAGS, &ictx, &actx) == 0 && m != NULL, "mutual exchange");
    for (conf = 1; conf >= 0 && m != NULL; conf--) {
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint32_t minor = 0;
            uint32_t limit = 0;
            krbap_buffer t1 = fx_empty();
            krbap_buffer t2 = fx_empty();
            char what[160];
            uint32_t major = krbap_wrap_size_limit(&minor, ictx, conf, 0, sizes[i], &limit);
            (void)wrap(ictx, conf, m, limit, &t1);
            (void)wrap(ictx, conf, m, (size_t)limit + 1, &t2);
            snprintf(what, sizeof what,
                     "conf=%d output %u: limit %u wraps to %zu <= %u, limit+1 to %zu > %u", conf,
                     (unsigned)sizes[i], (unsigned)limit, t1.length, (unsigned)sizes[i],
                     t2.length, (unsigned)sizes[i]);
            CHECKP(major == KRBAP_S_COMPLETE && limit < sizes[i] && t1.length <= sizes[i] &&
                       t2.length > sizes[i],
                   what);
            fx_free(&t1);
            fx_free(&t2);
        }
    }
    {
        uint32_t minor = 0;
        uint32_t limit = 12345;
        uint32_t major = krbap_wrap_size_limit(&minor, ictx, 1, 0, 10, &limit);
        CHECKP(major == KRBAP_S_COMPLETE && limit == 0, "an output size below the overhead: 0");
        major = krbap_wrap_size_limit(&minor, ictx, 1, 7, 1000, &limit);
        CHECKP(FX_ROUTINE(major) == KRBAP_S_BAD_QOP, "a non-default QOP: BAD_QOP");
    }
    free(m);
    fx_delete(&ictx);
    fx_delete(&actx);
}

/* Context expiry: contexts take their clock from the credential when they are made
 * (krbap_cred_set_time), and nothing moves it afterwards; the check is what the API
 * allows: krbap_context_time by the fixed clock, and protection working up to the end. */
static void test_expiry(void) {
    uint32_t minor = 0;
    uint32_t t = 0;
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_cred *ic = fx_initiator(ENDTIME - 1);
    krbap_cred *ac = fx_acceptor(ENDTIME - 1);
    krbap_buffer tok = fx_empty();
    uint32_t major;

    printf("== context lifetime near the ticket's end\n");
    CHECKP(fx_establish(ic, ac, "test@localhost", KRBAP_NT_HOSTBASED_SERVICE, ALL_FLAGS, &ictx,
                        &actx) == 0,
           "exchange one second before the ticket ends");
    major = krbap_context_time(&minor, ictx, &t);
    CHECKP(major == KRBAP_S_COMPLETE && t == 1, "initiator context_time: 1 s left");
    CHECKP(wrap(ictx, 1, "x", 1, &tok) == KRBAP_S_COMPLETE &&
               unwrap_expect(actx, &tok, "x", 1, 1, NULL) == KRBAP_S_COMPLETE,
           "protection works until the end");
    fx_free(&tok);
    printf("     (no API moves an established context's clock past its end: "
           "KRBAP_S_CONTEXT_EXPIRED from wrap is not reachable offline)\n");
    fx_delete(&ictx);
    fx_delete(&actx);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
}

/* MIT's per-message tokens, unwrapped by krbap after accepting MIT's initial token.
 * Without mutual authentication they are keyed by the initiator's subkey, which the
 * krbap acceptor takes from MIT's authenticator: they must unwrap to message.bin. With
 * mutual authentication MIT's initiator switched to the subkey in MIT's AP-REP
 * (AcceptorSubkey flag, RFC 4121 §4.2.2), which a krbap acceptor never saw (it made its
 * own AP-REP): it must reject them with BAD_SIG, and not crash. */
static void test_mit_tokens(void) {
    static const char *const cases[] = {"nomutual", "mutual", "aes128-sha1", "aes256-sha384",
                                        "aes128-sha256", "aes256-sha384-default-subkey"};
    size_t c;
    printf("== MIT krb5 1.20 Wrap/MIC tokens (initiator -> acceptor)\n");
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[256];
        char what[256];
        size_t len = 0;
        size_t mlen = 0;
        uint32_t minor = 0;
        uint32_t major;
        uint32_t aflags = 0;
        unsigned char *token;
        unsigned char *msg;
        krbap_cred *ac = fx_acceptor(fx_info_number(cases[c], "captured at unix time ", 10));
        krbap_ctx *actx = NULL;
        krbap_buffer in;
        krbap_buffer rep = fx_empty();
        static const char *const files[] = {"c2s_wrap_conf.bin", "c2s_wrap_noconf.bin",
                                            "c2s_mic.bin", "c2s_wrap_conf_rrc.bin",
                                            "c2s_wrap_conf_empty.bin", "c2s_mic_empty.bin"};
        size_t f;
        int mutual;

        snprintf(path, sizeof path, FX_DIR "%s/initial_token.bin", cases[c]);
        token = fx_read_file(path, &len);
        in = fx_buf(token, len);
        major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, NULL, &aflags, NULL, &rep,
                                         NULL);
        free(token);
        fx_free(&rep);
        mutual = (aflags & KRBAP_C_MUTUAL_FLAG) != 0;
        snprintf(what, sizeof what, "%s: initial token accepted", cases[c]);
        CHECKP(major == KRBAP_S_COMPLETE, what);
        snprintf(path, sizeof path, FX_DIR "%s/message.bin", cases[c]);
        msg = fx_read_file(path, &mlen);
        for (f = 0; f < sizeof files / sizeof files[0] && actx != NULL && msg != NULL; f++) {
            int is_mic = strstr(files[f], "mic") != NULL;
            int empty = strstr(files[f], "empty") != NULL;
            size_t tlen = 0;
            krbap_buffer t;
            snprintf(path, sizeof path, FX_DIR "%s/%s", cases[c], files[f]);
            token = fx_read_file(path, &tlen);
            if (token == NULL) {
                continue; /* the extra files exist in "mutual" only */
            }
            t = fx_buf(token, tlen);
            if (is_mic) {
                major = verify_mic(actx, msg, empty ? 0 : mlen, &t);
            } else {
                major = unwrap_expect(actx, &t, msg, empty ? 0 : mlen,
                                      strstr(files[f], "noconf") == NULL, NULL);
            }
            if (!mutual) {
                snprintf(what, sizeof what, "%s: MIT's %s %s, in sequence (major 0x%x)",
                         cases[c], files[f], is_mic ? "verifies" : "unwraps to message.bin",
                         (unsigned)major);
                CHECKP(major == KRBAP_S_COMPLETE, what);
            } else {
                snprintf(what, sizeof what,
                         "%s: MIT's %s is keyed by MIT's acceptor subkey (flag 0x04): BAD_SIG "
                         "(major 0x%x)",
                         cases[c], files[f], (unsigned)major);
                CHECKP(tlen > 2 && (token[2] & 0x04) && FX_ROUTINE(major) == KRBAP_S_BAD_SIG,
                       what);
            }
            free(token);
        }
        free(msg);
        fx_delete(&actx);
        krbap_release_cred(&minor, &ac);
    }
}

int main(void) {
    T0 = fx_capture_time();
    ENDTIME = fx_ticket_endtime();
    CHECKP(T0 > 0 && ENDTIME > T0, "fixture times from tests/data/mit-capture/mutual/info.txt");
    if (T0 <= 0 || ENDTIME <= T0) {
        return TEST_SUMMARY();
    }
    T0 += 60;
    test_round_trips();
    test_bad_tokens();
    test_size_limit();
    test_expiry();
    test_mit_tokens();
    return TEST_SUMMARY();
}
