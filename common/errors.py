"""A request refused, in the one error shape of the API."""

from __future__ import annotations

from rest_framework.response import Response


class Refused(Exception):
    """A request refused: a sentence, the HTTP status, the form field it is about, and for a
    429 the seconds to wait."""

    def __init__(self, message: str, status_code: int = 400, field: str = "file",
                 wait: int | None = None) -> None:
        super().__init__(message)
        self.message, self.status_code, self.field, self.wait = message, status_code, field, wait

    def response(self) -> Response:
        body: dict = {"error": self.message}
        headers = {}
        if self.status_code == 400:
            body["fields"] = {self.field: [self.message]}
        if self.wait is not None:
            body["retry_after"] = self.wait
            headers["Retry-After"] = str(self.wait)
        return Response(body, status=self.status_code, headers=headers)
