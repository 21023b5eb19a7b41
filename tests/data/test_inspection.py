"""dlw inspect's data layer: column types, gaps, encodings, the target per part, and the warnings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.inspection import Inspection, inspect_data
from dlworkflow.reporting.notebook_html import inspection_html
from dlworkflow.spec import load_spec

PENGUINS_ALL = {"dataset": "penguins", "target": "species", "missing": "impute",
                "columns": {"island": "category", "sex": "category"}}


def _column(inspection: Inspection, name: str):
    return next(column for column in inspection.columns if column.name == name)


def test_penguins_categories_gaps_and_encodings(make_spec):
    inspection = inspect_data(make_spec(PENGUINS_ALL, split={"type": "stratified", "test": 0.2}))
    island, sex, mass = (_column(inspection, name) for name in ("island", "sex", "body_mass_g"))
    assert (island.type, island.inferred, island.role) == ("category", False, "feature")
    assert island.values == "Biscoe (168), Dream (124), Torgersen (52)"
    assert island.inputs == 4 and "one-hot of 3 values + other" in island.encoding
    assert (sex.missing, sex.distinct, round(sex.missing_share, 3)) == (11, 2, 0.032)
    assert "indicator" in sex.encoding and sex.inputs == 4
    assert (mass.type, mass.values, mass.missing) == ("number", "2,700 to 6,300", 2)
    assert mass.inputs == 1 + ("indicator" in mass.encoding)  # an indicator only for gaps in the training rows
    assert _column(inspection, "species").role == "target"
    assert inspection.inputs == sum(column.inputs for column in inspection.columns)
    assert inspection.problem is None
    assert any("sex 11 ('FEMALE')" in warning for warning in inspection.warnings)


def test_target_distribution_per_part_follows_the_split():
    inspection = inspect_data(load_spec("examples/penguins.toml"))
    assert inspection.class_names == ("Adelie", "Chinstrap", "Gentoo")
    assert [(part.part, part.rows, part.counts) for part in inspection.parts] == [
        ("train", 273, (121, 54, 98)), ("test", 69, (30, 14, 25))]
    assert _column(inspection, "island").role == "dropped"
    assert inspection.inputs == 4


def test_weather_regression_parts_and_no_false_leakage():
    inspection = inspect_data(load_spec("examples/weather.toml"))
    assert (inspection.task, inspection.inputs, len(inspection.columns)) == ("regression", 89, 91)
    train = inspection.parts[0]
    assert (train.part, train.rows) == ("train", 767) and 0 <= train.minimum < train.mean < train.maximum
    # The lesson's own persistence feature (today's sunshine) is not a leak; DATE and MONTH are dropped.
    assert not any("leakage" in warning for warning in inspection.warnings)
    assert [c.role for c in inspection.columns[:2]] == ["dropped", "dropped"]
    assert json.loads(json.dumps(inspection.to_dict()))["parts"][2]["part"] == "test"


def _table(rows: int = 60) -> pd.DataFrame:
    generator = np.random.default_rng(0)
    y = generator.normal(size=rows)
    return pd.DataFrame({
        "x": generator.normal(size=rows),
        "copy": y * 2 + 1e-4 * generator.normal(size=rows),  # nearly the target
        "yesterday": np.roll(y, 1),  # the target one row earlier
        "same": np.full(rows, 3.0),
        "code": [f"r{i}" for i in range(rows)],
        "y": y,
    })


def test_warns_of_leakage_candidates_constant_and_id_like_columns(make_spec):
    inspection = inspect_data(make_spec({"target": "y"}), frame=_table())
    said = "\n".join(inspection.warnings)
    assert "'copy' is almost a copy (correlation 1) of the target 'y'" in said
    assert "'yesterday' one row later equals the target 'y'" in said
    assert "'x'" not in said
    assert "'same' has one value (3) on every row" in said
    assert "'code' is unique on every row: id-like, ignored" in said
    assert _column(inspection, "code").role == "ignored" and _column(inspection, "code").inputs == 0


def test_a_category_that_names_the_class_is_a_leakage_candidate(make_spec):
    frame = pd.DataFrame({"label": ["a", "b"] * 30, "kind": ["cat", "dog"] * 30, "x": np.arange(60.0) % 7})
    inspection = inspect_data(make_spec({"target": "label"}), frame=frame)
    assert any("'kind' equals the target 'label'" in warning or "'kind' names the class" in warning
               for warning in inspection.warnings)


def test_a_problem_that_stops_the_run_is_reported_with_the_columns(make_spec):
    spec = make_spec({"dataset": "penguins", "target": "species"})  # gaps, no data.missing
    inspection = inspect_data(spec)
    assert inspection.problem is not None and "missing values" in inspection.problem
    assert inspection.parts == () and inspection.inputs is None
    assert _column(inspection, "sex").missing == 11


def test_notebook_html_escapes_user_text(make_spec):
    frame = pd.DataFrame({"<b>x</b>": np.arange(30.0), "y": np.arange(30.0) % 3})
    inspection = inspect_data(make_spec({"target": "y"}), frame=frame)
    html = inspection_html(inspection)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "<table>" in html and inspection._repr_html_() is None  # the API sets the renderer


@pytest.mark.parametrize("key", ["columns", "parts", "warnings"])
def test_to_dict_is_json(key, make_spec):
    data = inspect_data(make_spec(PENGUINS_ALL)).to_dict()
    assert isinstance(json.loads(json.dumps(data))[key], list)
