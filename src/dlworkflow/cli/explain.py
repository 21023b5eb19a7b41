"""``dlw explain RUN``: what a run's model relies on (columns by permutation importance, image regions by occlusion).

Example:
    $ dlw explain RUN --rows 500
    $ dlw explain RUN --part test --json
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from dlworkflow.cli.application import JSON_OPTION, REGISTRY_OPTION, app, err, out
from dlworkflow.reporting.run_text import styled

if TYPE_CHECKING:
    from dlworkflow.evaluation.word_importance import WordImportances
    from dlworkflow.execution.explanation import Explanation

SHOWN_COLUMNS = 15
"""Columns listed in the terminal (all are in the run folder's explanation.json and plot)."""

SHOWN_WORDS = 5
"""Words listed per row in the terminal (every word is in explanation.json)."""


@app.command()
def explain(
    run_id: str = typer.Argument(..., metavar="RUN", help="Run id or a unique prefix of it."),
    rows: int | None = typer.Option(None, "--rows", help="Use at most this many rows of the part [default: all]."),
    part: str = typer.Option("validation", "--part", help="validation, or test (counts a look at the test set)."),
    repeats: int = typer.Option(5, "--repeats", help="Shuffles per column; their spread is shown."),
    registry: str | None = REGISTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Explain a run's model: a table's columns by permutation importance, images' saliency maps; into its folder."""
    import warnings

    from dlworkflow import api
    from dlworkflow.workflow_warning import WorkflowWarning

    with warnings.catch_warnings(record=True) as caught:  # a look at the test set, said on stderr
        warnings.simplefilter("always", WorkflowWarning)
        explained = api.explain(run_id, rows=rows, part=part, repeats=repeats, registry=registry)
    for note in caught:
        err.print(styled(("note:", "yellow"), f" {note.message}"), soft_wrap=True)
    if as_json:
        print(json.dumps({"run_id": explained.run_id, **explained.to_dict(),
                          "files": [str(path) for path in explained.files]}, indent=2))
        return
    if explained.importance is not None:
        _print_importance(explained)
    if explained.saliency is not None:
        _print_saliency(explained)
    for column in explained.words:
        _print_words(column)
    out.print(f"Written: {', '.join(str(path) for path in explained.files)}", soft_wrap=True)


def _print_importance(explained: Explanation) -> None:
    importance = explained.importance
    assert importance is not None
    out.print(f"Permutation importance of run {explained.run_id} on {importance.rows} {importance.part} rows "
              f"({importance.metric} {importance.score:.4g} as they are; {importance.metric} worse with the column "
              f"shuffled, mean ± sd of {importance.repeats}):", soft_wrap=True)
    width = max(len(column.column) for column in importance.columns[:SHOWN_COLUMNS])
    for column in importance.columns[:SHOWN_COLUMNS]:
        out.print(f"  {column.column:<{width}}  {column.importance:+.4g} ± {column.spread:.2g}", soft_wrap=True)
    if len(importance.columns) > SHOWN_COLUMNS:
        out.print(f"  … {len(importance.columns) - SHOWN_COLUMNS} more in the files below", soft_wrap=True)


def _print_saliency(explained: Explanation) -> None:
    maps = explained.saliency
    assert maps is not None
    right = sum(item.true == item.predicted for item in maps.maps)
    out.print(f"Occlusion saliency maps of run {explained.run_id} on {len(maps.maps)} {maps.part} images "
              f"({maps.grid[0]}×{maps.grid[1]} cells; {right} of them predicted right): the fall of the predicted "
              "class's probability with each cell covered by the image's mean colour.", soft_wrap=True)
    for item in maps.maps:
        cells = item.array
        top, left = divmod(int(cells.argmax()), cells.shape[1])
        out.print(f"  image {item.row}: true {item.true}, predicted {item.predicted} ({item.probability:.2f}); "
                  f"most salient cell row {top}, column {left} ({cells.max():+.3f})", soft_wrap=True)


def _print_words(column: WordImportances) -> None:
    out.print(f"Word importances of text column {column.column!r} on {len(column.rows)} {column.part} rows (the fall "
              "of the predicted class's probability, or value, with the word left out):", soft_wrap=True)
    for row in column.rows:
        top = ", ".join(f"{word.word} {word.importance:+.3f}" for word in row.top(SHOWN_WORDS)) or "(no words)"
        out.print(f"  row {row.row}: true {row.true}, predicted {row.predicted}: {top}", soft_wrap=True)
