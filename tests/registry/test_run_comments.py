"""Comments on runs can be corrected and deleted, by number, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlworkflow.errors import RegistryError
from dlworkflow.registry import Registry, RunRecord

RUN = "20250101-120000-aaaa"


@pytest.fixture
def registry(any_registry_url: str, tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(any_registry_url, home=tmp_path / "dlw") as opened:
        opened.record(
            RunRecord(id=RUN, name="dense", status="finished", created_at="2025-01-01T12:00:00+00:00",
                      test_set={"name": None, "fingerprint": "a" * 64}, backend="jax",
                      primary={"metric": "rmse", "value": 1.0}, metrics={"test": {"rmse": 1.0}}),
            looked_at_test=True, test_set_name="weather",
        )
        for text in ("first [/scratch/data]", "second", "third"):
            opened.add_comment(RUN, text)
        yield opened


def texts(registry: Registry) -> list[str]:
    return [comment.text for comment in registry.get(RUN).comments]


def test_a_comment_is_edited_by_its_number_and_keeps_its_date(registry: Registry) -> None:
    dates = [comment.created_at for comment in registry.get(RUN).comments]
    assert registry.edit_comment("20250101", 2, "  second, corrected  ") == RUN
    assert texts(registry) == ["first [/scratch/data]", "second, corrected", "third"]
    assert [comment.created_at for comment in registry.get(RUN).comments] == dates


def test_a_deleted_comment_leaves_the_others_in_order(registry: Registry) -> None:
    registry.delete_comment(RUN, 1)
    assert texts(registry) == ["second", "third"]
    registry.delete_comment(RUN, 2)
    assert texts(registry) == ["second"]
    assert registry.list_runs()[0].comments == "second"


@pytest.mark.parametrize("number", [0, 4, -1])
def test_a_comment_number_the_run_does_not_have_is_refused(registry: Registry, number: int) -> None:
    with pytest.raises(RegistryError, match=f"no comment {number}: it has 3 comment\\(s\\)") as raised:
        registry.delete_comment(RUN, number)
    assert f"dlw show {RUN}" in str(raised.value)
    assert texts(registry) == ["first [/scratch/data]", "second", "third"]


def test_an_edit_to_blank_text_is_refused_and_changes_nothing(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="comment: must be non-empty text"):
        registry.edit_comment(RUN, 1, "  ")
    assert texts(registry)[0] == "first [/scratch/data]"
