"""The warning category of dlworkflow, so a notebook or script sees what a run noticed.

A run, a resume and a summary collect notes the researcher should read: duplicate rows across
the splits, a test-set name reused for other data, parameters far outnumbering the training
rows, a spec that runs code of its own. The API keeps them on the result (``Run.warnings``,
``ModelSummary.warning``) and also raises each as a :class:`WorkflowWarning`, a
:class:`UserWarning`, so Python shows it under the cell or on standard error, and a script can
turn it into an error or silence it with the :mod:`warnings` filters. The command line prints
the notes itself and ignores the category.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_each(["test rows repeated in training: 3"])
    >>> [(w.category.__name__, str(w.message)) for w in caught]
    [('WorkflowWarning', 'test rows repeated in training: 3')]
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable


class WorkflowWarning(UserWarning):
    """Something a run, resume or summary noticed that the researcher should know.

    Example:
        >>> import warnings
        >>> warnings.filterwarnings("error", category=WorkflowWarning)  # doctest: +SKIP
    """


def warn_each(messages: Iterable[str | None], *, stacklevel: int = 2) -> None:
    """Raise each non-empty message as a :class:`WorkflowWarning`.

    Args:
        messages: The notes, in the order they should appear; None and empty ones are skipped.
        stacklevel: As for :func:`warnings.warn`, counted from the caller of this function:
            2 names the line that called the API function which calls this one.

    Example:
        >>> warn_each([None, ""])  # nothing to say: nothing raised
    """
    for message in messages:
        if message:
            warnings.warn(message, WorkflowWarning, stacklevel=stacklevel + 1)
