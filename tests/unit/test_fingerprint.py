"""Content fingerprints of input micrographs and their stat-keyed cache."""

from __future__ import annotations

import json
import os

import numpy as np

from pickflow.fingerprint import cached_fingerprints, fingerprint
from pickflow.micrographs import write_mrc


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
    cache = tmp_path / "cache" / "fingerprints.json"
    assert cached_fingerprints({"m": path}, cache) == {"m": fingerprint(path)}
    entries = json.loads(cache.read_text())
    entries[str(path.resolve())]["fingerprint"] = "from the cache"
    cache.write_text(json.dumps(entries))
    assert cached_fingerprints({"m": path}, cache) == {"m": "from the cache"}  # not read again
    older = path.stat().st_mtime - 3600
    os.utime(path, (older, older))  # any stat change (here mtime and ctime) samples the file again
    assert cached_fingerprints({"m": path}, cache) == {"m": fingerprint(path)}
