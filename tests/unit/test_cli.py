"""``copay-gateway`` and ``copayctl``'s command lines: the version, help for everything, a flag for every
setting, only the options a command uses, and ``seed`` refusing a database that holds other data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from dataclasses import fields
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import cli, config
from gateway.cli import build_parser, event_loop, main, settings_for
from gateway.config import ConfigError, Settings
from gateway.ctl import main as copayctl
from gateway.sample import MEMBERS_PER_REGION, REGIONS
from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import members, regions

VERSION = metadata.version("copay-gateway")
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No COPAY_* setting from outside; help on long lines; the root logger as it was (main configures it)."""
    for name in [n for n in os.environ if n.startswith("COPAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "2000")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """(command path, parser) for the parser and every command under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    return [action.option_strings[0] if action.option_strings else action.dest for action in parser._actions
            if not action.help or action.help == argparse.SUPPRESS or not action.help.strip()]


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"copay-gateway {VERSION}\n"
    assert copayctl(["--version"]) == 0
    assert capsys.readouterr().out == f"copayctl {VERSION}\n"


def test_every_command_has_help_and_so_has_every_option(capsys, monkeypatch):
    found = list(parsers(build_parser()))
    assert {" ".join(path) for path, _ in found} >= {
        "", "serve", "migrate", "seed", "prune", "certs", "certs init", "certs issue", "certs renew", "bench"}
    for path, parser in found:
        if path == ("bench",):
            continue  # gateway.bench.run has its own parser: below
        assert undocumented(parser) == [], path
        assert help_of(capsys, *path)
    top = help_of(capsys)
    assert "``" not in top and "copay-gateway COMMAND --help" in top  # plain text, not markup
    for name in ("serve", "migrate", "seed", "prune", "certs", "bench"):
        assert re.search(rf" {name} \w", top), name  # each command listed with its help

    bench: list[argparse.ArgumentParser] = []
    parse = argparse.ArgumentParser.parse_args
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args",
                        lambda self, *a, **k: (bench.append(self), parse(self, *a, **k))[1])
    text = help_of(capsys, "bench")
    assert len(bench) == 1 and bench[0].prog == "copay-gateway bench"
    assert undocumented(bench[0]) == []
    assert "--in-flight" in text and "(default: 64)" in text


def test_serve_has_a_flag_for_every_setting_with_its_variable_and_default(capsys):
    text = help_of(capsys, "serve")
    serve = dict(parsers(build_parser()))[("serve",)]
    docs = config.documentation()
    for f in fields(Settings):
        flag, variable = "--" + f.name.replace("_", "-"), f"COPAY_{f.name.upper()}"
        shown = f"{f.default:g}" if isinstance(f.default, float) else str(f.default) or "empty"
        assert [a.option_strings for a in serve._actions if a.dest == f.name] == [[flag]]
        assert f"[{flag} " in text, flag  # in the usage
        assert f"(environment: {variable}; default: {shown})" in text, f.name
        first_words = " ".join(docs[f.name].replace(f" ({variable})", "").split()[:3])
        assert first_words in text, f.name  # the help is the field's docstring
    assert "(environment: COPAY_MAX_MESSAGE_BYTES; default: 4194304)" in text
    assert "--sqlite-synchronous SYNCHRONOUS SQLite only: FULL syncs" in text


def test_commands_take_only_the_options_they_use(capsys):
    by_path = dict(parsers(build_parser()))

    def options(*path: str) -> set[str]:
        return {o for a in by_path[path]._actions for o in a.option_strings} - {"-h", "--help"}

    assert options("migrate") == {"--database-url", "--status", "--sql"}
    assert options("seed") == {"--database-url", "--certs-dir", "--id-hash-key-file", "--force"}
    assert options("prune") == {"--database-url", "--retention-days", "--request-retention-days"}
    assert options("certs") == {"--certs-dir", "--ca-dir"}
    assert "--database-url" not in options("certs", "init")
    assert "--certs-dir" not in help_of(capsys, "migrate")
    assert "--listen" not in help_of(capsys, "seed")


def test_flags_override_the_environment_and_are_checked_as_it_is(monkeypatch):
    monkeypatch.setenv("COPAY_MAX_STREAMS", "3")
    monkeypatch.setenv("COPAY_LISTEN", "127.0.0.1:7000")
    assert settings_for(["serve"]).max_streams == 3
    chosen = settings_for(["serve", "--max-streams", "7", "--sqlite-synchronous", "normal", "--crl-file", "x.crl"])
    assert (chosen.max_streams, chosen.sqlite_synchronous, chosen.crl_file, chosen.listen) == \
        (7, "NORMAL", "x.crl", "127.0.0.1:7000")
    assert settings_for(["prune", "--retention-days", "2"]).request_retention_days == 2.0
    with pytest.raises(ConfigError, match="COPAY_MAX_STREAMS must be a whole number, not 'many'"):
        settings_for(["serve", "--max-streams", "many"])



@pytest.mark.parametrize("variable, value, why", [
    ("COPAY_MAX_STREAMS", "\u0663", "must be a whole number"),  # an Arabic-Indic three
    ("COPAY_MAX_STREAMS", " 5 ", "must be a whole number"),
    ("COPAY_MAX_STREAMS", "1_000", "must be a whole number"),
    ("COPAY_MAX_STREAMS", "2147483648", "must be at most 2,147,483,647"),
    ("COPAY_MAX_CONNECTIONS", "0", "must be greater than 0"),
    ("COPAY_STREAM_MAX_SECONDS", "nan", "must be a number"),
    ("COPAY_STREAM_MAX_SECONDS", "inf", "must be a number"),
    ("COPAY_STREAM_MAX_SECONDS", "1e3", "must be a number"),
    ("COPAY_STREAM_MAX_SECONDS", "99999999", "must be at most 10,000,000"),
    ("COPAY_REQUEST_RETENTION_DAYS", "0.5", "must be from 1"),
    ("COPAY_MAX_CONNECTION_AGE_SECONDS", "0.5", "must be at least 1"),
    ("COPAY_LOG_OK_LINES_PER_SECOND", "-1", "must not be negative"),
    ("COPAY_REQUEST_RETENTION_DAYS", "3651", "must be from 1"),
])
def test_a_number_is_plain_ascii_and_within_bounds(variable, value, why):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert str(refused.value).startswith(f"{variable} {why}") and str(refused.value).endswith(f"not {value!r}")


def test_plain_numbers_are_read():
    chosen = Settings.from_env({"COPAY_MAX_STREAMS": "12", "COPAY_STREAM_MAX_SECONDS": "2.5",
                                "COPAY_REQUEST_RETENTION_DAYS": "3650", "COPAY_SHUTDOWN_GRACE_SECONDS": "0"})
    assert (chosen.max_streams, chosen.stream_max_seconds, chosen.request_retention_days,
            chosen.shutdown_grace_seconds) == (12, 2.5, 3650.0, 0.0)


def test_the_longest_times_allowed_still_fit_grpc_which_takes_milliseconds_as_a_c_int():
    from gateway.server import channel_options
    longest = Settings.from_env({"COPAY_STREAM_MAX_SECONDS": "10000000",
                                 "COPAY_MAX_CONNECTION_AGE_SECONDS": "10000000"})
    options = dict(channel_options(longest))
    assert options["grpc.max_connection_age_ms"] == options["grpc.max_connection_age_grace_ms"] == 2**31 - 1
    assert dict(channel_options(Settings()))["grpc.max_connection_age_ms"] == 1_800_000


# --- seed: the sample world goes only where nothing else is ------------------------------------------------

@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'copay.db'}"


def seed(url: str, pki: Path, *args: str) -> int:
    return main(["seed", "--database-url", url, "--certs-dir", str(pki), *args])


def count(url: str, table) -> int:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).select_from(table)).scalar()
    engine.dispose()
    return found


def add_member(url: str, region: str, psn_no: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(members.insert().values(region=region, psn_no=psn_no, id_hash="ab" * 32, insurance_type="employee",
                                             status="terminated", created_at=NOW, updated_at=NOW))
    engine.dispose()


def test_the_log_settings_reach_the_log(url, pki, monkeypatch):
    configured: list[tuple[object, ...]] = []
    monkeypatch.setattr(cli.logs, "configure", lambda *args: configured.append(args))
    monkeypatch.setenv("COPAY_LOG_OK_LINES_PER_SECOND", "7")
    monkeypatch.setenv("COPAY_LOG_LEVEL", "warning")
    assert seed(url, pki) == 0
    assert configured == [("WARNING", 7)]


def test_seed_fills_an_empty_database_and_a_second_run_changes_nothing(url, pki, capsys):
    assert seed(url, pki) == 0
    assert seed(url, pki) == 0  # a sample database is the sample's: seeding it again is harmless
    assert count(url, members) == len(REGIONS) * MEMBERS_PER_REGION
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("region, psn_no", [("320300", "P-1"), ("320500", "320500000001"), ("320300", "320300000041")])
def test_seed_refuses_a_database_holding_other_members_unless_forced(url, pki, capsys, region, psn_no):
    add_member(url, region, psn_no)
    assert seed(url, pki) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.count(". ") == 0  # one sentence
    assert captured.err.startswith(f"copay-gateway seed: {url} already holds data other than the sample world's "
                                   "(1 member)") and "--force" in captured.err
    assert count(url, members) == 1  # nothing written
    assert seed(url, pki, "--force") == 0
    assert count(url, members) == 1 + len(REGIONS) * MEMBERS_PER_REGION


def test_seed_refuses_a_database_with_a_region_the_sample_does_not_have(url, pki, capsys):
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(regions.insert().values(admdvs="320500", display_name="Suzhou", state="live",
                                             updated_at=NOW, updated_by="operator/ops"))
    engine.dispose()
    assert seed(url, pki) == 2
    assert "(1 region)" in capsys.readouterr().err
    assert count(url, members) == 0


def test_serve_runs_on_uvloop_unless_told_the_standard_loop(monkeypatch):
    import uvloop
    assert Settings().event_loop == Settings.from_env({}).event_loop == "uvloop"
    assert event_loop("uvloop") is uvloop.new_event_loop
    assert event_loop(Settings.from_env({"COPAY_EVENT_LOOP": "asyncio"}).event_loop) is asyncio.new_event_loop
    with pytest.raises(ConfigError, match=r"COPAY_EVENT_LOOP must be uvloop or asyncio, not 'Asyncio'"):
        Settings.from_env({"COPAY_EVENT_LOOP": "Asyncio"})
    monkeypatch.setitem(sys.modules, "uvloop", None)  # not installed
    with pytest.raises(ConfigError) as missing:
        event_loop("uvloop")
    assert str(missing.value) == ("COPAY_EVENT_LOOP is uvloop, which is not installed here (pip install uvloop); "
                                  "or set COPAY_EVENT_LOOP=asyncio")


def test_streams_must_leave_calls_slots_of_their_own():
    assert Settings.from_env({"COPAY_MAX_CONCURRENT_RPCS": "65"}).max_streams == 64  # one slot left to calls
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"COPAY_MAX_CONCURRENT_RPCS": "64"})
    assert str(refused.value) == ("COPAY_MAX_CONCURRENT_RPCS (64) must be greater than COPAY_MAX_STREAMS (64): "
                                  "streams take at most that many of its slots, calls the rest; raise the one or "
                                  "lower the other")
