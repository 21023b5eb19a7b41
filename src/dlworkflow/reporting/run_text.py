"""The terminal's view of a run and of the results table: what ``dlw run``, ``show`` and ``runs`` print.

Every string goes through a :class:`~dlworkflow.plain_text.PlainConsole` the caller passes, so
user text (names, comments, class labels) is printed as written and never steers the terminal.
Tables are :class:`~dlworkflow.folding_table.FoldingTable` s: every column kept at any width.

Example:
    >>> from dlworkflow.plain_text import PlainConsole
    >>> render_run(PlainConsole(), record)  # doctest: +SKIP
    weather  run 20261207-191000-9b530d  (jax backend)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dlworkflow.evaluation.comparison import skill_score
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.folding_table import FoldingTable
from dlworkflow.formatting import BRIEF_DIGITS, format_number
from dlworkflow.plain_text import printable
from dlworkflow.reporting.plain_table import PlainTable

if TYPE_CHECKING:
    from dlworkflow.registry.record import RunRecord
    from dlworkflow.registry.record_sections import RecordedFinding
    from dlworkflow.registry.run_summary import Leaderboard, RunSummary


def baseline_comparison(record: RunRecord | Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every standard metric of a run beside the best baseline, per part, with skill scores.

    The best baseline is chosen on validation (train when there is none), never on test.

    Args:
        record: A run record (or its dict).

    Returns:
        metric → part → ``{"model", "baseline", "baseline_value", "skill", "chosen_on", ...}``.

    Example:
        >>> record = {"id": "r1", "name": "weather", "metrics": {"test": {"rmse": 3.0}},
        ...           "baselines": {"mean": {"train": {"rmse": 4.0}, "test": {"rmse": 4.5}}}}
        >>> baseline_comparison(record)["rmse"]["test"]["baseline"]
        'mean' 
    """
    from dlworkflow.evaluation import compare_to_baselines
    from dlworkflow.registry.record import RunRecord

    record = RunRecord.coerce(record)
    first = next(iter(record.baselines.values()), {})
    metrics = [name for name in first.get("train", {}) if name in record.metrics.get("test", {})]
    return {name: compare_to_baselines(record.metrics, record.baselines, name) for name in metrics}


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line of plain text with styled parts: ``styled(("error: ", "bold red"), message)``."""
    return Text.assemble(*(
        (printable(part[0], newlines=True), part[1]) if isinstance(part, tuple) else printable(part, newlines=True)
        for part in parts
    ))


def render_run(out: Console, record: RunRecord) -> None:
    split, training, primary = record.split, record.training, record.primary
    out.print(styled((record.name, "bold"), "  run ", (record.id, "cyan"), f"  ({record.backend} backend)"))
    out.print(
        f"split {split.type} (seed {split.seed}): {split.train} train / "
        f"{split.validation} validation / {split.test} test · "
        f"{format_number(record.params.total)} parameters · {training.epochs_run} epochs, "
        f"weights of epoch {training.evaluated_epoch} evaluated"
        + (" (early stop)" if training.stopped_early else "")
    )
    if split.window:
        order = ("every validation and test target comes after every training target" if split.time_ordered
                 else "targets NOT in time order")
        out.print(f"windows of {split.window} rows (stride {split.window_stride or 1}): {order}", soft_wrap=True)
    if training.distribution:
        from dlworkflow.training.distribution import distribution_line

        out.print(distribution_line(training.distribution), soft_wrap=True)
    comparison = baseline_comparison(record)
    chosen_on = next((entry["chosen_on"] for parts in comparison.values() for entry in parts.values()), "train")
    table = Table(title="model beside the baselines", title_justify="left")
    for column in ("metric", "train", "validation", "test", f"best baseline (on {chosen_on}): test", "skill"):
        table.add_column(column, justify="left" if column in ("metric",) or "baseline" in column else "right")
    metrics = record.metrics
    for metric, parts in comparison.items():
        test = parts.get("test", {})
        table.add_row(
            styled((metric, "bold")) if metric == primary.metric else metric,
            format_number((metrics.get("train") or {}).get(metric)),
            format_number((metrics.get("validation") or {}).get(metric)),
            format_number(metrics["test"].get(metric)),
            f"{test['baseline']} {format_number(test.get('baseline_value'))}" if test.get("baseline") else "–",
            format_number(test.get("skill"), BRIEF_DIGITS),
        )
    out.print(FoldingTable(table))
    render_every_baseline(out, record)
    for name, reason in record.baselines_skipped.items():
        out.print(f"baseline {name} skipped: {reason}")
    classes = record.classes
    if classes:
        accuracy = classes["per_class_accuracy"].get("test", {})
        rows = dict(zip(classes.get("names", []), (classes.get("confusion") or {}).get("test") or []))
        # with its counts from the confusion matrix (true classes in rows): "snow 0.2 (1/5)"
        counts = {str(name): f" ({row[index]}/{sum(row)})" for index, (name, row) in enumerate(rows.items())}
        shown = (f"{name} {format_number(value, BRIEF_DIGITS)}{counts.get(str(name), '')}"
                 for name, value in accuracy.items())
        out.print("test accuracy per class (its recall): " + " · ".join(shown), soft_wrap=True)
        from dlworkflow.evaluation.classes import class_balance_lines

        for line in class_balance_lines(classes, record.training.class_weight, spec=record.spec):
            out.print(line, soft_wrap=True)
    render_diagnosis(out, record.diagnosis)
    pictures = [name for name in record.artifacts.files if name.endswith(".png")]
    if pictures:
        out.print(f"plots: {', '.join(pictures)} in {record.artifacts.dir}")
    test_set = record.test_set
    # the spec's name for rows registered before under another: the same test set, named as such
    named = (record.spec.get("evaluate") or {}).get("test_set") if isinstance(record.spec, dict) else None
    same = f" (the spec's {named!r} is this test set: the same rows)" if named and named != test_set.name else ""
    out.print(styled("test set ", (test_set.name or "", "bold"),
                      f" ({(test_set.fingerprint or '')[:12]}): look #{test_set.look} of {test_set.looks}{same}"),
              soft_wrap=True)


def render_every_baseline(out: Console, record: RunRecord) -> None:
    """Each baseline the run was scored beside, on test by the primary metric: the table shows only the best."""
    metric = record.primary.metric
    shown = [f"{name} {format_number(value)}" for name, parts in record.baselines.items()
             if (value := (parts.get("test") or {}).get(metric)) is not None]
    if len(shown) > 1:
        out.print(f"every baseline on test, {metric}: " + " · ".join(shown), soft_wrap=True)


def render_diagnosis(out: Console, findings: list[RecordedFinding]) -> None:
    """Each finding: what, the evidence, and the workshop's remedies in order."""
    for finding in findings:
        out.print(styled(("diagnosis: ", "bold yellow"), (finding.summary or "", "bold")))
        out.print(f"  evidence: {finding.evidence}")
        for number, remedy in enumerate(finding.remedies, start=1):
            out.print(f"  {number}. {remedy}")


def leaderboard_title(board: Leaderboard) -> str:
    """The line above a leaderboard: its test set and how often it was looked at."""
    if board.test_set_fingerprint is None:
        return "no test set: tuning trials (scored on validation) and runs that failed before one"
    title = f"test set {board.test_set_name} · {board.test_set_looks} look{'' if board.test_set_looks == 1 else 's'}"
    return title + ("" if board.metric else " · runs without a result")


def leaderboard_columns(board: Leaderboard) -> tuple[str, ...]:
    """The leaderboard's column headers; the fourth is its metric."""
    # SKILL: the share of the possible improvement over the best baseline (evaluation.comparison.skill_score)
    # LOOK: which look at the test set each run was ("3 of 11"), not the test set's total on every row
    return ("ID", "MODEL NAME", "DESCRIPTION", board.metric or "metric", "BASELINE", "SKILL", "TEST SET", "LOOK",
            "COMMIT", "COMMENTS")


def leaderboard_cells(row: RunSummary) -> tuple[str, ...]:
    """One run's cells under :func:`leaderboard_columns`, as text."""
    commit = (row.git_commit or "–")[:7] + ("+dirty" if row.git_dirty else "")
    baseline = f"{row.baseline_name} {format_number(row.baseline_value)}" if row.baseline_name else "–"
    value = format_number(row.primary_value) if row.status == "finished" else row.status
    look = f"{row.test_set_look} of {row.test_set_looks}" if row.test_set_look else "–"
    skill = None
    if row.status == "finished" and row.primary_metric in METRIC_DIRECTIONS:
        skill = skill_score(row.primary_metric, row.primary_value, row.baseline_value)
    return (row.id, row.name, row.description, value, baseline, "–" if skill is None else format_number(skill),
            row.test_set_name or "–", look, commit, row.comments or "")


def leaderboard_table(board: Leaderboard) -> Table:
    """One test set's runs, every column kept (:class:`FoldingTable` folds the rows when narrow)."""
    columns = leaderboard_columns(board)
    table = Table(title=leaderboard_title(board), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold", justify="right" if column in (columns[3], "SKILL") else "left",
                         no_wrap=column in (columns[3], "SKILL", "LOOK", "COMMIT"))
    for row in board.runs:
        table.add_row(*leaderboard_cells(row))
    return table


def write_plain_leaderboard(stream: TextIO, board: Leaderboard) -> None:
    """One test set's runs as plain aligned lines, streamed: for more rows than a screen holds.

    Args:
        stream: Where to write (standard output).
        board: The leaderboard.

    Example:
        >>> write_plain_leaderboard(sys.stdout, board)  # doctest: +SKIP
        test set weather · 3 looks
        ID                        MODEL NAME  DESCRIPTION  rmse  BASELINE …
    """
    columns = leaderboard_columns(board)
    table = PlainTable(columns, right_aligned={columns[3], "SKILL"})
    table.write(stream, (leaderboard_cells(row) for row in board.runs), title=leaderboard_title(board))
