"""Language metadata: codes, names and resource classes for real and synthetic languages.

XTREME names one language three ways depending on the dataset: ISO 639-1 codes
(XNLI, PAN-X), English names (``udpos.German``) and ISO 639-3 codes (``tatoeba.deu``).
Every task file maps through this one table so that the embedded synthetic languages
and the real ones follow the same code path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1 style code used everywhere inside xstilts
    iso3: str  # code used by Tatoeba config names
    name: str  # English name used by UD-POS config names
    resource_class: int  # Joshi et al. (2020) class 0-5; synthetic languages get the analogous class
    synthetic: bool = False


# Joshi classes as transcribed in ../shared/research/seed_refs.md §3 ([V-2nd]); ht is ambiguous there (1 or 2).
_REAL = [
    ("af", "afr", "Afrikaans", 3), ("ar", "ara", "Arabic", 5), ("az", "aze", "Azerbaijani", 1),
    ("bg", "bul", "Bulgarian", 3), ("bn", "ben", "Bengali", 3), ("de", "deu", "German", 5),
    ("el", "ell", "Greek", 3), ("en", "eng", "English", 5), ("es", "spa", "Spanish", 5),
    ("et", "est", "Estonian", 3), ("eu", "eus", "Basque", 4), ("fa", "pes", "Persian", 4),
    ("fi", "fin", "Finnish", 4), ("fr", "fra", "French", 5), ("gu", "guj", "Gujarati", 1),
    ("he", "heb", "Hebrew", 3), ("hi", "hin", "Hindi", 4), ("ht", "hat", "Haitian", 1),
    ("hu", "hun", "Hungarian", 4), ("id", "ind", "Indonesian", 3), ("it", "ita", "Italian", 4),
    ("ja", "jpn", "Japanese", 5), ("jv", "jav", "Javanese", 1), ("ka", "kat", "Georgian", 3),
    ("kk", "kaz", "Kazakh", 3), ("ko", "kor", "Korean", 4), ("lt", "lit", "Lithuanian", 3),
    ("ml", "mal", "Malayalam", 1), ("mr", "mar", "Marathi", 2), ("ms", "zsm", "Malay", 3),
    ("my", "mya", "Burmese", 1), ("nl", "nld", "Dutch", 4), ("pa", "pan", "Punjabi", 2),
    ("pl", "pol", "Polish", 4), ("pt", "por", "Portuguese", 4), ("qu", "que", "Quechua", 1),
    ("ro", "ron", "Romanian", 3), ("ru", "rus", "Russian", 4), ("sw", "swh", "Swahili", 2),
    ("ta", "tam", "Tamil", 3), ("te", "tel", "Telugu", 1), ("th", "tha", "Thai", 3),
    ("tl", "tgl", "Tagalog", 3), ("tr", "tur", "Turkish", 4), ("uk", "ukr", "Ukrainian", 3),
    ("ur", "urd", "Urdu", 3), ("vi", "vie", "Vietnamese", 4), ("wo", "wol", "Wolof", 2),
    ("yo", "yor", "Yoruba", 2), ("zh", "cmn", "Chinese", 5),
]

# Synthetic languages of the embedded benchmark. Codes come from the ISO 639 local-use
# range (qaa-qtz) so they can never be mistaken for real languages.
_SYNTHETIC = [
    ("qa", "qaa", "Qalian", 5),  # SOV, Latin script, high-resource
    ("qb", "qab", "Qbekan", 4),  # VSO, Cyrillic script, mid-resource
    ("qc", "qac", "Qcenic", 2),  # SVO with noun-adjective order, Greek script, low-resource
    ("qd", "qad", "Qdanese", 1),  # SOV, CJK-like syllabic script, lowest-resource
]

LANGUAGES: dict[str, Language] = {
    code: Language(code, iso3, name, cls) for code, iso3, name, cls in _REAL
}
LANGUAGES.update({code: Language(code, iso3, name, cls, synthetic=True) for code, iso3, name, cls in _SYNTHETIC})

SYNTHETIC_LANGUAGES = ("en",) + tuple(code for code, *_ in _SYNTHETIC)
LOW_RESOURCE_MAX_CLASS = 2  # Joshi class <= 2 counts as low-resource (seed_refs.md §3)


def get(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise KeyError(f"unknown language code {code!r}; known: {sorted(LANGUAGES)}") from None


def by_iso3(iso3: str) -> Language:
    for lang in LANGUAGES.values():
        if lang.iso3 == iso3:
            return lang
    raise KeyError(f"unknown ISO 639-3 code {iso3!r}")


def by_name(name: str) -> Language:
    for lang in LANGUAGES.values():
        if lang.name == name:
            return lang
    raise KeyError(f"unknown language name {name!r}")


def is_low_resource(code: str) -> bool:
    return get(code).resource_class <= LOW_RESOURCE_MAX_CLASS
