"""SQLite's own machinery: the one writer process that commits every change in batches (writer), the
server's end of it (writer_process), their messages (wire) and the write-ahead log's checkpoints
(checkpoints). What both engines share (tables, repositories, units of work, engines, migrations) is in
gateway.store; PostgreSQL needs no machinery of its own beyond a pool of connections."""
