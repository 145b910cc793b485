"""Errors of the custody log, with messages meant for the person at the command line."""

from __future__ import annotations


class CustodyError(Exception):
    """A custody operation could not be done; the message says why."""


class ProofError(CustodyError):
    """A proof was asked for sizes or entries the log does not have."""
