"""Is a SECRET_KEY fit for production? Read by the settings before Django starts, so it
imports nothing of Django's models.

Refused with DEBUG=false: missing, shorter than 50 characters, fewer than 5 different
characters (Django's own deploy check thresholds), or a placeholder (the value in
`.env.example`, "change-me", Django's "django-insecure-" start, ...): such a key signs
sessions and, without TOKEN_ENCRYPTION_KEY, keys the stored Bling tokens.
"""

from __future__ import annotations

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
# Lower-cased fragments that betray a value copied from an example rather than generated.
PLACEHOLDER_FRAGMENTS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "your-secret",
    "yoursecret",
    "placeholder",
    "secret-key-here",
    "django-insecure",
    "not-secret",
    "insecure",
)
HOW_TO_GENERATE = (
    "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))' "
    "and set it in the environment or in .env."
)


def secret_key_problem(value: str) -> str | None:
    """Why `value` cannot be the production SECRET_KEY, or None when it can."""
    if not value:
        return "SECRET_KEY is required when DEBUG=false."
    lowered = value.lower()
    if any(fragment in lowered for fragment in PLACEHOLDER_FRAGMENTS):
        return "SECRET_KEY is a placeholder (copied from an example such as .env.example)."
    if len(value) < MIN_LENGTH:
        return f"SECRET_KEY is too short ({len(value)} characters; at least {MIN_LENGTH})."
    if len(set(value)) < MIN_UNIQUE_CHARACTERS:
        return (
            f"SECRET_KEY has too little variety ({len(set(value))} different characters; "
            f"at least {MIN_UNIQUE_CHARACTERS})."
        )
    return None
