/*
 * The Windows PAC (MS-PAC) through the C ABI: tokens from MIT's initiator with tickets of a
 * Samba AD DC (tests/data/samba-ad/, README.md there) accepted, the PAC read with the
 * krbap_pac_* getters as a C (or Python, or Go) caller would, the KDC-key checks, the
 * policies, a PAC handle outliving its context, imported PACs, and misuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

#define AD "tests/data/samba-ad/"
#define MINOR_ENOENT 2u
#define MINOR_EINVAL 22u

/* A line `KEY=VALUE` of a fixture text file, copied into `out`; "" when absent. */
static void fx_value(const char *path, const char *key, char *out, size_t cap) {
    size_t length = 0, klen = strlen(key);
    char *text = (char *)fx_read_file(path, &length);
    const char *p = text;
    out[0] = '\0';
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '\n');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=' && n - klen - 1 < cap) {
            memcpy(out, p + klen + 1, n - klen - 1);
            out[n - klen - 1] = '\0';
            break;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    free(text);
}

static long long capture(const char *who) {
    char key[64];
    size_t length = 0;
    char *text = (char *)fx_read_file(AD "times.txt", &length);
    const char *at;
    long long t = -1;
    snprintf(key, sizeof key, "%s ", who);
    at = text != NULL ? strstr(text, key) : NULL;
    if (at != NULL) {
        t = strtoll(at + strlen(key), NULL, 10);
    }
    free(text);
    return t;
}

static krbap_cred *acceptor(const char *keytab, const char *who) {
    uint32_t minor = 0;
    krbap_cred *cred = NULL;
    if (krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT, keytab, &cred, NULL) != 0) {
        return NULL;
    }
    (void)krbap_cred_set_time(&minor, cred, (int64_t)capture(who));
    (void)krbap_cred_set_replay_cache(&minor, cred, "none:");
    return cred;
}

/* Accepts the fixture token of `who`; the context, or NULL with the status in major_out, minor_out. */
static krbap_ctx *accept_token(krbap_cred *cred, const char *who, uint32_t *major_out,
                               uint32_t *minor_out) {
    char path[256];
    size_t length = 0;
    unsigned char *token;
    krbap_buffer in, out = fx_empty();
    krbap_ctx *ctx = NULL;
    snprintf(path, sizeof path, AD "%s.token", who);
    token = fx_read_file(path, &length);
    in = fx_buf(token, length);
    *major_out = krbap_accept_sec_context(minor_out, &ctx, cred, &in, NULL, NULL, NULL, NULL,
                                          &out, NULL);
    fx_free(&out);
    free(token);
    return ctx;
}

static int string_is(krbap_pac *pac, uint32_t field, const char *expected) {
    uint32_t minor = 0;
    krbap_buffer v = fx_empty();
    int ok = krbap_pac_get_string(&minor, pac, field, &v) == KRBAP_S_COMPLETE &&
             krbap_test_bytes_equal(v.length, v.value, expected);
    if (!ok) {
        fprintf(stderr, "  field %u: \"%.*s\", expected \"%s\"\n", field, (int)v.length,
                v.value != NULL ? (const char *)v.value : "", expected);
    }
    fx_free(&v);
    return ok;
}

static uint64_t number_of(krbap_pac *pac, uint32_t field) {
    uint32_t minor = 0;
    uint64_t v = 0;
    return krbap_pac_get_number(&minor, pac, field, &v) == KRBAP_S_COMPLETE ? v : 0xdeadbeef;
}

/* True when group `sid` is among the PAC's groups with `source` and attributes 7. */
static int has_group(krbap_pac *pac, const char *sid, uint32_t source) {
    uint32_t minor = 0;
    size_t n = 0, i;
    int found = 0;
    (void)krbap_pac_group_count(&minor, pac, &n);
    for (i = 0; i < n; i++) {
        krbap_buffer s = fx_empty();
        uint32_t attributes = 0, src = 0;
        if (krbap_pac_get_group(&minor, pac, i, &s, &attributes, &src) == KRBAP_S_COMPLETE &&
            krbap_test_bytes_equal(s.length, s.value, sid) && src == source &&
            attributes == (KRBAP_SE_GROUP_MANDATORY | KRBAP_SE_GROUP_ENABLED_BY_DEFAULT |
                           KRBAP_SE_GROUP_ENABLED)) {
            found = 1;
        }
        fx_free(&s);
    }
    return found;
}

static void alice(void) {
    uint32_t major, minor = 0, verified = 99;
    krbap_cred *cred = acceptor(AD "svc.keytab", "alice");
    krbap_ctx *ctx;
    krbap_pac *pac = NULL;
    krbap_buffer reason = fx_empty();
    char sid[128], domain[128], group[160];
    int64_t unix_seconds = 0;
    size_t n = 0;
    static const char *const groups[] = {"Domain_Users", "pacgroup", "pacgroup2",
                                         "pacdomlocal", "pacuniversal"};
    size_t g;

    CHECK(cred != NULL, "acceptor on svc.keytab");
    ctx = accept_token(cred, "alice", &major, &minor);
    CHECKP(major == KRBAP_S_COMPLETE && ctx != NULL, "alice's token (Samba AD KDC, MIT initiator) accepted");
    CHECK(krbap_ctx_get_pac(&minor, ctx, &pac) == KRBAP_S_COMPLETE && pac != NULL,
          "krbap_ctx_get_pac");
    CHECK(krbap_pac_get_verified(&minor, pac, &verified, &reason) == KRBAP_S_COMPLETE,
          "krbap_pac_get_verified");
    CHECKP(verified == KRBAP_PAC_SERVER_SIGNATURE && reason.length == 0,
           "server signature verified, no failure");
    /* The handle outlives the context (valgrind/ASan watch). */
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);

    fx_value(AD "sids.txt", "SAMBA_SID_alice", sid, sizeof sid);
    fx_value(AD "sids.txt", "SAMBA_DOMAIN_SID", domain, sizeof domain);
    CHECKP(string_is(pac, KRBAP_PAC_USER_SID, sid), "user SID equals Samba's objectSid");
    CHECK(string_is(pac, KRBAP_PAC_UPN_SID, sid), "UPN_DNS_INFO SID");
    CHECK(string_is(pac, KRBAP_PAC_LOGON_DOMAIN_SID, domain), "domain SID");
    CHECK(string_is(pac, KRBAP_PAC_EFFECTIVE_NAME, "alice"), "account name");
    CHECK(string_is(pac, KRBAP_PAC_FULL_NAME, "Alice Tester"), "full name");
    CHECK(string_is(pac, KRBAP_PAC_LOGON_DOMAIN_NAME, "ADTEST"), "NetBIOS domain");
    CHECK(string_is(pac, KRBAP_PAC_LOGON_SERVER, "DC1"), "logon server (MaximumLength > Length)");
    CHECK(string_is(pac, KRBAP_PAC_HOME_DIRECTORY_DRIVE, "H:"), "home drive");
    CHECKP(string_is(pac, KRBAP_PAC_UPN, "alice@ad.test") &&
               string_is(pac, KRBAP_PAC_DNS_DOMAIN, "AD.TEST") &&
               string_is(pac, KRBAP_PAC_SAM_NAME, "alice"),
           "UPN, DNS domain, SamName");
    CHECK(string_is(pac, KRBAP_PAC_CLIENT_NAME, "alice"), "CLIENT_INFO name");
    CHECK(string_is(pac, KRBAP_PAC_USER_SESSION_KEY, "00000000000000000000000000000000"),
          "UserSessionKey (zero in a PAC)");
    CHECK(number_of(pac, KRBAP_PAC_USER_ID) == 1103 && number_of(pac, KRBAP_PAC_PRIMARY_GROUP_ID) == 513,
          "RID and primary group RID");
    CHECK(number_of(pac, KRBAP_PAC_USER_FLAGS) == 0x20, "UserFlags LOGON_EXTRA_SIDS");
    CHECK(number_of(pac, KRBAP_PAC_GROUP_COUNT) == 5 && number_of(pac, KRBAP_PAC_SID_COUNT) == 1 &&
              number_of(pac, KRBAP_PAC_RESOURCE_GROUP_COUNT) == 0,
          "group counts");
    CHECK(krbap_pac_get_time(&minor, pac, KRBAP_PAC_CLIENT_ID, &unix_seconds) == KRBAP_S_COMPLETE &&
              unix_seconds == (int64_t)capture("alice"),
          "CLIENT_INFO time = the ticket's authtime (the token's creation second)");
    CHECK(krbap_pac_get_time(&minor, pac, KRBAP_PAC_KICK_OFF_TIME, &unix_seconds) == KRBAP_S_COMPLETE &&
              unix_seconds == INT64_MAX,
          "KickOffTime never -> INT64_MAX");
    CHECK(number_of(pac, KRBAP_PAC_KICK_OFF_TIME) == 0x7fffffffffffffffull, "raw FILETIME");

    CHECK(krbap_pac_group_count(&minor, pac, &n) == KRBAP_S_COMPLETE && n == 6, "6 groups");
    for (g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        char key[64];
        snprintf(key, sizeof key, "SAMBA_SID_%s", groups[g]);
        fx_value(AD "sids.txt", key, group, sizeof group);
        CHECKP(group[0] != '\0' && has_group(pac, group, KRBAP_PAC_GROUP_IDS), groups[g]);
    }
    CHECK(has_group(pac, "S-1-18-1", KRBAP_PAC_EXTRA_SIDS), "S-1-18-1 in ExtraSids");

    /* Absent things, and misuse. */
    {
        krbap_buffer v = fx_empty();
        uint64_t x = 1;
        size_t t = 9;
        int32_t sigtype = 0;
        major = krbap_pac_get_string(&minor, pac, KRBAP_PAC_PROXY_TARGET, &v);
        CHECK(major == KRBAP_S_UNAVAILABLE && v.length == 0, "no delegation info: UNAVAILABLE");
        CHECK(krbap_pac_transited_count(&minor, pac, &t) == KRBAP_S_COMPLETE && t == 0,
              "no transited services");
        major = krbap_pac_get_number(&minor, pac, KRBAP_PAC_UPN, &x);
        CHECK(major == KRBAP_S_FAILURE && minor == MINOR_EINVAL && x == 0,
              "a string field given to get_number: EINVAL");
        major = krbap_pac_get_string(&minor, pac, 7777, &v);
        CHECK(major == KRBAP_S_FAILURE && minor == MINOR_EINVAL, "unknown field: EINVAL");
        major = krbap_pac_get_time(&minor, pac, KRBAP_PAC_USER_ID, &unix_seconds);
        CHECK(major == KRBAP_S_FAILURE && minor == MINOR_EINVAL, "a non-time field to get_time");
        major = krbap_pac_get_group(&minor, pac, 6, &v, NULL, NULL);
        CHECK(major == KRBAP_S_UNAVAILABLE && v.length == 0, "group past the end");
        CHECK(krbap_pac_get_signature(&minor, pac, KRBAP_PAC_FULL_CHECKSUM, &sigtype, &v) ==
                      KRBAP_S_COMPLETE &&
                  sigtype == 16 && v.length == 12,
              "full signature: hmac-sha1-96-aes256, 12 bytes");
        fx_free(&v);
        CHECK(krbap_pac_find_buffer(&minor, pac, KRBAP_PAC_CLIENT_CLAIMS_INFO, &v) == KRBAP_S_UNAVAILABLE,
              "no claims buffer");
        CHECK(krbap_pac_find_buffer(&minor, pac, KRBAP_PAC_CLIENT_INFO, &v) == KRBAP_S_COMPLETE &&
                  v.length == 20,
              "raw CLIENT_INFO by type");
        fx_free(&v);
        major = krbap_pac_get_string(&minor, NULL, KRBAP_PAC_UPN, &v);
        CHECK(FX_CALLING(major) == KRBAP_S_CALL_INACCESSIBLE_READ && minor == MINOR_EINVAL,
              "NULL PAC handle");
    }
    (void)krbap_release_pac(&minor, &pac);
    CHECK(pac == NULL, "release sets the handle to NULL");
    CHECK(krbap_release_pac(&minor, &pac) == KRBAP_S_COMPLETE, "releasing NULL is a no-op");
    CHECK(krbap_release_pac(&minor, NULL) == KRBAP_S_COMPLETE, "a NULL pointer too");
    (void)krbap_release_cred(&minor, &cred);
}

static void kdc_keys_and_policies(void) {
    uint32_t major, minor = 0, verified = 0;
    krbap_cred *cred = acceptor(AD "svc.keytab", "alice");
    krbap_ctx *ctx;
    krbap_pac *pac = NULL;
    krbap_buffer reason = fx_empty(), text = fx_empty();
    uint32_t context = 0;

    CHECK(krbap_cred_set_pac_kdc_keytab(&minor, cred, AD "krbtgt.keytab") == KRBAP_S_COMPLETE,
          "krbap_cred_set_pac_kdc_keytab");
    ctx = accept_token(cred, "alice", &major, &minor);
    CHECK(ctx != NULL && krbap_ctx_get_pac(&minor, ctx, &pac) == KRBAP_S_COMPLETE, "accepted");
    (void)krbap_pac_get_verified(&minor, pac, &verified, NULL);
    CHECKP(verified == (KRBAP_PAC_SERVER_SIGNATURE | KRBAP_PAC_KDC_SIGNATURE |
                        KRBAP_PAC_TICKET_SIGNATURE | KRBAP_PAC_FULL_SIGNATURE),
           "with the krbtgt key: server, KDC, ticket and full signatures verified");
    (void)krbap_release_pac(&minor, &pac);
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);

    /* Another realm's krbtgt key: the KDC signature does not verify. */
    (void)krbap_cred_set_pac_kdc_keytab(&minor, cred, "tests/data/mit-pac/krbtgt.keytab");
    ctx = accept_token(cred, "alice", &major, &minor);
    CHECKP(ctx == NULL && major == KRBAP_S_FAILURE && minor == KRB5KRB_AP_ERR_MODIFIED,
           "wrong KDC key: FAILURE, KRB5KRB_AP_ERR_MODIFIED");
    (void)krbap_display_status(&minor, KRB5KRB_AP_ERR_MODIFIED, KRBAP_C_MECH_CODE, &context, &text);
    CHECK(text.length > 0 && strstr((const char *)text.value, "KDC signature") != NULL,
          "the status text names the KDC signature");
    fx_free(&text);

    /* MIT's behaviour on request: accepted, PAC marked unverified with the reason. */
    CHECK(krbap_cred_set_pac_policy(&minor, cred, KRBAP_PAC_ALLOW_UNVERIFIED) == KRBAP_S_COMPLETE,
          "set ALLOW_UNVERIFIED");
    ctx = accept_token(cred, "alice", &major, &minor);
    CHECK(ctx != NULL && krbap_ctx_get_pac(&minor, ctx, &pac) == KRBAP_S_COMPLETE,
          "accepted despite the PAC");
    (void)krbap_pac_get_verified(&minor, pac, &verified, &reason);
    CHECKP(verified == 0 && reason.length > 0 &&
               strstr((const char *)reason.value, "KDC signature") != NULL,
           "unverified, and why");
    CHECK(string_is(pac, KRBAP_PAC_EFFECTIVE_NAME, "alice"), "content still readable");
    fx_free(&reason);
    (void)krbap_release_pac(&minor, &pac);
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);

    CHECK(krbap_cred_set_pac_policy(&minor, cred, 7) == KRBAP_S_FAILURE && minor == MINOR_EINVAL,
          "unknown policy");
    (void)krbap_cred_set_pac_kdc_keytab(&minor, cred, NULL);
    (void)krbap_cred_set_pac_policy(&minor, cred, KRBAP_PAC_REQUIRE);
    ctx = accept_token(cred, "alice", &major, &minor);
    CHECK(ctx != NULL, "REQUIRE: a ticket with a verified PAC is accepted");
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);
    CHECK(krbap_cred_set_pac_kdc_keytab(&minor, cred, "/nonexistent/keytab") != KRBAP_S_COMPLETE,
          "a missing KDC keytab is an error");
    (void)krbap_release_cred(&minor, &cred);
}

static void s4u2proxy_and_import(void) {
    uint32_t major, minor = 0, verified = 9;
    krbap_cred *cred = acceptor(AD "ws1.keytab", "s4u2proxy");
    krbap_ctx *ctx = accept_token(cred, "s4u2proxy", &major, &minor);
    krbap_pac *pac = NULL;
    krbap_buffer v = fx_empty(), raw = fx_empty();
    size_t n = 0;

    CHECK(ctx != NULL && krbap_ctx_get_pac(&minor, ctx, &pac) == KRBAP_S_COMPLETE,
          "S4U2proxy token accepted with ws1's keytab");
    CHECKP(string_is(pac, KRBAP_PAC_PROXY_TARGET, "HTTP/ws1.ad.test"), "S4U2proxy target");
    CHECK(krbap_pac_transited_count(&minor, pac, &n) == KRBAP_S_COMPLETE && n == 1,
          "one transited service");
    CHECKP(krbap_pac_get_transited(&minor, pac, 0, &v) == KRBAP_S_COMPLETE &&
               krbap_test_bytes_equal(v.length, v.value, "svc@AD.TEST"),
           "transited: svc@AD.TEST");
    fx_free(&v);
    CHECK(has_group(pac, "S-1-18-2", KRBAP_PAC_EXTRA_SIDS), "service asserted identity");
    (void)krbap_release_pac(&minor, &pac);

    /* The raw PAC (krbap_inquire_pac) imported: same content, nothing verified. */
    CHECK(krbap_inquire_pac(&minor, ctx, &raw) == KRBAP_S_COMPLETE && raw.length == 1064,
          "krbap_inquire_pac still hands out the raw bytes");
    CHECK(krbap_import_pac(&minor, &raw, &pac) == KRBAP_S_COMPLETE, "krbap_import_pac");
    (void)krbap_pac_get_verified(&minor, pac, &verified, NULL);
    CHECK(verified == 0, "an imported PAC is not verified");
    CHECK(number_of(pac, KRBAP_PAC_TRANSITED_COUNT) == 1, "TransitedListSize");
    CHECK(krbap_pac_buffer_count(&minor, pac, &n) == KRBAP_S_COMPLETE && n == 8, "8 buffers");
    {
        uint32_t type = 0;
        CHECK(krbap_pac_get_buffer(&minor, pac, 1, &type, NULL) == KRBAP_S_COMPLETE &&
                  type == KRBAP_PAC_CONSTRAINED_DELEGATION,
              "buffer 1 is CONSTRAINED_DELEGATION");
    }
    (void)krbap_release_pac(&minor, &pac);
    /* Truncated: refused with EINVAL, the handle left NULL. */
    raw.length = 100;
    major = krbap_import_pac(&minor, &raw, &pac);
    CHECK(major == KRBAP_S_FAILURE && minor == MINOR_EINVAL && pac == NULL,
          "a truncated PAC: FAILURE, EINVAL");
    raw.length = 1064;
    fx_free(&raw);
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);
    (void)krbap_release_cred(&minor, &cred);
}

static void mit_kdc_pac(void) {
    uint32_t major, minor = 0, verified = 0;
    krbap_cred *cred = NULL;
    krbap_ctx *ctx = NULL;
    krbap_pac *pac = NULL;
    krbap_buffer v = fx_empty();
    size_t length = 0;
    unsigned char *token = fx_read_file("tests/data/mit-pac/test-aes256-sha384.token", &length);
    krbap_buffer in = fx_buf(token, length), out = fx_empty();
    long long t = fx_file_number("tests/data/mit-pac/times.txt", "test-aes256-sha384 ", 10);

    (void)krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT, "tests/data/mit-pac/service.keytab",
                             &cred, NULL);
    (void)krbap_cred_set_time(&minor, cred, (int64_t)t);
    (void)krbap_cred_set_pac_kdc_keytab(&minor, cred, "tests/data/mit-pac/krbtgt.keytab");
    major = krbap_accept_sec_context(&minor, &ctx, cred, &in, NULL, NULL, NULL, NULL, &out, NULL);
    CHECKP(major == KRBAP_S_COMPLETE, "MIT 1.20 KDC ticket (aes256-sha384 service) accepted");
    CHECK(krbap_ctx_get_pac(&minor, ctx, &pac) == KRBAP_S_COMPLETE, "it has a PAC");
    (void)krbap_pac_get_verified(&minor, pac, &verified, NULL);
    CHECKP(verified == (KRBAP_PAC_SERVER_SIGNATURE | KRBAP_PAC_KDC_SIGNATURE |
                        KRBAP_PAC_TICKET_SIGNATURE),
           "server (hmac-sha384-192), KDC and ticket signatures verified; MIT 1.20 has no full one");
    major = krbap_pac_get_string(&minor, pac, KRBAP_PAC_EFFECTIVE_NAME, &v);
    CHECK(major == KRBAP_S_UNAVAILABLE, "no LOGON_INFO in an MIT PAC: UNAVAILABLE");
    CHECK(string_is(pac, KRBAP_PAC_CLIENT_NAME, "alice"), "CLIENT_INFO name");
    (void)krbap_release_pac(&minor, &pac);
    fx_free(&out);
    free(token);
    (void)krbap_delete_sec_context(&minor, &ctx, NULL);
    (void)krbap_release_cred(&minor, &cred);
}

int main(void) {
    alice();
    kdc_keys_and_policies();
    s4u2proxy_and_import();
    mit_kdc_pac();
    return TEST_SUMMARY();
}
