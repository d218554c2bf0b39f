"""Statements turned into PostgreSQL's own placeholders once (gateway.store.postgres.placeholders): each name
its number, a name used again the same one, ``%%`` a plain ``%``, and what it cannot be sure of left to the
driver. That psycopg's raw cursor then answers as before: every PostgreSQL test runs through it."""

from __future__ import annotations

from gateway.store.postgres import placeholders
from gateway.store.postgres.placeholders import Raw, raw


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


def test_texts_are_remembered_up_to_a_bound(monkeypatch):
    monkeypatch.setattr(placeholders, "_KNOWN", {})
    monkeypatch.setattr(placeholders, "KEPT", 2)
    for i in range(5):
        assert raw(f"SELECT %(a{i})s") == Raw(b"SELECT $1", (f"a{i}",))
    assert len(placeholders._KNOWN) == 2
    assert raw("SELECT %(a0)s") is placeholders._KNOWN["SELECT %(a0)s"]  # the one kept
