"""The one exception hierarchy of dlworkflow.

Every error a user can cause is a :class:`WorkflowError`. Each carries structured
fields that answer three questions: *where* (a file and a dotted spec path),
*what* (what was expected and what was received) and *what to do* (a hint).
The command line maps any ``WorkflowError`` to a non-zero exit code and prints
its text; library users can inspect the fields.

Example:
    >>> err = SpecError.single(
    ...     "weather.toml", "train.epochs", "must be a positive integer", got=-5,
    ...     hint="Set train.epochs to 1 or more.")
    >>> print(err)
    weather.toml: train.epochs: must be a positive integer; got -5. Set train.epochs to 1 or more.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_MISSING: Any = object()


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """Return the option closest to ``word``, or None when nothing is close.

    Args:
        word: What the user wrote.
        options: The valid spellings.

    Returns:
        The closest valid spelling, or None.

    An option one typing slip away (a letter missing, extra, wrong, or two letters swapped,
    ignoring case) wins over one that merely looks alike: ``adma`` means ``adam``, not ``adamax``.

    Example:
        >>> did_you_mean("Dnse", ["Dense", "Dropout"])
        'Dense'
        >>> did_you_mean("adma", ["adamax", "adam"])
        'adam'
    """
    options = list(options)
    slips = [option for option in options if _one_slip_apart(word.lower(), option.lower())]
    if slips:
        return max(slips, key=lambda option: difflib.SequenceMatcher(None, word.lower(), option.lower()).ratio())
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        lowered = {option.lower(): option for option in options}
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=1, cutoff=0.6)]
    return matches[0] if matches else None


def _one_slip_apart(word: str, option: str) -> bool:
    """Whether one insertion, deletion, substitution or swap of neighbours turns ``word`` into ``option``."""
    if word == option:
        return True
    if abs(len(word) - len(option)) > 1:
        return False
    if len(word) == len(option):
        differ = [index for index, (a, b) in enumerate(zip(word, option)) if a != b]
        if len(differ) == 1:
            return True
        return (len(differ) == 2 and differ[1] == differ[0] + 1
                and word[differ[0]] == option[differ[1]] and word[differ[1]] == option[differ[0]])
    short, long = sorted((word, option), key=len)
    first = next((index for index, (a, b) in enumerate(zip(short, long)) if a != b), len(short))
    return short[first:] == long[first + 1:]


def suggestion(word: str, options: Sequence[str], *, show_options: int = 12) -> str:
    """Build a hint sentence: "Did you mean 'X'?" plus the valid options.

    Args:
        word: What the user wrote.
        options: The valid spellings.
        show_options: List the options only when there are at most this many.

    Returns:
        A sentence to use as an error's hint (may be empty).

    Example:
        >>> suggestion("ordred", ["random", "stratified", "ordered"])
        "Did you mean 'ordered'? Valid options: 'random', 'stratified', 'ordered'."
    """
    parts = []
    close = did_you_mean(word, options)
    if close is not None:
        parts.append(f"Did you mean {close!r}?")
    if len(options) <= show_options:
        parts.append("Valid options: " + ", ".join(repr(o) for o in options) + ".")
    return " ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input.

    Attributes:
        where: The file (or other source such as ``--set``) the input came from.
        path: The dotted path inside it, e.g. ``model.layers[0].type`` (may be empty).
        what: What is wrong or what was expected, e.g. ``must be a positive integer``.
        got: The value received; rendered with ``!r``. Left out when not given.
        hint: One concrete fix.
    """

    where: str
    path: str
    what: str
    got: Any = _MISSING
    hint: str = ""

    def __str__(self) -> str:
        location = ": ".join(part for part in (self.where, self.path) if part)
        text = f"{location}: {self.what}" if location else self.what
        if self.got is not _MISSING:
            text += f"; got {self.got!r}"
        text += "."
        if self.hint:
            text += f" {self.hint}"
        return text


class WorkflowError(Exception):
    """Base class of every error a dlworkflow user can cause.

    Args:
        problems: One or more :class:`Problem` objects; all of them are rendered.

    Attributes:
        problems: The problems, in the order they were found.
        exit_code: The process exit code the command line uses for this error.
    """

    exit_code = 1

    def __init__(self, problems: Problem | Sequence[Problem]):
        self.problems: tuple[Problem, ...] = (problems,) if isinstance(problems, Problem) else tuple(problems)
        super().__init__(str(self))

    @classmethod
    def single(cls, where: str, path: str, what: str, *, got: Any = _MISSING, hint: str = "") -> WorkflowError:
        """Build an error holding one problem.

        Args:
            where: File or source of the input.
            path: Dotted path inside it.
            what: What is wrong / expected.
            got: The value received.
            hint: One concrete fix.

        Returns:
            The error (of the class this is called on).
        """
        return cls(Problem(where, path, what, got, hint))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


class SpecError(WorkflowError, ValueError):
    """A spec file (or a ``--set`` override) is invalid."""

    exit_code = 2


class DataError(WorkflowError, ValueError):
    """The data named by a spec cannot be used as asked."""

    exit_code = 3


class TrainingError(WorkflowError):
    """Training could not finish (for example, the loss became NaN)."""

    exit_code = 4


class RegistryError(WorkflowError):
    """The results registry cannot be reached or does not hold what was asked for."""

    exit_code = 5
