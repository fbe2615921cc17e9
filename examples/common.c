/*
 * Shared code of krbap-client and krbap-server; see common.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

void ignore_sigpipe(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGPIPE, &sa, NULL);
}

int parse_long(const char *text, long long min, long long max, long long *out) {
    char *end = NULL;
    long long v;
    if (text == NULL || *text == '\0') {
        return -1;
    }
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int parse_port(const char *text, unsigned short *port) {
    long long v;
    if (parse_long(text, 1, 65535, &v) != 0) {
        fprintf(stderr, "invalid port \"%s\" (expected 1-65535)\n", text);
        return -1;
    }
    *port = (unsigned short)v;
    return 0;
}

void set_io_timeouts(int fd) {
    struct timeval tv;
    tv.tv_sec = IO_TIMEOUT_SECONDS;
    tv.tv_usec = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int connect_to_server(const char *host, unsigned short port) {
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    char service[16];
    int fd = -1;
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "Unknown host: %s (%s)\n", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        perror("connecting to server");
    } else {
        set_io_timeouts(fd);
    }
    freeaddrinfo(res);
    return fd;
}

static int bind_and_listen(int family, unsigned short port) {
    int on = 1;
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6) {
        struct sockaddr_in6 a6;
        int off = 0;
        /* Dual stack, so that MIT's IPv4-only gss-client can connect. */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        memset(&a6, 0, sizeof a6);
        a6.sin6_family = AF_INET6;
        a6.sin6_addr = in6addr_any;
        a6.sin6_port = htons(port);
        if (bind(fd, (struct sockaddr *)&a6, sizeof a6) < 0) {
            close(fd);
            return -1;
        }
    } else {
        struct sockaddr_in a4;
        memset(&a4, 0, sizeof a4);
        a4.sin_family = AF_INET;
        a4.sin_addr.s_addr = htonl(INADDR_ANY);
        a4.sin_port = htons(port);
        if (bind(fd, (struct sockaddr *)&a4, sizeof a4) < 0) {
            close(fd);
            return -1;
        }
    }
    if (listen(fd, 16) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int create_listener(unsigned short port) {
    int fd = bind_and_listen(AF_INET6, port);
    if (fd < 0) {
        fd = bind_and_listen(AF_INET, port);
    }
    if (fd < 0) {
        perror("binding/listening on socket");
    }
    return fd;
}

/* Writes all bytes; MSG_NOSIGNAL as a second guard against SIGPIPE. */
static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (w == 0) {
            return -1;
        }
        p += (size_t)w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes. Returns n, fewer at end of stream, or -1 on error/timeout. */
static long read_all(int fd, unsigned char *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (long)got;
}

int send_token(int fd, int flags, const void *data, size_t length) {
    unsigned char header[5];
    size_t header_len = 0;
    if (length > 0xffffffffu) {
        fprintf(stderr, "token too long to send (%zu bytes)\n", length);
        return -1;
    }
    if (flags != 0) {
        header[header_len++] = (unsigned char)flags;
    }
    header[header_len++] = (unsigned char)(length >> 24);
    header[header_len++] = (unsigned char)(length >> 16);
    header[header_len++] = (unsigned char)(length >> 8);
    header[header_len++] = (unsigned char)length;
    if (write_all(fd, header, header_len) != 0 ||
        (length > 0 && write_all(fd, (const unsigned char *)data, length) != 0)) {
        fprintf(stderr, "sending token: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int recv_token(int fd, int *flags, unsigned char **data, size_t *length) {
    unsigned char flag_byte;
    unsigned char lenbuf[4];
    size_t need;
    unsigned char *buf;
    long r;

    *data = NULL;
    *length = 0;
    r = read_all(fd, &flag_byte, 1);
    if (r < 0) {
        fprintf(stderr, "reading token flags: %s\n", strerror(errno));
        return -1;
    }
    if (r == 0) {
        fprintf(stderr, "reading token flags: connection closed by peer\n");
        return -1;
    }
    *flags = flag_byte;
    if (flag_byte == 0) {
        /* v1 format: no flags byte; this byte was the first byte of the length. */
        lenbuf[0] = 0;
        r = read_all(fd, lenbuf + 1, 3);
        need = 3;
    } else {
        r = read_all(fd, lenbuf, 4);
        need = 4;
    }
    if (r < 0 || (size_t)r != need) {
        fprintf(stderr, "reading token length: %s\n", r < 0 ? strerror(errno) : "short read");
        return -1;
    }
    need = ((size_t)lenbuf[0] << 24) | ((size_t)lenbuf[1] << 16) | ((size_t)lenbuf[2] << 8) |
           (size_t)lenbuf[3];
    if (need > MAX_TOKEN_LENGTH) {
        fprintf(stderr, "peer announced a %zu-byte token; the limit is %u bytes\n", need,
                MAX_TOKEN_LENGTH);
        return -1;
    }
    buf = (unsigned char *)malloc(need > 0 ? need : 1);
    if (buf == NULL) {
        fprintf(stderr, "out of memory for a %zu-byte token\n", need);
        return -1;
    }
    r = read_all(fd, buf, need);
    if (r < 0 || (size_t)r != need) {
        fprintf(stderr, "reading token data: %s (%ld of %zu bytes)\n",
                r < 0 ? strerror(errno) : "short read", r < 0 ? 0L : r, need);
        free(buf);
        return -1;
    }
    *data = buf;
    *length = need;
    return 0;
}

static void display_one(const char *prefix, uint32_t code, int32_t type) {
    uint32_t message_context = 0;
    int rounds = 0;
    do {
        uint32_t minor = 0;
        krbap_buffer text;
        uint32_t major;
        text.length = 0;
        text.value = NULL;
        major = krbap_display_status(&minor, code, type, &message_context, &text);
        if (MAJOR_IS_ERROR(major)) {
            fprintf(stderr, "%s: (status 0x%08x could not be displayed)\n", prefix, (unsigned)code);
            break;
        }
        fprintf(stderr, "%s: %.*s\n", prefix, (int)text.length,
                text.value != NULL ? (const char *)text.value : "");
        (void)krbap_buffer_free(&minor, &text);
        /* A bound, in case of a library bug that never resets message_context. */
    } while (message_context != 0 && ++rounds < 16);
}

void display_status(const char *prefix, uint32_t major, uint32_t minor) {
    char label[256];
    snprintf(label, sizeof label, "GSS-API error %s (major 0x%08x)", prefix, (unsigned)major);
    display_one(label, major, KRBAP_C_GSS_CODE);
    snprintf(label, sizeof label, "GSS-API error %s (minor %d)", prefix, (int)(int32_t)minor);
    display_one(label, minor, KRBAP_C_MECH_CODE);
}

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    {KRBAP_C_DELEG_FLAG, "DELEG"},     {KRBAP_C_MUTUAL_FLAG, "MUTUAL"},
    {KRBAP_C_REPLAY_FLAG, "REPLAY"},   {KRBAP_C_SEQUENCE_FLAG, "SEQUENCE"},
    {KRBAP_C_CONF_FLAG, "CONF"},       {KRBAP_C_INTEG_FLAG, "INTEG"},
    {KRBAP_C_ANON_FLAG, "ANON"},       {KRBAP_C_PROT_READY_FLAG, "PROT_READY"},
    {KRBAP_C_TRANS_FLAG, "TRANS"},
};

void flags_to_text(uint32_t flags, char *out, size_t out_size) {
    size_t i;
    size_t used = 0;
    if (out_size == 0) {
        return;
    }
    out[0] = '\0';
    for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (flags & flag_names[i].bit) {
            int n = snprintf(out + used, out_size - used, "%s%s", used ? "|" : "",
                             flag_names[i].name);
            if (n < 0 || (size_t)n >= out_size - used) {
                return;
            }
            used += (size_t)n;
        }
    }
    if (used == 0) {
        snprintf(out, out_size, "none");
    }
}

void display_ctx_flags(const char *who, uint32_t flags) {
    size_t i;
    for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (flags & flag_names[i].bit) {
            printf("%s context flag: GSS_C_%s_FLAG\n", who, flag_names[i].name);
        }
    }
}

const char *enctype_name(int32_t enctype, char *scratch, size_t scratch_size) {
    switch (enctype) {
    case 16:
        return "des3-cbc-sha1";
    case 17:
        return "aes128-cts-hmac-sha1-96";
    case 18:
        return "aes256-cts-hmac-sha1-96";
    case 19:
        return "aes128-cts-hmac-sha256-128";
    case 20:
        return "aes256-cts-hmac-sha384-192";
    case 23:
        return "arcfour-hmac";
    case 25:
        return "camellia128-cts-cmac";
    case 26:
        return "camellia256-cts-cmac";
    default:
        snprintf(scratch, scratch_size, "enctype %d", (int)enctype);
        return scratch;
    }
}

const char *ad_type_name(int32_t ad_type) {
    switch (ad_type) {
    case 1:
        return "AD-IF-RELEVANT";
    case 4:
        return "AD-KDC-ISSUED";
    case 5:
        return "AD-AND-OR";
    case 8:
        return "AD-MANDATORY-FOR-KDC";
    case 128:
        return "AD-WIN2K-PAC";
    case 129:
        return "AD-ETYPE-NEGOTIATION";
    case 141:
        return "KERB-AUTH-DATA-TOKEN-RESTRICTIONS";
    case 142:
        return "KERB-LOCAL";
    case 143:
        return "AD-AUTH-DATA-AP-OPTIONS";
    case 512:
        return "AD-CAMMAC";
    default:
        return "unknown";
    }
}

void format_time(int64_t unix_time, char *out, size_t out_size) {
    struct tm tm;
    time_t t = (time_t)unix_time;
    if (out_size == 0) {
        return;
    }
    if (gmtime_r(&t, &tm) == NULL || strftime(out, out_size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, out_size, "%lld", (long long)unix_time);
    }
}

void name_to_text(const krbap_name *name, char *out, size_t out_size) {
    uint32_t minor = 0;
    krbap_buffer text;
    text.length = 0;
    text.value = NULL;
    if (out_size == 0) {
        return;
    }
    if (MAJOR_IS_ERROR(krbap_display_name(&minor, name, &text))) {
        snprintf(out, out_size, "?");
        return;
    }
    snprintf(out, out_size, "%.*s", (int)(text.length > INT_MAX ? INT_MAX : text.length),
             text.value != NULL ? (const char *)text.value : "");
    (void)krbap_buffer_free(&minor, &text);
}

/* The offset of the mechanism OID's TLV in an RFC 2743 §3.1 token ([APPLICATION 0] with
 * a DER length, then the OID); 0 when it is not one. */
static size_t mech_oid_offset(const unsigned char *token, size_t length) {
    size_t pos = 2;
    if (token == NULL || length < 2 || token[0] != 0x60) {
        return 0;
    }
    if (token[1] & 0x80) {
        size_t n = token[1] & 0x7f;
        if (n == 0 || n > 4 || length < 2 + n) {
            return 0;
        }
        pos = 2 + n;
    }
    if (length < pos + 2 || token[pos] != 0x06 || (token[pos + 1] & 0x80) ||
        length < pos + 2 + token[pos + 1]) {
        return 0;
    }
    return pos;
}

int gss_token_id(const unsigned char *token, size_t length) {
    size_t pos = mech_oid_offset(token, length);
    if (pos == 0) {
        return -1;
    }
    pos += 2 + token[pos + 1];
    if (length < pos + 2) {
        return -1;
    }
    return (token[pos] << 8) | token[pos + 1];
}

int is_spnego_token(const unsigned char *token, size_t length) {
    static const unsigned char spnego[] = {0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
    size_t pos = mech_oid_offset(token, length);
    return pos != 0 && length >= pos + sizeof spnego &&
           memcmp(token + pos, spnego, sizeof spnego) == 0;
}

void print_hex(const unsigned char *data, size_t length) {
    size_t i;
    for (i = 0; i < length; i++) {
        printf("%02x%s", data[i], (i % 16 == 15 || i + 1 == length) ? "\n" : " ");
    }
}

void print_message(const char *label, const unsigned char *data, size_t length) {
    size_t i;
    size_t shown = length > 4096 ? 4096 : length;
    int printable = 1;
    for (i = 0; i < shown; i++) {
        unsigned char c = data[i];
        if (!((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r')) {
            printable = 0;
            break;
        }
    }
    if (printable) {
        printf("%s: \"%.*s\"%s\n", label, (int)shown, data != NULL ? (const char *)data : "",
               shown < length ? " (truncated)" : "");
    } else {
        printf("%s (%zu bytes, hex%s):\n", label, length, shown < length ? ", first 4096" : "");
        print_hex(data, shown);
    }
}
