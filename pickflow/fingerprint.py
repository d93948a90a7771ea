"""Content fingerprints of the input micrographs, cheap enough to take for every micrograph at every parse.

A fingerprint is a SHA-256 of the file size, its first 64 KiB (the header and the first rows) and 16 blocks
of 4 KiB spread evenly over the rest. It is cached by (path, size, mtime, ctime, inode): a file that any
write, copy or ``touch`` reaches is sampled again, an untouched one is not read at all. The preprocessing
rule carries it in its params, so replacing a micrograph's content reruns its preprocessing whatever the
file times say, and touching it without a change reruns nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .atomic import write_json

HEAD_BYTES = 65536
BLOCKS = 16
BLOCK_BYTES = 4096


def fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the size, the first 64 KiB and 16 evenly spread 4 KiB blocks of ``path``."""
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(HEAD_BYTES))
        if size > HEAD_BYTES:
            span = size - HEAD_BYTES - BLOCK_BYTES
            for i in range(BLOCKS):
                handle.seek(HEAD_BYTES + max(0, span) * i // (BLOCKS - 1))
                digest.update(handle.read(BLOCK_BYTES))
    return digest.hexdigest()


def _stat_key(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def cached_fingerprints(paths: dict[str, Path], cache_file: Path) -> dict[str, str]:
    """Key -> fingerprint for ``paths``, reusing ``cache_file`` entries whose stat is unchanged."""
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    updated, result = {}, {}
    for key, path in paths.items():
        name = str(Path(path).resolve())
        stat = _stat_key(Path(path))
        entry = cache.get(name)
        if entry is None or entry["stat"] != stat:
            entry = {"stat": stat, "fingerprint": fingerprint(path)}
        updated[name] = entry
        result[key] = entry["fingerprint"]
    if updated != cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        write_json(cache_file, updated)
    return result
