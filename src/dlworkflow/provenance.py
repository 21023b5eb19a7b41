"""Where a result came from: the git state of the spec's repository and the package versions.

Both functions are cheap, import nothing heavy, and never raise: a missing git, a folder
that is not a repository, or a package that is not installed gives ``None`` or a missing key.

Example:
    >>> git_state()                      # doctest: +SKIP
    {'commit': '3f2a9c...', 'dirty': False}
    >>> package_versions()["python"]     # doctest: +SKIP
    '3.11.7'
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

GIT_TIMEOUT_SECONDS = 10

# Reported name → the distributions that provide it (the first one installed wins).
PACKAGES: dict[str, tuple[str, ...]] = {
    "dlworkflow": ("dlworkflow",),
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "scikit-learn": ("scikit-learn",),
}


def _git(directory: Path, *args: str) -> str | None:
    """Run one git command in ``directory``; its stripped stdout, or None when it fails."""
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def git_state(directory: Path | None = None) -> dict[str, str | bool | None]:
    """Return the git commit and whether the working tree has uncommitted changes.

    Runs ``git rev-parse HEAD`` and ``git status --porcelain --untracked-files=no`` in
    ``directory`` (default: the current working directory, which is also what a notebook
    uses). Untracked files do not make the tree dirty: the registry's own folder
    (``.dlw/``) and other outputs are usually untracked, and the spec a run used is stored
    with the run anyway.

    Args:
        directory: A folder inside the repository; default: the current directory.

    Returns:
        ``{"commit": full sha or None, "dirty": bool or None}``; both None when the folder
        is not in a git repository or git is not installed. A repository without commits
        gives ``commit`` None and ``dirty`` from its status.

    Example:
        >>> state = git_state()
        >>> sorted(state)
        ['commit', 'dirty']
    """
    try:
        folder = Path.cwd() if directory is None else Path(directory)
    except OSError:  # the current directory was deleted
        return {"commit": None, "dirty": None}
    if not folder.is_dir():
        return {"commit": None, "dirty": None}
    commit = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD")
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit or None, "dirty": None if status is None else bool(status)}


def spec_git_state(source: str | Path | None) -> dict[str, str | bool | None]:
    """The git state of the repository that holds a spec file.

    A run records the commit and dirty flag of the spec's repository, not of the folder the
    command was started from: ``cd /elsewhere && dlw run ~/project/examples/cifar10.toml`` records
    ``~/project``'s commit. A spec that is no file (built in Python, read from a string: its
    source is a label such as ``"<spec>"``) falls back to the current directory, which is what a
    notebook in the repository uses.

    Args:
        source: The spec's file (``Spec.source``), relative to the current directory or absolute;
            or a label, or None.

    Returns:
        :func:`git_state` of the file's folder, else of the current directory.

    Example:
        >>> sorted(spec_git_state("<spec>"))
        ['commit', 'dirty']
    """
    if source is not None:
        try:
            path = Path(source).expanduser()
            if path.is_file():
                return git_state(path.absolute().parent)
        except (OSError, ValueError):  # a label that is no path, a name too long
            pass
    return git_state()


def package_versions() -> dict[str, str]:
    """Return the versions of Python and of the packages a result depends on.

    Reads installed distribution metadata (``importlib.metadata``), so nothing is imported.
    Packages that are not installed are left out; ``tensorflow`` also reports a
    ``tensorflow-cpu`` install.

    Returns:
        ``{"python": "3.11.7", "dlworkflow": ..., "keras": ..., "tensorflow": ..., "jax": ...,
        "jaxlib": ..., "numpy": ..., "pandas": ..., "scikit-learn": ...}`` (installed ones only).

    Example:
        >>> versions = package_versions()
        >>> "python" in versions
        True
    """
    versions = {"python": platform.python_version()}
    for name, distributions in PACKAGES.items():
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
            break
        else:
            if name == "dlworkflow":
                from dlworkflow import __version__

                versions[name] = __version__
    return versions
