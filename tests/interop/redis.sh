#!/usr/bin/env bash
# redis.sh - throwaway Redis servers for the replay-cache tests and benchmarks: Debian's
# redis-server on free loopback ports, no persistence (--save '' --appendonly no), all
# files in DIR, stopped by pid.
#
#   redis.sh start DIR [--password PW] [--unix] [--tls [--tls-auth-clients yes|optional|no]]
#                        one server; --password: requirepass PW; --unix: also a socket
#                        DIR/redis.sock. DEBUG is enabled for local clients (DEBUG SLEEP).
#                        --tls: TLS only (--port 0 --tls-port P), listening on 127.0.0.1
#                        and 127.0.0.2, with a throwaway CA made by openssl in DIR: ca.crt,
#                        server.crt (for 127.0.0.1 and localhost only), client.crt/.key (a
#                        client certificate), other-ca.crt (a CA that signed nothing);
#                        client certificates optional unless --tls-auth-clients says.
#   redis.sh cluster DIR N [--password PW]
#                        a Redis Cluster of N >= 3 masters (no replicas), slots spread by
#                        redis-cli --cluster create; returns when cluster_state is ok
#   redis.sh down DIR    stop the servers of DIR (SIGTERM, then SIGKILL), keep their commands
#   redis.sh up DIR      start them again, same ports and options (empty: no persistence)
#   redis.sh stop DIR    down, and forget them
#   redis.sh cli DIR [PORT] ARGS...
#                        redis-cli against the first server (or PORT), with the password
#
# start/cluster write DIR/env (export lines; `. DIR/env`):
#   REDIS_PORT, REDIS_PASSWORD (may be empty), REDIS_SOCK (with --unix),
#   REDIS_CLUSTER_PORTS ("p1 p2 ..." for cluster), with --tls REDIS_TLS_PORT (= REDIS_PORT),
#   REDIS_TLS_CA, REDIS_TLS_CERT, REDIS_TLS_KEY (the client's), REDIS_TLS_OTHER_CA.
#   Progress goes to stderr.
# The packages are installed when missing (as root, non-interactive), as realm.sh does.
set -euo pipefail

say() { printf 'redis.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

install_packages() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    && command -v openssl >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "redis-server is missing; run as root to install it"
  say "installing redis-server"
  local log; log=$(mktemp "${TMPDIR:-/tmp}/redis-apt.XXXXXX")
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
              --no-install-recommends redis-server redis-tools openssl; } </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -f "$log"; die "apt-get failed"
  fi
  rm -f "$log"
}

port_busy() {  # any local TCP socket on port $1
  local hex; hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 && toupper(substr($2, length($2) - 4)) == h { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# cli PORT ARGS...: redis-cli with the directory's password.
cli_port() {
  local port=$1; shift
  local -a auth=()
  [ -n "${PASSWORD:-}" ] && auth=(-a "$PASSWORD" --no-auth-warning)
  [ -n "${TLS:-}" ] && auth+=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt"
                                --key "$DIR/client.key")
  redis-cli -h 127.0.0.1 -p "$port" "${auth[@]}" "$@"
}

# make_certs: a throwaway CA (P-256) and the certificates of --tls in DIR, valid 2 days.
make_certs() {
  local d=$DIR
  ossl() { openssl "$@" >>"$d/openssl.log" 2>&1 || { tail -n 20 "$d/openssl.log" >&2; die "openssl $1 failed"; }; }
  local ca
  for ca in ca other-ca; do
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=krbap test $ca" -keyout "$d/$ca.key" -out "$d/$ca.crt" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  done
  # name SUBJECT EXTENSIONS: a key and a certificate signed by ca.
  issue() {
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
      -keyout "$d/$1.key" -out "$d/$1.csr"
    printf '%s\n' "$3" >"$d/$1.ext"
    ossl x509 -req -in "$d/$1.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -extfile "$d/$1.ext" -out "$d/$1.crt"
  }
  issue server "krbap test redis" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
  issue client "krbap test client" "extendedKeyUsage=clientAuth"
  chmod 600 "$d"/*.key
}

# pid_if_ours PORT: the pid in DIR/pid-PORT when it is a redis-server on that port.
pid_if_ours() {
  local f=$DIR/pid-$1 pid
  [ -s "$f" ] || return 1
  pid=$(tr -cd '0-9' <"$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" \
    | grep -q "redis-server.*:$1\b\|redis-server .*--port $1\b\|redis-server .*--tls-port $1\b" \
    || return 1
  echo "$pid"
}

# launch PORT: runs DIR/cmd-PORT in the background, waits for PING.
launch() {
  local port=$1 pid i
  local -a cmd
  mapfile -t cmd <"$DIR/cmd-$port"
  "${cmd[@]}" >>"$DIR/redis-$port.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DIR/pid-$port"
  for i in $(seq 100); do
    if [ "$(cli_port "$port" PING 2>/dev/null)" = PONG ]; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$DIR/pid-$port"
  return 1
}

# new_server [EXTRA ARGS...]: a server on a free port (and its bus port +10000 for a
# cluster); prints the port.
new_server() {
  local attempt port
  for attempt in $(seq 20); do
    port=$((20000 + RANDOM % 12000))
    port_busy "$port" && continue
    port_busy $((port + 10000)) && continue
    [ -e "$DIR/cmd-$port" ] && continue
    {
      if [ -n "${TLS:-}" ]; then
        printf '%s\n' redis-server --bind 127.0.0.1 127.0.0.2 --port 0 --tls-port "$port" \
          --tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key" \
          --tls-ca-cert-file "$DIR/ca.crt" --tls-auth-clients "$TLS"
      else
        printf '%s\n' redis-server --bind 127.0.0.1 --port "$port"
      fi
      printf '%s\n' --dir "$DIR" \
        --save '' --appendonly no --daemonize no --protected-mode yes \
        --enable-debug-command local --logfile '' --loglevel warning
      [ -n "${PASSWORD:-}" ] && printf '%s\n' --requirepass "$PASSWORD"
      local a
      for a in "$@"; do printf '%s\n' "${a//@PORT@/$port}"; done
    } >"$DIR/cmd-$port"
    if launch "$port"; then
      echo "$port" >>"$DIR/ports"
      echo "$port"
      return 0
    fi
    rm -f "$DIR/cmd-$port"
  done
  return 1
}

stop_all() {
  local port pid
  [ -s "$DIR/ports" ] || return 0
  for port in $(cat "$DIR/ports"); do
    if pid=$(pid_if_ours "$port"); then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -f "$DIR/pid-$port"
  done
}

write_env() {
  {
    printf 'export REDIS_PORT=%q\n' "$(head -n 1 "$DIR/ports")"
    printf 'export REDIS_PASSWORD=%q\n' "${PASSWORD:-}"
    [ -n "${SOCK:-}" ] && printf 'export REDIS_SOCK=%q\n' "$SOCK"
    [ -n "${CLUSTER_PORTS:-}" ] && printf 'export REDIS_CLUSTER_PORTS=%q\n' "$CLUSTER_PORTS"
    if [ -n "${TLS:-}" ]; then
      printf 'export REDIS_TLS_PORT=%q\n' "$(head -n 1 "$DIR/ports")"
      printf 'export REDIS_TLS_CA=%q\n' "$DIR/ca.crt"
      printf 'export REDIS_TLS_CERT=%q\n' "$DIR/client.crt"
      printf 'export REDIS_TLS_KEY=%q\n' "$DIR/client.key"
      printf 'export REDIS_TLS_OTHER_CA=%q\n' "$DIR/other-ca.crt"
    fi
    true
  } >"$DIR/env"
}

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: redis.sh start|cluster|down|up|stop|cli DIR ..."
shift 2
DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)
PASSWORD=$(cat "$DIR/password" 2>/dev/null || true)
TLS=$(cat "$DIR/tls" 2>/dev/null || true)  # the --tls-auth-clients of a --tls server

case $cmd in
  start)
    install_packages
    stop_all
    rm -f "$DIR"/cmd-* "$DIR"/pid-* "$DIR/ports" "$DIR/env" "$DIR/password" "$DIR/redis.sock" \
      "$DIR/tls"
    PASSWORD="" SOCK="" unix=0 TLS="" auth_clients=optional
    while [ $# -gt 0 ]; do
      case $1 in
        --password) PASSWORD=${2:?}; shift ;;
        --unix) unix=1 ;;
        --tls) TLS=optional ;;
        --tls-auth-clients) auth_clients=${2:?}; shift ;;
        *) die "start: unknown option $1" ;;
      esac
      shift
    done
    printf '%s' "$PASSWORD" >"$DIR/password"
    chmod 600 "$DIR/password"
    if [ -n "$TLS" ]; then
      case $auth_clients in yes|optional|no) ;; *) die "--tls-auth-clients yes|optional|no" ;; esac
      TLS=$auth_clients
      make_certs
      printf '%s' "$TLS" >"$DIR/tls"
    fi
    extra=()
    if [ "$unix" = 1 ]; then
      SOCK=$DIR/redis.sock
      extra=(--unixsocket "$SOCK" --unixsocketperm 700)
    fi
    port=$(new_server "${extra[@]}") || die "redis-server did not start (see $DIR/redis-*.log)"
    write_env
    say "redis-server on 127.0.0.1:$port (pid $(cat "$DIR/pid-$port"))"
    ;;
  cluster)
    install_packages
    n=${1:-3}
    [ "$n" -ge 3 ] || die "a cluster needs at least 3 masters"
    shift || true
    PASSWORD=""
    while [ $# -gt 0 ]; do
      case $1 in
        --password) PASSWORD=${2:?}; shift ;;
        *) die "cluster: unknown option $1" ;;
      esac
      shift
    done
    stop_all
    rm -f "$DIR"/cmd-* "$DIR"/pid-* "$DIR/ports" "$DIR/env" "$DIR/password" "$DIR"/nodes-*.conf \
      "$DIR/tls"
    TLS=""
    printf '%s' "$PASSWORD" >"$DIR/password"
    chmod 600 "$DIR/password"
    CLUSTER_PORTS=""
    for _ in $(seq "$n"); do
      port=$(new_server --cluster-enabled yes --cluster-config-file "$DIR/nodes-@PORT@.conf" \
        --cluster-node-timeout 3000) || { stop_all; die "redis-server (cluster) did not start"; }
      CLUSTER_PORTS="$CLUSTER_PORTS $port"
    done
    CLUSTER_PORTS=${CLUSTER_PORTS# }
    nodes=()
    for p in $CLUSTER_PORTS; do nodes+=("127.0.0.1:$p"); done
    auth=()
    [ -n "$PASSWORD" ] && auth=(-a "$PASSWORD" --no-auth-warning)
    if ! out=$(redis-cli "${auth[@]}" --cluster create "${nodes[@]}" --cluster-replicas 0 \
                 --cluster-yes 2>&1); then
      printf '%s\n' "$out" | tail -n 20 >&2; stop_all; die "redis-cli --cluster create failed"
    fi
    ok=0
    for _ in $(seq 100); do
      ok=1
      for p in $CLUSTER_PORTS; do
        cli_port "$p" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
      done
      [ "$ok" = 1 ] && break
      sleep 0.1
    done
    [ "$ok" = 1 ] || { stop_all; die "cluster_state did not become ok"; }
    write_env
    say "Redis Cluster on 127.0.0.1 ports $CLUSTER_PORTS"
    ;;
  down)
    stop_all
    ;;
  up)
    [ -s "$DIR/ports" ] || die "no servers were started in $DIR"
    for port in $(cat "$DIR/ports"); do
      pid_if_ours "$port" >/dev/null && continue
      launch "$port" || die "redis-server on port $port did not start again"
    done
    ;;
  stop)
    stop_all
    rm -f "$DIR"/cmd-* "$DIR/ports" "$DIR/env"
    ;;
  cli)
    port=$(head -n 1 "$DIR/ports")
    if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]] && grep -qx "$1" "$DIR/ports"; then
      port=$1; shift
    fi
    cli_port "$port" "$@"
    ;;
  *)
    die "unknown command $cmd"
    ;;
esac
