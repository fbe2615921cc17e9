/*
 * The AP exchange through the C header, offline, against the MIT krb5 1.20 fixtures of
 * tests/data/mit-capture/: alice's ccache (TGT and service tickets), the service keytab
 * and MIT's own initial context tokens. Clocks are fixed (krbap_cred_set_time) so the
 * captured tickets are valid whatever the date.
 *
 * Cases: krbap initiator -> krbap acceptor (mutual, non-mutual, host-based and principal
 * targets, each single-enctype service), MIT's initial tokens accepted, and the
 * failures with MIT's minor codes (replay, skew, expired ticket, wrong key / kvno /
 * enctype / service, tampering, channel bindings, truncation, garbage, NULL
 * arguments), each followed by a valid exchange to show the library still works.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

static long long T0;      /* capture time + 60 s: the tickets are valid */
static long long ENDTIME; /* the tickets' end time */

static const uint32_t MUTUAL_FLAGS =
    KRBAP_C_MUTUAL_FLAG | KRBAP_C_REPLAY_FLAG | KRBAP_C_SEQUENCE_FLAG | KRBAP_C_CONF_FLAG |
    KRBAP_C_INTEG_FLAG;
static const uint32_t NOMUTUAL_FLAGS =
    KRBAP_C_REPLAY_FLAG | KRBAP_C_SEQUENCE_FLAG | KRBAP_C_CONF_FLAG | KRBAP_C_INTEG_FLAG;

/* A valid exchange with fresh credentials: the library still works after a failure. */
static void check_still_works(const char *after) {
    char msg[256];
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    uint32_t minor = 0;
    int rc = fx_establish(ic, ac, "test@localhost", KRBAP_NT_HOSTBASED_SERVICE, MUTUAL_FLAGS,
                          &ictx, &actx);
    snprintf(msg, sizeof msg, "a valid exchange still succeeds after %s", after);
    CHECKP(rc == 0 && ictx != NULL && actx != NULL, msg);
    fx_delete(&ictx);
    fx_delete(&actx);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
}

static void check_pac(const krbap_ctx *actx, const char *what) {
    uint32_t minor = 0;
    size_t count = 0;
    size_t i;
    int found = 0;
    krbap_buffer pac = fx_empty();
    krbap_buffer element = fx_empty();
    int32_t ad_type = 0;
    int32_t from_ticket = 0;
    char msg[256];
    long long expected_len =
        fx_file_number(FX_DIR "mutual/decoded.txt", "ad-type 128 AD-WIN2K-PAC, ", 10);

    CHECKP(krbap_inquire_authz_count(&minor, actx, &count) == KRBAP_S_COMPLETE && count >= 1,
           "acceptor: authorization data present");
    for (i = 0; i < count && !found; i++) {
        krbap_buffer d = fx_empty();
        if (krbap_inquire_authz_element(&minor, actx, i, &ad_type, &from_ticket, &d) ==
                KRBAP_S_COMPLETE &&
            ad_type == 128 && from_ticket == 1) {
            found = 1;
            element = d;
        } else {
            fx_free(&d);
        }
    }
    snprintf(msg, sizeof msg, "%s: ticket carries MIT's PAC (ad-type 128, %lld bytes)", what,
             expected_len);
    CHECKP(found && (long long)element.length == expected_len, msg);
    CHECKP(krbap_inquire_pac(&minor, actx, &pac) == KRBAP_S_COMPLETE &&
               pac.length == element.length && pac.length >= 8 &&
               memcmp(pac.value, element.value, pac.length) == 0,
           "krbap_inquire_pac returns the same blob as the ad-type 128 element");
    /* MS-PAC §2.3: cBuffers >= 1, Version 0. */
    CHECKP(pac.length >= 8 && ((const unsigned char *)pac.value)[0] >= 1 &&
               memcmp((const unsigned char *)pac.value + 4, "\0\0\0\0", 4) == 0,
           "PAC header: at least one buffer, version 0");
    {
        krbap_buffer d = fx_empty();
        uint32_t major = krbap_inquire_authz_element(&minor, actx, count, &ad_type, NULL, &d);
        CHECKP(FX_ROUTINE(major) == KRBAP_S_UNAVAILABLE && d.length == 0,
               "authz element past the end: KRBAP_S_UNAVAILABLE");
        fx_free(&d);
    }
    fx_free(&pac);
    fx_free(&element);
}

/* krbap initiator -> krbap acceptor, mutual, all the outputs. */
static void test_mutual(const char *target, int32_t name_type) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name(target, name_type);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_buffer tok = fx_empty();
    krbap_buffer rep = fx_empty();
    krbap_buffer out = fx_empty();
    krbap_name *src = NULL;
    krbap_name *targ = NULL;
    uint32_t iflags = 0;
    uint32_t aflags = 0;
    uint32_t time_rec = 0;
    uint32_t lifetime = 0;
    uint32_t ctx_flags = 0;
    int32_t local = -1;
    int32_t open = -1;
    int32_t enctype = 0;
    int64_t endtime = 0;
    char text[256];

    printf("== mutual exchange, target %s\n", target);
    CHECKP(ic != NULL && ac != NULL && name != NULL, "credentials and target name");

    major = krbap_init_sec_context(&minor, ic, &ictx, name, MUTUAL_FLAGS, NULL, NULL, &iflags,
                                   &time_rec, &tok);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED && ictx != NULL,
           "init #1: CONTINUE_NEEDED (mutual authentication pending)");
    CHECKP(tok.length > 100 && fx_tok_id(tok.value, tok.length) == 0x0100,
           "init #1: initial context token 0x60 ... TOK_ID 01 00");
    CHECKP(time_rec == (uint32_t)(ENDTIME - T0), "init #1: time_rec = ticket end - now");
    CHECKP(krbap_inquire_session(&minor, ictx, &enctype, &endtime) == KRBAP_S_COMPLETE &&
               endtime == ENDTIME,
           "initiator: ticket end time from the ccache");

    major = krbap_accept_sec_context(&minor, &actx, ac, &tok, NULL, &src, &aflags, &time_rec, &rep,
                                     NULL);
    CHECKP(major == KRBAP_S_COMPLETE && actx != NULL, "accept: COMPLETE");
    fx_name_text(src, text, sizeof text);
    CHECKP(strcmp(text, FX_CLIENT) == 0, "accept: src_name alice@TEST.LOCAL");
    CHECKP((aflags & MUTUAL_FLAGS) == MUTUAL_FLAGS, "accept: ret_flags MUTUAL|REPLAY|SEQUENCE|CONF|INTEG");
    CHECKP(!(aflags & KRBAP_C_DELEG_FLAG), "accept: no delegation");
    CHECKP(time_rec == (uint32_t)(ENDTIME + 300 - T0),
           "accept: time_rec = ticket end + clock skew - now (as MIT: 86699 at capture)");
    CHECKP(rep.length > 0 && fx_tok_id(rep.value, rep.length) == 0x0200,
           "accept: output token is an AP-REP token (TOK_ID 02 00)");

    major = krbap_init_sec_context(&minor, ic, &ictx, name, MUTUAL_FLAGS, NULL, &rep, &iflags,
                                   &time_rec, &out);
    CHECKP(major == KRBAP_S_COMPLETE && ictx != NULL, "init #2: AP-REP verified, COMPLETE");
    CHECKP(out.length == 0, "init #2: nothing more to send");
    CHECKP((iflags & MUTUAL_FLAGS) == MUTUAL_FLAGS, "init #2: ret_flags include the requested");
    printf("     (init #2 time_rec %u, expected %lld)\n", (unsigned)time_rec, ENDTIME - T0);
    CHECKP(time_rec == (uint32_t)(ENDTIME - T0),
           "init #2: time_rec = ticket end - now (context clock, not the system clock)");

    /* inquire_context on both sides */
    major = krbap_inquire_context(&minor, actx, &targ, NULL, &lifetime,
                                  &ctx_flags, &local, &open);
    fx_name_text(targ, text, sizeof text);
    krbap_release_name(&minor, &targ);
    CHECKP(major == KRBAP_S_COMPLETE && strcmp(text, FX_CLIENT) == 0,
           "acceptor inquire_context: src alice@TEST.LOCAL");
    CHECKP(local == 0 && open == 1 && ctx_flags == aflags,
           "acceptor inquire_context: remotely initiated, open, same flags");
    CHECKP(lifetime == (uint32_t)(ENDTIME + 300 - T0),
           "acceptor inquire_context: lifetime by the context's (fixed) clock");
    major = krbap_inquire_context(&minor, ictx, NULL, &targ, &lifetime, &ctx_flags, &local, &open);
    fx_name_text(targ, text, sizeof text);
    krbap_release_name(&minor, &targ);
    CHECKP(major == KRBAP_S_COMPLETE && strcmp(text, FX_SERVICE_PRINCIPAL) == 0,
           "initiator inquire_context: targ test/localhost@TEST.LOCAL");
    CHECKP(local == 1 && open == 1, "initiator inquire_context: locally initiated, open");
    CHECKP(lifetime == (uint32_t)(ENDTIME - T0),
           "initiator inquire_context: lifetime by the context's (fixed) clock");
    major = krbap_context_time(&minor, ictx, &lifetime);
    CHECKP(major == KRBAP_S_COMPLETE && lifetime == (uint32_t)(ENDTIME - T0),
           "krbap_context_time by the context's (fixed) clock");

    enctype = 0;
    endtime = 0;
    CHECKP(krbap_inquire_session(&minor, actx, &enctype, &endtime) == KRBAP_S_COMPLETE &&
               enctype == 18 && endtime == ENDTIME,
           "acceptor session: aes256-cts-hmac-sha1-96 (18), ticket end time");
    enctype = 0;
    CHECKP(krbap_inquire_session(&minor, ictx, &enctype, NULL) == KRBAP_S_COMPLETE && enctype == 18,
           "initiator session: aes256-cts-hmac-sha1-96 (18)");
    check_pac(actx, "acceptor");

    fx_free(&tok);
    fx_free(&rep);
    fx_free(&out);
    krbap_release_name(&minor, &src);
    krbap_release_name(&minor, &name);
    fx_delete(&ictx);
    fx_delete(&actx);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
}

static void test_nomutual(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_buffer tok = fx_empty();
    krbap_buffer rep = fx_empty();
    uint32_t iflags = 0;
    uint32_t aflags = 0;
    int32_t open = 0;

    printf("== non-mutual exchange\n");
    major = krbap_init_sec_context(&minor, ic, &ictx, name, NOMUTUAL_FLAGS, NULL, NULL, &iflags,
                                   NULL, &tok);
    CHECKP(major == KRBAP_S_COMPLETE && ictx != NULL, "init: COMPLETE at once without MUTUAL");
    CHECKP(!(iflags & KRBAP_C_MUTUAL_FLAG) && (iflags & KRBAP_C_INTEG_FLAG),
           "init: ret_flags without MUTUAL");
    CHECKP(krbap_inquire_context(&minor, ictx, NULL, NULL, NULL, NULL, NULL, &open) ==
                   KRBAP_S_COMPLETE &&
               open == 1,
           "init: context open");
    major = krbap_accept_sec_context(&minor, &actx, ac, &tok, NULL, NULL, &aflags, NULL, &rep, NULL);
    CHECKP(major == KRBAP_S_COMPLETE && actx != NULL, "accept: COMPLETE");
    CHECKP(rep.length == 0, "accept: no AP-REP");
    CHECKP(!(aflags & KRBAP_C_MUTUAL_FLAG) && (aflags & KRBAP_C_REPLAY_FLAG),
           "accept: ret_flags without MUTUAL, with REPLAY");
    fx_free(&tok);
    fx_free(&rep);
    krbap_release_name(&minor, &name);
    fx_delete(&ictx);
    fx_delete(&actx);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
}

/* The single-enctype services: ticket and session key of that enctype. */
static void test_enctypes(void) {
    static const char *const targets[] = {"test-aes256-sha1@localhost", "test-aes128-sha1@localhost",
                                          "test-aes256-sha384@localhost",
                                          "test-aes128-sha256@localhost"};
    static const int32_t enctypes[] = {18, 17, 20, 19};
    size_t i;
    printf("== single-enctype services\n");
    for (i = 0; i < 4; i++) {
        uint32_t minor = 0;
        krbap_cred *ic = fx_initiator(T0);
        krbap_cred *ac = fx_acceptor(T0);
        krbap_ctx *ictx = NULL;
        krbap_ctx *actx = NULL;
        int32_t ie = 0;
        int32_t ae = 0;
        char msg[256];
        int rc = fx_establish(ic, ac, targets[i], KRBAP_NT_HOSTBASED_SERVICE, MUTUAL_FLAGS, &ictx,
                              &actx);
        snprintf(msg, sizeof msg, "%s: mutual exchange", targets[i]);
        CHECKP(rc == 0, msg);
        if (rc == 0) {
            (void)krbap_inquire_session(&minor, ictx, &ie, NULL);
            (void)krbap_inquire_session(&minor, actx, &ae, NULL);
        }
        snprintf(msg, sizeof msg, "%s: session enctype %d on both sides", targets[i],
                 (int)enctypes[i]);
        CHECKP(ie == enctypes[i] && ae == enctypes[i], msg);
        fx_delete(&ictx);
        fx_delete(&actx);
        krbap_release_cred(&minor, &ic);
        krbap_release_cred(&minor, &ac);
    }
}

static int32_t enctype_by_name(const char *name) {
    if (strncmp(name, "aes256-cts-hmac-sha1-96", 23) == 0) return 18;
    if (strncmp(name, "aes128-cts-hmac-sha1-96", 23) == 0) return 17;
    if (strncmp(name, "aes128-cts-hmac-sha256-128", 26) == 0) return 19;
    if (strncmp(name, "aes256-cts-hmac-sha384-192", 26) == 0) return 20;
    return -1;
}

/* MIT's own initial tokens, accepted at their capture time. */
static void test_mit_tokens(void) {
    static const char *const cases[] = {"mutual",       "nomutual",     "noconf",
                                        "deleg",        "aes256-sha1",  "aes128-sha1",
                                        "aes256-sha384", "aes128-sha256",
                                        "aes256-sha384-default-subkey"};
    size_t i;
    printf("== MIT krb5 1.20 initial tokens\n");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        char msg[320];
        char text[256];
        size_t len = 0;
        unsigned char *token;
        long long captured = fx_info_number(cases[i], "captured at unix time ", 10);
        long long mit_flags = fx_info_number(cases[i], "acceptor ret_flags 0x", 16);
        uint32_t minor = 0;
        uint32_t major;
        uint32_t aflags = 0;
        krbap_cred *ac = fx_acceptor(captured);
        krbap_ctx *actx = NULL;
        krbap_name *src = NULL;
        krbap_cred *deleg = NULL;
        krbap_buffer in;
        krbap_buffer rep = fx_empty();
        int32_t enctype = 0;
        int32_t expected_enctype = -1;
        unsigned char *info;
        size_t info_len = 0;

        snprintf(path, sizeof path, FX_DIR "%s/info.txt", cases[i]);
        info = fx_read_file(path, &info_len);
        if (info != NULL) {
            const char *k = strstr((const char *)info, "ticket session key (");
            if (k != NULL) {
                expected_enctype = enctype_by_name(k + strlen("ticket session key ("));
            }
            free(info);
        }
        snprintf(path, sizeof path, FX_DIR "%s/initial_token.bin", cases[i]);
        token = fx_read_file(path, &len);
        in = fx_buf(token, len);
        major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, &src, &aflags, NULL, &rep,
                                         &deleg);
        snprintf(msg, sizeof msg, "%s: MIT's initial token accepted", cases[i]);
        CHECKP(token != NULL && captured > 0 && major == KRBAP_S_COMPLETE, msg);
        fx_name_text(src, text, sizeof text);
        snprintf(msg, sizeof msg, "%s: src_name alice@TEST.LOCAL", cases[i]);
        CHECKP(strcmp(text, FX_CLIENT) == 0, msg);
        snprintf(msg, sizeof msg, "%s: ret_flags 0x%x match MIT's acceptor (0x%llx) in the low 6 bits",
                 cases[i], (unsigned)aflags, mit_flags);
        CHECKP(mit_flags >= 0 && (aflags & 0x3fu) == ((uint32_t)mit_flags & 0x3fu), msg);
        snprintf(msg, sizeof msg, "%s: AP-REP token iff MUTUAL", cases[i]);
        CHECKP((aflags & KRBAP_C_MUTUAL_FLAG) ? fx_tok_id(rep.value, rep.length) == 0x0200
                                              : rep.length == 0,
               msg);
        if (actx != NULL) {
            (void)krbap_inquire_session(&minor, actx, &enctype, NULL);
        }
        snprintf(msg, sizeof msg, "%s: session enctype %d as in info.txt", cases[i],
                 (int)expected_enctype);
        CHECKP(expected_enctype > 0 && enctype == expected_enctype, msg);
        if (strcmp(cases[i], "deleg") == 0) {
            char ccache[] = "/tmp/krbap-test-deleg-XXXXXX";
            int fd = mkstemp(ccache);
            CHECKP(deleg != NULL, "deleg: delegated credential returned");
            if (fd >= 0 && deleg != NULL) {
                size_t cc_len = 0;
                unsigned char *cc;
                major = krbap_store_cred(&minor, deleg, ccache);
                cc = fx_read_file(ccache, &cc_len);
                /* MIT ccache format version 4 starts 05 04. */
                CHECKP(major == KRBAP_S_COMPLETE && cc != NULL && cc_len > 100 && cc[0] == 5 &&
                           cc[1] == 4 && fx_contains(cc, cc_len, "krbtgt", 6),
                       "deleg: stored as a v4 ccache holding a krbtgt ticket");
                free(cc);
            }
            if (fd >= 0) {
                remove(ccache);
                close(fd);
            }
        } else {
            snprintf(msg, sizeof msg, "%s: no delegated credential", cases[i]);
            CHECKP(deleg == NULL, msg);
        }
        if (strcmp(cases[i], "mutual") == 0) {
            /* The same token again: MIT's answer is in replay_error_token.bin. */
            krbap_buffer err = fx_empty();
            krbap_ctx *again = NULL;
            size_t mit_len = 0;
            unsigned char *mit_err = fx_read_file(FX_DIR "mutual/replay_error_token.bin", &mit_len);
            static const unsigned char code34[] = {0xa6, 0x03, 0x02, 0x01, 0x22};
            major = krbap_accept_sec_context(&minor, &again, ac, &in, NULL, NULL, NULL, NULL, &err,
                                             NULL);
            CHECKP(FX_IS_ERROR(major) && again == NULL && minor == KRB5KRB_AP_ERR_REPEAT,
                   "mutual: MIT's token replayed -> KRB5KRB_AP_ERR_REPEAT");
            CHECKP(fx_tok_id(err.value, err.length) == 0x0300 &&
                       fx_contains(err.value, err.length, code34, sizeof code34),
                   "mutual: KRB-ERROR token (TOK_ID 03 00, error-code 34) as MIT sends");
            CHECKP(mit_err != NULL && fx_tok_id(mit_err, mit_len) == 0x0300 &&
                       fx_contains(mit_err, mit_len, code34, sizeof code34),
                   "mutual: (MIT's replay_error_token.bin has the same shape)");
            free(mit_err);
            fx_free(&err);
        }
        free(token);
        fx_free(&rep);
        krbap_release_name(&minor, &src);
        krbap_release_cred(&minor, &deleg);
        fx_delete(&actx);
        krbap_release_cred(&minor, &ac);
    }
}

/* Initiator at T0 and a fresh initial token; accepted by `ac`; checks the minor. */
static uint32_t accept_fresh(const krbap_cred *ac, uint32_t *minor_out, krbap_buffer *err_out) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_buffer tok = fx_empty();
    krbap_buffer err = fx_empty();
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
    major = krbap_accept_sec_context(&minor, &actx, ac, &tok, NULL, NULL, NULL, NULL, &err, NULL);
    *minor_out = minor;
    if (err_out != NULL) {
        *err_out = err;
    } else {
        fx_free(&err);
    }
    fx_delete(&actx);
    fx_delete(&ictx);
    fx_free(&tok);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    return major;
}

static void test_replay(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_ctx *a1 = NULL;
    krbap_ctx *a2 = NULL;
    krbap_buffer tok = fx_empty();
    krbap_buffer out = fx_empty();
    char text[512];

    printf("== replay of an initial token\n");
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
    major = krbap_accept_sec_context(&minor, &a1, ac, &tok, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_COMPLETE, "first accept succeeds");
    fx_free(&out);
    major = krbap_accept_sec_context(&minor, &a2, ac, &tok, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(minor == KRB5KRB_AP_ERR_REPEAT && a2 == NULL,
           "second accept: minor KRB5KRB_AP_ERR_REPEAT (-1765328350), no context");
    CHECKP(FX_ROUTINE(major) != 0, "second accept: a routine error");
    CHECKP((major & KRBAP_S_DUPLICATE_TOKEN) != 0,
           "second accept: GSS_S_DUPLICATE_TOKEN bit set (MIT 1.20 itself returns 0xd0000)");
    CHECKP(out.length > 0 && ((const unsigned char *)out.value)[0] == 0x60 &&
               fx_tok_id(out.value, out.length) == 0x0300,
           "second accept: KRB-ERROR output token, 0x60 ... TOK_ID 03 00");
    fx_status_text(minor, KRBAP_C_MECH_CODE, text, sizeof text);
    CHECKP(strncmp(text, "Request is a replay", 19) == 0,
           "display_status(minor): \"Request is a replay\" (MIT's text)");
    fx_free(&out);
    fx_free(&tok);
    fx_delete(&a1);
    fx_delete(&ictx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    check_still_works("a replay");

    /* "none:" accepts the replay; "memory:" explicitly catches it; a bad name fails. */
    ic = fx_initiator(T0);
    ac = fx_acceptor(T0);
    name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    CHECKP(krbap_cred_set_replay_cache(&minor, ac, "none:") == KRBAP_S_COMPLETE,
           "set_replay_cache(\"none:\")");
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
    CHECKP(fx_accept_status(ac, tok.value, tok.length, NULL, &minor) == KRBAP_S_COMPLETE &&
               fx_accept_status(ac, tok.value, tok.length, NULL, &minor) == KRBAP_S_COMPLETE,
           "replay cache none: the same token is accepted twice");
    CHECKP(krbap_cred_set_replay_cache(&minor, ac, "memory:") == KRBAP_S_COMPLETE,
           "set_replay_cache(\"memory:\")");
    CHECKP(fx_accept_status(ac, tok.value, tok.length, NULL, &minor) == KRBAP_S_COMPLETE &&
               FX_IS_ERROR(fx_accept_status(ac, tok.value, tok.length, NULL, &minor)) &&
               minor == KRB5KRB_AP_ERR_REPEAT,
           "replay cache memory: the second accept is a replay");
    CHECKP(FX_IS_ERROR(krbap_cred_set_replay_cache(&minor, ac, "bogus-type:x")),
           "set_replay_cache with an unknown type fails");
    fx_free(&tok);
    fx_delete(&ictx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
}

static void test_times(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ac;
    krbap_buffer err = fx_empty();
    char text[512];

    printf("== clock skew and ticket expiry\n");
    ac = fx_acceptor(T0 + 600);
    major = accept_fresh(ac, &minor, &err);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_SKEW,
           "acceptor clock +600 s: KRB5KRB_AP_ERR_SKEW (-1765328347)");
    CHECKP(fx_tok_id(err.value, err.length) == 0x0300, "skew: KRB-ERROR token returned");
    fx_status_text(minor, KRBAP_C_MECH_CODE, text, sizeof text);
    CHECKP(strncmp(text, "Clock skew too great", 20) == 0,
           "display_status(minor): \"Clock skew too great\" (MIT's text)");
    fx_free(&err);
    krbap_release_cred(&minor, &ac);

    ac = fx_acceptor(T0 + 290);
    CHECKP(accept_fresh(ac, &minor, NULL) == KRBAP_S_COMPLETE,
           "acceptor clock +290 s: within the default 300 s skew");
    krbap_release_cred(&minor, &ac);

    ac = fx_acceptor(T0 + 600);
    CHECKP(krbap_cred_set_clock_skew(&minor, ac, 900) == KRBAP_S_COMPLETE &&
               accept_fresh(ac, &minor, NULL) == KRBAP_S_COMPLETE,
           "acceptor clock +600 s with set_clock_skew(900): accepted");
    krbap_release_cred(&minor, &ac);
    check_still_works("a clock skew error");

    /* MIT (rd_req_dec.c) checks the ticket times before the authenticator's skew. */
    ac = fx_acceptor(ENDTIME + 3600);
    major = accept_fresh(ac, &minor, NULL);
    printf("     (acceptor at ticket end + 1 h: major 0x%x minor %d)\n", (unsigned)major,
           (int)(int32_t)minor);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_TKT_EXPIRED,
           "acceptor clock at ticket end + 1 h: KRB5KRB_AP_ERR_TKT_EXPIRED (-1765328352)");
    krbap_release_cred(&minor, &ac);
    check_still_works("an expired ticket");

    /* The initiator refuses an expired ticket from its ccache. */
    {
        krbap_cred *ic = fx_initiator(ENDTIME + 3600);
        krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
        krbap_ctx *ictx = NULL;
        krbap_buffer tok = fx_empty();
        major = fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
        CHECKP(FX_IS_ERROR(major) && ictx == NULL && tok.length == 0,
               "initiator clock after the ticket's end: init fails, no token");
        fx_free(&tok);
        fx_delete(&ictx);
        krbap_release_name(&minor, &name);
        krbap_release_cred(&minor, &ic);
    }
}

/* An acceptor holding one in-memory key. */
static krbap_cred *key_acceptor(const char *principal, uint32_t kvno, int32_t enctype,
                                size_t key_len) {
    uint32_t minor = 0;
    krbap_cred *ac = NULL;
    unsigned char key[32];
    size_t i;
    for (i = 0; i < sizeof key; i++) {
        key[i] = (unsigned char)(0x5a ^ (i * 37));
    }
    if (FX_IS_ERROR(krbap_acquire_acceptor_cred_empty(&minor, NULL, &ac)) ||
        FX_IS_ERROR(krbap_cred_add_key(&minor, ac, principal, kvno, enctype, key, key_len))) {
        krbap_release_cred(&minor, &ac);
        return NULL;
    }
    (void)krbap_cred_set_time(&minor, ac, (int64_t)T0);
    return ac;
}

static void test_keys(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ac;
    krbap_name *other;

    printf("== wrong keys and services\n");
    ac = key_acceptor(FX_SERVICE_PRINCIPAL, 1, 18, 32);
    CHECKP(ac != NULL, "empty acceptor + krbap_cred_add_key");
    major = accept_fresh(ac, &minor, NULL);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_BAD_INTEGRITY,
           "wrong key (same principal, kvno, enctype): KRB5KRB_AP_ERR_BAD_INTEGRITY");
    krbap_release_cred(&minor, &ac);

    ac = key_acceptor(FX_SERVICE_PRINCIPAL, 7, 18, 32);
    major = accept_fresh(ac, &minor, NULL);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_BADKEYVER,
           "key of kvno 7 only: KRB5KRB_AP_ERR_BADKEYVER");
    krbap_release_cred(&minor, &ac);

    ac = key_acceptor(FX_SERVICE_PRINCIPAL, 1, 17, 16);
    major = accept_fresh(ac, &minor, NULL);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_NOKEY,
           "key of another enctype only: KRB5KRB_AP_ERR_NOKEY");
    krbap_release_cred(&minor, &ac);

    ac = key_acceptor("other/localhost@TEST.LOCAL", 1, 18, 32);
    major = accept_fresh(ac, &minor, NULL);
    CHECKP(FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_NOT_US,
           "keys for another service only: KRB5KRB_AP_ERR_NOT_US");
    krbap_release_cred(&minor, &ac);

    /* Acceptor bound to a name that has no key in the keytab. */
    other = fx_name("other@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    major = krbap_acquire_cred(&minor, other, KRBAP_C_ACCEPT, FX_KEYTAB, &ac, NULL);
    if (FX_IS_ERROR(major)) {
        printf("     (acquire_cred(other@localhost) fails at once: major 0x%x minor %d)\n",
               (unsigned)major, (int)(int32_t)minor);
        CHECKP(FX_ROUTINE(major) == KRBAP_S_NO_CRED && ac == NULL,
               "acceptor named other@localhost, absent from the keytab: NO_CRED at acquire");
    } else {
        (void)krbap_cred_set_time(&minor, ac, (int64_t)T0);
        major = accept_fresh(ac, &minor, NULL);
        CHECKP(FX_IS_ERROR(major) &&
                   (minor == KRB5KRB_AP_ERR_NOT_US || minor == KRB5KRB_AP_WRONG_PRINC),
               "acceptor named other@localhost: NOT_US or WRONG_PRINC at accept");
    }
    krbap_release_cred(&minor, &ac);
    krbap_release_name(&minor, &other);

    /* Acceptor bound to the right name. */
    other = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    major = krbap_acquire_cred(&minor, other, KRBAP_C_ACCEPT, FX_KEYTAB, &ac, NULL);
    (void)krbap_cred_set_time(&minor, ac, (int64_t)T0);
    CHECKP(major == KRBAP_S_COMPLETE && accept_fresh(ac, &minor, NULL) == KRBAP_S_COMPLETE,
           "acceptor bound to test@localhost accepts");
    krbap_release_cred(&minor, &ac);
    krbap_release_name(&minor, &other);
    check_still_works("key errors");
}

static void test_tamper(void) {
    uint32_t minor = 0;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_buffer tok = fx_empty();
    unsigned char *copy;
    size_t toff = 0, tlen = 0, aoff = 0, alen = 0;
    size_t i;
    size_t cipher_ok = 0;
    size_t accepted = 0;
    size_t errors = 0;
    size_t len;

    printf("== tampered initial tokens\n");
    /* No replay cache: a tampered byte outside the protected parts may be accepted, and
     * must not make the following attempts replays. */
    (void)krbap_cred_set_replay_cache(&minor, ac, "none:");
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
    len = tok.length;
    copy = (unsigned char *)malloc(len > 0 ? len : 1);
    CHECKP(copy != NULL && len > 0 &&
               fx_locate_ciphers((const unsigned char *)tok.value, len, &toff, &tlen, &aoff,
                                 &alen) == 0,
           "ticket and authenticator ciphertexts located in the token");
    CHECKP(aoff + alen == len, "the authenticator ciphertext ends the token");
    if (copy != NULL && len > 0) {
        memcpy(copy, tok.value, len);
        copy[toff + tlen / 2] ^= 0x01;
        CHECKP(fx_accept_status(ac, copy, len, NULL, &minor) != KRBAP_S_COMPLETE &&
                   minor == KRB5KRB_AP_ERR_BAD_INTEGRITY,
               "a flipped bit in the ticket ciphertext: KRB5KRB_AP_ERR_BAD_INTEGRITY");
        memcpy(copy, tok.value, len);
        copy[aoff + alen / 2] ^= 0x01;
        CHECKP(fx_accept_status(ac, copy, len, NULL, &minor) != KRBAP_S_COMPLETE &&
                   minor == KRB5KRB_AP_ERR_BAD_INTEGRITY,
               "a flipped bit in the authenticator ciphertext: KRB5KRB_AP_ERR_BAD_INTEGRITY");
        memcpy(copy, tok.value, len);
        copy[len - 1] ^= 0x80;
        CHECKP(fx_accept_status(ac, copy, len, NULL, &minor) != KRBAP_S_COMPLETE &&
                   minor == KRB5KRB_AP_ERR_BAD_INTEGRITY,
               "a flipped bit in the last byte (authenticator MAC): BAD_INTEGRITY");
        /* Every byte in turn: never a crash; inside a ciphertext always BAD_INTEGRITY. */
        for (i = 0; i < len; i++) {
            uint32_t major;
            int in_cipher = (i >= toff && i < toff + tlen) || (i >= aoff && i < aoff + alen);
            memcpy(copy, tok.value, len);
            copy[i] ^= 0x01;
            major = fx_accept_status(ac, copy, len, NULL, &minor);
            if (major == KRBAP_S_COMPLETE) {
                accepted++;
            } else {
                errors++;
            }
            if (in_cipher && FX_IS_ERROR(major) && minor == KRB5KRB_AP_ERR_BAD_INTEGRITY) {
                cipher_ok++;
            }
        }
        printf("     (%zu single-bit changes: %zu rejected, %zu accepted - bits outside the "
               "protected parts)\n",
               len, errors, accepted);
        CHECKP(cipher_ok == tlen + alen,
               "every flipped ciphertext byte is rejected with BAD_INTEGRITY");
    }
    free(copy);
    fx_free(&tok);
    fx_delete(&ictx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    check_still_works("tampered tokens");
}

static void set_bindings(krbap_channel_bindings *cb, const char *app_data) {
    memset(cb, 0, sizeof *cb);
    cb->application_data = fx_buf(app_data, strlen(app_data));
}

static void test_bindings(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_channel_bindings a;
    krbap_channel_bindings b;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_buffer tok = fx_empty();

    printf("== channel bindings\n");
    set_bindings(&a, "tls-server-end-point:AAAA");
    set_bindings(&b, "tls-server-end-point:BBBB");
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, &a, &ictx, &tok);
    major = fx_accept_status(ac, tok.value, tok.length, &b, &minor);
    CHECKP(FX_ROUTINE(major) == KRBAP_S_BAD_BINDINGS,
           "initiator bindings A, acceptor bindings B: KRBAP_S_BAD_BINDINGS");
    fx_free(&tok);
    fx_delete(&ictx);
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, &a, &ictx, &tok);
    CHECKP(fx_accept_status(ac, tok.value, tok.length, &a, &minor) == KRBAP_S_COMPLETE,
           "the same bindings on both sides: accepted");
    fx_free(&tok);
    fx_delete(&ictx);
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, &a, &ictx, &tok);
    CHECKP(fx_accept_status(ac, tok.value, tok.length, NULL, &minor) == KRBAP_S_COMPLETE,
           "initiator bindings, acceptor none: accepted (as MIT)");
    fx_free(&tok);
    fx_delete(&ictx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    check_still_works("a channel-binding mismatch");
}

static void test_malformed(void) {
    uint32_t minor = 0;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_buffer tok = fx_empty();
    size_t n;
    size_t defective = 0;
    size_t others = 0;
    unsigned char garbage[2048];
    uint32_t state = 0x12345678u;
    static const unsigned char huge_len[] = {0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06, 0x09};
    static const unsigned char indefinite[] = {0x60, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                               0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01,
                                               0x00, 0x00, 0x00};

    printf("== truncated and garbage tokens\n");
    (void)fx_initial_token(ic, name, MUTUAL_FLAGS, NULL, &ictx, &tok);
    for (n = 0; n < tok.length; n++) {
        uint32_t major = fx_accept_status(ac, tok.value, n, NULL, &minor);
        if (FX_ROUTINE(major) == KRBAP_S_DEFECTIVE_TOKEN || FX_ROUTINE(major) == KRBAP_S_FAILURE) {
            defective++;
        } else {
            others++;
            if (others < 4) {
                printf("     length %zu: major 0x%x minor %d\n", n, (unsigned)major,
                       (int)(int32_t)minor);
            }
        }
    }
    CHECKP(tok.length > 0 && defective == tok.length && others == 0,
           "every truncation (0 .. len-1 bytes): DEFECTIVE_TOKEN or FAILURE");
    CHECKP(fx_accept_status(ac, tok.value, tok.length, NULL, &minor) == KRBAP_S_COMPLETE,
           "the whole token is still accepted afterwards");

    others = 0;
    for (n = 1; n <= sizeof garbage; n = n * 2 + 1) {
        size_t i;
        for (i = 0; i < n; i++) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            garbage[i] = (unsigned char)state;
        }
        if (!FX_IS_ERROR(fx_accept_status(ac, garbage, n, NULL, &minor))) {
            others++;
        }
        garbage[0] = 0x60; /* looks like a GSS token, then garbage */
        if (!FX_IS_ERROR(fx_accept_status(ac, garbage, n, NULL, &minor))) {
            others++;
        }
    }
    CHECKP(others == 0, "random garbage of 1 .. 2047 bytes: rejected");
    CHECKP(FX_IS_ERROR(fx_accept_status(ac, huge_len, sizeof huge_len, NULL, &minor)),
           "a token announcing 4 GiB: rejected");
    CHECKP(FX_IS_ERROR(fx_accept_status(ac, indefinite, sizeof indefinite, NULL, &minor)),
           "an indefinite-length token: rejected");
    fx_free(&tok);
    fx_delete(&ictx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    check_still_works("malformed tokens");
}

static void test_null_arguments(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *ic = fx_initiator(T0);
    krbap_cred *ac = fx_acceptor(T0);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_name *name = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_name *n2 = NULL;
    krbap_cred *c2 = NULL;
    krbap_buffer buf = fx_empty();
    krbap_buffer in = fx_buf("test@localhost", 14);
    uint32_t u = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    size_t count = 0;
    static const unsigned char key[32] = {1, 2, 3};

    printf("== NULL arguments (calling errors, no crash)\n");
    CHECKP(fx_establish(ic, ac, "test@localhost", KRBAP_NT_HOSTBASED_SERVICE, MUTUAL_FLAGS, &ictx,
                        &actx) == 0,
           "a context pair for the NULL-argument checks");
    CHECKP(FX_IS_ERROR(krbap_import_name(&minor, &in, KRBAP_NT_HOSTBASED_SERVICE, NULL)),
           "import_name(output NULL)");
    major = krbap_import_name(&minor, NULL, KRBAP_NT_HOSTBASED_SERVICE, &n2);
    CHECKP(FX_IS_ERROR(major) && n2 == NULL, "import_name(input NULL)");
    CHECKP(FX_IS_ERROR(krbap_import_name(&minor, &in, 99, &n2)) && n2 == NULL,
           "import_name(unknown type): BAD_NAMETYPE");
    CHECKP(FX_IS_ERROR(krbap_display_name(&minor, NULL, &buf)), "display_name(name NULL)");
    CHECKP(FX_IS_ERROR(krbap_display_name(&minor, name, NULL)), "display_name(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT, FX_KEYTAB, NULL, NULL)),
           "acquire_cred(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_acquire_cred(&minor, NULL, 42, FX_KEYTAB, &c2, NULL)) && c2 == NULL,
           "acquire_cred(bad usage)");
    CHECKP(FX_IS_ERROR(krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT,
                                          "tests/data/does-not-exist.keytab", &c2, NULL)) &&
               c2 == NULL,
           "acquire_cred(missing keytab)");
    CHECKP(FX_IS_ERROR(krbap_acquire_acceptor_cred_empty(&minor, NULL, NULL)),
           "acquire_acceptor_cred_empty(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_add_key(&minor, NULL, FX_SERVICE_PRINCIPAL, 1, 18, key, 32)),
           "cred_add_key(cred NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_add_key(&minor, ac, NULL, 1, 18, key, 32)),
           "cred_add_key(principal NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_add_key(&minor, ac, FX_SERVICE_PRINCIPAL, 1, 18, NULL, 32)),
           "cred_add_key(key NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_add_key(&minor, ic, FX_SERVICE_PRINCIPAL, 1, 18, key, 32)),
           "cred_add_key(initiator credential)");
    CHECKP(FX_IS_ERROR(krbap_cred_set_clock_skew(&minor, NULL, 10)), "cred_set_clock_skew(NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_set_replay_cache(&minor, NULL, "none:")),
           "cred_set_replay_cache(NULL)");
    CHECKP(FX_IS_ERROR(krbap_cred_set_time(&minor, NULL, 1)), "cred_set_time(NULL)");
    CHECKP(FX_IS_ERROR(krbap_store_cred(&minor, NULL, "/tmp/krbap-never-written")),
           "store_cred(NULL)");
    CHECKP(FX_IS_ERROR(krbap_store_cred(&minor, ic, "/tmp/krbap-never-written")),
           "store_cred(a non-delegated credential)");

    CHECKP(FX_IS_ERROR(krbap_init_sec_context(&minor, ic, NULL, name, MUTUAL_FLAGS, NULL, NULL,
                                              NULL, NULL, &buf)),
           "init_sec_context(context NULL)");
    {
        krbap_ctx *c = NULL;
        CHECKP(FX_IS_ERROR(krbap_init_sec_context(&minor, ic, &c, NULL, MUTUAL_FLAGS, NULL, NULL,
                                                  NULL, NULL, &buf)) &&
                   c == NULL,
               "init_sec_context(target NULL)");
        CHECKP(FX_IS_ERROR(krbap_init_sec_context(&minor, ic, &c, name, MUTUAL_FLAGS, NULL, NULL,
                                                  NULL, NULL, NULL)) &&
                   c == NULL,
               "init_sec_context(output token NULL)");
        fx_delete(&c);
        CHECKP(FX_IS_ERROR(krbap_init_sec_context(&minor, ac, &c, name, MUTUAL_FLAGS, NULL, NULL,
                                                  NULL, NULL, &buf)) &&
                   c == NULL,
               "init_sec_context(an acceptor credential): NO_CRED");
        fx_delete(&c);
        CHECKP(FX_IS_ERROR(krbap_accept_sec_context(&minor, NULL, ac, &in, NULL, NULL, NULL, NULL,
                                                    &buf, NULL)),
               "accept_sec_context(context NULL)");
        CHECKP(FX_IS_ERROR(krbap_accept_sec_context(&minor, &c, ac, NULL, NULL, NULL, NULL, NULL,
                                                    &buf, NULL)) &&
                   c == NULL,
               "accept_sec_context(input NULL)");
        CHECKP(FX_IS_ERROR(krbap_accept_sec_context(&minor, &c, ic, &in, NULL, NULL, NULL, NULL,
                                                    &buf, NULL)) &&
                   c == NULL,
               "accept_sec_context(an initiator credential)");
        fx_free(&buf);
    }
    CHECKP(FX_IS_ERROR(krbap_inquire_context(&minor, NULL, NULL, NULL, &u, NULL, NULL, NULL)),
           "inquire_context(NULL)");
    CHECKP(FX_IS_ERROR(krbap_context_time(&minor, NULL, &u)), "context_time(NULL)");
    CHECKP(FX_IS_ERROR(krbap_inquire_session(&minor, NULL, &i32, &i64)), "inquire_session(NULL)");
    CHECKP(FX_IS_ERROR(krbap_inquire_authz_count(&minor, NULL, &count)), "inquire_authz_count(NULL)");
    CHECKP(FX_IS_ERROR(krbap_inquire_authz_element(&minor, NULL, 0, &i32, &i32, &buf)),
           "inquire_authz_element(NULL)");
    CHECKP(FX_IS_ERROR(krbap_inquire_pac(&minor, NULL, &buf)), "inquire_pac(NULL)");
    CHECKP(FX_IS_ERROR(krbap_inquire_pac(&minor, actx, NULL)), "inquire_pac(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_wrap(&minor, NULL, 1, 0, &in, NULL, &buf)), "wrap(context NULL)");
    CHECKP(FX_IS_ERROR(krbap_wrap(&minor, ictx, 1, 0, &in, NULL, NULL)), "wrap(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_unwrap(&minor, NULL, &in, &buf, NULL, NULL)), "unwrap(context NULL)");
    CHECKP(FX_IS_ERROR(krbap_unwrap(&minor, actx, NULL, &buf, NULL, NULL)), "unwrap(input NULL)");
    CHECKP(FX_IS_ERROR(krbap_get_mic(&minor, NULL, 0, &in, &buf)), "get_mic(context NULL)");
    CHECKP(FX_IS_ERROR(krbap_get_mic(&minor, ictx, 0, &in, NULL)), "get_mic(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_verify_mic(&minor, NULL, &in, &in, NULL)), "verify_mic(context NULL)");
    CHECKP(FX_IS_ERROR(krbap_verify_mic(&minor, actx, &in, NULL, NULL)), "verify_mic(token NULL)");
    CHECKP(FX_IS_ERROR(krbap_wrap_size_limit(&minor, NULL, 1, 0, 1000, &u)),
           "wrap_size_limit(context NULL)");
    CHECKP(FX_IS_ERROR(krbap_wrap(&minor, (krbap_ctx *)ic, 1, 0, &in, NULL, &buf)),
           "wrap(a credential handle passed as a context): rejected by the handle check");
    CHECKP(FX_IS_ERROR(krbap_display_status(&minor, 0, KRBAP_C_GSS_CODE, NULL, NULL)),
           "display_status(output NULL)");
    CHECKP(FX_IS_ERROR(krbap_delete_sec_context(&minor, NULL, NULL)), "delete_sec_context(NULL)");
    CHECKP(krbap_import_name(NULL, &in, KRBAP_NT_HOSTBASED_SERVICE, &n2) == KRBAP_S_COMPLETE,
           "minor_status NULL is allowed");
    fx_free(&buf);

    printf("== double release through the same handle pointer\n");
    CHECKP(krbap_release_name(&minor, &n2) == KRBAP_S_COMPLETE && n2 == NULL,
           "release_name sets the handle to NULL");
    CHECKP(krbap_release_name(&minor, &n2) == KRBAP_S_COMPLETE, "second release_name: no-op");
    CHECKP(krbap_release_name(&minor, NULL) == KRBAP_S_COMPLETE, "release_name(NULL): no-op");
    (void)krbap_acquire_acceptor_cred_empty(&minor, NULL, &c2);
    CHECKP(krbap_release_cred(&minor, &c2) == KRBAP_S_COMPLETE && c2 == NULL,
           "release_cred sets the handle to NULL");
    CHECKP(krbap_release_cred(&minor, &c2) == KRBAP_S_COMPLETE, "second release_cred: no-op");
    CHECKP(krbap_release_cred(&minor, NULL) == KRBAP_S_COMPLETE, "release_cred(NULL): no-op");
    (void)krbap_display_name(&minor, name, &buf);
    CHECKP(krbap_buffer_free(&minor, &buf) == KRBAP_S_COMPLETE && buf.value == NULL &&
               buf.length == 0,
           "buffer_free empties the buffer");
    CHECKP(krbap_buffer_free(&minor, &buf) == KRBAP_S_COMPLETE, "second buffer_free: no-op");
    CHECKP(krbap_buffer_free(&minor, NULL) == KRBAP_S_COMPLETE, "buffer_free(NULL): no-op");
    CHECKP(krbap_delete_sec_context(&minor, &ictx, NULL) == KRBAP_S_COMPLETE && ictx == NULL,
           "delete_sec_context sets the handle to NULL");
    major = krbap_delete_sec_context(&minor, &ictx, NULL);
    CHECKP(major == KRBAP_S_COMPLETE || FX_ROUTINE(major) == KRBAP_S_NO_CONTEXT,
           "second delete_sec_context: harmless (NO_CONTEXT, as MIT)");
    fx_delete(&actx);
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &ic);
    krbap_release_cred(&minor, &ac);
    check_still_works("NULL arguments");
}

static void test_display_status(void) {
    uint32_t minor = 0;
    uint32_t ctx = 0;
    uint32_t major;
    krbap_buffer b = fx_empty();
    int n = 0;
    int saw_failure = 0;
    int saw_duplicate = 0;
    char text[256];

    printf("== krbap_display_status\n");
    /* All messages of a major status with a routine error and a supplementary bit. */
    do {
        major = krbap_display_status(&minor, KRBAP_S_FAILURE | KRBAP_S_DUPLICATE_TOKEN,
                                     KRBAP_C_GSS_CODE, &ctx, &b);
        if (FX_IS_ERROR(major)) {
            break;
        }
        snprintf(text, sizeof text, "%.*s", (int)b.length, b.value ? (const char *)b.value : "");
        if (strstr(text, "Unspecified GSS failure") != NULL) {
            saw_failure = 1;
        }
        if (strstr(text, "duplicate") != NULL) {
            saw_duplicate = 1;
        }
        fx_free(&b);
    } while (ctx != 0 && ++n < 10);
    CHECKP(saw_failure && saw_duplicate && ctx == 0 && n == 1,
           "major FAILURE|DUPLICATE_TOKEN: two messages, then message_context 0");
    fx_status_text(KRBAP_S_COMPLETE, KRBAP_C_GSS_CODE, text, sizeof text);
    CHECKP(strlen(text) > 0, "major COMPLETE has a text");
    fx_status_text(KRBAP_S_BAD_SIG, KRBAP_C_GSS_CODE, text, sizeof text);
    CHECKP(strstr(text, "invalid Message Integrity Check") != NULL ||
               strstr(text, "MIC") != NULL,
           "major BAD_SIG: MIT's text");
    fx_status_text(KRB5KRB_AP_ERR_BAD_INTEGRITY, KRBAP_C_MECH_CODE, text, sizeof text);
    CHECKP(strncmp(text, "Decrypt integrity check failed", 30) == 0,
           "minor KRB5KRB_AP_ERR_BAD_INTEGRITY: \"Decrypt integrity check failed\"");
    fx_status_text(KRB5KRB_AP_ERR_TKT_EXPIRED, KRBAP_C_MECH_CODE, text, sizeof text);
    CHECKP(strncmp(text, "Ticket expired", 14) == 0, "minor TKT_EXPIRED: \"Ticket expired\"");
    ctx = 0;
    major = krbap_display_status(&minor, 0, 77, &ctx, &b);
    CHECKP(FX_IS_ERROR(major) && b.length == 0, "unknown status_type: error, empty output");
    ctx = 42;
    major = krbap_display_status(&minor, KRBAP_S_FAILURE, KRBAP_C_GSS_CODE, &ctx, &b);
    CHECKP(FX_IS_ERROR(major), "message_context out of range: error");
    fx_free(&b);
    CHECKP(krbap_version() != NULL && strlen(krbap_version()) > 0, "krbap_version");
}

int main(void) {
    T0 = fx_capture_time();
    ENDTIME = fx_ticket_endtime();
    CHECKP(T0 > 0 && ENDTIME > T0, "fixture times from tests/data/mit-capture/mutual/info.txt");
    if (T0 <= 0 || ENDTIME <= T0) {
        return TEST_SUMMARY();
    }
    T0 += 60;
    test_mutual("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    test_mutual(FX_SERVICE_PRINCIPAL, KRBAP_NT_KRB5_PRINCIPAL);
    test_nomutual();
    test_enctypes();
    test_mit_tokens();
    test_replay();
    test_times();
    test_keys();
    test_tamper();
    test_bindings();
    test_malformed();
    test_null_arguments();
    test_display_status();
    return TEST_SUMMARY();
}
