"""A problem seen in a run's curves or scores, with its evidence and what to try (:class:`Finding`).

:func:`~dlworkflow.evaluation.diagnosis.diagnose` returns a list of them; the run record
keeps them as plain data (:meth:`Finding.to_dict`).

Example:
    >>> Finding("underfitting", "No better than the mean.", "training rmse: 4.1 against 4.0.").kind
    'underfitting'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

FindingKind = Literal["overfitting", "underfitting", "not_converged", "no_better_than_baseline", "unstable"]

FINDING_KINDS: tuple[str, ...] = get_args(FindingKind)
"""Every kind of :class:`Finding`, in the order :func:`~dlworkflow.evaluation.diagnosis.diagnose` reports them."""


@dataclass(frozen=True)
class Finding:
    """One problem seen in a run, with its evidence and what to try.

    Attributes:
        kind: One of :data:`FINDING_KINDS`.
        summary: One line for a reader in a hurry.
        evidence: The epochs and values the finding rests on.
        remedies: What to try, most promising first, in the workshop's order; each names
            the spec key to change where there is one.

    Example:
        >>> finding = Finding("unstable", "Unstable training.", "loss was NaN at epoch 3.", ("lower learning rate",))
        >>> finding.to_dict()["remedies"]
        ['lower learning rate']
        >>> Finding.from_dict(finding.to_dict()) == finding
        True
    """

    kind: FindingKind
    summary: str
    evidence: str
    remedies: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready plain data: ``{kind, summary, evidence, remedies}``.

        Returns:
            A dict of strings and a list of strings.

        Example:
            >>> Finding("underfitting", "s", "e").to_dict()
            {'kind': 'underfitting', 'summary': 's', 'evidence': 'e', 'remedies': []}
        """
        return {"kind": self.kind, "summary": self.summary, "evidence": self.evidence, "remedies": list(self.remedies)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read back what :meth:`to_dict` wrote (e.g. from a run record).

        Args:
            data: ``{kind, summary, evidence, remedies}``.

        Returns:
            The finding.

        Example:
            >>> Finding.from_dict({"kind": "overfitting", "summary": "s", "evidence": "e", "remedies": ["a"]}).remedies
            ('a',)
        """
        return cls(data["kind"], data["summary"], data["evidence"], tuple(data.get("remedies", ())))
