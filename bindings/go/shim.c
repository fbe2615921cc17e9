/* See shim.h: (pointer, length) arguments from Go turned into krbap_buffer descriptors. */
#include "shim.h"

static krbap_buffer kg_buffer(const void *value, size_t length) {
    krbap_buffer b;
    b.length = length;
    b.value = (void *)value;
    return b;
}

uint32_t kg_accept(uint32_t *minor, krbap_ctx **context, const krbap_cred *cred,
                   const void *token, size_t token_length,
                   const krbap_channel_bindings *bindings, krbap_name **src_name,
                   uint32_t *ret_flags, uint32_t *time_rec, krbap_buffer *output,
                   krbap_cred **delegated) {
    krbap_buffer in = kg_buffer(token, token_length);
    return krbap_accept_sec_context(minor, context, cred, &in, bindings, src_name, ret_flags,
                                    time_rec, output, delegated);
}

uint32_t kg_init(uint32_t *minor, const krbap_cred *cred, krbap_ctx **context,
                 const krbap_name *target, int32_t mech, uint32_t req_flags,
                 const krbap_channel_bindings *bindings, const void *token,
                 size_t token_length, uint32_t *ret_flags, uint32_t *time_rec,
                 krbap_buffer *output) {
    krbap_buffer in = kg_buffer(token, token_length);
    return krbap_init_sec_context_mech(minor, cred, context, target, mech, req_flags, bindings,
                                       token_length > 0 ? &in : NULL, ret_flags, time_rec,
                                       output);
}

uint32_t kg_wrap(uint32_t *minor, krbap_ctx *context, int32_t conf_req, const void *message,
                 size_t message_length, int32_t *conf_state, krbap_buffer *output) {
    krbap_buffer in = kg_buffer(message, message_length);
    return krbap_wrap(minor, context, conf_req, 0, &in, conf_state, output);
}

uint32_t kg_unwrap(uint32_t *minor, krbap_ctx *context, const void *token,
                   size_t token_length, krbap_buffer *output, int32_t *conf_state) {
    krbap_buffer in = kg_buffer(token, token_length);
    return krbap_unwrap(minor, context, &in, output, conf_state, NULL);
}

uint32_t kg_get_mic(uint32_t *minor, krbap_ctx *context, const void *message,
                    size_t message_length, krbap_buffer *output) {
    krbap_buffer in = kg_buffer(message, message_length);
    return krbap_get_mic(minor, context, 0, &in, output);
}

uint32_t kg_verify_mic(uint32_t *minor, krbap_ctx *context, const void *message,
                       size_t message_length, const void *token, size_t token_length) {
    krbap_buffer msg = kg_buffer(message, message_length);
    krbap_buffer tok = kg_buffer(token, token_length);
    return krbap_verify_mic(minor, context, &msg, &tok, NULL);
}

uint32_t kg_import_name(uint32_t *minor, const void *name, size_t name_length,
                        int32_t name_type, krbap_name **output) {
    krbap_buffer in = kg_buffer(name, name_length);
    return krbap_import_name(minor, &in, name_type, output);
}

/* The HTTP header helpers that take a token from Go. (Those that read a header value get a
 * C string made by C.CString.) */
uint32_t kg_http_www_authenticate(uint32_t *minor, const void *token, size_t token_length,
                                  krbap_buffer *value) {
    krbap_buffer in = kg_buffer(token, token_length);
    return krbap_http_www_authenticate(minor, &in, value);
}

uint32_t kg_http_authorization(uint32_t *minor, const void *token, size_t token_length,
                               krbap_buffer *value) {
    krbap_buffer in = kg_buffer(token, token_length);
    return krbap_http_authorization(minor, &in, value);
}

uint32_t kg_import_pac(uint32_t *minor, const void *pac, size_t pac_length, krbap_pac **output) {
    krbap_buffer in = kg_buffer(pac, pac_length);
    return krbap_import_pac(minor, &in, output);
}
