"""The curated public API: exactly what ``__all__`` promises, importable without Keras."""

from __future__ import annotations

import subprocess
import sys
import types

import dlworkflow


def test_all_lists_exactly_the_public_members():
    for name in dlworkflow.__all__:  # the names are imported on first use
        getattr(dlworkflow, name)
    # Submodules appear as attributes once imported; they are the package's layout, not its members.
    public = {name for name, value in vars(dlworkflow).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(dlworkflow.__all__) == public
    for name in dlworkflow.__all__:
        assert getattr(dlworkflow, name).__module__.startswith("dlworkflow")


def test_import_and_help_do_not_import_keras():
    code = (
        "import sys, dlworkflow, dlworkflow.cli\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'pandas', 'sklearn', 'pydantic', 'sqlalchemy')\n"
        "         if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_inspect_is_the_api_function_and_shows_in_a_notebook():
    inspection = dlworkflow.inspect("examples/penguins.toml", overrides=["split.test=0.25"])
    assert dlworkflow.inspect.__module__ == "dlworkflow.api"  # not the standard library's inspect
    assert sum(part.rows for part in inspection.parts) == 342 and inspection.parts[1].rows == 86
    html = inspection._repr_html_()
    assert "<table>" in html and "bill_length_mm" in html and "Chinstrap" in html
