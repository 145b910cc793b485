"""Errors of the custody log, with messages meant for the person at the command line."""

from __future__ import annotations

from overt import errors


class CustodyError(errors.DomainError):
    """A custody operation could not be done; the message says why."""


class ProofError(errors.Invalid, CustodyError):
    """A proof was asked for sizes or entries the log does not have."""
