"""HTML blocks a notebook shows for what the Python API returns: a model summary, a run's warnings.

Jupyter displays an object by its ``_repr_html_``; :class:`~dlworkflow.execution.result.ModelSummary`,
:class:`~dlworkflow.execution.result.Run` and :class:`~dlworkflow.data.inspection.Inspection`
render theirs here. The blocks are Jinja2
templates with autoescaping, as the report page: a spec name, column name or class label is
text, never markup. The table of a summary has the columns ``dlw summary`` prints.

Example:
    >>> "<strong>warning:</strong> &lt;b&gt;3&lt;/b&gt; test rows" in warnings_html(["<b>3</b> test rows"])
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dlworkflow.formatting import BRIEF_DIGITS, format_number

if TYPE_CHECKING:
    from dlworkflow.data.inspection import Inspection
    from dlworkflow.models.parameters import ParameterReport

WARNINGS_TEMPLATE = "warnings.html.j2"
"""The block of warnings above a run or a summary."""

MODEL_SUMMARY_TEMPLATE = "model_summary.html.j2"
"""The table of a model's layers and parameters."""

INSPECTION_TEMPLATE = "inspection.html.j2"
"""The tables of a data inspection: its columns and the target per part."""


def template_environment() -> Any:
    """The one Jinja2 environment of this package's templates (report, notebook blocks).

    Autoescaped (user text is never markup), lenient with missing record keys (an old record
    renders), with dlworkflow's one number rule and the filters the templates use.

    Example:
        >>> template_environment().from_string("{{ 14101 | number }} {{ '<b>' }}").render()
        '14,101 &lt;b&gt;'
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dlworkflow.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = format_number  # the one rule of dlworkflow.formatting
    environment.filters["shape"] = lambda shape: "?" if shape is None else str(tuple(shape))
    environment.filters["percent"] = lambda share: f"{100 * share:.1f}%"
    environment.globals["BRIEF_DIGITS"] = BRIEF_DIGITS
    return environment


def warnings_html(warnings: Sequence[str]) -> str:
    """The warnings of a run or summary as a highlighted HTML block; empty when there are none.

    Args:
        warnings: The notes, one per item (a note may span lines).

    Returns:
        An HTML fragment, each note escaped.

    Example:
        >>> warnings_html([])
        ''
    """
    if not warnings:
        return ""
    return template_environment().get_template(WARNINGS_TEMPLATE).render(warnings=list(warnings))


def model_summary_html(
    name: str, backend: str, parameters: ParameterReport, sizes: Mapping[str, int] | None, warning: str | None
) -> str:
    """A model summary as an HTML table: layer, type, output shape, parameters and their formula.

    Args:
        name: The spec's name.
        backend: The Keras backend the model was built with.
        parameters: The per-layer report.
        sizes: Rows per split, or None when the data was not loaded.
        warning: Notes, one per line, or None.

    Returns:
        An HTML fragment (``ModelSummary._repr_html_`` shows it in Jupyter).

    Example:
        >>> html = model_summary_html("weather", "jax", summary.parameters, summary.sizes, None)  # doctest: +SKIP
        >>> "<table>" in html  # doctest: +SKIP
        True
    """
    table = template_environment().get_template(MODEL_SUMMARY_TEMPLATE).render(
        name=name, backend=backend, parameters=parameters, sizes=sizes,
    )
    return warnings_html(warning.splitlines() if warning else []) + table


def inspection_html(inspection: Inspection) -> str:
    """A data inspection as HTML: its warnings, a table of columns and the target's distribution per part.

    Args:
        inspection: What :func:`dlworkflow.inspect` returns.

    Returns:
        An HTML fragment (``Inspection._repr_html_`` shows it in Jupyter), every name and value escaped.

    Example:
        >>> from dlworkflow.data.inspection import Inspection
        >>> "<strong>&lt;b&gt;</strong>" in inspection_html(Inspection("<b>", "dataframe", "table", 0, "y", None))
        True
    """
    table = template_environment().get_template(INSPECTION_TEMPLATE).render(inspection=inspection)
    return warnings_html(inspection.warnings) + table
