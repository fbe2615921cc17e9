/*
 * Shared code of krbap-http-server and krbap-http-client: HTTP/1.1 message heads
 * (RFC 9112) read with deadlines and size limits, parsed in place; status text.
 * Only what the two programs need: no HTTP library, so every limit is visible here.
 */
#ifndef KRBAP_EXAMPLES_HTTP_COMMON_H
#define KRBAP_EXAMPLES_HTTP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "krbap.h"

/* The largest message head (request or status line and all header fields): room for an
 * Authorization or WWW-Authenticate field with the largest token krbap accepts
 * (KRBAP_HTTP_MAX_HEADER) and 16 KiB of other fields. */
#define HTTP_MAX_HEAD (KRBAP_HTTP_MAX_HEADER + 16384)

/* The most header fields in one message. */
#define HTTP_MAX_FIELDS 100

/* Milliseconds on a monotonic clock. */
int64_t now_ms(void);

/* Sends all n bytes, each wait at most timeout_ms. 0 on success, -1 on error or timeout. */
int http_send_all(int fd, const void *data, size_t n, int timeout_ms);

/* Reads into buf (capacity cap; *len bytes are already there, e.g. a pipelined request)
 * until the end of a message head (an empty line), waiting at most idle_ms for its first
 * byte and head_ms from then on for the rest. Returns the length of the head (through
 * the empty line); bytes after it stay in buf (*len counts them). Otherwise:
 *   0   the peer closed the connection before sending anything (normal end),
 *  -1   read error, or the peer closed in the middle of a head,
 *  -2   a deadline passed (idle or head),
 *  -3   the head is longer than cap (HTTP_MAX_HEAD). */
long http_read_head(int fd, char *buf, size_t cap, size_t *len, int idle_ms, int head_ms);

/* Reads exactly n bytes into out (NULL: discard them), taking first what is in
 * buf[0..*len) and moving the rest of buf down; until deadline (now_ms() clock).
 * 0 on success, -1 on error, end of stream or timeout. */
int http_read_exact(int fd, char *buf, size_t *len, char *out, size_t n, int64_t deadline);

/* Reads one line (through LF) of at most max bytes into line (NUL-terminated, CR/LF
 * stripped), like http_read_exact. 0 on success, -1 on error, timeout or a long line. */
int http_read_line(int fd, char *buf, size_t *len, char *line, size_t max, int64_t deadline);

struct http_field {
    const char *name;  /* NUL-terminated, as received */
    char *value;       /* NUL-terminated, without surrounding whitespace */
};

struct http_head {
    char *start_line;  /* request line or status line, NUL-terminated */
    struct http_field fields[HTTP_MAX_FIELDS];
    size_t count;
};

/* Parses a head of head_len bytes in place (lines end in CRLF or LF; the buffer is
 * changed: NULs end the parts). Rejects obs-fold continuation lines, whitespace before
 * a colon, control characters and more than HTTP_MAX_FIELDS fields. 0 on success, -1
 * with a reason in why (a static string) otherwise. */
int http_parse_head(char *head, size_t head_len, struct http_head *out, const char **why);

/* The value of the only field called name (case-insensitive); NULL when absent. When
 * it occurs more than once, *dup (if not NULL) is set to 1 and the first is returned. */
char *http_field(const struct http_head *h, const char *name, int *dup);

/* True when the comma-separated list value (e.g. Connection) contains token
 * (case-insensitive). */
int http_list_has(const char *value, const char *token);

/* The text of a major and a minor status, as krbap_display_status gives them (the
 * minor's text carries the detail of this thread's last failure), joined with "; ". */
void status_text(uint32_t major, uint32_t minor, char *out, size_t size);

/* Appends text to out (capacity size, NUL-terminated) with HTML's special characters
 * escaped. */
void html_escape_append(char *out, size_t size, const char *text);

#endif /* KRBAP_EXAMPLES_HTTP_COMMON_H */
