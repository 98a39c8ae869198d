"""The on-disk embedding cache: hits are bit-identical, other models and texts miss, bad files say so."""

import json

import numpy as np
import pytest

from toolkit.align.embcache import CachedEmbedder, EmbeddingCache
from toolkit.align.embed import Embedder
from toolkit.core.errors import ToolkitError


class CountingEmbedder(Embedder):
    """Deterministic vectors from a text's hash; counts what it was asked to encode."""

    def __init__(self, name: str = "fake-a", dim: int = 8):
        self.name = name
        self._dim = dim
        self.encoded: list[str] = []

    @property
    def dim(self) -> int:
        return self._dim

    def describe(self) -> str:
        return self.name

    def _encode(self, texts):
        self.encoded.extend(texts)
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self._dim) for t in texts])


def test_second_pass_embeds_nothing_and_is_bit_identical(tmp_path):
    texts = ["第一句。", "The first sentence.", "第一句。", "另一句"]
    inner = CountingEmbedder()
    with EmbeddingCache(tmp_path / "e.sqlite") as cache:
        first = CachedEmbedder(inner, cache).embed(texts)
        assert sorted(inner.encoded) == sorted(set(texts))  # each distinct text once
        assert (cache.hits, cache.misses) == (0, 3)
    inner.encoded.clear()
    with EmbeddingCache(tmp_path / "e.sqlite") as cache:
        again = CachedEmbedder(inner, cache).embed(texts)
        assert inner.encoded == [] and (cache.hits, cache.misses) == (3, 0)
    assert again.dtype == np.float32 and np.array_equal(first, again)
    assert np.array_equal(first, CountingEmbedder().embed(texts))  # the same as uncached
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-6)


def test_another_model_or_size_is_a_miss(tmp_path):
    with EmbeddingCache(tmp_path / "e.sqlite") as cache:
        CachedEmbedder(CountingEmbedder("fake-a"), cache).embed(["一", "二"])
        other = CountingEmbedder("fake-b")
        CachedEmbedder(other, cache).embed(["一", "二"])
        assert other.encoded == ["一", "二"]
        wider = CountingEmbedder("fake-a", dim=16)  # same name, other size: never a stale hit
        out = CachedEmbedder(wider, cache).embed(["一"])
        assert wider.encoded == ["一"] and out.shape == (1, 16)


def test_progress_counts_every_input_text(tmp_path):
    seen = []
    with EmbeddingCache(tmp_path / "e.sqlite") as cache:
        embedder = CachedEmbedder(CountingEmbedder(), cache)
        embedder.embed(["a", "b", "a"], seen.append)
        assert sum(seen) == 3
        seen.clear()
        embedder.embed(["a", "b", "c", "c"], seen.append)
        assert sum(seen) == 4
        assert embedder.embed([]).shape == (0, 8)


def test_a_file_that_is_not_a_cache_is_refused_with_a_hint(tmp_path):
    bad = tmp_path / "e.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ToolkitError) as info:
        EmbeddingCache(bad)
    assert "cannot be used" in str(info.value) and "delete" in info.value.hint
    with pytest.raises(ToolkitError, match="is a folder"):
        EmbeddingCache(tmp_path)


def test_align_cli_reuses_the_cache(tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    zh, en = tmp_path / "t.zh.txt", tmp_path / "t.en.txt"
    zh.write_text("我们今天谈谈翻译。\n机器先做一遍。\n", encoding="utf-8")
    en.write_text("Today we talk about translation.\nThe machine does a first pass.\n", encoding="utf-8")
    cache = tmp_path / "emb.sqlite"
    runner = CliRunner()
    for run in ("first", "second"):
        out = tmp_path / run
        result = runner.invoke(app, ["align", str(zh), str(en), "-o", str(out), "--quiet",
                                     "--embedding-cache", str(cache)])
        assert result.exit_code == 0, result.output
    first = json.loads((tmp_path / "first" / "t.signature.json").read_text())["embedding_cache"]
    second = json.loads((tmp_path / "second" / "t.signature.json").read_text())["embedding_cache"]
    assert first["misses"] > 0 and second == {"hits": first["misses"], "misses": 0}
    assert (tmp_path / "first" / "t.align").read_text() == (tmp_path / "second" / "t.align").read_text()
    result = runner.invoke(app, ["align", str(zh), str(en), "-o", str(tmp_path / "off"), "--quiet",
                                 "--no-embedding-cache"])
    assert result.exit_code == 0
    assert json.loads((tmp_path / "off" / "t.signature.json").read_text())["embedding_cache"] == "off"


def test_a_worker_cache_reads_its_base_and_merges_back(tmp_path):
    """A corpus worker writes its own file over the shared cache (read-only); the run merges it back."""
    import numpy as np

    from toolkit.align.embcache import EmbeddingCache

    shared = tmp_path / "shared.sqlite"
    with EmbeddingCache(shared) as cache:
        cache.put_many("m", {"old": np.ones(4, dtype=np.float32)})
    worker_file = tmp_path / "worker.sqlite"
    with EmbeddingCache(worker_file, base=shared) as worker:
        assert set(worker.get_many("m", ["old", "new"], 4)) == {"old"}  # read through to the base
        worker.put_many("m", {"new": np.full(4, 2, dtype=np.float32)})
    with EmbeddingCache(shared) as cache:
        assert set(cache.get_many("m", ["old", "new"], 4)) == {"old"}  # the base was not written
        assert cache.merge_from(worker_file) == 1
        assert cache.merge_from(worker_file) == 0  # merging again adds nothing
        found = cache.get_many("m", ["old", "new"], 4)
    assert found["new"].tolist() == [2.0] * 4
