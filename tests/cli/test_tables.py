"""Every table dlw prints keeps every column at any width, splits no word, and folds rows when narrow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from dlworkflow.cli import app
from dlworkflow.folding_table import FoldingTable
from dlworkflow.plain_text import PlainConsole
from dlworkflow.registry import Registry, RunRecord

COMMENT = "lower learning rate helped a lot; try dropout next [time]"
DESCRIPTION = "Two dense layers with batch normalisation between them"
WIDTHS = (60, 80, 120, 200)


def rendered(table: Table, width: int) -> str:
    console = PlainConsole(width=width, force_terminal=False)
    with console.capture() as captured:
        console.print(FoldingTable(table))
    return captured.get()


def words_of(text: str) -> set[str]:
    return {word.strip(":") for word in text.split()}


def runs_table() -> Table:
    table = Table(title="test set weather_3_years_v1 · 11 looks", title_justify="left")
    for column in ("ID", "MODEL NAME", "DESCRIPTION", "rmse", "LOOK", "COMMIT", "COMMENTS"):
        table.add_column(column, overflow="fold", no_wrap=column in ("rmse", "LOOK", "COMMIT"))
    table.add_row("20261123-215917-474e44", "weather_batchnorm", DESCRIPTION, "2.311", "3 of 11", "abc1234+dirty",
                  COMMENT)
    return table


@pytest.mark.parametrize("width", [*WIDTHS, 30, 400])
def test_no_column_is_dropped_and_no_word_is_split(width: int) -> None:
    text = rendered(runs_table(), width)
    shown = words_of(text)
    for value in ("ID", "MODEL", "NAME", "DESCRIPTION", "rmse", "LOOK", "COMMIT", "COMMENTS", "2.311",
                  "20261123-215917-474e44", "weather_batchnorm", "abc1234+dirty", *DESCRIPTION.split(),
                  *COMMENT.split()):
        assert value in shown, (value, text)
    assert "3 of 11" in text  # a no_wrap column keeps its line whole
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width


def test_a_wide_terminal_shows_a_table_and_a_narrow_one_folds_each_row() -> None:
    assert "DESCRIPTION " in rendered(runs_table(), 200).splitlines()[2]  # a header line of the table
    folded = rendered(runs_table(), 60)
    assert "COMMIT: abc1234+dirty" in folded and "LOOK: 3 of 11" in folded
    assert folded.index("ID: ") < folded.index("COMMENTS: ")


def test_folded_cells_stay_plain_text() -> None:
    table = Table("NAME", "NOTE")
    table.add_row("[red]x[/]", "clear\x1b[2J")
    folded = rendered(table, 25)
    assert "NAME: [red]x[/]" in folded and "\\x1b[2J" in folded and "\x1b" not in folded


def test_header_words_are_never_broken_where_rich_alone_would() -> None:
    table = Table("ID", "DESCRIPTION", "COMMENTS")
    table.add_row("20261123-215917-474e44", "a b c", "d e")
    for width in range(20, 60):
        assert {"DESCRIPTION", "COMMENTS"} <= words_of(rendered(table, width)), width


def fill(url: str, home: Path) -> str:
    with Registry.open(url, home=home) as registry:
        for number, value in enumerate((3.0, 2.0, 2.5), start=1):
            record = RunRecord(
                id=f"20250101-12000{number}-abcdef", name=f"model_{number}", description=DESCRIPTION,
                status="finished", created_at="2025-01-01T12:00:00+00:00",
                test_set={"name": None, "fingerprint": "a" * 64},
                primary={"metric": "rmse", "value": value, "baseline": "persistence", "baseline_value": 3.877},
                metrics={"train": {}, "validation": {}, "test": {"rmse": value}},
                git={"commit": "1234567" + "c" * 33, "dirty": False}, backend="jax",
            )
            registry.record(record, looked_at_test=True, test_set_name="weather_3_years_v1")
        registry.add_comment("20250101-120001-abcdef", COMMENT)
    return url


@pytest.mark.parametrize("width", WIDTHS)
def test_dlw_runs_keeps_the_comment_commit_and_each_runs_own_look(width: int, registry_url: str,
                                                                 tmp_path: Path) -> None:
    fill(registry_url, tmp_path / "dlw")
    environment = {**os.environ, "COLUMNS": str(width)}
    result = subprocess.run([sys.executable, "-m", "dlworkflow.cli", "runs", "--registry", registry_url],
                            capture_output=True, text=True, env=environment, check=True)
    shown = words_of(result.stdout)
    assert set(COMMENT.split()) <= shown and "1234567" in shown, result.stdout
    assert {"TEST", "SET", "LOOK", "COMMIT", "COMMENTS", "weather_3_years_v1"} <= shown
    # each run's own look at the test set, in the order they looked, not the total on every row
    for look in ("1 of 3", "2 of 3", "3 of 3"):
        assert look in result.stdout


def test_help_shows_brackets_literally_and_each_first_sentence_whole() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=60)
    assert result.exit_code == 0
    commands = result.output.split("Commands:")[1]
    assert "[tune]" in commands and "[train]" in commands and "..." not in commands


def test_dlw_runs_longer_than_the_screen_prints_plain_lines_one_per_run(registry_url: str, tmp_path: Path) -> None:
    fill(registry_url, tmp_path / "dlw")
    environment = {**os.environ, "COLUMNS": "60", "LINES": "2"}  # three runs do not fit a two-line screen
    result = subprocess.run([sys.executable, "-m", "dlworkflow.cli", "runs", "--all", "--registry", registry_url],
                            capture_output=True, text=True, env=environment, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == "test set weather_3_years_v1 · 3 looks"
    assert lines[1].split()[:2] == ["ID", "MODEL"]
    runs = [line for line in lines if line.startswith("20250101-")]
    assert [line.split()[0] for line in runs] == [f"20250101-12000{number}-abcdef" for number in (2, 3, 1)]
    assert all(len(line) > 60 for line in runs)  # one line per run, not folded to the terminal's width
    assert COMMENT in runs[2]
