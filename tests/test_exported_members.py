"""The curated public API: exactly what ``__all__`` promises, importable without Keras."""

from __future__ import annotations

import subprocess
import sys

import dlworkflow


def test_all_lists_exactly_the_public_members():
    for name in dlworkflow.__all__:  # the names are imported on first use
        getattr(dlworkflow, name)
    public = {name for name in vars(dlworkflow) if not name.startswith("_")} - {
        "api", "cli", "errors", "spec", "data", "runner", "registry", "models", "training", "evaluation", "provenance",
        "reporting", "sharing", "tuning", "lazy_exports",
    }
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
