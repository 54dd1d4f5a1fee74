from __future__ import annotations

import pytest
from django.utils import timezone, translation

from tests.factories import TeamFactory, UserFactory, role


@pytest.fixture(autouse=True)
def _language_and_time_zone_reset():
    """Every test starts in the default language and time zone: a request by a user
    who works in Russian activates Russian for the thread (UserPreferencesMiddleware),
    and a later test in the same worker would otherwise read Russian messages."""
    translation.deactivate()
    timezone.deactivate()
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture
def org(db):
    """A small company: Head office > Sales > Sales Moscow > Moscow North, and
    Sales > Sales St Petersburg, with one user per role in Sales Moscow."""

    class Org:
        pass

    o = Org()
    o.head = TeamFactory(name="Head office")
    o.sales = TeamFactory(name="Sales", parent=o.head)
    o.moscow = TeamFactory(name="Sales Moscow", parent=o.sales)
    o.north = TeamFactory(name="Moscow North", parent=o.moscow)
    o.spb = TeamFactory(name="Sales St Petersburg", parent=o.sales)
    o.admin = UserFactory(username="admin", team=o.head, role=role("administrator"))
    o.manager = UserFactory(username="manager", team=o.moscow, role=role("sales_manager"))
    o.rep = UserFactory(username="rep", team=o.moscow, role=role("sales_rep"))
    o.colleague = UserFactory(username="colleague", team=o.moscow, role=role("sales_rep"))
    o.north_rep = UserFactory(username="northrep", team=o.north, role=role("sales_rep"))
    o.sales_boss = UserFactory(username="salesboss", team=o.sales, role=role("sales_manager"))
    o.spb_rep = UserFactory(username="spbrep", team=o.spb, role=role("sales_rep"))
    o.marketer = UserFactory(username="marketer", team=o.moscow, role=role("marketer"))
    o.agent = UserFactory(username="agent", team=o.moscow, role=role("service_agent"))
    o.analyst = UserFactory(username="analyst", team=o.moscow, role=role("analyst"))
    o.nobody = UserFactory(username="norole", team=o.moscow, role=None)
    return o


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd); Django sends to it over SMTP."""
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield handler
    finally:
        controller.stop()
