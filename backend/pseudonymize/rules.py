"""Exact rules of court writing: who is named as a party, who acts as a professional,
which place is an address and which is a court's seat.

The model finds most names; these rules decide what it cannot: a name after « M. » is a
person even when the model misses it (upper case, « M.Dupont », a line break inside);
a name next to « président », « greffier », « Me », « SCP »… is a professional and stays;
« cour d'appel de Lyon » and « barreau de Paris » stay; a street after a number is an
address. Every finder takes the analysis copy (:mod:`.text`) and returns spans.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .first_names import is_first_name
from .text import COMBINING, LOWER, UPPER, name_key

# One word of a name: « Dupont », « DUPONT », « Jean-Pierre », « N'Diaye », « d'Harcourt ».
# A run of capitals stops before a capitalised word glued to it (« BREUILCristina » is two
# names: exports of signature blocks lose the line break between them).
NAME = (rf"(?:[{UPPER}]'|[dD]')?[{UPPER}][{COMBINING}]*(?:[{LOWER}{COMBINING}][{LOWER}{UPPER}{COMBINING}]*"
        rf"|(?:[{UPPER}][{COMBINING}]*(?![{LOWER}]))+)"
        rf"(?:-[{UPPER}][{LOWER}{UPPER}{COMBINING}]*)*")
INITIAL = rf"[{UPPER}]\.(?:-[{UPPER}]\.)?"
PARTICLE = r"(?:de la|de l'|van der|van den|de|du|des|d'|van|von|ben|da|di|dos|das|del|della|le|la|ep\.|dit|dite)"
# One word a surname may open on, never a surname by itself (« Dóra DE JESÚSdésigner »).
PARTICLE_WORD = r"(?i:de|da|di|du|des|del|dos|das|van|von|le|la)"
# Between two words of one name: spaces, or one line break (names broken by a line break).
GAP = r"(?:[ \t]+|[ \t]*\n[ \t]*|-)"
# Professionals named by their function; the function may precede or follow the name.
ROLE = (r"(?:(?:premi[eè]re?|1(?:ère|re|er))\s+)?(?:vice-)?pr[ée]sidente?s?|conseill[eè]re?s?|greffi[eè]re?s?|"
        r"juges?-commissaires?(?:\s+suppl[ée]ante?)?|commissaires?[- ]priseurs?|juges?|magistrate?s?|avocate?s?(?:\s+g[ée]n[ée]ral(?:e|es|aux)?)?|procureure?s?|substitute?s?|"
        r"experte?s?|rapporteure?s?|assesseure?s?|auditeur|auditrice|notaires?|huissiers?|"
        r"commissaires?\s+de\s+justice|commissaire-priseur|mandataires?(?:\s+judiciaires?)?|"
        r"liquidateure?s?|administrateure?s?\s+judiciaires?|m[ée]diat(?:eur|rice)s?|"
        r"conciliat(?:eur|rice)s?|d[ée]l[ée]gu[ée]e?s?\s+du\s+procureur|juge-commissaire|"
        r"doyen(?:ne)?|interpr[eè]tes?|traduct(?:eur|rice)|adjointe?s?\s+administratif|adjointe?s?\s+administratives?")
# A civility or a function is never a word of the name it announces.
NOT_NAME = (r"(?!(?:M|MM|Mme|Mmes|Mlle|Melle|Me|Mes|Maître|Maitre|Monsieur|Madame|Mademoiselle|"
            r"Messieurs|Mesdames|MONSIEUR|MADAME|MAÎTRE|SCP|SELARL|SELAS|SARL|SAS|SASU|EURL|SCI|SNC|Dr|Docteur)\b)"
            rf"(?!(?i:{ROLE})\b)")
WORD = rf"{NOT_NAME}(?:{NAME}|{INITIAL})"
SEQUENCE = rf"{WORD}(?:{GAP}(?:(?i:{PARTICLE})(?:[ \t]+|(?<=')))?{WORD}){{0,4}}"
# A surname may open on a particle in lower case (« Monsieur de Gasmi », « Mme du Mesbah »,
# « épouse van Damme »); capitalised particles (« Le Bihan », « DE SMET ») are words already.
LEAD = r"(?:(?:de[ \t]+la|de|du|des|van[ \t]+der|van[ \t]+den|van|von|da|di|del|della|dos|das|ben|bin|el|al)[ \t]+)"
PERSON = rf"(?:{LEAD}(?=[{UPPER}]))?{SEQUENCE}"
# Small words inside a city's name, longest first (« Issy-les-Moulineaux »).
CITY_LINK = r"(?:sur|sous|en|lès|lez|les|le|la|des|du|de|d'|aux|et)"
# A city's name: words joined by hyphens or by small words (« Saint-Denis »,
# « Chalon-sur-Saône », « Le Mesnil-Amelot », « Bourg en Bresse »); never ends on a small word.
CITY = (rf"{NOT_NAME}(?:(?:Saint|Sainte|SAINT|SAINTE|St|Ste|Le|La|Les|LE|LA|LES)[ \t]+)?(?:{NAME})"
        rf"(?:-(?:{CITY_LINK}-)?(?:{NAME})|[ \t]+{CITY_LINK}[ \t]+(?:{NAME})"
        rf"|[ \t]+(?:Saint|Sainte|SAINT|SAINTE)(?:-|[ \t]+)(?:{NAME}))*")
SPOUSE = r"(?:[ \t]*,?[ \t]*(?<![\w-])(?:épouse|epouse|EPOUSE|ÉPOUSE|ép\.|née|NÉE|NEE|veuve|VEUVE|divorcée|dite?)[ \t]+)"

CIVILITY = (r"(?<![A-Za-z.])(?:M\.|Mr\.?|MM\.|Mme|Mmes|Mlle|Mlles|Melle|Monsieur|Madame|Mademoiselle|"
            r"Messieurs|Mesdames|MONSIEUR|MADAME|MADEMOISELLE|monsieur|madame|mademoiselle|Dr\.?|Docteur|docteur|Pr\.?|Professeur|"
            r"M(?=[ \t]+[A-Z]{2}))")
PLURAL_CIVILITY = (r"(?<![A-Za-z.])(?:MM\.|Mmes|Messieurs|Mesdames|M\.? et Mme|Mme et M\.?|"
                   r"Monsieur et Madame|Madame et Monsieur|(?:[Ll]es|des|aux)[ \t]+(?:époux|consorts))")
LAWYER = r"(?<![\w.])(?:Me|Mes|Maître|Maîtres|Maitre|MAÎTRE|MAITRE)"
FIRM = r"(?<![\w.])(?:SCP|S\.C\.P\.|SELARL|SELAS|SELAFA|SELURL|SELCA|SELASU|AARPI|Cabinet)"

ROLE_RE = re.compile(rf"(?i:{ROLE})")
# Words that may sit between a function and the name it announces (« Président de chambre : »).
ROLE_TAIL = (r"(?i:\s+(?:de\s+chambre|de\s+section|lors\s+des\s+d[ée]bats|(?:et\s+)?du\s+prononc[ée]|"
             r"honoraire|r[ée]f[ée]rendaire|rapporteur|doyen|d[ée]sign[ée]e?|judiciaire|commise?|"
             r"plac[ée]e?|assesseur|g[ée]n[ée]ral|de\s+la\s+mise\s+en\s+[ée]tat|charg[ée]e?\s+du\s+rapport|"
             r"faisant\s+fonction(?:\s+de\s+pr[ée]sident)?|des\s+libert[ée]s\s+et\s+de\s+la\s+d[ée]tention|"
             r"des\s+contentieux\s+de\s+la\s+protection|aux\s+affaires\s+familiales|des\s+enfants|"
             r"de\s+l'ex[ée]cution|d[ée]l[ée]gu[ée]e?|[àa]\s+titre\s+temporaire|"
             r"de\s+la\s+r[ée]publique|placée?|stagiaire|"
             r"pr[ée]sent(?:e|s)?(?:\s+lors\s+des\s+d[ée]bats)?(?:\s+et\s+de\s+la\s+mise\s+à\s+disposition)?))*")

# Court and institution seats: the place after them is kept.
# Each kind starts a word: « ca » (cour d'appel) is no seat at the end of « Jessica de X ».
SEAT = re.compile(
    r"(?<![\w'’-])(?:cours?\s+d'appel|tribunal\s+(?:judiciaire|de\s+grande\s+instance|d'instance|de\s+commerce|"
    r"administratif|de\s+proximit[ée]|paritaire[\w ]*?|correctionnel|pour\s+enfants|"
    r"des\s+affaires\s+de\s+s[ée]curit[ée]\s+sociale|mixte\s+de\s+commerce)|conseils?\s+de\s+prud'?hommes|"
    r"cour\s+administrative\s+d'appel|barreaux?|tj|tgi|ti|ca|parquet(?:\s+g[ée]n[ée]ral)?|greffe|"
    r"juridiction|palais\s+de\s+justice|maison\s+d'arr[eê]t|centre\s+p[ée]nitentiaire|"
    r"centre\s+de\s+r[ée]tention(?:\s+administrative)?|pr[ée]fet|pr[ée]fecture|sous-pr[ée]fecture|"
    r"mairie|conseil\s+d[ée]partemental|conseil\s+r[ée]gional|universit[ée]|h[oô]pital|chu|chs|eps|"
    r"cpam|caf|urssaf|acad[ée]mie|rectorat|commissariat|gendarmerie|brigade|ordre\s+des\s+avocats|"
    r"chambre\s+des\s+notaires|ville|commune|d[ée]partement|r[ée]gion|tribunal|maire|conseil\s+municipal|"
    r"premier\s+pr[ée]sident|procureur\s+(?:g[ée]n[ée]ral|de\s+la\s+r[ée]publique)|"
    r"juge\s+(?:des\s+libert[ée]s|d'instruction|des\s+enfants|aux\s+affaires)[\w' ]*?)"
    r"(?:\s+(?:de|d'|du|des|pr[eè]s\s+(?:la|le)(?:\s+cour\s+d'appel\s+de)?))[ \t]*(?=\S)"
    # Where the court sits and signs: « Fait à Lyon », « audience publique à Paris ».
    r"|(?<![\w'’-])(?:fait(?:\s+et\s+jug[ée])?|prononc[ée]e?|audience(?:\s+publique)?(?:\s+tenue)?|si[ée]geant|"
    r"d[ée]lib[ée]r[ée]e?|r[ée]unie?(?:\s+en\s+audience\s+publique)?)\s+à[ \t]+(?=\S)", re.IGNORECASE)

STREET_TYPES = (r"rue|avenue|av\.|boulevard|bd|bld|chemin|allée|allee|impasse|route|quai|"
                r"place|cours|square|lieu-dit|lieudit|lieu dit|résidence|residence|cité|cite|voie|"
                r"passage|rond-point|faubourg|hameau|lotissement|sentier|villa|parvis|esplanade|"
                r"promenade|montée|traverse|clos|domaine|chaussée|ruelle|venelle|quartier")
STRICT_STREET_TYPES = r"rue|avenue|boulevard|chemin|allée|impasse|quai|lieu-dit|route|faubourg"
_NEXT_ADDRESS = rf"\s+\d{{1,4}}(?:\s?(?:bis|ter|quater))?\s*,?\s+(?i:{STREET_TYPES})\b"
_ADDRESS_TAIL = (rf"[^\n,;()\[\]]{{1,60}}?(?={_NEXT_ADDRESS}|\s*(?:[,;()\n\[—]|\.(?:\s|$)|\s-\s|\d{{5}}|(?<!\w)et\s+\d|\s[àa]\s|$|\s(?:CEDEX|cedex))"
                 rf"|\s+(?!(?:de|du|des|la|le|les|l'|d'|aux|sur|en|et|sous)\b)[a-zà-ÿ])")
ADDRESS = re.compile(
    rf"(?<![\w/.-])(?:\d{{1,4}}(?:-\d{{1,4}})?(?:\s?(?:bis|ter|quater|[A-D]))?\s*,?\s+(?i:{STREET_TYPES})\b{_ADDRESS_TAIL}"
    rf"|(?i:{STRICT_STREET_TYPES})\s+(?:(?i:du|de\s+la|de\s+l'|des|de|d'|la|le|les)\s*)?[{UPPER}0-9]{_ADDRESS_TAIL})"
    rf"(?:\s*,?\s*(?:(?i:b\.?p\.?|cs|bât(?:iment)?\.?|appartement|appt\.?|escalier|étage)\s*[\w-]{{1,8}}))*")
POSTAL_CITY = re.compile(
    rf"(?<![\w°/.-])(?:F-)?(?:0[1-9]|[1-8]\d|9[0-8])\d{{3}}[ \t]+(?!(?i:euros?|€|EUR)\b)"
    rf"{CITY}"
    rf"(?:[ \t]+(?:CEDEX|Cedex|cedex)(?:[ \t]+\d{{1,2}})?)?")
# A place named as where a person lives, was born or died.
PLACE_CONTEXT = re.compile(
    rf"(?i:\b(?:demeurant|domicili[ée]e?s?|r[ée]sidant|habitant|n[ée]e?s?|d[ée]c[ée]d[ée]e?s?|originaire|situ[ée]e?s?|"
    rf"h[ée]berg[ée]e?s?|install[ée]e?s?|incarc[ée]r[ée]e?s?|retrouv[ée]e?s?\s+mort|mari[ée]e?s|mariage|"
    rf"naissance|pacs[ée]s|pacs))"
    rf"(?:\s+(?:le|en)\s+[^,\n]{{1,30}}?)?\s+(?i:à|a|sur\s+la\s+commune\s+de|dans\s+la\s+commune\s+de)\s+"
    rf"({CITY})")

PERSON_CONTEXT = re.compile(
    rf"(?:l'enfant|les\s+enfants|(?i:le|la)\s+mineure?|(?i:la)\s+victime|le\s+témoin|sa\s+fille|son\s+fils|"
    rf"son\s+épouse|son\s+époux|son\s+mari|sa\s+femme|sa\s+mère|son\s+père|son\s+frère|sa\s+sœur|"
    rf"sa\s+compagne|son\s+compagnon|sa\s+concubine|son\s+concubin|le\s+défunt|la\s+défunte|"
    rf"le\s+de\s+cujus|feue?|l'intéressée?|le\s+prévenu|la\s+prévenue|l'appelante?|l'intimée?)"
    rf"\s*,?[ \t]+({PERSON})")

PERSON_SPOUSE = re.compile(rf"(?<![\w.])({SEQUENCE}{SPOUSE}{PERSON})")
PERSON_BORN = re.compile(rf"(?<![\w.'])({SEQUENCE})[ \t]*,?[ \t]+(?:né|née|nés|nées)[ \t]+(?:le|en|à)[ \t]")
PERSON_TRADER = re.compile(rf"(?m:^)[ \t]*({SEQUENCE})[ \t]*\n[ \t]*(?i:activit[ée]s?)[ \t]*:"
                           rf"|(?i:repr[ée]sentant\s+l[ée]gal)[ \t]*:[ \t]*(?:{CIVILITY}[ \t]*\.?[ \t]*)?({SEQUENCE})"
                           rf"|(?<![\w.'])({SEQUENCE})[ \t]*,[ \t]*(?:repr[ée]sentant\s+l[ée]gal|g[ée]rante?)\b")
ALREADY_PSEUDONYMISED = re.compile(r"\[[^\[\]\n]{1,40}\]|\b[A-Z]\.\.\.|\bX{2,}\b")


@dataclass
class Span:
    start: int
    end: int
    category: str
    priority: int = 50
    reason: str = ""
    kept: bool = False
    tokens: list[str] = field(default_factory=list)
    gender: str | None = None


def name_words(text: str) -> list[str]:
    """The words of a name (initials and particles left out)."""
    return [word for word in re.findall(NAME, text)
            if len(word.replace("'", "")) > 1 and word.lower() not in _PARTICLE_WORDS
            and not ROLE_RE.fullmatch(word)]


_PARTICLE_WORDS = {"de", "du", "des", "la", "le", "van", "von", "ben", "dit", "dite", "d'"}


def _civility_gender(civility: str) -> str | None:
    lowered = civility.lower()
    if lowered.startswith(("mme", "madame", "mlle", "melle", "mademoiselle", "mesdames")):
        return "f"
    if lowered.startswith(("m.", "monsieur", "mr", "m ")) or lowered == "m":
        return "m"
    return None


def trim(text: str, start: int, end: int, common: set[str]) -> tuple[int, int]:
    """Cut a name sequence before its first word that is plainly not a name: a common
    word written with a capital (« APPELANTE », « Demeurant ») after a line break, or a
    function (« Président »). The first word always stays: a surname may be a common word."""
    words = list(re.finditer(rf"{WORD}|(?<!\w){PARTICLE}(?!\w)", text[start:end]))
    keep_end = start + words[0].end() if words else end
    for index, match in enumerate(words):
        if index == 0:
            continue
        word = match.group()
        gap = text[start + words[index - 1].end():start + match.start()]
        lowered = word.lower()
        if ROLE_RE.fullmatch(word) or lowered in _STOP_WORDS:
            break
        # « Mme Françoise⏎Blanc »: a surname after a first name stays, whatever its line.
        after_first_name = index == 1 and is_first_name(words[0].group())
        # « Mme Autumn⏎DE GRAEVE »: a particle opening the next line goes with the surname
        # after it, when that one is no common word (« M. Jean⏎Le Tribunal » stops).
        particle_of_surname = (lowered in _PARTICLE_WORDS and index + 1 < len(words)
                               and words[index + 1].group().lower() not in _PARTICLE_WORDS
                               and name_key(words[index + 1].group()) not in common)
        if "\n" in gap and lowered in common and not after_first_name and not particle_of_surname:
            break
        if "\n" in gap and index >= 2 and not (is_first_name(words[index - 1].group()) and lowered not in common):
            break
        if lowered in _PARTICLE_WORDS:
            keep_end = start + match.end()
            continue
        if lowered in common and word.isupper() and index >= 1 \
                and len(words) > 2 and not is_first_name(words[index - 1].group()):
            break
        keep_end = start + match.end()
    # Never end on a particle.
    while True:
        tail = re.search(rf"(?:{GAP}){PARTICLE}$", text[start:keep_end])
        if not tail:
            break
        keep_end = start + tail.start()
    return start, keep_end


_STOP_WORDS = {"et", "ou", "né", "née", "nés", "épouse", "epouse", "veuve", "demeurant", "domicilié",
               "domiciliée", "représenté", "représentée", "appelant", "appelante", "intimé", "intimée",
               "demandeur", "demanderesse", "défendeur", "défenderesse", "contre", "c", "à", "au",
               "en", "sur", "pour", "par", "avec", "sans", "dans", "sa", "son", "ses", "les", "l",
               "qui", "que", "a", "est", "se", "ne", "vu", "attendu", "considérant", "monsieur",
               "madame", "mademoiselle", "maître", "me", "société", "sarl", "sas", "sci", "scp",
               "selarl", "cedex", "ci", "ès", "qualités", "qualité", "es"}


def civility_persons(text: str, common: set[str]) -> list[Span]:
    """« M. X », « Mme Y épouse Z », « M.Dupont », « Monsieur Jean DUPONT », « MM. A et B »."""
    spans: list[Span] = []
    single = re.compile(rf"({CIVILITY})[ \t]*\.?[ \t]*(?:\n[ \t]*)?({PERSON}(?:{SPOUSE}{PERSON})?)")
    for match in single.finditer(text):
        spans += _person_from(text, match.start(2), match.end(2), common,
                              _civility_gender(match.group(1)), "civilité")
    # « Madame Géraldine, Inès THOMAS »: first names listed with commas, then the surname,
    # which a line break may put on the next line. The courts write so a person's several
    # names too (« Madame [R], [T], [I] [J] »): when the list ends on « Prénom NOM », its
    # words are that person's whatever the first one is, unless one is a common word or a
    # function (a word after the line break that is one only ends the list).
    item = rf"(?:(?:DE|LA|LE|DU|De|La|Le|Du)[ \t]+)?{NAME}"
    listed = re.compile(rf"({CIVILITY})[ \t]*\.?[ \t]*({item}(?:[ \t]*,[ \t]*{item}){{1,4}})"
                        rf"(?:([ \t]+|[ \t]*\n[ \t]*)((?:(?:DE|LA|LE|DU|VAN|De|La|Le|Du|Van|de|du|van)[ \t]+)?{NAME}"
                        rf"(?:[ \t]+{NAME}(?={SPOUSE}|[ \t]*[,\n]))?))?"
                        rf"(?:{SPOUSE}{PERSON})?")
    for match in listed.finditer(text):
        end = match.end()
        last = match.group(4)
        if last and "\n" in match.group(3) and (name_key(last) in common or ROLE_RE.fullmatch(last)):
            end, last = match.end(2), None
        names = re.findall(NAME, text[match.start(2):end])
        if not (is_first_name(names[0]) or last):
            continue
        names = [word for word in names if word.lower() not in _PARTICLE_WORDS]
        if names and not any(name_key(word) in common or word.lower() in common or ROLE_RE.fullmatch(word)
                             for word in names):
            spans.append(Span(match.start(2), end, "personne", 29, "civilité", tokens=names,
                              gender=_civility_gender(match.group(1))))
    plural = re.compile(rf"({PLURAL_CIVILITY})[ \t]*({PERSON}(?:[ \t]*,[ \t]*{PERSON})*"
                        rf"(?:[ \t]+et[ \t]+(?:{CIVILITY}[ \t]*)?{PERSON})?)")
    for match in plural.finditer(text):
        for part in re.finditer(PERSON, match.group(2)):
            start = match.start(2) + part.start()
            spans += _person_from(text, start, match.start(2) + part.end(), common, None, "civilité")
    for match in PERSON_CONTEXT.finditer(text):
        spans += _person_from(text, match.start(1), match.end(1), common, None, "contexte")
    # Contexts that only a person has: « X épouse Y », « X, né le … », the trader's name
    # above « Activité : » and the « Représentant légal : » of a company.
    for pattern in (PERSON_SPOUSE, PERSON_BORN, PERSON_TRADER):
        for match in pattern.finditer(text):
            group = next(index for index in range(1, pattern.groups + 1) if match.group(index))
            spans += _person_from(text, match.start(group), match.end(group), common, None, "contexte")
    return spans


# A party named on a line of its own, without a civility, as tribunal decisions list them:
# under a party heading (« DEMANDEUR⏎⏎Jean DUPONT »), or above its address, its birth or
# its domicile (« Jean Dupont⏎12 rue des Lilas », « Jean DUPONT⏎né le … »).
_PARTY_HEADING = (r"(?i:demande(?:ur|resse)s?|d[ée]fende(?:ur|resse)s?|intervenante?s?(?:[ \t]+(?:volontaires?|"
                  r"forc[ée]e?s?))?|requ[ée]rante?s?|parties?[ \t]+(?:civiles?|intervenantes?)|"
                  r"avons[ \t]+fait[ \t]+compara[iî]tre[ \t]+devant[ \t]+nous)[ \t]*[:,]?")
_PARTY_FOLLOW = (rf"[ \t]*,?[ \t]*\n[ \t]*(?:\d{{1,4}}(?:[ \t]?(?:bis|ter))?[ \t]*,?[ \t]+(?i:{STREET_TYPES})\b|"
                 r"n[ée]e?s?[ \t]+(?:le|en|à)\b|(?i:domicili|demeurant|de[ \t]+nationalit|absente?\b|"
                 r"d[ée]faillante?\b|non[ \t]+comparante?\b|comparante?\b))")
CAPTION_PARTY = re.compile(rf"(?m)^[ \t]*{_PARTY_HEADING}[ \t]*\n(?:[ \t]*\n)*[ \t]*({PERSON})[ \t]*,?[ \t]*$"
                           rf"|^[ \t]*({PERSON})(?={_PARTY_FOLLOW})")


def caption_persons(text: str, common: set[str]) -> list[Span]:
    """Parties listed on a line of their own without a civility (see ``CAPTION_PARTY``): at
    least two words, none a word of the decisions, a function or a company's kind; above an
    name in capitals is a person's only with a first name in it (« BNP PARIBAS⏎16 boulevard …
    » is a company's)."""
    spans = []
    for match in CAPTION_PARTY.finditer(text):
        group = 1 if match.group(1) else 2
        start, end = match.start(group), match.end(group)
        words = name_words(text[start:end])
        if len(words) < 2 or any(name_key(word) in common or word.lower() in common or ROLE_RE.fullmatch(word)
                                 or _COMPANY_KIND.fullmatch(word) or name_key(word) in COUNTRIES for word in words):
            continue
        if all(word.isupper() for word in words) and not any(is_first_name(word) for word in words):
            continue
        spans.append(Span(start, end, "personne", 55, "partie", tokens=words))
    return spans


def _person_from(text: str, start: int, end: int, common: set[str], gender: str | None,
                 reason: str) -> list[Span]:
    spouse = re.search(SPOUSE, text[start:end])
    if spouse:  # « Y épouse Z »: one person, both names
        first = trim(text, start, start + spouse.start(), common)
        second = trim(text, start + spouse.end(), end, common)
        words = name_words(text[first[0]:first[1]]) + name_words(text[second[0]:second[1]])
        return [Span(first[0], second[1], "personne", 30, reason, tokens=words, gender="f")]
    start, end = trim(text, start, end, common)
    if end <= start:
        return []
    value = text[start:end]
    article = re.match(r"(?i:le|la|les)[ \t]+(\S+)", value)
    if article and (article.group(1).lower() in common or ROLE_RE.fullmatch(article.group(1))):
        return []  # « M. LE PREFET », « Monsieur le Procureur »
    if value.lower() in _STOP_WORDS or ROLE_RE.fullmatch(value):
        return []
    words = name_words(value)
    if not words and not re.fullmatch(rf"{INITIAL}(?:\s?{INITIAL})*", value):
        return []
    if reason == "contexte" and all(word.lower() in common for word in words):
        return []  # « Il est né le », « Elle, née le »: no name without a civility
    return [Span(start, end, "personne", 30, reason, tokens=words, gender=gender)]


def professionals(text: str) -> list[Span]:
    """Names that stay: lawyers (« Me », SCP, SELARL), and anyone named next to a function."""
    spans: list[Span] = []
    for match in re.finditer(rf"{LAWYER}[ \t]*\.?[ \t]*({PERSON})", text):
        spans.append(Span(match.start(1), match.end(1), "avocat", 20, "Me", kept=True,
                          tokens=name_words(match.group(1))))
    firm_name = rf"(?:{SEQUENCE}|&|et|[,-])"
    for match in re.finditer(rf"{FIRM}[ \t]+((?:{firm_name})(?:[ \t]*(?:{firm_name}))*)", text):
        value = match.group(1).rstrip(" ,-")
        spans.append(Span(match.start(1), match.start(1) + len(value), "avocat", 20, "société d'avocats",
                          kept=True, tokens=name_words(value)))
    civility = rf"(?:(?:{CIVILITY}|{LAWYER})[ \t]*\.?[ \t]*)?"
    # « Mme X, président », « Lucie B., greffier », « M. X conseiller » (function after the name)
    after = re.compile(rf"{civility}({SEQUENCE})[ \t]*(?:,|\(|[ \t]-)?[ \t]*"
                       rf"(?:(?:l[ae]|les)[ \t]+)?(?i:({ROLE}))\b")
    for match in after.finditer(text):
        spans += _professional(text, match.start(1), match.end(1), match.group(2), "fonction après")
    # « Président : M. X », « greffier lors des débats : Mme Y », « l'expert M. Z »; not the
    # court before which someone stands (« devant le juge des libertés et de la détention, X a »).
    # A function at the start of its line may announce a name a few lines down (signature
    # blocks: « LE GREFFIER\n\nKatia X »); elsewhere the name is on the same line.
    before = re.compile(rf"(?:(?m:^)[ \t]*(?:(?i:l[ae]|les)[ \t]+)?(?i:\b({ROLE}))\b{ROLE_TAIL}[ \t]*(?::|,|-)?"
                        rf"[ \t]*(?:\n[ \t]*){{0,3}}|(?<!\bun )(?<!\bune )(?<!\bdes )(?<!d'un )(?<!d'une )(?<!devant le )(?<!devant la )(?<!devant les )(?i:\b({ROLE}))\b{ROLE_TAIL}[ \t]*(?:(?::|,)[ \t]*(?:\n[ \t]*){{0,2}}|-)?[ \t]*)"
                        rf"{civility}({SEQUENCE})")
    for match in before.finditer(text):
        spans += _professional(text, match.start(3), match.end(3), match.group(1) or match.group(2),
                               "fonction avant")
    # « Mmes Darbois, Poillot-Peruzzetto, M. Mollard, conseillers »: every name of a list
    # that ends on a function is a professional's (the bench as the Cour de cassation lists it).
    any_civility = rf"(?:(?:{PLURAL_CIVILITY}|{CIVILITY}|{LAWYER}|{FIRM}|SARL|SAS)[ \t]*\.?[ \t]*)"
    bench = re.compile(rf"{any_civility}{PERSON}(?:[ \t]*(?:,|et)[ \t]*{any_civility}?{PERSON})+[ \t]*,[ \t]*"
                       rf"(?:(?:l[ae]|les)[ \t]+)?(?i:({ROLE}))\b")
    for match in bench.finditer(text):
        listed = text[match.start():match.start(1)]
        for part in re.finditer(rf"{any_civility}?({PERSON})", listed):
            spans += _professional(text, match.start() + part.start(1), match.start() + part.end(1), match.group(1),
                                   "liste de fonction")
    # « Marion X lors du délibéré »: the bench's members and clerks as judgments list them.
    sitting = re.compile(rf"(?m:^)[ \t]*{civility}({SEQUENCE})[ \t]*,?[ \t]+(?i:lors\s+d(?:es|u)\s+"
                         rf"(?:d[ée]bats|d[ée]lib[ée]r[ée]|prononc[ée]|mise\s+à\s+disposition))")
    for match in sitting.finditer(text):
        spans += _professional(text, match.start(1), match.end(1), "magistrat", "audience")
    # « désigne M. X en qualité d'expert »
    quality = re.compile(rf"{civility}({SEQUENCE})[ \t]*,?[ \t]+(?:en\s+(?:sa\s+)?qualit[ée]\s+d[e']\s*|"
                         rf"(?:pris|prise)\s+en\s+(?:sa|leur)\s+qualit[ée]\s+d[e']\s*|comme\s+)(?i:({ROLE}))")
    for match in quality.finditer(text):
        spans += _professional(text, match.start(1), match.end(1), match.group(2), "qualité")
    return spans


# A line made only of functions (« Le Greffier Le Juge de la mise en état », « LA GREFFIERELE
# PRÉSIDENT », « Greffier Présidente »): the names signed above or below it are theirs.
_ROLE_ITEM = rf"(?:(?:l[ae]|les)[ \t]*)?(?:{ROLE}){ROLE_TAIL}"
ROLES_LINE = re.compile(rf"(?im)^[ \t]*((?:{_ROLE_ITEM})(?:[ \t]*[,;/-]?[ \t]*(?:{_ROLE_ITEM}))*)[ \t]*[,:]?[ \t]*")
_NAMES_ONLY = re.compile(rf"[ \t]*(?:{SEQUENCE}[ \t]*,?[ \t]*)+")


def signatures(text: str) -> list[Span]:
    """Names signed under or over a line of functions: professionals (kept)."""
    spans: list[Span] = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"(?m)^[^\n]*", text)]
    for index, (start, end) in enumerate(lines):
        match = ROLES_LINE.match(text, start, end)
        if not match or not match.group(1).strip():
            continue
        role = re.search(rf"(?i:{ROLE})", match.group(1)).group()
        rest = (match.end(), end)
        below = []
        for line in lines[index + 1:index + 4]:
            if re.fullmatch(r"[ \t]*(?i:C/|contre)[ \t]*", text[line[0]:line[1]]):
                break  # « LE PROCUREUR⏎C/⏎DUPONT »: the party against a function, no signature
            below.append(line)
        around = [rest] + [line for line in below if text[line[0]:line[1]].strip()][:2] \
            + [line for line in lines[max(0, index - 3):index][::-1] if text[line[0]:line[1]].strip()][:1]
        for line_start, line_end in around:
            value = text[line_start:line_end]
            if not value.strip() or not _NAMES_ONLY.fullmatch(value) or re.search(CIVILITY, value):
                continue
            # A name that goes on from a civility on the line before (« Monsieur Raphael⏎Plourde »).
            if re.search(rf"{CIVILITY}[ \t]*\.?(?:[ \t]*{NAME})*[ \t]*\n[ \t]*$", text[max(0, line_start - 80):line_start]):
                continue
            for name in re.finditer(SEQUENCE, value):
                spans += _professional(text, line_start + name.start(), line_start + name.end(), role, "signature")
    return spans


def _professional(text: str, start: int, end: int, role: str, reason: str) -> list[Span]:
    # Not the end of a hyphenated town (« Gendron-en-Desjardins en qualité de mandataire »),
    # nor a place (« 38 route Marconi à Benziane, mandataire »): a function after the name
    # is its bearer's only when the name stands as one.
    if reason in ("fonction après", "qualité") and (
            text[start - 1:start] in ("-", "'") or re.search(r"(?<!\w)[àa][ \t]+$", text[max(0, start - 4):start])):
        return []
    words = name_words(text[start:end])
    if not words or all(word.lower() in _STOP_WORDS or ROLE_RE.fullmatch(word) for word in words):
        return []
    lowered = role.lower()
    category = ("avocat" if lowered.startswith("avocat") and "général" not in lowered and "general" not in lowered
                else "greffier" if lowered.startswith("greffi")
                else "expert" if lowered.startswith(("expert", "interpr", "traduct", "médiat", "mediat",
                                                     "concil"))
                else "auxiliaire" if lowered.startswith(("notaire", "huissier", "commissaire", "mandataire",
                                                         "liquidat", "administrat"))
                else "magistrat")
    # A function word is not a name: « Président Jean X » keeps only « Jean X ».
    value = text[start:end]
    while True:
        head = re.match(rf"(?i:{ROLE})\b[ \t]*", value)
        if not head or head.end() == len(value):
            break
        start += head.end()
        value = value[head.end():]
    return [Span(start, end, category, 20, reason, kept=True, tokens=name_words(value))]


def seats(text: str) -> list[Span]:
    """The place after a court or an institution (« cour d'appel de Lyon »), and the city
    heading a dated line (« LYON, le 22 octobre 2024 »): kept."""
    # Without its comma, a dated line opens a block only when the line above ends a sentence,
    # is blank or is a heading: one that goes on from the line above (« la société Groupe
    # Antonino⏎Khelifi le 5 juillet 2019 ») is running text.
    spans = [Span(m.start(1), m.end(1), "juridiction", 15, "siège", kept=True) for m in re.finditer(
        rf"(?m)^[ \t]*({CITY})[ \t]*,?[ \t]+le[ \t]+(?:\d{{1,2}}(?:er)?[ \t]+[a-zéû]+[ \t]+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})",
        text) if "," in m.group() or not re.search(rf"[{LOWER}{UPPER}][{LOWER}{COMBINING}]*[ \t]*\n[ \t]*$", text[max(0, m.start() - 40):m.start()])
        or re.search(r"(?m)^[^\n]*[A-Z]{2}[^\na-zà-ÿ]*\n[ \t]*$", text[max(0, m.start() - 80):m.start()])]
    place = re.compile(rf"\[[^\]\n]+\]|{CITY}")
    for match in SEAT.finditer(text):
        found = place.match(text, match.end())
        if found and not found.group().startswith("["):
            spans.append(Span(found.start(), found.end(), "juridiction", 15, "siège", kept=True))
    return spans


# Countries name no one's home: « né à Oran (Algérie) » keeps « Algérie ».
COUNTRIES = {name_key(country) for country in (
    "France", "Algérie", "Maroc", "Tunisie", "Espagne", "Portugal", "Italie", "Allemagne", "Belgique",
    "Suisse", "Luxembourg", "Royaume-Uni", "Angleterre", "Irlande", "Pays-Bas", "Pologne", "Roumanie",
    "Bulgarie", "Turquie", "Russie", "Ukraine", "Biélorussie", "Serbie", "Croatie", "Albanie", "Grèce",
    "Chine", "Japon", "Inde", "Vietnam", "Cambodge", "Laos", "Sénégal", "Mali", "Niger", "Guinée",
    "Côte d'Ivoire", "Cameroun", "Congo", "Gabon", "Bénin", "Togo", "Burkina Faso", "Mauritanie",
    "Madagascar", "Comores", "Haïti", "Égypte", "Libye", "Syrie", "Liban", "Irak", "Iran", "Afghanistan",
    "Pakistan", "Sri Lanka", "Brésil", "Argentine", "Colombie", "Chili", "Pérou", "Mexique", "Canada",
    "États-Unis", "Etats-Unis", "Tchad", "Soudan", "Érythrée", "Éthiopie", "Somalie", "Géorgie",
    "Arménie", "Moldavie", "Kosovo", "Bosnie", "Tchétchénie", "Israël", "Palestine", "Jordanie",
    "Arabie saoudite", "Qatar", "Émirats arabes unis", "Monaco", "Andorre", "Europe", "Afrique", "Asie")}


def places(text: str) -> list[Span]:
    """Addresses (« 12 rue des Lilas »), postal code and city (« 69100 Villeurbanne »), and
    places named as where someone lives or was born."""
    spans = []
    for match in ADDRESS.finditer(text):
        value = match.group().rstrip(" ,.-")
        if len(value) < 6:
            continue
        spans.append(Span(match.start(), match.start() + len(value), "adresse", 35, "voie"))
    for match in POSTAL_CITY.finditer(text):
        spans.append(Span(match.start(), match.end(), "localite", 36, "code postal"))
    for match in PLACE_CONTEXT.finditer(text):
        if name_key(match.group(1)) not in COUNTRIES:
            spans.append(Span(match.start(1), match.end(1), "localite", 37, "contexte"))
    # A city alone on the line after an address line (« 12 rue X\nVilleurbanne »).
    return spans


def city_after_address(text: str, addresses: list[Span], common: set[str]) -> list[Span]:
    """A line holding only a city after an address or postal-code line (blank lines
    between allowed), and « à City » right after an address."""
    spans = []
    city = rf"{CITY}(?:[ \t]+(?:CEDEX|Cedex)(?:[ \t]+\d{{1,2}})?)?"
    # The line may name the country in brackets (« Le Lakhal (ALLEMAGNE) ») or list the
    # commune and its localities (« Djoudi-en-Masseron / Le Duquesne / AUSTRAL »).
    line = re.compile(rf"[ \t]*(?:\n[ \t]*){{1,3}}({city})[ \t]*(?:\([^()\n]{{1,30}}\)[ \t]*)?(?=\n|$|/)")
    listed = re.compile(rf"[ \t]*/[ \t]*({city})[ \t]*(?=\n|$|/)")
    after = re.compile(rf"[ \t]*(?:,?[ \t]+(?:à|a)|[ \t]+[-–])[ \t]+({city})")
    for span in addresses:
        for pattern in (line, after):
            match = pattern.match(text, span.end)
            while (match and not all(word.lower() in common for word in re.findall(NAME, match.group(1)))
                    and name_key(match.group(1)) not in COUNTRIES):
                spans.append(Span(match.start(1), match.end(1), "localite", 38, "après une adresse"))
                match = listed.match(text, match.end(1)) if pattern is line else None
    return spans


def already_pseudonymised(text: str) -> list[Span]:
    """« [A] », « [Localité 5] », « X... »: already replaced, never touched again."""
    return [Span(match.start(), match.end(), "deja_pseudonymise", 0, "déjà remplacé", kept=True)
            for match in ALREADY_PSEUDONYMISED.finditer(text)]


# What is named after someone without being anyone: a school, a hospital, a street.
_INSTITUTION = (rf"clinique|centre|h[oô]pital|lyc[ée]e|[ée]cole|coll[eè]ge|institut|fondation|r[ée]sidence|stade|"
                rf"gare|m[ée]tro|station|pont|biblioth[eè]que|mus[ée]e|{STREET_TYPES}")
NAMED_INSTITUTION = re.compile(rf"(?i:\b(?:{_INSTITUTION}))[ \t]*[«\"“]?[ \t]*$")
_NAMED_PLACE = re.compile(
    rf"(?i:soci[ée]t[ée]|SARL|S\.A\.R\.L\.|SAS|S\.A\.S\.|SASU|EURL|SCI|S\.C\.I\.|SA|SNC|enseigne|"
    rf"{_INSTITUTION})[ \t]*[«\"“]?[ \t]*$")


_NAMED_AFTER = re.compile(r"(?<![\w-])(?:Groupe|GROUPE|Ets\.?|ETS\.?|[ÉE]tablissements|[ÉE]TABLISSEMENTS)[ \t]+$")
_COMPANY_KIND = re.compile(r"(?i:SARL|SAS|SASU|EURL|SCI|SNC|SA|SCP|SELARL|LLP|LTD|GMBH|INC|SPA|SRL|BV|NV|AG)")


def first_name_persons(text: str, common: set[str]) -> list[Span]:
    """« Joëlle BLANC », « Loïc FAURE », « Cyrille LE HAMADOUCHE », « Maria⏎MONNARD »: a known
    first name with a surname in capitals beside it, wherever it stands (the model misses
    persons without a civility in lists and headings); the surname is not a common word, nor
    a function. « Prénom Nom » in title case counts only when the surname is no word of the
    decisions and no first name, and nothing before names a street, a school or a company
    (« rue Jean Jaurès », « lycée Victor Hugo »)."""
    spans = []
    gap = r"(?:[ \t]+|[ \t]*\n[ \t]*)"
    particle = r"(?:(?:LE|LA|DE|DU|DES|Le|La|De|Du|Des|de|du|des|de[ \t]+la|DE[ \t]+LA)[ \t]+)"
    # Inside a lookahead, so that « Gorille de Cyrille » does not hide « Cyrille LE HAMADOUCHE ».
    pair = re.compile(rf"(?<![\w'-])(?=({NOT_NAME}{NAME}){gap}(?:({NOT_NAME}{NAME})[ \t]+)?({particle}?{NOT_NAME}{NAME})"
                      rf"(?![\w'-]))")
    for match in pair.finditer(text):
        first, middle, last = match.group(1), match.group(2), match.group(3)
        if _NAMED_PLACE.search(text, max(0, match.start() - 40), match.start()):
            continue  # « la société PIERRE FLOURENS », « centre Henri Duchêne », « rue Jean Jaurès »
        if not is_first_name(first) or first.isupper() or name_key(first) in COUNTRIES:
            continue
        if "\n" in text[match.end(1):match.start(3)] and middle:
            continue
        if re.fullmatch(PARTICLE_WORD, last):
            continue  # « Dóra DE JESÚSdésigner »: a particle is no surname (linking takes it with its name)
        last_name = re.sub(rf"^{particle}", "", last)
        surname = [word for word in (middle, last) if word]
        if middle and not (last_name.isupper() or is_first_name(middle)):
            surname = [middle]  # « Joëlle Blanc Demeurant »: only the word next to the first name
        end = match.end(3) if len(surname) == 2 or not middle else match.end(2)
        words = [first] + [re.sub(rf"^{particle}", "", word) for word in surname]
        title = not words[-1].isupper()
        # A company named after a person (« la société Groupe Antonino⏎Khelifi », « ETS Léa
        # MARTIN »): the person's names in it are hers, whatever their case or line break.
        named_after = _NAMED_AFTER.search(text, max(0, match.start() - 20), match.start())
        if title and not named_after and (len(surname) == 2 or "\n" in text[match.end(1):end]):
            continue
        if name_key(words[-1]) in COUNTRIES or _COMPANY_KIND.fullmatch(words[-1]):
            continue  # « Leonie Maroc », « Stock France EURL »
        if any((word.lower() in common or name_key(word) in common or ROLE_RE.fullmatch(word))
               and word.lower() not in _PARTICLE_WORDS for word in words[1:]):
            continue
        if not words[-1].isupper() and is_first_name(words[-1]):
            continue
        if title and (len(words[-1]) < 4 or not (named_after or _title_name_context(text, match.start(1), end))):
            continue
        spans.append(Span(match.start(1), end, "personne", 55, "prénom", tokens=words))
    # « ROBADEY Djamel », « DUPONT Jean-Pierre »: the surname in capitals first.
    reverse = re.compile(rf"(?<![\w'-])({NOT_NAME}[{UPPER}][{UPPER}{COMBINING}'-]{{2,}})[ \t]+({NOT_NAME}{NAME})(?![\w'-])")
    for match in reverse.finditer(text):
        surname, first = match.group(1), match.group(2)
        if (first.isupper() or not is_first_name(first) or name_key(surname) in common or _COMPANY_KIND.fullmatch(surname)
                or name_key(surname) in COUNTRIES
                or surname.lower() in common or ROLE_RE.fullmatch(surname) or is_first_name(surname)
                or _NAMED_PLACE.search(text, max(0, match.start() - 40), match.start())
                or re.search(r"(?i:\b(?:la|le|les|du|au|aux|des|l'))[ \t]*$", text[max(0, match.start() - 6):match.start()])
                or re.match(r"[ \t]+[{UPPER}]".replace("{UPPER}", UPPER), text[match.end():match.end() + 3])):
            continue
        spans.append(Span(match.start(1), match.end(2), "personne", 55, "prénom", tokens=[first, surname]))
    return spans


# « Edina NEDIĆ, chirurgien », « Matej LOJEN⏎domicilié … »: a first name the dictionary does
# not hold, before a surname in capitals. Neither word is a word of the decisions, a function,
# a country or a company's kind, and the pair stands alone (no capitalised word before or
# after it, no company or institution before it).
_UNKNOWN_FIRST = re.compile(rf"(?<![\w'’.-])({NOT_NAME}[{UPPER}][{LOWER}][{LOWER}{COMBINING}'-]+)(?:[ \t]+|[ \t]*\n[ \t]*)"
                            rf"({NOT_NAME}[{UPPER}][{UPPER}{COMBINING}'-]{{2,}})(?![\w'’-])")


_THING_BEFORE = re.compile(r"(?i:soci[ée]t[ée]s?|S\.?A\.?S?\.?|SARL|assureur|compagnie|banque|groupe|enseigne|marque|"
                           r"v[ée]hicule|mod[eè]le|voiture|produit|logiciel|de[ \t]+la|du|des|aux?)[ \t]*$")


def unknown_first_name_persons(text: str, common: set[str]) -> list[Span]:
    """« Prénom NOM » with a first name of no dictionary (see ``_UNKNOWN_FIRST``), unless its
    first word is met anywhere after a company's or a thing's word (« la société Allianz
    IARD », « un véhicule Citroen PICASSO »): then it is a brand's."""
    spans = []
    brands = {name_key(match.group(1)) for match in re.finditer(rf"({NAME})", text)
              if _THING_BEFORE.search(text, max(0, match.start() - 25), match.start())}
    for match in _UNKNOWN_FIRST.finditer(text):
        if name_key(match.group(1)) in brands:
            continue
        first, surname = match.group(1), match.group(2)
        if any(name_key(word) in common or word.lower() in common or ROLE_RE.fullmatch(word)
               or name_key(word) in COUNTRIES or _COMPANY_KIND.fullmatch(word) for word in (first, surname)):
            continue
        if not re.search(r"[AEIOUYÀÂÉÈÊËÎÏÔÛÙÜ]", surname) or _NAMED_PLACE.search(text, max(0, match.start() - 40),
                                                                                  match.start()):
            continue
        before = text[max(0, match.start() - 30):match.start()]
        if re.search(rf"[{UPPER}][\w'’.-]*[ \t]*$", before) or re.match(rf"[ \t]*[{UPPER}\d]", text[match.end():match.end() + 3]):
            continue
        if "\n" in text[match.end(1):match.start(2)] and not re.search(r"[a-zàâçéèêëîïôûùüÿœ]{2,}[ \t,]+$", before):
            continue  # across a line break, only inside running text (« pour le groupement Feraye⏎ZINGG, »)
        spans.append(Span(match.start(1), match.end(2), "personne", 57, "prénom", tokens=[first, surname]))
    return spans


def _title_name_context(text: str, start: int, end: int) -> bool:
    """« Mehdi Djebbar-Bah a établi », « de Mehdi Djebbar-Bah, qui »: a title-case « Prénom Nom »
    is a person's where it stands as one (not inside a run of capitalised words: a title,
    a company, a work of art)."""
    before = text[max(0, start - 30):start]
    after = text[end:end + 30]
    if re.search(rf"[{UPPER}][\w'-]*[ \t]+$", before) or re.match(rf"[ \t]+[{UPPER}]", after):
        return False
    return not re.search(r"(?i:d'|de|du|des|par|à|la|le|les|l')[ \t]*$", before) or not re.search(
        r"(?i:tableau|œuvre|oeuvre|rue|avenue|place|fondation|prix|stade|centre|lycée|école|collège|"
        r"musée|hôpital|clinique|salle|théâtre|galerie|boutique|magasin|station)[^.\n]{0,20}$", before)


# « préserver CORRADI », « laisser CORRADI sans rien »: a surname in capitals alone in
# running text, which the model takes for an acronym. Only a word met at least twice and
# never as an organisation is (after an article, a company's kind, a preposition of place,
# or beside another capitalised word), never a word of the decisions' vocabulary.
_BARE_CAPITALS = re.compile(rf"(?<![\w'’.-])([{UPPER}][{UPPER}{COMBINING}]{{4,}})(?![\w'’-])")
_ORGANISATION_BEFORE = re.compile(r"(?i:\b(?:la|le|les|l|du|des|au|aux|de|d|en|par|sur|chez|soci[ée]t[ée]|SARL|SAS|"
                                  r"SASU|EURL|SA|SCI|groupe|enseigne|marque|caisse|banque|n°)[ \t'’]*)$")


def bare_capitals(text: str, common: set[str]) -> list[Span]:
    """A surname in capitals alone in running text (see above)."""
    found: dict[str, list[tuple[re.Match, bool]]] = {}
    refused: set[str] = set()
    for match in _BARE_CAPITALS.finditer(text):
        word = match.group(1)
        key = name_key(word)
        before = text[max(0, match.start() - 20):match.start()]
        after = text[match.end():match.end() + 20]
        if (key in common or word.lower() in common or ROLE_RE.fullmatch(word) or key in COUNTRIES
                or _COMPANY_KIND.fullmatch(word) or not re.search(r"[AEIOUYÀÂÉÈÊËÎÏÔÛÙÜ]", word[1:])
                or re.search(r"[A-Z]{2}", word) is None):
            refused.add(key)
            continue
        beside = re.search(rf"[{UPPER}][\w'-]*[ \t]*$", before) or re.match(rf"[ \t]*[{UPPER}]", after)
        if (_ORGANISATION_BEFORE.search(before) or beside or word.endswith(("ONS", "EZ"))
                or re.match(r"[ \t]*(?:\(|-|/|\d|(?:la|le|les|l'|l’|un|une|des)\b)", after)):
            refused.add(key)
            continue
        in_sentence = re.search(r"[a-zàâçéèêëîïôûùüÿœ]{2}[ \t]+[«\"“]?[ \t]*$", before)
        found.setdefault(key, []).append((match, bool(in_sentence)))
    spans = []
    for key, matches in found.items():
        if key in refused or len(matches) < 2 or not any(in_sentence for _, in_sentence in matches):
            continue
        spans += [Span(m.start(1), m.end(1), "personne", 66, "capitales", tokens=[m.group(1)]) for m, _ in matches]
    return spans
