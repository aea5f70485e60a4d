"""Why a Bling call did not work, in one sentence in the active language (issue 25: no
"not connected to Bling: Bling no answer: not_connected: ..." chain)."""

from __future__ import annotations

from django.utils import translation

from blingsync.bling.errors import (
    BlingError,
    BlingForbidden,
    BlingNotConnected,
    BlingRateLimited,
    BlingUnavailable,
)
from blingsync.error_text import bling_error_text


def test_not_connected_is_one_portuguese_sentence():
    exc = BlingNotConnected(status=None, error_type="not_connected", message="qualquer")
    assert bling_error_text(exc=exc) == (
        "Bling não conectado: conecte a conta em “Conectar ao Bling”."
    )


def test_a_refused_refresh_keeps_blings_words_once():
    cause = BlingError(status=400, error_type="invalid_grant", description="Invalid refresh token")
    exc = BlingNotConnected(status=400, error_type="needs_reconnect", message="texto longo")
    exc.__cause__ = cause
    text = bling_error_text(exc=exc)
    assert text.startswith("O Bling recusou a renovação do acesso")
    assert text.endswith("(Bling: invalid_grant: Invalid refresh token)")
    assert "texto longo" not in text


def test_causes_in_words_and_in_english_when_asked():
    assert "não respondeu" in bling_error_text(exc=BlingUnavailable(status=None))
    assert "erro 503" in bling_error_text(exc=BlingUnavailable(status=503))
    assert "amanhã" in bling_error_text(exc=BlingRateLimited(status=429, period="day"))
    forbidden = BlingForbidden(status=403, error_type="FORBIDDEN", message="Sem escopo")
    assert "escopo" in bling_error_text(exc=forbidden) and "Sem escopo" in bling_error_text(
        exc=forbidden
    )
    with translation.override("en"):
        assert bling_error_text(exc=BlingUnavailable(status=None)).startswith(
            "Bling did not answer"
        )
