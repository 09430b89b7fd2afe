"""The one refusal of the site: something a person asked for that is not done, and why.

Domain code (breeding, gallery, the job machine) raises :class:`Refused` with a sentence
written for the person who asked and the HTTP status it means; the API's one exception
handler (``mendel.api.exception_handler``) turns it into the one error shape,
``{"error": sentence}`` (plus ``"fields"`` for a 400 about a named field, and
``"retry_after"`` with a ``Retry-After`` header when the wait is known). Pages show the
sentence next to the form.
"""

from __future__ import annotations

from rest_framework.response import Response


class Refused(Exception):
    """A request refused: ``message`` (a sentence for people), ``status_code`` (the HTTP
    status it means: 400 unless said), the form ``field`` it is about (if any) and, for a
    429 or 503, ``wait``: the seconds to wait before trying again."""

    def __init__(self, message: str, status_code: int = 400, field: str | None = None,
                 wait: int | None = None) -> None:
        message = str(message)  # a lazy sentence is said now, in the asker's language
        super().__init__(message)
        self.message, self.status_code, self.field, self.wait = message, status_code, field, wait

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict:
        """The one error shape of this refusal."""
        body: dict = {"error": self.message}
        if self.status_code == 400 and self.field:
            body["fields"] = {self.field: [self.message]}
        if self.wait is not None:
            body["retry_after"] = self.wait
        return body

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.wait)} if self.wait is not None else {}

    def response(self) -> Response:
        """The answer of a view that returns its refusal instead of raising it."""
        return Response(self.body(), status=self.status_code, headers=self.headers())
