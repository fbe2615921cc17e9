/*
 * The acceptor's memory replay cache through the C ABI (issue #19): its counters
 * (krbap_cred_replay_cache_stats) follow what the acceptor did, and its cap
 * (krbap_cred_set_replay_cache_max_bytes) makes the acceptor fail closed with
 * KRBAP_S_FAILURE / KRB5_RC_MALLOC, the detail naming the cap, while a stored token is
 * still refused as a replay; raising the cap again lets new tokens in. Other cache kinds
 * have no counters and no cap (KRBAP_S_UNAVAILABLE); NULL arguments are calling errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krbap.h"
#include "krbap_test.h"
#include "fixtures.h"

#define KRB5_RC_MALLOC FX_KRB5(160)

static long long T;

/* A fresh krbap token for test@localhost at the initiator time `now`; *out receives it. */
static void mint(long long now, krbap_buffer *out) {
    uint32_t minor = 0;
    krbap_cred *ic = fx_initiator(now);
    krbap_name *target = fx_name("test@localhost", KRBAP_NT_HOSTBASED_SERVICE);
    krbap_ctx *ctx = NULL;
    (void)fx_initial_token(ic, target, 0, NULL, &ctx, out);
    if (ctx != NULL) {
        (void)krbap_delete_sec_context(&minor, &ctx, NULL);
    }
    krbap_release_name(&minor, &target);
    krbap_release_cred(&minor, &ic);
}

static int stats(const krbap_cred *ac, krbap_replay_cache_stats *st) {
    uint32_t minor = 0;
    memset(st, 0xff, sizeof *st);
    return krbap_cred_replay_cache_stats(&minor, ac, st) == KRBAP_S_COMPLETE ? 0 : -1;
}

int main(void) {
    uint32_t minor = 0;
    uint32_t major;
    krbap_replay_cache_stats st;
    krbap_buffer a = fx_empty(), b = fx_empty(), c = fx_empty();
    krbap_buffer text = fx_empty();
    krbap_cred *ac;
    char msg[256];

    T = fx_capture_time();
    ac = fx_acceptor(T);
    CHECK(ac != NULL, "acceptor on the fixture keytab");
    if (ac == NULL) {
        return TEST_SUMMARY();
    }

    CHECK(stats(ac, &st) == 0, "a new acceptor's memory cache has counters");
    CHECK(st.entries == 0 && st.stored == 0 && st.replays == 0 && st.rejected_full == 0,
          "all zero at first");
    CHECK(st.max_bytes == 256u * 1024 * 1024, "the default cap is 256 MiB");

    /* b and c carry later client times, in later generations of the cache (37 s each). */
    mint(T, &a);
    mint(T + 40, &b);
    mint(T + 80, &c);
    CHECK(a.length > 0 && b.length > 0 && c.length > 0, "three fresh tokens");
    CHECK(fx_accept_status(ac, a.value, a.length, NULL, &minor) == KRBAP_S_COMPLETE,
          "token a accepted");
    major = fx_accept_status(ac, a.value, a.length, NULL, &minor);
    CHECK(major == (KRBAP_S_FAILURE | KRBAP_S_DUPLICATE_TOKEN) && minor == KRB5KRB_AP_ERR_REPEAT,
          "token a again: a replay");
    CHECK(stats(ac, &st) == 0 && st.entries == 1 && st.stored == 1 && st.replays == 1 &&
              st.bytes > 0 && st.bytes <= 4096,
          "counters: 1 entry, 1 stored, 1 replay, one small table");

    /* A cap below what the cache holds: nothing is forgotten, and an authenticator that
     * needs more memory (a new generation) is refused. */
    CHECK(krbap_cred_set_replay_cache_max_bytes(&minor, ac, 1) == KRBAP_S_COMPLETE,
          "cap set to 1 byte");
    (void)krbap_cred_set_time(&minor, ac, (int64_t)(T + 40));
    major = fx_accept_status(ac, b.value, b.length, NULL, &minor);
    CHECK(major == KRBAP_S_FAILURE && minor == KRB5_RC_MALLOC,
          "token b at the cap: KRBAP_S_FAILURE / KRB5_RC_MALLOC");
    {
        uint32_t context = 0, ignored = 0;
        (void)krbap_display_status(&ignored, minor, KRBAP_C_MECH_CODE, &context, &text);
        snprintf(msg, sizeof msg, "%.*s", (int)text.length, (const char *)text.value);
        fx_free(&text);
        CHECK(strstr(msg, "replay cache") != NULL && strstr(msg, "cap of 1 bytes") != NULL,
              "the reason names the replay cache and its cap");
        printf("at the cap: %s\n", msg);
    }
    major = fx_accept_status(ac, a.value, a.length, NULL, &minor);
    CHECK(major == (KRBAP_S_FAILURE | KRBAP_S_DUPLICATE_TOKEN) && minor == KRB5KRB_AP_ERR_REPEAT,
          "token a at the cap: still a replay");
    CHECK(stats(ac, &st) == 0 && st.rejected_full == 1 && st.max_bytes == 1 && st.entries == 1,
          "counters: 1 refused at the cap");

    /* Back to the default cap: token b is fresh (it was refused, not recorded). */
    CHECK(krbap_cred_set_replay_cache_max_bytes(&minor, ac, 0) == KRBAP_S_COMPLETE,
          "cap 0: the default again");
    CHECK(fx_accept_status(ac, b.value, b.length, NULL, &minor) == KRBAP_S_COMPLETE,
          "token b accepted after the cap was raised");
    CHECK(krbap_cred_set_replay_cache_max_bytes(&minor, ac, UINT64_MAX) == KRBAP_S_COMPLETE,
          "no cap");
    (void)krbap_cred_set_time(&minor, ac, (int64_t)(T + 80));
    CHECK(fx_accept_status(ac, c.value, c.length, NULL, &minor) == KRBAP_S_COMPLETE,
          "token c accepted");
    CHECK(stats(ac, &st) == 0 && st.entries == 3 && st.stored == 3 && st.replays == 2 &&
              st.rejected_full == 1 && st.max_bytes == UINT64_MAX,
          "counters: 3 entries, 3 stored, 2 replays, 1 refused at the cap");

    /* Other kinds of cache have neither; calling errors. */
    CHECK(krbap_cred_set_replay_cache(&minor, ac, "none:") == KRBAP_S_COMPLETE, "none: cache");
    CHECK(krbap_cred_replay_cache_stats(&minor, ac, &st) == KRBAP_S_UNAVAILABLE && st.entries == 0,
          "no counters for none: (stats zeroed)");
    CHECK(krbap_cred_set_replay_cache_max_bytes(&minor, ac, 1024) == KRBAP_S_UNAVAILABLE,
          "no cap for none:");
    CHECK(krbap_cred_replay_cache_stats(&minor, ac, NULL) ==
              (KRBAP_S_CALL_INACCESSIBLE_WRITE),
          "NULL stats pointer");
    CHECK(FX_IS_ERROR(krbap_cred_replay_cache_stats(&minor, NULL, &st)), "NULL credential");
    {
        krbap_cred *ic = fx_initiator(T);
        CHECK(FX_IS_ERROR(krbap_cred_replay_cache_stats(&minor, ic, &st)),
              "an initiator credential has no replay cache");
        krbap_release_cred(&minor, &ic);
    }

    fx_free(&a);
    fx_free(&b);
    fx_free(&c);
    krbap_release_cred(&minor, &ac);
    return TEST_SUMMARY();
}
