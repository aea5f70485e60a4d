"""Credentials never reach a log line: redaction runs on the formatted text, message and
traceback alike, with the formatter the settings configure."""

from __future__ import annotations

import io
import logging
import logging.config

import pytest
from django.conf import settings

from blingsync.log_redaction import redact

TOKEN = "tok3n-Secreto-0123456789abcdef"


@pytest.fixture
def log_output():
    """A logger wired to the settings' own formatter, writing into a string."""
    stream = io.StringIO()
    formatter = logging.config.DictConfigurator(settings.LOGGING).configure_custom(
        dict(settings.LOGGING["formatters"]["line"])
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_a_traceback_carrying_a_token_is_masked(log_output):
    logger, stream = log_output
    try:
        body = {"access_token": TOKEN, "refresh_token": TOKEN + "r"}
        raise ValueError(f"bad token answer: {body!r} (Authorization: Bearer {TOKEN})")
    except ValueError:
        logger.exception("refresh failed")
    text = stream.getvalue()
    assert "Traceback" in text and "refresh failed" in text
    assert TOKEN not in text
    assert "'access_token': '[redacted]'" in text
    assert "Bearer [redacted]" in text


def test_a_reprd_dict_with_a_token_is_masked(log_output):
    logger, stream = log_output
    logger.info("bling answered %r", {"refresh_token": TOKEN, "expires_in": 21600})
    text = stream.getvalue()
    assert TOKEN not in text
    assert "'refresh_token': '[redacted]'" in text
    assert "'expires_in': 21600" in text


@pytest.mark.parametrize(
    "line, kept",
    [
        (f"grant_type=refresh_token&refresh_token={TOKEN}&x=1", "grant_type=refresh_token"),
        (f'{{"access_token": "{TOKEN}", "scope": "98309"}}', '"scope": "98309"'),
        (f"{{'client_secret': '{TOKEN}'}}", "client_secret"),
        (f"Authorization: Bearer {TOKEN}", "Authorization"),
        (f"GET /bling/callback/?code={TOKEN}&state=abc HTTP/1.1", "state=abc"),
        (f"password={TOKEN}", "password="),
        (f'{{"X-Health-Token": "{TOKEN}"}}', "X-Health-Token"),
    ],
)
def test_each_form_of_a_credential_is_masked(line, kept):
    cleaned = redact(line)
    assert TOKEN not in cleaned
    assert kept in cleaned


def test_product_codes_and_plain_words_are_kept():
    line = "product 123 got code=PM0001 (rule 'tokens' job, 3 tokens refreshed)"
    assert redact(line) == line


def test_the_procfile_access_log_leaves_query_strings_and_referers_out():
    """The OAuth callback's query string carries the code: gunicorn's access log format must
    use the path (%(U)s), never the request line (%(r)s), query (%(q)s) or referer (%(f)s)."""
    import re
    import shlex
    from pathlib import Path

    web = next(
        line
        for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    argv = shlex.split(web.removeprefix("web:"))
    assert "--access-logfile" in argv
    log_format = argv[argv.index("--access-logformat") + 1]
    assert "%(U)s" in log_format
    assert not re.search(r"%\((r|q|f|\{[^}]*\}i)\)s", log_format)
