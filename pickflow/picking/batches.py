"""Scoring batches that stay put as micrographs arrive.

Micrographs are placed by a 64-bit hash of their names. The hash range is halved, from the top bit down, until
every part holds at most ``size`` micrographs; each part is one scoring batch, named by its bit prefix. The batches
depend only on the set of names, so adding a micrograph changes the one batch it falls into (which splits in two
when it overflows): adding k micrographs scores at most about k x ``size`` micrographs again, whatever the size of
the project, and a project of N micrographs has about 1.4 N / ``size`` batches.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable

HASH_BITS = 64
MERGE_SIZE = 64  # scoring batches per merge group (merge_groups)


def name_hash(key: str) -> int:
    """A stable 64-bit hash of a micrograph name (the same on every machine and Python version)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=HASH_BITS // 8).digest(), "big")


def score_batches(keys: Iterable[str], size: int) -> dict[str, list[str]]:
    """Batch name ('h' + bit prefix) -> the sorted micrograph names in it; every batch holds 1 to ``size`` names."""
    items = sorted((name_hash(key), key) for key in keys)
    hashes = [h for h, _ in items]
    batches: dict[str, list[str]] = {}
    todo = [("", 0, len(items), 0)]  # bit prefix, index range in ``items``, first hash of the prefix's range
    while todo:
        prefix, lo, hi, start = todo.pop()
        if hi - lo <= size or len(prefix) == HASH_BITS:
            if hi > lo:
                batches["h" + prefix] = sorted(key for _, key in items[lo:hi])
            continue
        middle = start + (1 << (HASH_BITS - len(prefix) - 1))
        cut = bisect_left(hashes, middle, lo, hi)
        todo += [(prefix + "1", cut, hi, middle), (prefix + "0", lo, cut, start)]
    return dict(sorted(batches.items()))


def merge_groups(batches: Iterable[str], size: int) -> dict[str, list[str]]:
    """Merge group name ('g' + bit prefix) -> the scoring batches under that prefix; at most ``size`` batches a
    group. Groups split along the batches' own bit prefixes, so a group changes only when a batch under it does,
    and no job that reads every batch's results lists more than about 1.4 x batches / ``size`` files."""
    names = sorted(batches)
    if any(not name.startswith("h") for name in names):
        raise ValueError(f"merge_groups: scoring batch names start with 'h', not {names}")
    groups: dict[str, list[str]] = {}
    todo = [""]
    while todo:
        prefix = todo.pop()
        under = [name for name in names if name[1:].startswith(prefix)]
        if len(under) > size and "h" + prefix in under:
            raise ValueError(f"merge_groups: batch h{prefix} is the prefix of other batches; names must be prefix-free")
        if len(under) <= size:
            if under:
                groups["g" + prefix] = under
            continue
        todo += [prefix + "1", prefix + "0"]
    return dict(sorted(groups.items()))
