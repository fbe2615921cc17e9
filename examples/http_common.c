/*
 * Shared code of krbap-http-server and krbap-http-client; see http_common.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "http_common.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd p;
        int r;
        if (left <= 0) {
            return 0;
        }
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r > 0) {
            return 1;
        }
    }
}

int http_send_all(int fd, const void *data, size_t n, int timeout_ms) {
    const char *p = (const char *)data;
    while (n > 0) {
        ssize_t w;
        if (wait_fd(fd, POLLOUT, now_ms() + timeout_ms) != 1) {
            return -1;
        }
        w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One recv into buf[*len..cap) once fd is readable before the deadline: >0 bytes read,
 * 0 end of stream, -1 error, -2 timeout. */
static long recv_some(int fd, char *buf, size_t cap, size_t *len, int64_t deadline) {
    for (;;) {
        ssize_t r;
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0) {
            return -2;
        }
        if (w < 0) {
            return -1;
        }
        r = recv(fd, buf + *len, cap - *len, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        *len += (size_t)r;
        return (long)r;
    }
}

/* The end of a head in buf[0..len): the index after the empty line, or 0. */
static size_t head_end(const char *buf, size_t len) {
    size_t i;
    for (i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (buf[i + 1] == '\n') {
            return i + 2;
        }
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

long http_read_head(int fd, char *buf, size_t cap, size_t *len, int idle_ms, int head_ms) {
    int64_t deadline = now_ms() + idle_ms;
    int started = 0;
    size_t scanned = 0;
    /* Empty lines before a request line are ignored (RFC 9112 §2.2). */
    for (;;) {
        size_t end;
        long r;
        if (!started) {
            size_t skip = 0;
            while (skip < *len && (buf[skip] == '\r' || buf[skip] == '\n')) {
                skip++;
            }
            memmove(buf, buf + skip, *len - skip);
            *len -= skip;
        }
        if (*len > 0 && !started) {
            started = 1;
            deadline = now_ms() + head_ms;
        }
        /* Rescan a little before the old end: the empty line may straddle two reads. */
        end = head_end(buf + (scanned > 3 ? scanned - 3 : 0), *len - (scanned > 3 ? scanned - 3 : 0));
        if (end > 0) {
            return (long)(end + (scanned > 3 ? scanned - 3 : 0));
        }
        scanned = *len;
        if (*len >= cap) {
            return -3;
        }
        r = recv_some(fd, buf, cap, len, deadline);
        if (r == 0) {
            return started ? -1 : 0;
        }
        if (r < 0) {
            return r;
        }
    }
}

int http_read_exact(int fd, char *buf, size_t *len, char *out, size_t n, int64_t deadline) {
    char scratch[4096];
    while (n > 0) {
        size_t take;
        if (*len == 0) {
            size_t got = 0;
            long r = recv_some(fd, scratch, sizeof scratch < n ? sizeof scratch : n, &got, deadline);
            if (r <= 0) {
                return -1;
            }
            if (out != NULL) {
                memcpy(out, scratch, got);
                out += got;
            }
            n -= got;
            continue;
        }
        take = *len < n ? *len : n;
        if (out != NULL) {
            memcpy(out, buf, take);
            out += take;
        }
        memmove(buf, buf + take, *len - take);
        *len -= take;
        n -= take;
    }
    return 0;
}

int http_read_line(int fd, char *buf, size_t *len, char *line, size_t max, int64_t deadline) {
    size_t used = 0;
    for (;;) {
        char c;
        if (http_read_exact(fd, buf, len, &c, 1, deadline) != 0) {
            return -1;
        }
        if (c == '\n') {
            if (used > 0 && line[used - 1] == '\r') {
                used--;
            }
            line[used] = '\0';
            return 0;
        }
        if (used + 1 >= max) {
            return -1;
        }
        line[used++] = c;
    }
}

static int is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int http_parse_head(char *head, size_t head_len, struct http_head *out, const char **why) {
    char *p = head;
    char *end = head + head_len;
    int first = 1;
    out->count = 0;
    out->start_line = NULL;
    while (p < end) {
        char *eol = (char *)memchr(p, '\n', (size_t)(end - p));
        char *line_end;
        char *c;
        if (eol == NULL) {
            *why = "a line without its end";
            return -1;
        }
        line_end = eol;
        if (line_end > p && line_end[-1] == '\r') {
            line_end--;
        }
        *line_end = '\0';
        if (line_end == p) {
            break; /* the empty line ending the head */
        }
        for (c = p; c < line_end; c++) {
            unsigned char u = (unsigned char)*c;
            if ((u < 0x20 && u != '\t') || u == 0x7f) {
                *why = "a control character in the head";
                return -1;
            }
        }
        if (first) {
            out->start_line = p;
            first = 0;
        } else {
            char *colon;
            char *v;
            char *ve;
            if (*p == ' ' || *p == '\t') {
                *why = "an obs-fold continuation line (RFC 9112 §5.2)";
                return -1;
            }
            for (colon = p; colon < line_end && is_tchar(*colon); colon++) {
            }
            if (colon == p || colon == line_end || *colon != ':') {
                *why = "a header field without a valid name and ':' (RFC 9112 §5.1)";
                return -1;
            }
            if (out->count == HTTP_MAX_FIELDS) {
                *why = "more than 100 header fields";
                return -1;
            }
            *colon = '\0';
            v = colon + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            ve = line_end;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                *--ve = '\0';
            }
            out->fields[out->count].name = p;
            out->fields[out->count].value = v;
            out->count++;
        }
        p = eol + 1;
    }
    if (out->start_line == NULL) {
        *why = "no start line";
        return -1;
    }
    return 0;
}

char *http_field(const struct http_head *h, const char *name, int *dup) {
    char *found = NULL;
    size_t i;
    for (i = 0; i < h->count; i++) {
        if (strcasecmp(h->fields[i].name, name) == 0) {
            if (found != NULL) {
                if (dup != NULL) {
                    *dup = 1;
                }
                return found;
            }
            found = h->fields[i].value;
        }
    }
    return found;
}

int http_list_has(const char *value, const char *token) {
    size_t n = strlen(token);
    const char *p = value;
    while (p != NULL && *p != '\0') {
        const char *e;
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        e = p;
        while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t') {
            e++;
        }
        if ((size_t)(e - p) == n && strncasecmp(p, token, n) == 0) {
            return 1;
        }
        p = strchr(e, ',');
    }
    return 0;
}

static void append_text(char *out, size_t size, uint32_t code, int32_t type) {
    uint32_t message_context = 0;
    int rounds = 0;
    do {
        uint32_t minor = 0;
        krbap_buffer text;
        size_t used = strlen(out);
        text.length = 0;
        text.value = NULL;
        if (krbap_display_status(&minor, code, type, &message_context, &text) != KRBAP_S_COMPLETE) {
            break;
        }
        snprintf(out + used, size - used, "%s%.*s", used > 0 ? "; " : "", (int)text.length,
                 text.value != NULL ? (const char *)text.value : "");
        (void)krbap_buffer_free(&minor, &text);
    } while (message_context != 0 && ++rounds < 16);
}

void status_text(uint32_t major, uint32_t minor, char *out, size_t size) {
    if (size == 0) {
        return;
    }
    out[0] = '\0';
    append_text(out, size, major, KRBAP_C_GSS_CODE);
    if (minor != 0) {
        append_text(out, size, minor, KRBAP_C_MECH_CODE);
    }
}

void html_escape_append(char *out, size_t size, const char *text) {
    size_t used = strlen(out);
    for (; *text != '\0' && used + 7 < size; text++) {
        const char *rep = NULL;
        switch (*text) {
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep != NULL) {
            memcpy(out + used, rep, strlen(rep));
            used += strlen(rep);
        } else {
            out[used++] = *text;
        }
    }
    out[used] = '\0';
}
