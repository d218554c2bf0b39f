"""Storage: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL."""
