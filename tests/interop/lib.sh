# tests/interop/lib.sh - helpers for the interop test scripts (source it).
# Counts checks and prints the closing line `N passed, N failed`.

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
  [ "$1" -lt 3 ] && grep -q '^connecting to server: Connection refused' "$2" || return 1
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  echo "      (connection refused by the server on port $PORT; retrying once)"
  return 0
}
