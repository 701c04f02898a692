"""Browser tests: a real Chromium (Debian's package) driven by Playwright against `live_server`.

Never run `playwright install`: the suite uses the system Chromium, found at $CHROMIUM or
/usr/bin/chromium. Without one the tests are skipped, except under CI=true where they fail.
"""

import datetime
import importlib
import os
import shutil
import zoneinfo
from types import SimpleNamespace

import pytest

# Playwright's sync API runs an asyncio event loop in this thread; Django would otherwise refuse
# ORM calls made from the test (factories, fixtures) as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's "wcag22aa" tag covers the 2.2 additions).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Fail quickly and readably instead of Playwright's 30-second default.
TIMEOUT_MS = 10_000

PASSWORD = "correct horse battery staple"


def _chromium_path(candidate):
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which(candidate)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test gets its own context."""
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    executable = _chromium_path(candidate)
    if not executable:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"Chromium is required in CI for the browser tests, and there is none at "
                f"{candidate}: install Debian's chromium (apt-get install chromium) or set "
                "CHROMIUM to its path.",
                pytrace=False,
            )
        pytest.skip(
            f"No Chromium at {candidate} (set CHROMIUM to another path); "
            "install Debian's chromium: apt-get install chromium"
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_context(browser, live_server):
    """Make browser contexts (fresh cookies, like a new visitor) closed after the test.

    Pages opened in them resolve relative addresses against the live server.
    """
    contexts = []

    def make(**options):
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "Europe/London")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh context with JavaScript on."""
    return new_context().new_page()


@pytest.fixture
def page_no_js(new_context):
    """A page in a fresh context with JavaScript disabled."""
    return new_context(java_script_enabled=False).new_page()


def axe_check(page):
    """Assert that axe-core finds no WCAG 2.2 A/AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def log_in(context, user, live_server):
    """Give a browser context a signed-in session for `user` (skipping the login form)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": live_server.url}]
    )


@pytest.fixture(autouse=True)
def _page_cache_on(page_cache):
    """Browsers meet the site as residents do, through the page cache: these tests commit
    for real, so every change invalidates it as in production."""


@pytest.fixture
def site_content(transactional_db):
    """The Site, the footer's flat pages, the house rules and the Authors group, as the
    migrations make them.

    `live_server` makes every test transactional, and a transactional test ends by flushing
    the database: whatever the data migration created is gone for the tests that follow
    (post_migrate puts back only content types, permissions and an example.com Site).
    Recreating it here, from the migration's own text, keeps each test independent of test
    order on SQLite and PostgreSQL alike. `serialized_rollback=True` does not: after an
    earlier live-server test's flush, its restore collides with the content types that
    post_migrate recreated (IntegrityError on django_content_type, on both databases).
    """
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission
    from django.contrib.flatpages.models import FlatPage
    from django.contrib.sites.models import Site

    migration = importlib.import_module("posts.migrations.0002_authors_group_and_pages")
    site, _ = Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": "localhost:8000", "name": settings.SITE_NAME}
    )
    pages = {}
    for url, title, content in migration.PAGES:
        page, _ = FlatPage.objects.get_or_create(
            url=url, defaults={"title": title, "content": content}
        )
        page.sites.add(site)
        pages[url] = page

    from django.apps import apps

    from comments.models import HouseRule

    rules = importlib.import_module("comments.migrations.0002_rules_groups_settings")
    for number, title in rules.RULES:
        HouseRule.objects.get_or_create(number=number, defaults={"title": title})
    # The house rules' text, and the markers where the footer pages show rules and periods.
    importlib.import_module("comments.migrations.0003_house_rule_text").forwards(apps, None)
    # …and the privacy notice's "Your rights", pointing at "Your comments and your data".
    importlib.import_module("comments.migrations.0006_data_rights").forwards(apps, None)
    for page in pages.values():
        page.refresh_from_db()

    group, _ = Group.objects.get_or_create(name="Authors")
    codenames = [
        f"{action}_{model}"
        for model in migration.AUTHOR_MODELS
        for action in ("add", "change", "delete", "view")
    ]
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="posts", codename__in=codenames)
    )
    return {"site": site, "pages": pages, "authors_group": group}


@pytest.fixture
def author_user(site_content, author_user):
    """The project's `author_user`, once the Authors group exists again (see site_content)."""
    return author_user


LONDON = zoneinfo.ZoneInfo("Europe/London")

SURGERY_BODY = """\
I hold a surgery every month where any resident can come and raise a problem in person.
No appointment is needed.

## Dates and places

| Date | Time | Place |
|---|---|---|
| Saturday 2 July | 10:00–12:00 | Church End Library |
| Saturday 6 August | 10:00–12:00 | Finchley Youth Theatre |

{image}

> Residents raised forty-two cases at surgeries last year; most were about parking.

The council publishes every councillor's surgery times at
<https://www.barnet.gov.uk/councillors-and-democracy/councillor-surgeries-in-finchley-church-end-2011>.
"""


def london(*args):
    return datetime.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def blog(site_content):
    """Three published posts over three months, one with a picture, a document and tags."""
    from django.core.files.base import ContentFile

    from posts.models import Attachment
    from tests.factories import (
        AuthorFactory,
        CategoryFactory,
        ImageFactory,
        PostFactory,
        TagFactory,
    )

    author = AuthorFactory(
        display_name="Robert Rams",
        slug="robert-rams",
        bio="Councillor for Finchley Church End.",
    )
    libraries = CategoryFactory(name="Libraries", slug="libraries")
    ward_news = CategoryFactory(name="Ward news", slug="ward-news")
    surgeries = TagFactory(name="surgeries", slug="surgeries")
    budget = TagFactory(name="budget", slug="budget")
    picture = ImageFactory(
        title="Church End Library", alt_text="The entrance of Church End Library"
    )

    older = PostFactory(
        title="Library strategy: more books, not fewer branches",
        published_at=london(2011, 5, 12, 10, 0),
        author=author,
        body="The library strategy agreed this week changes how the service works.",
        categories=[libraries],
        tags=[budget],
    )
    post = PostFactory(
        title="Ward surgery dates for the summer",
        published_at=london(2011, 6, 30, 12, 0),
        author=author,
        body=SURGERY_BODY.format(image=picture.markdown),
        image=picture,
        image_alt="Residents queueing outside Church End Library for a Saturday surgery",
        categories=[ward_news],
        tags=[surgeries],
    )
    Attachment.objects.create(
        post=post,
        title="Surgery timetable 2011",
        file=ContentFile(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", name="timetable.pdf"),
    )
    newer = PostFactory(
        title="Parking charges: the consultation opens",
        published_at=london(2011, 7, 14, 9, 30),
        author=author,
        body="The consultation on parking charges in Church End opens today.",
        categories=[ward_news],
        tags=[budget],
    )
    return SimpleNamespace(
        author=author,
        libraries=libraries,
        ward_news=ward_news,
        surgeries=surgeries,
        budget=budget,
        picture=picture,
        older=older,
        post=post,
        newer=newer,
    )
