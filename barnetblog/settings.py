"""
Barnet Blog settings: one module, driven by environment variables.

The defaults suit development on a laptop (SQLite, console email). Production sets the
variables documented in README.md and `.env.example`; `manage.py check --deploy
--fail-level WARNING` passes with them.
"""

import datetime
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# Production (DJANGO_SECURE=true) serves HTTPS only, with secure cookies and HSTS.
SECURE = env_bool("DJANGO_SECURE", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if SECURE:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY in production.")
    # Good enough for a laptop; `check --deploy` flags it, and production must set its own.
    SECRET_KEY = "django-insecure-development-key-not-for-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # django.contrib.admin, with the site that asks staff for a second factor (core/admin_site.py).
    "core.admin_apps.BlogAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django.contrib.syndication",
    "django_comments_xtd",
    "django_comments",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mailer",  # django-mailer: the email queue (core/mailqueue.py)
    # The project's apps; the order does not matter (arrows: comments -> posts -> core).
    "core",
    "posts",
    "comments",
    "demo",
    "wordpress",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # The database down: a 503 in the site's design, without touching it (core/faults.py).
    "core.faults.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses what the page cache does not (pages made for one reader), with Django's
    # mitigation against BREACH-style attacks; cached pages are stored compressed.
    "django.middleware.gzip.GZipMiddleware",
    # Before sessions: a cached page for an anonymous reader touches neither sessions nor
    # the database (see core/pagecache.py).
    "core.pagecache.PageCacheMiddleware",
    "core.middleware.SiteTimeZoneMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff signed out after a spell of inactivity (after messages: it says so).
    "core.middleware.StaffSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Old WordPress addresses (/?p=123, old date permalinks, /author/login/): wordpress/.
    "wordpress.middleware.LegacyRedirectMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with our page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "barnetblog.urls"
WSGI_APPLICATION = "barnetblog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "posts.context_processors.election_period",
            ],
            # `{% url %}` with its answers remembered (core/reversing.py), `{% static %}`
            # with its addresses (core/templatetags/static_urls.py), and `{% extends %}`
            # finding the root template's blocks once (core/templatetags/inheritance.py),
            # in every template.
            # (A template that loads Django's `static` library gets Django's tag, as the
            # admin's do: the same addresses, asked each time.)
            "builtins": [
                "core.templatetags.urls",
                "core.templatetags.static_urls",
                "core.templatetags.inheritance",
            ],
        },
    },
]

# Database: SQLite next to the code unless DATABASE_URL says otherwise,
# e.g. postgres://postgres@127.0.0.1:5432/barnetblog
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        # A kept connection is checked before each request reuses it: after PostgreSQL
        # restarts, the next request reconnects instead of failing.
        conn_health_checks=True,
    )
}
# Failing fast when PostgreSQL is down or stuck (see core/faults.py): seconds to wait for a
# connection, and the longest any one SQL statement may run before PostgreSQL cancels it (a
# page's queries take milliseconds; 0 turns the limit off, e.g. for a long one-off migration).
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "3"))
DATABASE_STATEMENT_TIMEOUT = int(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT", "5"))
# The SQL of a post's page runs as prepared statements on PostgreSQL (core/sql.py), planned
# once per connection: off behind a pooler that does not keep sessions (PgBouncer in
# transaction mode). They are the only prepared statements (psycopg2 prepares none), and
# their lookups are by key, which a generic plan serves as well as a plan made for the values.
DATABASE_PREPARED_STATEMENTS = env_bool("DJANGO_DB_PREPARED_STATEMENTS", True)
# What the 503 page (and /readyz) tells clients to wait before retrying, in seconds.
DATABASE_UNAVAILABLE_RETRY_AFTER = 10
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=DATABASE_CONNECT_TIMEOUT,
        options=f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}"
        + (" -c plan_cache_mode=force_generic_plan" if DATABASE_PREPARED_STATEMENTS else ""),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force on the admin's sign-in: 5 failures for one username from one address pause
# sign-in for that pair for 15 minutes (a page in the site's design, HTTP 429). Locking the
# username alone would let anyone lock the councillor out; the address alone, one bad
# neighbour behind a shared connection lock everyone out.
AXES_FAILURE_LIMIT = int(os.environ.get("BARNETBLOG_SIGNIN_FAILURES", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.admin_site.locked_out"
# The client's address as rate limits see it (the proxy's last X-Forwarded-For entry).
AXES_CLIENT_IP_CALLABLE = "comments.services.client_ip"
AXES_VERBOSE = False
# Two-step sign-in (django-otp, TOTP): optional for staff, required of superusers in
# production unless turned off. `manage.py enrol_totp <username>` sets an account up.
OTP_REQUIRED_FOR_SUPERUSERS = env_bool("BARNETBLOG_OTP_FOR_SUPERUSERS", SECURE)
OTP_TOTP_ISSUER = os.environ.get("BARNETBLOG_SITE_NAME", "Barnet Blog")
# A staff member's session ends after this many seconds without a request (30 minutes).
STAFF_SESSION_IDLE_TIMEOUT = int(os.environ.get("BARNETBLOG_STAFF_IDLE_SECONDS", "1800"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
# One language, British English, written in our templates: no translation machinery. Django's
# and django-contrib-comments' en_GB catalogues change no visible text (only plural forms
# and contexts, which read the same), and en-GB dates and input formats still apply
# (formats follow LANGUAGE_CODE). With it on, each of the hundred or so language lookups a
# page makes (dates, numbers, every reverse()) read context-local storage: 4 µs apiece.
USE_I18N = False
USE_TZ = True

SITE_ID = 1
SITE_NAME = os.environ.get("BARNETBLOG_SITE_NAME", "Barnet Blog")
SITE_TAGLINE = os.environ.get(
    "BARNETBLOG_SITE_TAGLINE", "News and views from your local councillor"
)

# Static files: WhiteNoise serves them from the application server.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Once `collectstatic` has run (production), files are served under hashed names, compressed
# and cached by browsers for a year; until then (development, tests) straight from static/.
STATIC_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

# Uploaded images and attachments.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# The app serves /media/ itself unless a front-end server is configured to (set to false then).
SERVE_MEDIA = env_bool("DJANGO_SERVE_MEDIA", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o644

# The WordPress import in the admin (wordpress/admin.py, wordpress/media.py): where uploads
# wait between the dry run and the confirmation (an hour at most), the caps on a zip of
# wp-content/uploads, and the one server folder under which a copy of it may be named instead.
WORDPRESS_IMPORT_FOLDER = Path(
    os.environ.get(
        "BARNETBLOG_WORDPRESS_IMPORT_FOLDER",
        Path(tempfile.gettempdir()) / "barnetblog-wordpress-uploads",
    )
)
WORDPRESS_MEDIA_ZIP_MAX_BYTES = int(os.environ.get("BARNETBLOG_WORDPRESS_ZIP_MAX_MB", "2048")) << 20
WORDPRESS_MEDIA_ZIP_MAX_FILES = int(os.environ.get("BARNETBLOG_WORDPRESS_ZIP_MAX_FILES", "50000"))
WORDPRESS_MEDIA_SERVER_ROOT = os.environ.get("BARNETBLOG_WORDPRESS_MEDIA_ROOT", "")

# Email: console in development, SMTP in production, a file backend for inspection.
_email_backends = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_choice = os.environ.get("DJANGO_EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _email_choice not in _email_backends:
    raise ImproperlyConfigured(
        f"DJANGO_EMAIL_BACKEND must be one of {', '.join(_email_backends)}, not {_email_choice!r}."
    )
# Every email is queued in the database (core/mailqueue.py) and delivered by the mail worker
# (`manage.py mail_worker`, its own process) through the backend chosen above.
EMAIL_BACKEND = "core.mailqueue.QueueBackend"
MAILER_EMAIL_BACKEND = _email_backends[_email_choice]
MAILER_USE_FILE_LOCK = False  # workers take messages with SELECT ... FOR UPDATE NOWAIT
MAILER_EMAIL_LOG_MESSAGE_DATA = False  # the delivery log keeps no copy of addresses or text
MAILER_EMAIL_MAX_DEFERRED = 1  # a round stops at the first failure: the server is down
MAIL_WORKER_POLL_SECONDS = float(os.environ.get("DJANGO_MAIL_WORKER_POLL_SECONDS", "2"))
MAIL_RETRY_SECONDS = float(os.environ.get("DJANGO_MAIL_RETRY_SECONDS", "10"))
MAIL_RETRY_MAX_SECONDS = float(os.environ.get("DJANGO_MAIL_RETRY_MAX_SECONDS", "600"))
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", BASE_DIR / "sent-emails")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Barnet Blog <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers and cookies.
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31536000 if SECURE else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", SECURE)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading is a hard-to-undo promise for the whole domain: the deployer opts in, so the
# deploy check does not nag about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, and take the client's address
# from the last X-Forwarded-For entry (the one the proxy added) for rate limits.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the admin's Markdown preview reads it

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# Posts.
POSTS_PER_PAGE = 10
# Largest picture we accept, in megapixels (Pillow's own bomb limit is far higher).
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
IMAGE_RENDITION_WIDTHS = (480, 960, 1600)
ATTACHMENT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024

# Comments: django-comments-xtd's threaded model, extended in comments/ (our views, templates,
# moderation and notifications; its own URLs and templates are not used).
COMMENTS_APP = "django_comments_xtd"
COMMENTS_XTD_MODEL = "comments.models.Comment"
COMMENT_MAX_LENGTH = 3000
# Levels 0–4: five levels of replies; deeper replies attach at the deepest level.
COMMENTS_XTD_MAX_THREAD_LEVEL = int(os.environ.get("BARNETBLOG_COMMENT_DEPTH", "5")) - 1
COMMENTS_XTD_CONFIRM_EMAIL = env_bool("BARNETBLOG_CONFIRM_COMMENT_EMAIL", True)
COMMENTS_XTD_THREADED_EMAILS = False
COMMENTS_XTD_FROM_EMAIL = DEFAULT_FROM_EMAIL
# xtd's own signed tokens are not used (ours are time-limited JSON), but never leave it empty.
COMMENTS_XTD_SALT = ("barnetblog-comments-" + SECRET_KEY[:16]).encode()
COMMENTS_HIDE_REMOVED = False
COMMENTS_PER_PAGE = int(os.environ.get("BARNETBLOG_COMMENTS_PER_PAGE", "50"))
# Anti-abuse: seconds a person needs at least to write a comment; one comment per 15 s per
# IP and per email; at most 5 a minute per IP. (The load scenarios in bench/ loosen them:
# every comment there comes from one loopback address.)
COMMENTS_MIN_SECONDS_TO_WRITE = float(os.environ.get("BARNETBLOG_COMMENT_MIN_SECONDS", "3"))
COMMENTS_FLOOD_SECONDS = int(os.environ.get("BARNETBLOG_COMMENT_FLOOD_SECONDS", "15"))
COMMENTS_RATE_PER_MINUTE = int(os.environ.get("BARNETBLOG_COMMENTS_PER_MINUTE", "5"))
COMMENTS_TIMEOUT = 2 * 60 * 60  # how long a comment form stays valid (django-contrib-comments)
COMMENT_CONFIRMATION_MAX_AGE = 7 * 24 * 3600
COMMENT_UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600
# `manage.py purge_comment_data` (daily) blanks commenters' IP addresses after this many days.
COMMENT_IP_RETENTION_DAYS = int(os.environ.get("BARNETBLOG_IP_RETENTION_DAYS", "90"))
# Residents' data rights (comments/data_rights.py), and the other periods purge_comment_data
# applies; the privacy notice states every one of them.
COMMENT_DATA_LINK_MAX_AGE = 24 * 3600  # the emailed link to "Your comments and your data"
COMMENT_DATA_SESSION_MAX_AGE = 3600  # the page, once opened, in that browser
COMMENT_DATA_LINKS_PER_HOUR = 3  # links sent to one address (more are quietly not sent)
COMMENT_DATA_REQUESTS_PER_MINUTE = 5  # link requests from one IP address
COMMENT_DATA_REQUEST_RETENTION_DAYS = int(os.environ.get("BARNETBLOG_DATA_REQUEST_DAYS", "730"))
COMMENT_REPORT_RETENTION_DAYS = int(os.environ.get("BARNETBLOG_REPORT_RETENTION_DAYS", "90"))
COMMENT_REVIEW_RETENTION_DAYS = int(os.environ.get("BARNETBLOG_REVIEW_RETENTION_DAYS", "90"))
# A year after a complaint closes: the limitation period for defamation (Limitation Act 1980,
# s. 4A).
COMMENT_COMPLAINT_RETENTION_DAYS = int(os.environ.get("BARNETBLOG_COMPLAINT_RETENTION_DAYS", "365"))

# Two caches. "default" keeps rate limits; "pages" keeps whole pages for anonymous readers
# (core/pagecache.py). With REDIS_URL both live in Redis, shared by every worker and server.
# Without it, rate limits are per process and pages are kept in a folder, which every worker
# on the machine shares (a per-process cache could serve a page another worker has changed).
REDIS_URL = os.environ.get("REDIS_URL", "")
PAGE_CACHE_DIR = Path(os.environ.get("DJANGO_PAGE_CACHE_DIR", BASE_DIR / "var" / "page-cache"))
# Redis down or stuck must cost a request milliseconds, never a hang: pages are then made from
# the database, and rate limits count per process (core/ratelimit.py). redis-py's client
# retries three times with backoff by default (a third of a second per cache call with Redis
# down, seconds per page): one immediate retry instead, for a connection Redis closed.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}
if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    REDIS_TIMEOUTS["retry"] = Retry(NoBackoff(), 1)
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_TIMEOUTS,
        },
        "pages": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pages",
            "OPTIONS": REDIS_TIMEOUTS,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "core.cache.FileBasedCache",
            "LOCATION": str(PAGE_CACHE_DIR),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        },
    }
PAGE_CACHE_ALIAS = "pages"
# Off by default under DEBUG (make run): a template being edited must show at once.
PAGE_CACHE_ENABLED = env_bool("BARNETBLOG_PAGE_CACHE", not DEBUG)
PAGE_CACHE_DATA = env_bool("BARNETBLOG_DATA_CACHE", True)  # data shared by cold renders
# What names this release in the page cache's keys (core.pagecache.release): set it to the
# commit or version you deploy, or leave it empty for a hash of the files below.
PAGE_CACHE_RELEASE = os.environ.get("BARNETBLOG_RELEASE", "")
PAGE_CACHE_RELEASE_SOURCES = (
    "barnetblog",
    "core",
    "posts",
    "comments",
    "wordpress",
    "templates",
    "static",
)
PAGE_CACHE_TIMEOUT = 600  # seconds an entry is kept at most (writes invalidate it sooner)
PAGE_CACHE_MAX_AGE = 60  # what browsers and proxies may keep a public page for, in seconds
PAGE_CACHE_STALE = 30  # …and serve while they fetch a fresh copy (stale-while-revalidate)
PAGE_CACHE_NEVER = (
    "/admin/",
    "/preview/",
    "/comments/confirm/",
    "/comments/unsubscribe/",
    "/healthz",
    "/readyz",
)
PAGE_CACHE_QUERY_PARAMETERS = frozenset({"page", "cpage", "replytocom", "q", "posted"})
# A reader carrying one of these sees something of their own: their page is made afresh.
PAGE_CACHE_PERSONAL_COOKIES = (
    "sessionid",  # signed in (staff, or a resident's account)
    "messages",
    "bb_comments",  # their own comments awaiting moderation
    "bb_commenter",  # "remember me": the form is filled in
    "bb_visitor",  # they liked a post
    "bb_yourdata",  # "Your comments and your data" is open in this browser
)
