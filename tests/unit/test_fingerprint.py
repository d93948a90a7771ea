"""Content fingerprints and headers of input micrographs, and their stat-keyed cache."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from pickflow.errors import InputError
from pickflow.io.micrographs import Header, write_mrc
from pickflow.workflow.fingerprint import MicrographCache, cached_fingerprints, fingerprint


def test_fingerprint_follows_content_not_file_times(tmp_path, rng):
    path = tmp_path / "m.mrc"
    write_mrc(path, rng.normal(size=(300, 400)).astype(np.float32), 1.0)
    before = fingerprint(path)
    os.utime(path, (0, 0))
    assert fingerprint(path) == before
    write_mrc(path, rng.normal(size=(300, 400)).astype(np.float32), 1.0)  # same size, other pixels
    assert fingerprint(path) != before


def test_the_cache_is_reused_only_while_the_stat_is_unchanged(tmp_path, rng):
    path = tmp_path / "m.mrc"
    write_mrc(path, rng.normal(size=(64, 64)).astype(np.float32), 1.0)
    cache = tmp_path / "cache" / "micrographs.json"
    assert cached_fingerprints({"m": path}, cache) == {"m": fingerprint(path)}
    data = json.loads(cache.read_text())
    data["entries"][str(path)]["fingerprint"] = "from the cache"
    cache.write_text(json.dumps(data))
    assert cached_fingerprints({"m": path}, cache) == {"m": "from the cache"}  # not read again
    older = path.stat().st_mtime - 3600
    os.utime(path, (older, older))  # any stat change (here mtime and ctime) samples the file again
    assert cached_fingerprints({"m": path}, cache) == {"m": fingerprint(path)}


def test_an_unchanged_micrographs_header_is_never_opened_again(tmp_path, rng, monkeypatch):
    import pickflow.workflow.fingerprint as module

    good, bad = tmp_path / "good.mrc", tmp_path / "bad.mrc"
    write_mrc(good, rng.normal(size=(48, 64)).astype(np.float32), 2.5)
    bad.write_bytes(b"")
    cache_file = tmp_path / "micrographs.json"
    cache = MicrographCache(cache_file)
    assert cache.header(good) == Header((48, 64), 2.5)
    with pytest.raises(InputError, match="empty file"):
        cache.header(bad)
    fingerprints = {p: cache.fingerprint(p) for p in (good, bad)}
    assert cache.opened == 4
    cache.save()

    def no_reading(path):
        raise AssertionError(f"{path} was opened")

    monkeypatch.setattr(module, "read_header", no_reading)
    monkeypatch.setattr(module, "fingerprint", no_reading)
    again = MicrographCache(cache_file)
    assert again.header(good) == Header((48, 64), 2.5)
    with pytest.raises(InputError, match="empty file"):  # the same message, from the cache
        again.header(bad)
    assert {p: again.fingerprint(p) for p in (good, bad)} == fingerprints
    assert again.opened == 0
    monkeypatch.undo()

    write_mrc(bad, rng.normal(size=(32, 32)).astype(np.float32), 1.0)  # fixed in place: read again
    fixed = MicrographCache(cache_file)
    assert fixed.header(bad) == Header((32, 32), 1.0)
    assert fixed.fingerprint(bad) != fingerprints[bad]
    assert fixed.opened == 2


def test_headers_cached_by_an_older_version_are_read_again(tmp_path, rng):
    """Version 1 cached the pixel size of a header with no sampling as inf: such entries are not reused."""
    path = tmp_path / "m.mrc"
    write_mrc(path, rng.normal(size=(16, 24)).astype(np.float32), 1.0)
    cache_file = tmp_path / "micrographs.json"
    cache = MicrographCache(cache_file)
    cache.header(path)
    cache.save()
    data = json.loads(cache_file.read_text())
    data["version"] = 1
    data["entries"][str(path)]["header"] = [[16, 24], float("inf")]
    cache_file.write_text(json.dumps(data))
    again = MicrographCache(cache_file)
    assert again.header(path) == Header((16, 24), 1.0)
    assert again.opened == 1


def test_the_cache_keeps_only_the_micrographs_of_the_last_parse(tmp_path, rng):
    paths = [tmp_path / f"m{i}.mrc" for i in range(3)]
    for path in paths:
        write_mrc(path, rng.normal(size=(16, 16)).astype(np.float32), 1.0)
    cache_file = tmp_path / "micrographs.json"
    cached_fingerprints({p.stem: p for p in paths}, cache_file)
    cached_fingerprints({p.stem: p for p in paths[:2]}, cache_file)
    assert set(json.loads(cache_file.read_text())["entries"]) == {str(p) for p in paths[:2]}


def test_a_cache_of_another_format_is_ignored(tmp_path, rng):
    path = tmp_path / "m.mrc"
    write_mrc(path, rng.normal(size=(16, 16)).astype(np.float32), 1.0)
    cache_file = tmp_path / "micrographs.json"
    cache_file.write_text(json.dumps({str(path.resolve()): {"stat": [], "fingerprint": "old format"}}))
    assert cached_fingerprints({"m": path}, cache_file) == {"m": fingerprint(path)}
