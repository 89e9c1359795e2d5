"""Errors that carry a message for the user (in Chinese) and leave nothing changed."""

from __future__ import annotations


class UserError(Exception):
    """A refused operation; `message` is shown to the user as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(UserError):
    """Several field errors at once: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.items()), ("", [""]))
        super().__init__(first[1][0], field=first[0] or None)
        self.errors = errors
