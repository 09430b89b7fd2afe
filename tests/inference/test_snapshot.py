"""Network pickles load without running the code they carry."""

from __future__ import annotations

import os
import pickle
import socket

import pytest
import torch

from inference.snapshot import Record, Refused, load_snapshot, loads
from tests.inference.snapshots import snapshot_bytes, tiny_stylegan2


def writes_file(path) -> str:
    return f"import pathlib\npathlib.Path({str(path)!r}).write_text('ran')\nclass Network:\n    pass\n"


def opens_socket(port: int) -> str:
    return (f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "class Network:\n    pass\n")


def test_a_snapshot_loads_as_records_of_state():
    g = tiny_stylegan2()
    record = load_snapshot(snapshot_bytes(g))
    assert isinstance(record, Record)
    assert record["z_dim"] == 16 and record.init_kwargs == {"z_dim": 16, "c_dim": 0}
    assert record.child("mapping").child("fc0")["lr_multiplier"] == 0.01
    tensors = record.tensors()
    ours = g.state_dict()
    assert sorted(tensors) == sorted(ours)
    for name, value in ours.items():
        assert tensors[name].dtype == value.dtype
        assert torch.equal(tensors[name], value), name


def test_embedded_source_that_writes_a_file_never_runs(tmp_path):
    marker = tmp_path / "marker"
    data = snapshot_bytes(tiny_stylegan2(), source=writes_file(marker))
    record = load_snapshot(data)
    assert not marker.exists()
    assert "write_text" in record.module_src  # kept as text, shown by its digest only
    # The same bytes through a trusting unpickler do run it: the check above can fail.
    pickle.loads(data)
    assert marker.read_text() == "ran"


def test_embedded_source_that_opens_a_socket_never_runs():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(256)  # a trusting loader runs the source once per network
        server.settimeout(0.5)
        data = snapshot_bytes(tiny_stylegan2(), source=opens_socket(server.getsockname()[1]))
        load_snapshot(data)
        with pytest.raises(TimeoutError):
            server.accept()
        pickle.loads(data)  # a trusting loader connects
        server.accept()[0].close()


class _Evil:
    def __init__(self, path) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_any_other_global_is_refused_by_name(tmp_path):
    marker = tmp_path / "touched"
    data = snapshot_bytes(tiny_stylegan2(), extra={"augment_pipe": _Evil(marker)})
    with pytest.raises(Refused, match=r"asks for posix\.system"):
        load_snapshot(data)
    assert not marker.exists()
    with pytest.raises(Refused, match=r"asks for builtins\.eval"):
        loads(pickle.dumps(_Call(eval, "1 + 1")))


class _Call:
    def __init__(self, fn, arg) -> None:
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return self.fn, (self.arg,)


def test_nested_storage_bytes_are_read_without_arbitrary_globals():
    class Nasty:
        def __reduce__(self):
            return torch.storage._load_from_bytes, (pickle.dumps(_Call(eval, "1")),)

    with pytest.raises(Refused, match="not plain data"):
        loads(pickle.dumps(Nasty()))


def test_what_is_not_a_snapshot_gets_a_sentence():
    with pytest.raises(Refused, match="no 'G_ema' network"):
        load_snapshot(pickle.dumps({"G": 1}))
    with pytest.raises(Refused, match="not a readable network pickle"):
        load_snapshot(b"this is not a pickle")
    with pytest.raises(Refused, match="holds a dict of networks"):
        load_snapshot(pickle.dumps([1, 2]))
