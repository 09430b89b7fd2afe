"""Durable jobs of the gallery (procrastinate)."""

from __future__ import annotations

from procrastinate.contrib.django import app


@app.task(retry=3)
def close_round(round_id: int) -> bool:
    """Close a breeding round when its time is up: count the votes, hang the winner.
    Idempotent: a round the curator ended early is left as it is."""
    from gallery.exhibitions import do_close_round

    return do_close_round(round_id) is not None
