"""The detection engine on texts a court writes (the real French spaCy model, no API)."""
from __future__ import annotations

import pytest

from backend.pseudonymize import Known, pseudonymize
from backend.pseudonymize.engine import letters
from backend.pseudonymize.identifiers import iban_valid, nir_valid

HEADER = """COUR D'APPEL DE LYON
1ère chambre civile B

COMPOSITION DE LA COUR :
Président : M. Pierre LEROY
Conseiller : Mme Anne Roux
Greffier lors des débats : Mme Claire Fabre

APPELANT :
M. Jean DUPONT, né le 12 mars 1980 à Roubaix, demeurant 12 rue des Lilas, 69100 Villeurbanne
Représenté par Me Olivier DOLMAZON de la SELARL VEBER ASSOCIES, avocat au barreau de LYON

INTIMÉE :
Mme Marie Martin épouse Durand
"""
BODY = """M.Dupont soutient que Mme Durand lui doit 3 000 euros. DUPONT produit un relevé
(IBAN FR76 3000 6000 0112 3456 7890 189). La cour d'appel de Lyon, sur le rapport de
Mme Roux, conseiller, retient que M. Jean
Dupont a payé. Mme Durand conteste ; elle est joignable au 06 12 34 56 78.

Fait à Lyon, le 22 octobre 2024.
LE GREFFIER LE PRÉSIDENT
Claire Fabre Pierre LEROY
"""


@pytest.fixture(scope="module")
def result():
    return pseudonymize(HEADER + "\n" + BODY)


def replaced(result, value: str) -> list[dict]:
    return [e for e in result.entities if e["text"] == value]


def test_every_mention_of_a_party_is_one_letter(result):
    dupont = {e["replacement"] for e in result.entities if "upont" in e["text"] or "UPONT" in e["text"]}
    assert dupont == {"[A]"}
    assert len([e for e in result.entities if e["entity_id"] == "personne:A"]) >= 4
    durand = {e["replacement"] for e in result.entities if "Durand" in e["text"]}
    assert durand == {"[B]"}
    assert "Dupont" not in result.text and "DUPONT" not in result.text and "Durand" not in result.text
    assert "M.[A] soutient que Mme [B]" in result.text


def test_a_name_broken_by_a_line_break_is_replaced_whole(result):
    assert "M. [A] a payé" in result.text


def test_professionals_courts_and_bars_stay(result):
    for name in ("Pierre LEROY", "Anne Roux", "Claire Fabre", "Olivier DOLMAZON", "VEBER ASSOCIES"):
        assert name in result.text, name
    assert "barreau de LYON" in result.text and "cour d'appel de Lyon" in result.text
    assert "Fait à Lyon" in result.text
    kept = {k["text"]: k["category"] for k in result.kept}
    assert kept["Pierre LEROY"] == "magistrat" and kept["Claire Fabre"] == "greffier"
    assert any(k["category"] == "avocat" and "DOLMAZON" in k["text"] for k in result.kept)


def test_places_dates_and_identifiers_get_numbered_labels(result):
    text = result.text
    assert "né le [Date de naissance 1] à [Localité 1]" in text
    assert "demeurant [Adresse 1], [Localité 2]" in text
    assert "[Compte bancaire 1]" in text and "[Téléphone 1]" in text


def test_offsets_point_into_the_text_sent():
    text = "Le 😀 témoin : M. Jose\u0301 DUPRE\u0301 🇫🇷, demeurant 3 rue Voltaire, a vu Mme Zoë Lefe\u0300vre."
    result = pseudonymize(text)
    assert result.entities
    for entity in result.entities:
        assert text[entity["start"]:entity["end"]] == entity["text"]
    names = [e["text"] for e in result.entities if e["category"] == "personne"]
    assert "Jose\u0301 DUPRE\u0301" in names and "Zoë Lefe\u0300vre" in names


def test_garbled_accents_and_upper_case_names():
    text = "Mme H¿l¿ne LEF¿VRE a saisi le tribunal. Par la suite, H¿l¿ne LEF¿VRE s'est désistée."
    result = pseudonymize(text)
    assert result.text == "Mme [A] a saisi le tribunal. Par la suite, [A] s'est désistée."


def test_already_pseudonymised_text_is_left_alone():
    text = "Madame [R] [V]\n[Adresse 1]\n[Localité 3]\n\nreprésentée par Me Déborah BELLAICHE, avocat"
    result = pseudonymize(text)
    assert result.entities == []
    assert result.text == text


def test_plural_civilities_and_spouses():
    result = pseudonymize("MM. Paul Girard et Luc Bonnet, ainsi que Mme Sophie Petit épouse Marchand, "
                          "demandent la nullité. M. Girard a signé seul.")
    assert result.text == "MM. [A] et [B], ainsi que Mme [C], demandent la nullité. M. [A] a signé seul."


def test_a_person_inside_a_company_name_is_replaced():
    result = pseudonymize("M. Karim BENALI est gérant de la SARL BENALI BATIMENT. La société BENALI "
                          "BATIMENT n'a pas payé.")
    assert result.text == ("M. [A] est gérant de la SARL [A] BATIMENT. La société [A] BATIMENT n'a pas payé.")


def test_the_cour_de_cassation_header_keeps_its_magistrates():
    text = ("Mme MOUILLARD, président\n\nM. Guérin, conseiller doyen\n\nM. Victor Lucas, domicilié "
            "98, boulevard Dorothée Leblanc, a formé le pourvoi. Sur le rapport de M. Guérin, conseiller "
            "doyen, l'avis de Mme Beaudonnet, avocat général. Condamne M. Lucas aux dépens.")
    result = pseudonymize(text)
    assert "MOUILLARD" in result.text and "Guérin" in result.text and "Beaudonnet" in result.text
    assert "Lucas" not in result.text and "Leblanc" not in result.text
    assert "M. [A], domicilié [Adresse 1]" in result.text


@pytest.mark.parametrize("value,valid", [
    ("FR76 3000 6000 0112 3456 7890 189", True), ("FR76 3000 6000 0112 3456 7890 188", False),
    ("DE89 3704 0044 0532 0130 00", True),
])
def test_iban_checksum(value, valid):
    assert iban_valid(value) is valid


def test_nir_key_and_corsica():
    body = "2690549588157"
    assert nir_valid(body + f"{97 - int(body) % 97:02d}")
    assert not nir_valid(body + f"{(97 - int(body) % 97 + 1) % 97:02d}")
    corsica = "1" + "85" + "12" + "2A" + "004" + "123"
    key = 97 - int(corsica.replace("2A", "19")) % 97
    assert nir_valid(corsica + f"{key:02d}")
    result = pseudonymize(f"Son numéro de sécurité sociale est {body[0]} {body[1:3]} {body[3:5]} {body[5:7]} "
                          f"{body[7:10]} {body[10:13]} {97 - int(body) % 97:02d}, et le dossier n° 1234567890123 45.")
    assert [e["category"] for e in result.entities] == ["nir"]


def test_identifiers_by_shape_and_context():
    result = pseudonymize("Joignable au +33 6 12 34 56 78 ou à jean.martin@orange.fr ; le véhicule "
                          "immatriculé AB-123-CD ; la parcelle cadastrée section ZK n° 412 ; décédé le "
                          "3 juin 2019. L'audience du 3 juin 2019 est renvoyée. Article 700 du code.")
    categories = [e["category"] for e in result.entities]
    assert categories == ["telephone", "courriel", "immatriculation", "cadastre", "date_deces"]
    assert "L'audience du 3 juin 2019" in result.text and "Article 700" in result.text


def test_categories_can_be_kept():
    result = pseudonymize("M. Jean Dupont, né le 4 mai 1970, demeurant 5 rue Pasteur.",
                          keep=["date_naissance", "adresse"])
    assert result.text == "M. [A], né le 4 mai 1970, demeurant 5 rue Pasteur."
    assert {k["category"] for k in result.kept} >= {"date_naissance", "adresse"}


def test_letters_go_on_after_z():
    assert [letters(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]


def test_a_first_name_beside_a_surname_is_a_person_without_a_civility():
    result = pseudonymize("DEMANDEUR :\n\nMonsieur Bernard ROY Joëlle BLANC\n59 bis chemin des Peupliers\n\n"
                          "Attestation de Loïc FAURE. Mme Françoise\nBlanc est venue. Madame Géraldine, ANDRÉ, "
                          "Inès THOMAS,\nnée le 22 mai 1961, comparaît.")
    text = result.text
    assert "BLANC" not in text and "FAURE" not in text and "Blanc" not in text and "THOMAS" not in text
    assert "Mme [C] est venue" in text and "Madame [D],\nnée le [Date de naissance 1]" in text


def test_a_first_name_does_not_make_a_company_or_a_street_a_person():
    result = pseudonymize("La société PIERRE FLOURENS a assigné ; elle siège au 12 rue Jean Jaurès.")
    assert [e["category"] for e in result.entities] == ["adresse"]


def test_signature_blocks_keep_their_names():
    text = ("Fait à Paris le 18 Décembre 2023\n\nLe Greffier Le Juge de la mise en état\n"
            "Corinne BARBIEUX Marjolaine GUIBERT\n")
    result = pseudonymize("M. Paul Girard a perdu.\n\n" + text)
    assert result.text == "M. [A] a perdu.\n\n" + text
    assert any(k["text"] == "Corinne BARBIEUX Marjolaine GUIBERT" for k in result.kept)


def test_a_party_first_name_alone_goes_even_when_a_lawyer_bears_it():
    result = pseudonymize("M. Loïc FAURE, représenté par Me Loïc SANCHEZ, avocat. Je sais que Loïc a organisé "
                          "sa succession.")
    assert result.text == ("M. [A], représenté par Me Loïc SANCHEZ, avocat. Je sais que [A] a organisé "
                           "sa succession.")


def test_countries_and_civilities_are_never_places():
    result = pseudonymize("M. Mohamed Hoarau, né le 22 mars 1987 à Oran (Algérie), domicilié en Algérie. "
                          "Elle lègue la maison du 76 rue Eugène Tenot à Mme Jean-Luc GARCIA.")
    assert "Algérie" in result.text and "à Mme [B]" in result.text
    assert [e["text"] for e in result.entities if e["category"] == "localite"] == ["Oran"]


def test_a_dossier_keeps_its_letters_across_documents():
    first = pseudonymize("M. Jean DUPONT et Mme Nadia Benali, demeurant 12 rue des Lilas. M. Paul Roche, témoin.")
    known = [Known(e["text"], e["category"], e["replacement"]) for e in first.entities]
    second = pseudonymize("Conclusions de Nadia Benali contre Jean Dupont. M. Luc Perrin, voisin, et DUPONT, "
                          "demeurant 12 rue des Lilas puis 3 rue Neuve.", known=known)
    assert second.text == ("Conclusions de [B] contre [A]. M. [D], voisin, et [A], demeurant [Adresse 1] puis "
                           "[Adresse 2].")


# Shapes the development names did not have (found on the validation split), each fixed by
# a context rule or by linking, never by a list of names.
def test_names_with_letters_beyond_western_europe():
    text = "Madame Inaya Şahin demande. Les demandes de Madame Şahin sont rejetées. M. Nguyễn Văn Minh est témoin."
    result = pseudonymize(text)
    assert "Şahin" not in result.text and "Nguyễn" not in result.text
    assert result.text.startswith("Madame [A] demande. Les demandes de Madame [A] sont")


def test_a_surname_opening_on_a_particle_is_replaced_with_it_everywhere():
    text = ("Madame Elodie Dieu épouse de Gasmi\n77 quai de Rapraz\n\nLe tribunal condamne Monsieur du Mesbah. "
            "l'enfant La Thirion est né en 2010 ; les droits relatifs à La Thirion. "
            "Vu les conclusions des époux DE LA MICHAUX. M. DE LA MICHAUX a conclu.")
    result = pseudonymize(text)
    for name in ("Gasmi", "Mesbah", "Thirion", "MICHAUX"):
        assert name not in result.text
    assert " de [" not in result.text and " du [" not in result.text and "La [" not in result.text
    assert "DE LA [" not in result.text


def test_a_persons_names_listed_with_commas_and_a_surname_first():
    result = pseudonymize("Madame LEMIRE, SALEM, Ivan GENTILI, demeurant à Lyon. "
                          "La dénomination de ma société c'est ROBADEY Djamel.")
    assert "SALEM" not in result.text and "ROBADEY" not in result.text and "Djamel" not in result.text
    assert pseudonymize("Madame Dupont, Présidente, a signé.").text == "Madame Dupont, Présidente, a signé."


def test_a_first_name_and_surname_without_civility_where_they_stand_as_a_person():
    text = ("EXPOSE DU LITIGE\n\nMehdi Djebbar-Bah, chirurgien, est décédé le 8 novembre 2019. "
            "Mehdi Djebbar-Bah avait modifié son testament. Le tableau du Gorille de Cyrille LE HAMADOUCHE. "
            "Les effets ont été constatés chez Maria\nMONNARD le 6 novembre.")
    result = pseudonymize(text)
    for name in ("Djebbar", "HAMADOUCHE", "MONNARD"):
        assert name not in result.text
    # A school and a company named after someone stay as they are written.
    kept = pseudonymize("Le tribunal note que le lycée Victor Hugo a écrit à la société Stock France EURL.")
    assert "Victor Hugo" in kept.text and "France EURL" in kept.text


def test_the_bench_listed_before_its_function_and_glued_signatures_stay():
    text = ("Où étaient présents Mme Teiller, président, Mmes Grandjean, Grall, M. Bosse-Platière, Mmes Le Bras, "
            "de Cabarrus, Lion, conseillers, et M. Dupont, greffier. Les observations de la SCP Rocheteau, "
            "Uzan-Sarano et Goulet, avocat de M. Jean Martin.\n\nLe Greffier,Le Président,\n"
            "Clémence BREUILCristina APETROAIE")
    result = pseudonymize(text)
    for name in ("Grandjean", "Grall", "Bosse-Platière", "Cabarrus", "Lion", "Uzan-Sarano", "Goulet",
                 "BREUIL", "APETROAIE"):
        assert name in result.text
    assert "M. [A]." in result.text


def test_words_that_are_not_persons_in_their_context():
    text = ("La société Crédit Logement s'est portée caution de M. Paul Durand. N° Portalis DBX6-W-B7G-WVXM. "
            "Les stations de métro Ledru-Rollin (ligne 8) et Voltaire (ligne 9). Mme France Durand vit en France.")
    result = pseudonymize(text)
    assert result.text.endswith("vit en France.")
    for kept in ("Crédit Logement", "Portalis", "Ledru-Rollin", "Voltaire"):
        assert kept in result.text
    assert "Paul Durand" not in result.text and "France Durand" not in result.text


def test_a_town_after_an_address_with_its_country_or_localities():
    text = ("Société W40 ARCHITEKTEN\n152 bis route des Henrards\nLe Lakhal (ALLEMAGNE)\n\n"
            "Monsieur Rayan MAHY\n36 allée de Ouchene\nDjoudi-en-Masseron / Le Duquesne / AUSTRAL\n\n"
            "Adresse : 163 place Jérémy Forget\n61188 PONCINAC")
    result = pseudonymize(text)
    for town in ("Lakhal", "Djoudi-en-Masseron", "Duquesne", "Jérémy Forget"):
        assert town not in result.text


def test_a_garbled_mention_and_a_clean_one_are_one_person():
    text = ("M. Beno¿t FRAN¿OIS, demeurant à Lyon, appelant. Le tribunal entend FRANÇOIS et M. Fran¿ois. "
            "Benoît François a dit. M. DUPR¿ et M. Dupré.")
    result = pseudonymize(text)
    assert {e["replacement"] for e in result.entities if "RAN" in e["text"].upper()} == {"[A]"}
    assert {e["replacement"] for e in result.entities if "DUPR" in e["text"].upper()} == {"[B]"}


def test_a_doctor_a_legal_representative_a_spouse_after_a_list_and_a_first_name_above_its_surname():
    text = ("Madame Sahraoui, Gillard, Gérald-Joshua Nadeau épouse de La Michaux\n21 avenue des Staquets\n\n"
            "La GMF et le docteur PIETTE assistaient le blessé. Mme Raquel DESJARDINS est décédée.\n\n"
            "Raquel\nDESJARDINS laisse une héritière. L'hôte s'appelle Daphné-Luísa TAHRAOUI En outre. "
            "Attendu que FERON, représentant légal de la société, a comparu.")
    result = pseudonymize(text)
    for name in ("Michaux", "PIETTE", "Raquel", "DESJARDINS", "TAHRAOUI", "FERON"):
        assert name not in result.text


# Shapes of other decisions (the second validation split: cours d'appel and Cour de cassation).
def test_a_particle_opening_the_line_after_a_first_name_goes_with_the_surname():
    result = pseudonymize("ARRÊT DU 23 OCTOBRE 2024\n\n Mme Autumn\nDE GRAEVE, domiciliée 163, route Jean, a formé "
                          "un pourvoi. M. Jonathon\nDe Wilde est intimé. Mme DE GRAEVE soutient.")
    assert "DE GRAEVE" not in result.text and "De Wilde" not in result.text
    assert result.text.startswith("ARRÊT DU 23 OCTOBRE 2024\n\n Mme [A], domiciliée")
    assert pseudonymize("M. Jean Martin\nLe Tribunal a dit.").text.endswith("\nLe Tribunal a dit.")


def test_the_party_against_a_function_is_no_signature():
    text = ("PROCUREUR DE LA REPUBLIQUE\n\n C/\n\nHEUSER, PREFET DU PUY DE DOME\n\nM. Gerd HEUSER est retenu.\n\n"
            "Le Greffier\n\n\nSagoba DANFAKHA\n\nLe Président\n\nRaphaëlle AGENIE-FECAMP\n")
    result = pseudonymize(text)
    assert "HEUSER" not in result.text
    assert "Sagoba DANFAKHA" in result.text and "Raphaëlle AGENIE-FECAMP" in result.text


def test_a_person_before_the_judge_is_no_judge():
    result = pseudonymize("En l'espèce, devant le juge des libertés et de la détention, Timm HODGE n'a fait valoir "
                          "aucun moyen. L'appel de Timm HODGE est recevable. Président : Mme Claire Durand.")
    assert "HODGE" not in result.text and "Claire Durand" in result.text


def test_a_surname_glued_to_the_next_word_is_still_its_person():
    result = pseudonymize("Mme Anastasia DA KARA est décédée. Le partage des successions de feux Fares ANCIAUX et "
                          "Anastasia DA KARAdésigner tel notaire.")
    assert "KARA" not in result.text and result.text.endswith("[A]désigner tel notaire.")
    glued = pseudonymize("Le Greffier,Le Président,\nClémence BREUILCristina APETROAIE. M. BREUIL est partie.")
    assert "BREUILCristina" in glued.text


def test_a_capitalised_particle_goes_with_its_surname_on_a_line_of_its_own_and_in_a_list():
    result = pseudonymize("RG : 20/01308\n\n\nDe Baets\n\n\nC/\n\n\nS.C.I. LOUCHRIS\n\nMme Adèle De Baets, demeurant "
                          "à Lyon. Mme Staude, Gilles De Maeyer\n\nnée le 14 janvier 1980. Mme De Maeyer soutient.")
    assert "Baets" not in result.text and "Maeyer" not in result.text and "De [" not in result.text


def test_a_surname_that_is_a_word_alone_on_a_caption_line_is_its_person():
    result = pseudonymize("Mme Julie PAGÈS a fait appel.\n\nPAGÈS\n\nC/\n\nPREFET DE LA SAVOIE\n\nPAGES 1 A 3\n\n"
                          "PROCUREUR\n\nC/\n\nPAGÈS\n")
    assert "PAGÈS" not in result.text and "PAGES 1 A 3" in result.text


def test_a_surname_in_capitals_alone_in_running_text_but_not_an_organisation():
    result = pseudonymize("Il voulait « préserver CORRADI » car il redoutait un désaccord. Sa préoccupation "
                          "d'abandonner CORRADI et de laisser une partie à CORRADI. Selon la CPAM, la MAIF et la "
                          "société ENEDIS, ENEDIS soutient que. Vu le CESEDA, l'URSSAF indique.\nORDONNONS la mesure.")
    assert "CORRADI" not in result.text
    for kept in ("CPAM", "MAIF", "ENEDIS", "CESEDA", "URSSAF", "ORDONNONS"):
        assert kept in result.text


def test_a_party_listed_without_a_civility_on_a_caption_line():
    result = pseudonymize("JUGEMENT\nrendu le 15 décembre 2023\n\nDEMANDEUR\n\nDaire BERESFORD\n175, allée de Anderberg\n"
                          "75011 Paris\n\nreprésenté par Me Ormélie CLAUDE, avocat\n\nDÉFENDEURS\n\nMergim Hämmerle\n"
                          "129, boulevard Leutgeb\n\nBNP PARIBAS\n16 boulevard des Italiens\n75009 Paris\n\n"
                          "Avons fait comparaître devant nous,\n\nSzilvia Rezende\nnée le 18 juillet 1980 à Lyon\n\n"
                          "BERESFORD s'oppose à cette exception.")
    for name in ("Daire", "BERESFORD", "Mergim", "Hämmerle", "Szilvia", "Rezende"):
        assert name not in result.text
    assert "BNP PARIBAS" in result.text and "Me Ormélie CLAUDE" in result.text


def test_a_surname_after_a_lower_case_portuguese_or_italian_particle():
    result = pseudonymize("Vu l'assignation délivrée par M. Hermelinda da Luz au procureur. M. da Luz n'est pas "
                          "français.")
    assert "Luz" not in result.text and "Hermelinda" not in result.text


def test_a_first_name_of_no_dictionary_before_a_surname_in_capitals_but_not_a_brand():
    result = pseudonymize("EXPOSE DU LITIGE\n\nEdina NEDIĆ, chirurgien, est décédé. Edina NEDIĆ avait modifié son "
                          "contrat au profit de Mme Meveddet Šitum. Il possédait un véhicule Citroen PICASSO et "
                          "la société Allianz IARD l'assurait ; Allianz IARD demande.")
    assert "NEDIĆ" not in result.text and "Edina" not in result.text
    assert "Citroen PICASSO" in result.text and result.text.count("Allianz IARD") == 2
    broken = pseudonymize("Entendu Maître Ludivine FLORET, pour le groupement Feraye\nZINGG, représentant la "
                          "préfecture.\n\nLe tribunal de Paris\nDEMANDEUR")
    assert "Feraye" not in broken.text and "ZINGG" not in broken.text and "Paris\nDEMANDEUR" in broken.text


def test_a_first_name_ending_like_a_court_abbreviation_is_no_court_seat():
    result = pseudonymize("Madame Domenica DE HUTTERER veuve EKSTRÖM, demanderesse, et Mme Jessica de Souza. "
                          "La CA de Lyon et la cour d'appel de Paris.")
    assert "HUTTERER" not in result.text and "Souza" not in result.text
    assert "CA de Lyon" in result.text and "cour d'appel de Paris" in result.text


def test_the_names_of_a_company_named_after_a_person_and_a_dated_line_that_goes_on_a_sentence():
    result = pseudonymize("Le devis communiqué par la société Promeco à la société Groupe Antonino\nKhelifi le "
                          "5 juillet 2019 montre que la marque Antonino Khelifi est exploitée. Le Groupe Casino "
                          "conteste.\n\nLYON, le 22 octobre 2024")
    assert "Antonino" not in result.text and "Khelifi" not in result.text
    assert "Groupe Casino" in result.text and "LYON, le 22 octobre 2024" in result.text


def test_a_glued_surname_after_a_particle_keeps_its_person_and_its_letter():
    tail = "Le partage des successions de feux Ilir RAJČIĆ et Dóra DE JESÚSdésigner tel notaire."
    for text in ("Madame Dóra DE JESÚS, née le 3 mars 1950, est décédée. " + tail,
                 "Mme Dóra de Jesús est décédée. " + tail):
        result = pseudonymize(text)
        assert "JES" not in result.text and "Dóra" not in result.text
        assert result.text.endswith("feux [B] et [A]désigner tel notaire.")


def test_a_person_named_by_a_list_ending_on_two_names_and_a_spouse():
    result = pseudonymize("Madame Dretvić, Navrátil, Anna Liz Peroš épouse Erceg\n112 bis allée des Lilas\n\n"
                          "Mme Erceg conteste.")
    for name in ("Dretvić", "Navrátil", "Anna", "Liz", "Peroš", "Erceg"):
        assert name not in result.text


def test_a_lawyer_named_alone_above_an_office_address_stays():
    result = pseudonymize("DEMANDEUR\n\nMonsieur Jean DUPONT\n12 rue des Lilas\n\nreprésenté par Maître Daire BERESFORD, "
                          "avocat au barreau de PARIS\n\nDaire BERESFORD\n175, allée de la Gare\n75011 PARIS")
    assert result.text.count("Daire BERESFORD") == 2 and "DUPONT" not in result.text
