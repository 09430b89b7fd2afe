"""Request fields stricter than DRF's own, for JSON bodies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictBoolean(serializers.BooleanField):
    """``true`` or ``false`` and nothing else: DRF's own field also takes 0, 1, "yes", "on"
    and more, so a client's mistake (a count where a flag belongs) passes unnoticed."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
