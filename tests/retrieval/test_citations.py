"""French citations of decisions."""
from __future__ import annotations

import datetime as dt

import pytest

from backend.retrieval.citations import format_citation


@pytest.mark.parametrize("jurisdiction,chamber,date,number,expected", [
    ("Cour de cassation", "Chambre commerciale financière et économique", "2020-11-18", "19-19.463",
     "Cass. com., 18 nov. 2020, n° 19-19.463"),
    ("Cour de cassation", "Chambre sociale", dt.date(2024, 10, 23), "23-15.680",
     "Cass. soc., 23 oct. 2024, n° 23-15.680"),
    ("Cour de cassation", "Première chambre civile", "2021-03-01", "19-20.123",
     "Cass. civ. 1re, 1er mars 2021, n° 19-20.123"),
    ("Cour de cassation", "Troisième chambre civile", "2022-02-02", None, "Cass. civ. 3e, 2 févr. 2022"),
    ("Cour de cassation", "Chambre criminelle", "2023-07-19", "22-86.000",
     "Cass. crim., 19 juill. 2023, n° 22-86.000"),
    ("Cour d'appel de Lyon", "3ème chambre A", "2024-10-22", "23/09232", "CA Lyon, 22 oct. 2024, n° 23/09232"),
    ("Cour d’appel d’Aix-en-Provence", None, "2024-08-05", "24/1", "CA Aix-en-Provence, 5 août 2024, n° 24/1"),
    ("Tribunal judiciaire de Paris", None, "2023-12-18", "23/56046", "TJ Paris, 18 déc. 2023, n° 23/56046"),
    ("Tribunal de commerce de Nice", None, "2024-09-13", "2024G00010",
     "T. com. Nice, 13 sept. 2024, n° 2024G00010"),
    ("Cour d'appel de Reims", None, None, "24/00051", "CA Reims, n° 24/00051"),
    ("Conseil d'État", None, "2024-01-01", None, "Conseil d'État, 1er janv. 2024"),
])
def test_citation_formats(jurisdiction, chamber, date, number, expected):
    assert format_citation(jurisdiction, chamber, date, number) == expected
