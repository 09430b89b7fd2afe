"""What breeding tells the apps built on it, which it may not import (DESIGN.md's layers)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``works``, the new ``Creation`` objects of one action, just before they are
#: written (one ``bulk_create``, so no ``pre_save``): a receiver may set its own fields on
#: them, as the gallery sets a work's first trending score.
works_made = Signal()
