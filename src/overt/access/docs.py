"""docs/access.md's generated part: the permission matrix as tables (`make docs`)."""

from __future__ import annotations

from .matrix import (
    BASE_RELATIONS,
    CAPABILITIES,
    CUSTODY_ACTIONS,
    JUSTIFIED,
    ROLE_DESCRIPTIONS,
    ROLE_ORDER,
    ROLES_WITH_OFFICER,
    Action,
    Capability,
    Relation,
    Role,
    cell,
    size,
)

ACTION_TEXT = {
    Action.LIST: "know it exists: listings, search results, its title and officer",
    Action.VIEW: "open the recording page or its API details",
    Action.STREAM: "watch its footage (the proxy, a redacted copy): the reason is asked "
    "once on the recording page and opens a grant for the session",
    Action.DOWNLOAD: "take an original's bytes",
    Action.EXPORT: "a disclosure package: footage leaving overt",
    Action.EDIT: "notes, markers, categories, tags, incident links",
    Action.REDACT: "make a redacted copy",
    Action.AUDIT: "its custody report and custody entries",
}
RELATION_TEXT = {
    Relation.OWN: "filmed by the officer linked to the user",
    Relation.TEAM: "filmed by an officer of the user's team",
    Relation.ASSIGNED: "the user is assigned to it, or to its incident",
    Relation.SHARED: "shared with the user; the share has not expired or been revoked",
    Relation.CASE: "an item of a case the user is on (officer in charge, disclosure officer, "
    "member, or given it until an expiry that has not passed)",
    Relation.OTHER: "none of the five above",
    Relation.LOCKED: "its incident is under post-incident procedure, the user's officer is "
    "one of the involved officers, and the Post Incident Manager has not released it",
    Relation.RESTRICTED: "marked restricted or confidential, and neither the user nor "
    "their role is named",
    Relation.BREAK_GLASS: "the user opened it with break-glass access, which has not expired",
}


def _cell(role: Role, relation: Relation) -> str:
    if relation is Relation.LOCKED and role not in ROLES_WITH_OFFICER:
        return "n/a"
    actions = cell(role, relation)
    if not actions:
        return "—"
    return ", ".join(a.value for a in Action if a in actions)


def matrix_markdown() -> str:
    roles, actions, relations = size()
    lines = [
        "## Roles",
        "",
        "| role | who | second factor by default | may also |",
        "| --- | --- | --- | --- |",
    ]
    threshold = ROLE_ORDER.index(Role.SUPERVISOR)
    for role in ROLE_ORDER:
        caps = ", ".join(c.value for c in Capability if c in CAPABILITIES[role]) or "—"
        totp = "TOTP" if ROLE_ORDER.index(role) >= threshold else "—"
        lines.append(f"| `{role.value}` | {ROLE_DESCRIPTIONS[role]} | {totp} | {caps} |")
    lines.append("| (no role) | A user without a role, e.g. one just created by hand. | — | — |")
    lines += [
        "",
        "## Actions on a recording",
        "",
        "| action | means | asks a reason | custody entry |",
        "| --- | --- | --- | --- |",
    ]
    for action in Action:
        reason = "yes" if action in JUSTIFIED else "—"
        entry = f"`{CUSTODY_ACTIONS[action]}`" if action in CUSTODY_ACTIONS else "—"
        lines.append(f"| `{action.value}` | {ACTION_TEXT[action]} | {reason} | {entry} |")
    lines += ["", "## Relations", "", "| relation | the recording is ... |", "| --- | --- |"]
    for relation in Relation:
        lines.append(f"| `{relation.value}` | {RELATION_TEXT[relation]} |")
    lines += [
        "",
        "## The matrix",
        "",
        "Each cell lists what the role may do to a recording in that relation. A recording "
        "can stand in several relations at once: the base relations ("
        + ", ".join(f"`{r.value}`" for r in BASE_RELATIONS)
        + ") add up; `restricted` then cuts the result down to its cell (nothing, unless "
        "the user or role is named, in which case the recording is not `restricted` for "
        "them); `break-glass` adds its cell back; `post-incident-locked` finally cuts "
        "everything down to its cell, so break-glass never opens footage to an involved "
        "officer. A role with no cell, and a user with no role, may do nothing.",
        "",
        "| role | " + " | ".join(f"`{r.value}`" for r in Relation) + " |",
        "| --- |" + " --- |" * len(Relation),
    ]
    for role in ROLE_ORDER:
        row = " | ".join(_cell(role, r) for r in Relation)
        lines.append(f"| `{role.value}` | {row} |")
    lines += [
        "",
        f"Matrix size: {roles} roles (with 'no role') x {actions} actions x {relations} "
        f"relations = {roles * actions * relations} cells, each tested through the web "
        "pages and the API by tests/access/test_matrix.py.",
    ]
    return "\n".join(lines)
