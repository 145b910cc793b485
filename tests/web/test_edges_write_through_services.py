"""Issue 12, item 2: views, API views and CLI commands write no model themselves; every
write goes through its stage's service, which checks it and logs it to the custody log in
the same transaction. This reads the edge modules' source (AST) and fails on a model
write found there: `<Model>.objects....create/get_or_create/update_or_create/bulk_create/
bulk_update/update/delete/create_user(...)`, and any `.save(...)` or `.delete(...)` on an object.

A `.update(...)` on anything but a manager chain is not counted: in the edges it is a dict
or a progress bar, never a queryset (a queryset held in a variable would be missed; the
services are where querysets are written)."""

from __future__ import annotations

import ast
from pathlib import Path

import overt

SRC = Path(overt.__file__).parent
MANAGER_WRITES = {
    "create",
    "create_user",
    "create_superuser",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
}
OBJECT_WRITES = {"save", "delete"}

# (module, what is written): writes that stay in an edge, and why.
ALLOWED = {
    # A reviewer's own saved library queries: a preference of the page, not evidence,
    # access or configuration, so no custody entry and no service of their own.
    ("review/views/searches.py", "SavedSearch.objects.update_or_create"),
    ("review/views/searches.py", "get_object_or_404(SavedSearch).delete"),
}


def edge_modules() -> list[Path]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if (
            parts[0] in {"api", "cli"}
            or path.name in {"views.py", "web.py", "api.py"}
            or "views" in parts[:-1]
        ):
            found.append(path)
    return found


def _chain(node: ast.AST) -> list[str]:
    """`A.objects.filter(x).first()` -> ['A', 'objects', 'filter', 'first']."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.args:  # get_object_or_404(Model, ...)
                first = node.args[0]
                inner = first.id if isinstance(first, ast.Name) else "?"
                names.append(f"{node.func.id}({inner})")
                break
            node = node.func
        elif isinstance(node, ast.Name):
            names.append(node.id)
            break
        else:
            names.append("?")
            break
    return names[::-1]


def writes_in(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        verb, receiver = node.func.attr, _chain(node.func.value)
        through_manager = "objects" in receiver and verb in MANAGER_WRITES
        if through_manager or verb in OBJECT_WRITES:
            shown = receiver[: receiver.index("objects") + 1] if through_manager else receiver
            found.append((node.lineno, ".".join([*shown, verb])))
    return found


def test_the_scan_finds_the_writes_it_looks_for() -> None:
    """The check itself: each shape of write is found, a dict's update is not."""
    source = (
        "Officer.objects.get_or_create(number=n)\n"
        "DeviceAssignment.objects.filter(device=d).update(ends_at=t)\n"
        "target.save(update_fields=['is_active'])\n"
        "TOTPDevice.objects.filter(user=u).delete()\n"
        "get_object_or_404(Marker, pk=1).delete()\n"
        "context.update(extra)\n"
    )
    assert [what for _, what in writes_in(source)] == [
        "Officer.objects.get_or_create",
        "DeviceAssignment.objects.update",
        "target.save",
        "TOTPDevice.objects.delete",
        "get_object_or_404(Marker).delete",
    ]


def test_no_view_or_command_writes_a_model_itself() -> None:
    modules = edge_modules()
    names = {str(m.relative_to(SRC)) for m in modules}
    assert {"api/editing.py", "cli/users.py", "cli/catalogue.py", "access/views/signin.py"} <= names
    found = {
        (str(path.relative_to(SRC)), what, line)
        for path in modules
        for line, what in writes_in(path.read_text(encoding="utf-8"))
    }
    unexpected = sorted(f"{m}:{line}: {what}" for m, what, line in found if (m, what) not in ALLOWED)
    assert not unexpected, "write through the stage's service instead:\n" + "\n".join(unexpected)
    stale = ALLOWED - {(m, what) for m, what, _ in found}
    assert not stale, f"allowed writes no longer there (remove them from ALLOWED): {stale}"
