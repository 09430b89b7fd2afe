"""Durable jobs of the gallery (procrastinate)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
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


# -- the map of a space (gallery/maps.py) ---------------------------------------------------

#: Attempts of a relayout that fails with an error (a killed worker's job is put back by
#: ``retry_stalled_jobs`` whatever this says).
MAP_ATTEMPTS = 3
MAP_FAILED = gettext_lazy("Mendel could not lay out this map. Look at the worker's log, then "
                          "try again.")


@app.task(pass_context=True, retry=MAP_ATTEMPTS - 1)
def build_map(context, build_id: int) -> int | None:
    """Lay out a space's map again and build its atlases, exactly once (``gallery.maps``)."""
    from breeding.tasks import attempt, stop_if_stopping
    from gallery import maps
    from gallery.models import MapBuild

    return attempt(context, MapBuild, build_id, MAP_ATTEMPTS,
                   lambda: maps.run_build(build_id, stop_if_stopping), MAP_FAILED)


@app.task(retry=2)
def place_works(space_id: int) -> int:
    """Place the space's new public works on its map (deferred when a work is made public,
    and by ``place_on_maps`` every minute); one at a time per space with ``blank_map``."""
    from gallery import maps

    return maps.place_new(space_id)


@app.task(retry=2)
def blank_map(layout_id: int) -> int:
    """Paint blank the atlas slots of works that left a map (deferred when one does)."""
    from gallery import maps

    return maps.blank_gone(layout_id)


@app.periodic(cron="* * * * *", periodic_id="map-place")
@app.task(queueing_lock="map-place")
def place_on_maps(timestamp: int) -> int:
    """Every minute: place every space's new public works on its map (a work made public,
    and given its look by then, is on the map within a minute), and start the first map of
    a space that has public works with looks and no map yet."""
    from breeding.models import Space
    from gallery import maps

    started = 0
    with_maps = set(maps.spaces_with_maps())
    for space in Space.objects.all():
        if space.pk in with_maps:
            maps.defer_place(space.pk)
        elif maps.building(space) is None and maps.mappable(space).exists():
            maps.start_build(space)
            started += 1
    return started


@app.periodic(cron="23 3 * * *", periodic_id="map-nightly")
@app.task(queueing_lock="map-nightly")
def relayout_maps(timestamp: int) -> int:
    """Nightly: lay out again the map of every space that has one, so that works placed
    during the day among their look-alikes find their best place."""
    from breeding.models import Space
    from gallery import maps

    spaces = Space.objects.filter(pk__in=list(maps.spaces_with_maps()))
    for space in spaces:
        maps.start_build(space)
    return len(spaces)
