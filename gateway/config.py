"""Gateway settings: defaults for the embedded development setup, each
overridable by a ``COPAY_*`` environment variable or a ``serve`` flag.

A bad value stops the gateway with one sentence naming the variable
(``ConfigError``), never a traceback.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import textwrap
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable


class ConfigError(SystemExit):
    """A setting that cannot be used; its message names the variable."""


def _address(value: str) -> str | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        return "must be host:port, for example 127.0.0.1:50051 (port 0 picks a free one)"
    return None


def _address_or_off(value: str) -> str | None:
    if value == "off" or _address(value) is None:
        return None
    return "must be host:port, for example 127.0.0.1:9464, or 'off'"


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _one_of(*choices: str) -> Callable[[str], str | None]:
    return lambda value: None if value.upper() in choices else "must be one of " + ", ".join(choices)


@dataclass(frozen=True)
class Settings:
    listen: str = "127.0.0.1:50051"
    """host:port for gRPC over mTLS (COPAY_LISTEN); port 0 picks a free one."""
    database_url: str = "sqlite:///var/copay.db"
    """SQLAlchemy URL (COPAY_DATABASE_URL), e.g. postgresql+psycopg://user@host/db."""
    certs_dir: str = "certs"
    """Folder holding server.pem, server-key.pem, ca.pem and id-hash.key (COPAY_CERTS_DIR)."""
    crl_file: str = ""
    """The federation CA's certificate revocation list, PEM or DER (COPAY_CRL_FILE); reloaded when it changes.
    Empty: none (operators revoke certificates through the admin service either way)."""
    id_hash_key_file: str = ""
    """File with the hex HMAC key for ID numbers (COPAY_ID_HASH_KEY_FILE); default certs_dir/id-hash.key.
    Every gateway process of one deployment must share it: changing it orphans every stored hash."""
    metrics_listen: str = "127.0.0.1:9464"
    """host:port of the Prometheus /metrics endpoint (COPAY_METRICS_LISTEN); 'off' disables it."""
    console_listen: str = "127.0.0.1:9465"
    """host:port of the read-only operator console (COPAY_CONSOLE_LISTEN); 'off' disables it. On loopback it
    is plain HTTP; beyond loopback HTTPS that requires an operator's client certificate (the federation CA)."""
    max_concurrent_rpcs: int = 256
    """Calls and streams in progress at once (COPAY_MAX_CONCURRENT_RPCS): streams take at most max_streams of
    them, calls the rest; one call more is answered RESOURCE_EXHAUSTED (TOO_MANY_CALLS) at once, logged and
    counted. Must be greater than max_streams."""
    max_calls_per_principal: int = 128
    """Unary calls in progress per region or operator (COPAY_MAX_CALLS_PER_PRINCIPAL), so one cannot take them all."""
    max_streams: int = 64
    """Streams (health Watch, reflection) open at once in all (COPAY_MAX_STREAMS); they never take calls' slots."""
    max_streams_per_principal: int = 8
    """Streams open at once per region or operator (COPAY_MAX_STREAMS_PER_PRINCIPAL)."""
    stream_max_seconds: float = 300.0
    """A stream ends after this long (COPAY_STREAM_MAX_SECONDS); clients open a new one."""
    max_connections: int = 512
    """TLS connections at once (COPAY_MAX_CONNECTIONS); more are closed at once."""
    max_connection_age_seconds: float = 1800.0
    """A client's connection is asked to reconnect after this long (COPAY_MAX_CONNECTION_AGE_SECONDS; gRPC
    adds up to 10% either way), so that callers spread again over N gateways behind a TCP balancer after
    one restarts or is added. Its calls in flight finish first (streams within stream_max_seconds)."""
    max_message_bytes: int = 4 * 1024 * 1024
    """Largest request or response message (COPAY_MAX_MESSAGE_BYTES)."""
    shutdown_grace_seconds: float = 10.0
    """On SIGTERM, how long in-flight calls may take to finish (COPAY_SHUTDOWN_GRACE_SECONDS)."""
    db_pool_size: int = 8
    """PostgreSQL: connections for calls, and calls' units of work at once (COPAY_DB_POOL_SIZE). SQLite has one
    writer process with one connection."""
    sqlite_synchronous: str = "FULL"
    """SQLite only (COPAY_SQLITE_SYNCHRONOUS): FULL syncs the log at every commit (one commit holds a batch
    of calls), so an acknowledged settlement survives a power cut. NORMAL skips that sync: faster, but a power
    cut (not a crash) can lose the last acknowledged commits."""
    request_retention_days: float = 30.0
    """How long a request's answer is kept for retries (COPAY_REQUEST_RETENTION_DAYS). A retry after that runs
    as a new request: keep it longer than any caller retries."""
    clearing_grace_minutes: float = 30.0
    """How long after a day ends (midnight, Asia/Shanghai) the gateway closes its clearing window itself
    (COPAY_CLEARING_GRACE_MINUTES); operators may close it sooner."""
    event_loop: str = "uvloop"
    """The event loop that serves calls (COPAY_EVENT_LOOP): uvloop (libuv's, written in Cython: fewer instructions
    than on the standard library's, a third fewer an echo, 13.5% a settlement on PostgreSQL: README, Benchmark)
    or asyncio (the standard library's; the same behaviour, for telling a fault of uvloop's from the gateway's)."""
    log_level: str = "INFO"
    """Python logging level name (COPAY_LOG_LEVEL)."""
    log_ok_lines_per_second: int = 1000
    """At most this many successful calls' lines a second (COPAY_LOG_OK_LINES_PER_SECOND); beyond it they are
    counted, one line a method sums up each such second. Refusals and errors are always written. 0: every line."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> "Settings":
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(variable(f.name))
            if raw is not None:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **{name: _checked(name, value) for name, value in values.items()})
        if settings.max_streams >= settings.max_concurrent_rpcs:
            raise ConfigError(f"COPAY_MAX_CONCURRENT_RPCS ({settings.max_concurrent_rpcs}) must be greater than "
                              f"COPAY_MAX_STREAMS ({settings.max_streams}): streams take at most that many of its "
                              "slots, calls the rest; raise the one or lower the other")
        return settings

    def path(self, name: str) -> Path:
        return Path(self.certs_dir) / name

    def id_hash_key(self) -> bytes:
        path = Path(self.id_hash_key_file) if self.id_hash_key_file else self.path("id-hash.key")
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise ConfigError(f"no ID hash key at {path}: run 'copay-gateway certs init' "
                              "or set COPAY_ID_HASH_KEY_FILE") from None
        except ValueError:
            raise ConfigError(f"{path} must hold the ID hash key as hex") from None


CHECKS: dict[str, Callable] = {
    "listen": _address, "metrics_listen": _address_or_off, "console_listen": _address_or_off,
    "max_concurrent_rpcs": _positive, "max_calls_per_principal": _positive, "max_streams": _positive,
    "max_streams_per_principal": _positive, "stream_max_seconds": _positive, "max_connections": _positive,
    "max_connection_age_seconds": lambda s: None if s >= 1 else "must be at least 1",
    "max_message_bytes": _positive, "db_pool_size": _positive, "request_retention_days": lambda days: None
    if 1 <= days <= 3650 else "must be from 1 (a day: a retry within it must find its first answer) to 3650",
    "shutdown_grace_seconds": lambda s: None if s >= 0 else "must not be negative",
    "clearing_grace_minutes": lambda m: None if 0 <= m <= 10_080 else "must be from 0 to 10080 (a week)",
    "sqlite_synchronous": _one_of("FULL", "NORMAL", "EXTRA"),
    "event_loop": lambda name: None if name in ("uvloop", "asyncio") else "must be uvloop or asyncio",
    "log_level": _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    "log_ok_lines_per_second": lambda n: None if n >= 0 else "must not be negative",
}


def variable(name: str) -> str:
    return f"COPAY_{name.upper()}"


def flag(name: str) -> str:
    """The ``serve`` flag of a setting: ``max_streams`` -> ``--max-streams``."""
    return "--" + name.replace("_", "-")


def documentation() -> dict[str, str]:
    """Each setting's docstring (the string under its field in Settings), whitespace folded: the help of
    its flag. Read from the source; empty if the source is not there."""
    try:
        source = inspect.getsource(Settings)
    except (OSError, TypeError):
        return {}
    body = ast.parse(textwrap.dedent(source)).body[0].body  # type: ignore[attr-defined]
    return {field.target.id: " ".join(doc.value.value.split()) for field, doc in zip(body, body[1:])
            if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)}


# Numbers as an operator writes them, ASCII only: not "1_000", " 5 ", "1e3", "inf" or other scripts' digits.
_NUMBER = {int: re.compile(r"-?[0-9]{1,12}"), float: re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,9})?")}
_LARGEST = {int: 2**31 - 1, float: 10.0**7}  # gRPC takes C ints; ten million seconds is over 115 days


def _checked(name: str, value: object) -> object:
    kind = type(getattr(Settings, name))
    what = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
    if kind in _NUMBER and not isinstance(value, kind) and not _NUMBER[kind].fullmatch(str(value)):
        raise ConfigError(f"{variable(name)} must be {what}, not {value!r}")
    typed = kind(value) if not isinstance(value, kind) else value
    if kind in _LARGEST and not -_LARGEST[kind] <= typed <= _LARGEST[kind]:  # NaN fails this too
        raise ConfigError(f"{variable(name)} must be at most {_LARGEST[kind]:,.0f}, not {value!r}")
    if kind is str:
        typed = typed.upper() if name in ("sqlite_synchronous", "log_level") else typed
    why = CHECKS.get(name, lambda _: None)(typed)
    if why:
        raise ConfigError(f"{variable(name)} {why}, not {value!r}")
    return typed

