"""Which statements go as one on PostgreSQL (gateway.store.postgres.combine), decided without a database:
writes that could see or undo each other stay apart, an advisory lock goes alone and a FOR UPDATE read last,
parameters are renamed per part. The combined statements' meaning against a real PostgreSQL: tests/integration/test_combined_statements.py."""

from __future__ import annotations

from gateway.store.postgres.combine import Combined, Shape, read_groups, reads, write_groups, writes


def write(table: str, insert: bool = True, sql: str | None = None) -> Shape:
    verb = "INSERT INTO" if insert else "UPDATE"
    return Shape(sql or f"{verb} {table} VALUES (%(key)s)", (table, insert), True, [])


def read(alone: bool = False, sql: str = "SELECT a FROM t WHERE k = %(key)s", types: tuple[str, ...] = ("BIGINT",),
         locks: bool = False) -> Shape:
    return Shape(sql, None, alone, list(types), locks)


BEGIN = Shape("BEGIN", None, True, [])


def sizes(shapes: list[Shape]) -> list[int]:
    return [len(group) for group in write_groups([(shape, n) for n, shape in enumerate(shapes)])]


def test_inserts_and_updates_of_different_tables_go_as_one():
    assert sizes([write("settlements"), write("lines"), write("lines"), write("accounts", insert=False),
                  write("transfers"), write("requests")]) == [6]


def test_two_updates_of_one_table_never_meet_in_one_statement():
    """Only one of two updates of one row in one statement would take effect."""
    assert sizes([write("accounts", insert=False), write("accounts", insert=False)]) == [1, 1]
    assert sizes([write("accounts", insert=False), write("transfers"), write("accounts", insert=False)]) == [2, 1]


def test_an_insert_and_an_update_of_one_table_stay_apart():
    """An update does not see rows inserted by its own statement, nor an insert the update's change."""
    assert sizes([write("accounts"), write("accounts", insert=False)]) == [1, 1]
    assert sizes([write("accounts", insert=False), write("accounts")]) == [1, 1]


def test_what_is_not_a_plain_write_goes_as_it_is_and_groups_stop_at_it():
    commit = Shape("COMMIT", None, True, [])
    assert sizes([BEGIN, write("a"), write("b"), commit, write("c")]) == [1, 2, 1, 1]
    assert sizes([write("a"), write("b", sql="INSERT INTO b VALUES ('100%%')"), write("c")]) == [1, 1, 1]
    assert sizes([write("a"), write("b", sql="INSERT INTO b VALUES (%s)"), write("c")]) == [1, 1, 1]


def test_groups_keep_the_order_of_the_writes():
    groups = write_groups([(write("a"), 0), (write("b", insert=False), 1), (write("b", insert=False), 2),
                           (write("c"), 3)])
    assert [[n for _, n in group] for group in groups] == [[0, 1], [2, 3]]


def test_an_advisory_lock_goes_alone_and_the_reads_after_it_start_a_new_statement():
    assert read_groups([read(), read(), read(alone=True), read(), read()]) == [[0, 1], [2], [3, 4]]
    assert read_groups([read(alone=True), read(alone=True), read()]) == [[0], [1], [2]]
    assert read_groups([read(), read(sql="SELECT '100%%'")]) == [[0], [1]]


def test_a_for_update_read_ends_a_statement_of_reads():
    """The rows a FOR UPDATE read locks are read afresh once locked: it may go after other reads. A read after
    it, a second FOR UPDATE read too, must see what committed while it waited: the next statement."""
    locking = read(locks=True)
    assert read_groups([read(), read(), locking, read(), read()]) == [[0, 1, 2], [3, 4]]
    assert read_groups([locking, locking, read()]) == [[0], [1], [2]]
    assert read_groups([read(), locking, locking, read(), locking]) == [[0, 1], [2], [3, 4]]
    assert read_groups([read(alone=True), locking, read(alone=True), locking]) == [[0], [1], [2], [3]]
    assert read_groups([locking, read(sql="SELECT '100%%'", locks=True)]) == [[0], [1]]


def test_a_combined_write_renames_each_parts_parameters():
    a = Shape("INSERT INTO a (k, v) VALUES (%(key)s, %(value)s::BIGINT)", ("a", True), True, [])
    b = Shape("UPDATE b SET v = v - %(value)s WHERE k = %(key)s", ("b", False), True, [])
    combined = writes([(a, None), (b, None)])
    assert combined.sql == ("WITH w0 AS (INSERT INTO a (k, v) VALUES (%(w0_key)s, %(w0_value)s::BIGINT)) "
                            "UPDATE b SET v = v - %(w1_value)s WHERE k = %(w1_key)s")
    assert combined.raw.names == ("w0_key", "w0_value", "w1_value", "w1_key")  # each part's values in its order
    assert Combined.parameters([["x", 1], [2, "y"]]) == ["x", 1, 2, "y"]


def test_a_combined_read_gives_each_read_typed_slots_of_its_own():
    one = read(types=("BIGINT", "VARCHAR(6)"))
    two = read(sql="SELECT d FROM w WHERE d >= %(day)s LIMIT %(param_1)s", types=("DATE",))
    assert reads([one, two]).sql == (
        "SELECT 0 AS part, q0.c0, q0.c1, NULL::DATE FROM (SELECT a FROM t WHERE k = %(r0_key)s) AS q0(c0, c1) "
        "UNION ALL SELECT 1 AS part, NULL::BIGINT, NULL::VARCHAR(6), q1.c0 "
        "FROM (SELECT d FROM w WHERE d >= %(r1_day)s LIMIT %(r1_param_1)s) AS q1(c0)")


def test_an_advisory_lock_and_writes_that_read_or_upsert_are_never_combined_a_for_update_read_is_known():
    """Decided from the statements themselves, compiled for PostgreSQL."""
    from sqlalchemy import select
    from sqlalchemy.dialects.postgresql import insert as upsert
    from sqlalchemy.dialects.postgresql import psycopg

    from gateway.store.clearing import LOCK_SHARED
    from gateway.store.direct import _Plan
    from gateway.store.ledger import BALANCES, DEBIT_LOCKED
    from gateway.store.requests import ADD_REQUEST
    from gateway.store.settlements import ACTIVE_BINDINGS, NEXT_NUMBER
    from gateway.store.tables import request_log, share_accounts

    def shape(statement):  # type: ignore[no-untyped-def]
        return _Plan(statement, psycopg.dialect()).shape

    assert shape(LOCK_SHARED.statement).alone and not shape(LOCK_SHARED.statement).locks
    assert shape(BALANCES[True].statement).locks and not shape(BALANCES[True].statement).alone
    assert not shape(BALANCES[False].statement).locks and not shape(ACTIVE_BINDINGS.statement).locks
    assert not shape(BALANCES[False].statement).alone and not shape(NEXT_NUMBER.statement).alone
    assert not shape(ACTIVE_BINDINGS.statement).alone
    assert shape(ADD_REQUEST.statement).writes == ("request_log", True)
    assert shape(next(iter(DEBIT_LOCKED.values())).statement).writes == ("share_accounts", False)
    assert shape(upsert(share_accounts).values(account="a").on_conflict_do_nothing()).writes is None
    assert shape(request_log.insert().from_select(["caller"], select(request_log.c.caller))).writes is None
    assert shape(share_accounts.update().values(balance=select(request_log.c.refused).scalar_subquery()
                                                .cast(share_accounts.c.balance.type))).writes is None


def test_a_statement_whose_text_does_not_convert_to_placeholders_goes_alone():
    """Not ASCII: its values could not be put in the combined statement's ``$n`` order."""
    not_ascii = "INSERT INTO notes VALUES ('医保', %(key)s)"
    assert sizes([write("a"), write("notes", sql=not_ascii), write("b")]) == [1, 1, 1]
    assert read_groups([read(), read(sql="SELECT '医保' FROM t WHERE k = %(key)s"), read()]) == [[0], [1], [2]]
