"""Domain exceptions, mapped once to HTTP status codes (web) and exit codes (CLI)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause. ``field`` names the input at fault, if any."""

    http_status = 400
    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None,
                 params: dict | None = None):
        """``message`` is an English msgid of the translation catalogue; ``{name}`` placeholders
        are filled from ``params`` (the web layer translates the msgid first, then fills)."""
        self.template = message
        self.params = params or {}
        self.message = message.format(**self.params) if self.params else message
        super().__init__(self.message)
        self.field = field
        self.details = details or {}

    def to_dict(self) -> dict:
        body: dict = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    http_status = 404
    exit_code = 4
    code = "not_found"


class PermissionDenied(DomainError):
    http_status = 403
    exit_code = 3
    code = "permission_denied"


class NotAuthenticated(DomainError):
    http_status = 401
    exit_code = 3
    code = "not_authenticated"


class InvalidTransition(DomainError):
    http_status = 409
    exit_code = 5
    code = "invalid_transition"


class Conflict(DomainError):
    """Someone else changed the record first (optimistic locking), or a uniqueness clash."""

    http_status = 409
    exit_code = 5
    code = "conflict"


class ValidationFailed(DomainError):
    http_status = 422
    exit_code = 2
    code = "validation_failed"


class RateLimited(DomainError):
    http_status = 429
    exit_code = 6
    code = "rate_limited"
