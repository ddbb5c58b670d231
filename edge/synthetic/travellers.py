"""Made-up travellers and their TD3 passports, with the MRZ a document reader would emit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from hardware.mrz import TravelDocument, compose_td3

# Plain ASCII names: an MRZ carries A-Z only, and transliteration is not what is tested here.
_GIVEN = ("ANNA", "MARIA", "ELENA", "SOFIA", "LAURA", "CLARA", "JULIA", "EMMA", "LUCIA", "NINA", "EILEEN",
          "OLIVIA", "CHLOE", "MARTA", "ZOFIA", "INES", "ROSA", "HANNA", "LEA", "GRACE", "ANA", "BEATRIZ",
          "PAULA", "IRENE", "ALICE", "CAMILA", "VERA", "DANIELA", "MARIE", "SARAH")
_SECOND = ("LOUISE", "ROSE", "MAY", "JANE", "KATHARINA", "ISABEL", "CHRISTINE", "")
_SURNAMES = ("MUELLER", "SCHMIDT", "SCHNEIDER", "MARTIN", "BERNARD", "DUBOIS", "DE VRIES", "JANSEN", "VAN DIJK",
             "ROSSI", "RUSSO", "BIANCHI", "NOWAK", "KOWALSKA", "WOJCIK", "SILVA", "SANTOS", "OLIVEIRA",
             "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "GARCIA", "MILLER", "DAVIS", "COLLINS", "LEFEBVRE",
             "FERREIRA", "MOREAU", "VISSER", "ESPOSITO", "LEWANDOWSKA", "PEREIRA", "TAYLOR", "O BRIEN")
# The passport a driver most likely holds, by the region of the car's plate.
_NATIONALITY_BY_REGION = {"de": "DEU", "fr": "FRA", "nl": "NLD", "it": "ITA", "pl": "POL", "br": "BRA"}
_OTHER_NATIONALITIES = ("USA", "DEU", "FRA", "NLD", "ITA", "POL", "BRA", "GBR", "ESP", "CAN", "MEX", "ARG", "AUT",
                        "BEL", "PRT", "CHE")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Traveller:
    document: TravelDocument
    mrz: tuple[str, str]


def nationality_for_region(region: str, rng: np.random.Generator) -> str:
    """Mostly the plate's country; now and then a foreigner driving a local car."""
    home = "USA" if region.startswith("us-") else _NATIONALITY_BY_REGION.get(region, "UTO")
    if rng.random() < 0.75:
        return home
    return _OTHER_NATIONALITIES[int(rng.integers(len(_OTHER_NATIONALITIES)))]


def _document_number(nationality: str, rng: np.random.Generator) -> str:
    if nationality == "USA":
        return "".join(str(d) for d in rng.integers(0, 10, 9))
    letters = "".join(chr(ord("A") + int(i)) for i in rng.integers(0, 26, 2))
    return letters + "".join(str(d) for d in rng.integers(0, 10, 7))


def random_traveller(rng: np.random.Generator, on: date, nationality: str) -> Traveller:
    """A traveller crossing on day `on`, holding a passport valid on that day."""
    given = _GIVEN[int(rng.integers(len(_GIVEN)))]
    second = _SECOND[int(rng.integers(len(_SECOND)))]
    age_days = int(rng.integers(18 * 365, 80 * 365))
    # Some states put a personal number in the optional field; it has its own check digit.
    optional = "".join(_ALNUM[int(i)] for i in rng.integers(0, 10, 10)) if rng.random() < 0.25 else ""
    doc = TravelDocument(
        document_type="P",
        issuing_state=nationality,
        surname=_SURNAMES[int(rng.integers(len(_SURNAMES)))],
        given_names=f"{given} {second}".strip(),
        document_number=_document_number(nationality, rng),
        nationality=nationality,
        birth_date=on - timedelta(days=age_days),
        sex="F",  # the one public-domain face the scene has is a woman's
        expiry_date=on + timedelta(days=int(rng.integers(30, 3650))),
        optional_data=optional,
    )
    return Traveller(doc, compose_td3(doc))
