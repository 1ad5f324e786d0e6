"""Atomic, pickle-free files: every checkpoint and result file of the package goes through here.

Two checkpoint formats, both self-describing (they record the algorithm that wrote them):
- `.npz` (numpy arrays + a JSON `meta` entry), loaded with `allow_pickle=False`, for tabular agents;
- `.pt` (a dict of tensors and plain values), loaded with `torch.load(..., weights_only=True)`, for
  torch agents.
Writes go to a temporary file in the same folder, are flushed to disk, then renamed over the target,
so an interrupted write never destroys the previous file.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "rlsuite-agent"
FORMAT_VERSION = 1


MAX_NPZ_BYTES = 2**32
"""The most bytes the arrays of an .npz checkpoint may unpack to (4 GiB: tabular tables are far smaller)."""


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint of the expected kind."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))  # mkstemp's 0600 would hide results from the user's group and others
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _mode_for(path: Path) -> int:
    """The permissions a replaced file keeps, or those `open()` gives a new one (0o666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        pass
    try:  # Linux states the umask; reading it with os.umask would briefly change it for every thread
        status = Path("/proc/self/status").read_text()
        umask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


class OutputFolderError(ValueError):
    """An output folder that cannot be created or written."""


def create_output_dir(path: str | Path) -> Path:
    """`path`, or `path-1`, `path-2`, ... if it already holds files (an earlier run is never overwritten);
    created and checked writable, else an OutputFolderError."""
    path = Path(path)
    if path.name in ("", ".", ".."):  # "", ".", "/": a run needs a folder of its own
        raise OutputFolderError(f"output folder {str(path)!r} has no name of its own; give one, e.g. results/my-run")
    candidate, n = path, 1
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        probe = candidate / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise OutputFolderError(f"cannot write to output folder {candidate}: {error.strerror or error}") from error
    return candidate


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _meta(algo: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "algo": algo, **meta}


def _check_meta(meta: Any, path: Path, expected_algo: str | None) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an agent checkpoint written by this package")
    if meta.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {meta.get('version')}, expected {FORMAT_VERSION}")
    if expected_algo is not None and meta.get("algo") != expected_algo:
        raise CheckpointError(f"{path} holds a {meta.get('algo')!r} agent, not {expected_algo!r}")
    return meta


def save_npz(path: str | Path, algo: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write arrays and JSON metadata to one `.npz` file, atomically."""
    if "meta" in arrays:
        raise ValueError("'meta' is reserved for the metadata entry")
    encoded = np.frombuffer(json.dumps(_meta(algo, meta)).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        entries: dict[str, Any] = {"meta": encoded, **arrays}
        np.savez(f, **entries)


def load_npz(path: str | Path, expected_algo: str | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a file written by `save_npz`; raises CheckpointError (naming the file) if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            unpacked = sum(info.file_size for info in data.zip.infolist()) if data.zip is not None else 0
            if unpacked > MAX_NPZ_BYTES:  # checked before anything is decompressed
                raise CheckpointError(
                    f"{path} would unpack to {unpacked:,} bytes, more than an .npz agent checkpoint may hold "
                    f"({MAX_NPZ_BYTES:,}, MAX_NPZ_BYTES)"
                )
            arrays = {key: data[key] for key in data.files}
    except (FileNotFoundError, CheckpointError):
        raise
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder, not an .npz agent checkpoint") from None
    except Exception as error:
        raise CheckpointError(
            f"{path} is not a readable .npz agent checkpoint ({type(error).__name__}: {error})"
        ) from error
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (KeyError, ValueError) as error:  # no or garbled metadata: some other program's .npz
        raise CheckpointError(f"{path} is not an agent checkpoint written by this package") from error
    return _check_meta(meta, path, expected_algo), arrays


def save_torch(path: str | Path, algo: str, meta: dict[str, Any], payload: dict[str, Any]) -> None:
    """Write a dict of tensors/plain values with `torch.save`, atomically."""
    import torch

    with atomic_path(path) as tmp:
        torch.save({"meta": _meta(algo, meta), **payload}, tmp)


def load_torch(
    path: str | Path, expected_algo: str | None = None, map_location: Any = "cpu"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a file written by `save_torch` with `weights_only=True` (no code runs from the file)."""
    import torch

    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as error:  # torch's weights-only loader refused it (its advice is to unpickle)
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        reason = (
            f"it holds a Python object ({found.group(1)}), not only tensors and plain values, and checkpoints "
            "are never unpickled"
            if found
            else "its bytes are not a torch checkpoint"
        )
        raise CheckpointError(f"{path} is not a readable .pt agent checkpoint: {reason}") from error
    except Exception as error:
        lines = str(error).strip().splitlines() or [""]
        raise CheckpointError(
            f"{path} is not a readable .pt agent checkpoint ({type(error).__name__}: {lines[0][:200]})"
        ) from error
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} is not an agent checkpoint written by this package")
    meta = _check_meta(payload.pop("meta", None), path, expected_algo)
    return meta, payload


def _count_bad(values: np.ndarray, allow_neg_inf: bool) -> tuple[int, int]:
    """(NaN count, count of the infinities that are not allowed) of a float array."""
    nans = int(np.isnan(values).sum())
    infs = int(np.isposinf(values).sum()) if allow_neg_inf else int(np.isinf(values).sum())
    return nans, infs


def check_finite_array(path: str | Path, name: str, values: Any, *, allow_neg_inf: bool = False) -> None:
    """Raise CheckpointError naming `path` and `name` if the numeric array `values` holds NaN or
    infinite entries (-inf allowed with `allow_neg_inf`: the tabular agents' mark of a disallowed action)."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc":
        if values.dtype.kind not in "iub":
            raise CheckpointError(f"{path}: {name} has dtype {values.dtype}, expected numbers")
        return
    nans, infs = _count_bad(values, allow_neg_inf)
    if nans or infs:
        raise CheckpointError(
            f"{path}: {name} holds {nans} NaN and {infs} infinite value(s) out of {values.size}; "
            "the file is corrupt or was written by a diverged run"
        )


def check_finite_tensors(path: str | Path, what: str, state: Any) -> None:
    """Raise CheckpointError naming `path` and the tensor if any floating tensor in `state` (a
    state_dict, possibly nested in dicts and lists, as optimizers' are) holds NaN or infinite values."""
    import torch

    def visit(value: Any, name: str) -> None:
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() or value.is_complex():
                check_finite_array(
                    path,
                    f"tensor {name!r} of {what}",
                    value.detach().cpu().float().numpy()
                    if value.dtype == torch.bfloat16
                    else value.detach().cpu().numpy(),
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{name}.{key}" if name else str(key))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{name}[{index}]")
        elif isinstance(value, float) and not np.isfinite(value):
            raise CheckpointError(
                f"{path}: {name!r} of {what} is {value}; the file is corrupt or was written by a diverged run"
            )

    visit(state, "")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of the checkpoint at `path` (`.npz` or `.pt`), which names its algorithm."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.suffix == ".npz":
        meta, _ = load_npz(path)
    elif path.suffix == ".pt":
        meta, _ = load_torch(path)
    else:
        raise CheckpointError(f"{path}: unknown checkpoint type {path.suffix!r}; expected .npz or .pt")
    if not isinstance(meta.get("algo"), str):
        raise CheckpointError(f"{path}: the metadata names no algorithm (algo={meta.get('algo')!r})")
    return meta


def read_algorithm_name(path: str | Path) -> str:
    """Which algorithm wrote the checkpoint at `path` (`.npz` or `.pt`)."""
    return read_metadata(path)["algo"]
