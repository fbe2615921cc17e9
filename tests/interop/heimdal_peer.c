/*
 * heimdal_peer - Heimdal's GSS-API SPNEGO (libgssapi.so.3) as a line-oriented test peer
 * for tests/interop/spnego_matrix.py (built by tests/interop/heimdal.sh).
 *
 *   heimdal_peer init SERVICE@HOST [-nomutual]   prints its first token, then for each
 *                                                answer line prints its output and status
 *   heimdal_peer accept                          for each token line: output and status
 *
 * Tokens are hex lines ("-": none). After each call: a token line, then
 * "STATUS <major, hex> <peer name or ->". Env: KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME.
 */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_spnego.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_token(const gss_buffer_desc *b) {
    size_t i;
    if (b->length == 0) {
        printf("-\n");
    }
    for (i = 0; i < b->length; i++) {
        printf("%02x%s", ((const unsigned char *)b->value)[i], i + 1 == b->length ? "\n" : "");
    }
}

/* Reads one hex line into a malloc'd buffer; returns -1 at the end of input. */
static int get_token(gss_buffer_desc *b) {
    static char line[1 << 20];
    size_t n, i;
    unsigned char *v;
    if (fgets(line, sizeof line, stdin) == NULL) {
        return -1;
    }
    n = strcspn(line, "\r\n") / 2;
    v = malloc(n + 1);
    for (i = 0; i < n; i++) {
        unsigned x = 0;
        sscanf(line + 2 * i, "%2x", &x);
        v[i] = (unsigned char)x;
    }
    b->length = line[0] == '-' ? 0 : n;
    b->value = v;
    return 0;
}

static void status(OM_uint32 major, gss_name_t name) {
    OM_uint32 minor;
    gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
    if (name != GSS_C_NO_NAME && gss_display_name(&minor, name, &text, NULL) == 0) {
        printf("STATUS %x %.*s\n", (unsigned)major, (int)text.length, (const char *)text.value);
        gss_release_buffer(&minor, &text);
    } else {
        printf("STATUS %x -\n", (unsigned)major);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    OM_uint32 major = GSS_S_CONTINUE_NEEDED, minor;
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    if (argc >= 3 && strcmp(argv[1], "init") == 0) {
        gss_name_t target;
        gss_buffer_desc nb;
        OM_uint32 flags = GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | GSS_C_SEQUENCE_FLAG;
        int first = 1;
        if (argc < 4 || strcmp(argv[3], "-nomutual") != 0) {
            flags |= GSS_C_MUTUAL_FLAG;
        }
        nb.length = strlen(argv[2]);
        nb.value = argv[2];
        if (gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target) != 0) {
            return 2;
        }
        while (major == GSS_S_CONTINUE_NEEDED) {
            if (!first && get_token(&in) != 0) {
                return 1;
            }
            major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target,
                                         GSS_SPNEGO_MECHANISM, flags, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                         first ? GSS_C_NO_BUFFER : &in, NULL, &out, NULL, NULL);
            first = 0;
            free(in.value);
            in.value = NULL;
            put_token(&out);
            gss_release_buffer(&minor, &out);
            status(major, GSS_C_NO_NAME);
        }
        return major == GSS_S_COMPLETE ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "accept") == 0) {
        gss_name_t src = GSS_C_NO_NAME;
        while (major == GSS_S_CONTINUE_NEEDED) {
            if (get_token(&in) != 0) {
                return 1;
            }
            major = gss_accept_sec_context(&minor, &ctx, GSS_C_NO_CREDENTIAL, &in,
                                           GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &out, NULL,
                                           NULL, NULL);
            free(in.value);
            in.value = NULL;
            put_token(&out);
            gss_release_buffer(&minor, &out);
            status(major, major == GSS_S_COMPLETE ? src : GSS_C_NO_NAME);
        }
        return major == GSS_S_COMPLETE ? 0 : 1;
    }
    fprintf(stderr, "usage: heimdal_peer init SERVICE@HOST [-nomutual] | heimdal_peer accept\n");
    return 2;
}
