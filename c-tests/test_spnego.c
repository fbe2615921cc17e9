/*
 * SPNEGO (RFC 4178) through the C ABI: krbap_init_sec_context_mech with KRBAP_MECH_SPNEGO
 * to krbap_accept_sec_context (mutual and not), krbap_inquire_mech, Wrap/MIC on the
 * negotiated krb5 context; a NegTokenInit listing NTLM first (request-mic, the Kerberos
 * token in the second leg, the mechListMICs crossing in legs 2 and 3) with the
 * continuation passed through the same accept call; NTLM alone (BAD_MECH and MIT's 9-byte
 * reject); a failed continuation deleting the context; an unknown mechanism number.
 * The MIT fixtures of tests/data/mit-capture/ provide the keytab and alice's ccache.
 */
#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPNEGO_NEGOTIATION_FAILED 0x20000004u
#define G_BAD_MSG_CTX ((uint32_t)(int32_t)(-2045022976 + 5))

static const unsigned char OID_KRB5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const unsigned char OID_NTLM[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                         0x82, 0x37, 0x02, 0x02, 0x0a};
static const unsigned char OID_SPNEGO[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};

/* ---- a growable byte string and DER writer -------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n;
} bytes;

static void b_put(bytes *b, const void *data, size_t n) {
    unsigned char *q = (unsigned char *)realloc(b->p, b->n + n + 1);
    if (q == NULL) {
        abort();
    }
    b->p = q;
    if (n > 0) {
        memcpy(b->p + b->n, data, n);
    }
    b->n += n;
}

static void b_tlv(bytes *b, unsigned tag, const void *content, size_t n) {
    unsigned char hdr[6];
    size_t h = 0;
    hdr[h++] = (unsigned char)tag;
    if (n < 0x80) {
        hdr[h++] = (unsigned char)n;
    } else if (n < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (unsigned char)n;
    } else {
        hdr[h++] = 0x82;
        hdr[h++] = (unsigned char)(n >> 8);
        hdr[h++] = (unsigned char)n;
    }
    b_put(b, hdr, h);
    b_put(b, content, n);
}

/* Wraps b's bytes in a TLV with `tag` (in place). */
static void b_wrap(bytes *b, unsigned tag) {
    bytes w = {NULL, 0};
    b_tlv(&w, tag, b->p, b->n);
    free(b->p);
    *b = w;
}

static void b_free(bytes *b) {
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* MechTypeList [NTLMSSP, krb5]. */
static bytes mech_types_ntlm_krb5(void) {
    bytes l = {NULL, 0};
    b_tlv(&l, 0x06, OID_NTLM, sizeof OID_NTLM);
    b_tlv(&l, 0x06, OID_KRB5, sizeof OID_KRB5);
    b_wrap(&l, 0x30);
    return l;
}

/* The SPNEGO initial token: 0x60 { SPNEGO OID, [0] SEQUENCE { [0] types, [2] token } }. */
static bytes neg_token_init(const bytes *types, const void *mech_token, size_t n) {
    bytes seq = {NULL, 0};
    bytes t = {NULL, 0};
    bytes out = {NULL, 0};
    b_tlv(&seq, 0xa0, types->p, types->n);
    if (mech_token != NULL) {
        b_tlv(&t, 0x04, mech_token, n);
        b_tlv(&seq, 0xa2, t.p, t.n);
        b_free(&t);
    }
    b_wrap(&seq, 0x30);
    b_wrap(&seq, 0xa0);
    b_tlv(&out, 0x06, OID_SPNEGO, sizeof OID_SPNEGO);
    b_put(&out, seq.p, seq.n);
    b_wrap(&out, 0x60);
    b_free(&seq);
    return out;
}

/* The initiator's NegTokenResp { [2] token, [3] mic }, either may be absent. */
static bytes neg_token_resp(const krbap_buffer *token, const krbap_buffer *mic) {
    bytes seq = {NULL, 0};
    bytes t = {NULL, 0};
    if (token != NULL) {
        b_tlv(&t, 0x04, token->value, token->length);
        b_tlv(&seq, 0xa2, t.p, t.n);
        b_free(&t);
    }
    if (mic != NULL) {
        b_tlv(&t, 0x04, mic->value, mic->length);
        b_tlv(&seq, 0xa3, t.p, t.n);
        b_free(&t);
    }
    b_wrap(&seq, 0x30);
    b_wrap(&seq, 0xa1);
    return seq;
}

/* Finds field [n] (an OCTET STRING inside) of a NegTokenResp; 0 when found. */
static int resp_field(const krbap_buffer *resp, unsigned n, const unsigned char **v, size_t *len) {
    const unsigned char *p = (const unsigned char *)resp->value;
    const unsigned char *end = p + resp->length;
    const unsigned char *c = NULL;
    const unsigned char *ce = NULL;
    if (fx_der_enter(&p, &end, 0xa1) != 0 || fx_der_enter(&p, &end, 0x30) != 0 ||
        fx_der_find(p, end, 0xa0 | n, &c, &ce) == NULL) {
        return -1;
    }
    p = c;
    end = ce;
    if (n == 0 || n == 1) {
        *v = c;
        *len = (size_t)(ce - c);
        return 0;
    }
    if (fx_der_find(p, end, 0x04, &c, &ce) == NULL) {
        return -1;
    }
    *v = c;
    *len = (size_t)(ce - c);
    return 0;
}

static int neg_state(const krbap_buffer *resp) {
    const unsigned char *v = NULL;
    size_t len = 0;
    if (resp_field(resp, 0, &v, &len) != 0 || len != 3 || v[0] != 0x0a || v[1] != 1) {
        return -1;
    }
    return v[2];
}

static int display_contains(uint32_t minor_code, const char *needle) {
    uint32_t minor = 0;
    uint32_t ctx = 0;
    krbap_buffer text = fx_empty();
    int found;
    (void)krbap_display_status(&minor, minor_code, KRBAP_C_MECH_CODE, &ctx, &text);
    found = text.value != NULL && strstr((const char *)text.value, needle) != NULL;
    if (!found) {
        fprintf(stderr, "display_status: \"%.*s\" lacks \"%s\"\n", (int)text.length,
                text.value != NULL ? (const char *)text.value : "", needle);
    }
    fx_free(&text);
    return found;
}

static void test_spnego_exchange(long long now, uint32_t flags) {
    krbap_cred *ic = fx_initiator(now);
    krbap_cred *ac = fx_acceptor(now);
    krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_name *client = NULL;
    krbap_buffer tok = fx_empty();
    krbap_buffer rep = fx_empty();
    krbap_buffer none = fx_empty();
    krbap_buffer msg = fx_buf("over SPNEGO", 11);
    krbap_buffer wrapped = fx_empty();
    krbap_buffer plain = fx_empty();
    uint32_t minor = 0;
    uint32_t major;
    uint32_t ret_flags = 0;
    int32_t mech = 0;
    int open = -1;
    char name[128];
    int mutual = (flags & KRBAP_C_MUTUAL_FLAG) != 0;

    major = krbap_init_sec_context_mech(&minor, ic, &ictx, target, KRBAP_MECH_SPNEGO, flags, NULL,
                                        NULL, &ret_flags, NULL, &tok);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED,
           "init SPNEGO: CONTINUE_NEEDED (the acceptor's answer is awaited, mutual or not)");
    CHECKP(tok.length > 20 && ((unsigned char *)tok.value)[0] == 0x60,
           "init SPNEGO: an RFC 2743 initial token");
    CHECKP(krbap_inquire_mech(&minor, ictx, &mech) == KRBAP_S_COMPLETE &&
               mech == KRBAP_MECH_SPNEGO,
           "inquire_mech(initiator) = KRBAP_MECH_SPNEGO");
    major = krbap_accept_sec_context(&minor, &actx, ac, &tok, NULL, &client, &ret_flags, NULL, &rep,
                                     NULL);
    CHECKP(major == KRBAP_S_COMPLETE, "accept SPNEGO: COMPLETE in one call");
    CHECKP(neg_state(&rep) == 0, "accept SPNEGO: answer accept-completed");
    CHECKP(mutual ? rep.length > 100 : rep.length == 22,
           mutual ? "accept SPNEGO: answer carries the AP-REP"
                  : "accept SPNEGO: the 22-byte answer without AP-REP");
    CHECKP(((ret_flags & KRBAP_C_MUTUAL_FLAG) != 0) == mutual, "accept SPNEGO: ret_flags");
    fx_name_text(client, name, sizeof name);
    CHECK_STR(strlen(name), name, FX_CLIENT, "accept SPNEGO: src_name");
    CHECKP(krbap_inquire_mech(&minor, actx, &mech) == KRBAP_S_COMPLETE &&
               mech == KRBAP_MECH_SPNEGO,
           "inquire_mech(acceptor) = KRBAP_MECH_SPNEGO");
    CHECKP(krbap_inquire_context(&minor, actx, NULL, NULL, NULL, NULL, NULL, &open) ==
                   KRBAP_S_COMPLETE &&
               open == 1,
           "inquire_context(acceptor): open");
    major = krbap_init_sec_context_mech(&minor, ic, &ictx, target, KRBAP_MECH_SPNEGO, 0, NULL, &rep,
                                        &ret_flags, NULL, &none);
    CHECKP(major == KRBAP_S_COMPLETE && none.length == 0,
           "init SPNEGO second call: COMPLETE, nothing more to send");
    (void)krbap_ctx_set_time(&minor, ictx, (int64_t)now);
    (void)krbap_ctx_set_time(&minor, actx, (int64_t)now);
    CHECKP(krbap_wrap(&minor, ictx, 1, 0, &msg, NULL, &wrapped) == KRBAP_S_COMPLETE &&
               krbap_unwrap(&minor, actx, &wrapped, &plain, NULL, NULL) == KRBAP_S_COMPLETE,
           "Wrap/unwrap on the negotiated krb5 context");
    CHECK_STR(plain.length, plain.value, "over SPNEGO", "unwrapped text");
    /* A finished acceptor context takes no more tokens and stays usable. */
    major = krbap_accept_sec_context(&minor, &actx, ac, &tok, NULL, NULL, NULL, NULL, &none, NULL);
    CHECKP(major == KRBAP_S_FAILURE && minor == G_BAD_MSG_CTX && actx != NULL,
           "accept with an established context: FAILURE, the context is kept");
    fx_delete(&ictx);
    fx_delete(&actx);
    fx_free(&tok);
    fx_free(&rep);
    fx_free(&none);
    fx_free(&wrapped);
    fx_free(&plain);
    (void)krbap_release_name(&minor, &client);
    (void)krbap_release_name(&minor, &target);
    (void)krbap_release_cred(&minor, &ic);
    (void)krbap_release_cred(&minor, &ac);
}

static void test_mech_numbers(long long now) {
    krbap_cred *ic = fx_initiator(now);
    krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ctx = NULL;
    krbap_buffer tok = fx_empty();
    uint32_t minor = 0;
    uint32_t major;
    int32_t mech = 0;

    major = krbap_init_sec_context_mech(&minor, ic, &ctx, target, 3, KRBAP_C_MUTUAL_FLAG, NULL,
                                        NULL, NULL, NULL, &tok);
    CHECKP(major == KRBAP_S_BAD_MECH && ctx == NULL && tok.length == 0,
           "mech 3: BAD_MECH, no context, no token");
    CHECKP(display_contains(minor, "unknown mechanism 3"), "mech 3: the message names it");
    major = krbap_init_sec_context_mech(&minor, ic, &ctx, target, KRBAP_MECH_KRB5,
                                        KRBAP_C_MUTUAL_FLAG, NULL, NULL, NULL, NULL, &tok);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED && tok.length > 11 &&
               memcmp((unsigned char *)tok.value + 6, OID_KRB5, sizeof OID_KRB5) == 0,
           "KRBAP_MECH_KRB5: the raw krb5 AP-REQ token");
    CHECKP(krbap_inquire_mech(&minor, ctx, &mech) == KRBAP_S_COMPLETE && mech == KRBAP_MECH_KRB5,
           "inquire_mech = KRBAP_MECH_KRB5");
    CHECKP(krbap_inquire_mech(&minor, NULL, &mech) == KRBAP_S_NO_CONTEXT,
           "inquire_mech(NULL): NO_CONTEXT");
    {
        krbap_buffer out = fx_empty();
        major = krbap_accept_sec_context(&minor, &ctx, NULL, &tok, NULL, NULL, NULL, NULL, &out,
                                         NULL);
        CHECKP(major == KRBAP_S_FAILURE && minor == G_BAD_MSG_CTX && ctx != NULL,
               "an initiator's context given to accept: FAILURE, the context is kept");
        fx_free(&out);
    }
    fx_delete(&ctx);
    fx_free(&tok);
    (void)krbap_release_name(&minor, &target);
    (void)krbap_release_cred(&minor, &ic);
}

/* NTLM first, then Kerberos: three legs through krbap_accept_sec_context. */
static void test_ntlm_first(long long now) {
    static const unsigned char ntlm[] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0,
                                         0x15, 0x82, 0x08, 0x62, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char request_mic[] = {0xa1, 0x14, 0x30, 0x12, 0xa0, 0x03, 0x0a, 0x01,
                                                0x03, 0xa1, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                                0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    krbap_cred *ic = fx_initiator(now);
    krbap_cred *ac = fx_acceptor(now);
    krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_name *client = NULL;
    bytes types = mech_types_ntlm_krb5();
    bytes first = neg_token_init(&types, ntlm, sizeof ntlm);
    bytes second = {NULL, 0};
    bytes third = {NULL, 0};
    krbap_buffer in = fx_buf(first.p, first.n);
    krbap_buffer out = fx_empty();
    krbap_buffer ap_req = fx_empty();
    krbap_buffer mic = fx_empty();
    krbap_buffer types_buf = fx_buf(types.p, types.n);
    krbap_buffer field = fx_empty();
    krbap_buffer wrapped = fx_empty();
    krbap_buffer msg = fx_buf("x", 1);
    uint32_t minor = 0;
    uint32_t major;
    int open = -1;
    const unsigned char *v = NULL;
    size_t len = 0;
    char name[128];

    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, &client, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED && actx != NULL && client == NULL,
           "NTLM first: CONTINUE_NEEDED, a context, no name yet");
    CHECKP(out.length == sizeof request_mic && memcmp(out.value, request_mic, out.length) == 0,
           "NTLM first: request-mic + supportedMech krb5 (MIT's bytes)");
    CHECKP(krbap_inquire_context(&minor, actx, &client, NULL, NULL, NULL, NULL, &open) ==
                   KRBAP_S_COMPLETE &&
               open == 0 && client == NULL,
           "inquire_context mid-negotiation: not open, no names");
    CHECKP(krbap_wrap(&minor, actx, 1, 0, &msg, NULL, &wrapped) == KRBAP_S_NO_CONTEXT,
           "wrap before Kerberos ran: NO_CONTEXT");
    fx_free(&out);

    /* Leg 2: the initiator's raw krb5 AP-REQ (mutual) in a NegTokenResp. */
    major = krbap_init_sec_context(&minor, ic, &ictx, target,
                                   KRBAP_C_MUTUAL_FLAG | KRBAP_C_SEQUENCE_FLAG, NULL, NULL, NULL,
                                   NULL, &ap_req);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED, "krb5 initiator: AP-REQ");
    second = neg_token_resp(&ap_req, NULL);
    in = fx_buf(second.p, second.n);
    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, &client, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED && client == NULL,
           "leg 2: CONTINUE_NEEDED (the initiator's mechListMIC is due)");
    CHECKP(neg_state(&out) == 1, "leg 2: accept-incomplete");
    CHECKP(resp_field(&out, 2, &v, &len) == 0, "leg 2: the AP-REP");
    field = fx_buf(v, len);
    major = krbap_init_sec_context(&minor, ic, &ictx, target, 0, NULL, &field, NULL, NULL, &wrapped);
    CHECKP(major == KRBAP_S_COMPLETE, "krb5 initiator takes the AP-REP");
    CHECKP(resp_field(&out, 3, &v, &len) == 0, "leg 2: the acceptor's mechListMIC");
    field = fx_buf(v, len);
    CHECKP(krbap_verify_mic(&minor, ictx, &types_buf, &field, NULL) == KRBAP_S_COMPLETE,
           "the acceptor's mechListMIC verifies over [NTLMSSP, krb5]");
    fx_free(&out);

    /* Leg 3: the initiator's MIC. */
    CHECKP(krbap_get_mic(&minor, ictx, 0, &types_buf, &mic) == KRBAP_S_COMPLETE, "initiator MIC");
    third = neg_token_resp(NULL, &mic);
    in = fx_buf(third.p, third.n);
    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, &client, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_COMPLETE && out.length == 0,
           "leg 3: COMPLETE with no output token (as MIT)");
    fx_name_text(client, name, sizeof name);
    CHECK_STR(strlen(name), name, FX_CLIENT, "leg 3: src_name");

    fx_delete(&ictx);
    fx_delete(&actx);
    fx_free(&out);
    fx_free(&ap_req);
    fx_free(&mic);
    fx_free(&wrapped);
    b_free(&types);
    b_free(&first);
    b_free(&second);
    b_free(&third);
    (void)krbap_release_name(&minor, &client);
    (void)krbap_release_name(&minor, &target);
    (void)krbap_release_cred(&minor, &ic);
    (void)krbap_release_cred(&minor, &ac);
}

static void test_failures(long long now) {
    static const unsigned char reject[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02};
    static const unsigned char garbage[] = {0xa1, 0x03, 0x30, 0x01, 0x00};
    krbap_cred *ac = fx_acceptor(now);
    krbap_ctx *actx = NULL;
    bytes types = {NULL, 0};
    bytes tok = {NULL, 0};
    krbap_buffer in;
    krbap_buffer out = fx_empty();
    uint32_t minor = 0;
    uint32_t major;

    b_tlv(&types, 0x06, OID_NTLM, sizeof OID_NTLM);
    b_wrap(&types, 0x30);
    tok = neg_token_init(&types, "NTLMSSP", 8);
    in = fx_buf(tok.p, tok.n);
    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_BAD_MECH && minor == SPNEGO_NEGOTIATION_FAILED && actx == NULL,
           "NTLM alone: BAD_MECH, ERR_SPNEGO_NEGOTIATION_FAILED, no context");
    CHECKP(out.length == sizeof reject && memcmp(out.value, reject, sizeof reject) == 0,
           "NTLM alone: MIT's 9-byte reject token");
    CHECKP(display_contains(minor, "NTLMSSP (1.3.6.1.4.1.311.2.2.10)"),
           "NTLM alone: the message names the offered mechanism");
    CHECKP(display_contains(minor, "SPNEGO failed to negotiate a mechanism"),
           "NTLM alone: MIT's text for the code");
    fx_free(&out);
    b_free(&tok);
    b_free(&types);

    /* A failed continuation deletes the context. */
    types = mech_types_ntlm_krb5();
    tok = neg_token_init(&types, NULL, 0);
    in = fx_buf(tok.p, tok.n);
    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_CONTINUE_NEEDED && actx != NULL, "[NTLMSSP, krb5] without token");
    fx_free(&out);
    in = fx_buf(garbage, sizeof garbage);
    major = krbap_accept_sec_context(&minor, &actx, ac, &in, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_DEFECTIVE_TOKEN && actx == NULL,
           "malformed NegTokenResp: DEFECTIVE_TOKEN, context deleted and NULL");
    CHECKP(out.length == sizeof reject && memcmp(out.value, reject, sizeof reject) == 0,
           "malformed NegTokenResp: the reject token");
    fx_free(&out);
    b_free(&tok);
    b_free(&types);
    (void)krbap_release_cred(&minor, &ac);
}

int main(void) {
    long long now = fx_capture_time() + 60;
    test_spnego_exchange(now, KRBAP_C_MUTUAL_FLAG | KRBAP_C_SEQUENCE_FLAG);
    test_spnego_exchange(now, KRBAP_C_SEQUENCE_FLAG);
    test_mech_numbers(now);
    test_ntlm_first(now);
    test_failures(now);
    return TEST_SUMMARY();
}
