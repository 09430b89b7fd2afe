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
