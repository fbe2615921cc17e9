/*
 * krbap-server: a server speaking the protocol of MIT krb5's gss-server
 * (src/appl/gss-sample), built on krbap. It interoperates with MIT's gss-client and
 * with krbap-client, and narrates the AP exchange (RFC 4120 §3.2) as it happens.
 *
 * Per connection: the client sends TOKEN_NOOP|TOKEN_CONTEXT_NEXT, then a TOKEN_CONTEXT
 * token (the GSS initial context token carrying KRB_AP_REQ, raw or inside SPNEGO: the
 * mechanism is told by the token, as MIT's gss-server does with its default credential);
 * the server answers with a TOKEN_CONTEXT token when it has one (KRB_AP_REP, a SPNEGO
 * answer, or a KRB-ERROR / SPNEGO reject on failure), and SPNEGO may take more tokens
 * each way (gss-server's loop). Then,
 * for each message, a TOKEN_DATA token (|WRAPPED|ENCRYPTED|SEND_MIC); the server
 * unwraps it, prints it, and replies with TOKEN_MIC (a MIC over the plaintext) when
 * SEND_MIC was set, else with an empty TOKEN_NOOP. A TOKEN_NOOP from the client ends
 * the connection.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server_options {
    unsigned short port;
    int once;
    int verbose;
    const char *keytab;
    const char *service_name;
    const char *rcache;
    long long skew;    /* -1: library default (300 s) */
    long long fixed_time; /* 0: system clock */
    const char *deleg_ccache;
    const char *pac_kdc_keytab;
    int pac_policy; /* -1: library default (KRBAP_PAC_VERIFY) */
    long long rcache_max_bytes; /* -1: library default */
    int rcache_stats;
    char rcache_name[512]; /* the library's name for it (a password shown as ***) */
};

static void usage(void) {
    fprintf(stderr,
            "Usage: krbap-server [-port port] [-verbose] [-once] [-keytab keytab]\n"
            "                    [-rcache NAME] [-skew SECONDS] [-time UNIX]\n"
            "                    [-deleg-ccache FILE] [-pac-policy POLICY]\n"
            "                    [-pac-kdc-keytab FILE] [-rcache-max-bytes N[K|M|G]]\n"
            "                    [-rcache-stats] [service_name]\n"
            "  -rcache NAME        replay cache: memory: (default), none:, file2:/path, dfl:,\n"
            "                      redis://[[user]:password@]host[:port][/db][?prefix=P&timeout_ms=N]\n"
            "                      (one cache for a server farm; also redis+unix:, redis+cluster:)\n"
            "  -rcache-max-bytes N cap of the memory replay cache (default 256M); at the cap\n"
            "                      new authenticators are refused until older ones expire\n"
            "  -rcache-stats       print the memory replay cache's counters after each connection\n"
            "  -skew SECONDS       maximum clock skew (default 300)\n"
            "  -time UNIX          fix the server's clock (for demos with captured tickets)\n"
            "  -deleg-ccache FILE  store delegated credentials in this ccache\n"
            "  -pac-policy POLICY  verify (default: a PAC must verify), require (and be there),\n"
            "                      allow-unverified (MIT's behaviour: keep it, marked unverified)\n"
            "  -pac-kdc-keytab FILE  the KDC's (krbtgt) keys: also check the PAC's KDC signatures\n"
            "  service_name        e.g. host@server.example.com; default: any key of the keytab\n");
    exit(1);
}

static uint32_t free_buffer(krbap_buffer *b) {
    uint32_t minor = 0;
    return krbap_buffer_free(&minor, b);
}

/* Which step of the exchange a failed accept stopped at, from MIT's minor code (for the
 * PAC, whose failures share MIT's codes, from the status text, which names the PAC). */
static const char *failed_step(uint32_t major, uint32_t minor) {
    uint32_t m = 0, context = 0;
    krbap_buffer text;
    int pac = 0;
    text.length = 0;
    text.value = NULL;
    if (krbap_display_status(&m, minor, KRBAP_C_MECH_CODE, &context, &text) == KRBAP_S_COMPLETE &&
        text.value != NULL) {
        size_t i;
        for (i = 0; i + 3 <= text.length; i++) {
            pac |= memcmp((const char *)text.value + i, "PAC", 3) == 0;
        }
    }
    krbap_buffer_free(&m, &text);
    if (pac) {
        return "step 2 (verifying the ticket's PAC)";
    }
    if ((major & 0xffff0000u) == KRBAP_S_BAD_BINDINGS) {
        return "step 3 (channel bindings in the authenticator checksum)";
    }
    if (minor == KRB5KRB_AP_ERR_NOT_US || minor == KRB5KRB_AP_ERR_BADKEYVER ||
        minor == KRB5KRB_AP_ERR_NOKEY || minor == KRB5KRB_AP_WRONG_PRINC) {
        return "step 2 (finding the service key for the ticket)";
    }
    if (minor == KRB5KRB_AP_ERR_BAD_INTEGRITY) {
        return "step 2 or 3 (decrypting the ticket or the authenticator)";
    }
    if (minor == KRB5_RC_MALLOC) {
        return "step 3 (replay cache full: the authenticator is refused until older ones expire)";
    }
    if (minor == KRB5KRB_AP_ERR_SKEW || minor == KRB5KRB_AP_ERR_REPEAT ||
        minor == KRB5KRB_AP_ERR_BADMATCH || minor == KRB5KRB_AP_ERR_BADADDR ||
        minor == KRB5KRB_AP_ERR_TKT_EXPIRED || minor == KRB5KRB_AP_ERR_TKT_NYV ||
        minor == KRB5KRB_AP_ERR_TKT_INVALID) {
        return "step 3 (checking the authenticator: clock skew, replay, ticket times)";
    }
    return "step 1-3 (parsing the initial token)";
}

/* A string field of the PAC into `out` ("-" when absent). */
static const char *pac_string(const krbap_pac *pac, uint32_t field, char *out, size_t cap) {
    uint32_t minor = 0;
    krbap_buffer v;
    v.length = 0;
    v.value = NULL;
    if (krbap_pac_get_string(&minor, pac, field, &v) == KRBAP_S_COMPLETE) {
        snprintf(out, cap, "%.*s", (int)v.length, v.value != NULL ? (const char *)v.value : "");
    } else {
        snprintf(out, cap, "-");
    }
    free_buffer(&v);
    return out;
}

/* Step 2, what the PAC says (MS-PAC, read through krbap's typed PAC API): how it was
 * verified, who the user is, the user's SIDs and groups, S4U2proxy delegation. */
static void show_pac(const krbap_ctx *ctx) {
    uint32_t minor = 0, verified = 0;
    krbap_pac *pac = NULL;
    krbap_buffer reason;
    char a[512], b[512], c[512];
    size_t n = 0, i;
    uint64_t rid = 0;

    uint32_t major = krbap_ctx_get_pac(&minor, ctx, &pac);
    if (major == KRBAP_S_UNAVAILABLE) {
        return;
    }
    if (MAJOR_IS_ERROR(major)) {
        display_status("PAC unusable", major, minor);
        return;
    }
    reason.length = 0;
    reason.value = NULL;
    (void)krbap_pac_get_verified(&minor, pac, &verified, &reason);
    if (verified == 0) {
        printf("[server]   PAC NOT VERIFIED (accepted only because of -pac-policy "
               "allow-unverified): %.*s\n",
               (int)reason.length, reason.value != NULL ? (const char *)reason.value : "");
    } else {
        printf("[server]   PAC signatures verified: server (service key)%s%s%s\n",
               verified & KRBAP_PAC_KDC_SIGNATURE ? ", KDC" : "",
               verified & KRBAP_PAC_TICKET_SIGNATURE ? ", ticket" : "",
               verified & KRBAP_PAC_FULL_SIGNATURE ? ", full PAC" : "");
    }
    free_buffer(&reason);
    if (krbap_pac_get_number(&minor, pac, KRBAP_PAC_USER_ID, &rid) != KRBAP_S_COMPLETE) {
        printf("[server]   PAC client %s (no LOGON_INFO: not an Active Directory KDC)\n",
               pac_string(pac, KRBAP_PAC_CLIENT_NAME, a, sizeof a));
    } else {
        printf("[server]   PAC user %s\\%s (\"%s\"), SID %s\n",
               pac_string(pac, KRBAP_PAC_LOGON_DOMAIN_NAME, a, sizeof a),
               pac_string(pac, KRBAP_PAC_EFFECTIVE_NAME, b, sizeof b),
               pac_string(pac, KRBAP_PAC_FULL_NAME, c, sizeof c),
               pac_string(pac, KRBAP_PAC_USER_SID, c + 256, sizeof c - 256));
        printf("[server]   PAC UPN %s, DNS domain %s, primary group %s\n",
               pac_string(pac, KRBAP_PAC_UPN, a, sizeof a),
               pac_string(pac, KRBAP_PAC_DNS_DOMAIN, b, sizeof b),
               pac_string(pac, KRBAP_PAC_PRIMARY_GROUP_SID, c, sizeof c));
    }
    (void)krbap_pac_group_count(&minor, pac, &n);
    if (n > 0) {
        printf("[server]   PAC groups (%zu):\n", n);
    }
    for (i = 0; i < n; i++) {
        krbap_buffer sid;
        uint32_t attributes = 0, source = 0;
        sid.length = 0;
        sid.value = NULL;
        if (krbap_pac_get_group(&minor, pac, i, &sid, &attributes, &source) != KRBAP_S_COMPLETE) {
            break;
        }
        printf("[server]     %.*s %s attributes 0x%x%s\n", (int)sid.length,
               (const char *)sid.value,
               source == KRBAP_PAC_GROUP_IDS     ? "(GroupIds)"
               : source == KRBAP_PAC_EXTRA_SIDS ? "(ExtraSids)"
                                                : "(ResourceGroupIds)",
               attributes, attributes & KRBAP_SE_GROUP_RESOURCE ? " [resource group]" : "");
        free_buffer(&sid);
    }
    if (pac_string(pac, KRBAP_PAC_PROXY_TARGET, a, sizeof a)[0] != '-') {
        krbap_buffer t;
        t.length = 0;
        t.value = NULL;
        (void)krbap_pac_get_transited(&minor, pac, 0, &t);
        printf("[server]   PAC S4U2proxy (constrained delegation): for %s, obtained by %.*s\n", a,
               (int)t.length, t.value != NULL ? (const char *)t.value : "-");
        free_buffer(&t);
    }
    krbap_release_pac(&minor, &pac);
}

/* Prints the authorization data of the ticket (the PAC of an MIT or AD KDC). */
static void show_authz(const krbap_ctx *ctx) {
    uint32_t minor = 0;
    size_t count = 0;
    size_t i;
    krbap_buffer pac;

    if (MAJOR_IS_ERROR(krbap_inquire_authz_count(&minor, ctx, &count))) {
        return;
    }
    printf("[server]   authorization data: %zu element%s\n", count, count == 1 ? "" : "s");
    for (i = 0; i < count; i++) {
        int32_t ad_type = 0;
        int32_t from_ticket = 0;
        krbap_buffer data;
        data.length = 0;
        data.value = NULL;
        if (MAJOR_IS_ERROR(
                krbap_inquire_authz_element(&minor, ctx, i, &ad_type, &from_ticket, &data))) {
            break;
        }
        printf("[server]     ad-type %d %s, %zu bytes, from the %s\n", (int)ad_type,
               ad_type_name(ad_type), data.length, from_ticket ? "ticket" : "authenticator");
        free_buffer(&data);
    }
    pac.length = 0;
    pac.value = NULL;
    if (!MAJOR_IS_ERROR(krbap_inquire_pac(&minor, ctx, &pac))) {
        const unsigned char *p = (const unsigned char *)pac.value;
        /* PAC header (MS-PAC §2.3): cBuffers and Version, both little-endian u32. */
        unsigned long buffers = 0;
        if (pac.length >= 8 && p != NULL) {
            buffers = (unsigned long)p[0] | ((unsigned long)p[1] << 8) |
                      ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24);
        }
        printf("[server]   PAC: %zu bytes, %lu buffer%s\n", pac.length, buffers,
               buffers == 1 ? "" : "s");
        free_buffer(&pac);
        show_pac(ctx);
    } else {
        printf("[server]   PAC: none in the ticket\n");
    }
}

/* Establishes the context. Returns 0 (with *ctx NULL for an unauthenticated client) or
 * -1 on failure. */
static int establish_context(int fd, const krbap_cred *cred, const struct server_options *opt,
                             krbap_ctx **ctx) {
    unsigned char *tok = NULL;
    size_t tok_len = 0;
    int flags = 0;
    uint32_t major;
    uint32_t minor = 0;
    uint32_t ret_flags = 0;
    uint32_t time_rec = 0;
    krbap_name *client = NULL;
    krbap_cred *delegated = NULL;
    krbap_buffer in;
    krbap_buffer out;
    char text[512];
    char scratch[32];
    int32_t enctype = 0;
    int64_t endtime = 0;
    krbap_name *server_name = NULL;
    int32_t mech = KRBAP_MECH_KRB5;

    *ctx = NULL;
    if (recv_token(fd, &flags, &tok, &tok_len) != 0) {
        return -1;
    }
    free(tok);
    if (!(flags & TOKEN_NOOP)) {
        fprintf(stderr, "[server] expected a NOOP token, got flags %d instead\n", flags);
        return -1;
    }
    if (!(flags & TOKEN_CONTEXT_NEXT)) {
        printf("[server] the client asked for no authentication\n");
        return 0;
    }

    if (recv_token(fd, &flags, &tok, &tok_len) != 0) {
        return -1;
    }
    if (!(flags & TOKEN_CONTEXT)) {
        fprintf(stderr, "[server] warning: context token has flags %d (expected %d)\n", flags,
                TOKEN_CONTEXT);
    }
    if (is_spnego_token(tok, tok_len)) {
        printf("[server] step 1: received a SPNEGO NegTokenInit (%zu bytes); the KRB_AP_REQ "
               "travels inside it\n",
               tok_len);
    } else {
        printf("[server] step 1: received the initial context token with KRB_AP_REQ "
               "(%zu bytes)\n",
               tok_len);
    }
    if (opt->verbose) {
        print_hex(tok, tok_len);
    }

    /* One accept call per client token: SPNEGO may need more than one (RFC 4178: when
     * Kerberos was not the client's first choice, or for the mechListMIC exchange). */
    for (;;) {
        in.length = tok_len;
        in.value = tok;
        out.length = 0;
        out.value = NULL;
        major = krbap_accept_sec_context(&minor, ctx, cred, &in, NULL, &client, &ret_flags,
                                         &time_rec, &out,
                                         opt->deleg_ccache != NULL ? &delegated : NULL);
        free(tok);
        tok = NULL;
        if (major != KRBAP_S_CONTINUE_NEEDED) {
            break;
        }
        printf("[server] SPNEGO: sending the negotiation answer (%zu bytes), waiting for the "
               "client's next token\n",
               out.length);
        if (send_token(fd, TOKEN_CONTEXT, out.value, out.length) != 0 ||
            recv_token(fd, &flags, &tok, &tok_len) != 0) {
            free_buffer(&out);
            krbap_delete_sec_context(&minor, ctx, NULL);
            return -1;
        }
        free_buffer(&out);
        if (!(flags & TOKEN_CONTEXT)) {
            fprintf(stderr, "[server] warning: context token has flags %d (expected %d)\n",
                    flags, TOKEN_CONTEXT);
        }
        printf("[server] SPNEGO: received the client's next token (%zu bytes)\n", tok_len);
    }

    /* MIT's gss-server sends whatever token accept produced, error tokens included, so
     * that the client learns why (a KRB-ERROR in a GSS token, TOK_ID 03 00). */
    if (MAJOR_IS_ERROR(major)) {
        printf("[server] %s failed\n", failed_step(major, minor));
        display_status("accepting context", major, minor);
        if (out.length > 0) {
            printf("[server] sending %s token to the client (%zu bytes)\n",
                   gss_token_id((const unsigned char *)out.value, out.length) == 0x0300
                       ? "KRB-ERROR"
                       : "SPNEGO reject",
                   out.length);
            if (send_token(fd, TOKEN_CONTEXT, out.value, out.length) == 0 &&
                gss_token_id((const unsigned char *)out.value, out.length) != 0x0300) {
                /* A SPNEGO initiator answers a reject with its own (MIT's gss-client sends
                 * it before reporting the error, and dies of SIGPIPE on a closed
                 * connection): read it before closing. */
                if (recv_token(fd, &flags, &tok, &tok_len) == 0) {
                    printf("[server] the client answered with its own token (%zu bytes)\n",
                           tok_len);
                    free(tok);
                }
            }
        }
        free_buffer(&out);
        krbap_release_name(&minor, &client);
        krbap_release_cred(&minor, &delegated);
        return -1;
    }

    (void)krbap_inquire_mech(&minor, *ctx, &mech);
    if (mech == KRBAP_MECH_SPNEGO) {
        printf("[server] SPNEGO negotiated Kerberos 5\n");
    }
    (void)krbap_inquire_session(&minor, *ctx, &enctype, &endtime);
    (void)krbap_inquire_context(&minor, *ctx, NULL, &server_name, NULL, NULL, NULL, NULL);
    name_to_text(server_name, text, sizeof text);
    krbap_release_name(&minor, &server_name);
    printf("[server] step 2: ticket for %s decrypted with the keytab key\n", text);
    name_to_text(client, text, sizeof text);
    printf("[server]   client %s, session key %s\n", text,
           enctype_name(enctype, scratch, sizeof scratch));
    format_time(endtime, text, sizeof text);
    printf("[server]   ticket valid until %s (context lifetime %u s)\n", text, (unsigned)time_rec);
    show_authz(*ctx);
    printf("[server] step 3: authenticator decrypted with the session key and checked: "
           "same client as the ticket, clock skew within %lld s, replay cache %s\n",
           opt->skew >= 0 ? opt->skew : 300LL, opt->rcache_name);
    if (ret_flags & KRBAP_C_MUTUAL_FLAG) {
        printf("[server] step 4: mutual authentication requested\n");
        printf("[server] step 5: sending KRB_AP_REP%s (%zu bytes)\n",
               mech == KRBAP_MECH_SPNEGO ? " inside the SPNEGO answer" : "", out.length);
    } else {
        printf("[server] step 4: mutual authentication not requested\n");
        printf("[server] step 5: no KRB_AP_REP to send (the client did not ask to verify us)\n");
        if (out.length > 0) {
            printf("[server] SPNEGO: sending the final negotiation answer (%zu bytes)\n",
                   out.length);
        }
    }
    if (out.length > 0) {
        if (opt->verbose) {
            print_hex((const unsigned char *)out.value, out.length);
        }
        if (send_token(fd, TOKEN_CONTEXT, out.value, out.length) != 0) {
            free_buffer(&out);
            krbap_release_name(&minor, &client);
            krbap_release_cred(&minor, &delegated);
            krbap_delete_sec_context(&minor, ctx, NULL);
            return -1;
        }
    }
    free_buffer(&out);

    display_ctx_flags("[server]", ret_flags);
    name_to_text(client, text, sizeof text);
    printf("Accepted connection: \"%s\"\n", text);
    krbap_release_name(&minor, &client);

    if (ret_flags & KRBAP_C_DELEG_FLAG) {
        if (delegated != NULL && opt->deleg_ccache != NULL) {
            major = krbap_store_cred(&minor, delegated, opt->deleg_ccache);
            if (MAJOR_IS_ERROR(major)) {
                display_status("storing delegated credentials", major, minor);
            } else {
                printf("[server] delegated credentials stored in %s\n", opt->deleg_ccache);
            }
        } else {
            printf("[server] the client delegated credentials (not kept: use -deleg-ccache)\n");
        }
    }
    krbap_release_cred(&minor, &delegated);
    return 0;
}

/* Serves one connection. Returns 0 when the client ended it properly, -1 otherwise. */
static int serve(int fd, const krbap_cred *cred, const struct server_options *opt) {
    krbap_ctx *ctx = NULL;
    uint32_t minor = 0;
    int status = -1;

    if (establish_context(fd, cred, opt, &ctx) != 0) {
        return -1;
    }
    for (;;) {
        unsigned char *tok = NULL;
        size_t tok_len = 0;
        int flags = 0;
        krbap_buffer in;
        krbap_buffer plain;
        krbap_buffer mic;
        const unsigned char *msg;
        size_t msg_len;
        uint32_t major;
        int send_ok;

        if (recv_token(fd, &flags, &tok, &tok_len) != 0) {
            break;
        }
        if (flags & TOKEN_NOOP) {
            printf("[server] NOOP token: the client is done\n");
            free(tok);
            status = 0;
            break;
        }
        if (opt->verbose) {
            printf("[server] message token (flags=%d, %zu bytes):\n", flags, tok_len);
            print_hex(tok, tok_len);
        }
        if (ctx == NULL && (flags & (TOKEN_WRAPPED | TOKEN_ENCRYPTED | TOKEN_SEND_MIC))) {
            fprintf(stderr, "[server] unauthenticated client requested authenticated services\n");
            free(tok);
            break;
        }
        plain.length = 0;
        plain.value = NULL;
        if (flags & TOKEN_WRAPPED) {
            int32_t conf_state = 0;
            in.length = tok_len;
            in.value = tok;
            major = krbap_unwrap(&minor, ctx, &in, &plain, &conf_state, NULL);
            free(tok);
            tok = NULL;
            if (major != KRBAP_S_COMPLETE) {
                display_status("unsealing message", major, minor);
                free_buffer(&plain);
                break;
            }
            if (!conf_state && (flags & TOKEN_ENCRYPTED)) {
                fprintf(stderr, "Warning!  Message not encrypted.\n");
            }
            msg = (const unsigned char *)plain.value;
            msg_len = plain.length;
        } else {
            msg = tok;
            msg_len = tok_len;
        }
        print_message("Received message", msg, msg_len);

        if (flags & TOKEN_SEND_MIC) {
            mic.length = 0;
            mic.value = NULL;
            in.length = msg_len;
            in.value = (void *)msg;
            major = krbap_get_mic(&minor, ctx, 0, &in, &mic);
            if (MAJOR_IS_ERROR(major)) {
                display_status("signing message", major, minor);
                free(tok);
                free_buffer(&plain);
                break;
            }
            send_ok = send_token(fd, TOKEN_MIC, mic.value, mic.length);
            free_buffer(&mic);
        } else {
            send_ok = send_token(fd, TOKEN_NOOP, "", 0);
        }
        free(tok);
        free_buffer(&plain);
        if (send_ok != 0) {
            break;
        }
    }
    if (ctx != NULL) {
        krbap_delete_sec_context(&minor, &ctx, NULL);
    }
    return status;
}

/* Parses a byte count with an optional K, M or G suffix (powers of 1024). 0 or -1. */
static int parse_bytes(const char *text, long long *out) {
    char digits[32];
    size_t n = strlen(text);
    int shift = 0;
    if (n == 0 || n >= sizeof digits) {
        return -1;
    }
    memcpy(digits, text, n + 1);
    switch (digits[n - 1]) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    default: break;
    }
    if (shift != 0) {
        digits[n - 1] = '\0';
    }
    if (parse_long(digits, 0, 0x7fffffffffffffffLL >> shift, out) != 0) {
        return -1;
    }
    *out <<= shift;
    return 0;
}

/* The memory replay cache's counters, one line (-rcache-stats). */
static void print_rcache_stats(const krbap_cred *cred) {
    uint32_t minor = 0;
    krbap_replay_cache_stats st;
    if (MAJOR_IS_ERROR(krbap_cred_replay_cache_stats(&minor, cred, &st))) {
        printf("[server] replay cache: no counters (not a memory: cache)\n");
        return;
    }
    printf("[server] replay cache: %llu entries, %llu of %llu bytes (cap), %llu stored, "
           "%llu replays refused, %llu refused at the cap\n",
           (unsigned long long)st.entries, (unsigned long long)st.bytes,
           (unsigned long long)st.max_bytes, (unsigned long long)st.stored,
           (unsigned long long)st.replays, (unsigned long long)st.rejected_full);
}

static void parse_args(int argc, char **argv, struct server_options *opt) {
    int i;
    memset(opt, 0, sizeof *opt);
    opt->port = DEFAULT_PORT;
    opt->skew = -1;
    opt->pac_policy = -1;
    opt->rcache_max_bytes = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-port") == 0 && has_value) {
            if (parse_port(argv[++i], &opt->port) != 0) {
                usage();
            }
        } else if (strcmp(a, "-once") == 0) {
            opt->once = 1;
        } else if (strcmp(a, "-verbose") == 0) {
            opt->verbose = 1;
        } else if (strcmp(a, "-keytab") == 0 && has_value) {
            opt->keytab = argv[++i];
        } else if (strcmp(a, "-rcache") == 0 && has_value) {
            opt->rcache = argv[++i];
        } else if (strcmp(a, "-rcache-max-bytes") == 0 && has_value) {
            if (parse_bytes(argv[++i], &opt->rcache_max_bytes) != 0) {
                fprintf(stderr, "invalid -rcache-max-bytes value\n");
                usage();
            }
        } else if (strcmp(a, "-rcache-stats") == 0) {
            opt->rcache_stats = 1;
        } else if (strcmp(a, "-skew") == 0 && has_value) {
            if (parse_long(argv[++i], 0, 100LL * 365 * 86400, &opt->skew) != 0) {
                fprintf(stderr, "invalid -skew value\n");
                usage();
            }
        } else if (strcmp(a, "-time") == 0 && has_value) {
            if (parse_long(argv[++i], 1, 0x7fffffffffffLL, &opt->fixed_time) != 0) {
                fprintf(stderr, "invalid -time value\n");
                usage();
            }
        } else if (strcmp(a, "-deleg-ccache") == 0 && has_value) {
            opt->deleg_ccache = argv[++i];
        } else if (strcmp(a, "-pac-kdc-keytab") == 0 && has_value) {
            opt->pac_kdc_keytab = argv[++i];
        } else if (strcmp(a, "-pac-policy") == 0 && has_value) {
            const char *p = argv[++i];
            opt->pac_policy = strcmp(p, "verify") == 0             ? (int)KRBAP_PAC_VERIFY
                              : strcmp(p, "require") == 0          ? (int)KRBAP_PAC_REQUIRE
                              : strcmp(p, "allow-unverified") == 0 ? (int)KRBAP_PAC_ALLOW_UNVERIFIED
                                                                   : -2;
            if (opt->pac_policy == -2) {
                fprintf(stderr, "invalid -pac-policy value\n");
                usage();
            }
        } else if (strcmp(a, "-inetd") == 0 || strcmp(a, "-export") == 0 ||
                   strcmp(a, "-logfile") == 0 || strcmp(a, "-iakerb") == 0) {
            fprintf(stderr, "krbap-server: %s is not supported (only the raw krb5 mechanism over TCP)\n",
                    a);
            exit(1);
        } else if (a[0] == '-') {
            fprintf(stderr, "krbap-server: unknown or incomplete option %s\n", a);
            usage();
        } else if (opt->service_name == NULL && i + 1 == argc) {
            opt->service_name = a;
        } else {
            usage();
        }
    }
}

int main(int argc, char **argv) {
    struct server_options opt;
    uint32_t major;
    uint32_t minor = 0;
    krbap_name *name = NULL;
    krbap_cred *cred = NULL;
    int listener;
    int last_status = 0;

    parse_args(argc, argv, &opt);
    ignore_sigpipe();
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (opt.service_name != NULL) {
        krbap_buffer nb;
        nb.length = strlen(opt.service_name);
        nb.value = (void *)opt.service_name;
        major = krbap_import_name(&minor, &nb, KRBAP_NT_HOSTBASED_SERVICE, &name);
        if (MAJOR_IS_ERROR(major)) {
            display_status("importing name", major, minor);
            return 1;
        }
    }
    major = krbap_acquire_cred(&minor, name, KRBAP_C_ACCEPT, opt.keytab, &cred, NULL);
    krbap_release_name(&minor, &name);
    if (MAJOR_IS_ERROR(major)) {
        display_status("acquiring credentials", major, minor);
        return 1;
    }
    if (opt.rcache != NULL) {
        major = krbap_cred_set_replay_cache(&minor, cred, opt.rcache);
        if (MAJOR_IS_ERROR(major)) {
            display_status("setting the replay cache", major, minor);
            krbap_release_cred(&minor, &cred);
            return 1;
        }
    }
    if (opt.rcache_max_bytes >= 0) {
        major = krbap_cred_set_replay_cache_max_bytes(&minor, cred, (uint64_t)opt.rcache_max_bytes);
        if (MAJOR_IS_ERROR(major)) {
            display_status("setting the replay cache's cap", major, minor);
            krbap_release_cred(&minor, &cred);
            return 1;
        }
    }
    if (opt.skew >= 0) {
        major = krbap_cred_set_clock_skew(&minor, cred, (int64_t)opt.skew);
        if (MAJOR_IS_ERROR(major)) {
            display_status("setting the clock skew", major, minor);
            krbap_release_cred(&minor, &cred);
            return 1;
        }
    }
    if (opt.pac_policy >= 0) {
        (void)krbap_cred_set_pac_policy(&minor, cred, (uint32_t)opt.pac_policy);
    }
    if (opt.pac_kdc_keytab != NULL) {
        major = krbap_cred_set_pac_kdc_keytab(&minor, cred, opt.pac_kdc_keytab);
        if (MAJOR_IS_ERROR(major)) {
            display_status("reading the KDC keytab", major, minor);
            krbap_release_cred(&minor, &cred);
            return 1;
        }
    }
    if (opt.fixed_time != 0) {
        char when[64];
        (void)krbap_cred_set_time(&minor, cred, (int64_t)opt.fixed_time);
        format_time(opt.fixed_time, when, sizeof when);
        printf("[server] clock fixed at %s\n", when);
    }
    {
        krbap_buffer rc_name;
        rc_name.length = 0;
        rc_name.value = NULL;
        snprintf(opt.rcache_name, sizeof opt.rcache_name, "%s", "?");
        if (!MAJOR_IS_ERROR(krbap_cred_inquire_replay_cache(&minor, cred, &rc_name))) {
            snprintf(opt.rcache_name, sizeof opt.rcache_name, "%.*s", (int)rc_name.length,
                     rc_name.value != NULL ? (const char *)rc_name.value : "");
            free_buffer(&rc_name);
        }
    }
    printf("[server] keytab %s, service %s, replay cache %s, krbap %s\n",
           opt.keytab ? opt.keytab : "(default)",
           opt.service_name ? opt.service_name : "(any key in the keytab)", opt.rcache_name,
           krbap_version());

    listener = create_listener(opt.port);
    if (listener < 0) {
        krbap_release_cred(&minor, &cred);
        return 1;
    }
    fprintf(stderr, "starting...\n");
    do {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno != EINTR) {
                perror("accepting connection");
            }
            continue;
        }
        set_io_timeouts(fd);
        last_status = serve(fd, cred, &opt);
        close(fd);
        printf("[server] connection closed%s\n", last_status == 0 ? "" : " after an error");
        if (opt.rcache_stats) {
            print_rcache_stats(cred);
        }
    } while (!opt.once);
    close(listener);
    krbap_release_cred(&minor, &cred);
    return last_status == 0 ? 0 : 1;
}
