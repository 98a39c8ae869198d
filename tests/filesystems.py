"""Small file systems for the fault tests: a tmpfs of a given size, filled up (needs root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


def mount_tmpfs(path: Path, size: str = "256k") -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def fill(path: Path) -> None:
    """Write ``path`` until its file system is full."""
    handle = open(path, "wb")
    try:
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()
    except OSError:
        pass
    finally:
        try:
            handle.close()
        except OSError:
            pass
