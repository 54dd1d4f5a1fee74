"""Each demo role logs in, sees its navigation in its language, switches between
Russian and English, and logs out; access rules hold when typing URLs."""

from __future__ import annotations

from lavka.clients.models import Client
from lavka.demo.data import DEMO_PASSWORD, load_demo
from tests.browser.conftest import log_in, log_out, screenshot

EN = {
    "home": "Home",
    "clients": "Clients",
    "sales": "Sales",
    "keyaccounts": "Key accounts",
    "marketing": "Marketing",
    "service": "Service",
    "analytics": "Analytics",
    "automation": "Automation",
    "settings": "Settings",
}
RU = {
    "home": "Главная",
    "clients": "Клиенты",
    "sales": "Продажи",
    "keyaccounts": "Ключевые клиенты",
    "marketing": "Маркетинг",
    "service": "Сервис",
    "analytics": "Аналитика",
    "automation": "Автоматизация",
    "settings": "Настройки",
}
ALL = list(EN)
REP = ["home", "clients", "sales", "keyaccounts", "service", "analytics", "settings"]

# username -> (language set on the user, navigation the role shows)
DEMO_USERS = {
    "admin": ("ru", ALL),
    "manager": (
        "en",
        [
            "home",
            "clients",
            "sales",
            "keyaccounts",
            "marketing",
            "service",
            "analytics",
            "settings",
        ],
    ),
    "anna": ("ru", REP),
    "ivan": ("en", REP),
    "pavel": ("ru", REP),
    "maria": ("en", ["home", "clients", "marketing", "analytics", "automation", "settings"]),
    "sergey": ("ru", ["home", "clients", "service", "settings"]),
    "olga": ("en", ALL),
}


def nav(page) -> dict[str, str]:
    links = page.locator("nav#main-nav a[data-nav]")
    return {
        links.nth(i).get_attribute("data-nav"): links.nth(i).inner_text().strip()
        for i in range(links.count())
    }


def test_every_demo_role_logs_in_switches_language_and_logs_out(browser):
    load_demo(compact=True)

    for username, (language, keys) in DEMO_USERS.items():
        page = browser.new_page()
        log_in(page, username, DEMO_PASSWORD)

        own = RU if language == "ru" else EN
        assert nav(page) == {k: own[k] for k in keys}, username
        assert page.locator("html").get_attribute("lang") == language

        page.click("[data-testid=lang-ru]")
        page.wait_for_selector("html[lang=ru]")
        assert nav(page) == {k: RU[k] for k in keys}, username

        page.click("[data-testid=lang-en]")
        page.wait_for_selector("html[lang=en]")
        assert nav(page) == {k: EN[k] for k in keys}, username

        log_out(page)
        assert page.locator("input[name=username]").is_visible()
        page.goto("/")
        assert "/login/" in page.url


def test_a_rep_cannot_open_another_teams_client_by_url(browser):
    load_demo(compact=True)
    anna_client = Client.objects.filter(owner__username="anna").first()
    pavel_client = Client.objects.filter(owner__username="pavel").first()
    page = browser.new_page()
    log_in(page, "pavel", DEMO_PASSWORD)

    response = page.goto(f"/clients/{anna_client.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Страница не найдена").is_visible()

    response = page.goto(f"/clients/{anna_client.pk}/edit/")
    assert response.status == 404

    response = page.goto(f"/clients/{pavel_client.pk}/")
    assert response.status == 200
    assert page.get_by_role("heading", name=pavel_client.name).is_visible()


def test_screens_in_both_languages_narrow_and_wide(browser):
    load_demo(compact=True)
    for language in ("en", "ru"):
        for width, label in ((1280, "wide"), (390, "narrow")):
            page = browser.new_page(width=width, height=844 if width < 800 else 800)
            log_in(page, "manager", DEMO_PASSWORD)
            page.click(f"[data-testid=lang-{language}]")
            page.wait_for_selector(f"html[lang={language}]")
            for path in ("/", "/clients/"):
                page.goto(path)
                name = "home" if path == "/" else "clients"
                screenshot(page, f"{name}-{language}-{label}")
            # Nothing may overflow the window horizontally, in either language.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (language, label, overflow)
