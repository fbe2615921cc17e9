/*
 * The C side of the Go package: krbap.h plus a few shims for calls whose input buffers
 * point into Go memory. cgo forbids passing a Go pointer to memory that itself holds a
 * Go pointer, so a Go-built krbap_buffer { len, &goSlice[0] } cannot be passed; these
 * shims take the bytes as plain (pointer, length) arguments, which cgo allows, and build
 * the descriptors on the C stack. They hold no logic: one krbap call each.
 */
#ifndef KRBAP_GO_SHIM_H
#define KRBAP_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "krbap.h"

uint32_t kg_accept(uint32_t *minor, krbap_ctx **context, const krbap_cred *cred,
                   const void *token, size_t token_length,
                   const krbap_channel_bindings *bindings, krbap_name **src_name,
                   uint32_t *ret_flags, uint32_t *time_rec, krbap_buffer *output,
                   krbap_cred **delegated);

uint32_t kg_init(uint32_t *minor, const krbap_cred *cred, krbap_ctx **context,
                 const krbap_name *target, int32_t mech, uint32_t req_flags,
                 const krbap_channel_bindings *bindings, const void *token,
                 size_t token_length, uint32_t *ret_flags, uint32_t *time_rec,
                 krbap_buffer *output);

uint32_t kg_wrap(uint32_t *minor, krbap_ctx *context, int32_t conf_req, const void *message,
                 size_t message_length, int32_t *conf_state, krbap_buffer *output);

uint32_t kg_unwrap(uint32_t *minor, krbap_ctx *context, const void *token,
                   size_t token_length, krbap_buffer *output, int32_t *conf_state);

uint32_t kg_get_mic(uint32_t *minor, krbap_ctx *context, const void *message,
                    size_t message_length, krbap_buffer *output);

uint32_t kg_verify_mic(uint32_t *minor, krbap_ctx *context, const void *message,
                       size_t message_length, const void *token, size_t token_length);

uint32_t kg_import_name(uint32_t *minor, const void *name, size_t name_length,
                        int32_t name_type, krbap_name **output);

uint32_t kg_http_www_authenticate(uint32_t *minor, const void *token, size_t token_length,
                                  krbap_buffer *value);

uint32_t kg_http_authorization(uint32_t *minor, const void *token, size_t token_length,
                               krbap_buffer *value);

uint32_t kg_import_pac(uint32_t *minor, const void *pac, size_t pac_length, krbap_pac **output);

#endif /* KRBAP_GO_SHIM_H */
