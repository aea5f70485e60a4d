"""Code prefixes derived from category names (SPEC 5.3).

The rule: lower-case, strip every accent (Unicode NFKD, then drop the combining marks, so no
fixed table of accented letters is needed), split into words; with two words or more take the
first two letters of each of the first two words, with one word its first four letters;
upper-case. "Teclado Mouse" -> TEMO, "Placa Mãe" -> PLMA, "Monitor" -> MONI, "Memória" -> MEMO.

Edge cases, decided here (tests in tests/products/test_prefixes.py):
- Words are runs of the letters a-z after accent stripping. Digits, punctuation and letters
  that do not decompose to a-z (ß, ø, æ) separate words and never appear in a prefix, so a
  code is always letters followed by digits and can be read back without ambiguity
  ("Memória DDR4" -> MEDD, "Placa-Mãe" -> PLMA, "Cabos/Adaptadores" -> CAAD).
- Portuguese connectors ("e", "de", "da", "do", "das", "dos", "com", "para", ...) are not
  words for the rule: "Áudio e Vídeo" -> AUVI, "Placa de Vídeo" -> PLVI. A name made only of
  connectors keeps them ("E" -> E).
- Short words give what they have: "TV" -> TV, "X Y" -> XY, "A" -> A.
- A name without any letter ("", "123", "--") has no prefix: `prefix_derive` returns "" and
  products of that category get no code until staff set a prefix.
"""

from __future__ import annotations

import re
import unicodedata

# Connectors that do not count as words when a name has other words.
CONNECTORS = frozenset(
    {
        "a",
        "o",
        "as",
        "os",
        "e",
        "de",
        "da",
        "do",
        "das",
        "dos",
        "di",
        "du",
        "em",
        "na",
        "no",
        "nas",
        "nos",
        "com",
        "sem",
        "para",
        "pra",
        "por",
        "ou",
    }
)

_WORD = re.compile(r"[a-z]+")
# What a prefix may be (staff-set prefixes are validated against this too).
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,10}$")


def name_fold(name: str) -> str:
    """`name` lower-cased with accents removed: "Peças" -> "pecas" (used to match names)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(name: str) -> str:
    """A key to compare category names case-, accent- and spacing-insensitively."""
    return " ".join(name_fold(name).split())


def name_words(name: str) -> list[str]:
    """The words of a name for the prefix rule (a-z runs, connectors dropped if possible)."""
    words = _WORD.findall(name_fold(name))
    meaningful = [w for w in words if w not in CONNECTORS]
    return meaningful or words


def prefix_derive(name: str) -> str:
    """The prefix derived from a category name, or "" when the name has no letters."""
    words = name_words(name)
    if not words:
        return ""
    if len(words) >= 2:
        return (words[0][:2] + words[1][:2]).upper()
    return words[0][:4].upper()
