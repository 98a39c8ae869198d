"""A result set — the files one command writes for NAME in a folder — written as a whole.

Per-file atomic writes (:mod:`toolkit.core.atomic`) keep each file whole, but a set of six
files written one by one can be left mixed: two runs into one folder, or a kill between two
files. Here a command that writes a set

1. takes the folder's lock (:class:`FolderLock`, an exclusive ``flock`` on the folder, held
   for the whole command, released by the kernel if the process dies), so a second writer
   is refused at once with a clear message;
2. cleans up what an interrupted run left (:func:`recover`);
3. writes every new file into the staging folder ``OUT/.NAME.staging/``;
4. writes there, last, ``NAME.manifest.json``: every file of the set with its sha256. Once
   it is there (fsynced) the new set is *committed*;
5. moves the files into ``OUT`` (renames on one file system), the manifest last, and removes
   the staging folder.

A crash before step 4 leaves the old set untouched (the staging folder is thrown away on the
next run); a crash after it leaves a committed staging folder that the next writer, or a
reader, finishes moving (*roll forward*). Readers (:func:`verify`) check every file against
the manifest, so a set that was mixed some other way (copied over by hand, an older version's
interrupted write) is reported instead of read. A folder without a manifest (written before
manifests existed, or a published edition) is read as it is.

Test hook: if the environment variable ``BITEXT_TEST_PAUSE_AT`` (:data:`PAUSE_ENV`) names a
phase — ``work`` (folder locked, checks passed, nothing computed), ``staged`` (new set staged,
not committed), ``commit`` (half the files moved), ``done`` (all moved, staging not removed) —
the process stops itself there with SIGSTOP, so a test can kill it at that moment from outside
(tests/test_faults.py). It does nothing otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from toolkit.core.atomic import atomic_write_text, fsync_dir
from toolkit.core.errors import FormatError, ToolkitError

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "bitext-result-set"
PAUSE_ENV = "BITEXT_TEST_PAUSE_AT"
PHASES = ("work", "staged", "commit", "done")
# Disk space a run must find before it starts: output bytes per input byte, and a floor.
# Measured: the outputs of the example are 12x its inputs, seed 004 with its transcript 7x.
OUTPUT_BYTES_PER_INPUT_BYTE = 12
MIN_FREE_BYTES = 256 * 1024


class FolderBusyError(ToolkitError):
    """Another process is writing this result folder."""


def pause_point(phase: str) -> None:
    """The test hook described in the module docstring."""
    if os.environ.get(PAUSE_ENV) == phase and hasattr(signal, "SIGSTOP"):
        os.kill(os.getpid(), signal.SIGSTOP)


def staging_dir(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / f".{name}.staging"


def manifest_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / f"{name}{MANIFEST_SUFFIX}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _io_error(out_dir: Path, exc: OSError) -> ToolkitError:
    import errno

    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return ToolkitError(f"cannot write to {out_dir}: no space left on the device",
                            "free some space or choose another output folder with -o; the folder keeps its previous files")
    if exc.errno == errno.EROFS:
        return ToolkitError(f"cannot write to {out_dir}: it is on a read-only file system",
                            "choose another output folder with -o")
    return ToolkitError(f"cannot write to {out_dir}: {reason}",
                        "choose another output folder with -o; the folder keeps its previous files")


# ---------------------------------------------------------------------------
# the lock


_HELD: dict[str, int] = {}  # lock files this process holds, and how many times


class FolderLock:
    """An exclusive, non-blocking lock on a result folder, held for a whole command (re-entrant
    within one process).

    ``flock`` on the folder itself (no lock file to leave behind or to remove racily); the kernel
    drops it when the process ends, however it ends, so there is never a stale lock. A folder
    the lock created is removed again on release if the command left it empty. Use as a
    context manager.
    """

    def __init__(self, out_dir: str | Path, command: str = "bitext"):
        self.out_dir = Path(out_dir)
        self.command = command
        self._fd: int | None = None
        self._nested = False
        self._created = False

    def acquire(self) -> FolderLock:
        import fcntl

        try:
            self._created = not self.out_dir.exists()
            self.out_dir.mkdir(parents=True, exist_ok=True)
            key = os.path.realpath(self.out_dir)
            if key in _HELD:  # this process holds it already (the CLI around a library writer)
                _HELD[key] += 1
                self._nested, self._key = True, key
                return self
            fd = os.open(self.out_dir, os.O_RDONLY)
        except OSError as exc:
            raise _io_error(self.out_dir, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise FolderBusyError(f"{self.out_dir} is being written by another bitext run",
                                  "wait for it to finish, or write elsewhere with -o") from None
        self._fd, self._key = fd, key
        _HELD[key] = 1
        return self

    def release(self) -> None:
        if self._nested:
            _HELD[self._key] -= 1
            self._nested = False
        elif self._fd is not None:
            del _HELD[self._key]
            if self._created:
                with contextlib.suppress(OSError):
                    self.out_dir.rmdir()  # only if empty: the command failed before writing
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------------------
# checks before the work


def check_output_folder(out_dir: str | Path, input_bytes: int = 0) -> None:
    """Fail now, not after the work, if ``out_dir`` cannot take a result set.

    It must be a folder or not exist yet (then its nearest existing parent must be a folder),
    be writable (tried, not guessed: root ignores permission bits but not a read-only
    mount) and have room for about OUTPUT_BYTES_PER_INPUT_BYTE times the inputs.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ToolkitError(f"cannot write to {out_dir}: it is a file, not a folder", "choose a folder with -o")
    existing = out_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ToolkitError(f"cannot create the output folder {out_dir}: {existing} is a file",
                           "choose another output folder with -o")
    probe = existing / f".bitext-probe-{os.getpid()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"x")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise _io_error(out_dir, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    need = max(MIN_FREE_BYTES, OUTPUT_BYTES_PER_INPUT_BYTE * input_bytes)
    free = shutil.disk_usage(existing).free
    if free < need:
        raise ToolkitError(f"not enough space for the output in {out_dir}: {free:,} bytes free, about {need:,} needed",
                           "free some space or choose another output folder with -o")


# ---------------------------------------------------------------------------
# writing a set


def _read_manifest(path: Path) -> dict | None:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT \
            or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def read_manifest(out_dir: str | Path, name: str) -> dict | None:
    """NAME's manifest in ``out_dir`` (None if it has none)."""
    return _read_manifest(manifest_path(Path(out_dir), name))


def _roll_forward(out_dir: Path, name: str, staging: Path) -> None:
    """Move a committed staging folder's files into place, the manifest last."""
    manifest_name = f"{name}{MANIFEST_SUFFIX}"
    files = sorted(p.name for p in staging.iterdir() if p.name != manifest_name and not p.name.endswith(".tmp"))
    for number, filename in enumerate(files):
        os.replace(staging / filename, out_dir / filename)
        if number == len(files) // 2:
            pause_point("commit")
    os.replace(staging / manifest_name, out_dir / manifest_name)
    fsync_dir(out_dir)
    pause_point("done")
    shutil.rmtree(staging, ignore_errors=True)


def recover(out_dir: str | Path, name: str, members: Iterable[str] = ()) -> str | None:
    """Finish or discard what an interrupted write left for NAME in ``out_dir``; call with the lock held.

    A committed staging folder is rolled forward, an uncommitted one removed; so are the
    ``.FILE.*.tmp`` files of the set's ``members`` (file names) that a killed per-file write
    left. Returns what was done ("rolled forward", "discarded") or None.
    """
    out_dir = Path(out_dir)
    done = None
    staging = staging_dir(out_dir, name)
    if staging.is_dir():
        if _read_manifest(staging / f"{name}{MANIFEST_SUFFIX}") is not None:
            _roll_forward(out_dir, name, staging)
            done = "rolled forward"
        else:
            shutil.rmtree(staging, ignore_errors=True)
            done = "discarded"
    prefixes = tuple(f".{member}." for member in (*members, f"{name}{MANIFEST_SUFFIX}"))
    for leftover in out_dir.glob(f".{name}*.tmp"):
        if leftover.name.startswith(prefixes):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return done


@contextlib.contextmanager
def staged_set(out_dir: str | Path, name: str, command: str = "", keep_others: bool = True,
               aside: Iterable[str] = (), aside_to: Path | None = None, members: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a staging folder; the files written there become NAME's set in ``out_dir``, all at once.

    Call with the folder's lock held. The manifest lists the staged files and, with
    ``keep_others``, the files of the previous set (its manifest) that were not staged again
    (a scoring run rewrites the JSONL and TMX, not the ``.align``); without it the previous
    set's other files are removed; a folder without a manifest has as its previous set the
    files of ``members`` (file names) it holds. ``aside``: files in ``out_dir`` to move, at the commit, into
    ``aside_to`` (default :func:`aside_folder`; a reviewed set replaced with --force keeps its
    journal next to the files it belongs to). If the body raises, nothing in ``out_dir`` changes and the staging
    folder is removed.
    """
    out_dir = Path(out_dir)
    staging = staging_dir(out_dir, name)
    previous = read_manifest(out_dir, name)
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise _io_error(out_dir, exc) from exc
    try:
        yield staging
        files = {p.name: sha256_file(p) for p in sorted(staging.iterdir()) if p.is_file()}
        stale = []
        for filename in (previous["files"] if previous else members):
            if filename in files or not (out_dir / filename).is_file():
                continue
            if keep_others:
                files[filename] = sha256_file(out_dir / filename)
            else:
                stale.append(filename)
        pause_point("staged")
        manifest = {"format": MANIFEST_FORMAT, "version": 1, "name": name, "command": command,
                    "written": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "files": files}
        atomic_write_text(staging / f"{name}{MANIFEST_SUFFIX}",
                          json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        fsync_dir(staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _io_error(out_dir, exc) from exc
        raise
    # Committed: from here on a crash is rolled forward by the next writer or reader; Ctrl-C
    # waits the few milliseconds of the renames.
    with _signals_held():
        try:
            moved = [filename for filename in aside if (out_dir / filename).exists()]
            if moved:
                target = aside_to or aside_folder(out_dir, name)
                target.mkdir(exist_ok=True)
                for filename in moved:
                    os.replace(out_dir / filename, target / filename)
            _roll_forward(out_dir, name, staging)
            for filename in stale:
                with contextlib.suppress(FileNotFoundError):
                    (out_dir / filename).unlink()
        except OSError as exc:
            raise _io_error(out_dir, exc) from exc


def aside_folder(out_dir: str | Path, name: str) -> Path:
    """``OUT/NAME.superseded-20261201T120000Z``: where a replaced set's files are kept."""
    return Path(out_dir) / f"{name}.superseded-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} if hasattr(signal, "pthread_sigmask") else set()
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


# ---------------------------------------------------------------------------
# reading a set


def verify(out_dir: str | Path, name: str, members: Iterable[str] = ()) -> dict | None:
    """Check NAME's files in ``out_dir`` against its manifest; returns the manifest, or None if none.

    An interrupted commit is finished first (if no other process holds the folder's lock); while
    another run is writing, the old set is read as long as it is whole.
    Raises FormatError naming the first file that is missing or differs from the manifest,
    FolderBusyError if another run is writing the folder right now.
    """
    out_dir = Path(out_dir)
    staging = staging_dir(out_dir, name)
    problem = _mismatch(out_dir, read_manifest(out_dir, name))
    committed = staging.is_dir() and _read_manifest(staging / f"{name}{MANIFEST_SUFFIX}") is not None
    if problem or committed:
        # An interrupted commit: finish it if nobody else holds the folder. (A staging folder not
        # committed is a writer at work, or a killed one's leftovers: the old set stands.)
        try:
            with FolderLock(out_dir, "recovery by a reader"):
                recover(out_dir, name, members)
        except FolderBusyError as exc:
            if problem:
                raise FolderBusyError(f"{out_dir} is being written right now by another bitext run",
                                      "run this again when it has finished") from exc
        except ToolkitError:
            pass  # a read-only folder: judge what is there
    manifest = read_manifest(out_dir, name)
    problem = _mismatch(out_dir, manifest)
    if problem:
        raise FormatError(f"{out_dir} holds a mixed result set: {problem} (its manifest {name}{MANIFEST_SUFFIX} "
                          "lists what one run wrote)",
                          "align again, into this folder or a fresh one")
    return manifest


def _mismatch(out_dir: Path, manifest: dict | None) -> str | None:
    if manifest is None:
        return None
    for filename, digest in sorted(manifest["files"].items()):
        path = out_dir / filename
        if not path.is_file():
            return f"{filename} is missing"
        if sha256_file(path) != digest:
            return f"{filename} is not the file that run wrote"
    return None


def verify_file(path: str | Path) -> None:
    """Check a single file of a result set (e.g. an ``.align`` given to ``bitext eval``) against its
    folder's manifest, if it has one; see :func:`verify`."""
    path = Path(path)
    folder = path.parent
    for manifest_file in folder.glob(f"*{MANIFEST_SUFFIX}"):
        name = manifest_file.name[: -len(MANIFEST_SUFFIX)]
        manifest = _read_manifest(manifest_file)
        if manifest and path.name in manifest["files"]:
            verify(folder, name)
            return
