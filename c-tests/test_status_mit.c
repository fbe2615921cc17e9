/*
 * krbap_display_status compared with MIT krb5 itself, in the same process: every major
 * status built from the RFC 2744 calling errors, routine errors and supplementary bits
 * must give MIT's gss_display_status messages, in MIT's order; every minor code krbap
 * produces must give the text of MIT's com_err tables (krb5_get_error_message).
 */
// krbap-test-pkgs: krb5 krb5-gssapi
#include "krbap.h"
#include "krbap_test.h"

#include <gssapi/gssapi.h>
#include <krb5/krb5.h>

#include <errno.h>
#include <stdint.h>

/* The messages of one major status as a single "|"-joined string, from krbap or MIT. */
static size_t krbap_messages(uint32_t status, char *out, size_t size) {
    uint32_t context = 0;
    size_t used = 0;
    int rounds = 0;
    out[0] = '\0';
    do {
        uint32_t minor = 0;
        krbap_buffer text;
        text.length = 0;
        text.value = NULL;
        if (krbap_display_status(&minor, status, KRBAP_C_GSS_CODE, &context, &text) != 0) {
            snprintf(out + used, size - used, "<error>");
            return used;
        }
        used += (size_t)snprintf(out + used, size - used, "%s%.*s", used ? "|" : "",
                                 (int)text.length, (const char *)text.value);
        krbap_buffer_free(&minor, &text);
    } while (context != 0 && ++rounds < 16 && used < size);
    return used;
}

static size_t mit_messages(OM_uint32 status, char *out, size_t size) {
    OM_uint32 context = 0;
    size_t used = 0;
    int rounds = 0;
    out[0] = '\0';
    do {
        OM_uint32 minor = 0;
        gss_buffer_desc text;
        text.length = 0;
        text.value = NULL;
        if (gss_display_status(&minor, status, GSS_C_GSS_CODE, GSS_C_NO_OID, &context, &text) !=
            GSS_S_COMPLETE) {
            snprintf(out + used, size - used, "<error>");
            return used;
        }
        used += (size_t)snprintf(out + used, size - used, "%s%.*s", used ? "|" : "",
                                 (int)text.length, (const char *)text.value);
        gss_release_buffer(&minor, &text);
    } while (context != 0 && ++rounds < 16 && used < size);
    return used;
}

static void compare_major(OM_uint32 status) {
    char ours[2048];
    char theirs[2048];
    krbap_messages(status, ours, sizeof ours);
    mit_messages(status, theirs, sizeof theirs);
    if (strcmp(ours, theirs) != 0) {
        fprintf(stderr, "major 0x%08x: krbap \"%s\"\n                  MIT   \"%s\"\n",
                (unsigned)status, ours, theirs);
    }
    CHECK(strcmp(ours, theirs) == 0, "krbap and MIT display a major status alike");
}

static void compare_minor(krb5_context krb5, krb5_error_code code, const char *name) {
    uint32_t minor = 0;
    uint32_t context = 0;
    krbap_buffer text;
    text.length = 0;
    text.value = NULL;
    uint32_t major =
        krbap_display_status(&minor, (uint32_t)code, KRBAP_C_MECH_CODE, &context, &text);
    CHECK(major == 0, name);
    const char *expected = krb5_get_error_message(krb5, code);
    CHECK_STR(text.length, text.value, expected, name);
    krb5_free_error_message(krb5, expected);
    krbap_buffer_free(&minor, &text);
}

int main(void) {
    /* RFC 2744 §3.9.1: calling errors 1..3 at bit 24, routine errors 1..18 at bit 16
     * (MIT defines up to GSS_S_NAME_NOT_MN), supplementary bits 0..4. */
    static const OM_uint32 supplementary[] = {0, GSS_S_CONTINUE_NEEDED, GSS_S_DUPLICATE_TOKEN,
                                              GSS_S_OLD_TOKEN | GSS_S_GAP_TOKEN,
                                              GSS_S_UNSEQ_TOKEN, 0x1f};
    for (OM_uint32 calling = 0; calling <= 3; calling++) {
        for (OM_uint32 routine = 0; routine <= 18; routine++) {
            for (size_t s = 0; s < sizeof supplementary / sizeof supplementary[0]; s++) {
                compare_major((calling << 24) | (routine << 16) | supplementary[s]);
            }
        }
    }

    krb5_context krb5 = NULL;
    CHECK(krb5_init_context(&krb5) == 0, "krb5_init_context");
    if (krb5 == NULL) {
        return TEST_SUMMARY();
    }
#define MINOR(code) compare_minor(krb5, code, #code)
    MINOR(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN);
    MINOR(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN);
    MINOR(KRB5KDC_ERR_PREAUTH_FAILED);
    MINOR(KRB5KDC_ERR_PREAUTH_REQUIRED);
    MINOR(KRB5KRB_AP_ERR_BAD_INTEGRITY);
    MINOR(KRB5KRB_AP_ERR_TKT_EXPIRED);
    MINOR(KRB5KRB_AP_ERR_TKT_NYV);
    MINOR(KRB5KRB_AP_ERR_REPEAT);
    MINOR(KRB5KRB_AP_ERR_NOT_US);
    MINOR(KRB5KRB_AP_ERR_BADMATCH);
    MINOR(KRB5KRB_AP_ERR_SKEW);
    MINOR(KRB5KRB_AP_ERR_BADADDR);
    MINOR(KRB5KRB_AP_ERR_BADVERSION);
    MINOR(KRB5KRB_AP_ERR_MSG_TYPE);
    MINOR(KRB5KRB_AP_ERR_MODIFIED);
    MINOR(KRB5KRB_AP_ERR_BADORDER);
    MINOR(KRB5KRB_AP_ERR_ILL_CR_TKT);
    MINOR(KRB5KRB_AP_ERR_BADKEYVER);
    MINOR(KRB5KRB_AP_ERR_NOKEY);
    MINOR(KRB5KRB_AP_ERR_MUT_FAIL);
    MINOR(KRB5KRB_AP_ERR_BADDIRECTION);
    MINOR(KRB5KRB_AP_ERR_METHOD);
    MINOR(KRB5KRB_AP_ERR_BADSEQ);
    MINOR(KRB5KRB_AP_ERR_INAPP_CKSUM);
    MINOR(KRB5KRB_ERR_GENERIC);
    MINOR(KRB5KRB_ERR_FIELD_TOOLONG);
    MINOR(KRB5_PARSE_MALFORMED);
    MINOR(KRB5_CONFIG_BADFORMAT);
    MINOR(KRB5_BADMSGTYPE);
    MINOR(KRB5_CC_BADNAME);
    MINOR(KRB5_CC_UNKNOWN_TYPE);
    MINOR(KRB5_CC_NOTFOUND);
    MINOR(KRB5_CC_END);
    MINOR(KRB5_NO_TKT_SUPPLIED);
    MINOR(KRB5KRB_AP_WRONG_PRINC);
    MINOR(KRB5KDC_ERR_NAME_EXP);
    MINOR(KRB5KDC_ERR_SERVICE_EXP);
    MINOR(KRB5KDC_ERR_C_OLD_MAST_KVNO);
    MINOR(KRB5KDC_ERR_S_OLD_MAST_KVNO);
    MINOR(KRB5KDC_ERR_PRINCIPAL_NOT_UNIQUE);
    MINOR(KRB5KDC_ERR_NULL_KEY);
    MINOR(KRB5KDC_ERR_CANNOT_POSTDATE);
    MINOR(KRB5KDC_ERR_NEVER_VALID);
    MINOR(KRB5KDC_ERR_POLICY);
    MINOR(KRB5KDC_ERR_BADOPTION);
    MINOR(KRB5KDC_ERR_ETYPE_NOSUPP);
    MINOR(KRB5KDC_ERR_SUMTYPE_NOSUPP);
    MINOR(KRB5KDC_ERR_PADATA_TYPE_NOSUPP);
    MINOR(KRB5KDC_ERR_TRTYPE_NOSUPP);
    MINOR(KRB5KDC_ERR_CLIENT_REVOKED);
    MINOR(KRB5KDC_ERR_SERVICE_REVOKED);
    MINOR(KRB5KDC_ERR_TGT_REVOKED);
    MINOR(KRB5KDC_ERR_CLIENT_NOTYET);
    MINOR(KRB5KDC_ERR_SERVICE_NOTYET);
    MINOR(KRB5KDC_ERR_KEY_EXP);
    MINOR(KRB5KDC_ERR_SERVER_NOMATCH);
    MINOR(KRB5KDC_ERR_MUST_USE_USER2USER);
    MINOR(KRB5KDC_ERR_PATH_NOT_ACCEPTED);
    MINOR(KRB5KDC_ERR_SVC_UNAVAILABLE);
    MINOR(KRB5KRB_AP_PATH_NOT_ACCEPTED);
    MINOR(KRB5KRB_ERR_RESPONSE_TOO_BIG);
    MINOR(KRB5KDC_ERR_CLIENT_NOT_TRUSTED);
    MINOR(KRB5KDC_ERR_KDC_NOT_TRUSTED);
    MINOR(KRB5KDC_ERR_INVALID_SIG);
    MINOR(KRB5KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED);
    MINOR(KRB5KDC_ERR_CERTIFICATE_MISMATCH);
    MINOR(KRB5KRB_AP_ERR_NO_TGT);
    MINOR(KRB5KDC_ERR_WRONG_REALM);
    MINOR(KRB5KRB_AP_ERR_USER_TO_USER_REQUIRED);
    MINOR(KRB5KDC_ERR_CANT_VERIFY_CERTIFICATE);
    MINOR(KRB5KDC_ERR_INVALID_CERTIFICATE);
    MINOR(KRB5KDC_ERR_REVOKED_CERTIFICATE);
    MINOR(KRB5KDC_ERR_REVOCATION_STATUS_UNKNOWN);
    MINOR(KRB5KDC_ERR_REVOCATION_STATUS_UNAVAILABLE);
    MINOR(KRB5KDC_ERR_CLIENT_NAME_MISMATCH);
    MINOR(KRB5KDC_ERR_KDC_NAME_MISMATCH);
    MINOR(KRB5KDC_ERR_INCONSISTENT_KEY_PURPOSE);
    MINOR(KRB5KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED);
    MINOR(KRB5KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED);
    MINOR(KRB5KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED);
    MINOR(KRB5KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED);
    MINOR(KRB5KRB_AP_ERR_IAKERB_KDC_NOT_FOUND);
    MINOR(KRB5KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE);
    MINOR(KRB5KDC_ERR_PREAUTH_EXPIRED);
    MINOR(KRB5KDC_ERR_MORE_PREAUTH_DATA_REQUIRED);
    MINOR(KRB5KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION);
    MINOR(KRB5_KDCREP_MODIFIED);
    MINOR(KRB5_KDCREP_SKEW);
    MINOR(KRB5_REALM_UNKNOWN);
    MINOR(KRB5_SERVICE_UNKNOWN);
    MINOR(KRB5_KDC_UNREACH);
    MINOR(KRB5_PREAUTH_NO_KEY);
    MINOR(KRB5_PREAUTH_FAILED);
    MINOR(KRB5_ERR_HOST_REALM_UNKNOWN);
    MINOR(KRB5_REALM_CANT_RESOLVE);
    MINOR(KRB5_GET_IN_TKT_LOOP);
    MINOR(KRB5_CONFIG_ETYPE_NOSUPP);
    MINOR(KRB5KRB_AP_ERR_TKT_INVALID);
    MINOR(KRB5_PRINC_NOMATCH);
    MINOR(KRB5_PROG_ETYPE_NOSUPP);
    MINOR(KRB5_RC_UNKNOWN);
    MINOR(KRB5_RC_REPLAY);
    MINOR(KRB5_RC_IO);
    MINOR(KRB5_RC_IO_EOF);
    MINOR(KRB5_RC_IO_PERM);
    MINOR(KRB5_RC_IO_IO);
    MINOR(KRB5_RC_IO_SPACE);
    MINOR(KRB5_CRYPTO_INTERNAL);
    MINOR(KRB5_KT_BADNAME);
    MINOR(KRB5_KT_UNKNOWN_TYPE);
    MINOR(KRB5_KT_NOTFOUND);
    MINOR(KRB5_KT_END);
    MINOR(KRB5_KT_NOWRITE);
    MINOR(KRB5_KT_IOERR);
    MINOR(KRB5_BAD_ENCTYPE);
    MINOR(KRB5_BAD_KEYSIZE);
    MINOR(KRB5_BAD_MSIZE);
    MINOR(KRB5_CC_IO);
    MINOR(KRB5_FCC_NOFILE);
    MINOR(KRB5_CC_NOMEM);
    MINOR(KRB5_CC_FORMAT);
    MINOR(KRB5_NOCREDS_SUPPLIED);
    MINOR(KRB5_KT_NAME_TOOLONG);
    MINOR(KRB5_KT_KVNONOTFOUND);
    MINOR(KRB5_KT_FORMAT);
    MINOR(KRB5_CC_NOSUPP);
    MINOR(ASN1_OVERRUN);
    MINOR(ASN1_BAD_ID);
    MINOR(ASN1_BAD_LENGTH);
    MINOR(ASN1_BAD_FORMAT);
    MINOR(ASN1_PARSE_ERROR);
    /* errno values, passed through as minor codes as MIT does (the HTTP header helpers). */
    MINOR(ENODATA);
    MINOR(EBADMSG);
    MINOR(EMSGSIZE);
    MINOR(EPROTONOSUPPORT);
    MINOR(KRB5_RC_MALLOC); /* the memory replay cache at its cap */
    MINOR(EAGAIN);         /* a ccache or keytab locked longer than the timeout */
#undef MINOR
    krb5_free_context(krb5);
    return TEST_SUMMARY();
}
