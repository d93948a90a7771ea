"""What each parse learns from the input micrographs, cheap enough to ask of every micrograph at every parse.

A micrograph's **fingerprint** is a SHA-256 of the file size, its first 64 KiB (the header and the first rows) and
16 blocks of 4 KiB spread evenly over the rest. The preprocessing rule carries it in its params, so replacing a
micrograph's content reruns its preprocessing whatever the file times say, and touching it without a change reruns
nothing. Its **header** (shape and pixel size), or why the header is unusable, is the parse's input check.

Both are cached in ``.snakemake/pickflow/micrographs.json`` by (path, size, mtime, ctime, inode): a file that any
write, copy or ``touch`` reaches is opened again, an unchanged one is not opened at all (one ``stat`` each).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import InputError
from ..io.atomic import write_text
from ..io.micrographs import Header, read_header

HEAD_BYTES = 65536
BLOCKS = 16
BLOCK_BYTES = 4096
CACHE_FILE = Path(".snakemake/pickflow/micrographs.json")
CACHE_VERSION = 2  # 2: a header with no sampling (mx = 0) has no pixel size; version 1 cached cella / 0 = inf


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


def _stat_key(path: str | os.PathLike[str]) -> list[int]:
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


class MicrographCache:
    """Fingerprints and headers of micrographs, keyed by path and stat, kept in ``cache_file``.

    Paths are cache keys as given (relative to the working directory, like the cache file itself). Only the
    entries asked for since loading are written back by :meth:`save`, so micrographs that left the project leave
    the cache too. ``opened`` counts the files read because their entry was missing or stale.
    """

    def __init__(self, cache_file: str | os.PathLike[str] = CACHE_FILE) -> None:
        self.cache_file = Path(cache_file)
        try:
            data = json.loads(self.cache_file.read_text())
            old = data["entries"] if data.get("version") == CACHE_VERSION else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            old = {}
        self._old: dict[str, dict] = old if isinstance(old, dict) else {}
        self._new: dict[str, dict] = {}
        self.opened = 0

    def _entry(self, path: str | os.PathLike[str]) -> dict | None:
        """The entry of ``path`` for its current stat (None when it cannot be stat'ed: nothing is cached)."""
        name = str(path)
        entry = self._new.get(name)
        if entry is not None:
            return entry
        try:
            stat = _stat_key(path)
        except OSError:
            return None
        entry = self._old.get(name)
        if not isinstance(entry, dict) or entry.get("stat") != stat:
            entry = {"stat": stat}
        self._new[name] = entry
        return entry

    def header(self, path: str | os.PathLike[str]) -> Header:
        """:func:`pickflow.io.micrographs.read_header` of ``path``, from the cache while the file is unchanged;
        an unusable header raises the same :class:`InputError` again without reopening the file."""
        entry = self._entry(path)
        if entry is None:
            return read_header(path)
        if "header" not in entry and "problem" not in entry:
            self.opened += 1
            try:
                header = read_header(path)
                entry["header"] = [list(header.shape), header.pixel_size]
            except InputError as exc:
                entry["problem"] = str(exc)
        if "problem" in entry:
            raise InputError(entry["problem"])
        (ny, nx), pixel_size = entry["header"]
        return Header((int(ny), int(nx)), pixel_size)

    def fingerprint(self, path: str | os.PathLike[str]) -> str:
        """:func:`fingerprint` of ``path``, from the cache while the file is unchanged."""
        entry = self._entry(path)
        if entry is None:
            return fingerprint(path)
        if "fingerprint" not in entry:
            self.opened += 1
            entry["fingerprint"] = fingerprint(path)
        return entry["fingerprint"]

    def save(self) -> None:
        """Write the entries asked for since loading, unless the file already holds exactly these."""
        if self._new != self._old:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            compact = json.dumps({"version": CACHE_VERSION, "entries": self._new}, separators=(",", ":"))
            write_text(self.cache_file, compact + "\n")
            self._old = dict(self._new)


def cached_fingerprints(paths: dict[str, Path], cache_file: Path) -> dict[str, str]:
    """Key -> fingerprint for ``paths``, reusing ``cache_file`` entries whose stat is unchanged."""
    cache = MicrographCache(cache_file)
    result = {key: cache.fingerprint(path) for key, path in paths.items()}
    cache.save()
    return result
