"""The wheel's build hook: builds libkrbap with cargo and puts it into the wheel.

The library comes from the Rust crate two directories up (this package lives in
bindings/python of the krbap repository), or from KRBAP_SOURCE_DIR. Cargo builds into
the repository's own target/ directory (or CARGO_TARGET_DIR), so a library that
`make`/`make test` already built is reused, not rebuilt. The wheel is tagged
py3-none-<platform>: it holds a native library but no CPython extension, so any
Python 3 of that platform can load it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LIB_NAME = "libkrbap.dylib" if sys.platform == "darwin" else "libkrbap.so"


def _crate_dir(project_root: Path) -> Path:
    chosen = os.environ.get("KRBAP_SOURCE_DIR")
    crate = Path(chosen) if chosen else project_root.parent.parent
    manifest = crate / "Cargo.toml"
    if not manifest.is_file() or 'name = "krbap"' not in manifest.read_text():
        raise RuntimeError(
            f"krbap's Rust crate not found at {crate} (the package is built from the krbap "
            "repository: pip install ./bindings/python, or set KRBAP_SOURCE_DIR)"
        )
    return crate


class CargoBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        crate = _crate_dir(Path(self.root))
        target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or crate / "target")
        cargo = os.environ.get("CARGO") or shutil.which("cargo")
        if cargo is None:
            raise RuntimeError("building the krbap wheel needs the Rust toolchain (cargo on PATH)")
        command = [
            cargo,
            "build",
            "--release",
            "--lib",
            "--manifest-path",
            str(crate / "Cargo.toml"),
            "--target-dir",
            str(target_dir),
        ]
        self.app.display_info("krbap: " + " ".join(command))
        subprocess.run(command, check=True)
        library = target_dir / "release" / LIB_NAME
        if not library.is_file():
            raise RuntimeError(f"cargo did not produce {library}")
        build_data["force_include"][str(library)] = f"krbap/{LIB_NAME}"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
