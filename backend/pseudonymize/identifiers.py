"""Identifiers found by exact rules: their shape, and a checksum wherever one exists.

Each finder takes the analysis text (same length as the text sent) and yields
``(start, end, category)``. A shape without its checksum is not an identifier: a
15-digit number whose NIR key is wrong is left alone (it is more likely a case number).
Dates are personal only by their context (« né le », « décédée le », « mariés le »):
the date of a hearing or of a contract stays.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

Found = tuple[int, int, str]

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")

# French numbers: 0X XX XX XX XX, with spaces, dots or dashes, or +33 (0)X...
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?|0)[1-9]"
    # The same separator between every pair, or none (« 09 72 72 4000 » is not a number).
    r"(?:(?P<sep>[\s.-])\d{2}(?:(?P=sep)\d{2}){3}|\d{8})(?![\d])")

# An IBAN: country, two check digits, then groups (printed in fours or not).
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")

# NIR: sex, year, month, department (2A/2B for Corsica), commune, order, then the key.
NIR = re.compile(r"(?<!\d)([12378])[ .]?(\d{2})[ .]?(\d{2})[ .]?(\d{2}|2[AB])[ .]?(\d{3})[ .]?"
                 r"(\d{3})(?:[ .]?(\d{2}))?(?![\dA-Z])")

# Registration plates: SIV (AB-123-CD, 2009 on) and the old FNI (1234 AB 75), the latter
# only after a word about a vehicle, as its shape is common.
PLATE_SIV = re.compile(r"\b(?!SS)[A-HJ-NP-TV-Z]{2}[- ]?(?!000)\d{3}[- ]?(?!SS)[A-HJ-NP-TV-Z]{2}\b")
PLATE_FNI = re.compile(r"(?i:immatricul\w*|v[ée]hicule|plaque)[^.\n]{0,40}?"
                       r"\b(\d{1,4}[ -]?[A-Z]{1,3}[ -]?(?:\d{2}|2[AB]|97\d))\b")

# Cadastral references: « cadastré(e)(s) section AB n° 12 », « parcelle AB 123 ».
CADASTRE = re.compile(
    r"(?i:cadastr\w*|parcelles?|lots?\s+cadastr\w*)\s*(?:[,:]\s*)?(?i:sous\s+les?\s+)?(?i:r[ée]f[ée]rences?\s+)?"
    r"((?i:section)\s+[A-Z]{1,2}\s*(?i:n[°o]s?\.?|num[ée]ros?)?\s*\d{1,5}"
    r"(?:\s*(?:,|et|à)\s*(?:[A-Z]{1,2}\s*)?(?:n[°o]\s*)?\d{1,5})*"
    r"|[A-Z]{1,2}\s*(?:n[°o]\s*)?\d{1,5}(?:\s*(?:,|et)\s*(?:[A-Z]{1,2}\s*)?\d{1,5})*)")

# Personal account and file numbers named as such.
IDENTIFIER = re.compile(
    r"(?i:n(?:°|o|uméro)\s*(?:d['’]\s*)?(?:allocataire|adh[ée]rent|client|assur[ée]|"
    r"s[ée]curit[ée] sociale|contrat|compte|dossier\s+(?:CAF|MDPH|CPAM|Pôle emploi|France Travail))"
    r"\s*[:°]?\s*)([A-Z0-9][A-Z0-9 ./-]{3,24}[A-Z0-9])")

MONTHS = (r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|"
          r"novembre|d[ée]cembre)")
DATE = (rf"(?:(?:1er|\d{{1,2}})\s+{MONTHS}\s+\d{{4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}"
        rf"|{MONTHS}\s+\d{{4}}|(?<=en )\d{{4}})")
DATED = [
    ("date_naissance", re.compile(
        rf"(?i:\bn[ée]e?s?\b(?:\s+(?:à|a)\s+[^,.;()\n]{{1,40}}?)?,?\s+(?:le\s+|en\s+)|"
        rf"date\s+de\s+naissance\s*:?\s*(?:le\s+)?|\bn[ée]e?s?\s*:\s*)"
        rf"(?i:({DATE}))")),
    ("date_deces", re.compile(
        rf"(?i:d[ée]c[ée]d[ée]e?s?|date\s+(?:du|de)\s+d[ée]c[eè]s|d[ée]c[eè]s\s+(?:survenu\s+)?)"
        rf"\s*(?:[:,]\s*)?(?i:le\s+|en\s+)?(?i:({DATE}))")),
    ("date_mariage", re.compile(
        rf"(?i:mari[ée]e?s\s+(?:le\s+|en\s+)|mariage\s+(?:c[ée]l[ée]br[ée]\s+)?(?:le\s+|du\s+|en\s+)"
        rf"|uni(?:e|s)?\s+par\s+un\s+pacs\s+(?:le\s+|du\s+))"
        rf"(?i:({DATE}))")),
]


def _digits(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def iban_valid(value: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    compact = _digits(value)
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def nir_valid(value: str) -> bool:
    """NIR key: 97 - (the 13 digits mod 97), with 2A and 2B read as 19 and 18."""
    compact = _digits(value)
    if len(compact) != 15:
        return False
    body, key = compact[:13], compact[13:]
    body = body.replace("2A", "19").replace("2B", "18") if body[5:7] in ("2A", "2B") else body
    if not body.isdigit() or not key.isdigit():
        return False
    return 97 - int(body) % 97 == int(key)


def find(text: str) -> Iterator[Found]:
    """Every identifier of ``text`` (the analysis copy), with its category."""
    for match in EMAIL.finditer(text):
        yield match.start(), match.end(), "courriel"
    for match in IBAN.finditer(text):
        if iban_valid(match.group()):
            yield match.start(), match.end(), "iban"
    for match in NIR.finditer(text):
        if match.group(7) and nir_valid(match.group()):
            yield match.start(), match.end(), "nir"
        elif not match.group(7) and re.search(r"(?i)s[ée]curit[ée] sociale|NIR\b|INSEE",
                                              text[max(0, match.start() - 60):match.start()]):
            # Thirteen digits named as a social-security number (the key left out).
            yield match.start(), match.end(), "nir"
    for match in PHONE.finditer(text):
        yield match.start(), match.end(), "telephone"
    for match in PLATE_SIV.finditer(text):
        value = match.group()
        if re.fullmatch(r"[A-Z]{2}[- ]\d{3}[- ][A-Z]{2}", value) or re.search(
                r"(?i)immatricul|v[ée]hicule|plaque|voiture|camion|moto",
                text[max(0, match.start() - 80):match.start()]):
            yield match.start(), match.end(), "immatriculation"
    for match in PLATE_FNI.finditer(text):
        yield match.start(1), match.end(1), "immatriculation"
    for match in CADASTRE.finditer(text):
        yield match.start(1), match.end(1), "cadastre"
    for match in IDENTIFIER.finditer(text):
        yield match.start(1), match.end(1), "identifiant"
    for category, pattern in DATED:
        for match in pattern.finditer(text):
            yield match.start(1), match.end(1), category
