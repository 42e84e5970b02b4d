"""Rechercher's jurisdiction filter offers the courts of the corpus the user may see (facet
query), a private court only to its own users, and stays free text: a prefix works, and
without the list the field still filters."""
from __future__ import annotations

import json

from backend import retrieval

from .conftest import fake_llm_settings, wait_until

TEXT = ("MOTIFS\nAttendu que le salarié a été licencié pour faute grave après des absences répétées ; "
        "que l'employeur a respecté la procédure de licenciement.\nPAR CES MOTIFS\nRejette le pourvoi.")


def decision(source_id: str, jurisdiction: str, number: str, **fields) -> dict:
    return {"id": source_id, "jurisdiction": jurisdiction, "chamber": "Chambre sociale", "number": number,
            "date": "2022-03-09", "solution": "Rejet", "text": TEXT, "source": "test", **fields}


CORPUS = [
    decision("cass", "Cour de cassation", "21-12.345"),
    decision("ca-lyon", "Cour d'appel de Lyon", "20/01234"),
    decision("ca-nimes", "Cour d'appel de Nîmes", "20/05678"),
    decision("tj-bobigny", "Tribunal judiciaire de Bobigny", "23/04567"),
    # The development user belongs to the Cour d'appel de Paris (PLUME_DEV_USER's default).
    decision("ca-paris-secret", "Cour d'appel de Paris", "24/00001", private_to=["Cour d'appel de Paris"]),
    decision("ca-rennes-secret", "Cour d'appel de Rennes", "24/00002", private_to=["Cour d'appel de Rennes"]),
]
OFFERED = ["Cour d'appel de Lyon", "Cour d'appel de Nîmes", "Cour d'appel de Paris", "Cour de cassation",
           "Tribunal judiciaire de Bobigny"]


def load_corpus(make_app, fake_llm, tmp_path) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS), encoding="utf-8")
    with make_app(**fake_llm_settings(fake_llm)).app_context():
        assert not retrieval.ingest_paths([str(path)], progress=False).failed_files


def offered(page) -> list[str]:
    wait_until(page, "() => document.getElementById('jurisdictions').dataset.loaded === 'true'")
    return page.evaluate("() => [...document.querySelectorAll('#jurisdictions option')].map((o) => o.value)")


def search(page, jurisdiction: str) -> list[str]:
    page.fill("#search-query", "licenciement faute grave")
    page.click("summary:has-text('Filtres')")
    page.fill("#filter-jurisdiction", jurisdiction)
    page.click("#search-run")
    wait_until(page, "() => document.getElementById('search-status').textContent.includes('trouvée')"
                     " || document.getElementById('search-status').textContent.includes('Aucune')")
    return page.evaluate("() => [...document.querySelectorAll('#search-results .plume-card__title')]"
                         ".map((t) => t.textContent)")


def test_the_filter_offers_the_courts_the_user_may_see_and_filters_by_one(
        plume, make_app, fake_llm, open_pane, tmp_path, screenshot):
    load_corpus(make_app, fake_llm, tmp_path)
    page = open_pane(plume())
    assert offered(page) == OFFERED  # Rennes' private decision is not this user's: nor is its court
    found = search(page, "Cour d'appel de Lyon")
    assert len(found) == 1 and "20/01234" in found[0]
    screenshot(page, "word-search-jurisdictions")


def test_free_text_is_a_prefix_and_still_works_without_the_list(plume, make_app, fake_llm, open_pane, tmp_path):
    load_corpus(make_app, fake_llm, tmp_path)
    base = plume()
    page = open_pane(base)
    found = search(page, "cour d'appel")  # every court of appeal the user may see, accents and case aside
    assert sorted(n for c in found for n in ("20/01234", "20/05678", "24/00001") if n in c) == [
        "20/01234", "20/05678", "24/00001"]
    assert len(found) == 3

    broken = open_pane(base, wait_ready=False)
    broken.route("**/api/v1/facets/jurisdictions", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body=json.dumps({"error": "indisponible", "message": "Service indisponible."})))
    broken.reload()
    broken.wait_for_selector("body[data-ready='true']")
    assert offered(broken) == []
    found = search(broken, "Tribunal judiciaire")
    assert len(found) == 1 and "23/04567" in found[0]
