"""SQLite's own machinery: its engine (WAL, BEGIN IMMEDIATE: engine), one gateway per file (lock), the one
writer process that commits every change in batches (writer), the server's end of it (writer_process),
their messages (wire) and the write-ahead log's checkpoints (checkpoints). What both engines share (tables,
repositories, units of work, Direct statements, migrations) is in gateway.store; PostgreSQL's machinery is
in gateway.store.postgres."""
