"""Tests of dlworkflow.data.memory: the memory a check may count on, and sizes for messages."""

from __future__ import annotations

from dlworkflow.data.memory import available_memory, format_bytes


def test_available_memory_is_a_positive_count_on_linux():
    available = available_memory()
    assert available is not None and 0 < available < 2**60


def test_sizes_read_for_people():
    assert [format_bytes(size) for size in (0, 1023, 1024, 5 * 2**20, 11 * 2**40)] == [
        "0 bytes", "1023 bytes", "1.0 KiB", "5.0 MiB", "11.0 TiB",
    ]
