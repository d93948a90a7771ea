"""Scoring batches and their merge groups: bounded size, a function of the set of names only, and additions that
touch few batches and groups."""

from __future__ import annotations

import pytest

from pickflow.picking.batches import merge_groups, score_batches


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


def test_merge_groups_hold_every_batch_once_and_at_most_size_each():
    batches = score_batches(_names(30000), size=20)
    groups = merge_groups(batches, size=64)
    members = [batch for names in groups.values() for batch in names]
    assert sorted(members) == sorted(batches)
    assert all(1 <= len(names) <= 64 for names in groups.values())
    assert all(batch[1:].startswith(group[1:]) for group, names in groups.items() for batch in names)
    assert len(groups) < 2 * len(batches) / 64


def test_adding_micrographs_changes_only_the_merge_groups_of_changed_batches():
    before_batches, after_batches = score_batches(_names(5000), size=20), score_batches(_names(5010), size=20)
    before, after = merge_groups(before_batches, 64), merge_groups(after_batches, 64)
    changed_batches = {b for b, names in after_batches.items() if before_batches.get(b) != names}
    changed = {g for g, names in after.items() if before.get(g) != names}
    touched = {g for g, names in after.items() if changed_batches & set(names)}
    assert changed <= touched and len(touched) <= len(changed_batches)
    assert len(after) - len(changed) >= 0.5 * len(after)  # most groups stay as they were


def test_a_small_project_is_one_merge_group_and_names_must_be_prefix_free():
    assert merge_groups(score_batches(_names(100), size=20), 64) == {"g": sorted(score_batches(_names(100), 20))}
    assert merge_groups({}, 64) == {}
    with pytest.raises(ValueError, match="prefix-free"):
        merge_groups(["h0", "h01"], 1)
