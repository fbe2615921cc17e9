#!/usr/bin/env bash
# redis-bench-smoke.sh - the smoke mode of the farm replay-cache benchmark
# (scripts/bench-redis.sh --smoke, part of `make bench`): 200 MIT tokens accepted by krbap
# with memory: and redis: (1 process, and 2 forked processes sharing the Redis) and by MIT
# with its file2 cache; every run accepts every token, replays are refused, also what the
# other process accepted. Judges no timing. Prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
exec scripts/bench-redis.sh --smoke
