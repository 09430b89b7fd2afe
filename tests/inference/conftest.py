from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def space():
    from inference import get_space

    torch.set_num_threads(2)
    return get_space("abstract")


@pytest.fixture(scope="session")
def figures():
    from inference import get_space

    torch.set_num_threads(2)
    return get_space("figures")


@pytest.fixture(scope="module")
def replica():
    """A real inference service process serving ``abstract``: its base URL."""
    from mendel.processes import free_port, stop
    from tests.servers import start_inference, wait_ready

    port = free_port()
    proc = start_inference(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base
    finally:
        stop(proc)
