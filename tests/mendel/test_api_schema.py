"""The OpenAPI schema tells the truth: schemathesis reads /api/schema/ from a real server,
sends what the schema allows and what it forbids, and checks every answer against it: no
server error, and no status, content type, header or body that the schema does not describe.

Alice asks, with her token. Her works, Bob's public and private ones and a removed one give
the requests real names to use (``schemathesis_hooks.py``), besides the made-up ones.

Schemathesis runs as its command line does (``schemathesis run``), in a process of its own:
that is its most used and steadiest interface, it reports every failure with a curl line to
replay it, and a failing check exits non-zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from rest_framework.authtoken.models import Token

from breeding import actions
from breeding.models import Gene, Visibility
from mendel.processes import ROOT, free_port, stop
from tests.servers import child_env, start_asgi, wait_healthy

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")

#: Generated requests per operation in the fuzzing phase, half valid and half not: enough to
#: reach every documented answer, few enough for a shared two-core machine (breeding
#: renders pictures). The coverage phase adds its own cases, one per schema boundary.
MAX_EXAMPLES = 12
SEED = 1865  # one run is repeatable; another seed looks elsewhere

CONFIG = """
hooks = "{hooks}"
seed = {seed}
workers = 1

[auth.openapi.tokenAuth]
api_key = "Token {token}"

[generation]
max-examples = {max_examples}
database = "none"

[cache]
enabled = false

[phases.stateful]
enabled = false

# "Valid by the schema" is not "valid": a gene the space lacks, a parent that does not
# exist, a wrong password pass the schema and are rightly refused with a 400.
[checks.positive_data_acceptance]
enabled = false
"""


def seed_data(alice, bob) -> dict:
    """Works of every kind, and the real names of things (see ``schemathesis_hooks.py``)."""
    space = actions.sync_spaces()[0]
    direction = torch.zeros(space.layers, space.dim)
    direction[5, 0] = 1.0
    Gene.objects.create(space=space, version=space.version, slug="warmth", label="Warmth",
                        source="attribute", direction=direction.flatten().tolist(),
                        low=-3.0, high=3.0, rho=0.95)
    draft, kept = actions.do_random(alice, space, 2, seed=1)
    actions.do_update(kept, title="Kept", visibility=Visibility.PUBLIC)
    child = actions.do_children(alice, kept, 1, 0.3, seed=2)[0]
    removed, removable = actions.do_random(alice, space, 2, seed=3)
    actions.do_remove(removed)
    public, private = actions.do_random(bob, space, 2, seed=4)
    actions.do_update(public, visibility=Visibility.PUBLIC)
    actions.do_update(private, visibility=Visibility.PRIVATE)
    return {
        "public_id": [c.public_id for c in (draft, kept, child, removed, public, private)],
        "removable_id": [c.public_id for c in (removed, removable, public, private)],
        "slug": [space.slug],
        "username": [alice.username, bob.username],
        "login": {"username": alice.username, "password": "correct horse 1"},
    }


def test_every_answer_is_documented(transactional_db, tmp_path, settings, alice, bob):
    settings.MEDIA_ROOT = tmp_path / "media"
    names = seed_data(alice, bob)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(hooks=HOOKS, seed=SEED, max_examples=MAX_EXAMPLES,
                                    token=Token.objects.create(user=alice).key))
    # Breeding is rate-limited per user, and here one user asks for everything at once.
    env = child_env(RENDER_BUDGET_CPU_S_PER_MIN="1000000", RENDER_BUDGET_ANON_CPU_S_PER_MIN="1000000",
                    SIGNUP_RATE_PER_HOUR="100000", LOGIN_FAILURE_LIMIT="1000")
    port = free_port()
    with open(tmp_path / "server.log", "w") as log:
        server = start_asgi(port, env, log=log)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server)
            run = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                 "--no-color", f"http://127.0.0.1:{port}/api/schema/"],
                cwd=ROOT, env={**env, "MENDEL_REAL_NAMES": json.dumps(names)},
                capture_output=True, text=True, timeout=240,
            )
        finally:
            stop(server)
    said = (tmp_path / "server.log").read_text()[-6000:]
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- the server said ---\n{said}"


def test_a_body_django_cannot_read_is_refused_in_json(client, db):
    response = client.post("/api/cross/", b"x", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json() == {"error": "The request could not be read: it is malformed or too large."}
