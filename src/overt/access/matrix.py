"""The permission matrix: who may do what to which recording, defined once, as data.

Every decision in `overt.access.services` is read from the tables here, `docs/access.md`
is generated from them (`make docs`) and the matrix test in tests/access walks every cell
through the web pages and the API.

A user has exactly one role. A recording stands in one or more *relations* to a user:

- base relations, which grant: own, team, assigned, shared, case, other;
- modifiers, which only take away: post-incident-locked (only ever for a user linked to an
  involved officer, so only for the roles in ROLES_WITH_OFFICER) and restricted;
- break-glass, an emergency grant that overrides `restricted` but never a post-incident lock.

The actions allowed are the union of the role's cells for the base relations (plus the
break-glass cell), cut down to each modifier's cell. A role not in the table (or a user with
no role) may do nothing.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    EVIDENCE_MANAGER = "evidence-manager"
    INVESTIGATOR = "investigator"
    PROSECUTOR = "prosecutor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    """What can be done to one recording."""

    LIST = "list"  # know it exists: listings, search, its title and officer
    VIEW = "view"  # open the recording page, see its details
    STREAM = "stream"  # play the footage (proxy or other video derivative)
    DOWNLOAD = "download"  # take the original's bytes
    EXPORT = "export"  # disclosure package: footage leaving overt
    EDIT = "edit"  # notes, markers, categories, tags, incident links
    REDACT = "redact"  # make a redacted copy
    AUDIT = "audit"  # the recording's custody report and custody entries


class Relation(StrEnum):
    OWN = "own"  # the user's linked officer filmed it
    TEAM = "team"  # filmed by an officer of the user's team
    ASSIGNED = "assigned"  # the user is assigned to it, or to its incident
    SHARED = "shared"  # shared with the user, unexpired and unrevoked
    CASE = "case"  # an item of a case the user is on (overt.cases), unexpired
    OTHER = "other"  # none of the above
    LOCKED = "post-incident-locked"  # the user's officer is involved; not yet released
    RESTRICTED = "restricted"  # an access class that does not name the user or their role
    BREAK_GLASS = "break-glass"  # the user opened it with an emergency reason


class Capability(StrEnum):
    """What a role may do that is not about one recording."""

    MANAGE_USERS = "manage-users"  # add users, change roles, reset second factors
    MANAGE_TOKENS = "manage-tokens"  # API tokens for integrations
    MANAGE_ACCESS = "manage-access"  # assignments, shares, access classes, post-incident
    READ_CUSTODY = "read-custody"  # the custody log, proofs, checkpoints, verify results
    BREAK_GLASS = "break-glass"  # open a recording in an emergency, with a reason
    SEE_ALERTS = "see-alerts"  # break-glass and lockout alerts
    MANAGE_RETENTION = "manage-retention"  # retention pages, holds, deletion
    SEE_JOBS = "see-jobs"  # the background job list, whose subjects name files and recordings
    SEE_OVERSIGHT = "see-oversight"  # compliance dashboards and figures, drill-down within access
    IMPORT_DEPLOYMENTS = "import-deployments"  # import CAD deployments (file, API)
    MANAGE_COMPLAINTS = "manage-complaints"  # register complaints, link footage (holds), close
    SUPERVISOR_REVIEW = "supervisor-review"  # draw the weekly sample, record review outcomes
    PUBLISH_REPORTS = "publish-reports"  # make the signed public transparency report
    MANAGE_CASES = "manage-cases"  # open cases, add and remove items, put people on a case
    SHARE_OUTSIDE = "share-outside"  # share footage with people who have no overt account
    MANAGE_FLEET = "manage-fleet"  # cameras: register, assign, tags, profiles, attribute
    USE_KIOSK = "use-kiosk"  # run the dock kiosk where officers check cameras out and in


BASE_RELATIONS = (
    Relation.OWN,
    Relation.TEAM,
    Relation.ASSIGNED,
    Relation.SHARED,
    Relation.CASE,
    Relation.OTHER,
)
MODIFIERS = (Relation.LOCKED, Relation.RESTRICTED)

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.OFFICER: "Views their own footage; never alters or deletes it.",
    Role.SUPERVISOR: "Sees their team's footage (and their own, when they wear a camera).",
    Role.EVIDENCE_MANAGER: "Sees and manages all footage of the force area; grants access.",
    Role.INVESTIGATOR: "Professional standards or IOPC: sees what they are assigned.",
    Role.PROSECUTOR: "Prosecution or defence: sees only what is shared with them, until "
    "the share expires.",
    Role.AUDITOR: "Reads the custody log and custody reports, never the video.",
    Role.ADMIN: "Manages users and settings; sees no footage (separation of duties).",
}

# The order used by the second-factor threshold (OVERT_TOTP_REQUIRED_FROM): a role needs
# TOTP when it comes at or after the threshold here.
ROLE_ORDER: tuple[Role, ...] = (
    Role.OFFICER,
    Role.SUPERVISOR,
    Role.PROSECUTOR,
    Role.INVESTIGATOR,
    Role.AUDITOR,
    Role.EVIDENCE_MANAGER,
    Role.ADMIN,
)

# Roles whose users may be linked to an officer (they wear cameras, so they can be the
# "own" of a recording and an involved officer of a post-incident procedure).
ROLES_WITH_OFFICER = frozenset({Role.OFFICER, Role.SUPERVISOR})
# Roles whose team is the team they supervise.
ROLES_WITH_TEAM = frozenset({Role.SUPERVISOR})


def _a(text: str) -> frozenset[Action]:
    return frozenset(Action(word) for word in text.split())


ALL = "list view stream download export edit redact audit"
WATCH = "list view stream"

# role -> relation -> allowed actions. A missing cell allows nothing.
RECORDING_RULES: dict[Role, dict[Relation, frozenset[Action]]] = {
    Role.OFFICER: {
        Relation.OWN: _a(WATCH),
        Relation.CASE: _a(WATCH),
        Relation.LOCKED: _a("list"),
    },
    Role.SUPERVISOR: {
        Relation.OWN: _a(WATCH),
        Relation.TEAM: _a(WATCH + " edit"),
        Relation.CASE: _a(WATCH + " edit"),
        Relation.LOCKED: _a("list"),
        Relation.BREAK_GLASS: _a(WATCH),
    },
    Role.EVIDENCE_MANAGER: {
        Relation.OWN: _a(ALL),
        Relation.TEAM: _a(ALL),
        Relation.ASSIGNED: _a(ALL),
        Relation.SHARED: _a(ALL),
        Relation.CASE: _a(ALL),
        Relation.OTHER: _a(ALL),
        Relation.BREAK_GLASS: _a(WATCH),
    },
    Role.INVESTIGATOR: {
        Relation.ASSIGNED: _a(WATCH + " download export edit audit"),
        Relation.CASE: _a(WATCH + " download export edit audit"),
        Relation.BREAK_GLASS: _a(WATCH),
    },
    Role.PROSECUTOR: {
        Relation.SHARED: _a(WATCH + " download audit"),
        Relation.CASE: _a(WATCH + " download audit"),
    },
    Role.AUDITOR: {
        Relation.OWN: _a("audit"),
        Relation.TEAM: _a("audit"),
        Relation.ASSIGNED: _a("audit"),
        Relation.SHARED: _a("audit"),
        Relation.CASE: _a("audit"),
        Relation.OTHER: _a("audit"),
        # Oversight reaches restricted and confidential footage's custody too (never the
        # footage); each read is logged (overt.access.custody_reads).
        Relation.RESTRICTED: _a("audit"),
    },
    Role.ADMIN: {},
}

CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OFFICER: frozenset(),
    Role.SUPERVISOR: frozenset(
        {Capability.BREAK_GLASS, Capability.SEE_OVERSIGHT, Capability.SUPERVISOR_REVIEW}
    ),
    Role.EVIDENCE_MANAGER: frozenset(
        {
            Capability.MANAGE_ACCESS,
            Capability.READ_CUSTODY,
            Capability.BREAK_GLASS,
            Capability.SEE_ALERTS,
            Capability.MANAGE_RETENTION,
            Capability.SEE_JOBS,
            Capability.SEE_OVERSIGHT,
            Capability.IMPORT_DEPLOYMENTS,
            Capability.MANAGE_COMPLAINTS,
            Capability.PUBLISH_REPORTS,
            Capability.MANAGE_CASES,
            Capability.SHARE_OUTSIDE,
        }
    ),
    Role.INVESTIGATOR: frozenset({Capability.SEE_OVERSIGHT, Capability.MANAGE_COMPLAINTS})
    | frozenset({Capability.BREAK_GLASS, Capability.MANAGE_CASES}),
    Role.PROSECUTOR: frozenset(),
    Role.AUDITOR: frozenset(
        {Capability.READ_CUSTODY, Capability.SEE_ALERTS, Capability.SEE_OVERSIGHT}
    ),
    Role.ADMIN: frozenset(
        {
            Capability.MANAGE_USERS,
            Capability.MANAGE_TOKENS,
            Capability.SEE_ALERTS,
            Capability.SEE_JOBS,
        }
    ),
}
# Fleet (issue 18): managing cameras is the evidence team's and the admins'; a kiosk is
# signed in as any of them or as an officer or supervisor (whose tag then names who).
for _role in (Role.EVIDENCE_MANAGER, Role.ADMIN):
    CAPABILITIES[_role] |= {Capability.MANAGE_FLEET, Capability.USE_KIOSK}
for _role in (Role.OFFICER, Role.SUPERVISOR):
    CAPABILITIES[_role] |= {Capability.USE_KIOSK}

# Actions whose every use leaves its own custody entry, and which entry. `view` is the
# justified start of watching (the review page's reason form), which also opens the
# session's stream grant, so playback's many range requests log once. `list` and the
# details behind `view` are catalogue facts, not footage: they are not logged one by one.
CUSTODY_ACTIONS: dict[Action, str] = {
    Action.STREAM: "view",
    Action.DOWNLOAD: "download",
    Action.EXPORT: "export",
    Action.AUDIT: "export",
}
# Actions that first ask for a reason (a category and free text): the "viewing"
# is watching footage (`stream`); `view` opens the page where that reason is asked.
JUSTIFIED = frozenset({Action.STREAM, Action.DOWNLOAD, Action.EXPORT})


def cell(role: Role | None, relation: Relation) -> frozenset[Action]:
    if role is None:
        return frozenset()
    return RECORDING_RULES.get(role, {}).get(relation, frozenset())


def allowed_actions(role: Role | None, relations: frozenset[Relation]) -> frozenset[Action]:
    """The actions a role may take on a recording that stands in `relations` to the user."""
    granted: frozenset[Action] = frozenset()
    for relation in BASE_RELATIONS:
        if relation in relations:
            granted |= cell(role, relation)
    if Relation.RESTRICTED in relations:
        granted &= cell(role, Relation.RESTRICTED)
    if Relation.BREAK_GLASS in relations:
        granted |= cell(role, Relation.BREAK_GLASS)
    if Relation.LOCKED in relations:
        granted &= cell(role, Relation.LOCKED)
    return granted


def decide(role: Role | None, action: Action, relations: frozenset[Relation]) -> bool:
    return action in allowed_actions(role, relations)


def has_capability(role: Role | None, capability: Capability) -> bool:
    return role is not None and capability in CAPABILITIES.get(role, frozenset())


def needs_second_factor(role: Role | None, threshold: str) -> bool:
    if role is None or threshold == "none":
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(Role(threshold))


def size() -> tuple[int, int, int]:
    """Roles (with 'no role'), actions and relations: the matrix's dimensions."""
    return len(Role) + 1, len(Action), len(Relation)
