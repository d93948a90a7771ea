"""Every benchmark table in the READMEs is what benchmarks.tables generates from the committed JSON under
benchmarks/results/: a figure typed or edited by hand fails here (fix: `python -m benchmarks.tables`)."""

from __future__ import annotations

import pytest

from benchmarks import tables


@pytest.mark.parametrize("readme", tables.READMES, ids=lambda path: str(path.relative_to(tables.REPO)))
def test_readme_tables_are_generated_from_the_results(readme):
    text = readme.read_text()
    names = tables.tables_in(text)
    assert names, f"{readme} marks no benchmark table"
    assert set(names) <= set(tables.TABLES)
    assert tables.rewrite(text, tables.generate(names=names)) == text, (
        f"a table in {readme} differs from benchmarks/results/: run `python -m benchmarks.tables`"
    )


def test_every_generated_table_appears_in_a_readme():
    marked = {name for readme in tables.READMES for name in tables.tables_in(readme.read_text())}
    assert marked == set(tables.TABLES)


def test_a_hand_edited_figure_is_found_and_rewritten():
    table = tables.generate(names=["accuracy-short"])["accuracy-short"]
    text = f"intro\n  <!-- table accuracy-short: begin -->\n{table.replace('0.756', '0.999')}  <!-- table accuracy-short: end -->\n"
    fixed = tables.rewrite(text, {"accuracy-short": table})
    assert fixed != text and "0.999" not in fixed and "  | simulated easy |" in fixed  # keeps the list indentation
    assert tables.rewrite(fixed, {"accuracy-short": table}) == fixed


def test_a_marker_without_its_end_is_an_error():
    with pytest.raises(ValueError, match="no matching end"):
        tables.rewrite("<!-- table scale: begin -->\n| a |\n", {"scale": "| b |\n"})
