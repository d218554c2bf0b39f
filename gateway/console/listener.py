"""The console's HTTP listener (COPAY_CONSOLE_LISTEN), in threads of its own beside the gRPC server.

On a loopback address it serves plain HTTP to whoever can reach it there (as /metrics does). Bound beyond
loopback it serves HTTPS only, with the gateway's server certificate, and requires a client certificate of
the federation CA naming an operator and not revoked (the operators' revocations and the CRL, as the gRPC
server checks them); a region's certificate gets 403, a client without a certificate fails the handshake.
At most MAX_CONNECTIONS connections are served at once (more are closed at once), each dropped after
REQUEST_TIMEOUT_SECONDS of silence and, however it trickles, CONNECTION_SECONDS after it was accepted. On
loopback a request must name a loopback host (``Host``), so that a web page elsewhere cannot read the console
through a browser on this machine (DNS rebinding). Every request reads the database afresh (read
transactions, on a small pool of the console's own, so the console can never take the connections that calls
need); nothing here writes.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable
from urllib.parse import urlsplit

from gateway.api.admission import Admission
from gateway.console import figures, page
from gateway.security.principal import Kind, identity_from_pem
from gateway.service.ports import UnitOfWorkFactory

log = logging.getLogger("copay.console")
MAX_CONNECTIONS = 16
REQUEST_TIMEOUT_SECONDS = 10.0
CONNECTION_SECONDS = 30.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
CSS = resources.files("gateway.console").joinpath("static/console.css").read_bytes()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_context(cert_file: str, key_file: str, ca_file: str) -> ssl.SSLContext:
    """The server side of mutual TLS: the gateway's certificate, clients' certificates required (federation CA)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert_file, key_file)
    return context


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: Any, tls: ssl.SSLContext | None, family: int) -> None:
        self.address_family = family
        self.tls = tls
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.settimeout(REQUEST_TIMEOUT_SECONDS)
        if self.tls is not None:  # the handshake happens in the connection's own thread, not here
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the budget: closed at once
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            self.shutdown_request(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        deadline = threading.Timer(CONNECTION_SECONDS, _cut, (request,))
        deadline.start()
        try:
            if self.tls is not None:
                request.do_handshake()
            self.finish_request(request, client_address)
        except (OSError, ssl.SSLError) as error:  # a failed handshake, a client gone, silent or too slow
            log.debug("console connection dropped", extra={"fields": {"error": str(error)}})
        finally:
            deadline.cancel()
            self.shutdown_request(request)
            self.slots.release()


def _hostname(host: str) -> str:
    """``Host`` without its port: ``127.0.0.1:9465`` -> ``127.0.0.1``, ``[::1]:9465`` -> ``[::1]``."""
    if host.startswith("["):
        return host[:host.find("]") + 1]
    return host.rpartition(":")[0] if ":" in host else host


def _cut(sock: socket.socket) -> None:
    """Ends a connection past its deadline: its thread's next read or write fails."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _handler(uow: UnitOfWorkFactory, admission: Admission) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "copay-console"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            log.debug("console request", extra={"fields": {"line": format % args}})

        def _refusal(self) -> str | None:
            if not isinstance(self.connection, ssl.SSLSocket):
                if _hostname(self.headers.get("Host") or "") not in LOOPBACK_HOSTS:
                    return "on loopback the console answers requests for 127.0.0.1 or localhost only"
                return None
            der = self.connection.getpeercert(binary_form=True)
            identity = identity_from_pem(ssl.DER_cert_to_PEM_cert(der).encode()) if der else None
            if identity is None or identity.principal is None or identity.principal.kind is not Kind.OPERATOR:
                return "the console is for operators: present an operator's client certificate"
            if admission.refusal(identity) is not None:
                return "this client certificate is revoked"
            return None

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            self.do_GET(body=False)


        def do_GET(self, body: bool = True) -> None:  # noqa: N802 - http.server's name
            status, kind, payload = self._answer()
            self._send(status, kind, payload, body)

        def _answer(self) -> tuple[int, str, bytes]:
            if (why := self._refusal()) is not None:
                return 403, "application/json", _json({"error": why})
            path = urlsplit(self.path).path.rstrip("/") or "/"
            if path == "/console.css":
                return 200, "text/css; charset=utf-8", CSS
            endpoint: Callable[[UnitOfWorkFactory], Any] | None = figures.ENDPOINTS.get(path)
            if path != "/" and endpoint is None:
                return 404, "application/json", _json({"error": f"no such page; try / or one of "
                                                                 f"{', '.join(figures.ENDPOINTS)}"})
            try:
                if endpoint is None:
                    return 200, "text/html; charset=utf-8", page.render(everything(uow)).encode()
                return 200, "application/json", _json(endpoint(uow))
            except Exception:  # noqa: BLE001 - the database is down, say: the page says so, serving goes on
                log.exception("the console could not read its figures")
                return 503, "application/json", _json({"error": "the figures cannot be read now"})

        def _send(self, status: int, kind: str, payload: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'")
            self.end_headers()
            if body:
                self.wfile.write(payload)

    return Handler


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode()


def everything(uow: UnitOfWorkFactory) -> dict[str, Any]:
    """What the page shows, read afresh."""
    regions = figures.regions(uow)
    return {"regions": figures.as_json(regions), "provinces": figures.provinces(regions),
            "pairs": figures.as_json(figures.pairs(uow)), "kill_switch": figures.as_json(figures.kill_switch(uow)),
            "changes": figures.as_json(figures.pending_changes(uow)), "audit": figures.as_json(figures.audit(uow)),
            "traffic": figures.traffic_last_hour(uow)}


class Console:
    """The running listener; ``port`` is the one bound (for ``:0``)."""

    def __init__(self, listen: str, uow: UnitOfWorkFactory, admission: Admission,
                 tls: Callable[[], ssl.SSLContext]) -> None:
        host, _, port = listen.rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.tls = not is_loopback(host)
        self._server = _Server((host, int(port)), _handler(uow, admission), tls() if self.tls else None, family)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="console", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
