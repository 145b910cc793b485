"""The retention stage's services, in one place for callers: categorise, hold, trigger,
review, recycle, recover, purge, early deletion, the daily run, the lists for people and
the policies. Each lives in its own module; this façade re-exports them.

Safety rules every service keeps:

- A hold beats everything. Each action that could remove evidence locks the recording
  row (on SQLite the database write lock, taken at BEGIN IMMEDIATE) and re-checks holds
  under that lock, in the same transaction as its effect. A hold that commits before a
  purge takes the lock always wins; one that arrives while the bytes are being removed
  waits for the lock and is then refused, naming the deletion certificate.
- Nothing is removed for space, and nothing is removed early: due dates come from
  overt.retention.rules, re-evaluated under the lock, and a real run refuses an as-of
  date in the future.
- Every action is a custody log entry written in the action's own transaction.
- A purge that fails part-way (an S3 error, an Object Lock, a disk error) commits what it
  did remove, catalogue and store alike, and the next run finishes it.
- Services raise the domain errors below (NotFound, Refused), never HTTP ones; the web,
  API and CLI edges turn them into problem+json, pages or exit statuses.

Modules, by concern: common (errors, locking, custody helpers), facts (what retention is
decided on), decisions (categories, triggers, reviews, recovery by hand), holds, disposal
(the recycle bin), purge (with references), certificates, early_deletion, daily (the
run), queries (typed rows for people) and policies.
"""

from __future__ import annotations

from .certificates import CERTIFICATE_SCHEMA, certificate_body
from .common import JOB_ACTOR, OPEN, NotFound, Refused, RetentionError
from .daily import RunReport, run_retention
from .decisions import add_trigger, categorize, keep_until, recover
from .disposal import recycle
from .early_deletion import (
    APPROVE_PERMISSION,
    decide_deletion,
    may_delete_early,
    request_deletion,
)
from .facts import (
    default_rule,
    live_recordings,
    load_facts,
    recycle_window,
    retention_of,
    retentions,
)
from .holds import HoldResult, release_hold, set_hold
from .policies import (
    PolicyRow,
    assign_policy,
    categories_without_policy,
    policies,
    set_policy,
)
from .purge import Observer, Outcome, purge
from .queries import (
    HoldSummary,
    RecordingRow,
    ReviewRow,
    UncategorisedRow,
    UpcomingRow,
    recording_rows,
    review_due,
    uncategorised,
    upcoming,
)

__all__ = [
    "APPROVE_PERMISSION",
    "CERTIFICATE_SCHEMA",
    "JOB_ACTOR",
    "OPEN",
    "HoldResult",
    "HoldSummary",
    "NotFound",
    "Observer",
    "Outcome",
    "PolicyRow",
    "RecordingRow",
    "Refused",
    "RetentionError",
    "ReviewRow",
    "RunReport",
    "UncategorisedRow",
    "UpcomingRow",
    "add_trigger",
    "assign_policy",
    "categories_without_policy",
    "categorize",
    "certificate_body",
    "decide_deletion",
    "default_rule",
    "keep_until",
    "live_recordings",
    "load_facts",
    "may_delete_early",
    "policies",
    "purge",
    "recording_rows",
    "recover",
    "recycle",
    "recycle_window",
    "release_hold",
    "request_deletion",
    "retention_of",
    "retentions",
    "review_due",
    "run_retention",
    "set_hold",
    "set_policy",
    "uncategorised",
    "upcoming",
]
