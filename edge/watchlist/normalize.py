"""Normal forms of the keys that lookups compare: plates, document numbers, issuers, names.

The authority writes normal forms into its bundles (the publisher runs these same functions), and
the lane runs its reads through them before a lookup, so both sides meet on one spelling.
"""

from __future__ import annotations

import re
import unicodedata

# OCR confuses these characters on plates; every member of a group maps to its first member, so two
# plates that differ only by look-alikes share one skeleton (and one index entry to find them by).
LOOKALIKE_GROUPS = ("0ODQ", "1IL", "2Z", "4A", "5S", "6G", "8B", "UV")
_SKELETON = str.maketrans({ch: group[0] for group in LOOKALIKE_GROUPS for ch in group[1:]})
SKELETON_ALPHABET = "".join(sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".translate(_SKELETON))))

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_NOT_LETTER = re.compile(r"[^A-Z]")

# Letters that Unicode decomposition does not reduce to A-Z (ICAO Doc 9303-3, section 6,
# transliteration of Latin letters with their primary, non-optional forms).
_LATIN_SPECIAL = {
    "ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Ø": "OE", "ø": "OE", "Œ": "OE", "œ": "OE",
    "Þ": "TH", "þ": "TH", "Ð": "D", "ð": "D", "Đ": "D", "đ": "D", "Ł": "L", "ł": "L",
    "Ħ": "H", "ħ": "H", "Ŋ": "N", "ŋ": "N", "ı": "I", "Ĳ": "IJ", "ĳ": "IJ",
    "Ä": "AE", "ä": "AE", "Ö": "OE", "ö": "OE", "Ü": "UE", "ü": "UE", "Å": "AA", "å": "AA",
}
# ICAO Doc 9303-3 transliteration of Cyrillic (Russian, Ukrainian, Belarusian, Serbian, Macedonian letters).
_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G", "Е": "E", "Ё": "E",
    "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I", "Ї": "I", "Й": "I", "Ј": "J",
    "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N", "Њ": "NJ", "О": "O", "П": "P", "Р": "R",
    "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K", "У": "U", "Ў": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Џ": "DZ", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU",
    "Я": "IA",
}
# ICAO-style transliteration of Greek (ELOT 743 as used in Greek passports).
_GREEK = {
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH", "Ι": "I",
    "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P", "Ρ": "R", "Σ": "S",
    "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
}
# Greek vowel pairs ELOT 743 spells as one unit (αυ/ευ as AV/EV is the form before voiced sounds,
# which is the common one in names).
_GREEK_PAIRS = (("ΟΥ", "OU"), ("ΑΥ", "AV"), ("ΕΥ", "EV"), ("ΗΥ", "IV"))
_LATIN = str.maketrans(_LATIN_SPECIAL)
_OTHER_SCRIPTS = str.maketrans({**_CYRILLIC, **_GREEK})
# Passports spell an umlaut either way (MÜLLER as MUELLER or MULLER, ICAO allows both); folding
# the two-letter forms on both sides of a comparison makes the spellings meet.
_FOLD = (("AE", "A"), ("OE", "O"), ("UE", "U"), ("AA", "A"))


def plate(text: str) -> str:
    """A plate as the index holds it: upper-case A-Z0-9, separators and spaces dropped."""
    return _NOT_ALNUM.sub("", text.upper())


def plate_skeleton(normal_plate: str) -> str:
    """The plate with every OCR look-alike replaced by its group's representative."""
    return normal_plate.translate(_SKELETON)


def document_number(text: str) -> str:
    """A document number as printed in the MRZ without filler: upper-case A-Z0-9."""
    return _NOT_ALNUM.sub("", text.upper())


def issuer(text: str) -> str:
    """An ICAO issuing-state code (e.g. 'D<<' from an MRZ becomes 'D')."""
    return _NOT_LETTER.sub("", text.upper())


def ascii_name(text: str) -> str:
    """A name in ICAO Latin capitals: transliterated, diacritics dropped, non-letters as spaces."""
    # Latin letters before decomposition (Ä is AE, not A); other scripts after it, in capitals,
    # so accented letters need no entries of their own (ά decomposes to α, Й to И).
    text = unicodedata.normalize("NFKD", text.translate(_LATIN))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    for pair, latin in _GREEK_PAIRS:
        text = text.replace(pair, latin)
    text = text.translate(_OTHER_SCRIPTS)
    return " ".join(_NOT_LETTER.sub(" ", text).split())


def name_key(surname: str, given_names: str) -> str:
    """Order-free key of a full name: folded tokens, sorted (SMITH JOHN and JOHN SMITH meet)."""
    tokens = ascii_name(f"{surname} {given_names}").split()
    folded = []
    for token in tokens:
        for pair, single in _FOLD:
            token = token.replace(pair, single)
        folded.append(token)
    return " ".join(sorted(folded))
