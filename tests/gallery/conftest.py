from tests.breeding.conftest import _fresh, api, as_alice, as_bob, space, warm_gene  # noqa: F401
