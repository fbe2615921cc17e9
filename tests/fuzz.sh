#!/usr/bin/env bash
# tests/fuzz.sh - the CI fuzz stage of `make test`: every libFuzzer target of fuzz/ for a
# short bounded time from its seeds (scripts/fuzz.sh: build, run, `N passed, N failed`).
# The budget is FUZZ_SECONDS per target (default 30 here, 2 targets at a time: 11 targets
# take about 3 minutes, plus 2.5-3.5 minutes for the cold build of the instrumented targets
# on 2 cores); `make fuzz` runs 60 s per target, `scripts/fuzz.sh 3600 accept_token` as
# long as you like.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
exec "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
