"""Long leaderboards as plain streamed lines (dlw runs --all over many runs)."""

from __future__ import annotations

import io

from dlworkflow.registry.run_summary import Leaderboard, RunSummary
from dlworkflow.reporting.plain_table import CHUNK_ROWS, MAX_COLUMN_WIDTH, PlainTable
from dlworkflow.reporting.run_text import leaderboard_cells, write_plain_leaderboard


class CountingStream(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def test_columns_align_numbers_right_and_a_long_cell_overflows_without_being_cut():
    stream = io.StringIO()
    long_note = "n" * (MAX_COLUMN_WIDTH + 20)
    PlainTable(["ID", "note", "rmse"], right_aligned={"rmse"}).write(
        stream, [("a", "short", "3.5"), ("bb", long_note, "12.25")])
    header, first, second = stream.getvalue().splitlines()
    assert header.index("rmse") == first.index("  3.5") + 1  # right-aligned under its header's end
    assert first.endswith("  3.5") and header.endswith("rmse")
    assert long_note in second  # nothing cut
    assert second.endswith("12.25")


def test_control_characters_in_user_text_are_escaped():
    stream = io.StringIO()
    PlainTable(["name"]).write(stream, [("evil\x1b[2J\r",)])
    assert "\x1b" not in stream.getvalue() and "\\x1b[2J\\x0d" in stream.getvalue()


def test_many_rows_are_written_in_chunks():
    stream = CountingStream()
    rows = [(str(index), "x") for index in range(CHUNK_ROWS * 2 + 5)]
    PlainTable(["ID", "x"]).write(stream, rows, title="t")
    assert len(stream.getvalue().splitlines()) == 1 + 1 + len(rows)
    assert 3 <= stream.writes <= 5  # the title, two full chunks, the rest: not one write per row


def _summary(index: int, status: str = "finished") -> RunSummary:
    fields = RunSummary.__dataclass_fields__
    values = {name: None for name in fields}
    values.update(id=f"20261207-1200{index:02d}-abcdef", name="weather", description=f"run {index}", status=status,
                  primary_metric="rmse",
                  primary_value=3.5 + index, baseline_name="persistence", baseline_value=3.877,
                  test_set_name="weather", test_set_look=index + 1, test_set_looks=9, git_commit="0123456789",
                  git_dirty=index == 1, comments="")
    return RunSummary(**{name: values[name] for name in fields})


def test_the_plain_leaderboard_holds_every_cell_of_the_rich_one():
    board = Leaderboard("weather", "fp", 9, "rmse", [_summary(0), _summary(1), _summary(2, "failed")], 3)
    stream = io.StringIO()
    write_plain_leaderboard(stream, board)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "test set weather · 9 looks"
    assert lines[1].split() == ["ID", "MODEL", "NAME", "DESCRIPTION", "rmse", "BASELINE", "SKILL", "TEST", "SET", "LOOK",
                                "COMMIT", "COMMENTS"]
    for line, row in zip(lines[2:], board.runs, strict=True):
        position = 0
        for cell in leaderboard_cells(row):
            position = line.index(cell, position)  # every cell, in column order
    assert "0123456+dirty" in lines[3] and "failed" in lines[4] and "2 of 9" in lines[3]
    assert lines[2].split()[7] == "0.09724"  # 1 - 3.5 / 3.877: the skill over the best baseline
    assert lines[4].split()[7] == "–"  # a failed run has no skill
