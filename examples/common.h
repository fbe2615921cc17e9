/*
 * Shared code of krbap-client and krbap-server: the framing of MIT krb5's gss-sample
 * programs (gss-client / gss-server), status display and a few printing helpers.
 *
 * Wire format (MIT src/appl/gss-sample/gss-misc.c): every token is one flags byte
 * (TOKEN_*), a 4-byte big-endian length, then that many bytes. A flags byte of 0 is
 * the old "v1" format, in which there is no flags byte and the length is 4 bytes; as
 * MIT's recv_token does, a 0 byte is then taken as the first byte of the length.
 */
#ifndef KRBAP_EXAMPLES_COMMON_H
#define KRBAP_EXAMPLES_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "krbap.h"

/* Token flags of the gss-sample protocol (gss-misc.h). */
#define TOKEN_NOOP (1 << 0)
#define TOKEN_CONTEXT (1 << 1)
#define TOKEN_DATA (1 << 2)
#define TOKEN_MIC (1 << 3)
#define TOKEN_CONTEXT_NEXT (1 << 4)
#define TOKEN_WRAPPED (1 << 5)
#define TOKEN_ENCRYPTED (1 << 6)
#define TOKEN_SEND_MIC (1 << 7)

/* MIT's gss-sample port. */
#define DEFAULT_PORT 4444

/* The largest token either program accepts from its peer (a misbehaving peer must not
 * make us allocate gigabytes). */
#define MAX_TOKEN_LENGTH (16u * 1024u * 1024u)

/* Seconds to wait for the peer before giving up on a read or a write. */
#define IO_TIMEOUT_SECONDS 30

/* True when a major status is an error (RFC 2744 GSS_ERROR): a calling or routine error. */
#define MAJOR_IS_ERROR(major) (((major) & 0xffff0000u) != 0)

/* MIT com_err codes (krb5.h) the programs explain: KRB5KRB_AP_ERR_* = base + n. */
#define KRB5_AP_ERR(n) ((uint32_t)(int32_t)(-1765328384 + (n)))
#define KRB5KRB_AP_ERR_BAD_INTEGRITY KRB5_AP_ERR(31)
#define KRB5KRB_AP_ERR_TKT_EXPIRED KRB5_AP_ERR(32)
#define KRB5KRB_AP_ERR_TKT_NYV KRB5_AP_ERR(33)
#define KRB5KRB_AP_ERR_REPEAT KRB5_AP_ERR(34)
#define KRB5KRB_AP_ERR_NOT_US KRB5_AP_ERR(35)
#define KRB5KRB_AP_ERR_BADMATCH KRB5_AP_ERR(36)
#define KRB5KRB_AP_ERR_SKEW KRB5_AP_ERR(37)
#define KRB5KRB_AP_ERR_BADADDR KRB5_AP_ERR(38)
#define KRB5KRB_AP_ERR_BADKEYVER KRB5_AP_ERR(44)
#define KRB5KRB_AP_ERR_NOKEY KRB5_AP_ERR(45)
#define KRB5KRB_AP_ERR_MUT_FAIL KRB5_AP_ERR(46)
#define KRB5KRB_AP_WRONG_PRINC KRB5_AP_ERR(144)
#define KRB5KRB_AP_ERR_TKT_INVALID KRB5_AP_ERR(145)
#define KRB5_RC_MALLOC KRB5_AP_ERR(160) /* the memory replay cache at its cap */

/* Ignores SIGPIPE so that a peer closing the connection yields EPIPE, not death. */
void ignore_sigpipe(void);

/* Parses a TCP port (1-65535). Returns 0 on success, -1 (with a message) otherwise. */
int parse_port(const char *text, unsigned short *port);

/* Parses a decimal integer that must fit in [min, max]. Returns 0 or -1. */
int parse_long(const char *text, long long min, long long max, long long *out);

/* Opens a TCP connection to host:port (IPv4 or IPv6). Returns the socket or -1. */
int connect_to_server(const char *host, unsigned short port);

/* Opens a listening TCP socket on port (IPv6 dual stack when possible). -1 on failure. */
int create_listener(unsigned short port);

/* Sets read/write timeouts on a connected socket. */
void set_io_timeouts(int fd);

/* Sends one token: flags byte (omitted when 0, as MIT), 4-byte length, data.
 * Returns 0 on success, -1 on any failure (short write, closed peer, timeout). */
int send_token(int fd, int flags, const void *data, size_t length);

/* Receives one token. On success returns 0 and *data is a malloc'ed buffer of *length
 * bytes (non-NULL even when empty) that the caller frees. Returns -1 on end of stream,
 * a short read, a timeout or a length above MAX_TOKEN_LENGTH. */
int recv_token(int fd, int *flags, unsigned char **data, size_t *length);

/* Prints "<prefix>: <text>" for every message of the major status, then the minor
 * status, on stderr (krbap_display_status; MIT's display_status does the same). */
void display_status(const char *prefix, uint32_t major, uint32_t minor);

/* Prints the context flags one per line, as MIT's display_ctx_flags. */
void display_ctx_flags(const char *who, uint32_t flags);

/* Writes the names of the set flags into out (e.g. "MUTUAL|REPLAY|CONF"). */
void flags_to_text(uint32_t flags, char *out, size_t out_size);

/* The name of an enctype number (RFC 3961 registry), or "enctype N". */
const char *enctype_name(int32_t enctype, char *scratch, size_t scratch_size);

/* The name of an authorization-data type (RFC 4120 §7.5.4), or "unknown". */
const char *ad_type_name(int32_t ad_type);

/* Formats a Unix time as "YYYY-MM-DD HH:MM:SS UTC". */
void format_time(int64_t unix_time, char *out, size_t out_size);

/* Prints a name with krbap_display_name into out ("?" on failure). */
void name_to_text(const krbap_name *name, char *out, size_t out_size);

/* The RFC 4121 TOK_ID of a GSS framed token (0x60, DER length, mech OID, TOK_ID), e.g.
 * 0x0200 for KRB_AP_REP and 0x0300 for KRB-ERROR; -1 when it is not one. */
int gss_token_id(const unsigned char *token, size_t length);

/* True when the token is a SPNEGO initial token (RFC 2743 framing, OID 1.3.6.1.5.5.2). */
int is_spnego_token(const unsigned char *token, size_t length);

/* Hex dump of a token, 16 bytes a line (MIT's print_token). */
void print_hex(const unsigned char *data, size_t length);

/* Prints a received message: quoted when printable, else as hex (at most 4096 bytes). */
void print_message(const char *label, const unsigned char *data, size_t length);

#endif /* KRBAP_EXAMPLES_COMMON_H */
