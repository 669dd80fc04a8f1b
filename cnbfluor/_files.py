"""Files of the front layer: run fingerprints, atomic writes, path checks."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .errors import PathError


def fingerprint(obj) -> str:
    """A short hash of a JSON-able description of a run (scenario, grid, settings)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def atomic_savez(path, **arrays) -> Path:
    """`np.savez` to a temporary name, then rename: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def check_writable(path, flag: str = "--out") -> Path:
    """Check that `path` can be created: not a folder, and every existing ancestor is a folder.

    **Raises:** `PathError` naming `flag` and the path.
    """
    path = Path(path)
    if path.is_dir():
        raise PathError(f"{flag} {str(path)!r}: is a folder, expected a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PathError(f"{flag} {str(path)!r}: {str(parent)!r} is a file, not a folder")
            break
    return path


def is_zarr_store(path) -> bool:
    """A Zarr store by name (`.zarr`) or by content (a folder holding Zarr v2 or v3 metadata)."""
    p = Path(path)
    return p.suffix == ".zarr" or (p.is_dir() and any((p / name).exists() for name in (".zgroup", "zarr.json")))
