"""An image folder is listed, checked and fingerprinted with one read of each file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from dlworkflow.data.fingerprint import file_digests
from dlworkflow.data.image_folder import scan_image_folder

SCRIPT = """
import json, sys
from dlworkflow.data.pipeline import build_dataset
from dlworkflow.spec import validate_spec
spec = validate_spec({"name": "reads", "data": {"path": sys.argv[1], "image_size": [8, 8], "scaling": "pixels"},
                      "split": {"type": "stratified", "test": 0.25, "validation": 0.25, "seed": 0},
                      "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2}]}})
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
dataset = build_dataset(spec)
print(json.dumps({"opened": [path for path in opened if path.endswith(".png")], "fingerprint": dataset.fingerprint}))
"""


def _folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for index in range(4):
            Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).save(root / label / f"{index}.png")
    return root


def test_each_image_file_is_opened_once_to_list_check_and_fingerprint_the_folder(tmp_path):
    root = _folder(tmp_path / "pets")
    completed = subprocess.run([sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sorted(outcome["opened"]) == sorted(str(path) for path in root.rglob("*.png"))  # each once


def test_the_digests_of_the_one_read_are_the_files_sha256(tmp_path):
    folder = scan_image_folder(_folder(tmp_path / "pets"))
    assert list(folder.digests) == file_digests(folder.root, folder.files)
