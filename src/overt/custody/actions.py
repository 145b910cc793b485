"""Every action the custody log records, with when it is recorded.

The one list: `record()` refuses any other action, and the table of actions in
docs/custody.md is generated from it (`make docs`).
"""

from __future__ import annotations

# action -> when it is recorded (Markdown, one sentence)
ACTION_DESCRIPTIONS: dict[str, str] = {
    "ingest": (
        'an original is received and stored; again, with `"duplicate": true` and the new '
        "delivery's officer, device and source, whenever known bytes arrive again"
    ),
    "view": (
        "someone starts playback of a recording (at each playback start one entry for each of"
        " its originals, with the justification)"
    ),
    "download": "an original or derivative is downloaded",
    "export": "footage or its custody report is exported (a custody report is made)",
    "share": "footage is shared with someone outside the force (e.g. CPS, defence)",
    "metadata-change": (
        "catalogue details (officer, times, title, notes, ...) are changed, or an officer, a "
        "device or a camera assignment is registered"
    ),
    "category-change": "an evidential category is added or removed",
    "marker-add": "a timestamped marker is added",
    "transcript-correct": (
        "a person corrects a transcript: a new version (its hash, the version it corrects); "
        "the machine's text is kept"
    ),
    "hold-set": "a legal hold is placed (retention suspended)",
    "hold-release": "a legal hold is lifted",
    "delete": "footage is marked for deletion",
    "purge": "footage bytes are destroyed under the retention rules",
    "derivative-create": (
        "a derivative (browser proxy, poster, sprite, waveform) is made from an original"
    ),
    "redaction": "a redacted version is produced",
    "login": "a user signs in",
    "login-failed": "a sign-in attempt fails",
    "permission-change": ("a user's roles or access change"),
    "access-refused": (
        "the access rules refused someone an action on a recording (e.g. an involved officer "
        "under a post-incident lock); the attempted action, relations and reason are in the "
        "details"
    ),
    "break-glass": (
        "someone opened a recording they may not normally see, in an emergency, with a reason"
        " (evidence managers are alerted)"
    ),
    "case-change": (
        "a case is opened or closed, an item is added to or removed from it, or marked (or "
        "no longer marked) do-not-disclose"
    ),
    "share-refused": (
        "an outside recipient's link was refused: a wrong or rate-limited code, or a share "
        "that is revoked or expired, or an item that was removed or purged"
    ),
    "device-enrolment": (
        "a camera's one-time enrolment code is issued, used (the camera's new signing key, "
        "never the code) or refused"
    ),
    "device-revocation": "a camera is revoked (tokens, keys and codes end) or reinstated",
    "capture-manifest": (
        "a camera sends a segment's signed capture manifest (kept as received, with whether "
        "its signature holds)"
    ),
    "capture-verdict": (
        "a recording's capture signature changes as its segments and manifests arrive (one "
        "entry for each of its originals, with the problems)"
    ),
    "deployments-import": (
        "deployments (CAD, firearms authorisations, stop and search, use of force) are imported "
        "or corrected; the file's SHA-256 and the references are in the details"
    ),
    "complaint": (
        "a complaint is registered, footage is linked to it (placing a complaint hold) or it is "
        "closed with its outcome (releasing the holds)"
    ),
    "review-draw": (
        "a supervisor-review sample is drawn for a team and week, with its seed and weights"
    ),
    "review-outcome": "a supervisor records a sampled recording's review, with reason codes",
    "transparency-report": (
        "a public transparency report is published: the SHA-256 of its figures, signed into the "
        "log"
    ),
    "config-change": "an instance setting changes",
    "verify": "`overt verify` or the scrub job ran (with its result)",
}

ACTIONS = frozenset(ACTION_DESCRIPTIONS)
