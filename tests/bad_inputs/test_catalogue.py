"""The catalogue of bad inputs: every case in ``cases/`` through the ``dlw`` command line.

Each case is a folder ``cases/<NN_name>/`` holding the input (``spec.toml`` and, when needed,
a small data file, an image folder or a bundle) and ``expected.toml`` (the layout is
described in :mod:`catalogue`). Each case runs in a copy of its folder with a fresh registry
and data home, through typer's ``CliRunner``, and is checked for:

1. the exit code (2 spec, 3 data, 4 training, 5 registry; 0 for a warning);
2. the message fragments (where, what, fix), whitespace-normalised;
3. nothing half-written: no ``.staging-*`` folder anywhere; a failing case records no
   ``finished`` run (beyond its setup's), and a failed training is recorded ``failed`` with
   its error;
4. no traceback: a Python exception escaping the command fails the case.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from catalogue import CASES_DIR, Case, load_cases, run_case

CASES = load_cases(CASES_DIR)


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 100
    assert len({case.name for case in CASES}) == len(CASES)
    exit_codes = {case.exit_code for case in CASES}
    assert {0, 2, 3, 4, 5} <= exit_codes


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case.name, marks=case.marks) for case in CASES],
)
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    work = tmp_path / "case"
    shutil.copytree(case.folder, work, ignore=shutil.ignore_patterns("expected.toml"))
    monkeypatch.chdir(work)
    outcome = run_case(case, work, tmp_path)

    assert outcome.traceback is None, f"{case.name}: the command raised, not a clean failure:\n{outcome.traceback}"
    assert outcome.exit_code == case.exit_code, (
        f"{case.name}: exit code {outcome.exit_code}, expected {case.exit_code}\n{outcome.output}"
    )
    text = " ".join(outcome.output.split())
    missing = [fragment for fragment in case.fragments if " ".join(fragment.split()) not in text]
    assert not missing, f"{case.name}: message lacks {missing!r}\n{outcome.output}"
    if case.warning:
        assert "warning:" in text, f"{case.name}: no warning printed\n{outcome.output}"

    staging = sorted(str(path) for path in tmp_path.rglob(".staging-*"))
    assert not staging, f"{case.name}: half-written folders left: {staging}"
    new_runs = [run for run in outcome.runs if run["id"] not in outcome.setup_runs]
    if case.exit_code != 0:
        finished = [run["id"] for run in new_runs if run["status"] == "finished"]
        assert not finished, f"{case.name}: a failing command recorded finished runs {finished}"
    if case.recorded is not None:
        statuses = [run["status"] for run in new_runs]
        assert statuses == [case.recorded], f"{case.name}: recorded {statuses}, expected [{case.recorded!r}]"
        error = new_runs[0]["error"] or ""
        absent = [fragment for fragment in case.recorded_error if fragment not in error]
        assert not absent, f"{case.name}: the recorded error lacks {absent!r}: {error!r}"
        assert not outcome.run_folders - outcome.setup_folders, f"{case.name}: a failed run left a run folder"
    elif case.exit_code != 0:
        assert not new_runs, f"{case.name}: a spec, data or registry problem recorded runs {new_runs}"

    for check in case.files:
        path = work / check["path"]
        assert path.is_file(), f"{case.name}: {check['path']} was not written"
        content = path.read_text(encoding="utf-8")
        for fragment in check.get("contains", []):
            assert fragment in content, f"{case.name}: {check['path']} lacks {fragment!r}"
        for fragment in check.get("absent", []):
            assert fragment not in content, f"{case.name}: {check['path']} holds {fragment!r}"
