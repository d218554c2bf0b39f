"""Gateway settings: defaults for the embedded development setup, each
overridable by a ``COPAY_*`` environment variable or a ``serve`` flag."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    listen: str = "127.0.0.1:50051"
    """host:port for gRPC over mTLS (COPAY_LISTEN); port 0 picks a free one."""
    database_url: str = "sqlite:///var/copay.db"
    """SQLAlchemy URL (COPAY_DATABASE_URL), e.g. postgresql+psycopg://user@host/db."""
    certs_dir: str = "certs"
    """Folder holding server.pem, server-key.pem, ca.pem and id-hash.key (COPAY_CERTS_DIR)."""
    id_hash_key_file: str = ""
    """File with the hex HMAC key for ID numbers (COPAY_ID_HASH_KEY_FILE); default certs_dir/id-hash.key.
    Every gateway process of one deployment must share it: changing it orphans every stored hash."""
    metrics_listen: str = "127.0.0.1:9464"
    """host:port of the Prometheus /metrics endpoint (COPAY_METRICS_LISTEN); 'off' disables it."""
    max_concurrent_rpcs: int = 256
    """Calls in progress beyond this are answered RESOURCE_EXHAUSTED at once (COPAY_MAX_CONCURRENT_RPCS)."""
    max_message_bytes: int = 4 * 1024 * 1024
    """Largest request or response message (COPAY_MAX_MESSAGE_BYTES)."""
    shutdown_grace_seconds: float = 10.0
    """On SIGTERM, how long in-flight calls may take to finish (COPAY_SHUTDOWN_GRACE_SECONDS)."""
    db_pool_size: int = 8
    """PostgreSQL: connections, and threads running database work (COPAY_DB_POOL_SIZE). SQLite has one
    writer process with one connection."""
    log_level: str = "INFO"
    """Python logging level name (COPAY_LOG_LEVEL)."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> "Settings":
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"COPAY_{f.name.upper()}")
            if raw is not None:
                values[f.name] = type(getattr(cls, f.name))(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def path(self, name: str) -> Path:
        return Path(self.certs_dir) / name

    def id_hash_key(self) -> bytes:
        path = Path(self.id_hash_key_file) if self.id_hash_key_file else self.path("id-hash.key")
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise SystemExit(f"no ID hash key at {path}: run 'copay-gateway certs init' "
                             "or set COPAY_ID_HASH_KEY_FILE") from None
        except ValueError:
            raise SystemExit(f"{path} must hold the ID hash key as hex") from None
