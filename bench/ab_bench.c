/*
 * ab_bench - two krbap builds against each other in one process, on the same MIT tokens.
 *
 * Each library file is loaded with dlopen(RTLD_LOCAL), so both builds' krbap_* symbols live
 * side by side; the accept loop (accept, free the reply, delete the context, as in
 * krbap_bench) runs over the same MIT initial tokens in alternating chunks, so that a change
 * of machine load hits both alike. Prints the median time per accept of each build and the
 * median of the per-round ratios A/B (below 1: A is faster). Two copies of one build read
 * 0.99-1.03 on the 2-CPU VM of the README: differences below ~3% are noise.
 *
 * Usage: ab_bench LIB_A LIB_B [N] [ROUNDS]   (N tokens, default 10000; ROUNDS default 10)
 * Env:   AB_SERVICE (default test-aes256-sha1@localhost), AB_RCACHE (krbap replay cache,
 *        default none:), AB_KEEP_MIT=1 (keep the N MIT initiator contexts alive around the
 *        tokens, as krbap_bench does), AB_MIT=1 (run MIT's acceptor, without replay cache,
 *        on each chunk between the two builds, as krbap_bench interleaves it).
 * The environment is the realm's (tests/interop/realm.sh: KRB5_CONFIG, KRB5CCNAME,
 * KRB5_KTNAME); scripts/bench-ab.sh sets it up.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "krbap.h"

/* One build's entry points, typed from krbap.h (its ABI is what both builds share). */
typedef struct {
  const char *path;
  __typeof__(&krbap_import_name) import_name;
  __typeof__(&krbap_acquire_cred) acquire;
  __typeof__(&krbap_cred_set_replay_cache) set_rcache;
  __typeof__(&krbap_accept_sec_context) accept;
  __typeof__(&krbap_delete_sec_context) delete_ctx;
  __typeof__(&krbap_buffer_free) buffer_free;
  krbap_cred *cred;
} build;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "ab_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *sym(void *h, const char *name) {
  void *p = dlsym(h, name);
  if (!p) die("missing symbol", name);
  return p;
}

static void load(build *b, const char *path, const char *service, const char *rcache) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) die("dlopen", dlerror());
  b->path = path;
  *(void **)&b->import_name = sym(h, "krbap_import_name");
  *(void **)&b->acquire = sym(h, "krbap_acquire_cred");
  *(void **)&b->set_rcache = sym(h, "krbap_cred_set_replay_cache");
  *(void **)&b->accept = sym(h, "krbap_accept_sec_context");
  *(void **)&b->delete_ctx = sym(h, "krbap_delete_sec_context");
  *(void **)&b->buffer_free = sym(h, "krbap_buffer_free");
  uint32_t minor;
  krbap_name *name = NULL;
  krbap_buffer nb = {strlen(service), (void *)service};
  if (b->import_name(&minor, &nb, KRBAP_NT_HOSTBASED_SERVICE, &name)) die("krbap_import_name", path);
  if (b->acquire(&minor, name, KRBAP_C_ACCEPT, NULL, &b->cred, NULL)) die("krbap_acquire_cred", path);
  if (b->set_rcache(&minor, b->cred, rcache)) die("krbap_cred_set_replay_cache", rcache);
}

/* accept + free the reply + delete, as krbap_bench's accept loop */
static double run_build(const build *b, const gss_buffer_desc *tok, size_t from, size_t to) {
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    uint32_t minor, m;
    krbap_ctx *c = NULL;
    krbap_buffer in = {tok[i].length, tok[i].value}, out = {0, NULL};
    if (b->accept(&minor, &c, b->cred, &in, NULL, NULL, NULL, NULL, &out, NULL) != 0)
      die("krbap_accept_sec_context failed", b->path);
    b->buffer_free(&m, &out);
    b->delete_ctx(&m, &c, NULL);
  }
  return now_s() - t0;
}

static double run_mit(gss_cred_id_t cred, const gss_buffer_desc *tok, size_t from, size_t to) {
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    OM_uint32 minor, m;
    gss_ctx_id_t c = GSS_C_NO_CONTEXT;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    if (gss_accept_sec_context(&minor, &c, cred, (gss_buffer_t)&tok[i], GSS_C_NO_CHANNEL_BINDINGS,
                               NULL, NULL, &out, NULL, NULL, NULL) != GSS_S_COMPLETE)
      die("gss_accept_sec_context failed", NULL);
    gss_release_buffer(&m, &out);
    gss_delete_sec_context(&m, &c, GSS_C_NO_BUFFER);
  }
  return now_s() - t0;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s LIB_A LIB_B [N] [ROUNDS]\n", argv[0]);
    return 2;
  }
  size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
  int rounds = argc > 4 ? atoi(argv[4]) : 10;
  if (n < 10 || rounds < 1) die("N must be at least 10 and ROUNDS at least 1", NULL);
  const char *service = getenv("AB_SERVICE") ? getenv("AB_SERVICE") : "test-aes256-sha1@localhost";
  const char *rcache = getenv("AB_RCACHE") ? getenv("AB_RCACHE") : "none:";
  int keep_mit = getenv("AB_KEEP_MIT") != NULL, with_mit = getenv("AB_MIT") != NULL;

  OM_uint32 minor;
  gss_name_t target;
  gss_buffer_desc nb = {strlen(service), (void *)service};
  if (gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target)) die("gss_import_name", NULL);
  gss_OID_set_desc mechs = {1, (gss_OID)gss_mech_krb5};
  gss_cred_id_t initiator;
  if (gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &initiator,
                       NULL, NULL))
    die("gss_acquire_cred(initiate)", NULL);
  gss_buffer_desc *tok = calloc(n, sizeof *tok);
  if (!tok) die("out of memory", NULL);
  for (size_t i = 0; i < n; i++) {
    gss_ctx_id_t c = GSS_C_NO_CONTEXT;
    if (gss_init_sec_context(&minor, initiator, &c, target, (gss_OID)gss_mech_krb5,
                             GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_REPLAY_FLAG |
                                 GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG,
                             0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &tok[i], NULL,
                             NULL) != GSS_S_CONTINUE_NEEDED)
      die("gss_init_sec_context", NULL);
    if (!keep_mit) gss_delete_sec_context(&minor, &c, GSS_C_NO_BUFFER);
  }
  build a, b;
  load(&a, argv[1], service, rcache);
  load(&b, argv[2], service, rcache);
  gss_cred_id_t acceptor = GSS_C_NO_CREDENTIAL;
  if (with_mit) {
    setenv("KRB5RCACHETYPE", "none", 1);
    if (gss_acquire_cred(&minor, target, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT, &acceptor, NULL,
                         NULL))
      die("gss_acquire_cred(accept)", NULL);
  }
  size_t warm = n < 1000 ? n : 1000;
  run_build(&a, tok, 0, warm);
  run_build(&b, tok, 0, warm);

  enum { CHUNKS = 10 };
  double *ta = calloc(rounds, sizeof *ta), *tb = calloc(rounds, sizeof *tb);
  double *ratio = calloc(rounds, sizeof *ratio), mit = 0;
  if (!ta || !tb || !ratio) die("out of memory", NULL);
  for (int r = 0; r < rounds; r++) {
    double sa = 0, sb = 0;
    for (int c = 0; c < CHUNKS; c++) {
      size_t from = n * c / CHUNKS, to = n * (c + 1) / CHUNKS;
      const build *first = (c + r) % 2 ? &a : &b, *second = first == &a ? &b : &a;
      double t1 = run_build(first, tok, from, to);
      if (with_mit) mit += run_mit(acceptor, tok, from, to);
      double t2 = run_build(second, tok, from, to);
      if (with_mit) mit += run_mit(acceptor, tok, from, to);
      sa += first == &a ? t1 : t2;
      sb += first == &a ? t2 : t1;
    }
    ta[r] = sa / n * 1e6;
    tb[r] = sb / n * 1e6;
    ratio[r] = sa / sb;
  }
  if (with_mit) printf("MIT  %.3f us per accept (mean)\n", mit / (2.0 * n * rounds) * 1e6);
  printf("A    %.3f us per accept (median)  %s\n", median(ta, rounds), argv[1]);
  printf("B    %.3f us per accept (median)  %s\n", median(tb, rounds), argv[2]);
  double lo, hi, mid = median(ratio, rounds);
  lo = ratio[0], hi = ratio[rounds - 1];
  printf("A/B  %.4f median of %d rounds (min %.4f, max %.4f)\n", mid, rounds, lo, hi);
  return 0;
}
