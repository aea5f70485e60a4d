"""`make demo`: the whole app (web + task cluster, the Procfile's processes, as `make run`)
against the sandbox Bling on loopback, connected through the real OAuth flow.

What it does, in order (each step printed):
1. starts the sandbox (tests/fakebling with the retailer's catalog of
   tests/fakebling/sandbox/retail.py) on 127.0.0.1, its page at /sandbox/;
2. builds the app's whole environment itself (`.env` is not read: DEMO=true), refusing to
   start if any Bling address is not on loopback; a fresh `demo.sqlite3` each start (the
   sandbox lives in memory, so yesterday's database would describe another account);
3. migrate, collectstatic, setup_schedules, and the gestão user (`demo_setup`, a random
   password printed at the end);
4. starts the Procfile's web and worker processes (bound to 127.0.0.1);
5. logs in as that user and connects Bling like staff would: "Conectar ao Bling" -> the
   sandbox's authorization page (which approves at once) -> the app's callback -> the token
   exchange;
6. mirrors the categories, seeds the code counters, records the sales (orders and invoices
   sweeps), then queues the codes and stock simulations from the admin's "Executar agora";
7. prints the login, the addresses and the commands to make things happen, and runs until
   Ctrl-C or SIGTERM: both stop everything it started and exit 0.

Settings through the environment: PORT (8000), SANDBOX_PORT (PORT + 900),
DEMO_RATE_PER_SECOND (3, Bling's: the sandbox refuses more and the app keeps under it),
DEMO_DB (demo.sqlite3), DEMO_USER (gestao).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from blingsync.demo_guard import demo_addresses_problem  # noqa: E402
from tests.fakebling import FakeBling  # noqa: E402
from tests.fakebling.sandbox.retail import COMPANY_NAME, retail_catalog_generate  # noqa: E402

PY = str(REPO / ".venv" / "bin" / "python")
VENV_BIN = str(REPO / ".venv" / "bin")
# Only these of the caller's variables reach the app: the rest of its environment is the
# demo's own, so nothing from a real installation (database, Bling app, e-mail) leaks in.
PASSED_THROUGH = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "USER")
COMPANY_ID = "d3m0" + "0" * 28
STOP_SECONDS = 30
BLING_TIME_ZONE = "America/Sao_Paulo"


def say(line: str) -> None:
    sys.stdout.write(f"demo: {line}\n")
    sys.stdout.flush()


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


class Demo:
    def __init__(self) -> None:
        self.port = int(os.environ.get("PORT") or 8000)
        self.sandbox_port = int(os.environ.get("SANDBOX_PORT") or self.port + 900)
        self.rate = int(os.environ.get("DEMO_RATE_PER_SECOND") or 3)
        self.db = Path(os.environ.get("DEMO_DB") or REPO / "demo.sqlite3").resolve()
        self.username = os.environ.get("DEMO_USER") or "gestao"
        self.password = secrets.token_urlsafe(12)
        self.client_secret = "sandbox-" + secrets.token_hex(16)
        self.app_url = f"http://127.0.0.1:{self.port}"
        self.sandbox: FakeBling | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.pumps: list[threading.Thread] = []
        self.stop_requested = threading.Event()
        self.env: dict[str, str] = {}

    # -------------------------------------------------------------- sandbox and environment

    def sandbox_start(self) -> FakeBling:
        fake = FakeBling(
            client_id="blingsync-demo",
            client_secret=self.client_secret,
            rate_per_second=self.rate or None,
            redirect_uri=f"{self.app_url}/bling/callback/",
            port=self.sandbox_port,
            company_id=COMPANY_ID,
        )
        fake.company_name = COMPANY_NAME
        made = retail_catalog_generate(fake)
        fake.app_url = self.app_url
        try:
            fake.start()
        except OSError as exc:
            raise DemoError(
                f"o sandbox não pôde ouvir em 127.0.0.1:{self.sandbox_port} ({exc.strerror}); "
                "escolha outra porta com SANDBOX_PORT=..."
            ) from exc
        self.sandbox = fake
        s = made.summary()
        say(
            f"sandbox do Bling em http://127.0.0.1:{fake.port}/sandbox/ ({COMPANY_NAME}: "
            f"{s['products']} produtos, {s['without_code']} sem código, {s['orders']} pedidos, "
            f"{s['nfe']} NF-e, {s['nfce']} NFC-e)"
        )
        return fake

    def env_build(self, fake: FakeBling) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH}
        env.update(
            {
                "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "PYTHONUNBUFFERED": "1",
                "DEMO": "true",
                "DEMO_SANDBOX_URL": f"http://127.0.0.1:{fake.port}/sandbox/",
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": f"sqlite:///{self.db}",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": f"{self.app_url},http://localhost:{self.port}",
                "SITE_URL": self.app_url,
                "BIND_ADDRESS": "127.0.0.1",
                "PORT": str(self.port),
                "WEB_CONCURRENCY": "2",
                "Q_BROKER": "orm",
                "Q_WORKERS": "2",
                "EMAIL_URL": "consolemail://",
                "BLING_CLIENT_ID": fake.client_id,
                "BLING_CLIENT_SECRET": self.client_secret,
                "BLING_REDIRECT_URI": f"{self.app_url}/bling/callback/",
                "BLING_API_BASE_URL": fake.base_url,
                "BLING_AUTHORIZE_URL": fake.authorize_url,
                "BLING_RATE_PER_SECOND": str(self.rate or 1000),
            }
        )
        problem = demo_addresses_problem(
            addresses={
                name: env[name]
                for name in (
                    "BLING_API_BASE_URL",
                    "BLING_AUTHORIZE_URL",
                    "BLING_REDIRECT_URI",
                    "DEMO_SANDBOX_URL",
                    "SITE_URL",
                )
            }
        )
        if problem:
            raise DemoError(problem)
        self.env = env
        return env

    # -------------------------------------------------------------- commands and processes

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> None:
        started = time.monotonic()
        out = subprocess.run(
            [PY, "manage.py", *args],
            cwd=REPO,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        lines = [ln for ln in out.stdout.splitlines() if ln.strip() and " INFO " not in ln]
        for line in lines[-3:]:
            say(f"  {line}")
        if out.returncode != 0:
            raise DemoError(
                f"manage.py {' '.join(args)} falhou ({out.returncode}): "
                + (out.stderr.strip().splitlines() or ["?"])[-1]
            )
        say(f"  manage.py {args[0]} ok ({time.monotonic() - started:.1f} s)")

    def procfile(self) -> dict[str, str]:
        entries: dict[str, str] = {}
        for line in (REPO / "Procfile").read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_]+):\s*(.+)$", line.strip())
            if match:
                entries[match.group(1)] = match.group(2)
        return entries

    def processes_start(self) -> None:
        """The Procfile's processes, each in its own process group (stopped as a whole)."""
        for name, command in self.procfile().items():
            proc = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=REPO,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.procs[name] = proc
            assert proc.stdout is not None
            pump = threading.Thread(
                target=_pump, args=(name, proc.stdout), name=f"pump-{name}", daemon=True
            )
            pump.start()
            self.pumps.append(pump)
            say(f"{name} iniciado (pid {proc.pid}): {shlex.split(command)[0]}")

    def processes_stop(self) -> bool:
        """SIGTERM to each process, then SIGKILL to whatever is left of its group; True when
        every process ended on SIGTERM."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_SECONDS
        clean = True
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} não parou em {STOP_SECONDS} s: SIGKILL")
                clean = False
            _group_kill(proc.pid)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                clean = False
        for pump in self.pumps:
            pump.join(timeout=2)
        return clean

    def processes_alive(self) -> bool:
        return all(proc.poll() is None for proc in self.procs.values())

    # -------------------------------------------------------------- the app, as staff use it

    def health_wait(self, timeout: float = 90) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.processes_alive() or self.stop_requested.is_set():
                raise DemoError("o app parou antes de responder em /health/")
            try:
                requests.get(f"{self.app_url}/health/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise DemoError(f"o app não respondeu em {self.app_url}/health/ em {timeout:.0f} s")

    def staff_session(self) -> Any:
        import requests

        session = requests.Session()
        login = f"{self.app_url}/admin/login/"
        session.get(login, timeout=20).raise_for_status()
        response = session.post(
            login,
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
                "next": "/admin/",
            },
            timeout=20,
        )
        if response.status_code != 200 or "sessionid" not in session.cookies:
            raise DemoError(f"o login de {self.username} falhou ({response.status_code})")
        return session

    def bling_connect(self, session: Any) -> None:
        """Conectar ao Bling -> the sandbox's authorization page -> the app's callback."""
        # The connect page's button: a POST (with the CSRF token) starts the flow.
        page = f"{self.app_url}/bling/connect/"
        session.get(page, timeout=20).raise_for_status()
        response = session.post(
            page,
            data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
            headers={"Referer": page},
            timeout=60,
        )
        hops = " -> ".join(r.headers.get("Location", "?").split("?")[0] for r in response.history)
        if response.status_code != 200 or 'id="bling-guide' not in response.text:
            raise DemoError(f"a conexão ao Bling falhou ({response.status_code}, via {hops})")
        if 'id="bling-guide-connected"' not in response.text:
            raise DemoError("o Bling do sandbox não conectou (veja a página de conexão)")
        say(f"conectado ao Bling do sandbox pelo fluxo OAuth ({hops})")

    def simulation_queue(self, session: Any, kind: str) -> None:
        url = f"{self.app_url}/admin/blingsync/jobrun/run-now/"
        response = session.post(
            url,
            data={
                "kind": kind,
                "dry_run": "on",
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
                "next": "/dashboard/",
            },
            timeout=30,
        )
        if response.status_code != 200:
            raise DemoError(f"não foi possível pôr a simulação de {kind} na fila")
        say(f"simulação de {kind} na fila (executada pelo cluster)")

    # -------------------------------------------------------------- the whole run

    def run(self) -> int:
        # The sandbox's dates are Bling's: local time in São Paulo, whatever this machine's.
        os.environ["TZ"] = BLING_TIME_ZONE
        time.tzset()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop_requested.set())
        started = time.monotonic()
        try:
            fake = self.sandbox_start()
            self.env_build(fake)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.db}{suffix}").unlink(missing_ok=True)
            say(f"banco de dados da demonstração: {self.db} (recriado a cada início)")
            self.manage("migrate", "--noinput")
            self.manage("collectstatic", "--noinput", "-v", "0")
            self.manage("setup_schedules")
            self.manage(
                "demo_setup",
                "--username",
                self.username,
                extra_env={"DEMO_PASSWORD": self.password},
            )
            fake.webhook_url = f"{self.app_url}/webhooks/bling/"
            self.processes_start()
            self.health_wait()
            session = self.staff_session()
            self.bling_connect(session)
            self.manage("sync_categories")
            self.manage("seed_counters")
            self.manage("sweep_orders")
            self.manage("sweep_invoices")
            self.simulation_queue(session, "codes")
            self.simulation_queue(session, "stock")
            self.ready(started)
        except DemoError as exc:
            if self.stop_requested.is_set():  # Ctrl-C during the setup: a stop, not a failure
                say("parando (sinal recebido durante a preparação)")
                return 0 if self.shutdown() else 1
            say(f"ERRO: {exc}")
            self.shutdown()
            return 1
        while not self.stop_requested.wait(0.5):
            if not self.processes_alive():
                say("um processo do app parou sozinho; encerrando a demonstração")
                self.shutdown()
                return 1
        say("parando (sinal recebido)")
        return 0 if self.shutdown() else 1

    def ready(self, started: float) -> None:
        assert self.sandbox is not None
        sandbox_page = f"http://127.0.0.1:{self.sandbox.port}/sandbox/"
        sandbox_cmd = f"SANDBOX_URL=http://127.0.0.1:{self.sandbox.port} .venv/bin/python -m tests.fakebling.sandbox"
        lines = [
            "",
            f"blingsync de demonstração pronto em {time.monotonic() - started:.0f} s "
            "(modo simulação: nada é escrito no Bling do sandbox até mudar o modo ou aplicar um plano)",
            f"  painel:      {self.app_url}/dashboard/",
            f"  login:       usuário {self.username}  senha {self.password}  (grupo blingsync – gestão)",
            f"  sandbox:     {sandbox_page}  (simular venda, entrada, balanço, produto novo)",
            f"  comando:     {sandbox_cmd} venda --produto ID [--documento nfce]",
            "  Ctrl-C para parar.",
            "",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    def shutdown(self) -> bool:
        clean = self.processes_stop()
        if self.sandbox is not None:
            self.sandbox.webhook_url = None
            self.sandbox.stop()
        say("demonstração encerrada" + ("" if clean else " (algum processo precisou de SIGKILL)"))
        return clean


def _pump(name: str, stream: IO[bytes]) -> None:
    """Copy a process's output to ours, each line prefixed with its name."""
    for raw in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>6} | {raw.decode('utf-8', 'replace')}")
        sys.stdout.flush()
    stream.close()


def _group_kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main() -> int:
    return Demo().run()


if __name__ == "__main__":
    sys.exit(main())
