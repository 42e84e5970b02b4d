"""Preparing decision text: mojibake, zones, passages (no database)."""
from __future__ import annotations

from backend.retrieval import records, text
from backend.retrieval.text import Segment, check_zones, chunk, derive_zones, repair_mojibake

from .conftest import decision


def test_lost_accents_are_restored_from_french_words():
    fixed, repair = repair_mojibake("La d¿cision d¿f¿r¿e est confirm¿e par la 3¿me chambre.")
    assert fixed == "La décision déférée est confirmée par la 3ème chambre."
    assert (repair.repaired, repair.left) == (4, 0)


def test_a_lost_capital_is_restored_as_a_capital():
    fixed, _ = repair_mojibake("¿tat des lieux. L'¿TAT FRAN¿AIS et la 2¿me chambre.")
    assert fixed == "État des lieux. L'ÉTAT FRANÇAIS et la 2ème chambre."


def test_unknown_words_are_left_and_counted():
    fixed, repair = repair_mojibake("Monsieur Zr¿wqk a comparu.")
    assert fixed == "Monsieur Zr¿wqk a comparu."
    assert (repair.repaired, repair.left) == (0, 1)


def test_double_encoded_utf8_is_decoded():
    fixed, repair = repair_mojibake("La dÃ©cision du juge dâ€™instruction")
    assert fixed == "La décision du juge d’instruction"
    assert repair.repaired == 1


def test_clean_text_is_untouched():
    original = "Le salarié a été licencié ; la cour d’appel a statué."
    assert repair_mojibake(original) == (original, text.Repair())


def test_zone_offsets_a_little_off_are_moved_to_paragraph_breaks():
    body = "EXPOSÉ DU LITIGE\nLes faits.\nMOTIFS\nLa cour retient.\nPAR CES MOTIFS\nRejette."
    motifs = body.index("MOTIFS\n")
    dispositif = body.index("PAR CES")
    zoning = check_zones(body, {
        "expose": [{"start": 0, "end": motifs - 3}],
        "motivations": [{"start": motifs - 3, "end": dispositif + 2}],
        "dispositif": [{"start": dispositif + 2, "end": len(body) + 5}],
    })
    assert zoning.origin == "adjusted"
    assert [(s.zone, body[s.start:s.end].split("\n")[0]) for s in zoning.segments] == [
        ("expose", "EXPOSÉ DU LITIGE"), ("motivations", "MOTIFS"), ("dispositif", "PAR CES MOTIFS")]
    assert zoning.segments[-1].end == len(body)


def test_broken_zone_offsets_are_reported_and_zones_derived_from_headings():
    body = "Préambule\nMOTIFS DE LA DÉCISION\nLa cour retient.\nPAR CES MOTIFS\nRejette le pourvoi."
    zoning = check_zones(body, {"motivations": [{"start": 5000, "end": 6000}]})
    assert zoning.origin == "derived"
    assert zoning.problem == "décalages hors du texte"
    assert [s.zone for s in zoning.segments] == ["introduction", "motivations", "dispositif"]

    overlapping = check_zones(body, {"motivations": [{"start": 0, "end": 40}],
                                     "dispositif": [{"start": 30, "end": len(body)}]})
    assert overlapping.problem == "zones qui se chevauchent"


def test_a_text_without_headings_is_one_zone_texte():
    assert derive_zones("Une ordonnance sans intitulé.") == [Segment("texte", 0, 29)]


def _long_reasons(sentences: int) -> str:
    return " ".join(f"Attendu que la phrase numéro {i} expose un motif de la décision attaquée "
                    f"selon M. Dupont et Cass. com. du jour." for i in range(sentences))


def test_passages_stay_in_one_zone_end_on_sentences_and_point_into_the_text():
    body = "MOTIFS\n" + _long_reasons(60) + "\nPAR CES MOTIFS\nRejette le pourvoi et condamne M. X aux dépens."
    passages = chunk(body, derive_zones(body))
    zones = [p.zone for p in passages]
    assert zones[0] == "motivations" and zones[-1] == "dispositif"
    assert zones == sorted(zones, key=["motivations", "dispositif"].index)
    for passage in passages:
        assert body[passage.start:passage.end] == passage.text
        assert passage.words <= text.MAX_WORDS + 50
    for passage in passages[:-2]:  # full passages of the long zone
        assert text.MIN_WORDS <= passage.words <= text.MAX_WORDS
        assert passage.text.endswith("jour.")          # a sentence end, not « M. » or « com. »
        assert passage.text.startswith(("MOTIFS", "Attendu"))
    assert [p.ordinal for p in passages] == list(range(len(passages)))


def test_an_endless_sentence_is_cut_at_word_boundaries():
    body = "Vu " + " ".join(f"l'article {i}" for i in range(400)) + "."
    passages = chunk(body, [Segment("texte", 0, len(body))])
    assert len(passages) >= 2
    assert all(p.words <= text.MAX_WORDS for p in passages)
    assert all(body[p.start:p.end] == p.text for p in passages)


def test_prepare_repairs_inside_zones_and_keeps_offsets_right():
    body = "EXPOSÉ DU LITIGE\nLa soci¿t¿ a fait appel.\nPAR CES MOTIFS\nConfirme la d¿cision."
    record = records.from_json(decision("d1", body, zones={
        "expose": [{"start": 0, "end": body.index("PAR")}],
        "dispositif": [{"start": body.index("PAR"), "end": len(body)}]},
        chamber="3¿me chambre"), "test")
    prepared = records.prepare(record)
    assert "La société a fait appel." in prepared.text
    assert prepared.metadata["chamber"] == "3ème chambre"
    assert prepared.zoning.origin == "source"
    for passage in prepared.passages:
        assert prepared.text[passage.start:passage.end] == passage.text
    assert prepared.passages[-1].text == "PAR CES MOTIFS\nConfirme la décision."


def test_metadata_is_read_from_the_first_lines_of_a_file():
    head = ("COUR D'APPEL DE LYON\n3ème chambre A\nARRÊT DU 22 OCTOBRE 2024\nN° RG 23/09232\n"
            "Audience publique du 1er octobre 2024")
    assert records.guess_metadata(head) == {
        "jurisdiction": "Cour d'appel de Lyon", "number": "23/09232", "date": "2024-10-22"}
    cass = "COUR DE CASSATION\nAudience publique du 18 novembre 2020\nPourvoi n° Y 19-19.463"
    assert records.guess_metadata(cass) == {
        "jurisdiction": "Cour de cassation", "number": "19-19.463", "date": "2020-11-18"}
