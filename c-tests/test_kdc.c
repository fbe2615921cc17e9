/*
 * krbap_acquire_cred_from (MIT's gss_acquire_cred_from) without a live KDC: the credential
 * store elements "ccache", "client_keytab", "keytab", "rcache"; unknown and duplicate keys;
 * bad arguments; a full exchange between credentials acquired this way (tickets from the
 * MIT fixture ccache, so no KDC is asked). The KDC side (TGS/AS, storing, delegation) is
 * tested against a live MIT KDC by tests/interop-kdc.sh.
 */
#include "fixtures.h"
#include "krbap.h"
#include "krbap_test.h"

#include <stdint.h>

/* MIT com_err codes used below. */
#define KRB5_FCC_NOFILE FX_KRB5(195) /* No credentials cache found */

static krbap_cred_store_element element(const char *key, const char *value) {
    krbap_cred_store_element e;
    e.key = key;
    e.value = value;
    return e;
}

/* The text krbap_display_status gives for the minor status of the last failure. */
static int minor_text_contains(uint32_t minor, const char *needle) {
    uint32_t m = 0;
    uint32_t context = 0;
    krbap_buffer text = fx_empty();
    int found = 0;
    if (!FX_IS_ERROR(krbap_display_status(&m, minor, KRBAP_C_MECH_CODE, &context, &text)) &&
        text.value != NULL) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)text.length, (const char *)text.value);
        found = strstr(buf, needle) != NULL;
        if (!found) {
            fprintf(stderr, "minor text: %s\n", buf);
        }
    }
    fx_free(&text);
    return found;
}

static void unknown_and_duplicate_keys(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *cred = NULL;
    krbap_cred_store_element store[2];

    store[0] = element("ccache", FX_CCACHE);
    store[1] = element("password", "secret");
    cred = (krbap_cred *)1; /* must be reset to NULL on failure */
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 2, &cred, NULL);
    CHECKP(FX_ROUTINE(major) == KRBAP_S_FAILURE, "unknown element key: KRBAP_S_FAILURE");
    CHECKP(cred == NULL, "unknown element key: no credential");
    CHECKP(minor_text_contains(minor, "unknown credential store element \"password\""),
           "unknown element key: the message names it");

    store[1] = element("ccache", FX_CCACHE);
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 2, &cred, NULL);
    CHECKP(FX_ROUTINE(major) == KRBAP_S_DUPLICATE_ELEMENT && cred == NULL,
           "element given twice: KRBAP_S_DUPLICATE_ELEMENT");

    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, NULL, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "count 1 with NULL elements: an error");

    store[0] = element(NULL, FX_CCACHE);
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "NULL key: an error");

    store[0] = element("ccache", NULL);
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "NULL value: an error");

    store[0] = element("ccache", FX_CCACHE);
    major = krbap_acquire_cred_from(&minor, NULL, 7, store, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "bad usage: an error");

    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 1, NULL, NULL);
    CHECKP(FX_CALLING(major) == KRBAP_S_CALL_INACCESSIBLE_WRITE, "NULL output_cred");
}

static void missing_ccache_without_keytab(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_cred *cred = NULL;
    krbap_cred_store_element store[2];
    /* A client keytab that does not exist is ignored (MIT), so only the ccache counts. */
    store[0] = element("ccache", "FILE:tests/data/no-such-dir/ccache");
    store[1] = element("client_keytab", "tests/data/no-such-dir/client.keytab");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 2, &cred, NULL);
    CHECKP(FX_ROUTINE(major) == KRBAP_S_NO_CRED && minor == KRB5_FCC_NOFILE && cred == NULL,
           "missing ccache, no client keytab: NO_CRED / KRB5_FCC_NOFILE");

    store[0] = element("ccache", "KEYRING:persistent:0");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "unsupported ccache type: an error");
}

/* Elements of the other usage are ignored, as MIT does. */
static void elements_of_the_other_usage_are_ignored(void) {
    uint32_t minor = 0;
    uint32_t major;
    uint32_t time_rec = 0;
    int32_t usage = -1;
    krbap_cred *cred = NULL;
    krbap_name *name = NULL;
    char text[128];
    krbap_cred_store_element store[3];

    store[0] = element("keytab", FX_KEYTAB);
    store[1] = element("rcache", "none:");
    store[2] = element("ccache", "FILE:tests/data/no-such-dir/ccache");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_ACCEPT, store, 3, &cred, &time_rec);
    CHECKP(major == KRBAP_S_COMPLETE && cred != NULL, "acceptor from keytab + rcache elements");
    CHECKP(time_rec == 0xffffffffu, "acceptor time_rec: indefinite");
    krbap_release_cred(&minor, &cred);

    store[0] = element("ccache", FX_CCACHE);
    store[1] = element("keytab", "tests/data/no-such-dir/keytab");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, 2, &cred, &time_rec);
    CHECKP(major == KRBAP_S_COMPLETE && cred != NULL, "initiator from the ccache element");
    major = krbap_inquire_cred(&minor, cred, &name, NULL, &usage);
    fx_name_text(name, text, sizeof text);
    CHECKP(major == KRBAP_S_COMPLETE && strcmp(text, FX_CLIENT) == 0 &&
               usage == KRBAP_C_INITIATE,
           "initiator credential: alice, usage INITIATE");
    krbap_release_name(&minor, &name);
    krbap_release_cred(&minor, &cred);

    store[1] = element("rcache", "bogus-type:x");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_ACCEPT, store + 1, 1, &cred, NULL);
    CHECKP(FX_IS_ERROR(major) && cred == NULL, "acceptor with an unknown rcache type: an error");
}

/* Both credentials from credential stores, then a mutual exchange and a Wrap. */
static void exchange_with_store_credentials(void) {
    uint32_t minor = 0;
    uint32_t major;
    long long now = fx_capture_time();
    krbap_cred *ic = NULL;
    krbap_cred *ac = NULL;
    krbap_ctx *ictx = NULL;
    krbap_ctx *actx = NULL;
    krbap_cred_store_element istore[1];
    krbap_cred_store_element astore[2];
    krbap_name *desired = fx_name(FX_CLIENT, KRBAP_NT_KRB5_PRINCIPAL);

    CHECKP(now > 0, "fixture capture time");
    istore[0] = element("ccache", FX_CCACHE);
    astore[0] = element("keytab", FX_KEYTAB);
    astore[1] = element("rcache", "none:");
    major = krbap_acquire_cred_from(&minor, desired, KRBAP_C_INITIATE, istore, 1, &ic, NULL);
    CHECKP(major == KRBAP_S_COMPLETE, "initiator for alice@TEST.LOCAL from the store");
    major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_ACCEPT, astore, 2, &ac, NULL);
    CHECKP(major == KRBAP_S_COMPLETE, "acceptor from the store");
    if (ic != NULL && ac != NULL) {
        (void)krbap_cred_set_time(&minor, ic, (int64_t)now);
        (void)krbap_cred_set_time(&minor, ac, (int64_t)now);
        CHECKP(fx_establish(ic, ac, "test-aes128-sha256@localhost", KRBAP_NT_HOSTBASED_SERVICE,
                            KRBAP_C_MUTUAL_FLAG | KRBAP_C_SEQUENCE_FLAG, &ictx, &actx) == 0,
               "mutual exchange between store credentials");
        if (ictx != NULL && actx != NULL) {
            krbap_buffer msg = fx_buf("hello", 5);
            krbap_buffer wrapped = fx_empty();
            krbap_buffer plain = fx_empty();
            int32_t conf = 0;
            major = krbap_wrap(&minor, ictx, 1, 0, &msg, &conf, &wrapped);
            CHECKP(major == KRBAP_S_COMPLETE && conf == 1, "wrap");
            major = krbap_unwrap(&minor, actx, &wrapped, &plain, &conf, NULL);
            CHECKP(major == KRBAP_S_COMPLETE && plain.length == 5 &&
                       memcmp(plain.value, "hello", 5) == 0,
                   "unwrap");
            fx_free(&wrapped);
            fx_free(&plain);
        }
    }
    krbap_delete_sec_context(&minor, &ictx, NULL);
    krbap_delete_sec_context(&minor, &actx, NULL);

    /* A desired name other than the ccache's principal, without a keytab: NO_CRED. */
    krbap_release_name(&minor, &desired);
    desired = fx_name("bob@TEST.LOCAL", KRBAP_NT_KRB5_PRINCIPAL);
    krbap_release_cred(&minor, &ic);
    major = krbap_acquire_cred_from(&minor, desired, KRBAP_C_INITIATE, istore, 1, &ic, NULL);
    CHECKP(FX_ROUTINE(major) == KRBAP_S_NO_CRED && ic == NULL,
           "desired name bob, ccache of alice: NO_CRED");
    krbap_release_name(&minor, &desired);
    krbap_release_cred(&minor, &ac);
}

int main(void) {
    unknown_and_duplicate_keys();
    missing_ccache_without_keytab();
    elements_of_the_other_usage_are_ignored();
    exchange_with_store_credentials();
    return TEST_SUMMARY();
}
