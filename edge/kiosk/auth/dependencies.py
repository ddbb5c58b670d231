"""The FastAPI dependencies other routes use: the current user, a role, a lane.

FastAPI reads these functions' signatures at run time, and the `Depends(...)` in them name local
values; so this module does without `from __future__ import annotations`.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from edge.kiosk.auth.model import Role, User


def user_dependencies(authorised: Callable[[Request], User]) -> tuple[Callable[..., User], Callable[..., User]]:
    """`current_user` (401 without a session; 403 for a change without its CSRF token) and
    `require_lane` (403 unless the user may act on the route's `lane_id`)."""

    def current_user(request: Request) -> User:
        return authorised(request)

    def require_lane(lane_id: str, user: Annotated[User, Depends(current_user)]) -> User:
        if not user.may_act_on(lane_id):
            raise HTTPException(403, f"{user.username} may not act on lane {lane_id!r}")
        return user

    return current_user, require_lane


def role_dependency(current_user: Callable[..., User], roles: frozenset[Role]) -> Callable[..., User]:
    wanted = " or ".join(sorted(role.value for role in roles))

    def require_role(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise HTTPException(403, f"{user.username} ({user.role.value}) may not do this: it needs a {wanted}")
        return user

    return require_role
