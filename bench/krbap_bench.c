/*
 * krbap_bench - krbap against MIT krb5's libgssapi_krb5, side by side in one process.
 *
 * Both libraries are linked into this one program (their C symbols are krbap_* and gss_*),
 * so each item is measured on the same machine state, the same keys and the same tokens:
 * the initial tokens come from MIT's gss_init_sec_context (alice's ccache of a throwaway
 * realm, tests/interop/realm.sh) and are fed to both acceptors, each with its own replay
 * cache. Items, for each session enctype (services test-aes256-sha1/localhost and
 * test-aes256-sha384/localhost force it):
 *   init (first call), accept with each library's default replay cache (krbap memory,
 *   MIT file2 under KRB5RCACHEDIR), accept with no replay cache, AP-REP processing,
 *   wrap/unwrap 16 KiB with and without confidentiality, get_mic/verify_mic 64 B,
 *   accept on 2 threads against 1, and the heap held per accepted context (mallinfo2);
 *   SPNEGO accept (RFC 4178: MIT's SPNEGO initiator wraps the AP-REQ) with and without
 *   replay cache, whose target is 0.9 of the raw accept's krbap/MIT ratio.
 * Each round measures everything for both libraries; the table shows the median over
 * the rounds and the ratio krbap/MIT of those medians.
 *
 * Usage: krbap_bench [--smoke] [--rounds N] [--csv FILE] [--raw BIN] [--callgrind N]
 *   --smoke   a few iterations; checks that every item ran and that both libraries
 *             agreed (same tokens accepted, same client, replays refused, each other's
 *             Wrap/MIC tokens unwrapped/verified, AP-REPs processed); no timing verdicts.
 *   --callgrind N  (built with -DKRBAP_BENCH_CALLGRIND, run under callgrind by
 *             scripts/callgrind.sh) N calls of init, accept with and without replay cache,
 *             deleting an accepted context (and freeing its reply), AP-REP processing,
 *             get_mic and verify_mic 64 B per library and enctype, after
 *             a warm-up; collection only inside the library calls, one dump per item.
 *   --raw BIN the raw AES-CTS + HMAC throughput, the practical limit of Wrap/unwrap with
 *             confidentiality: BIN (krbap-crypto-bench) runs `--ops N ENCTYPE encrypt|decrypt`
 *             between the chunks of those items, so that limit and libraries are measured
 *             under the same machine load.
 * The environment is the realm's (. DIR/env): KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME.
 * KRB5RCACHEDIR must name a scratch directory: fresh replay caches go under it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BENCH_NAME "krbap_bench"
#include "bench_common.h"

/* --callgrind: instruction counts per call under `valgrind --tool=callgrind
 * --collect-atstart=no` (scripts/callgrind.sh). Collection is switched on around each
 * measured library call only, and each item ends with a dump named
 * "item|enctype|library|calls". Built only with -DKRBAP_BENCH_CALLGRIND, so that the timed
 * benchmark carries no client requests. */
#ifdef KRBAP_BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#define CG_ON() CALLGRIND_TOGGLE_COLLECT
#define CG_OFF() CALLGRIND_TOGGLE_COLLECT
#else
#define CG_ON() ((void)0)
#define CG_OFF() ((void)0)
#endif

/* ------------------------------------------------------------------ checks and errors */

static void mit_status(const char *what, OM_uint32 major, OM_uint32 minor) {
  OM_uint32 m, ctx = 0;
  gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
  fprintf(stderr, "MIT %s: major 0x%x minor %d", what, major, (int)minor);
  if (gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &s) == 0) {
    fprintf(stderr, " (%.*s)", (int)s.length, (const char *)s.value);
    gss_release_buffer(&m, &s);
  }
  fprintf(stderr, "\n");
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) die("out of memory");
  return p;
}

/* --------------------------------------------------------------------------- results */

enum { MAX_ROUNDS = 15, MAX_ITEMS = 64 };
enum kind { RATE, BYTES, SCALING, INFO, RELATIVE, OVERHEAD };

struct item {
  char name[80];
  const char *unit;
  enum kind kind;
  int raw_kind;        /* 0: none, 1: raw encrypt limit, 2: raw decrypt limit, 3: the crypto
                          floor of an OVERHEAD (the cost if only the PAC's crypto were added) */
  double raw[MAX_ROUNDS]; /* krbap's throughput over the raw limit's, per round */
  int nr;
  double target;       /* ratio target (krbap/MIT >= target; BYTES: <= target;
                          RELATIVE: >= target x the ratio of the item named `base`) */
  char base[128];
  double krbap[MAX_ROUNDS], mit[MAX_ROUNDS];
  int nk, nm;
};

static struct item items[MAX_ITEMS];
static int n_items;

static struct item *item(const char *name, const char *unit, enum kind kind, double target) {
  for (int i = 0; i < n_items; i++)
    if (strcmp(items[i].name, name) == 0) return &items[i];
  if (n_items == MAX_ITEMS) die("too many items");
  struct item *it = &items[n_items++];
  snprintf(it->name, sizeof it->name, "%s", name);
  it->unit = unit;
  it->kind = kind;
  it->target = target;
  return it;
}

/* An item whose target is a share of another item's ratio (SPNEGO accept against the
 * raw krb5 accept: the SPNEGO layer may cost krbap at most that much more than MIT). */
static struct item *item_relative(const char *name, const char *unit, const char *base,
                                  double share) {
  struct item *it = item(name, unit, RELATIVE, share);
  snprintf(it->base, sizeof it->base, "%s", base);
  return it;
}

static void record(struct item *it, double krbap, double mit) {
  if (it->nk < MAX_ROUNDS) it->krbap[it->nk++] = krbap;
  if (it->nm < MAX_ROUNDS) it->mit[it->nm++] = mit;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, int n) {
  double s[MAX_ROUNDS];
  if (n == 0) return 0;
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---------------------------------------------------------------------- the libraries */

struct service {
  const char *host_name;   /* GSS host-based name */
  const char *enctype;     /* the session enctype the KDC picks for it */
  gss_name_t mit_name;
  krbap_name *krbap_name;
  gss_cred_id_t mit_init_cred;
  krbap_cred *krbap_init_cred;
};

static const uint32_t REQ_FLAGS = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_REPLAY_FLAG |
                                  GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;

static gss_OID_set_desc krb5_mechs = {1, NULL};
/* SPNEGO, 1.3.6.1.5.5.2 (RFC 4178). */
static gss_OID_desc spnego_oid = {6, (void *)"\x2b\x06\x01\x05\x05\x02"};
static gss_OID_set_desc spnego_mechs = {1, &spnego_oid};

static void set_rcache_env(const char *type, const char *dir) {
  if (type)
    setenv("KRB5RCACHETYPE", type, 1);
  else
    unsetenv("KRB5RCACHETYPE");
  if (dir) setenv("KRB5RCACHEDIR", dir, 1);
}

static char rcache_root[4096];

/* A fresh directory for MIT's default replay cache (so each phase starts empty). */
static const char *fresh_rcache_dir(void) {
  static char dir[4200];
  static unsigned serial;
  snprintf(dir, sizeof dir, "%s/rc%u", rcache_root, serial++);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) die("mkdir %s: %s", dir, strerror(errno));
  return dir;
}

/* MIT acceptor credential for the service, for krb5 or (what mod_auth_gssapi and
 * gss-server use) SPNEGO; the replay cache follows the environment (KRB5RCACHETYPE unset:
 * MIT's default, file2 under KRB5RCACHEDIR). */
static gss_cred_id_t mit_acceptor_for(struct service *s, gss_OID_set mechs, const char *what) {
  OM_uint32 major, minor;
  gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
  major = gss_acquire_cred(&minor, s->mit_name, GSS_C_INDEFINITE, mechs, GSS_C_ACCEPT, &cred,
                           NULL, NULL);
  if (major) {
    mit_status(what, major, minor);
    die("MIT acceptor credential (%s) for %s", what, s->host_name);
  }
  return cred;
}

static gss_cred_id_t mit_acceptor(struct service *s) {
  return mit_acceptor_for(s, &krb5_mechs, "gss_acquire_cred(accept)");
}

static gss_cred_id_t mit_spnego_acceptor(struct service *s) {
  return mit_acceptor_for(s, &spnego_mechs, "gss_acquire_cred(accept, SPNEGO)");
}

static krbap_cred *krbap_acceptor(struct service *s, const char *rcache) {
  uint32_t major, minor;
  krbap_cred *cred = NULL;
  major = krbap_acquire_cred(&minor, s->krbap_name, KRBAP_C_ACCEPT, NULL, &cred, NULL);
  if (major) {
    krbap_status("krbap_acquire_cred(accept)", major, minor);
    die("krbap acceptor credential for %s", s->host_name);
  }
  major = krbap_cred_set_replay_cache(&minor, cred, rcache);
  if (major) {
    krbap_status("krbap_cred_set_replay_cache", major, minor);
    die("replay cache %s", rcache);
  }
  return cred;
}

/* Token sets: a token per slot, in each library's own buffer type. */
struct tokens {
  size_t n;
  gss_buffer_desc *mit;    /* owned by MIT (gss_release_buffer) */
  krbap_buffer *krbap;     /* owned by krbap (krbap_buffer_free) */
};

static void tokens_free(struct tokens *t) {
  OM_uint32 m;
  uint32_t km;
  if (t->mit)
    for (size_t i = 0; i < t->n; i++) gss_release_buffer(&m, &t->mit[i]);
  if (t->krbap)
    for (size_t i = 0; i < t->n; i++) krbap_buffer_free(&km, &t->krbap[i]);
  free(t->mit);
  free(t->krbap);
  memset(t, 0, sizeof *t);
}

static void mit_ctxs_free(gss_ctx_id_t *c, size_t n) {
  OM_uint32 m;
  for (size_t i = 0; i < n; i++)
    if (c[i] != GSS_C_NO_CONTEXT) gss_delete_sec_context(&m, &c[i], GSS_C_NO_BUFFER);
}

static void krbap_ctxs_free(krbap_ctx **c, size_t n) {
  uint32_t m;
  for (size_t i = 0; i < n; i++)
    if (c[i]) krbap_delete_sec_context(&m, &c[i], NULL);
}

/* --- init: n first calls; contexts and tokens kept. Returns failures. */
static size_t mit_init_n(struct service *s, size_t from, size_t to, gss_ctx_id_t *ctx,
                         gss_buffer_desc *tok, double *secs) {
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    OM_uint32 minor;
    ctx[i] = GSS_C_NO_CONTEXT;
    OM_uint32 major = gss_init_sec_context(&minor, s->mit_init_cred, &ctx[i], s->mit_name,
                                           (gss_OID)gss_mech_krb5, REQ_FLAGS, 0,
                                           GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL,
                                           &tok[i], NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED) {
      if (!bad) mit_status("gss_init_sec_context", major, minor);
      bad++;
    }
  }
  *secs = now_s() - t0;
  return bad;
}

static size_t krbap_init_n(struct service *s, size_t from, size_t to, krbap_ctx **ctx,
                           krbap_buffer *tok, double *secs) {
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    uint32_t minor;
    ctx[i] = NULL;
    uint32_t major = krbap_init_sec_context(&minor, s->krbap_init_cred, &ctx[i], s->krbap_name,
                                            REQ_FLAGS, NULL, NULL, NULL, NULL, &tok[i]);
    if (major != KRBAP_S_CONTINUE_NEEDED) {
      if (!bad) krbap_status("krbap_init_sec_context", major, minor);
      bad++;
    }
  }
  *secs = now_s() - t0;
  return bad;
}

/* --- SPNEGO tokens (untimed): MIT's SPNEGO initiator, the default credential. */
static size_t mit_init_spnego_n(struct service *s, size_t n, gss_ctx_id_t *ctx,
                                gss_buffer_desc *tok) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    OM_uint32 minor;
    ctx[i] = GSS_C_NO_CONTEXT;
    OM_uint32 major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx[i], s->mit_name,
                                           &spnego_oid, REQ_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                           GSS_C_NO_BUFFER, NULL, &tok[i], NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED) {
      if (!bad) mit_status("gss_init_sec_context(SPNEGO)", major, minor);
      bad++;
    }
  }
  return bad;
}

/* MIT's SPNEGO initiators take krbap's SPNEGO answers (second call: COMPLETE). */
static size_t mit_spnego_finish_n(struct service *s, size_t n, gss_ctx_id_t *ctx,
                                  const krbap_buffer *answer) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    OM_uint32 minor, m;
    gss_buffer_desc in = {answer[i].length, answer[i].value}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx[i], s->mit_name,
                                           &spnego_oid, 0, 0, GSS_C_NO_CHANNEL_BINDINGS, &in,
                                           NULL, &out, NULL, NULL);
    if (major != GSS_S_COMPLETE || out.length != 0) {
      if (!bad) mit_status("gss_init_sec_context(SPNEGO, krbap's answer)", major, minor);
      bad++;
    }
    gss_release_buffer(&m, &out);
  }
  return bad;
}

/* --- accept: tokens [from, to) by stride; replies (AP-REP) and contexts optional. */
struct accept_job {
  int use_krbap;
  gss_cred_id_t mit_cred;
  krbap_cred *krbap_cred;
  const struct tokens *in;
  size_t from, to, stride;
  gss_ctx_id_t *mit_ctx;       /* NULL: delete each context at once (outside the timing? no: */
  krbap_ctx **krbap_ctx;       /*   deleting is part of a server's per-connection cost) */
  struct tokens *reply;        /* AP-REPs, may be NULL */
  char *client;                /* display name of the first client, may be NULL */
  size_t client_len;
  size_t bad;
  double secs;
  pthread_barrier_t *start;
  double t_start, t_end;  /* absolute, for the 2-thread wall time */
  double cpu;             /* this thread's CPU time in accept_run */
};

static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *accept_run(void *arg) {
  struct accept_job *j = arg;
  if (j->start) pthread_barrier_wait(j->start);
  double t0 = now_s(), c0 = thread_cpu_s();
  j->t_start = t0;
  for (size_t i = j->from; i < j->to; i += j->stride) {
    if (j->use_krbap) {
      uint32_t major, minor, km;
      krbap_ctx *c = NULL;
      krbap_name *src = NULL;
      krbap_buffer in = {j->in->mit[i].length, j->in->mit[i].value};
      krbap_buffer out = {0, NULL};
      major = krbap_accept_sec_context(&minor, &c, j->krbap_cred, &in, NULL,
                                       j->client && i == j->from ? &src : NULL, NULL, NULL, &out,
                                       NULL);
      if (major != KRBAP_S_COMPLETE) {
        if (!j->bad) krbap_status("krbap_accept_sec_context", major, minor);
        j->bad++;
      }
      if (src) {
        krbap_buffer d = {0, NULL};
        if (krbap_display_name(&km, src, &d) == 0) {
          snprintf(j->client, j->client_len, "%.*s", (int)d.length, (const char *)d.value);
          krbap_buffer_free(&km, &d);
        }
        krbap_release_name(&km, &src);
      }
      if (j->reply)
        j->reply->krbap[i] = out;
      else
        krbap_buffer_free(&km, &out);
      if (j->krbap_ctx)
        j->krbap_ctx[i] = c;
      else if (c)
        krbap_delete_sec_context(&km, &c, NULL);
    } else {
      OM_uint32 major, minor, m;
      gss_ctx_id_t c = GSS_C_NO_CONTEXT;
      gss_name_t src = GSS_C_NO_NAME;
      gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
      major = gss_accept_sec_context(&minor, &c, j->mit_cred, &j->in->mit[i],
                                     GSS_C_NO_CHANNEL_BINDINGS,
                                     j->client && i == j->from ? &src : NULL, NULL, &out, NULL,
                                     NULL, NULL);
      if (major != GSS_S_COMPLETE) {
        if (!j->bad) mit_status("gss_accept_sec_context", major, minor);
        j->bad++;
      }
      if (src != GSS_C_NO_NAME) {
        gss_buffer_desc d = GSS_C_EMPTY_BUFFER;
        if (gss_display_name(&m, src, &d, NULL) == 0) {
          snprintf(j->client, j->client_len, "%.*s", (int)d.length, (const char *)d.value);
          gss_release_buffer(&m, &d);
        }
        gss_release_name(&m, &src);
      }
      if (j->reply)
        j->reply->mit[i] = out;
      else
        gss_release_buffer(&m, &out);
      if (j->mit_ctx)
        j->mit_ctx[i] = c;
      else if (c != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&m, &c, GSS_C_NO_BUFFER);
    }
  }
  j->t_end = now_s();
  j->secs = j->t_end - t0;
  j->cpu = thread_cpu_s() - c0;
  return NULL;
}

static size_t accept_all(struct accept_job *j, int threads, double *secs) {
  pthread_t tid[2];
  struct accept_job part[2];
  pthread_barrier_t barrier;
  j->bad = 0;
  if (threads <= 1) {
    j->from = 0;
    j->stride = 1;
    j->start = NULL;
    accept_run(j);
    *secs = j->secs;
    return j->bad;
  }
  pthread_barrier_init(&barrier, NULL, 3);
  for (int t = 0; t < 2; t++) {
    part[t] = *j;
    part[t].from = (size_t)t;
    part[t].stride = 2;
    part[t].start = &barrier;
    part[t].client = NULL;
    if (pthread_create(&tid[t], NULL, accept_run, &part[t])) die("pthread_create");
  }
  pthread_barrier_wait(&barrier);
  for (int t = 0; t < 2; t++) pthread_join(tid[t], NULL);
  /* from the first thread's start to the last one's end */
  double t0 = part[0].t_start < part[1].t_start ? part[0].t_start : part[1].t_start;
  double t1 = part[0].t_end > part[1].t_end ? part[0].t_end : part[1].t_end;
  *secs = t1 - t0;
  j->cpu = part[0].cpu + part[1].cpu;
  pthread_barrier_destroy(&barrier);
  j->bad = part[0].bad + part[1].bad;
  return j->bad;
}

/* --- AP-REP processing: second init call with the acceptor's reply. */
static size_t mit_continue_n(struct service *s, size_t from, size_t to, gss_ctx_id_t *ctx,
                             const struct tokens *rep, double *secs) {
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    OM_uint32 minor;
    gss_buffer_desc in = {rep->krbap[i].length, rep->krbap[i].value};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major =
        gss_init_sec_context(&minor, s->mit_init_cred, &ctx[i], s->mit_name,
                             (gss_OID)gss_mech_krb5, REQ_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
                             &in, NULL, &out, NULL, NULL);
    if (major != GSS_S_COMPLETE) {
      if (!bad) mit_status("gss_init_sec_context(AP-REP)", major, minor);
      bad++;
    }
    gss_release_buffer(&minor, &out);
  }
  *secs = now_s() - t0;
  return bad;
}

static size_t krbap_continue_n(struct service *s, size_t from, size_t to, krbap_ctx **ctx,
                               const struct tokens *rep, double *secs) {
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    uint32_t minor;
    krbap_buffer in = {rep->mit[i].length, rep->mit[i].value};
    krbap_buffer out = {0, NULL};
    uint32_t major = krbap_init_sec_context(&minor, s->krbap_init_cred, &ctx[i], s->krbap_name,
                                            REQ_FLAGS, NULL, &in, NULL, NULL, &out);
    if (major != KRBAP_S_COMPLETE) {
      if (!bad) krbap_status("krbap_init_sec_context(AP-REP)", major, minor);
      bad++;
    }
    krbap_buffer_free(&minor, &out);
  }
  *secs = now_s() - t0;
  return bad;
}

/* ----------------------------------------------------------- established context pairs */

struct pair {
  int init_krbap, accept_krbap;   /* which library holds each side */
  gss_ctx_id_t mit_i, mit_a;
  krbap_ctx *krbap_i, *krbap_a;
};

/* Establishes one context pair (MIT or krbap on each side). Without mutual
 * authentication no acceptor subkey is made, so per-message tokens use the initiator's
 * subkey, of the session enctype; with it, both libraries pick the acceptor subkey's
 * enctype from the initiator's RFC 4537 list (aes256-cts-hmac-sha1-96 first). */
static void establish(struct service *s, struct pair *p, gss_cred_id_t mit_acc,
                      krbap_cred *krbap_acc, int mutual) {
  const uint32_t req = mutual ? REQ_FLAGS : REQ_FLAGS & ~(uint32_t)GSS_C_MUTUAL_FLAG;
  const uint32_t first = mutual ? GSS_S_CONTINUE_NEEDED : GSS_S_COMPLETE;
  OM_uint32 major, minor;
  uint32_t kmaj, kmin;
  gss_buffer_desc tok = GSS_C_EMPTY_BUFFER, rep = GSS_C_EMPTY_BUFFER;
  krbap_buffer ktok = {0, NULL}, krep = {0, NULL};
  const void *tv;
  size_t tl;
  if (p->init_krbap) {
    kmaj = krbap_init_sec_context(&kmin, s->krbap_init_cred, &p->krbap_i, s->krbap_name,
                                  req, NULL, NULL, NULL, NULL, &ktok);
    if (kmaj != first) krbap_status("init", kmaj, kmin), die("pair init");
    tv = ktok.value, tl = ktok.length;
  } else {
    major = gss_init_sec_context(&minor, s->mit_init_cred, &p->mit_i, s->mit_name,
                                 (gss_OID)gss_mech_krb5, req, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                 GSS_C_NO_BUFFER, NULL, &tok, NULL, NULL);
    if (major != first) mit_status("init", major, minor), die("pair init");
    tv = tok.value, tl = tok.length;
  }
  if (p->accept_krbap) {
    krbap_buffer in = {tl, (void *)tv};
    kmaj = krbap_accept_sec_context(&kmin, &p->krbap_a, krbap_acc, &in, NULL, NULL, NULL, NULL,
                                    &krep, NULL);
    if (kmaj) krbap_status("accept", kmaj, kmin), die("pair accept");
    tv = krep.value, tl = krep.length;
  } else {
    gss_buffer_desc in = {tl, (void *)tv};
    major = gss_accept_sec_context(&minor, &p->mit_a, mit_acc, &in, GSS_C_NO_CHANNEL_BINDINGS,
                                   NULL, NULL, &rep, NULL, NULL, NULL);
    if (major) mit_status("accept", major, minor), die("pair accept");
    tv = rep.value, tl = rep.length;
  }
  if (!mutual) {
    if (tl != 0) die("pair: an AP-REP without mutual authentication");
  } else if (p->init_krbap) {
    krbap_buffer in = {tl, (void *)tv}, out = {0, NULL};
    kmaj = krbap_init_sec_context(&kmin, s->krbap_init_cred, &p->krbap_i, s->krbap_name,
                                  req, NULL, &in, NULL, NULL, &out);
    if (kmaj) krbap_status("continue", kmaj, kmin), die("pair continue");
    krbap_buffer_free(&kmin, &out);
  } else {
    gss_buffer_desc in = {tl, (void *)tv}, out = GSS_C_EMPTY_BUFFER;
    major = gss_init_sec_context(&minor, s->mit_init_cred, &p->mit_i, s->mit_name,
                                 (gss_OID)gss_mech_krb5, req, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                 &in, NULL, &out, NULL, NULL);
    if (major) mit_status("continue", major, minor), die("pair continue");
    gss_release_buffer(&minor, &out);
  }
  gss_release_buffer(&minor, &tok);
  gss_release_buffer(&minor, &rep);
  krbap_buffer_free(&kmin, &ktok);
  krbap_buffer_free(&kmin, &krep);
}

static void pair_free(struct pair *p) {
  OM_uint32 m;
  uint32_t km;
  if (p->mit_i) gss_delete_sec_context(&m, &p->mit_i, GSS_C_NO_BUFFER);
  if (p->mit_a) gss_delete_sec_context(&m, &p->mit_a, GSS_C_NO_BUFFER);
  if (p->krbap_i) krbap_delete_sec_context(&km, &p->krbap_i, NULL);
  if (p->krbap_a) krbap_delete_sec_context(&km, &p->krbap_a, NULL);
}

/* Per-message operations on one side of a pair (side 0: initiator, 1: acceptor). A token
 * made by either library is held in a malloc'd copy so that either can consume it. */
struct blob {
  size_t len;
  unsigned char *data;
  int owner;  /* 0: the caller's, 1: krbap's buffer, 2: MIT's buffer, 3: malloc'd */
};

static void blob_free(struct blob *b) {
  if (b->owner == 1) {
    uint32_t m;
    krbap_buffer k = {b->len, b->data};
    krbap_buffer_free(&m, &k);
  } else if (b->owner == 2) {
    OM_uint32 m;
    gss_buffer_desc g = {b->len, b->data};
    gss_release_buffer(&m, &g);
  } else if (b->owner == 3) {
    free(b->data);
  }
  memset(b, 0, sizeof *b);
}

static int side_krbap(const struct pair *p, int side) {
  return side ? p->accept_krbap : p->init_krbap;
}

static int op_wrap(struct pair *p, int side, int conf, const struct blob *msg, struct blob *out) {
  if (side_krbap(p, side)) {
    uint32_t minor, km;
    krbap_buffer in = {msg->len, msg->data}, o = {0, NULL};
    int state = 0;
    uint32_t major =
        krbap_wrap(&minor, side ? p->krbap_a : p->krbap_i, conf, 0, &in, &state, &o);
    if (major || state != conf) return krbap_status("wrap", major, minor), -1;
    /* the library's own buffer, released after the timing (blob_free) */
    out->len = o.length;
    out->data = o.value;
    out->owner = 1;
    (void)km;
  } else {
    OM_uint32 minor, m;
    gss_buffer_desc in = {msg->len, msg->data}, o = GSS_C_EMPTY_BUFFER;
    int state = 0;
    OM_uint32 major = gss_wrap(&minor, side ? p->mit_a : p->mit_i, conf, 0, &in, &state, &o);
    if (major || state != conf) return mit_status("wrap", major, minor), -1;
    out->len = o.length;
    out->data = o.value;
    out->owner = 2;
    (void)m;
  }
  return 0;
}

/* Unwraps `tok`; with `expect`, checks the plaintext and the conf state. */
static int op_unwrap(struct pair *p, int side, const struct blob *tok, const struct blob *expect,
                     int conf) {
  int ok;
  if (side_krbap(p, side)) {
    uint32_t minor, km, qop;
    krbap_buffer in = {tok->len, tok->data}, o = {0, NULL};
    int state = -1;
    uint32_t major = krbap_unwrap(&minor, side ? p->krbap_a : p->krbap_i, &in, &o, &state, &qop);
    if (major) krbap_status("unwrap", major, minor);
    ok = major == 0 && (!expect || (state == conf && o.length == expect->len &&
                                    memcmp(o.value, expect->data, o.length) == 0));
    krbap_buffer_free(&km, &o);
  } else {
    OM_uint32 minor, m;
    gss_buffer_desc in = {tok->len, tok->data}, o = GSS_C_EMPTY_BUFFER;
    int state = -1;
    gss_qop_t qop;
    OM_uint32 major = gss_unwrap(&minor, side ? p->mit_a : p->mit_i, &in, &o, &state, &qop);
    if (major) mit_status("unwrap", major, minor);
    ok = major == 0 && (!expect || (state == conf && o.length == expect->len &&
                                    memcmp(o.value, expect->data, o.length) == 0));
    gss_release_buffer(&m, &o);
  }
  return ok ? 0 : -1;
}

static int op_get_mic(struct pair *p, int side, const struct blob *msg, struct blob *out) {
  if (side_krbap(p, side)) {
    uint32_t minor, km;
    krbap_buffer in = {msg->len, msg->data}, o = {0, NULL};
    uint32_t major = krbap_get_mic(&minor, side ? p->krbap_a : p->krbap_i, 0, &in, &o);
    if (major) return krbap_status("get_mic", major, minor), -1;
    /* the library's own buffer, released after the timing (blob_free) */
    out->len = o.length;
    out->data = o.value;
    out->owner = 1;
    (void)km;
  } else {
    OM_uint32 minor, m;
    gss_buffer_desc in = {msg->len, msg->data}, o = GSS_C_EMPTY_BUFFER;
    OM_uint32 major = gss_get_mic(&minor, side ? p->mit_a : p->mit_i, 0, &in, &o);
    if (major) return mit_status("get_mic", major, minor), -1;
    out->len = o.length;
    out->data = o.value;
    out->owner = 2;
    (void)m;
  }
  return 0;
}

static int op_verify_mic(struct pair *p, int side, const struct blob *msg,
                         const struct blob *tok) {
  if (side_krbap(p, side)) {
    uint32_t minor, qop;
    krbap_buffer m = {msg->len, msg->data}, t = {tok->len, tok->data};
    uint32_t major = krbap_verify_mic(&minor, side ? p->krbap_a : p->krbap_i, &m, &t, &qop);
    if (major) return krbap_status("verify_mic", major, minor), -1;
  } else {
    OM_uint32 minor;
    gss_qop_t qop;
    gss_buffer_desc m = {msg->len, msg->data}, t = {tok->len, tok->data};
    OM_uint32 major = gss_verify_mic(&minor, side ? p->mit_a : p->mit_i, &m, &t, &qop);
    if (major) return mit_status("verify_mic", major, minor), -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ raw crypto */

static const char *raw_bin;

/* ------------------------------------------------------------------------ the rounds */

struct sizes {
  size_t accept, wrap, mic, memory;
};

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* --------------------------------------------------------------- interleaved timing */

enum { CHUNKS = 10 };

/* One library's side of an item: runs items [from, to), returns failures, sets secs. */
struct side {
  size_t (*run)(struct side *self, size_t from, size_t to, double *secs);
  void *a, *b, *c;
  size_t bad;
  double secs;
  double chunk[CHUNKS];  /* seconds per chunk */
};

/* Runs krbap's and MIT's side over [0, n) in CHUNKS alternating chunks (krbap first in
 * even chunks, MIT first in odd ones), so that a change of machine load during the item
 * hits both libraries alike: the ratio is what the table is about. */
static void interleave3(size_t n, struct side *k, struct side *m, struct side *third) {
  k->bad = m->bad = 0;
  k->secs = m->secs = 0;
  if (third) third->bad = 0, third->secs = 0;
  for (size_t c = 0; c < CHUNKS; c++) {
    size_t from = n * c / CHUNKS, to = n * (c + 1) / CHUNKS;
    struct side *order[3] = {c % 2 ? m : k, c % 2 ? k : m, third};
    for (int o = 0; o < (third ? 3 : 2); o++) {
      double t = 0;
      order[o]->bad += order[o]->run(order[o], from, to, &t);
      order[o]->secs += t;
      order[o]->chunk[c] = t;
    }
  }
}

static size_t side_mit_init(struct side *x, size_t from, size_t to, double *secs) {
  return mit_init_n(x->a, from, to, x->b, ((struct tokens *)x->c)->mit, secs);
}
static size_t side_krbap_init(struct side *x, size_t from, size_t to, double *secs) {
  return krbap_init_n(x->a, from, to, x->b, ((struct tokens *)x->c)->krbap, secs);
}
static size_t side_mit_continue(struct side *x, size_t from, size_t to, double *secs) {
  return mit_continue_n(x->a, from, to, x->b, x->c, secs);
}
static size_t side_krbap_continue(struct side *x, size_t from, size_t to, double *secs) {
  return krbap_continue_n(x->a, from, to, x->b, x->c, secs);
}
static size_t side_accept(struct side *x, size_t from, size_t to, double *secs) {
  struct accept_job *j = x->a;
  j->from = from;
  j->to = to;
  j->stride = 1;
  j->start = NULL;
  j->bad = 0;
  accept_run(j);
  *secs = j->secs;
  return j->bad;
}

static void interleave(size_t n, struct side *k, struct side *m) {
  interleave3(n, k, m, NULL);
}

/* The raw crypto of [from, to) messages, timed by krbap-crypto-bench itself (a =
 * enctype, b = "encrypt" or "decrypt"). */
static size_t side_raw(struct side *x, size_t from, size_t to, double *secs) {
  char cmd[4600];
  snprintf(cmd, sizeof cmd, "'%s' --ops %zu %s %s", raw_bin, to - from, (const char *)x->a,
           (const char *)x->b);
  FILE *f = popen(cmd, "r");
  if (!f) die("%s: %s", cmd, strerror(errno));
  double t = -1;
  int got = fscanf(f, "%lf", &t);
  int rc = pclose(f);
  if (got != 1 || rc != 0 || t < 0) return 1;
  *secs = t;
  return 0;
}

/* Wrap (initiator side) of msg into tok[from, to), or unwrap (acceptor side) of them. */
struct msg_job {
  struct pair *p;
  int conf, unwrap;
  const struct blob *msg;
  struct blob *tok;
};
static size_t side_wrap(struct side *x, size_t from, size_t to, double *secs) {
  struct msg_job *j = x->a;
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++)
    bad += j->unwrap ? op_unwrap(j->p, 1, &j->tok[i], NULL, j->conf) != 0
                     : op_wrap(j->p, 0, j->conf, j->msg, &j->tok[i]) != 0;
  *secs = now_s() - t0;
  return bad;
}
static size_t side_mic(struct side *x, size_t from, size_t to, double *secs) {
  struct msg_job *j = x->a;
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++)
    bad += j->unwrap ? op_verify_mic(j->p, 1, j->msg, &j->tok[i]) != 0
                     : op_get_mic(j->p, 0, j->msg, &j->tok[i]) != 0;
  *secs = now_s() - t0;
  return bad;
}

/* Times wrap then unwrap (or get_mic then verify_mic) of n messages on both pairs; with
 * raw_enctype, also the raw crypto of the same n messages, chunk by chunk (raw[2]). */
static int per_message(struct pair *pk, struct pair *pm, int mic, int conf, const struct blob *msg,
                       size_t n, double k[2], double m[2], const char *raw_enctype,
                       double raw[2]) {
  struct blob *ktok = xcalloc(n, sizeof *ktok), *mtok = xcalloc(n, sizeof *mtok);
  struct msg_job kj = {pk, conf, 0, msg, ktok}, mj = {pm, conf, 0, msg, mtok};
  struct side ks = {mic ? side_mic : side_wrap, &kj, 0, 0, 0, 0, {0}};
  struct side ms = {mic ? side_mic : side_wrap, &mj, 0, 0, 0, 0, {0}};
  size_t bad = 0;
  for (int step = 0; step < 2; step++) {
    kj.unwrap = mj.unwrap = step;
    struct side rs = {side_raw, (void *)raw_enctype, step ? "decrypt" : "encrypt", 0, 0, 0, {0}};
    int with_raw = raw_enctype && raw_bin;
    interleave3(n, &ks, &ms, with_raw ? &rs : NULL);
    k[step] = ks.secs;
    m[step] = ms.secs;
    if (with_raw) {
      /* the median over chunks of krbap's time over the raw time of the same messages
       * just before or after: a chunk that lost the CPU to another process on either
       * side does not decide the result */
      double f[CHUNKS];
      for (int c = 0; c < CHUNKS; c++) f[c] = ks.chunk[c] > 0 ? rs.chunk[c] / ks.chunk[c] : 0;
      raw[step] = rs.bad ? 0 : median(f, CHUNKS);
      check(rs.bad == 0, "raw crypto limit measured (%s, %s)", raw_enctype,
            step ? "decrypt" : "encrypt");
    }
    bad += ks.bad + ms.bad;
  }
  for (size_t i = 0; i < n; i++) {
    blob_free(&ktok[i]);
    blob_free(&mtok[i]);
  }
  free(ktok);
  free(mtok);
  return bad ? -1 : 0;
}

static void bench_service(struct service *s, int rounds, const struct sizes *z) {
  char name[128];
  const size_t n = z->accept;
  OM_uint32 minor;
  uint32_t kmin;

  /* Long-lived acceptor credentials without replay cache, and the context pairs. */
  set_rcache_env("none", NULL);
  gss_cred_id_t mit_none = mit_acceptor(s);
  set_rcache_env(NULL, NULL);
  krbap_cred *krbap_none = krbap_acceptor(s, "none:");

  struct pair pk = {1, 1, 0, 0, 0, 0}, pm = {0, 0, 0, 0, 0, 0};
  struct pair x_mk = {0, 1, 0, 0, 0, 0}, x_km = {1, 0, 0, 0, 0, 0};
  set_rcache_env("none", NULL);
  /* the timed pairs without mutual authentication: their per-message keys are of the
   * service's session enctype (see establish) */
  establish(s, &pk, mit_none, krbap_none, 0);
  establish(s, &pm, mit_none, krbap_none, 0);
  establish(s, &x_mk, mit_none, krbap_none, 1);
  establish(s, &x_km, mit_none, krbap_none, 1);
  struct pair y_mk = {0, 1, 0, 0, 0, 0}, y_km = {1, 0, 0, 0, 0, 0};
  establish(s, &y_mk, mit_none, krbap_none, 0);
  establish(s, &y_km, mit_none, krbap_none, 0);
  set_rcache_env(NULL, NULL);

  /* Interop of the per-message tokens: each library unwraps/verifies the other's. */
  {
    unsigned char text[16384];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (unsigned char)(i * 7 + 1);
    struct blob msg = {sizeof text, text, 0}, mic_msg = {64, text, 0};
    struct pair *cross[4] = {&x_mk, &x_km, &y_mk, &y_km};
    for (int c = 0; c < 4; c++) {
      struct pair *p = cross[c];
      for (int side = 0; side < 2; side++) {
        int peer = !side;
        const char *from = side_krbap(p, side) ? "krbap" : "MIT";
        const char *to = side_krbap(p, peer) ? "krbap" : "MIT";
        for (int conf = 0; conf < 2; conf++) {
          struct blob t = {0, NULL, 0};
          int ok = op_wrap(p, side, conf, &msg, &t) == 0 &&
                   op_unwrap(p, peer, &t, &msg, conf) == 0;
          check(ok, "%s: %s-wrapped 16 KiB (%s) unwrapped by %s", s->enctype, from,
                conf ? "conf" : "integ", to);
          blob_free(&t);
        }
        struct blob t = {0, NULL, 0};
        int ok = op_get_mic(p, side, &mic_msg, &t) == 0 && op_verify_mic(p, peer, &mic_msg, &t) == 0;
        check(ok, "%s: %s MIC verified by %s", s->enctype, from, to);
        blob_free(&t);
        /* a MIC over another message must fail on the peer */
        struct blob other = {64, text + 1, 0};
        ok = op_get_mic(p, side, &mic_msg, &t) == 0;
        fprintf(stderr, "(expected failure follows) ");
        ok = ok && op_verify_mic(p, peer, &other, &t) != 0;
        check(ok, "%s: %s MIC over another message refused by %s", s->enctype, from, to);
        blob_free(&t);
      }
    }
  }

  /* warm-up (untimed): the heap grows to the size the per-message rounds need */
  {
    static unsigned char text[16384];
    struct blob msg = {sizeof text, text, 0};
    double kt[2], mt[2];
    if (per_message(&pk, &pm, 0, 1, &msg, z->wrap, kt, mt, NULL, NULL) != 0)
      die("warm-up wrap failed");
  }

  for (int r = 0; r < rounds; r++) {
    double ks, ms;
    size_t kb, mb;
    gss_ctx_id_t *mctx = xcalloc(n, sizeof *mctx);
    krbap_ctx **kctx = xcalloc(n, sizeof *kctx);
    struct tokens mtok = {n, xcalloc(n, sizeof(gss_buffer_desc)), NULL};
    struct tokens ktok = {n, NULL, xcalloc(n, sizeof(krbap_buffer))};

    /* init (first call) */
    struct side ki = {side_krbap_init, s, kctx, &ktok, 0, 0, {0}};
    struct side mi = {side_mit_init, s, mctx, &mtok, 0, 0, {0}};
    interleave(n, &ki, &mi);
    ks = ki.secs, ms = mi.secs, kb = ki.bad, mb = mi.bad;
    snprintf(name, sizeof name, "%s init (first call)", s->enctype);
    record(item(name, "op/s", RATE, 5), n / ks, n / ms);
    check(kb == 0 && mb == 0, "%s round %d: %zu inits each (krbap %zu failed, MIT %zu)",
          s->enctype, r, n, kb, mb);

    /* accept with each library's default replay cache: MIT's tokens, fresh caches */
    krbap_cred *krbap_rc = krbap_acceptor(s, "memory:");
    set_rcache_env(NULL, fresh_rcache_dir());
    gss_cred_id_t mit_rc = mit_acceptor(s);
    struct tokens krep = {n, NULL, xcalloc(n, sizeof(krbap_buffer))};
    char kclient[256] = "", mclient[256] = "";
    struct accept_job kj = {1, NULL, krbap_rc, &mtok, 0, n, 1, NULL, NULL, &krep,
                            kclient, sizeof kclient, 0, 0, NULL, 0, 0, 0};
    struct accept_job mj = {0, mit_rc, NULL, &mtok, 0, n, 1, NULL, NULL, NULL,
                            mclient, sizeof mclient, 0, 0, NULL, 0, 0, 0};
    struct side ka = {side_accept, &kj, 0, 0, 0, 0, {0}}, ma = {side_accept, &mj, 0, 0, 0, 0, {0}};
    interleave(n, &ka, &ma);
    ks = ka.secs, ms = ma.secs, kb = ka.bad, mb = ma.bad;
    snprintf(name, sizeof name, "%s accept, replay cache (krbap memory, MIT file2)", s->enctype);
    record(item(name, "op/s", RATE, 5), n / ks, n / ms);
    check(kb == 0 && mb == 0, "%s round %d: both acceptors accepted the same %zu MIT tokens "
          "(krbap refused %zu, MIT %zu)", s->enctype, r, n, kb, mb);
    check(strcmp(kclient, mclient) == 0 && strcmp(kclient, "alice@TEST.LOCAL") == 0,
          "%s round %d: same client name (krbap '%s', MIT '%s')", s->enctype, r, kclient, mclient);
    /* replays: the first token again must be refused by both caches */
    {
      struct accept_job kr = kj, mr = mj;
      double t;
      kr.from = 0, kr.to = 1, kr.reply = NULL, kr.client = NULL, kr.bad = 0;
      mr.from = 0, mr.to = 1, mr.client = NULL, mr.bad = 0;
      fprintf(stderr, "(two expected replay failures follow)\n");
      accept_all(&kr, 1, &t);
      accept_all(&mr, 1, &t);
      check(kr.bad == 1 && mr.bad == 1, "%s round %d: a replayed token is refused by both "
            "(krbap %zu, MIT %zu)", s->enctype, r, kr.bad, mr.bad);
    }
    krbap_release_cred(&kmin, &krbap_rc);
    gss_release_cred(&minor, &mit_rc);

    /* accept without replay cache (the same tokens again) */
    struct accept_job kn = {1, NULL, krbap_none, &mtok, 0, n, 1, NULL, NULL, NULL,
                            NULL, 0, 0, 0, NULL, 0, 0, 0};
    struct accept_job mn = {0, mit_none, NULL, &mtok, 0, n, 1, NULL, NULL, NULL,
                            NULL, 0, 0, 0, NULL, 0, 0, 0};
    set_rcache_env("none", NULL);
    struct side kna = {side_accept, &kn, 0, 0, 0, 0, {0}}, mna = {side_accept, &mn, 0, 0, 0, 0, {0}};
    interleave(n, &kna, &mna);
    set_rcache_env(NULL, NULL);
    ks = kna.secs, ms = mna.secs, kb = kna.bad, mb = mna.bad;
    snprintf(name, sizeof name, "%s accept, no replay cache", s->enctype);
    record(item(name, "op/s", RATE, 4), n / ks, n / ms);
    check(kb == 0 && mb == 0, "%s round %d: %zu accepts without replay cache (krbap %zu "
          "failed, MIT %zu)", s->enctype, r, n, kb, mb);

    /* SPNEGO (RFC 4178): MIT's SPNEGO initiator wraps the same kind of AP-REQ; each
     * acceptor tells SPNEGO from raw krb5 by the token, as a server meets them. The
     * target: krbap/MIT at least 0.9 of the raw accept's ratio. */
    {
      gss_ctx_id_t *sctx = xcalloc(n, sizeof *sctx);
      struct tokens stok = {n, xcalloc(n, sizeof(gss_buffer_desc)), NULL};
      struct tokens sans = {n, NULL, xcalloc(n, sizeof(krbap_buffer))};
      char raw_name[128];
      size_t sb = mit_init_spnego_n(s, n, sctx, stok.mit);
      check(sb == 0, "%s round %d: %zu SPNEGO tokens from MIT's initiator (%zu failed)",
            s->enctype, r, n, sb);
      krbap_cred *krbap_src = krbap_acceptor(s, "memory:");
      set_rcache_env(NULL, fresh_rcache_dir());
      gss_cred_id_t mit_src = mit_spnego_acceptor(s);
      char skc[256] = "", smc[256] = "";
      struct accept_job skj = {1, NULL, krbap_src, &stok, 0, n, 1, NULL, NULL, &sans,
                               skc, sizeof skc, 0, 0, NULL, 0, 0, 0};
      struct accept_job smj = {0, mit_src, NULL, &stok, 0, n, 1, NULL, NULL, NULL,
                               smc, sizeof smc, 0, 0, NULL, 0, 0, 0};
      struct side ska = {side_accept, &skj, 0, 0, 0, 0, {0}};
      struct side sma = {side_accept, &smj, 0, 0, 0, 0, {0}};
      interleave(n, &ska, &sma);
      snprintf(name, sizeof name, "%s SPNEGO accept, replay cache", s->enctype);
      snprintf(raw_name, sizeof raw_name, "%s accept, replay cache (krbap memory, MIT file2)",
               s->enctype);
      record(item_relative(name, "op/s", raw_name, 0.9), n / ska.secs, n / sma.secs);
      check(ska.bad == 0 && sma.bad == 0, "%s round %d: both acceptors accepted the same %zu "
            "SPNEGO tokens (krbap refused %zu, MIT %zu)", s->enctype, r, n, ska.bad, sma.bad);
      check(strcmp(skc, smc) == 0 && strcmp(skc, "alice@TEST.LOCAL") == 0,
            "%s round %d: SPNEGO: same client name (krbap '%s', MIT '%s')", s->enctype, r, skc,
            smc);
      sb = mit_spnego_finish_n(s, n, sctx, sans.krbap);
      check(sb == 0, "%s round %d: MIT's SPNEGO initiators complete with krbap's %zu answers "
            "(%zu failed)", s->enctype, r, n, sb);
      krbap_release_cred(&kmin, &krbap_src);
      gss_release_cred(&minor, &mit_src);

      set_rcache_env("none", NULL);
      gss_cred_id_t mit_snone = mit_spnego_acceptor(s);
      struct accept_job skn = {1, NULL, krbap_none, &stok, 0, n, 1, NULL, NULL, NULL,
                               NULL, 0, 0, 0, NULL, 0, 0, 0};
      struct accept_job smn = {0, mit_snone, NULL, &stok, 0, n, 1, NULL, NULL, NULL,
                               NULL, 0, 0, 0, NULL, 0, 0, 0};
      struct side skna = {side_accept, &skn, 0, 0, 0, 0, {0}};
      struct side smna = {side_accept, &smn, 0, 0, 0, 0, {0}};
      interleave(n, &skna, &smna);
      set_rcache_env(NULL, NULL);
      snprintf(name, sizeof name, "%s SPNEGO accept, no replay cache", s->enctype);
      snprintf(raw_name, sizeof raw_name, "%s accept, no replay cache", s->enctype);
      record(item_relative(name, "op/s", raw_name, 0.9), n / skna.secs, n / smna.secs);
      check(skna.bad == 0 && smna.bad == 0, "%s round %d: %zu SPNEGO accepts without replay "
            "cache (krbap %zu failed, MIT %zu)", s->enctype, r, n, skna.bad, smna.bad);
      gss_release_cred(&minor, &mit_snone);
      mit_ctxs_free(sctx, n);
      free(sctx);
      tokens_free(&stok);
      tokens_free(&sans);
    }

    /* heap held per accepted context: accept all tokens again, keeping the contexts
     * (untimed; glibc's mallinfo2 counts both libraries' allocations) */
    gss_ctx_id_t *hold_m = xcalloc(n, sizeof *hold_m);
    krbap_ctx **hold_k = xcalloc(n, sizeof *hold_k);
    kn.krbap_ctx = hold_k;
    mn.mit_ctx = hold_m;
    kn.to = mn.to = n;
    size_t h0 = heap_in_use();
    kb = accept_all(&kn, 1, &ks);
    size_t h1 = heap_in_use();
    set_rcache_env("none", NULL);
    size_t h2 = heap_in_use();
    mb = accept_all(&mn, 1, &ms);
    size_t h3 = heap_in_use();
    set_rcache_env(NULL, NULL);
    snprintf(name, sizeof name, "%s heap per accepted context", s->enctype);
    record(item(name, "bytes", BYTES, 0.5), (double)(h1 - h0) / n, (double)(h3 - h2) / n);
    check(h1 > h0 && h3 > h2, "%s round %d: heap per context measured (krbap %.0f B, MIT %.0f B)",
          s->enctype, r, (double)(h1 - h0) / n, (double)(h3 - h2) / n);
    krbap_ctxs_free(hold_k, n);
    mit_ctxs_free(hold_m, n);
    free(hold_k);
    free(hold_m);

    /* AP-REP processing: MIT's initiators take krbap's AP-REPs (made above), krbap's
     * initiators take MIT's (made here, untimed) */
    struct tokens mrep = {n, xcalloc(n, sizeof(gss_buffer_desc)), NULL};
    struct tokens kin = {n, xcalloc(n, sizeof(gss_buffer_desc)), NULL};
    for (size_t i = 0; i < n; i++) {
      kin.mit[i].length = ktok.krbap[i].length;
      kin.mit[i].value = ktok.krbap[i].value;
    }
    set_rcache_env("none", NULL);
    struct accept_job mk = {0, mit_none, NULL, &kin, 0, n, 1, NULL, NULL, &mrep,
                            NULL, 0, 0, 0, NULL, 0, 0, 0};
    mb = accept_all(&mk, 1, &ms);
    set_rcache_env(NULL, NULL);
    check(mb == 0, "%s round %d: MIT accepted all %zu krbap tokens (refused %zu)", s->enctype, r,
          n, mb);
    free(kin.mit);
    struct side kc = {side_krbap_continue, s, kctx, &mrep, 0, 0, {0}};
    struct side mc = {side_mit_continue, s, mctx, &krep, 0, 0, {0}};
    interleave(n, &kc, &mc);
    ks = kc.secs, ms = mc.secs, kb = kc.bad, mb = mc.bad;
    snprintf(name, sizeof name, "%s AP-REP processing", s->enctype);
    record(item(name, "op/s", RATE, 2), n / ks, n / ms);
    check(kb == 0 && mb == 0, "%s round %d: AP-REPs processed (krbap of MIT's: %zu failed, "
          "MIT of krbap's: %zu)", s->enctype, r, kb, mb);
    tokens_free(&mrep);
    tokens_free(&krep);

    /* accept on 1 and on 2 threads, default replay caches, fresh for each run; each
     * configuration runs THREAD_REPEATS times and the fastest run counts (a 2-thread run of
     * krbap lasts tens of ms, so one descheduled vCPU slice would otherwise decide it) */
    enum { THREAD_REPEATS = 3 };
    double k1 = 1, k2 = 0, m1 = 1, m2 = 0, kcpu[2] = {1, 1}, mcpu[2] = {1, 1};
    for (int threads = 1; threads <= 2; threads++) {
      double kbest = 0, mbest = 0;
      for (int rep = 0; rep < THREAD_REPEATS; rep++) {
        krbap_cred *kc = krbap_acceptor(s, "memory:");
        set_rcache_env(NULL, fresh_rcache_dir());
        gss_cred_id_t mc = mit_acceptor(s);
        struct accept_job a = {1, NULL, kc, &mtok, 0, n, 1, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, 0, 0, 0};
        struct accept_job b = {0, mc, NULL, &mtok, 0, n, 1, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, 0, 0, 0};
        kb = accept_all(&a, threads, &ks);
        mb = accept_all(&b, threads, &ms);
        check(kb == 0 && mb == 0, "%s round %d: accept on %d thread(s) (krbap %zu failed, MIT %zu)",
              s->enctype, r, threads, kb, mb);
        if (n / ks > kbest) kbest = n / ks, kcpu[threads - 1] = a.cpu;
        if (n / ms > mbest) mbest = n / ms, mcpu[threads - 1] = b.cpu;
        krbap_release_cred(&kmin, &kc);
        gss_release_cred(&minor, &mc);
      }
      if (threads == 1)
        k1 = kbest, m1 = mbest;
      else
        k2 = kbest, m2 = mbest;
    }
    snprintf(name, sizeof name, "%s accept 2 threads / 1 thread", s->enctype);
    record(item(name, "x", SCALING, 1.8), k2 / k1, m2 / m1);
    /* CPU time per accept on 1 thread over that on 2: 1.0 means the threads cost each
     * other nothing (no lock spinning, no cache-line bouncing), whatever the load of the
     * machine; lock waits that sleep do not show here, only in the wall-clock ratio */
    snprintf(name, sizeof name, "%s accept 2 threads, CPU efficiency", s->enctype);
    record(item(name, "x", INFO, 0), kcpu[0] / kcpu[1], mcpu[0] / mcpu[1]);

    /* per-message protection on the pure pairs: initiator wraps, acceptor unwraps */
    {
      static unsigned char text[16384];
      for (size_t i = 0; i < sizeof text; i++) text[i] = (unsigned char)(i * 13 + r);
      struct blob msg = {sizeof text, text, 0}, mic_msg = {64, text, 0};
      const double mb16 = 16384.0 / 1e6;
      for (int conf = 1; conf >= 0; conf--) {
        double kt[2], mt[2], rt[2] = {0, 0};
        int bad = per_message(&pk, &pm, 0, conf, &msg, z->wrap, kt, mt,
                              conf ? s->enctype : NULL, rt);
        check(bad == 0, "%s round %d: %zu wraps+unwraps of 16 KiB (%s) each", s->enctype, r,
              z->wrap, conf ? "conf" : "integ");
        snprintf(name, sizeof name, "%s wrap 16 KiB, %s", s->enctype,
                 conf ? "confidentiality" : "integrity only");
        struct item *it = item(name, "MB/s", RATE, conf ? 2 : 0);
        record(it, z->wrap * mb16 / kt[0], z->wrap * mb16 / mt[0]);
        if (conf && rt[0] > 0 && it->nr < MAX_ROUNDS) {
          it->raw_kind = 1;
          it->raw[it->nr++] = rt[0];
        }
        snprintf(name, sizeof name, "%s unwrap 16 KiB, %s", s->enctype,
                 conf ? "confidentiality" : "integrity only");
        it = item(name, "MB/s", RATE, conf ? 2 : 0);
        record(it, z->wrap * mb16 / kt[1], z->wrap * mb16 / mt[1]);
        if (conf && rt[1] > 0 && it->nr < MAX_ROUNDS) {
          it->raw_kind = 2;
          it->raw[it->nr++] = rt[1];
        }
      }
      double kt[2], mt[2];
      int bad = per_message(&pk, &pm, 1, 0, &mic_msg, z->mic, kt, mt, NULL, NULL);
      check(bad == 0, "%s round %d: %zu get_mic+verify_mic of 64 B each", s->enctype, r, z->mic);
      snprintf(name, sizeof name, "%s get_mic 64 B", s->enctype);
      record(item(name, "op/s", RATE, 1.5), z->mic / kt[0], z->mic / mt[0]);
      snprintf(name, sizeof name, "%s verify_mic 64 B", s->enctype);
      record(item(name, "op/s", RATE, 1.5), z->mic / kt[1], z->mic / mt[1]);
    }

    mit_ctxs_free(mctx, n);
    krbap_ctxs_free(kctx, n);
    free(mctx);
    free(kctx);
    tokens_free(&mtok);
    tokens_free(&ktok);
  }
  (void)z->memory;
  pair_free(&pk);
  pair_free(&pm);
  pair_free(&x_mk);
  pair_free(&x_km);
  pair_free(&y_mk);
  pair_free(&y_km);
  krbap_release_cred(&kmin, &krbap_none);
  gss_release_cred(&minor, &mit_none);
}

/* ------------------------------------------------------------------- the PAC's cost */

/* krbap's accept of tokens [from, to), each context deleted at once (a = credential,
 * b = tokens). */
static size_t side_krbap_accept_tokens(struct side *x, size_t from, size_t to, double *secs) {
  krbap_cred *cred = x->a;
  krbap_buffer *tok = x->b;
  size_t bad = 0;
  double t0 = now_s();
  for (size_t i = from; i < to; i++) {
    uint32_t minor, m;
    krbap_ctx *c = NULL;
    krbap_buffer out = {0, NULL};
    uint32_t major = krbap_accept_sec_context(&minor, &c, cred, &tok[i], NULL, NULL, NULL, NULL,
                                              &out, NULL);
    if (major != KRBAP_S_COMPLETE) {
      if (!bad) krbap_status("krbap_accept_sec_context (PAC item)", major, minor);
      bad++;
    }
    krbap_buffer_free(&m, &out);
    if (c) krbap_delete_sec_context(&m, &c, NULL);
  }
  *secs = now_s() - t0;
  return bad;
}

/* n initial tokens of krbap's initiator from the minted ccache `path` (untimed). */
static krbap_buffer *pac_tokens(struct service *s, const char *path, size_t n) {
  uint32_t major, minor;
  krbap_cred *ic = NULL;
  char name[4200];
  snprintf(name, sizeof name, "FILE:%s", path);
  major = krbap_acquire_cred(&minor, NULL, KRBAP_C_INITIATE, name, &ic, NULL);
  if (major) krbap_status("krbap_acquire_cred(initiate, minted)", major, minor), die("%s", path);
  krbap_buffer *tok = xcalloc(n, sizeof *tok);
  for (size_t i = 0; i < n; i++) {
    krbap_ctx *c = NULL;
    major = krbap_init_sec_context(&minor, ic, &c, s->krbap_name, REQ_FLAGS, NULL, NULL, NULL,
                                   NULL, &tok[i]);
    if (major != KRBAP_S_CONTINUE_NEEDED) krbap_status("init (PAC item)", major, minor), die("%s", path);
    krbap_delete_sec_context(&minor, &c, NULL);
  }
  krbap_release_cred(&minor, &ic);
  return tok;
}

/* The crypto a PAC adds to an accept, timed by krbap-crypto-bench (a = enctype, b = how
 * much larger the ticket is, c = the PAC's size): decrypting a ticket b bytes larger plus
 * the MAC over the PAC, less decrypting the smaller ticket (a 200-byte one: decryption
 * costs are linear in the size, so the base cancels). */
static double pac_ops(const char *enctype, size_t ticket, size_t pac, size_t n) {
  char cmd[4600];
  snprintf(cmd, sizeof cmd, "'%s' --pac-ops %zu %s %zu %zu", raw_bin, n, enctype, ticket, pac);
  FILE *f = popen(cmd, "r");
  if (!f) die("%s: %s", cmd, strerror(errno));
  double t = -1;
  int got = fscanf(f, "%lf", &t);
  int rc = pclose(f);
  return got == 1 && rc == 0 ? t : -1;
}
static size_t side_pac_floor(struct side *x, size_t from, size_t to, double *secs) {
  size_t growth = (size_t)(uintptr_t)x->b, pac = (size_t)(uintptr_t)x->c;
  double with = pac_ops(x->a, 200 + growth, pac, to - from);
  double without = pac_ops(x->a, 200, 0, to - from);
  if (with < 0 || without < 0) return 1;
  *secs = with > without ? with - without : 0;
  return 0;
}

/* What an Active Directory PAC costs krbap's accept: tokens whose ticket carries the Samba AD
 * DC's PAC of tests/data/samba-ad/alice.pac (re-signed for this service by `krbap
 * mint-ticket --pac`: 920 bytes, LOGON_INFO with 5 groups and an extra SID, UPN_DNS_INFO,
 * four signatures) against tokens whose ticket has no PAC, same service key and enctype
 * (bench.sh mints both into $KRBAP_BENCH_PAC_DIR/<service>.{pac,nopac}.cc). krbap verifies
 * the server signature and CLIENT_INFO and parses every buffer on accept. */
static void bench_pac(struct service *s, int rounds, size_t n) {
  const char *dir = getenv("KRBAP_BENCH_PAC_DIR");
  char host[64], with[4200], without[4200], name[160];
  uint32_t minor;
  if (!dir || !*dir) return;
  snprintf(host, sizeof host, "%.*s", (int)strcspn(s->host_name, "@"), s->host_name);
  snprintf(with, sizeof with, "%s/%s.pac.cc", dir, host);
  snprintf(without, sizeof without, "%s/%s.nopac.cc", dir, host);
  krbap_buffer *tp = pac_tokens(s, with, n), *tn = pac_tokens(s, without, n);
  /* the PAC is there and verifies; the other ticket has none */
  {
    krbap_cred *cred = krbap_acceptor(s, "none:");
    krbap_ctx *c = NULL;
    krbap_pac *pac = NULL;
    uint32_t verified = 0, m;
    krbap_buffer out = {0, NULL};
    uint32_t major = krbap_accept_sec_context(&minor, &c, cred, &tp[0], NULL, NULL, NULL, NULL,
                                              &out, NULL);
    krbap_buffer_free(&m, &out);
    check(major == 0 && krbap_ctx_get_pac(&m, c, &pac) == 0 &&
              krbap_pac_get_verified(&m, pac, &verified, NULL) == 0 &&
              verified == KRBAP_PAC_SERVER_SIGNATURE,
          "%s: the minted AD PAC is accepted and its server signature verified", s->enctype);
    krbap_release_pac(&m, &pac);
    krbap_delete_sec_context(&m, &c, NULL);
    major = krbap_accept_sec_context(&minor, &c, cred, &tn[0], NULL, NULL, NULL, NULL, &out, NULL);
    krbap_buffer_free(&m, &out);
    check(major == 0 && krbap_ctx_get_pac(&m, c, &pac) == KRBAP_S_UNAVAILABLE,
          "%s: the ticket without PAC is accepted, no PAC", s->enctype);
    krbap_delete_sec_context(&m, &c, NULL);
    krbap_release_cred(&m, &cred);
  }
  /* The tickets differ only in the PAC: the tokens' length difference is how much larger
   * the ticket's ciphertext is. */
  size_t growth = tp[0].length > tn[0].length ? tp[0].length - tn[0].length : 0;
  for (int r = 0; r < rounds; r++) {
    krbap_cred *cp = krbap_acceptor(s, "memory:"), *cn = krbap_acceptor(s, "memory:");
    struct side a = {side_krbap_accept_tokens, cp, tp, 0, 0, 0, {0}};
    struct side b = {side_krbap_accept_tokens, cn, tn, 0, 0, 0, {0}};
    struct side fl = {side_pac_floor, (void *)s->enctype, (void *)(uintptr_t)growth,
                      (void *)(uintptr_t)920, 0, 0, {0}};
    interleave3(n, &a, &b, raw_bin ? &fl : NULL);
    snprintf(name, sizeof name, "%s accept: AD PAC 920 B (krbap) vs no PAC (krbap), time",
             s->enctype);
    struct item *it = item(name, "op/s", OVERHEAD, 1.15);
    record(it, n / a.secs, n / b.secs);
    /* the floor: the accept without PAC plus only the crypto the PAC adds */
    if (raw_bin && fl.bad == 0 && it->nr < MAX_ROUNDS) {
      it->raw_kind = 3;
      it->raw[it->nr++] = (b.secs + fl.secs) / b.secs;
    }
    check(a.bad == 0 && b.bad == 0, "%s round %d: %zu tokens with and without PAC accepted "
          "(refused %zu, %zu)", s->enctype, r, n, a.bad, b.bad);
    krbap_release_cred(&minor, &cp);
    krbap_release_cred(&minor, &cn);
  }
  for (size_t i = 0; i < n; i++) {
    krbap_buffer_free(&minor, &tp[i]);
    krbap_buffer_free(&minor, &tn[i]);
  }
  free(tp);
  free(tn);
}

/* --------------------------------------------------------------------------- output */

static void print_table(FILE *csv, int rounds) {
  printf("\n%-70s %6s %12s %12s %8s %9s %8s\n", "item", "unit", "krbap", "MIT", "ratio",
         "raw-limit", "target");
  if (csv)
    fprintf(csv, "item,unit,krbap,mit,ratio_krbap_mit,fraction_of_raw_crypto,target,met,"
                 "rounds\n");
  for (int i = 0; i < n_items; i++) {
    struct item *it = &items[i];
    double k = median(it->krbap, it->nk), m = median(it->mit, it->nm);
    double ratio = m > 0 ? k / m : 0;
    char frac[32] = "", target[32] = "", met[8] = "";
    double fraction = median(it->raw, it->nr);
    if (it->raw_kind == 3)
      snprintf(frac, sizeof frac, "%.2fx", fraction); /* the crypto floor of the cost */
    else if (it->raw_kind) snprintf(frac, sizeof frac, "%.0f%%", 100 * fraction);
    if (it->kind == RATE && it->target > 0) {
      int ok = ratio >= it->target && (!it->raw_kind || fraction >= 0.8);
      snprintf(target, sizeof target, ">=%.1fx%s", it->target, it->raw_kind ? ",80%" : "");
      snprintf(met, sizeof met, "%s", ok ? "met" : "MISS");
    } else if (it->kind == BYTES) {
      snprintf(target, sizeof target, "<=%.1fx", it->target);
      snprintf(met, sizeof met, "%s", ratio <= it->target ? "met" : "MISS");
    } else if (it->kind == RELATIVE) {
      /* the target is a share of another item's krbap/MIT ratio */
      double want = 0;
      for (int b = 0; b < n_items; b++) {
        if (strcmp(items[b].name, it->base) == 0) {
          double bm = median(items[b].mit, items[b].nm);
          want = it->target * (bm > 0 ? median(items[b].krbap, items[b].nk) / bm : 0);
        }
      }
      snprintf(target, sizeof target, ">=%.2fx", want);
      snprintf(met, sizeof met, "%s", want > 0 && ratio >= want ? "met" : "MISS");
    } else if (it->kind == OVERHEAD) {
      /* both columns are krbap: the "MIT" column holds the baseline; the ratio is the cost */
      ratio = k > 0 ? m / k : 0;
      snprintf(target, sizeof target, "<=%.2fx", it->target);
      snprintf(met, sizeof met, "%s", ratio <= it->target ? "met" : "MISS");
    } else if (it->kind == SCALING) {
      /* the target is krbap's own scaling; the ratio column compares it with MIT's */
      snprintf(target, sizeof target, "krbap>=%.1f", it->target);
      snprintf(met, sizeof met, "%s", k >= it->target ? "met" : "MISS");
    }
    const char *fmt = it->kind == SCALING || it->kind == INFO ? "%-70s %6s %12.2f %12.2f %7.2fx %9s %8s %s\n"
                                          : "%-70s %6s %12.0f %12.0f %7.2fx %9s %8s %s\n";
    printf(fmt, it->name, it->unit, k, m, ratio, frac, target, smoke ? "" : met);
    if (csv)
      fprintf(csv, "\"%s\",%s,%.3f,%.3f,%.3f,%s,%s,%s,%d\n", it->name, it->unit, k, m, ratio,
              it->raw_kind ? frac : "", target, smoke ? "" : met, rounds);
  }
}

/* ------------------------------------------------------- instruction counts (--callgrind) */

/* Ends an item: the counters since the last dump (only the library calls between CG_ON and
 * CG_OFF) go to a dump named "item|enctype|library|calls" (scripts/callgrind.sh divides). */
static void cg_dump(const char *what, const struct service *s, const char *lib, size_t calls) {
#ifdef KRBAP_BENCH_CALLGRIND
  char d[256];
  snprintf(d, sizeof d, "%s|%s|%s|%zu", what, s->enctype, lib, calls);
  CALLGRIND_DUMP_STATS_AT(d);
#else
  (void)what, (void)s, (void)lib, (void)calls;
#endif
}

/* The items of bench_service on the same kind of tokens, n measured calls each after W
 * unmeasured ones (first-use costs: keytab read, derived-key slots, lazy statics). */
static void callgrind_service(struct service *s, size_t n) {
  enum { W = 8 };
  const size_t t = n + W;
  OM_uint32 minor, m;
  uint32_t kmin, km;
  gss_ctx_id_t *mctx = xcalloc(t, sizeof *mctx);
  krbap_ctx **kctx = xcalloc(t, sizeof *kctx);
  struct tokens mtok = {t, xcalloc(t, sizeof(gss_buffer_desc)), NULL};
  struct tokens ktok = {t, NULL, xcalloc(t, sizeof(krbap_buffer))};
  struct tokens krep = {t, NULL, xcalloc(t, sizeof(krbap_buffer))};
  struct tokens mrep = {t, xcalloc(t, sizeof(gss_buffer_desc)), NULL};
  size_t bad = 0;

  /* init (first call) */
  for (size_t i = 0; i < t; i++) {
    mctx[i] = GSS_C_NO_CONTEXT;
    if (i >= W) CG_ON();
    OM_uint32 major = gss_init_sec_context(&minor, s->mit_init_cred, &mctx[i], s->mit_name,
                                           (gss_OID)gss_mech_krb5, REQ_FLAGS, 0,
                                           GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL,
                                           &mtok.mit[i], NULL, NULL);
    if (i >= W) CG_OFF();
    bad += major != GSS_S_CONTINUE_NEEDED;
  }
  cg_dump("init (first call)", s, "MIT", n);
  for (size_t i = 0; i < t; i++) {
    uint32_t minor32;
    if (i >= W) CG_ON();
    uint32_t major = krbap_init_sec_context(&minor32, s->krbap_init_cred, &kctx[i], s->krbap_name,
                                            REQ_FLAGS, NULL, NULL, NULL, NULL, &ktok.krbap[i]);
    if (i >= W) CG_OFF();
    bad += major != KRBAP_S_CONTINUE_NEEDED;
  }
  cg_dump("init (first call)", s, "krbap", n);

  /* accept, with each library's default replay cache and without; MIT's tokens */
  for (int rc = 1; rc >= 0; rc--) {
    const char *what = rc ? "accept, replay cache" : "accept, no replay cache";
    krbap_cred *kc = krbap_acceptor(s, rc ? "memory:" : "none:");
    for (size_t i = 0; i < t; i++) {
      krbap_ctx *c = NULL;
      krbap_buffer in = {mtok.mit[i].length, mtok.mit[i].value}, out = {0, NULL};
      if (i >= W) CG_ON();
      uint32_t major = krbap_accept_sec_context(&kmin, &c, kc, &in, NULL, NULL, NULL, NULL, &out,
                                                NULL);
      if (i >= W) CG_OFF();
      bad += major != KRBAP_S_COMPLETE;
      krbap_delete_sec_context(&km, &c, NULL);
      if (rc)
        krep.krbap[i] = out;
      else
        krbap_buffer_free(&km, &out);
    }
    cg_dump(what, s, "krbap", n);
    /* Freeing an accepted context and its reply, as the timed benchmark's accept loop does
     * after each accept: what a context holds is paid for here. */
    for (size_t i = 0; !rc && i < t; i++) {
      krbap_ctx *c = NULL;
      krbap_buffer in = {mtok.mit[i].length, mtok.mit[i].value}, out = {0, NULL};
      bad += krbap_accept_sec_context(&kmin, &c, kc, &in, NULL, NULL, NULL, NULL, &out, NULL) !=
             KRBAP_S_COMPLETE;
      if (i >= W) CG_ON();
      krbap_delete_sec_context(&km, &c, NULL);
      krbap_buffer_free(&km, &out);
      if (i >= W) CG_OFF();
    }
    if (!rc) cg_dump("delete accepted context", s, "krbap", n);
    krbap_release_cred(&km, &kc);
    if (rc)
      set_rcache_env(NULL, fresh_rcache_dir());
    else
      set_rcache_env("none", NULL);
    gss_cred_id_t mc = mit_acceptor(s);
    for (size_t i = 0; i < t; i++) {
      gss_ctx_id_t c = GSS_C_NO_CONTEXT;
      gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
      if (i >= W) CG_ON();
      OM_uint32 major = gss_accept_sec_context(&minor, &c, mc, &mtok.mit[i],
                                               GSS_C_NO_CHANNEL_BINDINGS, NULL, NULL, &out, NULL,
                                               NULL, NULL);
      if (i >= W) CG_OFF();
      bad += major != GSS_S_COMPLETE;
      gss_delete_sec_context(&m, &c, GSS_C_NO_BUFFER);
      gss_release_buffer(&m, &out);
    }
    cg_dump(what, s, "MIT", n);
    for (size_t i = 0; !rc && i < t; i++) {
      gss_ctx_id_t c = GSS_C_NO_CONTEXT;
      gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
      bad += gss_accept_sec_context(&minor, &c, mc, &mtok.mit[i], GSS_C_NO_CHANNEL_BINDINGS, NULL,
                                    NULL, &out, NULL, NULL, NULL) != GSS_S_COMPLETE;
      if (i >= W) CG_ON();
      gss_delete_sec_context(&m, &c, GSS_C_NO_BUFFER);
      gss_release_buffer(&m, &out);
      if (i >= W) CG_OFF();
    }
    if (!rc) cg_dump("delete accepted context", s, "MIT", n);
    gss_release_cred(&m, &mc);
    set_rcache_env(NULL, NULL);
  }

  /* AP-REP processing: krbap's initiators take MIT's AP-REPs (made here, uncounted), MIT's
   * take krbap's (from the accept above) */
  set_rcache_env("none", NULL);
  gss_cred_id_t mnone = mit_acceptor(s);
  for (size_t i = 0; i < t; i++) {
    gss_ctx_id_t c = GSS_C_NO_CONTEXT;
    gss_buffer_desc in = {ktok.krbap[i].length, ktok.krbap[i].value};
    OM_uint32 major = gss_accept_sec_context(&minor, &c, mnone, &in, GSS_C_NO_CHANNEL_BINDINGS,
                                             NULL, NULL, &mrep.mit[i], NULL, NULL, NULL);
    bad += major != GSS_S_COMPLETE;
    gss_delete_sec_context(&m, &c, GSS_C_NO_BUFFER);
  }
  for (size_t i = 0; i < t; i++) {
    krbap_buffer in = {mrep.mit[i].length, mrep.mit[i].value}, out = {0, NULL};
    if (i >= W) CG_ON();
    uint32_t major = krbap_init_sec_context(&kmin, s->krbap_init_cred, &kctx[i], s->krbap_name,
                                            REQ_FLAGS, NULL, &in, NULL, NULL, &out);
    if (i >= W) CG_OFF();
    bad += major != KRBAP_S_COMPLETE;
    krbap_buffer_free(&km, &out);
  }
  cg_dump("AP-REP processing", s, "krbap", n);
  for (size_t i = 0; i < t; i++) {
    gss_buffer_desc in = {krep.krbap[i].length, krep.krbap[i].value}, out = GSS_C_EMPTY_BUFFER;
    if (i >= W) CG_ON();
    OM_uint32 major = gss_init_sec_context(&minor, s->mit_init_cred, &mctx[i], s->mit_name,
                                           (gss_OID)gss_mech_krb5, REQ_FLAGS, 0,
                                           GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL, NULL);
    if (i >= W) CG_OFF();
    bad += major != GSS_S_COMPLETE;
    gss_release_buffer(&m, &out);
  }
  cg_dump("AP-REP processing", s, "MIT", n);

  /* get_mic / verify_mic of 64 B on pairs without mutual authentication (keys of the
   * session enctype), initiator signs, acceptor verifies */
  krbap_cred *knone = krbap_acceptor(s, "none:");
  struct pair pk = {1, 1, 0, 0, 0, 0}, pm = {0, 0, 0, 0, 0, 0};
  establish(s, &pk, mnone, knone, 0);
  establish(s, &pm, mnone, knone, 0);
  set_rcache_env(NULL, NULL);
  unsigned char text[64];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (unsigned char)(i * 7 + 1);
  const struct blob msg = {sizeof text, text, 0};
  struct blob *tok = xcalloc(t, sizeof *tok);
  for (int lib = 0; lib < 2; lib++) {
    struct pair *p = lib ? &pm : &pk;
    const char *name = lib ? "MIT" : "krbap";
    for (size_t i = 0; i < t; i++) {
      if (i >= W) CG_ON();
      int r = op_get_mic(p, 0, &msg, &tok[i]);
      if (i >= W) CG_OFF();
      bad += r != 0;
    }
    cg_dump("get_mic 64 B", s, name, n);
    for (size_t i = 0; i < t; i++) {
      if (i >= W) CG_ON();
      int r = op_verify_mic(p, 1, &msg, &tok[i]);
      if (i >= W) CG_OFF();
      bad += r != 0;
    }
    cg_dump("verify_mic 64 B", s, name, n);
    for (size_t i = 0; i < t; i++) blob_free(&tok[i]);
  }
  check(bad == 0, "%s: --callgrind items ran without failures (%zu failed)", s->enctype, bad);
  free(tok);
  pair_free(&pk);
  pair_free(&pm);
  krbap_release_cred(&km, &knone);
  gss_release_cred(&m, &mnone);
  mit_ctxs_free(mctx, t);
  krbap_ctxs_free(kctx, t);
  free(mctx);
  free(kctx);
  tokens_free(&mtok);
  tokens_free(&ktok);
  tokens_free(&krep);
  tokens_free(&mrep);
}

int main(int argc, char **argv) {
  int rounds = 3;
  size_t callgrind_n = 0;
  const char *csv_path = NULL, *raw_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--smoke") == 0)
      smoke = 1;
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
      csv_path = argv[++i];
    else if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc)
      raw_path = argv[++i];
    else if (strcmp(argv[i], "--callgrind") == 0 && i + 1 < argc)
      callgrind_n = strtoul(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: %s [--smoke] [--rounds N] [--csv FILE] [--raw BIN] [--callgrind N]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 1 || rounds > MAX_ROUNDS) die("--rounds must be 1..%d", MAX_ROUNDS);
  /* A server's heap is warm: freed token buffers are reused, not returned to the kernel
   * and faulted in again (4 page faults per 16 KiB Wrap token otherwise, for both
   * libraries alike). Keep freed memory mapped and below the mmap threshold. */
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (smoke) rounds = 1;
  struct sizes z = smoke ? (struct sizes){8, 4, 16, 8} : (struct sizes){10000, 1500, 50000, 10000};
  raw_bin = raw_path;
  const char *rc = getenv("KRB5RCACHEDIR");
  if (!rc || !*rc) die("KRB5RCACHEDIR must name a scratch directory");
  snprintf(rcache_root, sizeof rcache_root, "%s", rc);
  krb5_mechs.elements = (gss_OID)gss_mech_krb5;

  struct service services[] = {
      {"test-aes256-sha1@localhost", "aes256-cts-hmac-sha1-96", 0, 0, 0, 0},
      {"test-aes256-sha384@localhost", "aes256-cts-hmac-sha384-192", 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof services / sizeof *services; i++) {
    struct service *s = &services[i];
    OM_uint32 major, minor;
    uint32_t kmaj, kmin;
    gss_buffer_desc nb = {strlen(s->host_name), (void *)s->host_name};
    major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &s->mit_name);
    if (major) mit_status("gss_import_name", major, minor), die("name");
    krbap_buffer kb = {strlen(s->host_name), (void *)s->host_name};
    kmaj = krbap_import_name(&kmin, &kb, KRBAP_NT_HOSTBASED_SERVICE, &s->krbap_name);
    if (kmaj) krbap_status("krbap_import_name", kmaj, kmin), die("name");
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &krb5_mechs, GSS_C_INITIATE,
                             &s->mit_init_cred, NULL, NULL);
    if (major) mit_status("gss_acquire_cred(initiate)", major, minor), die("MIT initiator");
    /* MIT's first init fetches the service ticket into the ccache, where krbap finds it */
    gss_ctx_id_t c = GSS_C_NO_CONTEXT;
    gss_buffer_desc t = GSS_C_EMPTY_BUFFER;
    double secs;
    if (mit_init_n(s, 0, 1, &c, &t, &secs)) die("MIT init for %s", s->host_name);
    gss_delete_sec_context(&minor, &c, GSS_C_NO_BUFFER);
    gss_release_buffer(&minor, &t);
    kmaj = krbap_acquire_cred(&kmin, NULL, KRBAP_C_INITIATE, NULL, &s->krbap_init_cred, NULL);
    if (kmaj) krbap_status("krbap_acquire_cred(initiate)", kmaj, kmin), die("krbap initiator");
  }

  if (callgrind_n) {
#ifndef KRBAP_BENCH_CALLGRIND
    die("--callgrind: built without -DKRBAP_BENCH_CALLGRIND");
#endif
    smoke = 1;
    for (size_t i = 0; i < sizeof services / sizeof *services; i++)
      callgrind_service(&services[i], callgrind_n);
  }
  for (size_t i = 0; !callgrind_n && i < sizeof services / sizeof *services; i++) {
    fprintf(stderr, "krbap_bench: %s, %d round(s) of %zu tokens\n", services[i].enctype, rounds,
            z.accept);
    bench_service(&services[i], rounds, &z);
    bench_pac(&services[i], rounds, z.accept);
  }

  FILE *csv = NULL;
  if (csv_path && !(csv = fopen(csv_path, "w"))) die("%s: %s", csv_path, strerror(errno));
  if (!callgrind_n) print_table(csv, rounds);
  if (csv) fclose(csv);
  if (raw_bin) {
    printf("raw-limit: krbap's Wrap/unwrap throughput over the raw AES-256-CTS + HMAC of the "
           "same messages (%s --ops), timed between the same chunks; median over chunks and "
           "rounds\n",
           raw_bin);
    printf("PAC rows: ratio = accept time with the PAC / without; raw-limit = that ratio if the "
           "PAC added only its crypto (the larger ticket's decryption and the server "
           "signature's MAC, %s --pac-ops)\n",
           raw_bin);
  }
  for (size_t i = 0; i < sizeof services / sizeof *services; i++) {
    OM_uint32 m;
    uint32_t km;
    gss_release_name(&m, &services[i].mit_name);
    gss_release_cred(&m, &services[i].mit_init_cred);
    krbap_release_name(&km, &services[i].krbap_name);
    krbap_release_cred(&km, &services[i].krbap_init_cred);
  }
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed ? 1 : 0;
}
