"""What breeding tells the apps above it, without knowing them (breeding imports neither
gallery nor frontend): they connect receivers in their ``AppConfig.ready``."""

from __future__ import annotations

from django.dispatch import Signal

#: A work entered or left what anyone may open or find: made public, unlisted or private,
#: removed or restored. Sent with ``creation`` (the row as it is now), ``visible`` and
#: ``listed`` (did each of those change for a visitor) by ``breeding.actions`` once the
#: change is written, inside its transaction; receivers that announce it (an exhibition's
#: sockets) do so after commit.
listing_changed = Signal()

#: Sent with ``works``, the new ``Creation`` objects of one action, just before they are
#: written (one ``bulk_create``, so no ``pre_save``), and ``parents``, the ``Creation`` rows
#: they were made from (none for a random or an uploaded work), inside the action's
#: transaction: a receiver may set its own fields on them, as the gallery sets a work's first
#: trending score, or write rows of its own that roll back with them (the gallery's notices).
works_made = Signal()
