/*
 * farm_bench - the farm-wide replay cache (redis:) against MIT's file2 accept, and
 * krbap's accept with Redis on 2 processes against 1 (`make bench`, scripts/bench-redis.sh).
 *
 * One set of MIT initial tokens (gss_init_sec_context on alice's ccache of a throwaway
 * realm, service test-aes256-sha1/localhost) is accepted, per round, by:
 *   memory   krbap, memory: replay cache, 1 process (the reference for added latency)
 *   redis1   krbap, redis: replay cache on loopback, 1 process
 *   mit      MIT's libgssapi_krb5, its default file2 replay cache (fresh KRB5RCACHEDIR)
 *   redis2   krbap, redis:, 2 forked processes sharing the Redis, each half of the tokens
 * Each redis run uses a fresh key prefix and each memory/file2 run a fresh cache, so every
 * token is new to every run. The order of the runs alternates between rounds; the table
 * shows medians over the rounds. CPU per accept: the acceptor processes' user+system time
 * (getrusage / wait4) and the Redis server's (/proc/PID/stat, 10 ms ticks) over the accepts.
 * Latency: each accept timed alone (CLOCK_MONOTONIC); p50/p99 of redis1 minus memory.
 *
 * Usage: farm_bench --redis NAME --redis-pid PID [--tokens N] [--rounds R] [--smoke]
 *                   [--csv FILE]
 *   NAME      a redis: replay-cache name with a '?' part (e.g. redis://127.0.0.1:P/0?
 *             timeout_ms=1000); each run appends &prefix=runK:
 *   --redis-unix NAME  also 1 process on this redis+unix: name (same Redis, its socket)
 *   --smoke   a few tokens; checks that every run accepted every token and that replays
 *             are refused (also across the 2 processes); no timing verdicts.
 * The environment is the realm's (. DIR/env): KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME, and
 * KRB5RCACHEDIR naming a scratch directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "farm_bench"
#include "bench_common.h"

#define SERVICE "test-aes256-sha1@localhost"
#define MAX_ROUNDS 9

static double rusage_s(const struct rusage *r) {
  return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
         (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

static double self_cpu_s(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return rusage_s(&r);
}

/* The Redis server's CPU time so far (utime + stime of /proc/PID/stat). */
static long redis_pid;
static double redis_cpu_s(void) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", redis_pid);
  FILE *f = fopen(path, "r");
  if (!f) die("%s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')');
  if (!p) die("%s: unexpected format", path);
  unsigned long utime = 0, stime = 0;
  /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    die("%s: unexpected format", path);
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------------- tokens */

static size_t n_tokens;
static gss_buffer_desc *tokens;

static void make_tokens(size_t n) {
  OM_uint32 major, minor;
  gss_name_t name = GSS_C_NO_NAME;
  gss_buffer_desc nb = {strlen(SERVICE), (void *)SERVICE};
  major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &name);
  if (major) die("gss_import_name: %u/%u", major, minor);
  tokens = calloc(n, sizeof *tokens);
  if (!tokens) die("out of memory");
  for (size_t i = 0; i < n; i++) {
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, name, (gss_OID)gss_mech_krb5,
                                 GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_REPLAY_FLAG, 0,
                                 GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &tokens[i],
                                 NULL, NULL);
    if (major != GSS_S_CONTINUE_NEEDED) die("MIT gss_init_sec_context: %u/%u", major, minor);
    gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
  }
  gss_release_name(&minor, &name);
  n_tokens = n;
}

/* ------------------------------------------------------------------------ acceptors */

static const char *redis_base, *redis_unix_base;
static unsigned run_serial;

/* A krbap acceptor with replay cache `rcache`, or with a fresh prefix on the redis: `base`
 * when `rcache` is NULL. */
static krbap_cred *krbap_acceptor(const char *rcache, const char *base, char *name_out,
                                  size_t name_len) {
  uint32_t major, minor;
  krbap_cred *cred = NULL;
  char name[1024];
  if (!rcache) {
    snprintf(name, sizeof name, "%s&prefix=run%u-%ld:", base, run_serial++, (long)getpid());
    rcache = name;
  }
  if (name_out) snprintf(name_out, name_len, "%s", rcache);
  major = krbap_acquire_cred(&minor, NULL, KRBAP_C_ACCEPT, NULL, &cred, NULL);
  if (major) krbap_status("krbap_acquire_cred", major, minor), die("acceptor");
  major = krbap_cred_set_replay_cache(&minor, cred, rcache);
  if (major) krbap_status("krbap_cred_set_replay_cache", major, minor), die("%s", rcache);
  return cred;
}

/* Accepts tokens [from, to) with krbap; latencies in `lat` (seconds) when not NULL.
 * Returns how many were accepted. */
static size_t krbap_accept_range(krbap_cred *cred, size_t from, size_t to, double *lat) {
  size_t ok = 0;
  int reported = 0;
  for (size_t i = from; i < to; i++) {
    uint32_t minor, m;
    krbap_ctx *ctx = NULL;
    krbap_buffer in = {tokens[i].length, tokens[i].value}, out = {0, NULL};
    double t0 = lat ? now_s() : 0;
    uint32_t major =
        krbap_accept_sec_context(&minor, &ctx, cred, &in, NULL, NULL, NULL, NULL, &out, NULL);
    if (lat) lat[i - from] = now_s() - t0;
    if (major == KRBAP_S_COMPLETE)
      ok++;
    else if (!reported++)
      krbap_status("krbap_accept_sec_context", major, minor);
    krbap_buffer_free(&m, &out);
    krbap_delete_sec_context(&m, &ctx, NULL);
  }
  return ok;
}

/* The minor status of krbap's accept of token i (0 when accepted). */
static uint32_t krbap_accept_minor(krbap_cred *cred, size_t i) {
  uint32_t minor = 0, m;
  krbap_ctx *ctx = NULL;
  krbap_buffer in = {tokens[i].length, tokens[i].value}, out = {0, NULL};
  uint32_t major =
      krbap_accept_sec_context(&minor, &ctx, cred, &in, NULL, NULL, NULL, NULL, &out, NULL);
  krbap_buffer_free(&m, &out);
  krbap_delete_sec_context(&m, &ctx, NULL);
  return major == KRBAP_S_COMPLETE ? 0 : minor;
}

static gss_OID_set_desc krb5_mechs = {1, NULL};

static size_t mit_accept_all(void) {
  static char dir[4200];
  OM_uint32 major, minor;
  gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
  snprintf(dir, sizeof dir, "%s/mit%u", getenv("KRB5RCACHEDIR"), run_serial++);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) die("mkdir %s: %s", dir, strerror(errno));
  char *saved = strdup(getenv("KRB5RCACHEDIR"));
  setenv("KRB5RCACHEDIR", dir, 1);
  major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &krb5_mechs, GSS_C_ACCEPT,
                           &cred, NULL, NULL);
  if (major) die("MIT gss_acquire_cred(accept): %u/%u", major, minor);
  size_t ok = 0;
  for (size_t i = 0; i < n_tokens; i++) {
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    major = gss_accept_sec_context(&minor, &ctx, cred, &tokens[i], GSS_C_NO_CHANNEL_BINDINGS,
                                   NULL, NULL, &out, NULL, NULL, NULL);
    if (major == GSS_S_COMPLETE) ok++;
    gss_release_buffer(&minor, &out);
    gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
  }
  gss_release_cred(&minor, &cred);
  setenv("KRB5RCACHEDIR", saved, 1);
  free(saved);
  return ok;
}

/* ------------------------------------------------------------------------- the runs */

struct result {
  double ops;        /* accepts per second */
  double cpu_us;     /* acceptor CPU per accept, microseconds */
  double redis_us;   /* Redis server CPU per accept, microseconds */
  double p50_us, p99_us;
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp_double);
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

static struct result run_one(const char *rcache, const char *base, const char *label) {
  struct result r = {0};
  char name[1024];
  krbap_cred *cred = krbap_acceptor(rcache, base, name, sizeof name);
  double *lat = calloc(n_tokens, sizeof *lat);
  if (!lat) die("out of memory");
  double c0 = self_cpu_s(), r0 = rcache ? 0 : redis_cpu_s(), t0 = now_s();
  size_t ok = krbap_accept_range(cred, 0, n_tokens, lat);
  double t1 = now_s(), c1 = self_cpu_s(), r1 = rcache ? 0 : redis_cpu_s();
  check(ok == n_tokens, "%s: krbap accepted %zu of %zu MIT tokens", label, ok, n_tokens);
  uint32_t minor = krbap_accept_minor(cred, n_tokens / 2);
  check(minor == (uint32_t)KRB5KRB_AP_ERR_REPEAT, "%s: a replay refused (minor %d)", label,
        (int)minor);
  r.ops = (double)n_tokens / (t1 - t0);
  r.cpu_us = (c1 - c0) * 1e6 / (double)n_tokens;
  r.redis_us = (r1 - r0) * 1e6 / (double)n_tokens;
  r.p50_us = percentile(lat, n_tokens, 0.50) * 1e6;
  r.p99_us = percentile(lat, n_tokens, 0.99) * 1e6;
  free(lat);
  uint32_t m;
  krbap_release_cred(&m, &cred);
  return r;
}

static struct result run_mit(void) {
  struct result r = {0};
  double t0 = now_s();
  size_t ok = mit_accept_all();
  double t1 = now_s();
  check(ok == n_tokens, "mit: MIT accepted %zu of %zu of its own tokens (file2 cache)", ok,
        n_tokens);
  r.ops = (double)n_tokens / (t1 - t0);
  return r;
}

/* Two forked acceptors sharing one redis: prefix, each accepting half of the tokens. */
static struct result run_two(void) {
  struct result r = {0};
  char name[1024];
  snprintf(name, sizeof name, "%s&prefix=two%u-%ld:", redis_base, run_serial++, (long)getpid());
  int go[2], done[2];
  if (pipe(go) || pipe(done)) die("pipe: %s", strerror(errno));
  pid_t pids[2];
  size_t half = n_tokens / 2;
  for (int k = 0; k < 2; k++) {
    pids[k] = fork();
    if (pids[k] < 0) die("fork: %s", strerror(errno));
    if (pids[k] == 0) {
      /* The acceptor is set up (connected) before the start signal, as a server would be. */
      krbap_cred *cred = krbap_acceptor(name, NULL, NULL, 0);
      char c;
      if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) _exit(3);
      size_t from = k == 0 ? 0 : half, to = k == 0 ? half : n_tokens;
      size_t ok = krbap_accept_range(cred, from, to, NULL);
      _exit(ok == to - from ? 0 : 1);
    }
  }
  char c;
  for (int k = 0; k < 2; k++)
    if (read(done[0], &c, 1) != 1) die("a child did not get ready");
  double r0 = redis_cpu_s(), t0 = now_s();
  if (write(go[1], "gg", 2) != 2) die("start signal: %s", strerror(errno));
  double cpu = 0;
  int all_ok = 1;
  for (int k = 0; k < 2; k++) {
    int status = 0;
    struct rusage ru;
    if (wait4(pids[k], &status, 0, &ru) != pids[k]) die("wait4: %s", strerror(errno));
    all_ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cpu += rusage_s(&ru);
  }
  double t1 = now_s(), r1 = redis_cpu_s();
  close(go[0]), close(go[1]), close(done[0]), close(done[1]);
  check(all_ok, "redis2: each of 2 processes accepted all of its %zu tokens", half);
  /* Both halves are now refused here, through a third acceptor on the same prefix. */
  krbap_cred *cred = krbap_acceptor(name, NULL, NULL, 0);
  uint32_t m0 = krbap_accept_minor(cred, 0), m1 = krbap_accept_minor(cred, n_tokens - 1);
  check(m0 == (uint32_t)KRB5KRB_AP_ERR_REPEAT && m1 == (uint32_t)KRB5KRB_AP_ERR_REPEAT,
        "redis2: what both processes accepted is refused by a third acceptor");
  uint32_t m;
  krbap_release_cred(&m, &cred);
  r.ops = (double)n_tokens / (t1 - t0);
  /* The children's CPU includes their setup (a connection); small against the accepts. */
  r.cpu_us = cpu * 1e6 / (double)n_tokens;
  r.redis_us = (r1 - r0) * 1e6 / (double)n_tokens;
  return r;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  int rounds = 3;
  size_t n = 20000;
  const char *csv_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--smoke") == 0)
      smoke = 1;
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc)
      n = (size_t)atol(argv[++i]);
    else if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
      redis_base = argv[++i];
    else if (strcmp(argv[i], "--redis-unix") == 0 && i + 1 < argc)
      redis_unix_base = argv[++i];
    else if (strcmp(argv[i], "--redis-pid") == 0 && i + 1 < argc)
      redis_pid = atol(argv[++i]);
    else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
      csv_path = argv[++i];
    else {
      fprintf(stderr,
              "usage: %s --redis NAME --redis-pid PID [--redis-unix NAME] [--tokens N] "
              "[--rounds R] [--smoke] [--csv FILE]\n",
              argv[0]);
      return 2;
    }
  }
  if (!redis_base || !strchr(redis_base, '?') || redis_pid <= 0)
    die("--redis NAME (with a '?' part) and --redis-pid PID are required");
  if (smoke) rounds = 1, n = 200;
  if (rounds < 1 || rounds > MAX_ROUNDS) die("--rounds must be 1..%d", MAX_ROUNDS);
  if (n < 2) die("--tokens must be at least 2");
  if (!getenv("KRB5RCACHEDIR")) die("KRB5RCACHEDIR must name a scratch directory");
  krb5_mechs.elements = (gss_OID)gss_mech_krb5;

  fprintf(stderr, "farm_bench: making %zu MIT tokens for %s\n", n, SERVICE);
  make_tokens(n);
  /* Warm-up: the keytab read, the first connections, page faults of both libraries. */
  {
    krbap_cred *cred = krbap_acceptor("memory:", NULL, NULL, 0);
    krbap_accept_range(cred, 0, n < 50 ? n : 50, NULL);
    uint32_t m;
    krbap_release_cred(&m, &cred);
  }

  double mem_ops[MAX_ROUNDS], r1_ops[MAX_ROUNDS], mit_ops[MAX_ROUNDS], r2_ops[MAX_ROUNDS];
  double r1_cpu[MAX_ROUNDS], r1_redis[MAX_ROUNDS], r2_cpu[MAX_ROUNDS], r2_redis[MAX_ROUNDS];
  double add50[MAX_ROUNDS], add99[MAX_ROUNDS], mem50[MAX_ROUNDS], r150[MAX_ROUNDS];
  double scale[MAX_ROUNDS], vs_mit[MAX_ROUNDS], unix_ops[MAX_ROUNDS], unix50[MAX_ROUNDS];
  for (int r = 0; r < rounds; r++) {
    fprintf(stderr, "farm_bench: round %d of %d, %zu tokens per run\n", r + 1, rounds, n);
    struct result mem, one, mit, two, unx = {0};
    if (r % 2 == 0) {
      mem = run_one("memory:", NULL, "memory");
      one = run_one(NULL, redis_base, "redis1");
      mit = run_mit();
      two = run_two();
      if (redis_unix_base) unx = run_one(NULL, redis_unix_base, "redis1-unix");
    } else {
      if (redis_unix_base) unx = run_one(NULL, redis_unix_base, "redis1-unix");
      two = run_two();
      mit = run_mit();
      one = run_one(NULL, redis_base, "redis1");
      mem = run_one("memory:", NULL, "memory");
    }
    unix_ops[r] = unx.ops, unix50[r] = unx.p50_us;
    mem_ops[r] = mem.ops, r1_ops[r] = one.ops, mit_ops[r] = mit.ops, r2_ops[r] = two.ops;
    r1_cpu[r] = one.cpu_us, r1_redis[r] = one.redis_us;
    r2_cpu[r] = two.cpu_us, r2_redis[r] = two.redis_us;
    mem50[r] = mem.p50_us, r150[r] = one.p50_us;
    add50[r] = one.p50_us - mem.p50_us, add99[r] = one.p99_us - mem.p99_us;
    scale[r] = two.ops / one.ops, vs_mit[r] = one.ops / mit.ops;
  }

  double m_scale = median(scale, rounds), m_vs_mit = median(vs_mit, rounds);
  printf("%-66s %12s %12s %9s  %s\n", "item (aes256-sha1, MIT's tokens, Redis on loopback)",
         "krbap", "MIT", "ratio", "target");
  printf("%-66s %12.0f %12.0f %8.2fx  %s\n",
         "accept, 1 process, krbap redis: vs MIT file2, op/s", median(r1_ops, rounds),
         median(mit_ops, rounds), m_vs_mit,
         smoke ? "(smoke)" : m_vs_mit >= 1.0 ? ">=1.0x met" : ">=1.0x **miss**");
  printf("%-66s %12.0f %12s %9s\n", "accept, 2 processes sharing Redis, krbap redis:, op/s",
         median(r2_ops, rounds), "", "");
  printf("%-66s %12.2f %12s %9s  %s\n", "accept, 2 processes / 1 process, x", m_scale, "", "",
         smoke ? "(smoke)" : m_scale >= 1.6 ? ">=1.6 met" : ">=1.6 **miss**");
  printf("%-66s %12.1f %12s %9s\n", "CPU per accept, 1 process: acceptor, us", median(r1_cpu, rounds),
         "", "");
  printf("%-66s %12.1f %12s %9s\n", "CPU per accept, 1 process: redis-server, us",
         median(r1_redis, rounds), "", "");
  printf("%-66s %12.1f %12s %9s\n", "CPU per accept, 2 processes: acceptors, us",
         median(r2_cpu, rounds), "", "");
  printf("%-66s %12.1f %12s %9s\n", "CPU per accept, 2 processes: redis-server, us",
         median(r2_redis, rounds), "", "");
  printf("%-66s %12.0f %12s %9s\n", "accept, 1 process, krbap memory: (reference), op/s",
         median(mem_ops, rounds), "", "");
  printf("%-66s %12.1f %12s %9s\n", "latency per accept p50, krbap memory:, us", median(mem50, rounds),
         "", "");
  printf("%-66s %12.1f %12s %9s\n", "latency per accept p50, krbap redis:, us", median(r150, rounds),
         "", "");
  printf("%-66s %12.1f %12s %9s\n", "added latency per accept, redis: over memory:, p50, us",
         median(add50, rounds), "", "");
  printf("%-66s %12.1f %12s %9s\n", "added latency per accept, redis: over memory:, p99, us",
         median(add99, rounds), "", "");
  if (redis_unix_base) {
    printf("%-66s %12.0f %12s %9s\n", "accept, 1 process, krbap redis+unix: (same host), op/s",
           median(unix_ops, rounds), "", "");
    printf("%-66s %12.1f %12s %9s\n", "latency per accept p50, krbap redis+unix:, us",
           median(unix50, rounds), "", "");
  }
  if (csv_path) {
    FILE *csv = fopen(csv_path, "w");
    if (!csv) die("%s: %s", csv_path, strerror(errno));
    fprintf(csv, "item,value\n");
    fprintf(csv, "redis1_ops,%.0f\nmit_file2_ops,%.0f\nredis1_vs_mit,%.3f\n", median(r1_ops, rounds),
            median(mit_ops, rounds), m_vs_mit);
    fprintf(csv, "redis2_ops,%.0f\nredis2_over_redis1,%.3f\n", median(r2_ops, rounds), m_scale);
    fprintf(csv, "redis1_cpu_us,%.2f\nredis1_server_cpu_us,%.2f\n", median(r1_cpu, rounds),
            median(r1_redis, rounds));
    fprintf(csv, "redis2_cpu_us,%.2f\nredis2_server_cpu_us,%.2f\n", median(r2_cpu, rounds),
            median(r2_redis, rounds));
    fprintf(csv, "memory_ops,%.0f\nadded_p50_us,%.2f\nadded_p99_us,%.2f\n", median(mem_ops, rounds),
            median(add50, rounds), median(add99, rounds));
    if (redis_unix_base)
      fprintf(csv, "redis1_unix_ops,%.0f\nredis1_unix_p50_us,%.2f\n", median(unix_ops, rounds),
              median(unix50, rounds));
    fclose(csv);
  }
  for (size_t i = 0; i < n_tokens; i++) {
    OM_uint32 m;
    gss_release_buffer(&m, &tokens[i]);
  }
  free(tokens);
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed ? 1 : 0;
}
