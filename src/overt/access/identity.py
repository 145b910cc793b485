"""Who is asking: a user's standing (role, officer, team, an API token's scopes), read
once per request and cached on the user object. The access service decides from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from overt.conf import get_settings

from .matrix import Role, needs_second_factor

User = AbstractBaseUser | AnonymousUser

# Set on a user object by the API token authentication: the token's scopes narrow the
# user's own permissions (never widen them).
SCOPES_ATTR = "_overt_token_scopes"


def signed_in(user: User | None) -> TypeGuard[AbstractBaseUser]:
    return bool(user and user.is_authenticated and user.is_active)


@dataclass(frozen=True)
class Standing:
    """What overt knows about one user, read once per request (cached on the user)."""

    user_id: int | None
    username: str
    role: Role | None
    officer_id: int | None
    team: str
    scopes: frozenset[str] | None


def standing(user: User | None) -> Standing:
    if not signed_in(user):
        return Standing(None, "", None, None, "", frozenset())
    cached: Standing | None = getattr(user, "_overt_standing", None)
    if cached is not None:
        return cached
    from .models import UserProfile

    profile = UserProfile.objects.select_related("officer").filter(user_id=user.pk).first()
    role = Role(profile.role) if profile else None
    team = ""
    officer_id = None
    if profile:
        officer_id = profile.officer_id
        team = profile.team or (profile.officer.team if profile.officer else "")
    scopes = getattr(user, SCOPES_ATTR, None)
    result = Standing(
        user.pk,
        user.get_username(),
        role,
        officer_id,
        team,
        frozenset(scopes) if scopes is not None else None,
    )
    # Cached on the user object itself, an attribute its type does not know.
    user._overt_standing = result  # type: ignore[attr-defined]
    return result


def forget(user: User) -> None:
    """Drop the cached standing (after a role change in the same request or test)."""
    if hasattr(user, "_overt_standing"):
        del user._overt_standing




def needs_totp(user: User | None) -> bool:
    return needs_second_factor(standing(user).role, get_settings().totp_required_from)
