"""How much memory this process may still use, to refuse a file or a model that cannot fit before reading or building.

:func:`available_memory` reads the kernel's estimate (``MemAvailable`` in ``/proc/meminfo``), lowered by a
cgroup limit (a container's or a batch job's ``memory.max``) when there is one; elsewhere it falls back to
``os.sysconf``. :func:`format_bytes` writes a size for a message.

Example:
    >>> available_memory() is None or available_memory() > 0
    True
    >>> format_bytes(11 * 2**40)
    '11.0 TiB'
"""

from __future__ import annotations

import os
from pathlib import Path

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
_CGROUP_USAGE = (Path("/sys/fs/cgroup/memory.current"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def available_memory() -> int | None:
    """Bytes of memory still available to this process, or None when the system does not say.

    Returns:
        The smaller of the system's available memory and what a cgroup limit leaves; None when
        neither can be read (then callers check nothing).

    Example:
        >>> isinstance(available_memory(), (int, type(None)))
        True
    """
    found = [value for value in (_meminfo_available(), _cgroup_left()) if value is not None]
    return min(found) if found else None


def format_bytes(size: float) -> str:
    """A byte count for people: ``'3.2 GiB'``.

    Args:
        size: A number of bytes.

    Returns:
        The size with a binary unit, one decimal.

    Example:
        >>> format_bytes(512), format_bytes(3 * 2**30)
        ('512 bytes', '3.0 GiB')
    """
    if size < 1024:
        return f"{int(size)} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        size /= 1024
        if size < 1024 or unit == "PiB":
            return f"{size:.1f} {unit}"
    return f"{size:.1f} PiB"  # not reached


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_left() -> int | None:
    for limit_file, usage_file in zip(_CGROUP_LIMITS, _CGROUP_USAGE):
        try:
            limit = limit_file.read_text(encoding="ascii").strip()
            if limit == "max" or int(limit) >= 2**60:
                return None
            return max(int(limit) - int(usage_file.read_text(encoding="ascii").strip()), 0)
        except (OSError, ValueError):
            continue
    return None
