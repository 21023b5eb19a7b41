"""Drawing a study's plots leaves a notebook kernel's inline matplotlib backend as it was."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import pathlib, sys
import matplotlib, optuna
matplotlib.use("module://matplotlib_inline.backend_inline")  # what ipykernel sets
from dlworkflow.tuning.tuner import _save_optuna_plot
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.create_study()
study.optimize(lambda trial: trial.suggest_float("x", 0, 1) ** 2, n_trials=3)
assert _save_optuna_plot(study, "plot_optimization_history", pathlib.Path(sys.argv[1])) is None
print(matplotlib.get_backend())
"""


def test_a_kernels_inline_backend_is_kept_so_the_users_own_plots_still_show(tmp_path):
    pytest.importorskip("matplotlib_inline")
    target = tmp_path / "history.png"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(target)], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "module://matplotlib_inline.backend_inline"
    assert target.read_bytes()[:4] == b"\x89PNG"
