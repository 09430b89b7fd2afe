"""Durable jobs of the gallery (procrastinate)."""

from __future__ import annotations

from procrastinate.contrib.django import app


@app.task(retry=3)
def close_round(round_id: int) -> bool:
    """Close a breeding round when its time is up: count the votes, hang the winner.
    Idempotent: a round the curator ended early is left as it is."""
    from gallery.exhibitions import do_close_round

    return do_close_round(round_id) is not None


@app.periodic(cron="* * * * *", periodic_id="exhibition-hours")
@app.task(queueing_lock="exhibition-hours")
def exhibition_hours(timestamp: int) -> int:
    """Every minute: open the exhibitions whose opening time has come (drafts with an
    ``opens_at``) and close those whose ``closes_at`` has passed."""
    from gallery.exhibitions import do_scheduled

    return len(do_scheduled())
