"""Write files so that readers see either the old content or the new, never half.

Every writer goes through a temporary file in the target's own directory (so
``os.replace`` is a rename on one file system, which POSIX makes atomic), is
flushed and fsynced, then moved over the target. On any error the temporary
file is removed and the old target, if any, is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, before any
    # threads of ours exist.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _final_mode(target: Path) -> int:
    """Keep an existing file's permissions; give a new one the usual 0666 & ~umask.

    mkstemp creates 0600 files, which would otherwise leak into every output.
    """
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


@contextlib.contextmanager
def _atomic_handle(path: str | os.PathLike, mode: str, **open_kwargs) -> Iterator[IO]:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _final_mode(target))
        os.replace(tmp_name, target)
    except BaseException:
        # BaseException: a KeyboardInterrupt mid-write must not leave debris either.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[IO[str]]:
    """Yield a UTF-8 text handle (``\\n`` line endings) whose content replaces ``path`` on success.

    Parent directories are created. If the body raises, ``path`` keeps its old
    content and no temporary file is left behind.
    """
    with _atomic_handle(path, "w", encoding="utf-8", newline="\n") as handle:
        yield handle


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line endings) atomically."""
    with atomic_writer(path) as handle:
        handle.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with _atomic_handle(path, "wb") as handle:
        handle.write(data)


def fsync_dir(directory: str | os.PathLike) -> None:
    """Make the renames and new entries in ``directory`` survive a crash (where the platform allows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform; the files themselves are synced
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
