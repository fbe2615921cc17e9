/*
 * krbap-http-server: an HTTP/1.1 server that protects a path with HTTP Negotiate
 * (RFC 4559, SPNEGO or raw Kerberos tokens), built on krbap.
 *
 *   GET <path> without credentials      401, WWW-Authenticate: Negotiate
 *   Authorization: Negotiate <token>    the token goes to krbap_accept_sec_context:
 *     complete                          200, the principal in <p id="user">, and the
 *                                       final token (mutual authentication) in
 *                                       WWW-Authenticate: Negotiate <token>
 *     continue needed                   401, WWW-Authenticate: Negotiate <token>; the
 *                                       half-built context stays with the connection
 *                                       (multi-leg SPNEGO on one keep-alive connection)
 *     failure                           401 with the reason (krbap_display_status) in
 *                                       <p id="error">, and the error token if any
 *   a principal not in the -allow list  403 with the reason
 *   a malformed Authorization header    400 with the reason; another scheme: 401
 *
 * One thread per connection (at most -max-conns; more get 503). Requests are read with
 * a size limit (HTTP_MAX_HEAD: the largest Negotiate token plus 16 KiB) and deadlines:
 * -idle-timeout for the next request on a connection, -header-timeout for a whole head
 * once it has begun (slow-header clients are cut off), the same for a body (GET bodies
 * are read and dropped, at most 64 KiB). Garbage gets 400 and the connection closed.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"
#include "http_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ALLOW 32
#define MAX_BODY (64 * 1024)
#define MAX_REQUESTS_PER_CONNECTION 1000
#define SEND_TIMEOUT_MS 10000

struct options {
    unsigned short port;
    const char *bind_addr;
    const char *keytab;
    const char *rcache;
    const char *service_name;
    const char *path;
    const char *allow[MAX_ALLOW];
    int allow_count;
    long long max_conns;
    long long idle_ms;
    long long header_ms;
    int verbose;
};

static struct options opt;
static krbap_cred *server_cred;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static long long conns_open;
static volatile sig_atomic_t stopping;

static void usage(void) {
    fprintf(stderr,
            "Usage: krbap-http-server [-port PORT] [-bind ADDRESS] [-keytab KEYTAB]\n"
            "                         [-rcache NAME] [-path PREFIX] [-allow PRINCIPAL]...\n"
            "                         [-max-conns N] [-idle-timeout S] [-header-timeout S]\n"
            "                         [-verbose] [service_name]\n"
            "  -verbose            log the Negotiate header values\n"
            "  -port PORT          TCP port (default 8080; 0: any free port, printed)\n"
            "  -bind ADDRESS       listen on this numeric address only (default: all)\n"
            "  -keytab KEYTAB      service keys (default: KRB5_KTNAME, /etc/krb5.keytab)\n"
            "  -rcache NAME        replay cache: memory: (default), file2:/path, none:, dfl:\n"
            "  -path PREFIX        protected path prefix (default /); other paths are 404\n"
            "  -allow PRINCIPAL    only these principals get 200 (others 403); repeatable\n"
            "  -max-conns N        connections served at once (default 64)\n"
            "  -idle-timeout S     seconds a keep-alive connection may idle (default 15)\n"
            "  -header-timeout S   seconds to send a request head or body (default 10)\n"
            "  service_name        e.g. HTTP@www.example.com (default: any key of the keytab)\n");
    exit(1);
}

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* ---- responses ------------------------------------------------------------------------ */

struct conn {
    int fd;
    char peer[64];
    char *buf; /* HTTP_MAX_HEAD bytes: the request head and what follows it */
    size_t len;
    krbap_ctx *ctx; /* a SPNEGO exchange in progress on this connection, or NULL */
    int requests;
};

struct response {
    int status;
    const char *www_auth; /* value of WWW-Authenticate, or NULL */
    const char *extra;    /* more header lines (each ending in CRLF), or NULL */
    char body[8192];
    int close_after;
};

static const char *reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* A page with one paragraph: <p id="ID">TEXT</p> (TEXT escaped). */
static void page(struct response *r, const char *id, const char *text) {
    snprintf(r->body, sizeof r->body,
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title></head>"
             "<body><p id=\"%s\">",
             r->status, reason_phrase(r->status), id);
    html_escape_append(r->body, sizeof r->body - 32, text);
    strcat(r->body, "</p></body></html>\n");
}

static int send_response(struct conn *c, const struct response *r, int head_only) {
    size_t body_len = strlen(r->body);
    size_t www_len = r->www_auth != NULL ? strlen(r->www_auth) : 0;
    size_t cap = 512 + www_len + (r->extra != NULL ? strlen(r->extra) : 0);
    char *head = (char *)malloc(cap);
    int n;
    int rc;
    if (head == NULL) {
        return -1;
    }
    n = snprintf(head, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Server: krbap-http-server\r\n"
                 "Content-Type: text/html; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "%s%s%s"
                 "%s"
                 "%s"
                 "\r\n",
                 r->status, reason_phrase(r->status), body_len,
                 r->www_auth != NULL ? "WWW-Authenticate: " : "",
                 r->www_auth != NULL ? r->www_auth : "", r->www_auth != NULL ? "\r\n" : "",
                 r->extra != NULL ? r->extra : "",
                 r->close_after ? "Connection: close\r\n" : "");
    rc = (n > 0 && (size_t)n < cap && http_send_all(c->fd, head, (size_t)n, SEND_TIMEOUT_MS) == 0 &&
          (head_only || http_send_all(c->fd, r->body, body_len, SEND_TIMEOUT_MS) == 0))
             ? 0
             : -1;
    free(head);
    return rc;
}

/* WWW-Authenticate: Negotiate [token] as the helper builds it; NULL on failure. */
static char *challenge(const krbap_buffer *token) {
    uint32_t minor = 0;
    krbap_buffer value = {0, NULL};
    char *s;
    if (krbap_http_www_authenticate(&minor, token, &value) != KRBAP_S_COMPLETE) {
        return NULL;
    }
    s = (char *)malloc(value.length + 1);
    if (s != NULL) {
        memcpy(s, value.value, value.length);
        s[value.length] = '\0';
    }
    (void)krbap_buffer_free(&minor, &value);
    return s;
}

static void drop_context(struct conn *c) {
    uint32_t minor = 0;
    if (c->ctx != NULL) {
        (void)krbap_delete_sec_context(&minor, &c->ctx, NULL);
    }
}

static int allowed(const char *principal) {
    int i;
    if (opt.allow_count == 0) {
        return 1;
    }
    for (i = 0; i < opt.allow_count; i++) {
        if (strcmp(opt.allow[i], principal) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- authentication --------------------------------------------------------------------- */

/* Fills r for a request to the protected path; *who receives the principal or the reason
 * for the log line. The context of a multi-leg exchange stays in c->ctx. */
static void authenticate(struct conn *c, const char *authorization, struct response *r,
                         char *who, size_t who_size, char **www_owned) {
    uint32_t major;
    uint32_t minor = 0;
    uint32_t flags = 0;
    krbap_buffer token = {0, NULL};
    krbap_buffer out = {0, NULL};
    krbap_name *client = NULL;
    char text[1024];

    if (authorization == NULL) {
        /* A client that gives up in the middle of an exchange starts over. */
        drop_context(c);
        r->status = 401;
        r->www_auth = "Negotiate";
        page(r, "error", "Authentication required: this page needs HTTP Negotiate (Kerberos).");
        snprintf(who, who_size, "challenge");
        return;
    }
    major = krbap_http_parse_authorization(&minor, authorization, &token);
    if (major != KRBAP_S_COMPLETE) {
        status_text(major, minor, text, sizeof text);
        drop_context(c);
        if ((major & 0xffff0000u) == KRBAP_S_BAD_MECH) {
            /* Basic, NTLM, ...: not for us; offer Negotiate. */
            r->status = 401;
            r->www_auth = "Negotiate";
        } else {
            r->status = 400;
        }
        page(r, "error", text);
        snprintf(who, who_size, "bad Authorization: %s", text);
        return;
    }
    /* A new initial token (GSS framing, RFC 2743 §3.1) restarts a half-done exchange. */
    if (c->ctx != NULL && ((const unsigned char *)token.value)[0] == 0x60) {
        drop_context(c);
    }
    major = krbap_accept_sec_context(&minor, &c->ctx, server_cred, &token, NULL, &client, &flags,
                                     NULL, &out, NULL);
    if (major == KRBAP_S_CONTINUE_NEEDED) {
        r->status = 401;
        *www_owned = challenge(&out);
        r->www_auth = *www_owned;
        page(r, "continue", "Negotiate exchange continues: send the next token.");
        snprintf(who, who_size, "continue (%zu-byte token)", out.length);
    } else if (major == KRBAP_S_COMPLETE) {
        char principal[512];
        char flag_text[128];
        int32_t mech = 0;
        name_to_text(client, principal, sizeof principal);
        (void)krbap_inquire_mech(&minor, c->ctx, &mech);
        flags_to_text(flags, flag_text, sizeof flag_text);
        *www_owned = out.length > 0 ? challenge(&out) : NULL;
        r->www_auth = *www_owned;
        if (!allowed(principal)) {
            r->status = 403;
            snprintf(text, sizeof text, "%s is authenticated but not allowed here", principal);
            page(r, "error", text);
            snprintf(who, who_size, "%s (forbidden)", principal);
        } else {
            r->status = 200;
            snprintf(r->body, sizeof r->body,
                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                     "<title>krbap-http-server</title></head><body><p id=\"user\">");
            html_escape_append(r->body, sizeof r->body - 256, principal);
            snprintf(r->body + strlen(r->body), sizeof r->body - strlen(r->body),
                     "</p><p id=\"mech\">%s</p><p id=\"flags\">%s</p>"
                     "<p id=\"final-token\">%s</p></body></html>\n",
                     mech == KRBAP_MECH_SPNEGO ? "SPNEGO" : mech == KRBAP_MECH_KRB5 ? "krb5" : "?",
                     flag_text, out.length > 0 ? "sent" : "none");
            snprintf(who, who_size, "%s (%s)", principal,
                     mech == KRBAP_MECH_SPNEGO ? "SPNEGO" : "krb5");
        }
        drop_context(c);
    } else {
        status_text(major, minor, text, sizeof text);
        drop_context(c);
        r->status = 401;
        /* The acceptor's error token (a KRB-ERROR or a SPNEGO reject), as MIT's servers send. */
        *www_owned = challenge(&out);
        r->www_auth = *www_owned != NULL ? *www_owned : "Negotiate";
        page(r, "error", text);
        snprintf(who, who_size, "failed: %s", text);
    }
    (void)krbap_release_name(&minor, &client);
    (void)krbap_buffer_free(&minor, &out);
    (void)krbap_buffer_free(&minor, &token);
}

/* ---- requests ------------------------------------------------------------------------- */

/* Serves one request whose head is buf[0..head_len). Returns 0 to keep the connection. */
static int serve_request(struct conn *c, size_t head_len) {
    struct http_head h;
    struct response r;
    const char *why = NULL;
    char method[16];
    char *target;
    char *version;
    char *sp;
    char who[1200];
    char *www_owned = NULL;
    int keep_alive;
    int head_only = 0;
    int dup = 0;
    char *value;
    int rc;

    memset(&r, 0, sizeof r);
    who[0] = '\0';
    if (http_parse_head(c->buf, head_len, &h, &why) != 0) {
        r.status = 400;
        r.close_after = 1;
        page(&r, "error", why);
        snprintf(who, sizeof who, "malformed head: %s", why);
        method[0] = '\0';
        target = (char *)"-";
        goto respond;
    }
    /* request-line = method SP request-target SP HTTP-version (RFC 9112 §3) */
    sp = strchr(h.start_line, ' ');
    target = sp != NULL ? sp + 1 : NULL;
    version = target != NULL ? strchr(target, ' ') : NULL;
    if (sp == NULL || version == NULL || sp == h.start_line || (size_t)(sp - h.start_line) >= sizeof method ||
        version == target || strchr(version + 1, ' ') != NULL) {
        r.status = 400;
        r.close_after = 1;
        page(&r, "error", "malformed request line");
        snprintf(who, sizeof who, "malformed request line");
        method[0] = '\0';
        target = (char *)"-";
        goto respond;
    }
    memcpy(method, h.start_line, (size_t)(sp - h.start_line));
    method[sp - h.start_line] = '\0';
    *version++ = '\0';
    if (strcmp(version, "HTTP/1.1") == 0) {
        keep_alive = 1;
    } else if (strcmp(version, "HTTP/1.0") == 0) {
        keep_alive = 0;
    } else {
        r.status = 505;
        r.close_after = 1;
        page(&r, "error", "only HTTP/1.0 and HTTP/1.1 are served");
        snprintf(who, sizeof who, "version %.20s", version);
        goto respond;
    }
    value = http_field(&h, "Connection", NULL);
    if (value != NULL && http_list_has(value, "close")) {
        keep_alive = 0;
    } else if (value != NULL && http_list_has(value, "keep-alive")) {
        keep_alive = 1;
    }
    if (strcmp(version, "HTTP/1.1") == 0 && http_field(&h, "Host", &dup) == NULL) {
        r.status = 400;
        page(&r, "error", "HTTP/1.1 request without Host (RFC 9112 §3.2)");
        snprintf(who, sizeof who, "no Host");
        keep_alive = 0;
        goto respond;
    }
    if (http_field(&h, "Transfer-Encoding", NULL) != NULL) {
        r.status = 501;
        page(&r, "error", "request bodies with Transfer-Encoding are not supported");
        snprintf(who, sizeof who, "Transfer-Encoding");
        keep_alive = 0;
        goto respond;
    }
    dup = 0;
    value = http_field(&h, "Content-Length", &dup);
    if (value != NULL) {
        long long n;
        /* Content-Length = 1*DIGIT (RFC 9110 §8.6): no sign, no space. */
        int digits = value[0] != '\0' && strspn(value, "0123456789") == strlen(value);
        if (dup || !digits || parse_long(value, 0, MAX_BODY, &n) != 0) {
            r.status = dup || !digits || strlen(value) > 18 ? 400 : 413;
            page(&r, "error", r.status == 413 ? "request body over 64 KiB" : "bad Content-Length");
            snprintf(who, sizeof who, "Content-Length %.40s", value);
            keep_alive = 0;
            goto respond;
        }
        /* The body of a GET is meaningless here: read it and drop it (what follows
         * the head in the buffer first). */
        size_t rest = c->len - head_len;
        if (http_read_exact(c->fd, c->buf + head_len, &rest, NULL, (size_t)n,
                            now_ms() + opt.header_ms) != 0) {
            return -1;
        }
        c->len = head_len + rest;
    }
    if (strcmp(method, "HEAD") == 0) {
        head_only = 1;
    } else if (strcmp(method, "GET") != 0) {
        r.status = 405;
        r.extra = "Allow: GET, HEAD\r\n";
        page(&r, "error", "only GET and HEAD are served");
        snprintf(who, sizeof who, "method");
        goto respond;
    }
    if (strncmp(target, opt.path, strlen(opt.path)) != 0) {
        r.status = 404;
        page(&r, "error", "not found (the protected path is elsewhere)");
        snprintf(who, sizeof who, "not protected");
        goto respond;
    }
    dup = 0;
    value = http_field(&h, "Authorization", &dup);
    if (dup) {
        r.status = 400;
        page(&r, "error", "more than one Authorization header");
        snprintf(who, sizeof who, "two Authorization headers");
        drop_context(c);
        goto respond;
    }
    if (opt.verbose && value != NULL) {
        fprintf(stderr, "%s Authorization: %.120s%s\n", c->peer, value, strlen(value) > 120 ? "..." : "");
    }
    authenticate(c, value, &r, who, sizeof who, &www_owned);
    if (opt.verbose && r.www_auth != NULL) {
        fprintf(stderr, "%s WWW-Authenticate: %.120s%s\n", c->peer, r.www_auth,
                strlen(r.www_auth) > 120 ? "..." : "");
    }

respond:
    if (!keep_alive || ++c->requests >= MAX_REQUESTS_PER_CONNECTION) {
        r.close_after = 1;
    }
    if (r.close_after) {
        keep_alive = 0;
    }
    rc = send_response(c, &r, head_only);
    fprintf(stderr, "%s \"%s %.200s\" %d %s\n", c->peer, method, target, r.status, who);
    free(www_owned);
    return rc == 0 && keep_alive ? 0 : -1;
}

static void *serve_connection(void *arg) {
    struct conn *c = (struct conn *)arg;
    for (;;) {
        long head = http_read_head(c->fd, c->buf, HTTP_MAX_HEAD, &c->len, (int)opt.idle_ms,
                                   (int)opt.header_ms);
        if (head == -3) {
            struct response r;
            memset(&r, 0, sizeof r);
            r.status = 431;
            r.close_after = 1;
            page(&r, "error", "request head over the size limit");
            (void)send_response(c, &r, 0);
            fprintf(stderr, "%s request head over %d bytes: 431\n", c->peer, HTTP_MAX_HEAD);
            break;
        }
        if (head == -2) {
            if (c->len > 0) {
                fprintf(stderr, "%s request head not complete in time: closed\n", c->peer);
            }
            break;
        }
        if (head <= 0) {
            break;
        }
        if (serve_request(c, (size_t)head) != 0) {
            break;
        }
        /* What followed the head (a pipelined request) moves to the front. */
        c->len -= (size_t)head < c->len ? (size_t)head : c->len;
        memmove(c->buf, c->buf + head, c->len);
    }
    drop_context(c);
    close(c->fd);
    free(c->buf);
    free(c);
    pthread_mutex_lock(&conns_lock);
    conns_open--;
    pthread_mutex_unlock(&conns_lock);
    return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

static int listen_on(const char *address, unsigned short port) {
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    char service[16];
    int fd;
    int on = 1;
    if (address == NULL) {
        return create_listener(port);
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(address, service, &hints, &res) != 0 || res == NULL) {
        fprintf(stderr, "-bind %s: not a numeric address\n", address);
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
            perror("binding/listening on socket");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static unsigned short bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        return 0;
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t size) {
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, size, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    }
}

static void parse_args(int argc, char **argv) {
    int i;
    long long v;
    opt.port = 8080;
    opt.path = "/";
    opt.max_conns = 64;
    opt.idle_ms = 15000;
    opt.header_ms = 10000;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-port") == 0 && next != NULL) {
            if (parse_long(next, 0, 65535, &v) != 0) {
                usage();
            }
            opt.port = (unsigned short)v;
            i++;
        } else if (strcmp(a, "-bind") == 0 && next != NULL) {
            opt.bind_addr = argv[++i];
        } else if (strcmp(a, "-keytab") == 0 && next != NULL) {
            opt.keytab = argv[++i];
        } else if (strcmp(a, "-rcache") == 0 && next != NULL) {
            opt.rcache = argv[++i];
        } else if (strcmp(a, "-path") == 0 && next != NULL && next[0] == '/') {
            opt.path = argv[++i];
        } else if (strcmp(a, "-allow") == 0 && next != NULL && opt.allow_count < MAX_ALLOW) {
            opt.allow[opt.allow_count++] = argv[++i];
        } else if (strcmp(a, "-max-conns") == 0 && next != NULL) {
            if (parse_long(next, 1, 10000, &opt.max_conns) != 0) {
                usage();
            }
            i++;
        } else if (strcmp(a, "-idle-timeout") == 0 && next != NULL) {
            if (parse_long(next, 1, 3600, &v) != 0) {
                usage();
            }
            opt.idle_ms = v * 1000;
            i++;
        } else if (strcmp(a, "-header-timeout") == 0 && next != NULL) {
            if (parse_long(next, 1, 3600, &v) != 0) {
                usage();
            }
            opt.header_ms = v * 1000;
            i++;
        } else if (strcmp(a, "-verbose") == 0) {
            opt.verbose = 1;
        } else if (a[0] == '-') {
            usage();
        } else if (opt.service_name == NULL && i == argc - 1) {
            opt.service_name = a;
        } else {
            usage();
        }
    }
}

static int acquire(void) {
    uint32_t major;
    uint32_t minor = 0;
    krbap_name *name = NULL;
    if (opt.service_name != NULL) {
        krbap_buffer b;
        b.length = strlen(opt.service_name);
        b.value = (void *)opt.service_name;
        major = krbap_import_name(&minor, &b, KRBAP_NT_HOSTBASED_SERVICE, &name);
        if (major != KRBAP_S_COMPLETE) {
            display_status("importing the service name", major, minor);
            return -1;
        }
    }
    major = krbap_acquire_cred(&minor, name, KRBAP_C_ACCEPT, opt.keytab, &server_cred, NULL);
    (void)krbap_release_name(&minor, &name);
    if (major != KRBAP_S_COMPLETE) {
        display_status("acquiring the acceptor credential", major, minor);
        return -1;
    }
    if (opt.rcache != NULL) {
        major = krbap_cred_set_replay_cache(&minor, server_cred, opt.rcache);
        if (major != KRBAP_S_COMPLETE) {
            display_status("setting the replay cache", major, minor);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sigaction sa;
    int lfd;
    pthread_attr_t attr;

    parse_args(argc, argv);
    ignore_sigpipe();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: accept() returns EINTR */
    (void)sigaction(SIGINT, &sa, NULL);

    if (acquire() != 0) {
        return 1;
    }
    lfd = listen_on(opt.bind_addr, opt.port);
    if (lfd < 0) {
        return 1;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    printf("starting... (port %u, protecting %s)\n", (unsigned)bound_port(lfd), opt.path);
    fflush(stdout);

    while (!stopping) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        struct conn *c;
        pthread_t t;
        int full;
        int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED) {
                perror("accept");
                if (errno == EMFILE || errno == ENFILE) {
                    sleep(1);
                }
            }
            continue;
        }
        pthread_mutex_lock(&conns_lock);
        full = conns_open >= opt.max_conns;
        if (!full) {
            conns_open++;
        }
        pthread_mutex_unlock(&conns_lock);
        if (full) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                       "Retry-After: 1\r\nConnection: close\r\n\r\n";
            (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        c = (struct conn *)calloc(1, sizeof *c);
        if (c != NULL) {
            c->buf = (char *)malloc(HTTP_MAX_HEAD);
        }
        if (c == NULL || c->buf == NULL) {
            free(c);
            close(fd);
            pthread_mutex_lock(&conns_lock);
            conns_open--;
            pthread_mutex_unlock(&conns_lock);
            continue;
        }
        c->fd = fd;
        peer_text(&ss, c->peer, sizeof c->peer);
        if (pthread_create(&t, &attr, serve_connection, c) != 0) {
            close(fd);
            free(c->buf);
            free(c);
            pthread_mutex_lock(&conns_lock);
            conns_open--;
            pthread_mutex_unlock(&conns_lock);
        }
    }
    fprintf(stderr, "krbap-http-server: stopping\n");
    close(lfd);
    /* Connection threads may still use the credential: end the process without running
     * exit-time destructors under their feet. */
    fflush(NULL);
    _exit(0);
}
