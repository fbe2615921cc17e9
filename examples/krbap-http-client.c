/*
 * krbap-http-client: fetches a URL protected by HTTP Negotiate (RFC 4559) with krbap
 * as the initiator, and verifies the server's final token (mutual authentication).
 *
 *   1. GET without credentials (unless -preemptive); a 401 must offer Negotiate.
 *   2. GET with Authorization: Negotiate <initial token> (SPNEGO by default, -mech krb5
 *      for a raw Kerberos token), for the service HTTP@<host of the URL>.
 *   3. A 401 carrying a token continues the exchange on the same keep-alive connection
 *      (the token goes to krbap_init_sec_context; a SPNEGO reject or a KRB-ERROR ends it
 *      with the reason); a 2xx ends it: its token is processed before the body is
 *      trusted, and with mutual authentication a 2xx without the token that completes
 *      the context is a failure.
 *
 * Prints "status N", "mutual authentication verified" (or "... not requested"), then the
 * body; exits 0 only after a 2xx with every token verified.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"
#include "http_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_LEGS 8
#define MAX_BODY (1024 * 1024)
#define TIMEOUT_MS 30000

struct options {
    const char *url;
    const char *service;
    const char *ccache;
    int32_t mech; /* KRBAP_MECH_* */
    int mutual;
    int preemptive;
    int verbose;
};

struct url {
    char host[256];
    unsigned short port;
    char path[2048];
};

struct response {
    int status;
    int keep_alive;
    char *negotiate; /* the WWW-Authenticate Negotiate value (malloc'ed), or NULL */
    int negotiate_seen;
    char *body; /* malloc'ed, NUL-terminated */
    size_t body_len;
};

static struct options opt;

static void usage(void) {
    fprintf(stderr,
            "Usage: krbap-http-client [-mech spnego|krb5] [-nomutual] [-preemptive]\n"
            "                         [-service SERVICE@HOST] [-ccache FILE] [-verbose] URL\n"
            "  URL                 http://host[:port]/path (the service is HTTP@host)\n"
            "  -mech               SPNEGO (default, as browsers send it) or a raw krb5 token\n"
            "  -nomutual           do not ask for mutual authentication\n"
            "  -preemptive         send the token with the first request (as curl does)\n"
            "  -ccache FILE        initiator credentials (default: KRB5CCNAME)\n");
    exit(2);
}

static int parse_url(const char *text, struct url *u) {
    const char *p;
    const char *host_end;
    const char *path;
    size_t n;
    if (strncasecmp(text, "http://", 7) != 0) {
        fprintf(stderr, "only http:// URLs are supported: %s\n", text);
        return -1;
    }
    p = text + 7;
    path = strchr(p, '/');
    if (path == NULL) {
        path = p + strlen(p);
    }
    host_end = memchr(p, ':', (size_t)(path - p));
    u->port = 80;
    if (host_end != NULL) {
        char port[8];
        n = (size_t)(path - host_end - 1);
        if (n == 0 || n >= sizeof port) {
            return -1;
        }
        memcpy(port, host_end + 1, n);
        port[n] = '\0';
        if (parse_port(port, &u->port) != 0) {
            return -1;
        }
    } else {
        host_end = path;
    }
    n = (size_t)(host_end - p);
    if (n == 0 || n >= sizeof u->host) {
        return -1;
    }
    memcpy(u->host, p, n);
    u->host[n] = '\0';
    snprintf(u->path, sizeof u->path, "%s", *path != '\0' ? path : "/");
    return 0;
}

static void free_response(struct response *r) {
    free(r->negotiate);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Reads a chunked body (RFC 9112 §7.1) into r->body. */
static int read_chunked(int fd, char *buf, size_t *len, struct response *r, int64_t deadline) {
    char line[256];
    for (;;) {
        char *end = NULL;
        unsigned long size;
        if (http_read_line(fd, buf, len, line, sizeof line, deadline) != 0) {
            return -1;
        }
        errno = 0;
        size = strtoul(line, &end, 16);
        if (end == line || errno != 0 || (*end != '\0' && *end != ';')) {
            fprintf(stderr, "bad chunk size line\n");
            return -1;
        }
        if (size == 0) {
            /* Trailer fields, then the empty line. */
            do {
                if (http_read_line(fd, buf, len, line, sizeof line, deadline) != 0) {
                    return -1;
                }
            } while (line[0] != '\0');
            return 0;
        }
        if (size > MAX_BODY - r->body_len) {
            fprintf(stderr, "response body over %d bytes\n", MAX_BODY);
            return -1;
        }
        if (http_read_exact(fd, buf, len, r->body + r->body_len, size, deadline) != 0 ||
            http_read_line(fd, buf, len, line, sizeof line, deadline) != 0 || line[0] != '\0') {
            return -1;
        }
        r->body_len += size;
    }
}

/* Reads one response (head and body) from fd. */
static int read_response(int fd, char *buf, size_t *len, struct response *r) {
    struct http_head h;
    const char *why = NULL;
    long head;
    size_t i;
    char *v;
    int64_t deadline = now_ms() + TIMEOUT_MS;
    int minor_version;
    char *rest;
    size_t rest_len;

    memset(r, 0, sizeof *r);
    head = http_read_head(fd, buf, HTTP_MAX_HEAD, len, TIMEOUT_MS, TIMEOUT_MS);
    if (head <= 0) {
        fprintf(stderr, "no response from the server (%s)\n",
                head == 0 ? "connection closed" : head == -2 ? "timeout" : head == -3 ? "head too large" : "read error");
        return -1;
    }
    if (http_parse_head(buf, (size_t)head, &h, &why) != 0) {
        fprintf(stderr, "malformed response head: %s\n", why);
        return -1;
    }
    if (sscanf(h.start_line, "HTTP/1.%d %d", &minor_version, &r->status) != 2 || r->status < 100 ||
        r->status > 599) {
        fprintf(stderr, "malformed status line: %.80s\n", h.start_line);
        return -1;
    }
    r->keep_alive = minor_version >= 1;
    v = http_field(&h, "Connection", NULL);
    if (v != NULL && http_list_has(v, "close")) {
        r->keep_alive = 0;
    } else if (v != NULL && http_list_has(v, "keep-alive")) {
        r->keep_alive = 1;
    }
    /* WWW-Authenticate may come as several fields, each a list of challenges. */
    for (i = 0; i < h.count; i++) {
        uint32_t major;
        uint32_t minor = 0;
        krbap_buffer tok = {0, NULL};
        if (strcasecmp(h.fields[i].name, "WWW-Authenticate") != 0) {
            continue;
        }
        major = krbap_http_parse_www_authenticate(&minor, h.fields[i].value, &tok);
        if (major == KRBAP_S_COMPLETE) {
            if (r->negotiate_seen) {
                fprintf(stderr, "two Negotiate challenges in one response\n");
                (void)krbap_buffer_free(&minor, &tok);
                return -1;
            }
            r->negotiate_seen = 1;
            r->negotiate = strdup(h.fields[i].value);
            (void)krbap_buffer_free(&minor, &tok);
        } else if ((major & 0xffff0000u) != KRBAP_S_BAD_MECH) {
            char text[512];
            status_text(major, minor, text, sizeof text);
            fprintf(stderr, "malformed WWW-Authenticate: %s\n", text);
            return -1;
        }
    }
    if (opt.verbose) {
        fprintf(stderr, "< %s\n", h.start_line);
        if (r->negotiate_seen) {
            fprintf(stderr, "< WWW-Authenticate: %.100s%s\n", r->negotiate,
                    strlen(r->negotiate) > 100 ? "..." : "");
        }
    }
    r->body = (char *)malloc(MAX_BODY + 1);
    if (r->body == NULL) {
        return -1;
    }
    /* The body: what follows the head in buf first. */
    rest = buf + head;
    rest_len = *len - (size_t)head;
    v = http_field(&h, "Transfer-Encoding", NULL);
    if (v != NULL) {
        if (strcasecmp(v, "chunked") != 0 || read_chunked(fd, rest, &rest_len, r, deadline) != 0) {
            fprintf(stderr, "unreadable chunked body\n");
            return -1;
        }
    } else if ((v = http_field(&h, "Content-Length", NULL)) != NULL) {
        long long n;
        if (parse_long(v, 0, MAX_BODY, &n) != 0 ||
            http_read_exact(fd, rest, &rest_len, r->body, (size_t)n, deadline) != 0) {
            fprintf(stderr, "unreadable body (Content-Length %s)\n", v);
            return -1;
        }
        r->body_len = (size_t)n;
    } else {
        /* Delimited by the end of the connection. */
        r->keep_alive = 0;
        while (r->body_len < MAX_BODY &&
               http_read_exact(fd, rest, &rest_len, r->body + r->body_len, 1, deadline) == 0) {
            r->body_len++;
        }
    }
    r->body[r->body_len] = '\0';
    memmove(buf, rest, rest_len);
    *len = rest_len;
    return 0;
}

static int send_request(int fd, const struct url *u, const char *authorization) {
    size_t cap = 4096 + strlen(u->path) + (authorization != NULL ? strlen(authorization) : 0);
    char *req = (char *)malloc(cap);
    int n;
    int rc;
    if (req == NULL) {
        return -1;
    }
    n = snprintf(req, cap,
                 "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: krbap-http-client\r\n"
                 "Accept: text/html\r\n%s%s%s\r\n",
                 u->path, u->host, (unsigned)u->port, authorization != NULL ? "Authorization: " : "",
                 authorization != NULL ? authorization : "", authorization != NULL ? "\r\n" : "");
    if (opt.verbose) {
        fprintf(stderr, "> GET %s%s%.60s%s\n", u->path, authorization != NULL ? " Authorization: " : "",
                authorization != NULL ? authorization : "",
                authorization != NULL && strlen(authorization) > 60 ? "..." : "");
    }
    rc = n > 0 && (size_t)n < cap ? http_send_all(fd, req, (size_t)n, TIMEOUT_MS) : -1;
    free(req);
    return rc;
}

/* "Negotiate <base64>" of a token, NUL-terminated (malloc'ed); NULL on failure. */
static char *authorization_value(const krbap_buffer *token) {
    uint32_t minor = 0;
    krbap_buffer v = {0, NULL};
    char *s;
    uint32_t major = krbap_http_authorization(&minor, token, &v);
    if (major != KRBAP_S_COMPLETE) {
        display_status("building the Authorization header", major, minor);
        return NULL;
    }
    s = (char *)malloc(v.length + 1);
    if (s != NULL) {
        memcpy(s, v.value, v.length);
        s[v.length] = '\0';
    }
    (void)krbap_buffer_free(&minor, &v);
    return s;
}

/* One initiator step: input (NULL on the first) -> *authorization (NULL: nothing to send).
 * Returns the major status; prints the reason on failure. */
static uint32_t step(krbap_cred *cred, krbap_ctx **ctx, const krbap_name *target,
                     const krbap_buffer *input, char **authorization) {
    uint32_t minor = 0;
    uint32_t flags = 0;
    uint32_t req = KRBAP_C_SEQUENCE_FLAG | KRBAP_C_REPLAY_FLAG | KRBAP_C_CONF_FLAG | KRBAP_C_INTEG_FLAG;
    krbap_buffer out = {0, NULL};
    uint32_t major;
    if (opt.mutual) {
        req |= KRBAP_C_MUTUAL_FLAG;
    }
    major = krbap_init_sec_context_mech(&minor, cred, ctx, target, opt.mech, req, NULL, input, &flags,
                                        NULL, &out);
    *authorization = NULL;
    if (MAJOR_IS_ERROR(major)) {
        display_status(input == NULL ? "creating the initial token" : "processing the server's token",
                       major, minor);
    } else if (out.length > 0) {
        *authorization = authorization_value(&out);
        if (*authorization == NULL) {
            major = KRBAP_S_FAILURE;
        }
    }
    (void)krbap_buffer_free(&minor, &out);
    return major;
}

/* The token of a Negotiate value, or an empty buffer. */
static int negotiate_token(const char *value, krbap_buffer *tok) {
    uint32_t minor = 0;
    tok->length = 0;
    tok->value = NULL;
    if (value == NULL) {
        return 0;
    }
    return krbap_http_parse_www_authenticate(&minor, value, tok) == KRBAP_S_COMPLETE ? 0 : -1;
}

int main(int argc, char **argv) {
    struct url u;
    int i;
    int fd;
    char *buf;
    size_t len = 0;
    struct response r;
    krbap_cred *cred = NULL;
    krbap_name *target = NULL;
    krbap_ctx *ctx = NULL;
    char service[300];
    char *authorization = NULL;
    uint32_t major;
    uint32_t minor = 0;
    int complete = 0;
    int legs;
    int rc = 1;

    opt.mech = KRBAP_MECH_SPNEGO;
    opt.mutual = 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-mech") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "spnego") == 0) {
                opt.mech = KRBAP_MECH_SPNEGO;
            } else if (strcmp(argv[i], "krb5") == 0) {
                opt.mech = 1;
            } else {
                usage();
            }
        } else if (strcmp(argv[i], "-nomutual") == 0) {
            opt.mutual = 0;
        } else if (strcmp(argv[i], "-preemptive") == 0) {
            opt.preemptive = 1;
        } else if (strcmp(argv[i], "-service") == 0 && i + 1 < argc) {
            opt.service = argv[++i];
        } else if (strcmp(argv[i], "-ccache") == 0 && i + 1 < argc) {
            opt.ccache = argv[++i];
        } else if (strcmp(argv[i], "-verbose") == 0) {
            opt.verbose = 1;
        } else if (argv[i][0] != '-' && opt.url == NULL) {
            opt.url = argv[i];
        } else {
            usage();
        }
    }
    if (opt.url == NULL || parse_url(opt.url, &u) != 0) {
        usage();
    }
    ignore_sigpipe();
    snprintf(service, sizeof service, "%s", opt.service != NULL ? opt.service : "");
    if (opt.service == NULL) {
        snprintf(service, sizeof service, "HTTP@%s", u.host);
    }
    {
        krbap_buffer name;
        name.length = strlen(service);
        name.value = service;
        major = krbap_import_name(&minor, &name, KRBAP_NT_HOSTBASED_SERVICE, &target);
        if (major != KRBAP_S_COMPLETE) {
            display_status("importing the service name", major, minor);
            return 1;
        }
    }
    if (opt.ccache != NULL) {
        major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, opt.ccache, &cred, NULL);
        if (major != KRBAP_S_COMPLETE) {
            display_status("reading the ccache", major, minor);
            return 1;
        }
    }
    buf = (char *)malloc(HTTP_MAX_HEAD);
    fd = buf != NULL ? connect_to_server(u.host, u.port) : -1;
    if (fd < 0) {
        goto out;
    }

    if (!opt.preemptive) {
        if (send_request(fd, &u, NULL) != 0 || read_response(fd, buf, &len, &r) != 0) {
            goto out;
        }
        if (r.status != 401 || !r.negotiate_seen) {
            printf("status %d\n", r.status);
            fprintf(stderr, "the server did not ask for Negotiate (status %d%s)\n", r.status,
                    r.status == 401 ? ", no Negotiate challenge" : "");
            free_response(&r);
            goto out;
        }
        if (!r.keep_alive) {
            close(fd);
            len = 0;
            fd = connect_to_server(u.host, u.port);
            if (fd < 0) {
                free_response(&r);
                goto out;
            }
        }
        free_response(&r);
    }
    major = step(cred, &ctx, target, NULL, &authorization);
    if (MAJOR_IS_ERROR(major) || authorization == NULL) {
        goto out;
    }
    complete = major == KRBAP_S_COMPLETE;
    for (legs = 0; legs < MAX_LEGS; legs++) {
        krbap_buffer tok;
        if (send_request(fd, &u, authorization) != 0 || read_response(fd, buf, &len, &r) != 0) {
            goto out;
        }
        free(authorization);
        authorization = NULL;
        if (negotiate_token(r.negotiate, &tok) != 0) {
            free_response(&r);
            goto out;
        }
        if (r.status == 401 && tok.length > 0 && !complete) {
            /* Continue (or a reject / KRB-ERROR, which init_sec_context reports). */
            major = step(cred, &ctx, target, &tok, &authorization);
            (void)krbap_buffer_free(&minor, &tok);
            if (MAJOR_IS_ERROR(major)) {
                fprintf(stderr, "server: %s\n", r.body);
                free_response(&r);
                goto out;
            }
            complete = major == KRBAP_S_COMPLETE;
            if (authorization == NULL) {
                fprintf(stderr, "the server answered 401 and there is no token left to send\n");
                free_response(&r);
                goto out;
            }
            if (!r.keep_alive) {
                fprintf(stderr, "the server closed the connection in the middle of the exchange\n");
                free_response(&r);
                goto out;
            }
            free_response(&r);
            continue;
        }
        printf("status %d\n", r.status);
        if (r.status < 200 || r.status > 299) {
            fprintf(stderr, "authentication failed: %s\n", r.body);
            (void)krbap_buffer_free(&minor, &tok);
            free_response(&r);
            goto out;
        }
        /* RFC 4559 §5: the final token authenticates the server; check it before the body. */
        if (tok.length > 0) {
            if (complete) {
                fprintf(stderr, "a token after the exchange was complete\n");
                (void)krbap_buffer_free(&minor, &tok);
                free_response(&r);
                goto out;
            }
            major = step(cred, &ctx, target, &tok, &authorization);
            (void)krbap_buffer_free(&minor, &tok);
            if (major != KRBAP_S_COMPLETE || authorization != NULL) {
                if (!MAJOR_IS_ERROR(major)) {
                    fprintf(stderr, "the final token did not complete the exchange\n");
                }
                free_response(&r);
                goto out;
            }
            complete = 1;
        }
        /* Without a final token the exchange counts only when nothing was outstanding: no
         * mutual authentication asked and the first token accepted as it was (SPNEGO waits
         * for the acceptor's word on the mechanism, which a 200 without a token gives). */
        if (!complete && (opt.mutual || legs > 0)) {
            fprintf(stderr, "%s: the server did not send the final token: it is not "
                            "authenticated\n", opt.mutual ? "mutual authentication failed" : "exchange incomplete");
            free_response(&r);
            goto out;
        }
        {
            int32_t mech = 0;
            if (ctx != NULL && krbap_inquire_mech(&minor, ctx, &mech) == KRBAP_S_COMPLETE) {
                printf("mechanism %s\n", mech == KRBAP_MECH_SPNEGO ? "SPNEGO" : "krb5");
            }
        }
        printf("%s\n", opt.mutual ? "mutual authentication verified" : "mutual authentication not requested");
        fwrite(r.body, 1, r.body_len, stdout);
        free_response(&r);
        rc = 0;
        goto out;
    }
    fprintf(stderr, "no result after %d legs\n", MAX_LEGS);
out:
    free(authorization);
    if (fd >= 0) {
        close(fd);
    }
    free(buf);
    if (ctx != NULL) {
        (void)krbap_delete_sec_context(&minor, &ctx, NULL);
    }
    (void)krbap_release_name(&minor, &target);
    (void)krbap_release_cred(&minor, &cred);
    return rc;
}
