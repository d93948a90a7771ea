"""Scoring batches: bounded size, a function of the set of names only, and additions that touch few batches."""

from __future__ import annotations

from pickflow.picking.batches import score_batches


def _names(n: int, start: int = 0) -> list[str]:
    return [f"FoilHole_{i:06d}_Data_fractions" for i in range(start, start + n)]


def test_every_micrograph_is_in_exactly_one_batch_of_bounded_size():
    batches = score_batches(_names(5000), size=20)
    members = [name for names in batches.values() for name in names]
    assert sorted(members) == sorted(_names(5000))
    assert all(1 <= len(names) <= 20 for names in batches.values())
    assert 5000 / 20 < len(batches) < 2 * 5000 / 20  # batches are at least half full on average
    assert score_batches(reversed(_names(5000)), size=20) == batches  # the order of discovery does not matter


def test_adding_micrographs_changes_only_the_batches_they_fall_into():
    before = score_batches(_names(5000), size=20)
    after = score_batches(_names(5010), size=20)
    changed = {name for name, names in after.items() if before.get(name) != names}
    rescored = sum(len(after[name]) for name in changed)
    assert len(changed) <= 2 * 10  # each new micrograph changes its batch, or splits it in two
    assert rescored <= 10 * 21 and rescored < 0.05 * 5010


def test_a_small_project_is_one_batch():
    assert score_batches(_names(6), size=20) == {"h": sorted(_names(6))}
    assert score_batches([], size=20) == {}
