"""The translation cache: keys, persistence across opens, per-batch commits, corrupt files."""

from __future__ import annotations

import sqlite3

import pytest

from toolkit.core.errors import ToolkitError
from toolkit.translate.cache import TranslationCache, cache_key

MODEL = "seq2seq:tiny (num_beams=1)"
SETTINGS = {"num_beams": 1, "max_new_tokens": 64}


def test_put_then_get(tmp_path):
    with TranslationCache(tmp_path / "mt.sqlite") as cache:
        assert cache.get_many(MODEL, SETTINGS, ["你好。"]) == {}
        cache.put_many(MODEL, SETTINGS, {"你好。": ("Hello.", []), "谢谢": ("", ["empty"])})
        found = cache.get_many(MODEL, SETTINGS, ["你好。", "谢谢", "再见", "你好。"])
    assert found == {"你好。": ("Hello.", ()), "谢谢": ("", ("empty",))}


def test_key_covers_model_settings_and_text(tmp_path):
    cache = TranslationCache(tmp_path / "mt.sqlite")
    cache.put_many(MODEL, SETTINGS, {"你好。": ("Hello.", [])})
    assert cache.get_many("seq2seq:other", SETTINGS, ["你好。"]) == {}
    assert cache.get_many(MODEL, {**SETTINGS, "num_beams": 4}, ["你好。"]) == {}
    assert cache.get_many(MODEL, SETTINGS, ["你好"]) == {}
    # Key order in the settings does not matter; values do.
    reordered = {"max_new_tokens": 64, "num_beams": 1}
    assert cache.get_many(MODEL, reordered, ["你好。"]) == {"你好。": ("Hello.", ())}
    assert cache_key(MODEL, SETTINGS, "a") == cache_key(MODEL, reordered, "a")
    # The parts are kept apart: moving text between them changes the key.
    assert cache_key("ab", SETTINGS, "c") != cache_key("a", SETTINGS, "bc")
    cache.close()


def test_reopen_keeps_entries_and_creates_folders(tmp_path):
    path = tmp_path / "deep" / "er" / "mt.sqlite"
    with TranslationCache(path) as cache:
        cache.put_many(MODEL, SETTINGS, {"一": ("One", [])})
    assert path.is_file()
    with TranslationCache(path) as cache:
        cache.put_many(MODEL, SETTINGS, {"二": ("Two", ["length"]), "一": ("One.", [])})  # replaces
        assert cache.get_many(MODEL, SETTINGS, ["一", "二"]) == {"一": ("One.", ()), "二": ("Two", ("length",))}
        stats = cache.stats()
    assert stats["entries"] == 2
    assert stats["flagged"] == 1
    assert stats["models"] == {MODEL: 2}
    assert stats["hits"] == 2 and stats["misses"] == 0


def test_each_put_is_committed_at_once(tmp_path):
    """Another connection sees a batch as soon as put_many returns: an interrupt loses nothing stored."""
    path = tmp_path / "mt.sqlite"
    cache = TranslationCache(path)
    cache.put_many(MODEL, SETTINGS, {"一": ("One", [])})
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM translations").fetchone() == (1,)
    other.close()
    cache.close()


def test_many_keys_and_hit_counts(tmp_path):
    texts = [f"第{i}句。" for i in range(1234)]
    with TranslationCache(tmp_path / "mt.sqlite") as cache:
        cache.put_many(MODEL, SETTINGS, {t: (f"Sentence {i}.", []) for i, t in enumerate(texts[:1000])})
        found = cache.get_many(MODEL, SETTINGS, texts)
        assert len(found) == 1000
        assert found[texts[999]] == ("Sentence 999.", ())
        assert cache.stats()["hits"] == 1000
        assert cache.stats()["misses"] == 234


@pytest.mark.parametrize("content", [b"this is not a database, just text\n" * 20, b"SQLite format 3\x00" + b"\xff" * 200])
def test_corrupt_file_says_delete_it(tmp_path, content):
    path = tmp_path / "mt.sqlite"
    path.write_bytes(content)
    with pytest.raises(ToolkitError) as info:
        TranslationCache(path)
    assert str(path) in info.value.message
    assert "delete" in info.value.hint


def test_cache_path_that_is_a_folder(tmp_path):
    with pytest.raises(ToolkitError, match="folder"):
        TranslationCache(tmp_path)
