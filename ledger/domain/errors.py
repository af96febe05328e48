"""The one error hierarchy of the domain: every refused command raises a LedgerError."""

from __future__ import annotations


class LedgerError(Exception):
    """A business rule refused the command; nothing was recorded."""


class NotFound(LedgerError):
    """The thing named does not exist (or is not visible to the caller)."""


class Forbidden(LedgerError):
    """The caller may see the thing but may not take this action on it."""


class NotAParty(Forbidden):
    """The actor is not party to this partnership (neither its manager nor its contact)."""


class OutOfScope(NotAParty, NotFound):
    """Not party, and not someone who reads every partnership: to them it does not exist."""


class WrongSide(Forbidden):
    """The action belongs to the other side of the plan."""


class NotAllowedForRole(Forbidden):
    """The actor's role may not take this action."""


class InvalidInput(LedgerError):
    """The values given break a rule of form (SMART terms, dates, amounts)."""


class RuleViolation(LedgerError):
    """The plan's current state forbids the action."""


class ConcurrencyConflict(RuleViolation):
    """Another writer changed the aggregate first; re-read and retry."""


class VersionMismatch(LedgerError):
    """The caller's expected version is not the aggregate's current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, but the current version is {actual}")
        self.expected = expected
        self.actual = actual
