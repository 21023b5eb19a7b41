"""The HTML report: one self-contained page, user text escaped, plots embedded and rendered by a browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

import dlworkflow
from dlworkflow.registry import RunRecord
from dlworkflow.formatting import format_number
from dlworkflow.reporting.html_report import embedded_plots, metric_table, render_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def make_record(**changes) -> dict:
    record = RunRecord(
        id="20261123-120000-abcdef", name="weather", description="All 89 features", status="finished",
        test_set={"name": "weather_3_years_v1", "fingerprint": "c" * 64, "looks": 4, "look": 2},
        params={"total": 14101, "trainable": 14101, "non_trainable": 0, "layers": [
            {"name": "dense", "type": "Dense", "output_shape": "(None, 100)", "parameters": 9000,
             "formula": "89 inputs × 100 units + 100 biases = 9,000", "note": ""}]},
        metrics={"train": {"rmse": 3.24, "loss": 10.5}, "validation": {"rmse": 3.40}, "test": {"rmse": 3.18}},
        baselines={"persistence": {"train": {"rmse": 4.40}, "validation": {"rmse": 4.25}, "test": {"rmse": 3.877}}},
        primary={"metric": "rmse", "value": 3.18, "baseline": "persistence", "baseline_value": 3.877, "skill": 0.18},
        git={"commit": "a" * 40, "dirty": True},
        comments=[{"text": "seed 0 <b>bold?</b>", "created_at": "2026-11-23T12:00:00+00:00"}],
        diagnosis=[{"kind": "overfitting", "summary": "Overfitting: validation loss rose.",
                    "evidence": "validation loss was lowest at epoch 19 (10.44)", "remedies": ["fewer parameters"]}],
    ).to_dict()
    record.update(changes)
    return record


def test_user_written_text_is_shown_as_text_never_as_markup():
    page = render_report(make_record(name="<i>net</i>", description="<script>alert('x')</script>"), None)
    assert "<script" not in page and "<i>net" not in page and "<b>bold?" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "seed 0 &lt;b&gt;bold?&lt;/b&gt;" in page


def test_the_page_holds_headline_diagnosis_metrics_parameters_looks_and_commit():
    page = render_report(make_record(), None)
    text = re.sub(r"<[^>]+>", " ", page)
    assert re.search(r"Test rmse\s+3\.18\s+against\s+3\.877\s+for the\s+persistence", text)
    assert "this was look 2 of 4" in text
    assert "validation loss was lowest at epoch 19 (10.44)" in text
    assert "89 inputs × 100 units + 100 biases = 9,000" in text
    assert "a" * 40 in text and "uncommitted changes" in text


def test_metric_table_puts_the_model_first_and_leaves_keras_loss_out():
    columns, rows = metric_table(make_record())
    assert columns == [("train", "rmse"), ("validation", "rmse"), ("test", "rmse")]
    assert [(row["kind"], row["cells"]) for row in rows] == [
        ("model", [3.24, 3.40, 3.18]), ("baseline", [4.40, 4.25, 3.877])
    ]


def test_plots_of_the_run_folder_are_embedded_known_ones_first(tmp_path):
    for name in ("zeta.png", "confusion_matrix.png", "history.png"):
        Image.new("RGB", (8, 6), "white").save(tmp_path / name)
    plots = embedded_plots(tmp_path)
    assert [plot["name"] for plot in plots] == ["history.png", "confusion_matrix.png", "zeta.png"]
    assert base64.b64decode(plots[0]["data"]) == (tmp_path / "history.png").read_bytes()
    assert plots[2]["caption"] == "zeta"


def test_the_page_prints_numbers_by_the_one_rule():
    primary = {"metric": "rmse", "value": 12345.6, "baseline": "mean", "baseline_value": 23456.7, "skill": 0.47368}
    record = {"name": "big", "status": "finished", "primary": primary}
    page = render_report(record, None)
    assert "<strong>12,346</strong>" in page and "<strong>23,457</strong>" in page and ">0.474<" in page
    assert "e+04" not in page


@pytest.mark.browser
def test_the_report_renders_its_plots_in_headless_chromium(tmp_path, registry_url):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs the Debian chromium package (apt-get install chromium)")
    result = dlworkflow.run(EXAMPLES / "penguins.toml", registry=registry_url, quiet=True, train__epochs=2)
    page = dlworkflow.api.report(result.id, output=tmp_path / "report.html", registry=registry_url)
    # A copy of the page that, once loaded, writes each image's decoded width into its title.
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace(
        "</body>",
        "<script>window.addEventListener('load', () => { document.title = 'widths:' + "
        "[...document.images].map(i => i.naturalWidth).join(','); });</script></body>",
    ))
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    widths = re.search(r"<title>widths:([\d,]*)</title>", dom)
    assert widths is not None, dom[:500]
    decoded = [int(width) for width in widths.group(1).split(",") if width]
    plots = [name for name in result.record["artifacts"]["files"] if name.endswith(".png")]
    assert len(decoded) == len(plots) >= 1
    assert all(width > 100 for width in decoded)  # every embedded PNG decoded to a real picture


def test_a_run_shows_itself_in_a_notebook_plots_and_writes_its_report(registry_url, tmp_path):
    result = dlworkflow.run(EXAMPLES / "weather_small.toml", registry=registry_url, quiet=True, train__epochs=3,
                            description="<b>tiny</b>")
    block = result._repr_html_()
    assert result.id in block and "&lt;b&gt;tiny" not in block  # the description is not in the block
    assert f"Test rmse <strong>{format_number(result.primary['value'])}</strong>" in block
    assert block.count("data:image/png;base64,") == 1  # the training curves
    figure = result.plot()
    assert [axes.get_title() for axes in figure.axes] == ["loss", "root_mean_squared_error"]
    page = result.report(tmp_path / "page.html")
    assert "&lt;b&gt;tiny&lt;/b&gt;" in page.read_text()
