"""Find a language that a newcomer names in free text ("auf Arabisch bitte", "по-русски", "بالعربي").

The language picker and the detector cover most cases. But people also ask for a language in
their own words, often in another language than the one they want ("I don't understand German,
Arabic please"). This module knows how people name our 23 languages in many of those languages,
so the bot can switch at once instead of showing the picker again.

Matching rules (after lowercasing and removing accents, so "Français" = "francais"):

* Latin, Cyrillic and Armenian script: a name must start a word. Names of five or more letters
  may go on for up to three letters, which covers endings ("arabisch" -> "arabische",
  "английск" -> "английского"); shorter names ("urdu", "dari") must be the whole word.
  A few country names that start like a language name ("Germany", "Somalia") do not count.
* Arabic script: the whole word, optionally with the clitics Arabic joins to it
  ("بالعربي", "والفارسية"), so that "ترکی" does not hit inside "ترکیب" or "ترکیه".
* Ge'ez script (Tigrinya): anywhere, because prepositions are joined to the word ("ብትግርኛ").

If several languages are named, the last one wins. A generic "Kurdish" gives way to "Sorani"
in the same message ("Kurdish Sorani" -> ckb).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LANGUAGE_NAMES: dict[str, list[str]] = {
    "de": [
        "deutsch", "german", "almanca", "немецкий", "немецк", "німецька", "німецьк", "آلمانی",
        "الألمانية", "ألماني", "الماني", "allemand", "alemán", "alemão", "tedesco", "niemiecki",
        "germană", "gjermanisht", "duits", "գերմաներեն", "герман хэл", "jarmal", "almanî",
        "ئەڵمانی", "جرمن", "ጀርመንኛ", "німецькою", "по-немецки",
    ],
    "en": [
        "english", "englisch", "ingilizce", "английский", "английск", "англійська", "англійськ",
        "انگلیسی", "الإنجليزية", "إنجليزي", "انجليزي", "انكليزي", "الانكليزية", "anglais", "inglés",
        "inglese", "inglês", "angielski", "engleză", "anglisht", "engels", "անգլերեն", "англи хэл",
        "ingiriis", "îngilîzî", "inglîzî", "ئینگلیزی", "انګلیسي", "انگریزی", "እንግሊዝኛ",
    ],
    "ar": [
        "arabic", "arabisch", "arab", "عربي", "العربية", "عربى", "عربية", "عربی", "arapça", "arapca",
        "арабська", "арабськ", "арабский", "арабск", "arabe", "árabe", "arabo", "arabisht", "carabi",
        "arabski", "arabă", "արաբերեն", "араб хэл", "erebî", "عەرەبی", "ዓረብኛ", "ዐረብኛ",
    ],
    "tr": [
        "turkish", "türkisch", "türkçe", "turkce", "türk", "turc", "turque", "turco", "turca",
        "турецкий", "турецк", "турецька", "турецьк", "ترکی", "تركي", "التركية", "تورکی", "tirkî",
        "turqisht", "turks", "turecki", "turcă", "թուրքերեն", "турк хэл", "turki", "ቱርክኛ",
    ],
    "uk": [
        "ukrainian", "ukrainisch", "українська", "українськ", "украинский", "украинск", "ukraynaca",
        "اوکراینی", "الأوكرانية", "أوكراني", "ukrainien", "ucraniano", "ucraino", "ukraiński",
        "ucraineană", "ukrainisht", "oekraïens", "ուկրաիներեն", "украин хэл", "ukraynî",
        "ukrainsk", "ukrayinsk", "ئۆکراینی", "ዩክሬንኛ",
    ],
    "ru": [
        "russian", "russisch", "русский", "русск", "російська", "російськ", "rusça", "rusca", "rus",
        "روسی", "الروسية", "روسي", "russe", "ruso", "russo", "rosyjski", "rusă", "rusisht",
        "ռուսերեն", "орос хэл", "ruush", "rûsî", "ڕووسی", "russk", "ራሽያኛ", "ሩስኛ",
    ],
    "fa": [
        "farsi", "persian", "persisch", "dari", "فارسی", "دری", "فارسي", "الفارسية", "پارسی",
        "فارسی دری", "farsça", "farsca", "персидский", "персидск", "фарси", "дари", "перська",
        "перськ", "фарсі", "дарі", "persan", "persa", "persiano", "perski", "persană", "persisht",
        "perzisch", "պարսկերեն", "faarsi", "перс хэл", "farisî", "فارسى", "ፋርስኛ",
    ],
    "ps": [
        "pashto", "pashtu", "pushto", "pakhto", "paschtu", "paschto", "pachto", "pachtou", "pastún",
        "paştuca", "peştuca", "paştu", "peştû", "پښتو", "پشتو", "البشتو", "البشتونية", "пушту",
        "пашто", "paszto", "pașto", "pasjtoe", "փուշթու", "пушту хэл", "pashtun", "پەشتۆ",
    ],
    "ku": [
        "kurdish", "kurdisch", "kurdî", "kurdi", "kurmancî", "kurmanci", "kurmanji", "kurmandschi",
        "kurmandji", "kürtçe", "kurtce", "курдский", "курдск", "курдська", "курдськ", "курманджи",
        "курманджі", "کوردی", "الكردية", "كردي", "زبان کردی", "به کردی", "کرمانجی", "کورمانجی",
        "الكرمانجية", "كرمانجي", "kurde", "kurdo", "curdo", "kurdyjski", "kurdă", "kurdisht",
        "koerdisch", "քրդերեն", "курд хэл", "ኩርድኛ",
    ],
    "ckb": [
        "sorani", "soranî", "soranisch", "soranice", "сорани", "сорані", "سۆرانی", "سورانی",
        "السورانية", "سوراني", "کوردیی سۆرانی", "central kurdish",
    ],
    "pl": [
        "polish", "polnisch", "polski", "polsku", "polonyaca", "польский", "польск", "польська",
        "польськ", "لهستانی", "البولندية", "بولندي", "polonais", "polaco", "polacco", "polonês",
        "polones", "poloneză", "polonisht", "լեհերեն", "польш хэл", "polonî",
    ],
    "ro": [
        "romanian", "rumänisch", "română", "romana", "românește", "romaneste", "limba română",
        "moldovan", "moldauisch", "rumence", "румынский", "румынск", "румунська", "румунськ",
        "رومانیایی", "الرومانية", "روماني", "roumain", "rumano", "rumeno", "romeno", "rumuński",
        "rumanisht", "roemeens", "ռումիներեն", "румын хэл",
    ],
    "sq": [
        "albanian", "albanisch", "shqip", "shqipe", "arnavutça", "arnavutca", "албанский",
        "албанск", "албанська", "албанськ", "آلبانیایی", "الألبانية", "albanais", "albanés",
        "albanese", "albanês", "albański", "albaneză", "albanees", "ալբաներեն", "албани хэл",
        "arnawûtî",
    ],
    "hy": [
        "armenian", "armenisch", "հայերեն", "hayeren", "ermenice", "армянский", "армянск",
        "вірменська", "вірменськ", "ارمنی", "الأرمنية", "أرمني", "arménien", "armenio", "armeno",
        "arménio", "armênio", "ormiański", "armeană", "armenisht", "armeens", "армен хэл", "ermenî",
    ],
    "fr": [
        "french", "französisch", "français", "francais", "fransızca", "fransizca", "французский",
        "французск", "французька", "французьк", "فرانسوی", "الفرنسية", "فرنسي", "francés", "francese",
        "francês", "francuski", "franceză", "frëngjisht", "frans", "ֆրանսերեն", "франц хэл",
        "faransiis", "fransî", "فەرەنسی", "ፈረንሳይኛ",
    ],
    "it": [
        "italian", "italienisch", "italiano", "italien", "italienne", "italyanca", "итальянский",
        "итальянск", "італійська", "італійськ", "ایتالیایی", "الإيطالية", "إيطالي", "włoski",
        "wloski", "italiană", "italisht", "italiaans", "իտալերեն", "итали хэл", "talyaani", "îtalî",
        "ጣልያንኛ", "ጥልያንኛ",
    ],
    "nl": [
        "dutch", "niederländisch", "holländisch", "nederlands", "flemish", "flämisch", "vlaams",
        "hollandaca", "felemenkçe", "нидерландский", "нидерландск", "голландский", "голландск",
        "нідерландська", "нідерландськ", "голландська", "голландськ", "هلندی", "الهولندية",
        "هولندي", "néerlandais", "hollandais", "neerlandés", "holandés", "olandese", "neerlandese",
        "holandês", "neerlandês", "niderlandzki", "holenderski", "olandeză", "holandisht",
        "հոլանդերեն", "голланд хэл", "holendî",
    ],
    "pt": [
        "portuguese", "portugiesisch", "português", "portugues", "portekizce", "португальский",
        "португальск", "португальська", "португальськ", "پرتغالی", "البرتغالية", "برتغالي",
        "portugais", "portugués", "portoghese", "portugalski", "portugheză", "portugalisht",
        "portugees", "պորտուգալերեն", "португал хэл", "boortaqiis", "portekîzî",
    ],
    "so": [
        "somali", "somalisch", "soomaali", "somalí", "somalo", "somalice", "сомалийский",
        "сомалийск", "сомалі", "سومالیایی", "الصومالية", "صومالي", "somalijski", "somaleză",
        "somalisht", "սոմալիերեն", "сомали хэл", "somalî", "ሶማልኛ",
    ],
    "ur": [
        "urdu", "urduca", "урду", "اردو", "الأردية", "ourdou", "urdû", "urduu", "урду хэл", "ئوردو",
        "ኡርዱ",
    ],
    "mn": [
        "mongolian", "mongolisch", "mongol", "монгол", "монгол хэл", "монгольский", "монгольск",
        "монгольська", "монгольськ", "moğolca", "mogolca", "مغولی", "المنغولية", "منغولي",
        "mongole", "mongolo", "mongolski", "mongolă", "mongolisht", "mongools", "մոնղոլերեն",
        "mongolî", "ሞንጎልኛ",
    ],
    "ti": [
        "tigrinya", "tigrinisch", "tigrigna", "tigrinia", "tigrinja", "tigriña", "tigrino",
        "tigrinyaca", "тигринья", "тигриня", "ትግርኛ", "ትግሪኛ", "التغرينية", "التيغرينية",
        "تيغرينيا", "تیگرینیا", "تیگرینیایی", "tigrinjisht", "тигриня хэл",
    ],
    "es": [
        "spanish", "spanisch", "español", "espanol", "castellano", "ispanyolca", "испанский",
        "испанск", "іспанська", "іспанськ", "اسپانیایی", "الإسبانية", "إسباني", "اسباني",
        "espagnol", "spagnolo", "espanhol", "hiszpański", "spaniolă", "spanjisht", "spaans",
        "իսպաներեն", "испани хэл", "isbaanish", "spanî", "ئیسپانی",
    ],
}

# "Kurdish" without a dialect means Kurmanji (ku), unless the same message names Sorani.
_KURMANJI_ONLY = {"kurmancî", "kurmanci", "kurmanji", "kurmandschi", "kurmandji", "курманджи",
                  "курманджі", "کرمانجی", "کورمانجی", "الكرمانجية", "كرمانجي"}

# Words that start like a language name but name a country.
_NOT_A_LANGUAGE = {"germany", "germania", "alemania", "alemanha", "somalia", "somalie",
                   "somaliland", "mongolia", "mongolei", "mongolie"}

_LETTER = r"[^\W\d_]"
_ARABIC_CLITICS = r"(?:[وف]?(?:[بلكک]?ال)?)"
_ARABIC_CLITICS_BEFORE_AL = r"(?:[وف]?[بلكک]?)"


def _fold(text: str) -> str:
    """Lowercase and drop accents and Arabic vowel marks, so spelling variants meet."""
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c) and c != "\u0640")  # tatweel
    text = text.replace("ı", "i").replace("ى", "ي").replace("ة", "ه")
    return unicodedata.normalize("NFC", text)


def _script(name: str) -> str:
    for char in name:
        if "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f":
            return "arabic"
        if "\u1200" <= char <= "\u139f":
            return "ethiopic"
    return "other"


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str, str]]:
    patterns = []
    for code, names in LANGUAGE_NAMES.items():
        for name in names:
            folded = _fold(name)
            core = r"\s+".join(re.escape(part) for part in folded.split())
            script = _script(folded)
            if script == "ethiopic":
                regex = f"(?P<core>{core})"
            elif script == "arabic":
                clitics = _ARABIC_CLITICS_BEFORE_AL if folded.startswith("ال") else _ARABIC_CLITICS
                regex = f"(?<!{_LETTER}){clitics}(?P<core>{core})(?!{_LETTER})"
            else:
                extra = 3 if len(folded.split()[-1]) >= 5 else 0
                regex = f"(?<!{_LETTER})(?P<core>{core}{_LETTER}{{0,{extra}}})(?!{_LETTER})"
            patterns.append((re.compile(regex), code, name))
    return patterns


def find_language(text: str) -> str | None:
    """Return the code of the language named in ``text`` (e.g. "auf Arabisch bitte" -> "ar"), or None."""
    folded = _fold(text or "")
    hits: list[tuple[int, int, str, str]] = []  # (start, -length, code, name)
    for pattern, code, name in _patterns():
        for match in pattern.finditer(folded):
            if match.group("core") in _NOT_A_LANGUAGE:
                continue
            hits.append((match.start("core"), -len(match.group("core")), code, name))
    if any(code == "ckb" for _, _, code, _ in hits):
        hits = [hit for hit in hits if hit[2] != "ku" or hit[3] in _KURMANJI_ONLY]
    if not hits:
        return None
    # The language named last wins; at the same place, the longer name.
    return max(hits, key=lambda hit: (hit[0], -hit[1]))[2]
