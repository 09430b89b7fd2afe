"""The API's request parsers: DRF's, refusing what they would otherwise fail on or guess.

Kept apart from ``mendel.api`` because DRF reads ``DEFAULT_PARSER_CLASSES`` while its
views module is being imported.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with JSON nested too deeply for Python's decoder (a thousand
    brackets) refused as a parse error instead of failing the request."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from None


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing a body it could not read anything from (a broken
    boundary, say): such a request is a mistake, never a request for the defaults."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        if not result.data and not result.files:
            raise exceptions.ParseError(_("The multipart body has no part that could be read."))
        return result


PARSERS = [JSONParser, parsers.FormParser, MultiPartParser]
