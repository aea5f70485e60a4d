"""The stack a drill runs against: database, environment, fake Bling, gunicorn, qcluster.

Everything listens on 127.0.0.1 only. The fake Bling runs in the drill's own process (a thread
serving real HTTP) so a drill can flip faults (``fake.outage()``), count token calls and read
the catalog directly; the app only ever reaches it over HTTP, as it would reach Bling.

The app processes are real subprocesses of the checkout (``--app-dir``, default the repository)
with their own environment: a fresh database (PostgreSQL ``blingsync_drill_<name>_<pid>``,
dropped at the end, or a temp SQLite file), ``DEBUG=false``, a random ``SECRET_KEY`` and client
secret, ``BLING_*`` pointing at the fake. Their logs go to files in the work directory, which
the security drill greps. All waits are bounded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.drills.procs import Proc
from tests.fakebling import FakeBling

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
PG_HOST = "127.0.0.1"
PG_USER = "postgres"
JSON_MARK = "@@DRILL-JSON@@"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql: str, *, db: str = "postgres", timeout: float = 60) -> str:
    out = subprocess.run(
        ["psql", "-h", PG_HOST, "-U", PG_USER, "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


@dataclass
class StackOptions:
    db: str = "postgres"  # "postgres" or "sqlite"
    app_dir: Path = REPO
    fake_rate: int | None = 3  # the fake's 429 limit (Bling's 3/s); None disables it
    app_rate: int = 3  # BLING_RATE_PER_SECOND given to the app
    web_workers: int = 2
    q_workers: int = 2
    keep: bool = False  # keep the database and work directory for a post-mortem
    extra_env: dict[str, str] = field(default_factory=dict)


class Stack:
    def __init__(self, name: str, opts: StackOptions) -> None:
        self.name = name
        self.opts = opts
        self.app_dir = Path(opts.app_dir).resolve()
        self.python = str(REPO / ".venv" / "bin" / "python")
        self.gunicorn = str(REPO / ".venv" / "bin" / "gunicorn")
        self.workdir = Path(tempfile.mkdtemp(prefix=f"blingsync-drill-{name}-"))
        # DRILL_PORT_BASE: serve on it (web) and the next port (fake Bling) instead of any
        # free ones, for machines where each user has a port range; DRILL_WEB_PORT: the web
        # port alone.
        base = int(os.environ.get("DRILL_PORT_BASE") or 0)
        self.web_port = int(os.environ.get("DRILL_WEB_PORT") or 0) or base or free_port()
        self.client_secret = "drill-secret-" + secrets.token_hex(12)
        self.fake = FakeBling(
            client_id="drill-client-" + secrets.token_hex(4),
            client_secret=self.client_secret,
            rate_per_second=opts.fake_rate,
            redirect_uri=f"{self.base_url}/bling/callback/",
            port=base + 1 if base else 0,
        )
        self.db_name = ""
        self.env: dict[str, str] = {}
        self.web: Proc | None = None
        self.worker: Proc | None = None
        self.commands_log = self.workdir / "commands.log"

    # ------------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/bling/"

    # ------------------------------------------------------------------ database and env

    def _create_database(self) -> str:
        if self.opts.db == "sqlite":
            return f"sqlite:///{self.workdir / 'app.sqlite3'}"
        # DRILL_PG_DB: the database to (re)create, for machines where each user has one.
        self.db_name = os.environ.get("DRILL_PG_DB") or f"blingsync_drill_{self.name}_{os.getpid()}"
        psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{self.db_name}"')
        return f"postgres://{PG_USER}@{PG_HOST}:5432/{self.db_name}"

    def _drop_database(self) -> None:
        if self.db_name and not self.opts.keep:
            try:
                psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except Exception as exc:  # a teardown problem must not hide the drill's result
                log.warning("could not drop %s: %s", self.db_name, exc)

    def _build_env(self, database_url: str) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BLING", "DATABASE_URL", "DJANGO_", "Q_", "PYTEST", "SECRET_KEY"))
            and k not in ("DEBUG", "TOKEN_ENCRYPTION_KEY", "LOG_LEVEL")
        }
        keep.update(
            {
                "DJANGO_SETTINGS_MODULE": "blingsync.settings",
                "DATABASE_URL": database_url,
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": self.base_url,
                "BLING_CLIENT_ID": self.fake.client_id,
                "BLING_CLIENT_SECRET": self.client_secret,
                "BLING_REDIRECT_URI": f"{self.base_url}/bling/callback/",
                "BLING_API_BASE_URL": self.fake.base_url,
                "BLING_AUTHORIZE_URL": self.fake.authorize_url,
                "BLING_RATE_PER_SECOND": str(self.opts.app_rate),
                "Q_BROKER": "orm",
                "Q_WORKERS": str(self.opts.q_workers),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(self.app_dir),
            }
        )
        keep.update(self.opts.extra_env)
        return keep

    # ------------------------------------------------------------------ lifecycle

    def prepare(self) -> None:
        """Fake Bling up, database created and migrated, static files collected."""
        self.fake.start()
        self.env = self._build_env(self._create_database())
        self.manage("migrate", "--noinput", timeout=300, check=True)
        self.manage("collectstatic", "--noinput", "-v", "0", timeout=300, check=True)
        log.info("stack %s prepared in %s", self.name, self.workdir)

    def start_web(self) -> Proc:
        argv = [
            self.gunicorn,
            "blingsync.wsgi",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--workers",
            str(self.opts.web_workers),
            "--timeout",
            "30",
            "--access-logfile",
            "-",
            # Server-side time per request (microseconds), to tell service time from queueing.
            "--access-logformat",
            "access %(m)s %(U)s %(s)s %(D)s",
        ]
        self.web = Proc(
            "web", argv, env=self.env, cwd=self.app_dir, log_path=self.workdir / "web.log"
        )
        self.web.start()
        self.wait_http("/health/", timeout=40)
        return self.web

    def start_worker(self) -> Proc:
        if self.worker is None:
            argv = [self.python, "manage.py", "qcluster"]
            self.worker = Proc(
                "worker", argv, env=self.env, cwd=self.app_dir, log_path=self.workdir / "worker.log"
            )
        before = self.worker.log_text().count("running.")
        self.worker.start()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.worker.log_text().count("running.") > before:
                return self.worker
            if not self.worker.alive:
                raise RuntimeError(f"qcluster died at start; see {self.worker.log_path}")
            time.sleep(0.3)
        raise RuntimeError(f"qcluster not running after 40 s; see {self.worker.log_path}")

    def down(self) -> None:
        for proc in (self.worker, self.web):
            if proc is not None:
                proc.stop(timeout=5)
        self.fake.stop()
        self._drop_database()

    # ------------------------------------------------------------------ app commands

    def has_command(self, name: str) -> bool:
        return any(self.app_dir.glob(f"*/management/commands/{name}.py"))

    def manage(
        self, *args: str, timeout: float = 600, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py <args>`` with the stack's env; output appended to commands.log."""
        started = time.monotonic()
        out = subprocess.run(
            [self.python, "manage.py", *args],
            env=self.env,
            cwd=self.app_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        with open(self.commands_log, "a") as fh:
            fh.write(
                f"\n===== manage.py {' '.join(args[:1])} ... rc={out.returncode} "
                f"{time.monotonic() - started:.1f}s =====\n{out.stdout}\n{out.stderr}\n"
            )
        if check and out.returncode != 0:
            tail = (out.stderr or out.stdout).strip().splitlines()[-15:]
            raise RuntimeError(
                f"manage.py {args[0]} failed ({out.returncode}):\n" + "\n".join(tail)
            )
        return out

    def django(self, code: str, timeout: float = 120) -> Any:
        """Run Python in ``manage.py shell`` (the app's own ORM) and return its ``result``."""
        script = (
            f"{code}\nimport json as _j\nprint({JSON_MARK!r} + _j.dumps(result, default=str))\n"
        )
        out = self.manage("shell", "-c", script, timeout=timeout)
        for line in reversed(out.stdout.splitlines()):
            if line.startswith(JSON_MARK):
                return json.loads(line[len(JSON_MARK) :])
        tail = (out.stderr or out.stdout).strip().splitlines()[-15:]
        raise RuntimeError("shell script failed:\n" + "\n".join(tail))

    def connect(self) -> None:
        """Store a BlingConnection with live tokens, through the app's own `bling_connect`."""
        code = self.fake.issue_code()
        if self.has_command("bling_connect"):
            self.manage("bling_connect", "--code", code, timeout=60, check=True)
            return
        # Before the command landed: the same service it wraps.
        self.django(
            "from blingsync.connect.services import bling_connect_with_code\n"
            f"result = bling_connect_with_code(code={code!r}, actor='drill').status"
        )

    def set_mode(self, mode: str) -> None:
        self.manage("set_mode", mode, timeout=60, check=True)

    def create_staff(self, username: str, password: str) -> None:
        env = dict(self.env, ADMIN_USER=username, ADMIN_PASSWORD=password)
        out = subprocess.run(
            [self.python, "manage.py", "ensure_admin"],
            env=env,
            cwd=self.app_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError("ensure_admin failed: " + out.stderr[-500:])

    # ------------------------------------------------------------------ HTTP

    def http(
        self,
        path: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, bytes, dict[str, str]]:
        """One request to the app; (status, body, headers). Redirects are not followed."""

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a: Any, **k: Any) -> None:
                return None

        opener = urllib.request.build_opener(_NoRedirect)
        req = urllib.request.Request(
            self.base_url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers or {})

    def wait_http(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.http(path, timeout=3)
                return
            except OSError:
                if self.web is not None and not self.web.alive:
                    raise RuntimeError(f"gunicorn died at start; see {self.web.log_path}") from None
                time.sleep(0.3)
        raise RuntimeError(f"{path} not answering after {timeout:.0f} s")

    def health(self) -> tuple[int, dict[str, Any]]:
        status, body, _ = self.http("/health/")
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"raw": body[:300].decode(errors="replace")}

    # ------------------------------------------------------------------ logs

    def server_times_ms(self, path: str, method: str = "POST") -> list[float]:
        """Gunicorn's own time for each request to ``path`` (ms), from its access log."""
        if self.web is None:
            return []
        pattern = re.compile(rf"^access {method} {re.escape(path)} \d+ (\d+)$", re.M)
        return [int(m) / 1000 for m in pattern.findall(self.web.log_text())]

    def log_files(self) -> list[Path]:
        return sorted(p for p in self.workdir.glob("*.log") if p.is_file())

    def logs_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.log_files())

    def issued_secrets(self) -> list[str]:
        """Every token the fake ever issued, plus the client secret: none may leak."""
        with self.fake.lock:
            tokens = list(self.fake.tokens.access) + list(self.fake.tokens.refresh)
        return [t for t in tokens if t] + [self.client_secret]
