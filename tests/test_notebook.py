"""examples/lesson.ipynb, the weather lesson through the Python API, executed in a fresh kernel as a researcher would.

Checks what the notebook shows, not only that it runs: the training curves as an image (no ``%matplotlib
inline``), the summary and the results table as HTML tables, the persistence baseline's 3.877, the warnings
under their cells and in the run's HTML, a progress bar without ipywidgets. The notebook runs in a temporary
folder with its own registry, so nothing is written into the repository.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "lesson.ipynb"

executing = pytest.mark.slow  # the notebook trains two networks for 200 epochs each (about a minute)


def outputs_of(notebook, source_start: str) -> list[dict]:
    """The outputs of the one code cell whose source starts with ``source_start``."""
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith(source_start)]
    return cell.outputs


def mime(outputs: list[dict], kind: str) -> str:
    """Every output's data of one MIME type, joined (PNG data stays base64 text)."""
    return "\n".join(output["data"][kind] for output in outputs if kind in output.get("data", {}))


def stderr(outputs: list[dict]) -> str:
    return "".join(output["text"] for output in outputs if output.get("name") == "stderr")


def test_the_stored_notebook_has_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    folder = tmp_path_factory.mktemp("lesson")
    for name in ("lesson.ipynb", "weather.toml", "weather_small.toml"):
        shutil.copy(EXAMPLES / name, folder / name)
    registry = folder / "registry.db"
    notebook = nbformat.read(folder / "lesson.ipynb", as_version=4)
    with pytest.MonkeyPatch.context() as monkeypatch:  # the kernel inherits the environment
        monkeypatch.setenv("DLW_REGISTRY", f"sqlite:///{registry}")
        monkeypatch.delenv("MPLBACKEND", raising=False)
        nbclient.NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
    assert registry.is_file() and not (folder / ".dlw" / "registry.db").exists()
    return notebook


@executing
def test_the_training_curves_show_as_an_image(executed):
    assert mime(outputs_of(executed, "weather.plot()"), "image/png")


@executing
def test_the_summary_is_a_table_with_its_warnings_above_it(executed):
    outputs = outputs_of(executed, 'dlw.summary("weather.toml")')
    html = mime(outputs, "text/html")
    assert "<table>" in html and "14,101" in html and "89·100 + 100 = 9,000" in html
    assert "dlworkflow-warnings" in html and "trainable parameters for 767 training rows" in html
    assert "WorkflowWarning: The model has 14,101 trainable parameters" in stderr(outputs)


@executing
def test_a_runs_warnings_show_under_its_cell_and_in_its_html(executed):
    outputs = outputs_of(executed, 'weather = dlw.run("weather.toml"')
    html = mime(outputs, "text/html")
    assert "dlworkflow-run" in html and "persistence" in html
    assert ("WorkflowWarning" in stderr(outputs)) == ("dlworkflow-warnings" in html)


@executing
def test_every_baseline_is_shown_with_the_persistence_score(executed):
    table = mime(outputs_of(executed, "import pandas as pd"), "text/plain")
    assert "persistence" in table and "3.877" in table and "linear_regression" in table


@executing
def test_the_progress_bar_is_a_line_in_the_cell_and_needs_no_ipywidgets(executed):
    progress = mime(outputs_of(executed, 'weather = dlw.run("weather.toml"'), "text/plain")
    assert "weather  ━━━━━━━━━━━━━━━━━━━━  epoch 200/200" in progress
    shown = [cell.outputs for cell in executed.cells if cell.cell_type == "code"]
    assert "ipywidgets" not in json.dumps(shown)  # rich's live display warned 'install "ipywidgets"'



@executing
def test_the_results_table_is_an_html_table_of_both_runs(executed):
    html = mime(outputs_of(executed, "dlw.runs()"), "text/html")
    assert "<table" in html and "weather_small" in html and "weather_3_years_v1" in html
