"""The re-identified test set: deterministic, its truth where it says, and the engine's
recall on a few of its decisions (the full figures come from bench/pseudonymize.py)."""
from __future__ import annotations

import random
import re

from backend.pseudonymize import pseudonymize
from tests.pseudonymize.testset import (
    DEV,
    Score,
    build,
    heldout_pools,
    is_heldout,
    slots_from_clear,
    tribunal_pools,
    tribunal_shapes,
    validation2_pools,
    validation_pools,
)


def test_the_set_is_deterministic_and_its_truth_points_at_inserted_values():
    first, again = build(seed=19, limit=200), build(seed=19, limit=200)
    assert [d.text for d in first] == [d.text for d in again]
    assert [d.text for d in build(seed=20, limit=200)] != [d.text for d in first]
    truths = [t for d in first for t in d.truth]
    assert {t.category for t in truths} >= {"personne", "adresse", "localite", "iban", "nir"}
    for document in first:
        for truth in document.truth:
            value = document.text[truth.start:truth.end]
            assert value and not value.startswith("[") and value == value.strip()


def test_persons_are_found_and_professionals_kept_on_a_sample():
    documents = [d for d in build(seed=19) if any(t.category == "personne" for t in d.truth)][:6]
    score = Score()
    for document in documents:
        score.add(document, pseudonymize(document.text).entities)
    figures = score.figures()
    assert figures["persons"] > 100
    assert figures["recall_persons"] >= 97.0, score.misses[:10]
    assert figures["recall_places_dates"] >= 90.0, score.misses[:10]
    assert figures["professionals_replaced"] <= 5.0, score.wrong[:10]


def test_the_validation_names_are_neither_dev_nor_held_out_names():

    def names(pools):
        return {name.lower() for name in pools.first_m + pools.first_f + pools.surnames}

    validation, heldout = validation_pools(), heldout_pools()
    assert len(validation.surnames) > 500 and len(validation.cities) > 50
    assert not names(validation) & names(DEV) and not names(validation) & names(heldout)
    assert any(" " in name and name.split()[0] in ("de", "du", "Le", "La") for name in validation.surnames)
    assert any("-" in name for name in validation.surnames) and any("-" in name for name in validation.first_f)
    documents = build(limit=60, split="validation")
    assert documents and {d.id[-2:] for d in documents} == {"#1", "#2"}


def test_the_second_validation_split_holds_other_decisions_and_other_names():
    """Decisions measured by neither dev nor held-out (the dev third's decisions without a
    « [A] » slot), names of none of the three other splits' pools."""

    def names(pools):
        return {name.lower() for name in pools.first_m + pools.first_f + pools.surnames}

    second = validation2_pools()
    assert len(second.surnames) > 500 and len(second.cities) > 50
    for other in (DEV, validation_pools(), heldout_pools()):
        assert not names(second) & names(other)
    documents = build(split="validation2")
    ids = {d.id.split("#")[0] for d in documents}
    measured = {d.id.split("#")[0] for split in ("dev", "heldout") for d in build(split=split)
                if any(t.category == "personne" for t in d.truth)}
    assert len(ids) > 60 and not ids & measured
    assert not any(is_heldout(decision_id) for decision_id in ids)
    persons = [t for d in documents for t in d.truth if t.category == "personne"]
    assert len(persons) > 1000
    for document in documents[:40]:
        for truth in document.truth:
            value = document.text[truth.start:truth.end]
            assert value and "[" not in value and value == value.strip()


def test_clear_fictitious_parties_become_slots_and_professionals_stay():
    text = ("Sur le rapport de Mme Brinet, conseiller, les observations de la SCP X, avocat de "
            "M. Paul Meeus, domicilié 12 rue des Lilas\n75011 Paris, où étaient présents Mme Mariette, "
            "président. M. MEEUS conteste. Mme Mariette rejette.")
    slotted = slots_from_clear(text)
    assert "M. [A] [B], domicilié [Adresse 100]\n[Localité 100]," in slotted
    assert "M. [B] conteste" in slotted and "Mme Brinet" in slotted and "Mme Mariette rejette" in slotted
    assert slots_from_clear("Mme Mariette, président, et M. Seguy, conseiller.") is None


def test_the_tribunal_split_holds_first_instance_decisions_and_names_held_out_never_uses():
    """The tribunal split: the dev third's tribunal decisions, filled with names, streets and
    towns of none of the other splits' pools (the held-out towns and streets included), in
    the rarer shapes of tribunal decisions."""

    def names(pools):
        return {name.lower() for name in pools.first_m + pools.first_f + pools.surnames}

    tribunal, heldout = tribunal_pools(), heldout_pools()
    assert len(tribunal.surnames) > 500 and len(tribunal.cities) > 50 and len(tribunal.street_names) > 40
    for other in (DEV, validation_pools(), validation2_pools(), heldout):
        assert not names(tribunal) & names(other)
    places = {value.lower() for value in (*heldout.street_names, *(city for _, city in heldout.cities))}
    assert not places & {value.lower() for value in (*tribunal.street_names, *(city for _, city in tribunal.cities))}
    documents = build(split="tribunal")
    assert {d.id[-2:] for d in documents} == {"#1", "#2", "#3"}
    assert not any(is_heldout(d.id.split("#")[0]) for d in documents)
    # Parties opening a caption line without their civility, names in capitals on a heading line.
    assert any(re.search(r"(?m)^(?:DEMANDEU|DÉFENDEU|DEFENDEU)[^\n]*\n+[ \t]*[A-ZÀ-Ý][\w'-]+[ \t]+[A-ZÀ-Ý]",
                         d.text) for d in documents)
    assert any("Groupe" in d.text[t.start - 20:t.start] for d in documents for t in d.truth if t.category == "personne")


def test_tribunal_shapes_drop_a_civility_only_on_a_caption_line():
    text = "DEMANDEUR\nMonsieur [A] [B]\ncontre Madame [C] [D]\nM. [B] a déposé son rapport."
    shaped = {tribunal_shapes(text, random.Random(seed)) for seed in range(10)}
    assert shaped == {text, "DEMANDEUR\n[A] [B]\ncontre Madame [C] [D]\nM. [B] a déposé son rapport."}
