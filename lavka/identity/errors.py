from django.utils.translation import gettext_lazy as _

from lavka.core.errors import DomainError


class LoginLocked(DomainError):
    code = "login_locked"
    http_status = 429
    message = _("Too many failed attempts. Wait a few minutes before trying again.")


class BadCredentials(DomainError):
    code = "bad_credentials"
    http_status = 401
    message = _("The username or password is wrong.")


class TeamCycle(DomainError):
    code = "team_cycle"
    message = _("A team cannot be placed under itself or under one of its own sub-teams.")


class LastAdministrator(DomainError):
    code = "last_administrator"
    message = _("This is the last active administrator; keep at least one.")
