"""Schemathesis hooks for ``test_api_schema``: requests name real things half the time.

Made-up ids reach only the 404s; the works, spaces and users the test made reach everything
else (schemathesis also reuses the ids that earlier answers listed). The test passes them in
``MENDEL_REAL_NAMES`` as JSON: path parameter -> names, ``removable_id`` for the works that
removing and restoring take, and ``login``, a username and password for ``POST /api/token/``.

Only valid values are replaced: a value generated to break the schema comes wrapped with
what it breaks (not a plain dict), and must still be refused as it is.
"""

from __future__ import annotations

import json
import os

import schemathesis
from hypothesis import strategies as st

REAL_NAMES: dict = json.loads(os.environ.get("MENDEL_REAL_NAMES", "{}"))

#: They take works of their own, so the others stay for the rest of the run. Their one input
#: is a path parameter, which has no invalid values: every case of theirs is valid.
REMOVING = ("DELETE /api/creations/{public_id}/", "POST /api/creations/{public_id}/restore/")


def half_real(strategy, real):
    """Each valid value as ``real(value)`` (a strategy) or, as often, as generated."""
    return strategy.flatmap(
        lambda value: st.one_of(real(value), st.just(value)) if isinstance(value, dict) else st.just(value)
    )


@schemathesis.hook
def before_generate_path_parameters(context, strategy):
    if context.operation.label in REMOVING:
        return strategy

    def real(parameters):
        return st.fixed_dictionaries({
            name: st.sampled_from(REAL_NAMES[name]) if name in REAL_NAMES else st.just(value)
            for name, value in parameters.items()
        })

    return half_real(strategy, real)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if context.operation.label not in REMOVING:
        return st.just(path_parameters)
    removable = st.sampled_from(REAL_NAMES["removable_id"]).map(lambda id: {"public_id": id})
    return st.one_of(removable, st.just({"public_id": "0" * 10}))


@schemathesis.hook
def before_generate_body(context, strategy):
    label = context.operation.label
    if label == "POST /api/token/":
        return half_real(strategy, lambda body: st.just({**body, **REAL_NAMES["login"]}))
    if label == "POST /api/cross/":
        ids = st.lists(st.sampled_from(REAL_NAMES["public_id"]), min_size=2, max_size=3, unique=True)
        return half_real(strategy, lambda body: ids.map(
            lambda ids: {**body, "parents": [{"id": id} for id in ids]}
        ))
    return strategy
