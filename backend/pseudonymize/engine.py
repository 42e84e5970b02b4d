"""Detection, entity linking and replacement: the model and the rules put together.

1. every finder proposes spans with a priority (already pseudonymised text first, then
   identifiers, court seats, professionals and signature blocks, persons named after a
   civility or known from the dossier, addresses, places, a known first name beside a
   surname, the model's persons, and last the later mentions found by linking);
2. overlapping proposals are settled by priority, then by length;
3. persons become entities: « M. Jean Dupont », « M. Dupont » and « DUPONT » are one
   entity, « Mme Marie Dupont » another; every later capitalised mention of an entity's
   name is that entity, unless the name is a professional's;
4. each entity gets its replacement, as published decisions write them: one letter per
   person ([A], [B]… [Z], [AA]…), a number per distinct value for the rest
   (« [Adresse 1] », « [Localité 2] »); what the dossier's earlier documents replaced
   (``known``) keeps its replacement.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import identifiers, model, rules, vocabulary
from .rules import NAME, Span
from .text import COMBINING, GARBLED, LOWER, UPPER, analysis_copy, name_key

# Category -> label of its replacement (persons get letters).
LABELS: dict[str, str] = {
    "personne": "",
    "adresse": "Adresse",
    "localite": "Localité",
    "date_naissance": "Date de naissance",
    "date_deces": "Date de décès",
    "date_mariage": "Date de mariage",
    "telephone": "Téléphone",
    "courriel": "Courriel",
    "iban": "Compte bancaire",
    "nir": "Numéro de sécurité sociale",
    "immatriculation": "Immatriculation",
    "cadastre": "Référence cadastrale",
    "identifiant": "Numéro identifiant",
}
CATEGORIES = tuple(LABELS)
PRIORITY = {"identifier": 10, "model_person": 60, "linked": 70}
CHUNK = 4000  # characters per model call: paragraphs are packed up to this size


@dataclass
class Result:
    entities: list[dict[str, Any]]
    text: str
    kept: list[dict[str, Any]]


def letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 27 -> AB… (as spreadsheet columns)."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def _chunks(text: str) -> Iterable[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        if end < len(text):
            cut = text.rfind("\n\n", start + CHUNK // 2, end)
            if cut < 0:
                cut = text.rfind("\n", start + CHUNK // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + CHUNK // 2, end)
            end = cut if cut > start else end
        yield start, text[start:end]
        start = end


def model_persons(text: str, common: set[str]) -> list[Span]:
    """The model's persons, cleaned: a civility or function word inside is cut off, and a
    « person » made only of common words (a heading in capitals) is dropped."""
    nlp = model.nlp()
    chunks = list(_chunks(text))
    spans = []
    for (offset, _), doc in zip(chunks, nlp.pipe([chunk for _, chunk in chunks], batch_size=8)):
        for ent in doc.ents:
            if ent.label_ != "PER":
                continue
            start, end = offset + ent.start_char, offset + ent.end_char
            value = text[start:end]
            head = re.match(rf"(?:{rules.CIVILITY}|{rules.LAWYER})[ \t]*\.?[ \t]*", value)
            if head:
                start += head.end()
            company = re.match(r"(?:SARL|S\.A\.R\.L\.|SAS|S\.A\.S\.|SASU|EURL|SCI|SNC|SA|Ets|Société|SOCIETE|"
                               r"SOCIÉTÉ)\b\.?[ \t]*", text[start:end])
            if company:
                start += company.end()
            first = re.search(rules.WORD, text[start:end])
            if not first or re.search(r"\d|@|\[|\]", text[start:end]):
                continue
            start += first.start()
            glued = re.search(rf"[{UPPER}]{{2}}(?=[{LOWER}]{{2,}}$)", text[start:end])
            if glued:
                end = start + glued.end()  # « Dóra DE JESÚSdésigner »: the name ends where the capitals do
            start, end = rules.trim(text, start, end, common)
            words = rules.name_words(text[start:end])
            if not words or all(word.lower() in common or rules.ROLE_RE.fullmatch(word) for word in words):
                continue
            if all(len(word) < 3 for word in words):
                continue
            town = re.match(rf"(?:Saint|Sainte|SAINT|SAINTE)-{rules.NAME}", text[start:end])
            if town:
                # « Saint-Denis (HABITAT) » as the model's person: a town (communes are hyphenated).
                spans.append(Span(start, start + town.end(), "localite", PRIORITY["model_person"], "modèle"))
                continue
            if _not_a_person(text, start, end, words, common):
                continue
            spans.append(Span(start, end, "personne", PRIORITY["model_person"], "modèle", tokens=words))
    return spans


# What stands before a company's name (its name stays unless it is a person's, which
# linking then finds from the person's own mentions).
COMPANY = re.compile(r"(?i:soci[ée]t[ée]|SARL|S\.A\.R\.L\.|SAS|S\.A\.S\.|SASU|EURL|SCI|SA|SNC|syndicat|union|"
                     r"association|f[ée]d[ée]ration|enseignes?|banque|groupe|agence|entreprise|ets|"
                     r"[ée]tablissements?|mutuelle|compagnie|cabinet|office|station|m[ée]tro|lign[e]s?)"
                     r"[ \t]*[«\"“]?[ \t]*$")
DETERMINER = re.compile(r"[ \t]+(?:la|le|les|l'|aux|au|des|du|une|un|que|qu')\b")


def _not_a_person(text: str, start: int, end: int, words: list[str], common: set[str]) -> bool:
    """Systematic errors of the model, told by their context: a verb opening a sentence
    (« Maintenons la mesure », « Déboute les parties »), a chamber abbreviation before a
    date (« Soc 28 février »), a company's or a place's name after its kind."""
    before = text[max(0, start - 40):start]
    opening = not before.strip(" \t") or before.rstrip(" \t")[-1:] in ".;:!?\n"
    if len(words) == 1 and opening and (DETERMINER.match(text, end) or words[0].lower().endswith(("ons", "ez"))):
        return True  # « Donnons acte », « Fixons à », « Déboute les parties »
    if len(words) == 1 and re.match(r"[ \t]*\.?[ \t]*(?:\d|(?i:civ|com|soc|crim|ass\. ?pl[ée]n)\b)", text[end:end + 8]):
        return True  # « Soc 28 février 2018 », « Cass civ. 1ère »
    if len(words) == 1 and words[0].isupper() and len(words[0]) <= 4:
        return True  # an acronym (« DFTP à 50 % »); a short surname comes with a civility or by linking
    if re.match(r"[ \t]*\((?:ligne|line)\b|[ \t]+[A-Z0-9]*\d[A-Z0-9]*-", text[end:end + 12]) or re.search(r"N°[ \t]*$", before):
        return True  # a metro station (« Voltaire (ligne 9) »), « N° Portalis DBX6-W-… »
    if rules.NAMED_INSTITUTION.search(before):
        return True  # « lycée Victor Hugo », « centre Henri Duchêne »
    if re.match(r"(?:Saint|Sainte|St|Ste|SAINT|SAINTE)\b", words[0]):
        return True  # a place or an institution named after a saint (« clinique Saint Augustin »)    # After a company's kind, a name made of words is the company's (« SAS Renoval Abris »);
    # a name made of names is a person's (« société Le Goff ») and goes.
    return bool(COMPANY.search(before)) and any(name_key(word) in common for word in words)


def settle(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, by priority then length (the first come stays)."""
    if not spans:
        return []
    taken = bytearray(max(span.end for span in spans) + 1)
    accepted: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.priority, -(s.end - s.start), s.start)):
        if span.end <= span.start or any(taken[span.start:span.end]):
            continue
        taken[span.start:span.end] = b"\x01" * (span.end - span.start)
        accepted.append(span)
    return sorted(accepted, key=lambda s: s.start)


class _Entity:
    def __init__(self, number: int, gender: str | None):
        self.number = number
        self.gender = gender
        self.surnames: set[str] = set()
        self.firsts: set[str] = set()
        self.particles: set[str] = set()  # surnames written after a particle (« de Gasmi »)
        self.garbled = False  # one of its mentions has garbled letters


# A particle written before a surname in lower case (« de », « du », « van der »): a later
# mention of that surname takes it too, or « Monsieur de [A] » would still point at him.
_LEADING_PARTICLE = re.compile(rf"(?:(?m:^)|[ \t])((?i:{rules.LEAD}|le[ \t]+|la[ \t]+))$")


def _loose_key(key: str) -> str:
    """A name's key with every letter an export may have garbled (an accented vowel or
    « ç ») made one: « BENO¿T » and « Benoît » meet."""
    return re.sub(r"[aeiouyc]", "*", key)


def _link(text: str, spans: list[Span], common: set[str], original: str = "") -> tuple[dict[int, _Entity], list[Span]]:
    """Persons into entities, and the later mentions of each entity's name (``original``:
    the text sent, where garbled letters are still « ¿ »)."""
    garbled = bool(original) and any(char in original for char in GARBLED)
    professional_words = {name_key(word) for span in spans if span.kept and span.category != "juridiction"
                          for word in span.tokens}
    professional_surnames = {name_key(span.tokens[-1]) for span in spans
                             if span.kept and span.category != "juridiction" and span.tokens}
    entities: list[_Entity] = []
    of_span: dict[int, _Entity] = {}
    # Full names first, so that a first name or a surname alone finds its person wherever
    # it stands in the text.
    persons = sorted((span for span in spans if span.category == "personne"),
                     key=lambda span: (len(span.tokens) < 2, span.start))
    for span in persons:
        keys = [name_key(word) for word in span.tokens]
        if not keys:
            keys = [name_key(text[span.start:span.end])]
        surname, firsts = keys[-1], set(keys[:-1])
        spouse = span.reason != "modèle" and re.search(rules.SPOUSE, text[span.start:span.end])
        surnames = set(keys) if spouse else {surname}
        found = None
        if len(keys) == 1:  # a first name alone: its person (the first, if several share it)
            owners = [e for e in entities if keys[0] in e.firsts and keys[0] not in e.surnames]
            if owners and not any(keys[0] in e.surnames for e in entities):
                of_span[id(span)] = owners[0]
                continue
        for entity in entities:
            if len(keys) > 1 and set(keys) <= entity.surnames | entity.firsts:
                found = entity  # « Inès JOLY » after « Inès JOLY LE GOFF »
                break
            if not (surnames & entity.surnames):
                continue
            if firsts and entity.firsts and not (firsts & entity.firsts):
                continue
            if span.gender and entity.gender and span.gender != entity.gender and not (firsts and entity.firsts):
                continue
            found = entity
            break
        if found is None and garbled:
            # « FRAN¿OIS » found by a rule after « François »: one name, one export garbled it.
            loose_surnames = {_loose_key(key) for key in surnames}
            found = next((entity for entity in entities
                          if loose_surnames & {_loose_key(key) for key in entity.surnames}
                          and (entity.garbled or any(char in original[span.start:span.end] for char in GARBLED))), None)
        if found is None:
            found = _Entity(len(entities), span.gender)
            entities.append(found)
        found.surnames |= surnames
        found.firsts |= firsts - surnames
        if garbled and any(char in original[span.start:span.end] for char in GARBLED):
            found.garbled = True
        if span.tokens:
            value = text[span.start:span.end]
            last = value.rfind(span.tokens[-1])
            if last > 0 and _LEADING_PARTICLE.search(value[:last]):
                found.particles.add(surname)
        found.gender = found.gender or span.gender
        of_span[id(span)] = found
    # Later mentions: every capitalised word that is an entity's name.
    by_word: dict[str, _Entity] = {}
    for entity in entities:
        for word in entity.surnames:
            by_word.setdefault(word, entity)
    first_owner: dict[str, list[_Entity]] = {}
    for entity in entities:
        for word in entity.firsts:
            first_owner.setdefault(word, []).append(entity)
    for word, owners in first_owner.items():
        # A first name two persons share still goes (to the first of them): a wrong letter
        # is a flaw, a name left in clear is a leak.
        if word not in by_word:
            by_word[word] = owners[0]
    loose: dict[str, _Entity] = {}
    if garbled:
        for word, entity in by_word.items():
            loose.setdefault(_loose_key(word), entity)
    linked: list[Span] = []
    for match in re.finditer(NAME, text):
        key = name_key(match.group())
        entity = by_word.get(key)
        if entity is None and garbled:
            # A garbled mention of a clean name, or the other way round.
            candidate = loose.get(_loose_key(key))
            if candidate is not None and (candidate.garbled or any(
                    char in original[match.start():match.end()] for char in GARBLED)):
                entity = candidate
                key = next(word for word in (*candidate.surnames, *candidate.firsts)
                           if _loose_key(word) == _loose_key(key))
        if entity is None or len(key) < 3 or re.fullmatch(rules.CIVILITY + "|" + rules.LAWYER, match.group()):
            continue
        if key in professional_words and not (key in entity.firsts and key not in professional_surnames):
            continue
        if key not in entity.surnames and _first_name_is_a_word_here(text, match, entity):
            continue
        if key in common:
            # A surname that is also a word (« Petit », « BLANC »): not at a sentence's
            # start, and in capitals only on a line that is not a heading.
            before = text[max(0, match.start() - 3):match.start()].rstrip(" \t")
            sentence_start = not before or before[-1] in ".!?:;\n«\"("
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line = text[line_start:line_end if line_end >= 0 else len(text)]
            # A line that is only the name, above or under « C/ », is a party of the caption
            # (« PAGÈS⏎⏎C/⏎⏎PREFET DE LA SAVOIE »), no heading.
            caption = line.strip(" \t,") == match.group() and bool(
                re.search(r"(?:^|\n)[ \t]*C/[ \t]*\n[ \t\n]*$", text[max(0, line_start - 40):line_start])
                or re.match(r"[ \t]*\n[ \t\n]*C/[ \t]*(?:\n|$)", text[match.end():match.end() + 40]))
            heading = not any(char.islower() for char in line) and not caption
            # At a sentence's start, a word followed by a verb (« Pages a déclaré », « Moulin
            # soutient ») is the person: a common noun there would come after its article.
            acts = re.match(r"[ \t]+(?:a|avait|aurait|est|était|sera|serait|fait|a-t-il|a-t-elle|ne|n'|"
                            r"s'|se|y|lui|leur|en|[a-zéè]+(?:e|ent|ait|aient|a))\b", text[match.end():match.end() + 20])
            if sentence_start and not match.group().isupper() and not (acts and not re.match(
                    r"[ \t]+(?:à|de|du|des|et|ou|en|le|la|les|un|une)\b", text[match.end():match.end() + 6])) \
                    or match.group().isupper() and heading:
                continue
        span = Span(match.start(), match.end(), "personne", PRIORITY["linked"], "liaison",
                    tokens=[match.group()])
        if key in entity.particles:
            particle = _LEADING_PARTICLE.search(text, max(0, match.start() - 12), match.start())
            if particle:
                span.start = particle.start(1)
        if key in entity.surnames:
            entity = _with_first_name(text, span, entity, entities, common | professional_words)
        of_span[id(span)] = entity
        linked.append(span)
    # A surname in capitals glued to the word after it (« Anastasia DA KARAdésigner », an
    # export that lost a space): the word reader cannot tell where the name ends, the
    # entity's surname can.
    for match in _GLUED_CAPITALS.finditer(text):
        entity = by_word.get(name_key(match.group(1)))
        if entity is not None and len(match.group(1)) >= 3 and match.group(1).lower() not in common:
            span = Span(match.start(1), match.end(1), "personne", PRIORITY["linked"], "liaison",
                        tokens=[match.group(1)])
            particle = _GLUED_PARTICLE.search(text, max(0, span.start - 8), span.start)
            if particle:
                span.start = particle.start()  # « Dóra DE JESÚSdésigner »: the particle is the name's
            of_span[id(span)] = entity
            linked.append(span)
    return of_span, linked


_GLUED_CAPITALS = re.compile(rf"(?<![{UPPER}{LOWER}{COMBINING}])([{UPPER}][{UPPER}{COMBINING}]+)(?=[{LOWER}]{{2}})")


_GLUED_PARTICLE = re.compile(rf"(?<![\w'-]){rules.PARTICLE_WORD}[ \t]+$")


def _first_name_is_a_word_here(text: str, match: re.Match, entity: _Entity) -> bool:
    """A first name alone, seen in a person's name, is hers, except a country's name
    (« France », a first name too, in « AXA France »), unless her surname follows it."""
    following = re.match(rf"\s+({rules.NAME})", text[match.end():match.end() + 40])
    if following and name_key(following.group(1)) in entity.surnames:
        return False
    return name_key(match.group()) in rules.COUNTRIES


def _with_first_name(text: str, span: Span, entity: _Entity, entities: list[_Entity],
                     excluded: set[str]) -> _Entity:
    """A known surname with a first name beside it (« Léa MARTIN », « MARTIN Léa »): the
    span takes the first name, and the person is the one of that first name (a new one
    when the family has no member of that name yet)."""
    before = re.search(rf"({rules.WORD})(?:[ \t]+|[ \t]*\n[ \t]*)$", text[max(0, span.start - 40):span.start])
    after = re.match(rf"[ \t]+({rules.WORD})", text[span.end:span.end + 40])
    for found, is_before in ((before, True), (after, False)):
        if not found:
            continue
        word = found.group(1)
        key = name_key(word)
        if (len(key) < 2 or key in excluded or key in entity.surnames or rules.ROLE_RE.fullmatch(word)
                or word.isupper()
                or "." in word or any(key in other.surnames for other in entities)):
            continue
        if is_before and "\n" in found.group(0):
            pass  # the first name on the line above is its own mention, merged with this one later
        elif is_before:
            span.start -= len(found.group(0))
        else:
            span.end += len(found.group(0))
        span.tokens = [word] + span.tokens if is_before else span.tokens + [word]
        if not entity.firsts or key in entity.firsts:
            entity.firsts.add(key)
            return entity
        for other in entities:
            if entity.surnames & other.surnames and key in other.firsts:
                return other
        relative = _Entity(len(entities), None)
        relative.surnames |= entity.surnames
        relative.firsts.add(key)
        entities.append(relative)
        return relative
    return entity


def _link_places(text: str, spans: list[Span]) -> list[Span]:
    """Every other capitalised mention of a city already replaced as a party's place
    (court seats were settled before and stay)."""
    cities = {}
    for span in spans:
        if span.category == "localite" and not span.kept:
            value = re.sub(r"^(?:F-)?\d{5}[ \t]+|[ \t]+(?:CEDEX|Cedex)(?:[ \t]+\d+)?$", "", text[span.start:span.end])
            if len(value) > 2:
                cities[name_key(value)] = value
    if not cities:
        return []
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(value)}(?![\w-])"
                                  for value in sorted(set(cities.values()), key=len, reverse=True)),
                         re.IGNORECASE)
    return [Span(m.start(), m.end(), "localite", PRIORITY["linked"] + 1, "liaison")
            for m in pattern.finditer(text) if m.group()[0].isupper()]


def _merge_adjacent(text: str, spans: list[Span], of_span: dict[int, _Entity]) -> list[Span]:
    """« Jean » and « DUPONT » found apart but side by side, of one entity: one mention."""
    merged: list[Span] = []
    for span in spans:
        if (merged and span.category == "personne" and merged[-1].category == "personne"
                and of_span.get(id(span)) is of_span.get(id(merged[-1]))
                and re.fullmatch(r"[ \t]*\n?[ \t]*|-", text[merged[-1].end:span.start])):
            merged[-1].end = span.end
            continue
        merged.append(span)
    return merged


@dataclass(frozen=True)
class Known:
    """A value replaced in an earlier document of the same dossier, and its replacement
    there (« Jean Dupont » -> « [A] »): the same value gets the same replacement here."""
    text: str
    category: str
    replacement: str


def _known_persons(text: str, known: Iterable[Known]) -> list[Span]:
    """Every mention of a person known from the dossier, civility or not (one pass over the
    text for all of them, longest names first)."""
    names = {item.text.strip() for item in known if item.category == "personne" and rules.name_words(item.text)}
    if not names:
        return []
    gap = r"(?:[ \t]+|[ \t]*\n[ \t]*)"
    alternatives = [gap.join(re.escape(word) for word in name.split())
                    for name in sorted(names, key=len, reverse=True)]
    pattern = re.compile(r"(?<![\w'-])(?:" + "|".join(alternatives) + r")(?![\w'-])", re.IGNORECASE)
    return [Span(match.start(), match.end(), "personne", 25, "dossier", tokens=rules.name_words(match.group()))
            for match in pattern.finditer(text)]


def detect(text: str, known: Iterable[Known] = ()) -> tuple[list[Span], list[Span], dict[int, Any]]:
    """Spans to replace, spans kept, and each person span's entity."""
    copy = analysis_copy(text)
    common = set(vocabulary.common())
    common |= {word.lower() for word in re.findall(r"(?<=[a-zé,] )[a-zàâçéèêëîïôûùüÿœ]{3,}", copy)}
    common |= {name_key(word) for word in common}  # names are compared without accents
    proposals: list[Span] = rules.already_pseudonymised(copy)
    proposals += [Span(start, end, category, PRIORITY["identifier"], "identifiant")
                  for start, end, category in identifiers.find(copy)]
    proposals += rules.seats(copy)
    proposals += rules.professionals(copy)
    proposals += rules.signatures(copy)
    proposals += rules.civility_persons(copy, common)
    proposals += _known_persons(copy, known)
    place_spans = rules.places(copy)
    proposals += place_spans
    proposals += rules.city_after_address(copy, place_spans, common)
    proposals += rules.first_name_persons(copy, common)
    proposals += rules.caption_persons(copy, common)
    proposals += rules.unknown_first_name_persons(copy, common)
    proposals += rules.bare_capitals(copy, common)
    proposals += model_persons(copy, common)
    settled = settle(proposals)
    # A name seen as a professional's stays wherever it appears without a party's civility.
    professional_words = {name_key(word) for span in settled if span.kept and span.category != "juridiction"
                          for word in span.tokens}
    # A first name alone that a party bears is the party's, even if a lawyer bears it too:
    # a decision never calls a professional by first name alone.
    party_firsts = {name_key(word) for span in settled if span.category == "personne" and len(span.tokens) > 1
                    for word in span.tokens[:-1]}
    professional_surnames = {name_key(span.tokens[-1]) for span in settled
                             if span.kept and span.category != "juridiction" and span.tokens}
    for span in settled:
        if (span.category == "personne" and span.reason in ("modèle", "prénom", "partie") and span.tokens
                and all(name_key(word) in professional_words for word in span.tokens)
                and not (len(span.tokens) == 1 and name_key(span.tokens[0]) in party_firsts
                         and name_key(span.tokens[0]) not in professional_surnames)):
            span.kept, span.category, span.reason = True, "magistrat", "nom d'un professionnel"
    of_span, linked = _link(copy, settled, common, text)
    for span in linked:
        span.tokens = span.tokens
    final = settle(settled + linked + _link_places(copy, settled))
    final = _merge_adjacent(copy, final, of_span)
    replaced = [span for span in final if not span.kept]
    kept = [span for span in final if span.kept]
    return replaced, kept, of_span


def _known_label(entity: _Entity, spans_text: set[str], known_persons: list[tuple[Known, list[str]]]) -> str | None:
    """The replacement a person had in the dossier: same full name, or same surname with no
    first name against it."""
    for item, keys in known_persons:
        if name_key(item.text) in spans_text:
            return item.replacement[1:-1]
    for item, keys in known_persons:
        surname, firsts = keys[-1], set(keys[:-1])
        if surname in entity.surnames and (not firsts or not entity.firsts or firsts & entity.firsts):
            return item.replacement[1:-1]
    return None


def pseudonymize(text: str, keep: Iterable[str] = (), known: Iterable[Known] = ()) -> Result:
    """Replace what identifies a natural person in ``text`` (see the module docstring).

    ``keep`` names categories to leave in place (they are listed in ``kept``). ``known``
    lists what earlier documents of the same dossier replaced: a known person keeps her
    letter (and is found even without a civility), a known address its number; new values
    take the next free letters and numbers."""
    keep = set(keep)
    known = list(known)
    replaced, kept, of_span = detect(text, known)
    known_persons = [(item, [name_key(word) for word in rules.name_words(item.text)]) for item in known
                     if item.category == "personne" and rules.name_words(item.text)]
    used_letters = {item.replacement[1:-1] for item in known if item.category == "personne"}
    numbers: dict[tuple[str, str], int] = {}
    counters: dict[str, int] = {}
    for item in known:
        found = re.fullmatch(r"\[.*?(\d+)\]", item.replacement)
        if item.category != "personne" and found:
            numbers[(item.category, name_key(item.text))] = int(found.group(1))
            counters[item.category] = max(counters.get(item.category, 0), int(found.group(1)))
    texts_of: dict[int, set[str]] = {}
    for span in replaced:
        entity = of_span.get(id(span))
        if span.category == "personne" and entity is not None:
            texts_of.setdefault(entity.number, set()).add(name_key(text[span.start:span.end]))
    letters_of: dict[int, str] = {}
    next_letter = 0
    entities: list[dict[str, Any]] = []
    kept_out = [{"start": s.start, "end": s.end, "text": text[s.start:s.end], "category": s.category,
                 "reason": s.reason} for s in kept if s.category != "deja_pseudonymise"]
    for span in replaced:
        value = text[span.start:span.end]
        if span.category in keep:
            kept_out.append({"start": span.start, "end": span.end, "text": value,
                             "category": span.category, "reason": "conservé à la demande"})
            continue
        if span.category == "personne":
            entity = of_span.get(id(span))
            number = entity.number if entity is not None else -1 - span.start
            if number not in letters_of:
                label = _known_label(entity, texts_of.get(number, set()), known_persons) if entity else None
                if label is None:
                    while letters(next_letter) in used_letters:
                        next_letter += 1
                    label = letters(next_letter)
                    used_letters.add(label)
                letters_of[number] = label
            label = letters_of[number]
            replacement, entity_id = f"[{label}]", f"personne:{label}"
        else:
            key = (span.category, name_key(value))
            if key not in numbers:
                counters[span.category] = counters.get(span.category, 0) + 1
                numbers[key] = counters[span.category]
            replacement = f"[{LABELS[span.category]} {numbers[key]}]"
            entity_id = f"{span.category}:{numbers[key]}"
        entities.append({"start": span.start, "end": span.end, "text": value, "category": span.category,
                         "replacement": replacement, "entity_id": entity_id})
    pieces, last = [], 0
    for entity in entities:
        pieces += [text[last:entity["start"]], entity["replacement"]]
        last = entity["end"]
    pieces.append(text[last:])
    kept_out.sort(key=lambda item: item["start"])
    return Result(entities, "".join(pieces), kept_out)
