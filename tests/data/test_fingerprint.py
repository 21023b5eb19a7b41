"""Tests of dlworkflow.data.fingerprint: stable across processes, sensitive to any change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlworkflow.data.fingerprint import array_fingerprint, file_digests, file_fingerprint, table_fingerprint


@pytest.fixture
def features() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.5, 2.5, -0.0, 4.0], "b": [10, 20, 30, 40]}, index=[3, 5, 7, 9])


@pytest.fixture
def target() -> pd.Series:
    return pd.Series(["x", "y", "x", "z"], name="kind", index=[3, 5, 7, 9])


def test_same_data_same_digest(features, target):
    digest = table_fingerprint(features, target)
    assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    assert table_fingerprint(features.copy(), target.copy()) == digest


def test_stable_across_processes(features, target):
    code = (
        "import pandas as pd; from dlworkflow.data.fingerprint import array_fingerprint, file_digests, file_fingerprint, table_fingerprint; "
        "f = pd.DataFrame({'a': [1.5, 2.5, -0.0, 4.0], 'b': [10, 20, 30, 40]}); "
        "print(table_fingerprint(f, pd.Series(['x', 'y', 'x', 'z'], name='kind')))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == table_fingerprint(features, target)


def test_known_digest():
    # Pinned: a change here means every registry's fingerprints change; bump FORMAT on purpose.
    digest = table_fingerprint(pd.DataFrame({"a": [1, 2]}), pd.Series([0.5, 1.5], name="y"))
    assert digest[:12] == "28fa13256d2a"


def test_storage_type_does_not_matter(features, target):
    assert table_fingerprint(features.astype({"b": "float64"}), target) == table_fingerprint(features, target)
    assert table_fingerprint(features, target.astype("category")) == table_fingerprint(features, target)
    assert table_fingerprint(features.reset_index(drop=True), target.reset_index(drop=True)) == table_fingerprint(
        features, target
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda f, t: (f.assign(a=[1.5, 2.5, 0.0, 4.000001]), t),
        lambda f, t: (f, t.replace("z", "w")),
        lambda f, t: (f.iloc[::-1], t.iloc[::-1]),
        lambda f, t: (f.iloc[:3], t.iloc[:3]),
        lambda f, t: (f.rename(columns={"a": "c"}), t),
        lambda f, t: (f, t.rename("other")),
        lambda f, t: (f[["b", "a"]], t),
        lambda f, t: (f.drop(columns=["b"]), t),
        lambda f, t: (f.assign(c=0.0), t),
        lambda f, t: (f.assign(a=[1.5, np.nan, 0.0, 4.0]), t),
    ],
    ids=["value", "target-value", "order", "row", "column-name", "target-name", "column-order",
         "fewer-columns", "more-columns", "nan"],
)
def test_any_change_changes_the_digest(features, target, change):
    changed = table_fingerprint(*change(features, target))
    assert changed != table_fingerprint(features, target)


def test_numbers_and_text_do_not_collide():
    numbers = pd.DataFrame({"a": [1.0, 2.0]})
    assert table_fingerprint(numbers, pd.Series([1, 2], name="y")) != table_fingerprint(
        numbers, pd.Series(["1", "2"], name="y")
    )


def test_lengths_must_match(features, target):
    with pytest.raises(ValueError, match="features have 4 rows but the target has 3"):
        table_fingerprint(features, target.iloc[:3])


def test_image_arrays_digest_ignores_the_integer_type_but_not_the_pixels():
    images = np.random.default_rng(0).integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2])
    digest = array_fingerprint([(images, labels)])
    assert digest == array_fingerprint([(images.astype(np.int32), labels.astype(np.uint8))])
    changed = images.copy()
    changed[0, 0, 0, 0] ^= 1
    assert digest != array_fingerprint([(changed, labels)])
    assert digest != array_fingerprint([(images, np.array([0, 2, 1]))])
    assert digest != array_fingerprint([(images.astype(np.float32), labels)])  # floats are hashed as floats
    assert digest != array_fingerprint([(images.reshape(3, 4, 12, 1), labels)])  # the shape counts
    two_groups = array_fingerprint([(images[:2], labels[:2]), (images[2:], labels[2:])])
    assert two_groups != digest  # where the groups split is part of the data


def test_file_digests_are_the_files_sha256(tmp_path: Path):
    (tmp_path / "a").mkdir()
    content = np.random.default_rng(0).bytes(3 * 2**20 + 17)  # several chunks
    (tmp_path / "a" / "x.bin").write_bytes(content)
    assert file_digests(tmp_path, ["a/x.bin"]) == [hashlib.sha256(content).digest()]


def test_file_fingerprint_covers_path_label_content_and_order():
    one, two = hashlib.sha256(b"1").digest(), hashlib.sha256(b"2").digest()
    digest = file_fingerprint(["cat/1.jpg", "dog/2.jpg"], ["cat", "dog"], [one, two])
    assert digest == file_fingerprint(["cat/1.jpg", "dog/2.jpg"], ["cat", "dog"], [one, two])
    assert digest != file_fingerprint(["cat/1.jpg", "dog/3.jpg"], ["cat", "dog"], [one, two])
    assert digest != file_fingerprint(["cat/1.jpg", "dog/2.jpg"], ["cat", "cat"], [one, two])
    assert digest != file_fingerprint(["cat/1.jpg", "dog/2.jpg"], ["cat", "dog"], [one, one])
    assert digest != file_fingerprint(["dog/2.jpg", "cat/1.jpg"], ["dog", "cat"], [two, one])
    assert digest == file_fingerprint(["cat\\1.jpg", "dog\\2.jpg"], ["cat", "dog"], [one, two])
    with pytest.raises(ValueError, match="2 files, 1 labels and 2 digests"):
        file_fingerprint(["a", "b"], ["x"], [one, two])
