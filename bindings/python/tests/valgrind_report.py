"""Reads a valgrind log of the pytest subset and reports the records that involve libkrbap:
memory errors (invalid reads/writes, uninitialised values, bad frees) and definite or
indirect leaks whose stack passes through the library. Python and MIT's libraries leak at
exit by design; only records with a libkrbap frame count.

  valgrind_report.py LOG [--expect-selftest-leak]

With --expect-selftest-leak, exactly one record must be the leak test_valgrind_selftest.py
makes on purpose (a krbap_display_status buffer never released) - proof that the check
sees a leak - and no other. Exit status 0 when the log is as expected."""

from __future__ import annotations

import re
import sys


def records(log: str) -> list[list[str]]:
    out: list[list[str]] = []
    cur: list[str] = []
    for line in log.splitlines():
        m = re.match(r"==\d+== ?(.*)$", line)
        if m is None:
            continue
        body = m.group(1)
        if body.strip():
            cur.append(body)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def main(argv: list[str]) -> int:
    with open(argv[0], errors="replace") as f:
        log = f.read()
    expect_selftest = "--expect-selftest-leak" in argv[1:]
    if "ERROR SUMMARY" not in log:
        print("valgrind_report: the log has no ERROR SUMMARY (valgrind did not finish)")
        return 1
    ours = [
        r
        for r in records(log)
        if any("libkrbap" in f for f in r[1:])
        and not r[0].startswith(("Command:", "HEAP SUMMARY", "LEAK SUMMARY"))
    ]
    selftest = [
        r
        for r in ours
        if "definitely lost" in r[0] and any("krbap_display_status" in f for f in r[1:4])
    ]
    others = [r for r in ours if r not in selftest]
    for r in others:
        print("valgrind: " + "\n    ".join(r[:16]))
    ok = not others and len(selftest) == (1 if expect_selftest else 0)
    print(
        f"valgrind_report: {len(others)} record(s) in libkrbap, "
        f"{len(selftest)} deliberate leak(s) seen" + (" (1 expected)" if expect_selftest else "")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
