"""Reading network pickles without running the code they carry.

A StyleGAN training snapshot (``network-snapshot-*.pkl``) is a plain ``pickle`` of a dict
with the networks ``G``, ``D``, ``G_ema`` and some settings. Each network was saved by a
"persistence" mechanism that embeds its own class definition: the pickle calls a global
reconstruct function (``torch_utils.persistence._reconstruct_persistent_obj``) with one
argument, a dict holding

- ``type`` ("class"), ``version`` (of the mechanism),
- ``module_src``: the Python source of the module that defined the class,
- ``class_name``: the class to take from that module,
- ``state``: the object's ``__dict__``, which for a torch module holds ``_parameters``,
  ``_buffers`` and ``_modules`` (the child networks, persistent objects in their turn),
  the hyperparameters as plain attributes (``z_dim``, ``w_dim``, ``img_resolution``, ...)
  and the constructor's arguments (``_init_args``, ``_init_kwargs``).

Loading such a pickle normally executes ``module_src``: whoever made the file runs code
on the machine that opens it. ``load`` never does. Its unpickler resolves only the
globals in ``ALLOWED`` (tensor and storage rebuilding, ordered dicts, numpy scalars,
plain dict subclasses), refuses any other global with an error naming it, and replaces
the reconstruct function by one that returns a ``Record`` of the object's state: the
embedded source is kept as text (its digest is shown) and never compiled.

Tensors in a plain pickle come as ``torch._utils._rebuild_tensor_v2`` over a storage
that is itself pickled as ``torch.storage._load_from_bytes(bytes)``: a small legacy
``torch.save`` file. Torch's own loader for those bytes would unpickle them without
restrictions; here they go through ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass, field
from typing import Any

import torch

#: The reconstruct function of the persistence mechanism, by module and name.
PERSISTENT = ("torch_utils.persistence", "_reconstruct_persistent_obj")


class Refused(ValueError):
    """The file is not a network pickle Mendel will load; the message says why."""


class Settings(dict):
    """Stands in for the attribute dicts snapshots keep their settings in (``EasyDict``)."""


@dataclass
class Record:
    """What a persistent object was: its class name and state, never its code."""

    class_name: str
    state: dict[str, Any]
    module_src: str = field(repr=False, default="")
    version: int = 0

    @property
    def source_digest(self) -> str:
        return hashlib.sha256(self.module_src.encode()).hexdigest()[:12]

    def __getitem__(self, name: str) -> Any:
        return self.state[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.state.get(name, default)

    @property
    def children(self) -> dict[str, Record]:
        return {k: v for k, v in (self.state.get("_modules") or {}).items() if v is not None}

    def child(self, name: str) -> Record:
        found = self.children.get(name)
        if not isinstance(found, Record):
            raise Refused(f"the {self.class_name} network has no sub-network {name!r}")
        return found

    @property
    def init_kwargs(self) -> dict[str, Any]:
        return dict(self.state.get("_init_kwargs") or {})

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Parameters and buffers of this record and its children, named as a torch
        ``state_dict`` would name them."""
        out: dict[str, torch.Tensor] = {}
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if value is not None:
                    out[prefix + name] = value.detach() if isinstance(value, torch.Tensor) else value
        for name, child in self.children.items():
            if isinstance(child, Record):
                out.update(child.tensors(prefix + name + "."))
        return out


def _record(meta: dict) -> Record:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise Refused("the pickle holds a persistent object of an unknown kind")
    state = meta.get("state") or {}
    if not isinstance(state, dict):
        raise Refused("a persistent object's state is not a dict")
    return Record(class_name=str(meta.get("class_name", "")), state=state,
                  module_src=str(meta.get("module_src", "")), version=int(meta.get("version", 0)))


def _storage_from_bytes(data: bytes):
    if not isinstance(data, bytes | bytearray):
        raise Refused("a tensor storage in the pickle is not bytes")
    try:
        return torch.load(io.BytesIO(data), weights_only=True)
    except pickle.UnpicklingError as e:
        raise Refused(f"a tensor storage in the pickle is not plain data: {e}") from None


def _numpy_globals() -> dict[tuple[str, str], Any]:
    import numpy as np

    out: dict[tuple[str, str], Any] = {("numpy", "dtype"): np.dtype, ("numpy", "ndarray"): np.ndarray}
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(core, "scalar")] = np._core.multiarray.scalar
        out[(core, "_reconstruct")] = np._core.multiarray._reconstruct
    return out


def _allowed() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        PERSISTENT: _record,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("collections", "OrderedDict"): __import__("collections").OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "dict"): dict,
        ("builtins", "list"): list,
        ("builtins", "tuple"): tuple,
        ("dnnlib.util", "EasyDict"): Settings,
        ("dnnlib", "EasyDict"): Settings,
    }
    allowed.update(_numpy_globals())
    return allowed


ALLOWED = _allowed()


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise Refused(
                f"the pickle asks for {module}.{name}, which Mendel does not load: a network "
                "pickle may hold only tensors, plain containers and persistent-object records"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise Refused("the pickle refers to outside objects (a persistent id), which Mendel does not load")


def loads(data: bytes) -> Any:
    """Unpickle ``data`` with the restricted unpickler (see the module docstring)."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except Refused:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, RuntimeError) as e:
        raise Refused(f"not a readable network pickle ({type(e).__name__}: {e})") from None


def load_snapshot(data: bytes, key: str = "G_ema") -> Record:
    """The generator record of a training snapshot (``key`` of its dict)."""
    top = loads(data)
    if isinstance(top, Record):
        return top
    if not isinstance(top, dict):
        raise Refused(f"a network pickle holds a dict of networks, this one a {type(top).__name__}")
    if key not in top:
        found = ", ".join(sorted(map(str, top))) or "nothing"
        raise Refused(f"the pickle has no {key!r} network (it holds {found})")
    record = top[key]
    if not isinstance(record, Record):
        raise Refused(f"the pickle's {key!r} is not a saved network")
    return record
