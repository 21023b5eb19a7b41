"""The base of every spec section: frozen, typed, unknown keys rejected.

Example:
    >>> class Example(Section):
    ...     size: int = 1
    >>> Example(size=2).size
    2
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
"""A share of the rows: 0 or more, below 1."""


class Section(BaseModel):
    """Base of every spec section: frozen, typed, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
