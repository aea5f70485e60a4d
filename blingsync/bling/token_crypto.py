"""Encryption of the OAuth tokens at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key is `TOKEN_ENCRYPTION_KEY` when set (a Fernet key, or any passphrase, which is then
stretched with HKDF), otherwise it is derived from `SECRET_KEY` with HKDF-SHA256. Several
comma-separated keys may be given to rotate: the first encrypts, all of them decrypt.
Changing the key makes the stored tokens unreadable: the connection then needs a reconnect.
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
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    fernet_keys = [_as_fernet_key(k) for k in keys] or [_derive(secret_key)]
    return MultiFernet([Fernet(k) for k in fernet_keys])


def _current() -> MultiFernet:
    return _fernet(settings.TOKEN_ENCRYPTION_KEY or "", settings.SECRET_KEY)


def token_encrypt(value: str) -> str:
    """Ciphertext (text) of a token; "" stays ""."""
    if not value:
        return ""
    return _current().encrypt(value.encode("utf-8")).decode("ascii")


def token_decrypt(ciphertext: str) -> str:
    """The token behind `ciphertext`; raises TokenDecryptError when the key does not fit."""
    if not ciphertext:
        return ""
    try:
        return _current().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise TokenDecryptError(
            "stored token cannot be decrypted (SECRET_KEY or TOKEN_ENCRYPTION_KEY changed?)"
        ) from exc
