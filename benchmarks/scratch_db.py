"""A scratch PostgreSQL database for a benchmark: created under a unique name, dropped afterwards.

The server is `CUSTOMSLAB_BENCH_DATABASE_URL`, else `CUSTOMSLAB_TEST_DATABASE_URL` (an admin URL, as the
test suite takes), else the local server.
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN = os.environ.get(
    "CUSTOMSLAB_BENCH_DATABASE_URL",
    os.environ.get("CUSTOMSLAB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)


def create_scratch_db() -> str:
    """A new, empty database on the admin URL's server; its URL."""
    admin = make_url(ADMIN)
    name = f"customslab_bench_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_scratch_db(url: str) -> None:
    """Drop the database `create_scratch_db` made, closing what is still connected to it."""
    eng = create_engine(make_url(ADMIN), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    eng.dispose()
