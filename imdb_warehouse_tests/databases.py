"""Databases of the tests' (and the bench's) own on a Postgres server, and the server at
127.0.0.1:5432 the tests use besides the embedded one. No pytest here: the bench imports it."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

SERVER_URL = os.environ.get(
    "IMDB_WAREHOUSE_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@cache
def server_answers() -> bool:
    """Whether the Postgres server at SERVER_URL answers (asked once a process)."""
    try:
        psycopg.connect(SERVER_URL, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


@contextmanager
def temporary_database(admin_url: str, prefix: str = "imdbw_tmp") -> Iterator[str]:
    """A new, empty database on the server of `admin_url`; its URL; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def new_database(admin_url: str):
    """A new, empty database for a test on the server of `admin_url`, dropped afterwards."""
    return temporary_database(admin_url, prefix="imdbw_test")
