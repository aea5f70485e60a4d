"""`make demo` from a fresh clone: the demo script (what the Makefile target runs) reaches a
connected dashboard with the sandbox's products, runs a simulation and shows its result,
makes a sale happen whose webhooks the app accepts, and stops cleanly on Ctrl-C.

It starts real processes (the sandbox, gunicorn, the django-q cluster) on free loopback ports
with its own SQLite database, so it runs once, on the SQLite run of the suite (the demo's
database is SQLite whatever the suite's is). About 40-60 s on the 2-core CI machine.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.fakebling import FakeBling
from tests.fakebling.sandbox.retail import COMPANY_NAME, retail_catalog_generate

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.demo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what} not within {timeout:.0f} s; demo output:\n{log.read_text()[-6000:]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _fresh_clone(target: Path) -> Path:
    """What a clone of this checkout holds (the files git tracks, as they are now), with the
    checkout's virtualenv: no .env, no staticfiles/, no database."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=30
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: what git ignores
        skip = shutil.ignore_patterns(
            ".git", ".venv", "staticfiles", ".env", "*.sqlite3*", "__pycache__", "artifacts"
        )
        shutil.copytree(REPO, target, ignore=skip)
        listed = ""
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((REPO / ".venv").resolve())
    return target


@pytest.fixture
def demo(tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the demo runs on its own SQLite database: checked once, on the SQLite run")
    clone = _fresh_clone(tmp_path / "clone")
    port, sandbox_port = _free_port(), _free_port()
    log = tmp_path / "demo.log"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "BLINGSYNC_"))
    }
    env.update(
        {
            "PORT": str(port),
            "SANDBOX_PORT": str(sandbox_port),
            # Faster than Bling's 3/s so the test stays short; the limiter is the same code.
            "DEMO_RATE_PER_SECOND": "12",
            # A .env with a real Bling app must not matter: DEMO reads none.
            "BLING_API_BASE_URL": "https://api.bling.com.br/Api/v3",
        }
    )
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(clone / ".venv" / "bin" / "python"), "scripts/demo.py"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a killpg(SIGINT) is a terminal's Ctrl-C
        )
    info = {"proc": proc, "log": log, "port": port, "sandbox_port": sandbox_port, "clone": clone}
    try:
        yield info
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for pid in info.get("children", []):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_make_demo_reaches_a_connected_dashboard_and_stops_cleanly(demo):
    import requests

    proc, log, port = demo["proc"], demo["log"], demo["port"]
    app = f"http://127.0.0.1:{port}"
    ready = _wait_for(
        lambda: (
            re.search(r"usuário (\S+)\s+senha (\S+)", log.read_text()) or proc.poll() is not None
        ),
        timeout=150,
        what="the demo's login line",
        log=log,
    )
    assert proc.poll() is None, log.read_text()[-6000:]
    username, password = ready.group(1), ready.group(2)
    demo["children"] = [int(pid) for pid in re.findall(r"iniciado \(pid (\d+)\)", log.read_text())]
    assert len(demo["children"]) == 2  # web and worker, from the Procfile

    assert requests.get(f"{app}/health/", timeout=10).status_code == 200  # connected

    session = requests.Session()
    session.get(f"{app}/admin/login/", timeout=10)
    session.post(
        f"{app}/admin/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/dashboard/",
        },
        timeout=20,
    )
    # The codes simulation the demo queued from the admin runs in the cluster; its result
    # ("would assign" audit rows, read from the demo's own database) shows on the dashboard,
    # named by the sandbox's products.
    catalog = FakeBling()
    retail_catalog_generate(catalog)
    database = demo["clone"] / "demo.sqlite3"

    def simulated() -> list[str]:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
            done = db.execute(
                "SELECT count(*) FROM blingsync_jobrun WHERE kind = 'codes' "
                "AND status = 'succeeded' AND params LIKE '%dry_run%'"
            ).fetchone()[0]
            planned = db.execute(
                "SELECT bling_product_id FROM blingsync_auditlog "
                "WHERE action = 'code_assigned' AND dry_run ORDER BY id DESC LIMIT 5"
            ).fetchall()
        return [catalog.products[pid]["nome"] for (pid,) in planned] if done else []

    planned = _wait_for(simulated, timeout=90, what="the codes simulation", log=log)
    page = session.get(f"{app}/dashboard/", timeout=20).text
    assert any(html.escape(name) in page for name in planned), planned
    assert 'id="demo-banner"' in page
    assert "Conectado" in page and "Não conectado" not in page
    assert COMPANY_NAME in page
    assert "Simulação (dry-run)" in page

    # A sale in the sandbox, through its command: the app accepts its signed webhooks.
    sandbox = f"http://127.0.0.1:{demo['sandbox_port']}"
    product = next(
        pid
        for pid, p in catalog.products.items()
        if p["codigo"].startswith("CABO") and catalog.catalog.totals(pid)[1] >= 1
    )
    sold = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fakebling.sandbox",
            "--url",
            sandbox,
            "venda",
            "--produto",
            str(product),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert sold.returncode == 0, sold.stderr
    assert "order.created" in sold.stdout

    def delivered() -> list:
        state = requests.get(f"{sandbox}/sandbox/estado", timeout=10).json()
        sent = [
            w for w in state["webhooks_sent"] if w["event"] in ("order.created", "stock.updated")
        ]
        return sent if len(sent) >= 2 else []

    sent = _wait_for(delivered, timeout=20, what="the sale's webhooks", log=log)
    assert {w["status"] for w in sent} == {200}

    # Ctrl-C: everything the demo started stops, and it exits 0.
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 0, log.read_text()[-4000:]
    for pid in demo["children"]:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # no process left in web's or worker's group
        assert not _alive(pid)
    assert "demonstração encerrada" in log.read_text()
    assert (demo["clone"] / "demo.sqlite3").exists()  # its own database, in the checkout
