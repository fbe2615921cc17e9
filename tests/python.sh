#!/usr/bin/env bash
# python.sh - the Python package (bindings/python) in make test:
#   1. `pip install ./bindings/python` into a cached venv (bindings/python/venv.sh): the
#      wheel build runs cargo into target/ (the library make test built is reused) and
#      carries libkrbap.so; nothing else points the package at the library
#   2. ruff check, ruff format --check, mypy --strict (package, build hook, tests)
#   3. a throwaway MIT realm (tests/interop/realm.sh), then the pytest suite: MIT's
#      python-gssapi both ways on every enctype, MIT's gss-server/gss-client, every exception
#      class, bad input, 4 threads x 2000 accepts, 200 000 accept+delete cycles (RSS flat),
#      the README's server and client; HTTP Negotiate: the WSGI (Flask on waitress) and ASGI
#      (Starlette on uvicorn) middlewares against curl --negotiate, requests-gssapi and
#      krbap's requests/httpx auth classes, multi-leg SPNEGO, bad headers; the auth classes
#      against MIT's acceptor and examples/krbap-http-server; pytest's summary line is shown
#   4. the valgrind subset of the suite (conftest.VALGRIND_SUBSET) under valgrind: no error
#      or leak in libkrbap, and the deliberate leak of test_valgrind_selftest.py is seen
# Prints `N passed, N failed` last: one per pytest test, one per other step.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
pkg=$root/bindings/python
work=$(mktemp -d "${TMPDIR:-/tmp}/krbap-python.XXXXXX")
started=()
# shellcheck source=tests/interop/lib.sh
. "$root/tests/interop/lib.sh"
trap interop_cleanup EXIT
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset KRBAP_LIBRARY LD_LIBRARY_PATH

timed() {  # timed NAME COMMAND...: a check, with its duration
  local name=$1 start=$SECONDS out; shift
  if out=$("$@" 2>&1); then pass "$name ($((SECONDS - start)) s)"; else fail "$name" "$out"; fi
}

py=$("$pkg/venv.sh") || bail "bindings/python/venv.sh" "could not build the venv"
pip=(env -u KRBAP_LIBRARY "$py" -m pip)

# 1. The package as users install it (build isolation: the pinned hatchling of pyproject.toml).
timed "pip install ./bindings/python" "${pip[@]}" install -q --force-reinstall --no-deps "$pkg"
if ! "$py" -c 'import krbap' 2>"$work/import.err"; then
  bail "import krbap after pip install" "$(cat "$work/import.err")"
fi

# 2. Lint and types (the configuration is bindings/python/pyproject.toml's).
cd "$pkg" || bail "cd $pkg"
sources=(src tests examples bench hatch_build.py)
timed "ruff check" "$py" -m ruff check --no-cache "${sources[@]}"
timed "ruff format --check" "$py" -m ruff format --no-cache --check "${sources[@]}"
timed "mypy --strict" "$py" -m mypy --strict --cache-dir "$work/mypy" src/krbap tests examples bench hatch_build.py

# 3. The realm and the suite.
"$root/tests/interop/realm.sh" start "$work/realm" >"$work/realm.log" 2>&1 \
  || bail "realm.sh start" "$(tail -n 20 "$work/realm.log")"
# shellcheck disable=SC1091
. "$work/realm/env"
export KRBAP_REPO=$root
start=$SECONDS
"$py" -m pytest -p no:cacheprovider -q -rfE --durations=8 --basetemp="$work/pytest" tests \
  >"$work/pytest.log" 2>&1
status=$?
sed 's/^/  /' "$work/pytest.log"
summary_line=$(grep -E '^=*[[:space:]]*[0-9]+ (passed|failed)' "$work/pytest.log" | tail -n 1)
count() { grep -oE "[0-9]+ $1" <<<"$summary_line" | grep -oE '^[0-9]+' || echo 0; }
p=$(count passed) f=$(count failed) e=$(count error)
echo "pytest: $p passed, $f failed, $e errors ($((SECONDS - start)) s, exit status $status)"
T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f + e))
if [ "$status" -ne 0 ] && [ $((f + e)) -eq 0 ]; then fail "pytest exit status $status"; fi

# The benchmark of make bench, a few accepts (no timing judged): it still runs.
timed "bench_accept.py --smoke" "$py" bench/bench_accept.py --smoke

# 4. The valgrind subset. PYTHONMALLOC=malloc, so that valgrind sees each allocation.
if command -v valgrind >/dev/null; then
  start=$SECONDS
  KRBAP_PY_LEAK_SELFTEST=1 PYTHONMALLOC=malloc timeout 900 valgrind \
    --leak-check=full --show-leak-kinds=definite,indirect --num-callers=40 \
    --log-file="$work/valgrind.log" "$py" -m pytest -p no:cacheprovider -q \
    --basetemp="$work/pytest-valgrind" -m valgrind tests >"$work/pytest-valgrind.log" 2>&1
  vstatus=$?
  tail -n 1 "$work/pytest-valgrind.log" | sed 's/^/  /'
  if [ "$vstatus" -eq 0 ] && report=$("$py" tests/valgrind_report.py "$work/valgrind.log" \
      --expect-selftest-leak); then
    pass "valgrind subset ($((SECONDS - start)) s): $report"
  else
    fail "valgrind subset (pytest exit status $vstatus)" \
      "$(tail -n 5 "$work/pytest-valgrind.log"; "$py" tests/valgrind_report.py \
      "$work/valgrind.log" --expect-selftest-leak)"
  fi
else
  fail "valgrind subset" "valgrind is not installed (scripts/install-deps.sh installs it)"
fi

summary
