#!/usr/bin/env python3
"""The C ABI of krbap against its committed reference, abi/krbap.abi.

The ABI is what a program built against include/krbap.h and linked with libkrbap.so
relies on: the exported symbols of the library and the header's declarations (function
prototypes with parameter names left out, types with their members, macro values),
normalized by the C preprocessor so that comments and layout do not count.

  scripts/abi.py check     compare; exit 1 with what changed and what to do (make test)
  scripts/abi.py update    write the reference after an intended change (make abi-update)
  scripts/abi.py dump      print the current ABI in the reference's format

The rules (README, "ABI policy"): the SONAME libkrbap.so.MAJOR is the ABI's name. Within
one major version declarations and symbols are only ever added (a minor version bump
before the release that ships them); removing or changing one is a break, declared by a
major version bump, which changes the SONAME. `update` enforces this against the old
reference: a break needs a higher major version than the reference's (or --accept-break,
for declarations never released); additions to a released version (git tag vX.Y.Z) need a
higher minor version.

Independently of the reference, `check` also requires: only krbap_* symbols exported, every
header function exported and every exported function declared, and the library's SONAME
libkrbap.so.MAJOR of Cargo.toml's version.
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "include/krbap.h"
LIBRARY = "target/release/libkrbap.so"
REFERENCE = "abi/krbap.abi"
PREAMBLE = """\
# The C ABI of krbap: the exported symbols of libkrbap.so and the declarations of
# include/krbap.h (normalized; parameter names left out). Written by `make abi-update`
# (scripts/abi.py) and checked by `make test` (tests/abi.sh); the rules are in README.md,
# "ABI policy". Do not edit by hand.
"""


class AbiError(Exception):
    pass


def run(cmd):
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError as e:
        raise AbiError(f"{cmd[0]}: {e}") from e
    if out.returncode != 0:
        raise AbiError(f"{' '.join(cmd)} failed:\n{out.stderr.strip()}")
    return out.stdout


def cargo_version():
    text = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    package = re.search(r"^\[package\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    version = package and re.search(r'^version\s*=\s*"([^"]+)"', package.group(1), re.M)
    if not version:
        raise AbiError("no [package] version in Cargo.toml")
    return version.group(1)


def version_tuple(version):
    parts = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if not parts:
        raise AbiError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    return tuple(int(p) for p in parts.groups())


def soname_for(version):
    return f"libkrbap.so.{version_tuple(version)[0]}"


# ---------------------------------------------------------------- the library

def library_symbols(lib):
    """{name: nm type letter} of the defined dynamic symbols."""
    symbols = {}
    for line in run(["nm", "-D", "--defined-only", "--format=posix", lib]).splitlines():
        fields = line.split()
        if len(fields) >= 2:
            symbols[fields[0]] = fields[1]
    return symbols


def library_soname(lib):
    match = re.search(r"\(SONAME\).*\[(.*)\]", run(["readelf", "-d", lib]))
    return match.group(1) if match else None


# ---------------------------------------------------------------- the header

TOKEN = re.compile(r"[A-Za-z_]\w*|\d\w*|\.\.\.|->|<<|>>|\S")
WORD = re.compile(r"[A-Za-z_0-9]")
KEYWORDS = {"void", "char", "short", "int", "long", "float", "double", "signed",
            "unsigned", "const", "volatile", "restrict", "struct", "union", "enum",
            "_Bool", "bool"}


def join(tokens):
    """Tokens as one line: a space between two words, after `*` before a word, after
    , ; { } and before { }."""
    out = ""
    for tok in tokens:
        if out and ((WORD.match(out[-1]) or out[-1] == "*") and WORD.match(tok[0])
                    or out[-1] in ",;{}" or tok in "{}"):
            out += " "
        out += tok
    return out


def strip_parameter_names(tokens):
    """`uint32_t krbap_f(uint32_t *minor, const char *s)` -> without minor, s."""
    open_at = tokens.index("(")
    depth, params, current = 0, [], []
    for tok in tokens[open_at + 1:]:
        if tok in "([":
            depth += 1
        elif tok in ")]":
            if depth == 0:
                params.append(current)
                break
            depth -= 1
        if tok == "," and depth == 0:
            params.append(current)
            current = []
        else:
            current.append(tok)
    kept = []
    for param in params:
        if "[" in param:  # `char name[16]`: the name is the word before the bracket
            i = param.index("[")
            if i > 1 and re.match(r"[A-Za-z_]", param[i - 1]) and param[i - 1] not in KEYWORDS:
                param = param[:i - 1] + param[i:]
        elif (len(param) > 1 and re.match(r"[A-Za-z_]\w*$", param[-1])
              and param[-1] not in KEYWORDS
              and param[-2] not in ("struct", "union", "enum")
              and "(" not in param):
            param = param[:-1]
        kept.append(param)
    result = tokens[:open_at + 1]
    for i, param in enumerate(kept):
        if i:
            result.append(",")
        result.extend(param)
    return result + [")", ";"]


def header_declarations(header):
    """{key: normalized text}: 'function NAME', 'type NAME', 'macro NAME', ..."""
    cc = os.environ.get("CC", "cc")
    pre = run([cc, "-E", "-dD", "-x", "c", "-std=c11", header])
    wanted = os.path.realpath(os.path.join(ROOT, header))
    current, text, decls = None, [], {}
    for line in pre.splitlines():
        marker = re.match(r'#\s*(\d+)\s+"([^"]*)"', line)
        if marker:
            current = os.path.realpath(os.path.join(ROOT, marker.group(2)))
            continue
        if current != wanted:
            continue
        macro = re.match(r"#define\s+(\w+)(\([^)]*\))?\s*(.*)$", line)
        if macro:
            name, args, body = macro.groups()
            if body.strip() or args:  # an empty body is the include guard
                decls[f"macro {name}"] = join(TOKEN.findall((args or "") + " " + body))
            continue
        if line.startswith("#"):
            continue
        text.append(line)
    depth, statement = 0, []
    for tok in TOKEN.findall(" ".join(text)):
        statement.append(tok)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok == ";" and depth == 0:
            key, norm = classify(statement)
            if key in decls:
                raise AbiError(f"{header}: {key} is declared twice")
            decls[key] = norm
            statement = []
    if statement:
        raise AbiError(f"{header}: unterminated declaration: {join(statement)}")
    return decls


def classify(tokens):
    if tokens[0] == "typedef":
        return f"type {tokens[-2]}", join(tokens)
    if "(" in tokens and "{" not in tokens:
        name = tokens[tokens.index("(") - 1]
        return f"function {name}", join(strip_parameter_names(tokens))
    if tokens[0] in ("struct", "union", "enum") and len(tokens) > 2 and tokens[2] == "{":
        return f"{tokens[0]} {tokens[1]}", join(tokens)
    return f"declaration {join(tokens)}", join(tokens)


# ---------------------------------------------------------------- the ABI as a whole

def current_abi(lib, header):
    abi = {f"symbol {name}": kind for name, kind in library_symbols(lib).items()}
    abi.update(header_declarations(header))
    return abi


def consistency_errors(lib, abi, version):
    errors = []
    symbols = {k[7:]: v for k, v in abi.items() if k.startswith("symbol ")}
    functions = {k[9:] for k in abi if k.startswith("function ")}
    foreign = sorted(s for s in symbols if not s.startswith("krbap_"))
    if foreign:
        errors.append("exported symbols without the krbap_ prefix (only the C API may be "
                      "exported): " + ", ".join(foreign))
    exported = {s for s, kind in symbols.items() if kind in "TtWi"}
    for name in sorted(functions - exported):
        errors.append(f"{name} is declared in the header but not exported by the library")
    for name in sorted(exported - functions):
        errors.append(f"{name} is exported but not declared in the header")
    soname = library_soname(lib)
    if soname != soname_for(version):
        errors.append(f"{lib} has SONAME {soname}, not {soname_for(version)} "
                      f"(version {version}; build.rs sets it)")
    return errors


def read_reference(path):
    version, entries = None, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("version "):
                version = line[8:]
                continue
            if line.startswith("soname "):
                continue
            key, sep, value = line.partition(": ")
            if not sep:
                raise AbiError(f"{path}: bad line {line!r}")
            entries[key] = value
    if version is None:
        raise AbiError(f"{path}: no version line")
    return version, entries


def write_reference(path, version, abi):
    lines = [PREAMBLE, f"version {version}\n", f"soname {soname_for(version)}\n"]
    # Symbols first, then declarations, each sorted: merges touch neighbouring lines only.
    order = sorted(abi, key=lambda k: (not k.startswith("symbol "), k))
    lines += [f"{key}: {abi[key]}\n" for key in order]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.replace(path + ".tmp", path)


def compare(old, new):
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    return added, removed, changed


def describe(old, new, added, removed, changed):
    out = []
    for key in removed:
        out.append(f"  removed: {key}\n      was: {old[key]}")
    for key in changed:
        out.append(f"  changed: {key}\n      was: {old[key]}\n      now: {new[key]}")
    for key in added:
        out.append(f"  added:   {key}\n      now: {new[key]}")
    return "\n".join(out)


def released(version):
    """Whether `version` was released: a git tag vX.Y.Z (KRBAP_ABI_RELEASED: a list, tests)."""
    if "KRBAP_ABI_RELEASED" in os.environ:
        return version in os.environ["KRBAP_ABI_RELEASED"].split()
    try:
        out = subprocess.run(["git", "tag", "--list", f"v{version}", version], cwd=ROOT,
                             capture_output=True, text=True, check=False)
    except OSError:
        return False
    return bool(out.stdout.strip())


def bumped(version, part):
    v = list(version_tuple(version))
    v[part] += 1
    v[part + 1:] = [0] * (2 - part)
    return ".".join(map(str, v))


def cmd_check(args):
    version = cargo_version()
    abi = current_abi(args.lib, args.header)
    errors = consistency_errors(args.lib, abi, version)
    for e in errors:
        print(f"ABI check: {e}")
    if not os.path.exists(args.reference):
        print(f"ABI check: no reference {args.reference}: run `make abi-update` and commit it")
        return 1
    ref_version, ref = read_reference(args.reference)
    added, removed, changed = compare(ref, abi)
    ref_soname = soname_for(ref_version)
    if not (added or removed or changed):
        if soname_for(version) != ref_soname:
            print(f"ABI check: the ABI is unchanged but the major version moved from "
                  f"{ref_version} to {version}: run `make abi-update` to record "
                  f"{soname_for(version)}")
            return 1
        if errors:
            return 1
        symbols = sum(1 for k in abi if k.startswith("symbol "))
        print(f"ABI check: {symbols} symbols and {len(abi) - symbols} declarations as in "
              f"{args.reference} ({ref_version}, {ref_soname})")
        return 0
    print(f"ABI check: {args.lib} and {args.header} differ from {args.reference} "
          f"(version {ref_version}, {ref_soname}):")
    print(describe(ref, abi, added, removed, changed))
    if removed or changed:
        print(f"""
ABI BREAK: {len(removed)} removed, {len(changed)} changed. Programs built against {ref_soname}
would fail to load or misbehave with this library.
  - Not intended? Restore the declarations in src/ffi/ (the header follows them).
  - Intended? Bump the major version in Cargo.toml ({version} -> {bumped(version, 0)}; the
    SONAME becomes {soname_for(bumped(version, 0))}), run `make abi-update` and commit
    abi/krbap.abi with the change. (Only for declarations that were never released:
    `make abi-update ACCEPT_BREAK=1` keeps the major version; say so in the commit.)""")
    else:
        ship = (f"a higher minor version than {ref_version}, e.g. {bumped(ref_version, 1)}"
                if released(ref_version) else
                f"a minor version above the last release ({ref_version} is not tagged yet,"
                f" so it may ship them)")
        print(f"""
Additions only: compatible, the SONAME stays {ref_soname}. Accept them with
`make abi-update` and commit abi/krbap.abi; the release that ships them needs {ship}.""")
    return 1


def cmd_update(args):
    version = cargo_version()
    abi = current_abi(args.lib, args.header)
    errors = consistency_errors(args.lib, abi, version)
    if errors:
        for e in errors:
            print(f"ABI update: {e}")
        print("ABI update: fix these first; the reference was not written")
        return 1
    if os.path.exists(args.reference):
        ref_version, ref = read_reference(args.reference)
        added, removed, changed = compare(ref, abi)
        if not (added or removed or changed) and soname_for(version) == soname_for(ref_version):
            print(f"ABI update: {args.reference} is up to date ({ref_version})")
            return 0
        print(describe(ref, abi, added, removed, changed))
        major, minor, _ = version_tuple(version)
        ref_major, ref_minor, _ = version_tuple(ref_version)
        if (removed or changed) and major <= ref_major and not args.accept_break:
            print(f"ABI update: refused: {len(removed)} removed and {len(changed)} changed "
                  f"entries are an ABI break, which needs a major version above "
                  f"{ref_version}'s (set version = \"{bumped(ref_version, 0)}\" in Cargo.toml), "
                  f"or ACCEPT_BREAK=1 for declarations that were never released")
            return 1
        if added and (major, minor) == (ref_major, ref_minor) and released(ref_version):
            print(f"ABI update: refused: {ref_version} is released (tag v{ref_version}); "
                  f"additions need a higher minor version "
                  f"(set version = \"{bumped(ref_version, 1)}\" in Cargo.toml)")
            return 1
    write_reference(args.reference, version, abi)
    print(f"ABI update: wrote {args.reference} ({version}, {soname_for(version)}): "
          f"commit it")
    return 0


def cmd_dump(args):
    for key, value in sorted(current_abi(args.lib, args.header).items()):
        print(f"{key}: {value}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["check", "update", "dump"])
    parser.add_argument("--lib", default=LIBRARY, help=f"the shared library ({LIBRARY})")
    parser.add_argument("--header", default=HEADER, help=f"the header ({HEADER})")
    parser.add_argument("--reference", default=REFERENCE, help=f"the reference ({REFERENCE})")
    parser.add_argument("--accept-break", action="store_true",
                        help="update: accept removed/changed entries without a major bump")
    args = parser.parse_args()
    # Relative paths are the repository's, from wherever this runs.
    args.reference = os.path.relpath(os.path.join(ROOT, args.reference), ROOT) \
        if not os.path.isabs(args.reference) else args.reference
    os.chdir(ROOT)
    try:
        return {"check": cmd_check, "update": cmd_update, "dump": cmd_dump}[args.command](args)
    except AbiError as e:
        print(f"ABI {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
