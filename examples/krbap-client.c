/*
 * krbap-client: a client speaking the protocol of MIT krb5's gss-client
 * (src/appl/gss-sample), built on krbap. It interoperates with MIT's gss-server and
 * with krbap-server, and narrates its side of the AP exchange (RFC 4120 §3.2):
 * step 1 (KRB_AP_REQ out) and step 6 (KRB_AP_REP checked); steps 2-5 are the server's.
 * With -spnego the exchange travels inside SPNEGO (RFC 4178), as gss-client -spnego.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct client_options {
    unsigned short port;
    uint32_t req_flags;
    int use_file;
    int ccount;
    int mcount;
    int auth;
    int wrap;
    int encrypt;
    int mic;
    int verbose;
    int32_t mech;
    const char *ccache;
    const char *client_keytab;
    long long fixed_time;
    const char *host;
    const char *service;
    const char *msg;
};

static void usage(void) {
    fprintf(stderr,
            "Usage: krbap-client [-port port] [-krb5 | -spnego] [-d] [-seq] [-noreplay]\n"
            "                    [-nomutual] [-f] [-q]\n"
            "                    [-ccount count] [-mcount count] [-na] [-nw] [-nx] [-nm]\n"
            "                    [-ccache FILE] [-client-keytab FILE] [-time UNIX]\n"
            "                    host service@host msg\n"
            "  -spnego       wrap the Kerberos exchange in SPNEGO (RFC 4178), as MIT's -spnego;\n"
            "                -krb5 (the default): raw RFC 4121 tokens\n"
            "  -d            delegate: send the server a forwarded TGT (needs a forwardable TGT)\n"
            "  -ccache FILE  use this credential cache (default: KRB5CCNAME, /tmp/krb5cc_UID);\n"
            "                a missing service ticket is fetched from the KDC and stored there\n"
            "  -client-keytab FILE  get the TGT with this keytab when the ccache has none\n"
            "                (default: KRB5_CLIENT_KTNAME)\n"
            "  -time UNIX    fix the client's clock (for demos with captured tickets)\n");
    exit(1);
}

static uint32_t free_buffer(krbap_buffer *b) {
    uint32_t minor = 0;
    return krbap_buffer_free(&minor, b);
}

/* Reads the message file (-f), bounded so that its Wrap token fits in a frame. */
static int read_message_file(const char *path, unsigned char **data, size_t *length) {
    struct stat st;
    unsigned char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "Couldn't open file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (unsigned long long)st.st_size > MAX_TOKEN_LENGTH - 4096u) {
        fprintf(stderr, "%s: not a regular file of at most %u bytes\n", path,
                MAX_TOKEN_LENGTH - 4096u);
        close(fd);
        return -1;
    }
    buf = (unsigned char *)malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *length = got;
    return 0;
}

/* Prints what MIT's gss-client prints with its default verbosity, plus the session. */
static void show_context(const krbap_ctx *ctx) {
    uint32_t minor = 0;
    krbap_name *src = NULL;
    krbap_name *targ = NULL;
    uint32_t lifetime = 0;
    uint32_t flags = 0;
    int32_t local = 0;
    int32_t open = 0;
    char sname[256];
    char tname[256];
    uint32_t major =
        krbap_inquire_context(&minor, ctx, &src, &targ, &lifetime, &flags, &local, &open);
    if (MAJOR_IS_ERROR(major)) {
        display_status("inquiring context", major, minor);
        return;
    }
    name_to_text(src, sname, sizeof sname);
    name_to_text(targ, tname, sizeof tname);
    printf("\"%s\" to \"%s\", lifetime %u, flags %x, %s, %s\n", sname, tname, (unsigned)lifetime,
           (unsigned)flags, local ? "locally initiated" : "remotely initiated",
           open ? "open" : "closed");
    krbap_release_name(&minor, &src);
    krbap_release_name(&minor, &targ);
}

/* Context establishment. Returns 0 with *ctx set (left NULL with -na, when no
 * authentication is wanted), or -1. */
static int establish_context(int fd, const struct client_options *opt, krbap_ctx **ctx) {
    uint32_t major;
    uint32_t minor = 0;
    krbap_name *target = NULL;
    krbap_cred *cred = NULL;
    krbap_buffer nb;
    krbap_buffer out;
    krbap_buffer in;
    uint32_t ret_flags = 0;
    char text[256];
    char scratch[32];
    int32_t enctype = 0;
    int64_t endtime = 0;
    unsigned char *tok = NULL;
    size_t tok_len = 0;
    int tok_flags = 0;
    int result = -1;
    int spnego = opt->mech == KRBAP_MECH_SPNEGO;

    *ctx = NULL;
    if (!opt->auth) {
        printf("[client] no authentication (-na)\n");
        return send_token(fd, TOKEN_NOOP, "", 0);
    }

    nb.length = strlen(opt->service);
    nb.value = (void *)opt->service;
    major = krbap_import_name(&minor, &nb, KRBAP_NT_HOSTBASED_SERVICE, &target);
    if (MAJOR_IS_ERROR(major)) {
        display_status("parsing name", major, minor);
        return -1;
    }
    {
        /* The credential store of MIT's gss_acquire_cred_from: only what was given. */
        krbap_cred_store_element store[2];
        size_t n = 0;
        if (opt->ccache != NULL) {
            store[n].key = "ccache";
            store[n].value = opt->ccache;
            n++;
        }
        if (opt->client_keytab != NULL) {
            store[n].key = "client_keytab";
            store[n].value = opt->client_keytab;
            n++;
        }
        major = krbap_acquire_cred_from(&minor, NULL, KRBAP_C_INITIATE, store, n, &cred, NULL);
    }
    if (MAJOR_IS_ERROR(major)) {
        display_status("acquiring creds", major, minor);
        goto done;
    }
    if (opt->fixed_time != 0) {
        (void)krbap_cred_set_time(&minor, cred, (int64_t)opt->fixed_time);
    }

    if (send_token(fd, TOKEN_NOOP | TOKEN_CONTEXT_NEXT, "", 0) != 0) {
        goto done;
    }

    out.length = 0;
    out.value = NULL;
    major = krbap_init_sec_context_mech(&minor, cred, ctx, target, opt->mech, opt->req_flags, NULL,
                                        NULL, &ret_flags, NULL, &out);
    if (MAJOR_IS_ERROR(major)) {
        printf("[client] step 1 failed: no KRB_AP_REQ could be built\n");
        display_status("initializing context", major, minor);
        free_buffer(&out);
        goto done;
    }
    name_to_text(target, text, sizeof text);
    (void)krbap_inquire_session(&minor, *ctx, &enctype, &endtime);
    printf("[client] step 1: sending KRB_AP_REQ (%zu bytes%s) to %s, mutual authentication %s\n",
           out.length, spnego ? ", inside a SPNEGO NegTokenInit" : "", text,
           (opt->req_flags & KRBAP_C_MUTUAL_FLAG) ? "requested" : "not requested");
    format_time(endtime, text, sizeof text);
    printf("[client]   service ticket session key %s, ticket valid until %s\n",
           enctype_name(enctype, scratch, sizeof scratch), text);
    if (opt->verbose > 1) {
        print_hex((const unsigned char *)out.value, out.length);
    }
    if (send_token(fd, TOKEN_CONTEXT, out.value, out.length) != 0) {
        free_buffer(&out);
        goto done;
    }
    free_buffer(&out);

    /* As MIT's gss-client: call again with each server token while CONTINUE_NEEDED, and
     * send whatever the call produced (SPNEGO's last mechListMIC comes with COMPLETE). */
    while (major == KRBAP_S_CONTINUE_NEEDED) {
        if (spnego) {
            printf("[client] steps 2-5 happen at the server; waiting for its SPNEGO answer\n");
        } else {
            printf("[client] steps 2-5 happen at the server; waiting for its KRB_AP_REP\n");
        }
        if (recv_token(fd, &tok_flags, &tok, &tok_len) != 0) {
            printf("[client] step 6 failed: no reply from the server\n");
            goto done;
        }
        in.length = tok_len;
        in.value = tok;
        out.length = 0;
        out.value = NULL;
        major = krbap_init_sec_context_mech(&minor, cred, ctx, target, opt->mech, opt->req_flags,
                                            NULL, &in, &ret_flags, NULL, &out);
        if (MAJOR_IS_ERROR(major)) {
            free_buffer(&out);
            if (gss_token_id(tok, tok_len) == 0x0300) {
                printf("[client] step 6 failed: the server rejected our KRB_AP_REQ and "
                       "replied with a KRB-ERROR (%zu bytes)\n",
                       tok_len);
            } else if (spnego) {
                printf("[client] step 6 failed: the server's SPNEGO answer (%zu bytes) ends "
                       "the negotiation\n",
                       tok_len);
            } else {
                printf("[client] step 6 failed: the server's reply (%zu bytes) is not a valid "
                       "KRB_AP_REP\n",
                       tok_len);
            }
            free(tok);
            display_status("initializing context", major, minor);
            goto done;
        }
        free(tok);
        tok = NULL;
        if (!spnego) {
            printf("[client] step 6: KRB_AP_REP (%zu bytes) decrypted with the session key, "
                   "times match: server is genuine\n",
                   tok_len);
        } else if (opt->req_flags & KRBAP_C_MUTUAL_FLAG) {
            printf("[client] step 6: the server's SPNEGO answer (%zu bytes) accepted; its "
                   "KRB_AP_REP decrypted with the session key, times match: server is genuine\n",
                   tok_len);
        } else {
            printf("[client] SPNEGO: the server's answer (%zu bytes) completes the "
                   "negotiation\n",
                   tok_len);
        }
        if (out.length > 0) {
            printf("[client] SPNEGO: sending our mechListMIC (%zu bytes)\n", out.length);
            if (send_token(fd, TOKEN_CONTEXT, out.value, out.length) != 0) {
                free_buffer(&out);
                goto done;
            }
        }
        free_buffer(&out);
    }
    if (!(opt->req_flags & KRBAP_C_MUTUAL_FLAG)) {
        printf("[client] step 6: skipped (no mutual authentication: the server is not "
               "proven to us)\n");
    }
    if (opt->req_flags & KRBAP_C_DELEG_FLAG) {
        printf("[client] delegation %s\n",
               (ret_flags & KRBAP_C_DELEG_FLAG)
                   ? "done: a forwarded TGT went to the server in the authenticator"
                   : "requested but not done (the TGT is not forwardable, or the KDC refused)");
    }
    display_ctx_flags("[client]", ret_flags);
    show_context(*ctx);
    result = 0;

done:
    if (result != 0 && *ctx != NULL) {
        krbap_delete_sec_context(&minor, ctx, NULL);
    }
    krbap_release_cred(&minor, &cred);
    krbap_release_name(&minor, &target);
    return result;
}

static int call_server(const struct client_options *opt, const unsigned char *msg,
                       size_t msg_len) {
    krbap_ctx *ctx = NULL;
    uint32_t minor = 0;
    int i;
    int result = -1;
    int fd = connect_to_server(opt->host, opt->port);
    if (fd < 0) {
        return -1;
    }
    if (establish_context(fd, opt, &ctx) != 0) {
        close(fd);
        return -1;
    }
    for (i = 0; i < opt->mcount; i++) {
        krbap_buffer in;
        krbap_buffer wrapped;
        const void *send_data = msg;
        size_t send_len = msg_len;
        unsigned char *tok = NULL;
        size_t tok_len = 0;
        int tok_flags = 0;
        uint32_t major;
        int flags = TOKEN_DATA | (opt->wrap ? TOKEN_WRAPPED : 0) |
                    (opt->encrypt ? TOKEN_ENCRYPTED : 0) | (opt->mic ? TOKEN_SEND_MIC : 0);

        in.length = msg_len;
        in.value = (void *)msg;
        wrapped.length = 0;
        wrapped.value = NULL;
        if (opt->wrap) {
            int32_t conf_state = 0;
            major = krbap_wrap(&minor, ctx, opt->encrypt, 0, &in, &conf_state, &wrapped);
            if (MAJOR_IS_ERROR(major)) {
                display_status("wrapping message", major, minor);
                goto out;
            }
            if (opt->encrypt && !conf_state) {
                fprintf(stderr, "Warning!  Message not encrypted.\n");
            }
            send_data = wrapped.value;
            send_len = wrapped.length;
        }
        if (send_token(fd, flags, send_data, send_len) != 0) {
            free_buffer(&wrapped);
            goto out;
        }
        free_buffer(&wrapped);
        if (recv_token(fd, &tok_flags, &tok, &tok_len) != 0) {
            goto out;
        }
        if (opt->mic) {
            krbap_buffer mic;
            mic.length = tok_len;
            mic.value = tok;
            major = krbap_verify_mic(&minor, ctx, &in, &mic, NULL);
            free(tok);
            if (major != KRBAP_S_COMPLETE) {
                display_status("verifying signature", major, minor);
                goto out;
            }
            if (opt->verbose) {
                printf("Signature verified.\n");
            }
        } else {
            free(tok);
            if (opt->verbose) {
                printf("Response received.\n");
            }
        }
    }
    (void)send_token(fd, TOKEN_NOOP, "", 0);
    result = 0;
out:
    if (ctx != NULL) {
        krbap_delete_sec_context(&minor, &ctx, NULL);
    }
    close(fd);
    return result;
}

static void parse_args(int argc, char **argv, struct client_options *opt) {
    int i;
    long long v;
    memset(opt, 0, sizeof *opt);
    opt->port = DEFAULT_PORT;
    /* MIT's gss-client defaults: mutual authentication and replay detection. */
    opt->req_flags = KRBAP_C_MUTUAL_FLAG | KRBAP_C_REPLAY_FLAG;
    opt->ccount = 1;
    opt->mcount = 1;
    opt->auth = opt->wrap = opt->encrypt = opt->mic = 1;
    opt->verbose = 1;
    opt->mech = KRBAP_MECH_KRB5;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-port") == 0 && has_value) {
            if (parse_port(argv[++i], &opt->port) != 0) {
                usage();
            }
        } else if (strcmp(a, "-d") == 0) {
            opt->req_flags |= KRBAP_C_DELEG_FLAG;
        } else if (strcmp(a, "-seq") == 0) {
            opt->req_flags |= KRBAP_C_SEQUENCE_FLAG;
        } else if (strcmp(a, "-noreplay") == 0) {
            opt->req_flags &= ~(uint32_t)KRBAP_C_REPLAY_FLAG;
        } else if (strcmp(a, "-nomutual") == 0) {
            opt->req_flags &= ~(uint32_t)KRBAP_C_MUTUAL_FLAG;
        } else if (strcmp(a, "-f") == 0) {
            opt->use_file = 1;
        } else if (strcmp(a, "-q") == 0) {
            opt->verbose = 0;
        } else if (strcmp(a, "-v") == 0) {
            opt->verbose = 2;
        } else if (strcmp(a, "-ccount") == 0 && has_value) {
            if (parse_long(argv[++i], 1, 1000000, &v) != 0) {
                usage();
            }
            opt->ccount = (int)v;
        } else if (strcmp(a, "-mcount") == 0 && has_value) {
            if (parse_long(argv[++i], 0, 1000000, &v) != 0) {
                usage();
            }
            opt->mcount = (int)v;
        } else if (strcmp(a, "-na") == 0) {
            opt->auth = opt->wrap = opt->encrypt = opt->mic = 0;
        } else if (strcmp(a, "-nw") == 0) {
            opt->wrap = 0;
        } else if (strcmp(a, "-nx") == 0) {
            opt->encrypt = 0;
        } else if (strcmp(a, "-nm") == 0) {
            opt->mic = 0;
        } else if (strcmp(a, "-ccache") == 0 && has_value) {
            opt->ccache = argv[++i];
        } else if (strcmp(a, "-client-keytab") == 0 && has_value) {
            opt->client_keytab = argv[++i];
        } else if (strcmp(a, "-time") == 0 && has_value) {
            if (parse_long(argv[++i], 1, 0x7fffffffffffLL, &opt->fixed_time) != 0) {
                usage();
            }
        } else if (strcmp(a, "-krb5") == 0) {
            opt->mech = KRBAP_MECH_KRB5;
        } else if (strcmp(a, "-spnego") == 0) {
            opt->mech = KRBAP_MECH_SPNEGO;
        } else if (strcmp(a, "-mech") == 0 || strcmp(a, "-iakerb") == 0 ||
                   strcmp(a, "-v1") == 0 || strcmp(a, "-user") == 0 ||
                   strcmp(a, "-pass") == 0) {
            fprintf(stderr,
                    "krbap-client: %s is not supported: krbap speaks the krb5 mechanism "
                    "(RFC 4121, or inside SPNEGO with -spnego) with the v2 sample framing, from "
                    "a ccache or a client keytab\n",
                    a);
            exit(1);
        } else {
            fprintf(stderr, "krbap-client: unknown or incomplete option %s\n", a);
            usage();
        }
    }
    if (argc - i != 3) {
        usage();
    }
    opt->host = argv[i];
    opt->service = argv[i + 1];
    opt->msg = argv[i + 2];
}

int main(int argc, char **argv) {
    struct client_options opt;
    unsigned char *file_data = NULL;
    const unsigned char *msg;
    size_t msg_len;
    int i;
    int status = 0;

    parse_args(argc, argv, &opt);
    ignore_sigpipe();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (opt.use_file) {
        if (read_message_file(opt.msg, &file_data, &msg_len) != 0) {
            return 1;
        }
        msg = file_data;
    } else {
        msg = (const unsigned char *)opt.msg;
        msg_len = strlen(opt.msg);
    }
    for (i = 0; i < opt.ccount; i++) {
        if (call_server(&opt, msg, msg_len) != 0) {
            status = 1;
            break;
        }
    }
    free(file_data);
    return status;
}
