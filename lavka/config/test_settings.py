"""Settings for the test suite: a throw-away data directory, the database from
LAVKA_TEST_DATABASE_URL (SQLite by default), tasks run inline after commit."""

import os
import tempfile

os.environ.setdefault("LAVKA_DATA_DIR", tempfile.mkdtemp(prefix="lavka-test-"))
os.environ["LAVKA_TESTING"] = "1"
if os.environ.get("LAVKA_TEST_DATABASE_URL"):
    os.environ["LAVKA_DATABASE_URL"] = os.environ["LAVKA_TEST_DATABASE_URL"]
else:
    os.environ.pop("LAVKA_DATABASE_URL", None)
os.environ.pop("LAVKA_REDIS_URL", None)
os.environ.pop("LAVKA_EMAIL_HOST", None)

from lavka.config.settings import *  # noqa: F403
