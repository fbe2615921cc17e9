#!/usr/bin/env bash
# redis-farm.sh - a server farm sharing one replay cache in Redis (issue #16): three
# krbap-server processes (examples/krbap-server.c, the C API: -rcache redis://...) on
# different ports, one throwaway Redis (tests/interop/redis.sh), MIT's tokens made by
# python3-gssapi in a throwaway realm (tests/interop/realm.sh), fired by
# tests/interop/farm_peer.py:
#   1. one MIT token sent to all three servers: accepted once, refused twice ("Request is
#      a replay" in two servers' logs)
#   2. 1000 distinct tokens, each offered to all three servers, by 8 concurrent clients in
#      random order: every token accepted exactly once; 1000 keys in Redis
#   3. a server SIGKILLed mid-load: every token it (or anyone) answered with an AP-REP is
#      refused as a replay by the others afterwards
#   4. Redis stopped: accepts fail closed (KRB-ERROR, "Replay cache I/O operation failed"
#      naming the server and "connection refused"); Redis started again: accepts resume
#      without restarting the servers
#   5. Redis asleep (DEBUG SLEEP 5): the 300 ms timeout fires and the accept fails closed;
#      afterwards accepts resume, answers not mixed up
#   6. bad configuration (unknown parameter, malformed URL, wrong password, wrong db) stops
#      krbap-server when it sets the replay cache, with the reason
#   7. the same farm on a three-node Redis Cluster (redis+cluster://): tokens accepted once,
#      keys on every node
#   8. the same farm over TLS (rediss://, a throwaway CA, client certificates required):
#      one token accepted once and refused twice, 200 tokens each accepted once; a CA that
#      did not sign the server's certificate stops krbap-server naming the verification
# Prints one line per check and `N passed, N failed` last; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
release=${KRBAP_RELEASE_DIR:-$root/target/release}
. tests/interop/lib.sh
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-redis-farm.XXXXXX") || exit 2
started=()  # pids of the `timeout` wrappers of the servers this script started
declare -a PORTS=() PIDS=()  # krbap-server N: its port and pid
farm_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done  # the krbap-servers themselves
  tests/interop/redis.sh stop "$work/redis" >/dev/null 2>&1
  tests/interop/redis.sh stop "$work/cluster" >/dev/null 2>&1
  tests/interop/redis.sh stop "$work/tls" >/dev/null 2>&1
  interop_cleanup
}
trap farm_cleanup EXIT
trap 'exit 130' INT TERM

peer=(/usr/bin/python3 "$root/tests/interop/farm_peer.py")

# --- setup ---------------------------------------------------------------------------------
[ -e "$release/libkrbap.so" ] || bail "setup: $release/libkrbap.so missing (cargo build --release)"
server_bin=$(build_example krbap-server) || bail "setup: building krbap-server" "$server_bin"
if ! out=$(tests/interop/realm.sh start "$work/realm" 2>&1); then
  bail "setup: realm.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by realm.sh
. "$work/realm/env"
password="farm pw/1"   # a space and a slash: %-encoded in the name
password_enc="farm%20pw%2F1"
if ! out=$(tests/interop/redis.sh start "$work/redis" --password "$password" 2>&1); then
  bail "setup: redis.sh start" "$out"
fi
# shellcheck disable=SC1091  # written by redis.sh
. "$work/redis/env"
rcache="redis://:$password_enc@127.0.0.1:$REDIS_PORT/0?prefix=farm:&timeout_ms=300"
rcli() { tests/interop/redis.sh cli "$work/redis" "$@"; }

# farm_server N RCACHE: starts krbap-server number N (log $work/server-N.log) on a free
# port; sets PORTS[N] and PIDS[N] (the krbap-server itself, for SIGKILL).
farm_server() {
  local n=$1 rc=$2 log=$work/server-$1.log attempt i wrapper child
  for attempt in 1 2 3 4 5; do
    local port=$((20000 + RANDOM % 12000))
    port_busy "$port" && continue
    timeout 900 "$server_bin" -port "$port" -rcache "$rc" test@localhost >"$log" 2>&1 </dev/null &
    wrapper=$!
    started+=("$wrapper")
    for i in $(seq 100); do
      grep -q '^starting\.\.\.' "$log" 2>/dev/null && break
      kill -0 "$wrapper" 2>/dev/null || break
      sleep 0.1
    done
    child=$(pgrep -P "$wrapper" | head -n 1)
    if grep -q '^starting\.\.\.' "$log" && [ -n "$child" ]; then
      PORTS[n]=$port PIDS[n]=$child
      disown "$wrapper"  # no job-control notice when it is killed
      return 0
    fi
    kill -TERM "$wrapper" 2>/dev/null
    wait "$wrapper" 2>/dev/null
  done
  return 1
}

for n in 1 2 3; do
  farm_server "$n" "$rcache" || bail "setup: krbap-server $n did not start" "$(tail -n 5 "$work/server-$n.log")"
done
all_ports="${PORTS[1]},${PORTS[2]},${PORTS[3]}"

# tokens NAME COUNT: a file of COUNT fresh MIT tokens.
tokens() {
  "${peer[@]}" tokens "$2" test@localhost "$work/$1.tokens" 2>"$work/$1.tokens.err" \
    || bail "setup: making MIT tokens" "$(cat "$work/$1.tokens.err")"
}
count_in_logs() {  # count_in_logs PATTERN: lines matching PATTERN in the servers' logs
  cat "$work"/server-[123].log | grep -c -- "$1"
}

# --- 1. one token, three servers ---------------------------------------------------------------
tokens one 1
accepted_before=$(count_in_logs '^Accepted connection')
replays_before=$(count_in_logs 'Request is a replay')
"${peer[@]}" fire "$work/one.tokens" "$work/one.results" "$all_ports" --clients 1 >"$work/one.out" 2>&1
problems=""
out=$("${peer[@]}" verdict "$work/one.results" 1) || problems+="$out; "
[ "$(grep -c ' AP-REP$' "$work/one.results")" = 1 ] || problems+="not one AP-REP; "
[ "$(grep -c ' KRB-ERROR 34$' "$work/one.results")" = 2 ] || problems+="not two KRB_AP_ERR_REPEAT; "
[ $(($(count_in_logs '^Accepted connection') - accepted_before)) = 1 ] || problems+="servers accepted it not once; "
[ $(($(count_in_logs 'Request is a replay') - replays_before)) = 2 ] || problems+="not two 'Request is a replay' in the logs; "
if [ -z "$problems" ]; then
  pass "one MIT token sent to three krbap-servers sharing Redis: accepted once, refused twice (Request is a replay)"
else
  fail "one MIT token, three servers" "$problems$(cat "$work/one.results")"
fi

if grep -qF -e "$password_enc" -e "$password" "$work"/server-[123].log; then
  fail "the servers' logs do not show the Redis password" "$(grep -hF -e "$password_enc" -e "$password" "$work"/server-[123].log | head -n 2)"
elif grep -qF "replay cache redis://:***@127.0.0.1:$REDIS_PORT/0?prefix=farm:&timeout_ms=300" "$work/server-1.log"; then
  pass "the servers log the replay cache as redis://:***@127.0.0.1:$REDIS_PORT/0?prefix=farm:&timeout_ms=300"
else
  fail "the servers log the replay cache's name" "$(grep -m1 'replay cache' "$work/server-1.log")"
fi

# --- 2. 1000 tokens, concurrent clients, random order ----------------------------------------------
tokens many 1000
SECONDS=0
"${peer[@]}" fire "$work/many.tokens" "$work/many.results" "$all_ports" --clients 8 >"$work/many.out" 2>&1
took=$SECONDS
if out=$("${peer[@]}" verdict "$work/many.results" 1000); then
  pass "1000 MIT tokens, each offered to all 3 servers by 8 concurrent clients: $out (${took}s, $(cat "$work/many.out"))"
else
  fail "1000 tokens to 3 servers: each accepted exactly once" "$out"
fi
keys=$(rcli DBSIZE 2>&1)
if [ "$keys" = 1001 ]; then
  pass "Redis holds one key per accepted token (1001)"
else
  fail "Redis holds one key per accepted token" "DBSIZE: $keys"
fi

# --- 3. SIGKILL mid-load ---------------------------------------------------------------------------
tokens kill 600
: >"$work/kill.results"
"${peer[@]}" fire "$work/kill.tokens" "$work/kill.results" "$all_ports" --copies 1 --clients 6 \
  >"$work/kill.out" 2>&1 &
fire_pid=$!
for _ in $(seq 300); do
  [ "$(wc -l <"$work/kill.results" 2>/dev/null || echo 0)" -ge 150 ] && break
  sleep 0.05
done
kill -KILL "${PIDS[2]}" 2>/dev/null
killed_at=$(wc -l <"$work/kill.results")
wait "$fire_pid"
victim=${PORTS[2]}
awk '$3 == "AP-REP" { print $1 }' "$work/kill.results" | sort -un >"$work/kill.accepted"
victim_accepted=$(awk -v p="$victim" '$2 == p && $3 == "AP-REP"' "$work/kill.results" | wc -l)
"${peer[@]}" fire "$work/kill.tokens" "$work/kill2.results" "${PORTS[1]},${PORTS[3]}" \
  --only "$work/kill.accepted" --clients 6 >"$work/kill2.out" 2>&1
problems=""
kill -0 "${PIDS[2]}" 2>/dev/null && problems+="server 2 still runs; "
[ "$victim_accepted" -gt 0 ] || problems+="the killed server had accepted nothing before the kill; "
[ "$killed_at" -lt 600 ] || problems+="the kill came after the load; "
n_accepted=$(wc -l <"$work/kill.accepted")
n_sent=$(wc -l <"$work/kill2.results")
n_refused=$(grep -c ' KRB-ERROR 34$' "$work/kill2.results")
[ "$n_sent" = $((2 * n_accepted)) ] && [ "$n_refused" = "$n_sent" ] \
  || problems+="$n_refused of $n_sent replays refused; "
if [ -z "$problems" ]; then
  pass "server SIGKILLed after $killed_at of 600 answers: all $n_accepted accepted tokens ($victim_accepted by it) refused as replays by both others"
else
  fail "SIGKILL mid-load loses nothing" "$problems$(grep -v ' KRB-ERROR 34$' "$work/kill2.results" | head -n 5)"
fi
farm_server 2 "$rcache" || bail "setup: krbap-server 2 did not start again"
all_ports="${PORTS[1]},${PORTS[2]},${PORTS[3]}"

# --- 4. Redis stopped, then started again ---------------------------------------------------------
tests/interop/redis.sh down "$work/redis" 2>/dev/null
tokens down 3
: >"$work/down.results"
for n in 1 2 3; do
  printf '%s\n' $((n - 1)) >"$work/down.only"
  "${peer[@]}" fire "$work/down.tokens" "$work/down.results" "${PORTS[n]}" --only "$work/down.only" \
    >/dev/null 2>&1
done
problems=""
[ "$(grep -c ' KRB-ERROR 60$' "$work/down.results")" = 3 ] \
  || problems+="not 3 KRB-ERRORs (generic); $(cat "$work/down.results"); "
for n in 1 2 3; do
  grep -q "Replay cache I/O operation failed (redis replay cache 127.0.0.1:$REDIS_PORT db 0: connect: connection refused; no replay decision" \
    "$work/server-$n.log" || problems+="server $n did not log the failure with the server and cause; "
done
if [ -z "$problems" ]; then
  pass "Redis stopped: each server refuses the accept, 'Replay cache I/O operation failed (redis replay cache 127.0.0.1:$REDIS_PORT db 0: connect: connection refused; ...)'"
else
  fail "Redis stopped: accepts fail closed" "$problems$(grep -h 'Replay cache' "$work"/server-[123].log | head -n 3)"
fi
tests/interop/redis.sh up "$work/redis" 2>/dev/null || bail "setup: Redis did not start again"
tokens up 50
"${peer[@]}" fire "$work/up.tokens" "$work/up.results" "$all_ports" --clients 4 >/dev/null 2>&1
alive=0
for n in 1 2 3; do kill -0 "${PIDS[n]}" 2>/dev/null && alive=$((alive + 1)); done
if out=$("${peer[@]}" verdict "$work/up.results" 50) && [ "$alive" = 3 ]; then
  pass "Redis started again: accepts resume without restarting the servers ($out)"
else
  fail "Redis started again: accepts resume" "$out; $alive servers alive"
fi

# --- 5. Redis too slow: the timeout fires --------------------------------------------------------
tokens slow 1
rcli DEBUG SLEEP 5 >/dev/null 2>&1 &
sleep_pid=$!
for _ in $(seq 40); do  # until Redis no longer answers a PING within 1 s: it sleeps
  timeout 1 redis-cli -p "$REDIS_PORT" -a "$password" --no-auth-warning PING >/dev/null 2>&1 || break
  sleep 0.05
done
start_ns=$(date +%s%N)
"${peer[@]}" fire "$work/slow.tokens" "$work/slow.results" "${PORTS[1]}" >/dev/null 2>&1
ms=$((($(date +%s%N) - start_ns) / 1000000))
wait "$sleep_pid"
problems=""
grep -q ' KRB-ERROR 60$' "$work/slow.results" || problems+="not refused: $(cat "$work/slow.results"); "
[ "$ms" -lt 3500 ] || problems+="the answer took $ms ms (Redis slept 5 s); "
grep -q 'no answer to SET within 300 ms (timeout_ms)' "$work/server-1.log" \
  || problems+="no timeout message in the log; "
if [ -z "$problems" ]; then
  pass "Redis in DEBUG SLEEP 5: refused after $ms ms (client's view) with 'no answer to SET within 300 ms (timeout_ms)'"
else
  fail "slow Redis: the timeout fires and fails closed" "$problems"
fi
tokens after 30
"${peer[@]}" fire "$work/after.tokens" "$work/after.results" "$all_ports" --clients 4 >/dev/null 2>&1
if out=$("${peer[@]}" verdict "$work/after.results" 30); then
  pass "after the sleep: accepts resume, each token once ($out)"
else
  fail "after the sleep: accepts resume" "$out"
fi

# --- 6. bad configuration stops the server when it sets the replay cache ---------------------------
bad_config() {  # bad_config NAME RCACHE EXPECTED-TEXT...
  local name=$1 rc=$2 log=$work/bad.log problems="" text; shift 2
  timeout 20 "$server_bin" -port 1 -rcache "$rc" test@localhost >"$log" 2>&1 </dev/null
  local status=$?
  [ "$status" = 1 ] || problems+="exit status $status; "
  grep -q '^starting\.\.\.' "$log" && problems+="it started; "
  grep -q 'GSS-API error setting the replay cache' "$log" || problems+="no 'setting the replay cache' error; "
  for text in "$@"; do grep -qF -- "$text" "$log" || problems+="no '$text'; "; done
  grep -qF "$password" "$log" && problems+="the password is in the log; "
  if [ -z "$problems" ]; then pass "$name"; else fail "$name" "$problems$(cat "$log")"; fi
}
bad_config "unknown parameter: krbap-server stops, 'Replay cache name parse/format error' naming it" \
  "redis://127.0.0.1:$REDIS_PORT/0?colour=blue" "Replay cache name parse/format error" '"colour"'
bad_config "malformed URL (port 99999): krbap-server stops with a parse error" \
  "redis://127.0.0.1:99999/0" "Replay cache name parse/format error" "port"
bad_config "wrong password: krbap-server stops, 'Permission denied in replay cache code'" \
  "redis://:wrong@127.0.0.1:$REDIS_PORT/0" "Permission denied in replay cache code" \
  "refused the user name or password" "the replay cache is not set"
bad_config "wrong db: krbap-server stops, 'DB index is out of range'" \
  "redis://:$password_enc@127.0.0.1:$REDIS_PORT/99" "Replay cache I/O operation failed" "DB index is out of range"

# --- 7. the farm on a Redis Cluster ----------------------------------------------------------------
if out=$(tests/interop/redis.sh cluster "$work/cluster" 3 2>&1); then
  # shellcheck disable=SC1091  # written by redis.sh
  cports=$(. "$work/cluster/env" && echo "$REDIS_CLUSTER_PORTS")
  seed=${cports%% *}
  crc="redis+cluster://127.0.0.1:$seed?prefix=cfarm:&timeout_ms=1000"
  ok=1
  for n in 4 5 6; do farm_server "$n" "$crc" || ok=0; done
  if [ "$ok" = 1 ]; then
    tokens cluster 300
    "${peer[@]}" fire "$work/cluster.tokens" "$work/cluster.results" \
      "${PORTS[4]},${PORTS[5]},${PORTS[6]}" --clients 6 >/dev/null 2>&1
    spread=""
    for p in $cports; do
      spread+="$(tests/interop/redis.sh cli "$work/cluster" "$p" DBSIZE) "
    done
    if out=$("${peer[@]}" verdict "$work/cluster.results" 300) \
       && [ "$(awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }' <<<"$spread")" = 300 ] \
       && ! grep -qw 0 <<<"$spread"; then
      pass "3 servers on a 3-node Redis Cluster: $out; keys per node: $spread"
    else
      fail "farm on a Redis Cluster" "$out; keys per node: $spread"
    fi
  else
    fail "farm on a Redis Cluster" "a server did not start: $(tail -n 5 "$work/server-4.log")"
  fi
else
  fail "farm on a Redis Cluster" "redis.sh cluster: $out"
fi

# --- 8. the farm over TLS --------------------------------------------------------------------------
if out=$(tests/interop/redis.sh start "$work/tls" --tls --tls-auth-clients yes 2>&1); then
  # shellcheck disable=SC1091  # written by redis.sh
  . "$work/tls/env"
  trc="rediss://127.0.0.1:$REDIS_TLS_PORT/0?prefix=tfarm:&timeout_ms=1000"
  trc+="&ca=$REDIS_TLS_CA&cert=$REDIS_TLS_CERT&key=$REDIS_TLS_KEY"
  ok=1
  for n in 7 8 9; do farm_server "$n" "$trc" || ok=0; done
  if [ "$ok" = 1 ]; then
    tls_ports="${PORTS[7]},${PORTS[8]},${PORTS[9]}"
    tokens tls-one 1
    "${peer[@]}" fire "$work/tls-one.tokens" "$work/tls-one.results" "$tls_ports" --clients 1 \
      >/dev/null 2>&1
    problems=""
    [ "$(grep -c ' AP-REP$' "$work/tls-one.results")" = 1 ] || problems+="not one AP-REP; "
    [ "$(grep -c ' KRB-ERROR 34$' "$work/tls-one.results")" = 2 ] || problems+="not two KRB_AP_ERR_REPEAT; "
    tokens tls 200
    "${peer[@]}" fire "$work/tls.tokens" "$work/tls.results" "$tls_ports" --clients 6 >/dev/null 2>&1
    out=$("${peer[@]}" verdict "$work/tls.results" 200) || problems+="$out; "
    keys=$(tests/interop/redis.sh cli "$work/tls" DBSIZE)
    [ "$keys" = 201 ] || problems+="$keys keys in Redis, not 201; "
    if [ -z "$problems" ]; then
      pass "3 servers on a TLS Redis (rediss://, client certificates required): one token accepted once and refused twice; $out"
    else
      fail "farm over TLS" "$problems$(head -n 3 "$work/tls-one.results")"
    fi
  else
    fail "farm over TLS" "a server did not start: $(tail -n 5 "$work/server-7.log")"
  fi
  bad_config "TLS, a CA that did not sign the server's certificate: krbap-server stops, naming the verification" \
    "rediss://127.0.0.1:$REDIS_TLS_PORT/0?ca=$REDIS_TLS_OTHER_CA&cert=$REDIS_TLS_CERT&key=$REDIS_TLS_KEY" \
    "Replay cache I/O operation failed" "the server's TLS certificate did not verify" \
    "UnknownIssuer" "127.0.0.1:$REDIS_TLS_PORT db 0 over TLS"
else
  fail "farm over TLS" "redis.sh start --tls: $out"
fi

summary
