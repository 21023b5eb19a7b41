"""The committed index of the bad-inputs catalogue (docs/bad_inputs.md) matches the cases."""

from __future__ import annotations

from catalogue import CASES_DIR, load_cases
from make_index import INDEX, render


def test_the_committed_index_is_up_to_date():
    expected = render(load_cases(CASES_DIR))
    assert INDEX.is_file(), f"{INDEX} is missing: run python tests/bad_inputs/make_index.py"
    assert INDEX.read_text(encoding="utf-8") == expected, (
        f"{INDEX} is out of date: run python tests/bad_inputs/make_index.py"
    )


def test_every_case_is_in_the_index():
    text = INDEX.read_text(encoding="utf-8")
    missing = [case.name for case in load_cases(CASES_DIR) if f"| `{case.name}` |" not in text]
    assert not missing
