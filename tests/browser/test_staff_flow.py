"""A member of staff in a real (headless) Chromium: logs in, opens the dashboard, switches the
mode to live with the confirmation, presses "run now" for codes in dry-run and sees the run.

Selenium drives the Debian `chromium` with the Debian `chromium-driver` (same package source,
so versions always match); Selenium Manager is never asked for anything because both paths
are given. `.ci/run` installs the two packages when missing; the test is skipped, saying so,
only where they are absent. A screenshot of each step lands in tests/artifacts/ (ignored by
git).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from blingsync import jobrunner
from blingsync.jobrunner import job_run_now
from blingsync.models import AuditLog, JobRun, RuntimeSettings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "segredo-forte-123"


def _missing() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(path):
            return f"{path} not found: install the Debian package {package} (.ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture
def browser():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="blingsync-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--lang=pt-BR",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "pt-BR,pt"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def codes_job(request, monkeypatch, fake_bling):
    """The real codes sweep against the fake Bling when it is registered (connected through
    the `bling_connected` fixture when that exists); otherwise a trivial stand-in handler."""
    if "codes" in jobrunner._REGISTRY:
        try:
            request.getfixturevalue("bling_connected")
        except pytest.FixtureLookupError:
            return "real, not connected"  # the run is still recorded (failed) and shown
        # A category with one uncoded product, mirrored, so the dry-run has work to show.
        category = fake_bling.add_category("Teclado Mouse")
        fake_bling.add_product("Teclado sem fio", categoria_id=category["id"])
        job_run_now(kind="categories", trigger=JobRun.Trigger.COMMAND)
        return "real"

    def handler(ctx: jobrunner.JobContext) -> None:
        ctx.count("seen", 1)

    monkeypatch.setitem(
        jobrunner._REGISTRY, "codes", jobrunner.JobSpec(kind="codes", handler=handler)
    )
    return "stand-in"


def click_and_wait(driver, element) -> None:
    """Click something that loads a new page and wait until the new page has replaced the old
    one (the database is checked right after, so the request must have finished)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old_page))
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"staff_flow_{name}.png"))


def test_staff_switch_to_live_and_run_codes_in_dry_run(
    browser, live_server, django_user_model, codes_job, fake_bling
):
    from selenium.webdriver.common.by import By

    django_user_model.objects.create_superuser(
        username="ana", email="ana@example.com", password=PASSWORD
    )
    driver = browser

    # Log in; the login page sends us on to the dashboard.
    driver.get(f"{live_server.url}/admin/login/?next=/dashboard/")
    driver.find_element(By.NAME, "username").send_keys("ana")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert driver.current_url.endswith("/dashboard/")
    assert "Simulação" in driver.find_element(By.ID, "dash-mode-value").text
    shot(driver, "1_dashboard")

    # Switch to live: refused without the confirmation, accepted with it.
    click_and_wait(driver, driver.find_element(By.ID, "dash-change-mode"))
    driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=live]").click()
    click_and_wait(driver, driver.find_element(By.NAME, "_save"))
    assert "Marque a confirmação" in driver.page_source
    assert RuntimeSettings.load().mode == "dry_run"
    driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=live]").click()
    driver.find_element(By.NAME, "confirm_live").click()
    shot(driver, "2_confirm_live")
    click_and_wait(driver, driver.find_element(By.NAME, "_save"))
    assert RuntimeSettings.load().mode == "live"

    # Back on the dashboard: live, and "run now" for codes with the dry-run box ticked.
    driver.get(f"{live_server.url}/dashboard/")
    assert "Ao vivo" in driver.find_element(By.ID, "dash-mode-value").text
    row = driver.find_element(By.ID, "dash-kind-codes")
    dry_run_box = row.find_element(By.NAME, "dry_run")
    if not dry_run_box.is_selected():
        dry_run_box.click()
    click_and_wait(driver, row.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    # The run is queued (and, with the inline test queue, already done) and shows up.
    assert driver.current_url.endswith("/dashboard/")
    run = JobRun.objects.get(kind="codes")
    assert run.params == {"dry_run": True}, run.error
    assert run.trigger == JobRun.Trigger.ADMIN and run.requested_by == "ana"
    if codes_job == "real":
        # The real sweep ran against the fake in dry-run: it would code the product, and
        # wrote nothing to Bling.
        assert run.status == JobRun.Status.SUCCEEDED, run.error
        assert AuditLog.objects.filter(job_run=run, outcome=AuditLog.Outcome.WOULD_DO).exists()
        assert all(not p["codigo"] for p in fake_bling.products.values())
        assert not fake_bling.calls(method="PATCH") and not fake_bling.calls(method="PUT")
    row = driver.find_element(By.ID, "dash-kind-codes")
    assert f"#{run.pk}" in row.text
    assert "simulação" in row.text
    assert "colocada na fila" in driver.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    shot(driver, "3_run_queued")

    driver.get(f"{live_server.url}/admin/blingsync/jobrun/")
    assert driver.find_element(By.PARTIAL_LINK_TEXT, f"#{run.pk} ")
    shot(driver, "4_job_runs")


def full_shot(driver, name: str, width: int = 1600) -> None:
    """The whole page, not just the window (Chrome's own full-page capture), at `width`."""
    import base64

    driver.set_window_size(width, 1000)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    image = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
        },
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"staff_flow_{name}.png").write_bytes(base64.b64decode(image["data"]))
    driver.set_window_size(1400, 1000)


def test_screenshots_of_the_pages_after_a_dry_run_over_the_retailer_catalog(
    browser, live_server, django_user_model, fake_bling, bling_connected
):
    """What a reviewer looks at: the dashboard, the audit log, the categories and the job run
    of a dry-run code sweep over a catalog like the retailer's, as a (non-superuser) member of
    staff sees them; in tests/artifacts/retailer_*.png."""
    import io

    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.products.codes_catalog import prepare

    retailer = prepare(fake_bling, live=False)
    call_command("sweep_codes", "--dry-run", stdout=io.StringIO())
    run = JobRun.objects.filter(kind="codes").latest("id")
    assert run.status == JobRun.Status.SUCCEEDED, run.error
    user = django_user_model.objects.create_user(username="bia", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["blingsync", "products"], codename__startswith="view_"
        )
    )
    driver = browser
    driver.get(f"{live_server.url}/admin/login/?next=/dashboard/")
    driver.find_element(By.NAME, "username").send_keys("bia")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))

    # Dashboard: recent audit by product name, with reasons as sentences.
    audit = driver.find_element(By.ID, "dash-audit").text
    assert "Teclado novo" in audit and "policy=" not in audit
    full_shot(driver, "retailer_1_dashboard")

    driver.get(f"{live_server.url}/admin/blingsync/auditlog/")
    page = driver.find_element(By.ID, "changelist").text
    assert "Teclado novo" in page and "derivado do nome da categoria" in page
    link = driver.find_element(By.LINK_TEXT, "Teclado novo")
    pid = retailer.ids["Teclado novo"]
    assert link.get_attribute("href") == f"https://www.bling.com.br/produtos.php#edit/{pid}"
    full_shot(driver, "retailer_2_audit_log")

    driver.get(f"{live_server.url}/admin/products/category/")
    assert "Teclado Mouse" in driver.find_element(By.ID, "changelist").text
    full_shot(driver, "retailer_3_categories")

    driver.get(f"{live_server.url}/admin/blingsync/jobrun/{run.pk}/change/")
    assert "Notebook novo 1" in driver.page_source
    full_shot(driver, "retailer_4_job_run")

    # The same audit log for an admin who reads English.
    driver.get(f"{live_server.url}/admin/blingsync/auditlog/")
    driver.execute_script("document.cookie = 'django_language=en; path=/'; location.reload();")
    WebDriverWait(driver, 15).until(lambda d: 'lang="en"' in d.page_source)
    assert "derived from the name of the category" in driver.page_source
    full_shot(driver, "retailer_5_audit_log_en")


# --- The walk of issue 25: each role, in pt-BR and in English ------------------------------

# The main lists: they must fit 1,366 px without scrolling sideways (page or results table).
MAIN_LISTS = {
    "category_rules": "/admin/products/categoryrule/",
    "categories": "/admin/products/category/",
    "job_runs": "/admin/blingsync/jobrun/",
    "sold_items": "/admin/products/saleline/",
    "audit": "/admin/blingsync/auditlog/",
    "events": "/admin/webhooks/webhookevent/",
}
# English words that give away an English sentence on a pt-BR page (product data is
# Portuguese; "Bling", "webhook", "token", "API", "dry-run" are words the retailer uses too).
ENGLISH_TELLS = re.compile(
    r"\b(the|and|with|without|which|was|were|has|been|this|not|none|true|false|unknown|"
    r"error|failed|skipped|updated|created|succeeded|pending|yes|sweep|seen|changed|"
    r"schedule|connected|inherited|by)\b",
    re.IGNORECASE,
)
RAW_JSON = re.compile(r"[{\[]\s*\"[^\"\n]{1,60}\"\s*:")


def _catalogue_sentences(lang: str) -> set[str]:
    """Strings of the `lang` catalogue whose translation differs from the source and that
    read as a phrase (three words or more): seeing the source on a page in that language
    means a string was left untranslated (or shown in the other language)."""
    from tests.staff.test_translations_complete import po_entries

    path = Path(__file__).resolve().parents[2] / "locale" / lang / "LC_MESSAGES" / "django.po"
    found = set()
    for entry in po_entries(path):
        source, text = entry.get("msgid", ""), entry.get("msgstr", "")
        if not source or not text or source == text or "%" in source or "<" in source:
            continue
        if len(source.split()) >= 3:
            found.add(source)
    return found


def _walk_data(fake_bling, base_url: str) -> dict[str, int]:
    """A connected account with a retailer's catalog: categories mirrored, a dry-run code
    sweep (a plan's worth of audit), sold items from orders, a webhook event."""
    import io

    from django.core.management import call_command

    from tests.products.codes_catalog import prepare

    retailer = prepare(fake_bling, live=False)
    call_command("sweep_codes", "--dry-run", stdout=io.StringIO())
    notebook = retailer.ids["Notebook novo 1"]
    fake_bling.add_order(items=[(notebook, 1), (retailer.ids["Teclado novo"], 2)])
    call_command("sweep_orders", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    status, _body, _id = fake_bling.send_webhook(
        f"{base_url}/webhooks/bling/", "stock.updated", {"produto": {"id": notebook}}
    )
    assert status == 200
    return {"notebook": notebook}


def _page_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def _fits(driver) -> list[str]:
    """What scrolls sideways at the window's width (the page, or a results table)."""
    return driver.execute_script(
        """
        const out = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > window.innerWidth + 1) out.push('page ' + doc.scrollWidth);
        for (const el of document.querySelectorAll('#changelist .results, #content-main')) {
          if (el.scrollWidth > el.clientWidth + 1) out.push(el.className || el.id);
        }
        return out;
        """
    )


@pytest.mark.parametrize("role", ["gestao", "operacao"])
def test_walk_as_each_role_in_portuguese_and_english(
    browser, live_server, django_user_model, fake_bling, bling_connected, role
):
    from selenium.webdriver.common.by import By

    from tests.conftest import role_user_create

    data = _walk_data(fake_bling, live_server.url)
    user = role_user_create(django_user_model, role)
    user.set_password(PASSWORD)
    user.save()
    run = JobRun.objects.filter(kind="codes").latest("id")
    driver = browser
    driver.set_window_size(1366, 900)
    driver.get(f"{live_server.url}/admin/login/?next=/dashboard/")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))

    pages = {
        "dashboard": "/dashboard/",
        "index": "/admin/",
        **MAIN_LISTS,
        "job_run": f"/admin/blingsync/jobrun/{run.pk}/change/",
        "schedules": "/admin/django_q/schedule/",
        "connect": "/bling/connect/",
    }
    problems: list[str] = []
    for lang in ("pt-br", "en"):
        driver.add_cookie({"name": "django_language", "value": lang, "path": "/"})
        # Sources that must not show in this language: English ones (django-q's) on a pt-BR
        # page, Portuguese ones (ours) on an English page.
        untranslated = _catalogue_sentences("pt_BR" if lang == "pt-br" else "en")
        for name, path in pages.items():
            driver.get(f"{live_server.url}{path}")
            html_lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
            assert html_lang.lower().startswith(lang[:2]), (name, html_lang)
            text = _page_text(driver)
            full_shot(driver, f"walk_{role}_{lang}_{name}", width=1366)
            driver.set_window_size(1366, 900)
            where = f"{role}/{lang}/{name}"
            if name == "connect" and role == "operacao":
                assert "blingsync – gestão" in text, text[:500]
            if lang == "pt-br":
                tells = sorted({m.group(0).lower() for m in ENGLISH_TELLS.finditer(text)})
                if tells:
                    problems.append(f"{where}: English words {tells}")
            leaked = sorted(source for source in untranslated if source in text)
            if leaked:
                problems.append(f"{where}: untranslated {leaked[:5]}")
            raw = RAW_JSON.search(text)
            if raw:
                problems.append(f"{where}: raw JSON {raw.group(0)!r}")
            if name in MAIN_LISTS:
                wide = _fits(driver)
                if wide:
                    problems.append(f"{where}: scrolls sideways at 1,366 px: {wide}")
    assert data["notebook"]
    assert not problems, "\n".join(problems)


def test_first_start_without_a_bling_app(browser, live_server, django_user_model, settings):
    """A fresh install: no Bling app configured, schedules set up and due. The dashboard says
    "conecte o Bling" once (no skipped runs), and its button leads to the steps in Bling."""
    import io

    from django.core.management import call_command
    from selenium.webdriver.common.by import By

    from blingsync.tasks import scheduled_job
    from tests.conftest import role_user_create

    settings.BLING_CLIENT_ID = settings.BLING_CLIENT_SECRET = settings.BLING_REDIRECT_URI = ""
    settings.SITE_URL = "https://loja.example.com.br"
    call_command("setup_schedules", stdout=io.StringIO())
    for kind in ("codes", "stock", "orders", "invoices", "categories", "tokens"):
        scheduled_job(kind)
    assert not JobRun.objects.exists()
    user = role_user_create(django_user_model, "gestao")
    user.set_password(PASSWORD)
    user.save()
    driver = browser
    driver.get(f"{live_server.url}/admin/login/?next=/dashboard/")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    text = driver.find_element(By.TAG_NAME, "body").text
    assert text.count("Conecte o Bling para as tarefas começarem.") == 1
    assert "⚠" not in text and "Ignorado" not in text
    full_shot(driver, "first_start_1_dashboard", width=1366)
    click_and_wait(driver, driver.find_element(By.ID, "dash-connect"))
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "https://loja.example.com.br/bling/callback/" in text
    assert "Central de Extensões" in text and ".env" in text
    assert not driver.find_elements(By.ID, "bling-guide-connect")
    full_shot(driver, "first_start_2_connect_guide", width=1366)


def test_gestao_simulates_reviews_applies_selected_and_undoes(
    browser, live_server, django_user_model, fake_bling, bling_connected
):
    """The plan flow as a (non-superuser) gestão member: a stock simulation from the
    dashboard, the plan reviewed, two of three deactivations applied (the installation stays
    in dry-run), then undone; screenshots in tests/artifacts/staff_flow_plan_*.png."""
    from selenium.webdriver.common.by import By

    from tests.conftest import role_user_create
    from tests.products.soldout_support import moment, sale, stock_posting, tree_mirror

    tree = tree_mirror(fake_bling)
    pids = []
    for i in range(3):
        pid = fake_bling.add_product(f"Pente de memória {i}", categoria_id=tree.memoria)["id"]
        stock_posting(fake_bling, pid, "E", 1, at=moment(120))
        sale(fake_bling, pid, 1)
        pids.append(pid)
    user = role_user_create(django_user_model, "gestao")
    driver = browser
    driver.get(f"{live_server.url}/admin/login/?next=/dashboard/")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys("senha-longa-123")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))

    # Simulate: "run now" for the stock sweep (the installation is in dry-run mode).
    row = driver.find_element(By.ID, "dash-kind-stock")
    click_and_wait(driver, row.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    run = JobRun.objects.get(kind="stock")
    assert run.status == JobRun.Status.SUCCEEDED and run.dry_run, run.error
    box = driver.find_element(By.ID, "dash-plans")
    assert "Plano pendente: 3 inativações" in box.text
    full_shot(driver, "plan_1_dashboard")

    # Review.
    click_and_wait(driver, box.find_element(By.LINK_TEXT, "Revisar"))
    assert "Pente de memória 2" in driver.find_element(By.ID, "plan-items").text
    full_shot(driver, "plan_2_review")

    # Apply the first two only.
    for pid in pids[:2]:
        driver.find_element(By.CSS_SELECTOR, f"#plan-item-{pid} input[type=checkbox]").click()
    click_and_wait(driver, driver.find_element(By.ID, "plan-apply-selected"))
    assert [fake_bling.products[p]["situacao"] for p in pids] == ["I", "I", "A"]
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.DRY_RUN
    driver.refresh()
    assert "Aplicado" in driver.find_element(By.ID, "plan-items").text
    full_shot(driver, "plan_3_applied")

    # Undo.
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "button.plan-undo"))
    assert [fake_bling.products[p]["situacao"] for p in pids] == ["A", "A", "A"]
    assert JobRun.objects.get(kind="undo").status == JobRun.Status.SUCCEEDED
    full_shot(driver, "plan_4_undone")
