"""Authentication by username and password; permissions from the user's role.

`user.has_perm("lavka.<capability>")` answers from the role's capabilities, so apps
below identity (audit) can ask without importing it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from lavka.identity.access import has_capability

PREFIX = "lavka."


class RoleBackend(ModelBackend):
    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if perm.startswith(PREFIX):
            return has_capability(user_obj, perm.removeprefix(PREFIX))
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return False

    def get_user(self, user_id: Any) -> Any:
        from lavka.identity.models import User

        try:
            user = User.objects.select_related("role", "team").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
