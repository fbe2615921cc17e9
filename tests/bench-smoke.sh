#!/usr/bin/env bash
# bench-smoke.sh - the smoke mode of `make bench` (scripts/bench.sh --smoke): a few
# iterations of every benchmark item for both krbap and MIT's libgssapi_krb5 in one
# process, on a throwaway realm. Checks that every item ran and that both libraries
# agreed: the same MIT tokens accepted by both acceptors with the same client name,
# replays refused by both default replay caches, each library's AP-REPs processed by the
# other's initiator, Wrap (conf and integ) and MIC tokens of each unwrapped/verified by
# the other. Judges no timing. Prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
exec scripts/bench.sh --smoke
