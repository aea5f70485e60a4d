"""Encryption of the OAuth tokens at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The keys are `TOKEN_ENCRYPTION_KEY` when set (each a Fernet key, or any passphrase, which is
then stretched with HKDF): a comma list rotates, the first encrypts and all of them decrypt.
Without it, keys are derived with HKDF-SHA256 from `SECRET_KEY` (encrypts) and from each of
`SECRET_KEY_FALLBACKS` (decrypt only), so rotating SECRET_KEY the Django way (new key, the old
one moved to the fallbacks) keeps the Bling connection; these derived keys also decrypt
(never encrypt) when TOKEN_ENCRYPTION_KEY is set, so setting it later loses nothing; `manage.py rotate_token_key` then
re-encrypts the stored tokens with the current key, after which the old key may go.
A key that fits none of the stored ciphertexts makes the connection need a reconnect.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_HKDF_INFO = b"blingsync token encryption v1"


class TokenDecryptError(Exception):
    """A stored token cannot be decrypted with the configured key(s)."""


def _derive(material: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        material.encode("utf-8")
    )
    return base64.urlsafe_b64encode(key)


def _as_fernet_key(value: str) -> bytes:
    """A valid Fernet key is used as is; anything else is stretched with HKDF."""
    try:
        if len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32:
            return value.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    return _derive(value)


@functools.cache
def _fernet(configured: str, secret_keys: tuple[str, ...]) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    # The SECRET_KEY-derived keys come last: they encrypt only when no key is configured, and
    # still decrypt tokens stored before TOKEN_ENCRYPTION_KEY was set.
    fernet_keys = [_as_fernet_key(k) for k in keys] + [_derive(k) for k in secret_keys if k]
    return MultiFernet([Fernet(k) for k in fernet_keys])


def _current() -> MultiFernet:
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", None) or ())
    return _fernet(settings.TOKEN_ENCRYPTION_KEY or "", (settings.SECRET_KEY, *fallbacks))


def token_encrypt(value: str) -> str:
    """Ciphertext (text) of a token; "" stays ""."""
    if not value:
        return ""
    return _current().encrypt(value.encode("utf-8")).decode("ascii")


def _open(ciphertext: str, how: str) -> bytes:
    """`decrypt` or `rotate` (re-encrypt with the first key) a stored ciphertext."""
    try:
        return getattr(_current(), how)(ciphertext.encode("ascii"))
    except (InvalidToken, UnicodeError) as exc:
        raise TokenDecryptError(
            "stored token cannot be decrypted (SECRET_KEY or TOKEN_ENCRYPTION_KEY changed?)"
        ) from exc


def token_reencrypt(ciphertext: str) -> str:
    """The same token encrypted with the current (first) key; raises TokenDecryptError when
    no configured key opens it."""
    return _open(ciphertext, "rotate").decode("ascii") if ciphertext else ""


def token_decrypt(ciphertext: str) -> str:
    """The token behind `ciphertext`; raises TokenDecryptError when the key does not fit."""
    if not ciphertext:
        return ""
    try:
        return _open(ciphertext, "decrypt").decode("utf-8")
    except UnicodeError as exc:
        raise TokenDecryptError("stored token is not text") from exc
