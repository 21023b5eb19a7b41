"""Fingerprints: sha256 digests that say whether two runs saw the same data.

A fingerprint covers the feature names, the target name and every value, in row order.
It is computed from a canonical byte form, so it is the same in every process and on every
platform, and it does not depend on the storage type of a number: a column of integers and
the same numbers stored as floats give the same digest. Text values are hashed as UTF-8.
Any changed value, row, row order or column name gives a different digest.

Example:
    >>> import pandas as pd
    >>> features = pd.DataFrame({"a": [1, 2]})
    >>> table_fingerprint(features, pd.Series([0.5, 1.5], name="y"))[:12]
    '28fa13256d2a'
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

FORMAT = b"dlworkflow-table-v1"
"""Version tag hashed first; change it when the canonical form changes."""


def table_fingerprint(features: pd.DataFrame, target: pd.Series) -> str:
    """sha256 of feature columns and a target column, values in row order.

    The index is not hashed: two tables with the same columns and values in the same order
    have the same fingerprint wherever their rows came from.

    Args:
        features: The raw (unscaled) feature columns.
        target: The raw (unencoded) target values, aligned with ``features``; its ``name``
            is hashed as the target name.

    Returns:
        64 hexadecimal characters.

    Raises:
        ValueError: when ``features`` and ``target`` have different lengths.

    Example:
        >>> import pandas as pd
        >>> a = table_fingerprint(pd.DataFrame({"x": [1, 2]}), pd.Series(["u", "v"], name="y"))
        >>> b = table_fingerprint(pd.DataFrame({"x": [1.0, 2.0]}), pd.Series(["u", "v"], name="y"))
        >>> a == b
        True
    """
    if len(features) != len(target):
        raise ValueError(f"features have {len(features)} rows but the target has {len(target)}")
    digest = hashlib.sha256(FORMAT)
    _update(digest, b"rows", str(len(features)).encode())
    for name in features.columns:
        _hash_column(digest, b"feature", str(name), features[name])
    _hash_column(digest, b"target", str(target.name), target)
    return digest.hexdigest()


def _update(digest: Any, tag: bytes, payload: bytes) -> None:
    """Add one length-prefixed field, so no two different inputs share a byte stream."""
    digest.update(tag + b":" + len(payload).to_bytes(8, "little") + payload)


def _hash_column(digest: Any, role: bytes, name: str, column: pd.Series) -> None:
    _update(digest, role, name.encode("utf-8"))
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # -0.0 becomes 0.0
        values[np.isnan(values)] = np.nan  # one NaN bit pattern
        _update(digest, b"float64", values.astype("<f8").tobytes())
        return
    texts = ["\x00<missing>" if _is_missing(value) else str(value) for value in column.tolist()]
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    lengths = np.array([len(item) for item in encoded], dtype="<u8").tobytes()
    _update(digest, b"text", lengths + b"".join(encoded))


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
