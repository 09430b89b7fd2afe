"""Tiny StyleGAN training snapshots, pickled the way the official training code saves them.

Each network is saved as a persistent object: the pickle calls
``torch_utils.persistence._reconstruct_persistent_obj(meta)``, where ``meta`` holds the
module's Python source (``module_src``), the class name and the object's state (its
``__dict__``: ``_parameters``, ``_buffers``, ``_modules`` of child networks, hyperparameters,
constructor arguments in an ``EasyDict``). The stand-in ``torch_utils.persistence`` below
does what a trusting loader does: it runs ``module_src`` and builds the class it defines.
Tests use it to show that a plain ``pickle.loads`` would run the embedded code, and that
``inference.snapshot`` does not.
"""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import torch
from torch import nn

from inference import stylegan_nets as nets

HARMLESS_SOURCE = "# the generator's module source would be here\nclass Network:\n    pass\n"


def _install_stand_ins() -> types.ModuleType:
    """Modules named like the official ones, importable by ``pickle`` when saving."""
    if "torch_utils.persistence" in sys.modules:
        return sys.modules["torch_utils.persistence"]
    persistence = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # what a trusting loader does: runs the source
        module = types.ModuleType("_imported_module")
        exec(compile(meta["module_src"], "<module_src>", "exec"), module.__dict__)  # noqa: S102
        obj = module.__dict__[meta["class_name"]].__new__(module.__dict__[meta["class_name"]])
        obj.__dict__.update(meta["state"])
        return obj

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    torch_utils = types.ModuleType("torch_utils")
    torch_utils.persistence = persistence
    dnnlib = types.ModuleType("dnnlib")
    util = types.ModuleType("dnnlib.util")

    class EasyDict(dict):
        pass

    EasyDict.__module__ = "dnnlib.util"
    EasyDict.__qualname__ = "EasyDict"
    util.EasyDict = EasyDict
    dnnlib.util = util
    sys.modules.update({"torch_utils": torch_utils, "torch_utils.persistence": persistence,
                        "dnnlib": dnnlib, "dnnlib.util": util})
    return persistence


class Persistent:
    """Pickles as the official persistence mechanism pickles a network."""

    def __init__(self, module: nn.Module, source: str, init_kwargs: dict | None = None) -> None:
        self.module, self.source, self.init_kwargs = module, source, init_kwargs or {}

    def __reduce__(self):
        persistence = _install_stand_ins()
        state = dict(self.module.__dict__)
        state["_modules"] = {name: Persistent(child, self.source) if child is not None else None
                             for name, child in self.module._modules.items()}
        state["_init_args"] = ()
        state["_init_kwargs"] = sys.modules["dnnlib.util"].EasyDict(self.init_kwargs)
        for key, value in list(state.items()):  # the official code keeps some numbers as numpy
            if isinstance(value, float):
                state[key] = np.float64(value)
        meta = {"type": "class", "version": 4, "module_src": self.source,
                "class_name": "Network", "state": state}
        return persistence._reconstruct_persistent_obj, (meta,)


def tiny_stylegan2(seed: int = 0, resolution: int = 32) -> nets.Generator:
    torch.manual_seed(seed)
    g = nets.stylegan2(z_dim=16, w_dim=16, img_resolution=resolution, channel_base=512,
                       channel_max=32, mapping_layers=2)
    with torch.no_grad():  # stored noise strengths and averages are not zero in trained nets
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.1)
        g.mapping.w_avg.normal_()
    return g


def tiny_stylegan3(seed: int = 0, radial: bool = False) -> nets.Generator:
    torch.manual_seed(seed)
    return nets.stylegan3(z_dim=16, w_dim=16, img_resolution=32, channel_base=512, channel_max=16,
                          num_layers=4, num_critical=2, margin_size=4, mapping_layers=2,
                          use_radial_filters=radial, conv_kernel=1 if radial else 3)


def snapshot_bytes(g: nn.Module, source: str = HARMLESS_SOURCE, extra: dict | None = None) -> bytes:
    """A training snapshot: a dict of networks and settings, pickled with plain pickle."""
    data = {"G_ema": Persistent(g, source, {"z_dim": g.z_dim, "c_dim": 0}),
            "training_set_kwargs": {"resolution": g.img_resolution}, "progress": {"cur_nimg": 1000}}
    data.update(extra or {})
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
