"""How dlworkflow prints a number: one rule for the command line, the model card, the HTML report and plots.

Every number a person reads (a metric in ``dlw run``'s table, the headline of a model card, a
cell of the HTML report, the RMSE in a plot title, a parameter count) goes through
:func:`format_number`, so one value reads the same everywhere. The rule:

- ``None`` prints as ``–`` (an en dash: no value).
- A whole number (``int``, a NumPy integer) prints exactly, thousands separated: ``14,101``.
- A float prints with :data:`SIGNIFICANT_DIGITS` (4) significant digits, thousands separated:
  ``3.877``, ``0.01235``, ``1,235``; :data:`BRIEF_DIGITS` (3) where a value is read at a glance
  (skill scores, per-class accuracies, plot titles, timings).
- A float too large for its digits is rounded to a whole number rather than written with an
  exponent: ``12,346``, never ``1.235e+04``.
- A float too small for its digits keeps its exponent: ``1.234e-05``.
- ``nan`` and ``inf`` print as Python writes them; ``True``/``False`` and any other value
  print with :func:`str`.

This module imports nothing beyond the standard library, so every layer may use it.

Example:
    >>> format_number(3.877323350410224), format_number(14101), format_number(12345.6)
    ('3.877', '14,101', '12,346')
"""

from __future__ import annotations

import math
import numbers
from typing import Any

SIGNIFICANT_DIGITS = 4
"""Significant digits of a float by default (metric values, losses)."""

BRIEF_DIGITS = 3
"""Significant digits of a value read at a glance: skill scores, per-class accuracies, plot titles, timings."""

MISSING = "–"
"""The text of an absent value (``None``)."""


def format_number(value: Any, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A number as dlworkflow prints it to a person, by the rule of this module.

    Whole numbers print exactly with thousands separators; floats with ``digits``
    significant digits, thousands separated, rounded to a whole number instead of taking a
    positive exponent; ``None`` as ``–``.

    Args:
        value: An ``int``, a ``float``, a NumPy number, ``None``, or anything else (printed
            with :func:`str`).
        digits: Significant digits of a float (at least 1).

    Returns:
        The text.

    Example:
        >>> format_number(3.877323350410224), format_number(-0.011104, BRIEF_DIGITS)
        ('3.877', '-0.0111')
        >>> format_number(14101), format_number(1234.5678), format_number(12345.6), format_number(9999.7)
        ('14,101', '1,235', '12,346', '10,000')
        >>> format_number(0.0000123456), format_number(None), format_number(float("nan")), format_number(True)
        ('1.235e-05', '–', 'nan', 'True')
        >>> import numpy as np
        >>> format_number(np.float32(0.5)), format_number(np.int64(1096))
        ('0.5', '1,096')
    """
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    text = f"{number:,.{digits}g}"
    return f"{number:,.0f}" if "e+" in text else text
