"""PostgreSQL's own machinery: its engine (pool, what a connection is like when it goes back, the URL's
``prepare_threshold``: engine), the writes that wait for the next round trip (queue), transactions whose
BEGIN and COMMIT travel with statements (transactions), the reads a settle asks for at once (ahead),
several statements sent as one (combine), and texts in PostgreSQL's own placeholders (placeholders).
What both engines share (tables, repositories, units of work, Direct statements, migrations) is in
gateway.store; SQLite's machinery is in gateway.store.sqlite."""
