"""Provenance: the git state of the working directory and the package versions."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from dlworkflow.provenance import git_state, package_versions, spec_git_state

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repository: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "project"
    folder.mkdir()
    git(folder, "init", "--quiet")
    (folder / "train.py").write_text("print('hello')\n")
    git(folder, "add", "train.py")
    git(folder, "commit", "--quiet", "-m", "first")
    return folder


@needs_git
def test_clean_repository(repository: Path) -> None:
    state = git_state(repository)
    assert state == {"commit": git(repository, "rev-parse", "HEAD"), "dirty": False}
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"])  # type: ignore[arg-type]


@needs_git
def test_modified_tracked_file_makes_it_dirty(repository: Path) -> None:
    (repository / "train.py").write_text("print('changed')\n")
    assert git_state(repository)["dirty"] is True


@needs_git
def test_staged_change_makes_it_dirty(repository: Path) -> None:
    (repository / "model.py").write_text("x = 1\n")
    git(repository, "add", "model.py")
    assert git_state(repository)["dirty"] is True


@needs_git
def test_untracked_files_such_as_the_registry_do_not_make_it_dirty(repository: Path) -> None:
    (repository / ".dlw").mkdir()
    (repository / ".dlw" / "registry.db").write_bytes(b"")
    assert git_state(repository)["dirty"] is False


@needs_git
def test_subfolder_and_current_directory(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repository / "notebooks").mkdir()
    monkeypatch.chdir(repository / "notebooks")
    assert git_state()["commit"] == git(repository, "rev-parse", "HEAD")


@needs_git
def test_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    git(tmp_path, "init", "--quiet")
    assert git_state(tmp_path) == {"commit": None, "dirty": False}


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "plain").mkdir()
    assert git_state(tmp_path / "plain") == {"commit": None, "dirty": None}


def test_missing_folder(tmp_path: Path) -> None:
    assert git_state(tmp_path / "does-not-exist") == {"commit": None, "dirty": None}


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert git_state(tmp_path) == {"commit": None, "dirty": None}


@needs_git
def test_the_spec_files_repository_not_the_current_folders(repository: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (repository / "examples").mkdir()
    spec = repository / "examples" / "weather.toml"
    spec.write_text("name = 'weather'\n")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet")
    (other / "notes.txt").write_text("a\n")
    git(other, "add", "notes.txt")
    git(other, "commit", "--quiet", "-m", "other")
    monkeypatch.chdir(other)  # `cd other && dlw run project/examples/weather.toml`
    assert spec_git_state(spec) == {"commit": git(repository, "rev-parse", "HEAD"), "dirty": False}
    (repository / "train.py").write_text("print('changed')\n")
    assert spec_git_state(str(spec))["dirty"] is True
    monkeypatch.chdir(repository)
    assert spec_git_state("examples/weather.toml")["commit"] == git(repository, "rev-parse", "HEAD")
    # a spec built in Python has no file: the current folder's repository
    monkeypatch.chdir(other)
    assert spec_git_state("<spec>")["commit"] == git(other, "rev-parse", "HEAD")
    assert spec_git_state(None)["commit"] == git(other, "rev-parse", "HEAD")


def test_package_versions() -> None:
    versions = package_versions()
    assert versions["python"] == platform.python_version()
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["scikit-learn"] == metadata.version("scikit-learn")
    assert "dlworkflow" in versions
    assert set(versions) <= {
        "python", "dlworkflow", "keras", "tensorflow", "jax", "jaxlib", "numpy", "pandas", "scikit-learn",
    }
    assert all(isinstance(value, str) and value for value in versions.values())


def test_package_versions_reports_a_cpu_only_tensorflow() -> None:
    installed = {}
    for distribution in ("tensorflow", "tensorflow-cpu"):
        try:
            installed[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    if not installed:
        pytest.skip("no tensorflow distribution installed")
    assert package_versions()["tensorflow"] == next(iter(installed.values()))
