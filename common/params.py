"""What a request asks for, read for an API view: a body through its serializer, a
whole-number query parameter within bounds; anything else is a 400 that says what is wrong."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from common.numbers import DIGITS, whole_number


def parse(serializer_class, request, **kwargs):
    """The validated body of ``request``, or a 400 naming each bad field."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def int_param(request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high], or a 400 naming it (documented by
    ``common.schema.whole_number_parameter``)."""
    raw = request.query_params.get(name)
    value = default if raw is None else whole_number(raw, max_digits=len(str(high)) + 2)
    if value is None and not DIGITS.fullmatch(raw):
        raise ValidationError({name: [_("must be a whole number.")]})
    if value is None or not low <= value <= high:
        raise ValidationError({name: [_("must be between %(low)s and %(high)s.")
                                      % {"low": low, "high": high}]})
    return value
