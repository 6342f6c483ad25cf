"""Language detection decides which language a newcomer is answered in."""

from __future__ import annotations

import pytest

from lotse.langid import conversation_language, detect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wie lange dauert der Integrationskurs?", "de"),
        ("How much does naturalisation cost in Germany?", "en"),
        ("كم تكلفة التجنيس في ألمانيا؟", "ar"),
        ("Vatandaşlık başvurusu ne kadar sürer?", "tr"),
        ("Скільки коштує інтеграційний курс?", "uk"),
        ("Сколько стоит интеграционный курс?", "ru"),
        ("هزینه تابعیت آلمان چقدر است", "fa"),
        ("زه غواړم د آلمان تابعیت واخلم، څه وکړم؟", "ps"),
        ("میں جرمن شہریت کے لیے کیسے درخواست دوں؟", "ur"),
        ("چۆن دەتوانم ڕەگەزنامەی ئەڵمانی وەربگرم", "ckb"),
        ("Dzień dobry, jak mogę przedłużyć pobyt w Niemczech?", "pl"),
        ("Bună ziua, cum îmi prelungesc permisul de ședere?", "ro"),
        ("Si mund të regjistroj fëmijën tim në shkollë?", "sq"),
        ("Ինչպե՞ս կարող եմ երկարաձգել կացության թույլտվությունը", "hy"),
        ("Comment puis-je prolonger mon titre de séjour ?", "fr"),
        ("Come posso iscrivere mio figlio a scuola in Germania?", "it"),
        ("Hoe kan ik mijn verblijfsvergunning verlengen?", "nl"),
        ("Como posso renovar a minha autorização de residência?", "pt"),
        ("Sideen ayaan u diiwaangeliyaa ilmahayga dugsiga?", "so"),
        ("Иргэншил авахын тулд юу хийх хэрэгтэй вэ?", "mn"),
        ("ንዝተፈላለዩ ጉዳያት ሓገዝ ክረክብ እደሊ እየ", "ti"),
        ("¿Cómo puedo renovar mi permiso de residencia?", "es"),
    ],
)
def test_long_messages_are_recognised(text: str, expected: str) -> None:
    assert detect(text).language == expected


def test_short_ambiguous_messages_keep_the_conversation_language() -> None:
    assert conversation_language("ok", "uk", "de") == "uk"
    assert conversation_language("danke", "ar", "de") == "ar"
    assert conversation_language("hallo", None, "de") == "de"


def test_a_clear_message_in_another_language_switches() -> None:
    assert conversation_language("Скільки коштує інтеграційний курс?", "de", "de") == "uk"
    assert conversation_language("How long does the integration course take?", "de", "de") == "en"


def test_payloads_are_not_detected() -> None:
    assert detect('/choose_language{"language":"ar"}').language is None
