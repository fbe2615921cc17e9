# tests/interop/lib.sh - helpers for the interop test scripts (source it).
# Counts checks and prints the closing line `N passed, N failed`; starts and stops the
# gss-sample servers, builds the examples. The caller sets `root`, `release`, `work` and
# the array `started`.

T_PASS=0
T_FAIL=0

pass() { T_PASS=$((T_PASS + 1)); printf 'ok    %s\n' "$1"; }

# fail NAME [DETAILS]: DETAILS (e.g. a diff) is printed indented, at most 40 lines.
fail() {
  T_FAIL=$((T_FAIL + 1))
  printf 'FAIL  %s\n' "$1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -n 40 | sed 's/^/      /'; fi
}

# check NAME COMMAND...: passes when the command exits 0.
check() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# same NAME FILE_A FILE_B: passes when the files are identical (and not both empty).
same() {
  local d
  if [ ! -s "$2" ] && [ ! -s "$3" ]; then fail "$1" "both outputs empty"; return; fi
  if d=$(diff -u "$2" "$3"); then pass "$1"; else fail "$1" "$d"; fi
}

# summary: the closing line; returns non-zero when anything failed or nothing ran.
summary() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" = 0 ] && [ "$T_PASS" -gt 0 ]
}

# refused_retry ATTEMPT CLIENT_LOG: true (and the server stopped) when the TCP connection
# of attempt 1 or 2 was refused although the server said "starting..." and kept waiting -
# seen now and then on a loaded machine (gVisor's network stack) with every server here,
# MIT's and krbap's alike, never in an idle run; nothing of Kerberos runs before the
# connection, so another attempt on a new port is fair.
refused_retry() {
  [ "$1" -lt 3 ] && grep -qE '^(connecting to server|gssapi_peer): .*Connection refused' "$2" || return 1
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  echo "      (connection refused by the server on port $PORT; retrying once)"
  return 0
}

# --- servers for the gss-sample exchanges (the caller defines the array `started`, whose
# pids it kills on exit) -----------------------------------------------------------------

port_busy() {  # any local TCP socket on port $1
  local hex; hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 && toupper(substr($2, length($2) - 4)) == h { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# start_server LOG CMD...: runs CMD (with @PORT@ replaced by a free port) under a timeout
# in the background until it prints "starting..." (it listens by then). Sets PORT and
# SERVER_PID. Retries on another port when the server dies first (a port taken meanwhile).
# The timeout is SERVER_TIMEOUT seconds (default 60).
start_server() {
  local log=$1 attempt a i; shift
  for attempt in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 12000))
    port_busy "$PORT" && continue
    local -a cmd=()
    for a in "$@"; do cmd+=("${a//@PORT@/$PORT}"); done
    timeout "${SERVER_TIMEOUT:-60}" "${cmd[@]}" >"$log" 2>&1 </dev/null &
    SERVER_PID=$!
    started+=("$SERVER_PID")
    for i in $(seq 100); do
      grep -q '^starting\.\.\.' "$log" 2>/dev/null && return 0
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  done
  return 1
}

# finish_server: waits for the -once server (bounded by its timeout); sets SERVER_RC.
finish_server() {
  wait "$SERVER_PID" 2>/dev/null
  SERVER_RC=$?
}


# interop_cleanup: the EXIT trap: stops the servers this script started and its realm,
# removes its work directory.
interop_cleanup() {
  local p
  for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null; done
  "$root/tests/interop/realm.sh" stop "$work/realm" >/dev/null 2>&1
  rm -rf -- "$work"
}

# bail NAME [DETAILS]: a setup step failed: one failure, the summary, exit.
bail() {
  fail "$1" "${2:-}"
  summary
  exit 1
}

# build_example NAME: prints the path of a usable example binary: the one `make test`
# built when it is there and newer than the library, else one built into $work.
build_example() {
  local name=$1 bin=$root/build/examples/$1
  if [ -x "$bin" ] && [ "$bin" -nt "$release/libkrbap.so" ]; then echo "$bin"; return 0; fi
  bin=$work/$name
  cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$root/include" "$root/examples/$name.c" \
    "$root/examples/common.c" -L"$release" -lkrbap -Wl,-rpath,"$release" -o "$bin" \
    >"$work/$name.cc.log" 2>&1 || { cat "$work/$name.cc.log"; return 1; }
  echo "$bin"
}

# verdict NAME PROBLEMS CLIENT_LOG SERVER_LOG: pass when PROBLEMS is empty, else fail with
# the problems and the end of both logs.
verdict() {
  if [ -z "$2" ]; then
    pass "$1"
  else
    fail "$1" "$(printf '%s\n--- client:\n%s\n--- server:\n%s' "$2" "$(tail -n 15 "$3")" \
      "$(tail -n 15 "$4")")"
  fi
}

# gss_exchange SERVICE SERVER_CMD CLIENT_CMD MESSAGE CLIENT: one connection of a gss-sample
# client to a gss-sample server (MIT's or krbap's), retried when the connection was refused
# (refused_retry). The commands are words with @PORT@, @SVC@ and @MSG@ placeholders. Sets
# EXCHANGE_PROBLEMS to what went wrong of what every such exchange must show (exit
# statuses, the client's "Signature verified.", the server's view of CLIENT and of the
# message, no warning), and EXCHANGE_CLOG / EXCHANGE_SLOG to the logs; returns 1 (after
# fail) when the server did not start.
gss_exchange() {
  local svc=$1 msg=$4 client=$5 slog=$work/server.log clog=$work/client.log
  local problems="" rc=1 a a_val attempt
  local -a server_cmd client_cmd
  EXCHANGE_CLOG=$clog EXCHANGE_SLOG=$slog
  read -r -a server_cmd <<<"${2//@SVC@/$svc}"
  for attempt in 1 2 3; do
    if ! start_server "$slog" "${server_cmd[@]}"; then
      EXCHANGE_PROBLEMS="server did not start: $(tail -n 10 "$slog")"
      return 1
    fi
    read -r -a client_cmd <<<"$3"
    for a in "${!client_cmd[@]}"; do
      a_val=${client_cmd[$a]//@PORT@/$PORT}
      a_val=${a_val//@SVC@/$svc}
      client_cmd[$a]=${a_val//@MSG@/$msg}
    done
    timeout 30 "${client_cmd[@]}" >"$clog" 2>&1 </dev/null
    rc=$?
    refused_retry "$attempt" "$clog" && continue
    finish_server
    break
  done
  [ "$rc" = 0 ] || problems+="client exit status $rc; "
  [ "$SERVER_RC" = 0 ] || problems+="server exit status $SERVER_RC; "
  grep -q '^Signature verified\.' "$clog" || problems+="no 'Signature verified.' from the client; "
  grep -qF "Accepted connection: \"$client\"" "$slog" \
    || problems+="server did not report client $client; "
  grep -qF "Received message: \"$msg\"" "$slog" || problems+="server did not show the message; "
  grep -q 'Warning' "$clog" "$slog" && problems+="a warning was printed; "
  EXCHANGE_PROBLEMS=$problems
  return 0
}
