"""
Barnet Blog settings: one module, driven by environment variables.

The defaults suit development on a laptop (SQLite, console email). Production sets the
variables documented in README.md and `.env.example`; `manage.py check --deploy
--fail-level WARNING` passes with them.
"""

import os
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
    "django.contrib.admin",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses what the page cache does not (pages made for one reader), with Django's
    # mitigation against BREACH-style attacks; cached pages are stored compressed.
    "django.middleware.gzip.GZipMiddleware",
    # Before sessions: a cached page for an anonymous reader touches neither sessions nor
    # the database (see core/pagecache.py).
    "core.pagecache.PageCacheMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Old WordPress addresses (/?p=123, old date permalinks, /author/login/): wordpress/.
    "wordpress.middleware.LegacyRedirectMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
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
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
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

# Two caches. "default" keeps rate limits; "pages" keeps whole pages for anonymous readers
# (core/pagecache.py). With REDIS_URL both live in Redis, shared by every worker and server.
# Without it, rate limits are per process and pages are kept in a folder, which every worker
# on the machine shares (a per-process cache could serve a page another worker has changed).
REDIS_URL = os.environ.get("REDIS_URL", "")
PAGE_CACHE_DIR = Path(os.environ.get("DJANGO_PAGE_CACHE_DIR", BASE_DIR / "var" / "page-cache"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pages",
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(PAGE_CACHE_DIR),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        },
    }
PAGE_CACHE_ALIAS = "pages"
# Off by default under DEBUG (make run): a template being edited must show at once.
PAGE_CACHE_ENABLED = env_bool("BARNETBLOG_PAGE_CACHE", not DEBUG)
PAGE_CACHE_DATA = env_bool("BARNETBLOG_DATA_CACHE", True)  # data shared by cold renders
PAGE_CACHE_TIMEOUT = 600  # seconds an entry is kept at most (writes invalidate it sooner)
PAGE_CACHE_MAX_AGE = 60  # what browsers and proxies may keep a public page for, in seconds
PAGE_CACHE_STALE = 30  # …and serve while they fetch a fresh copy (stale-while-revalidate)
PAGE_CACHE_NEVER = (
    "/admin/",
    "/preview/",
    "/comments/confirm/",
    "/comments/unsubscribe/",
    "/healthz",
)
PAGE_CACHE_QUERY_PARAMETERS = frozenset({"page", "cpage", "replytocom", "q", "posted"})
# A reader carrying one of these sees something of their own: their page is made afresh.
PAGE_CACHE_PERSONAL_COOKIES = (
    "sessionid",  # signed in (staff, or a resident's account)
    "messages",
    "bb_comments",  # their own comments awaiting moderation
    "bb_commenter",  # "remember me": the form is filled in
    "bb_visitor",  # they liked a post
)
