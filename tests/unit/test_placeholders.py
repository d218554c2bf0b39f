"""Statements turned into PostgreSQL's own placeholders once (gateway.store.postgres.placeholders): each name
its number, a name used again the same one, ``%%`` a plain ``%``, and what it cannot be sure of left to the
driver; the conversion is kept by the statement it belongs to, and a missing value is the driver's error.
That psycopg's raw cursor then answers as before: every PostgreSQL test runs through it. Every statement of
the gateway's converts: on the event loop nothing else can run (gateway.store.postgres.round_trip)."""

from __future__ import annotations

import gc
import importlib
import pkgutil
import sqlite3

import pytest
from psycopg import errors as psycopg_errors
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite

import gateway
from gateway.store.direct import Direct, _for_driver, _Plan
from gateway.store.postgres.combine import Combined, Shape
from gateway.store.postgres.placeholders import Raw
from gateway.store.postgres.placeholders import convert as raw
from gateway.store.requests import FIND_REQUEST


def test_each_name_gets_its_number_in_order_and_keeps_it_when_used_again():
    assert raw("SELECT a FROM t WHERE k = %(key)s AND d >= %(day)s OR k = %(key)s") == \
        Raw(b"SELECT a FROM t WHERE k = $1 AND d >= $2 OR k = $1", ("key", "day"))
    assert raw("COMMIT") == Raw(b"COMMIT", ())


def test_a_doubled_percent_is_one_and_any_other_percent_is_left_to_the_driver():
    assert raw("SELECT '100%%' WHERE a = %(a)s") == Raw(b"SELECT '100%' WHERE a = $1", ("a",))
    assert raw("SELECT a FROM t WHERE k = %s") is None
    assert raw("SELECT a FROM t WHERE k = %(key)b") is None
    assert raw("SELECT 'x' % 2") is None


def test_a_text_not_in_ascii_is_left_to_the_driver_and_a_long_one_is_converted():
    assert raw("SELECT '医保' WHERE a = %(a)s") is None
    parts = " UNION ALL ".join(f"SELECT %(r{i}_key)s" for i in range(60))  # past psycopg's own 50 and 4,096
    found = raw(parts * 3)
    assert found is not None and found.names == tuple(f"r{i}_key" for i in range(60))
    assert found.sql.count(b"$60") == 3 and b"%" not in found.sql


def test_a_statement_keeps_its_conversion_and_a_missing_value_is_the_drivers_error():
    plan = _Plan(FIND_REQUEST.statement, psycopg.dialect())
    assert plan.raw is not None and plan.raw == raw(plan.sql) and b"$2" in plan.raw.sql
    assert _Plan(FIND_REQUEST.statement, pysqlite.dialect()).raw is None  # SQLite's texts go as they are
    part = Shape("SELECT %(a)s", None, False, ["INTEGER"])
    combined = Combined("SELECT %(r0_a)s UNION ALL SELECT %(r1_a)s", [part, part], "r")
    assert combined.raw == Raw(b"SELECT $1 UNION ALL SELECT $2", ("r0_a", "r1_a"))
    with pytest.raises(ValueError, match="another order"):  # the parts' values would not follow each other
        Combined("SELECT %(r1_a)s UNION ALL SELECT %(r0_a)s", [part, part], "r")
    values = {"request_id": "r1", "caller": "region/420100"}
    assert plan.raw.names == ("caller", "request_id") and plan.parameters(values) == ["region/420100", "r1"]
    assert _for_driver([(plan, ["region/420100", "r1"], False)]) == [(plan.raw.sql, ["region/420100", "r1"], False)]
    on_sqlite = _Plan(FIND_REQUEST.statement, pysqlite.dialect())
    assert _for_driver([(on_sqlite, ["region/420100", "r1"], False)])[0][0] == on_sqlite.sql
    for each, driver in ((plan, psycopg_errors.ProgrammingError), (on_sqlite, sqlite3.ProgrammingError)):
        with pytest.raises(exc.ProgrammingError, match="query parameter missing: request_id") as missing:
            each.parameters({"caller": "region/420100"})  # as psycopg says it, as SQLAlchemy raises the driver's
        assert isinstance(missing.value.orig, driver)


def test_every_statement_of_the_gateway_converts():
    for module in pkgutil.walk_packages(gateway.__path__, "gateway."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    statements = [o for o in gc.get_objects() if isinstance(o, Direct)]
    assert len(statements) >= 20  # the modules' statements were found
    dialect = psycopg.dialect()
    assert [s.statement for s in statements if _Plan(s.statement, dialect, s._alone).raw is None] == []
