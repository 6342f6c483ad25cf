"""Long answers are cut into Telegram-sized messages at sentence ends."""

from __future__ import annotations

from bot.split import MAX_TEXT, split_message, units


def test_short_text_is_one_message() -> None:
    assert split_message("Hallo. Wie geht es?") == ["Hallo. Wie geht es?"]
    assert split_message("   ") == []


def test_9000_characters_become_three_messages_cut_after_sentences() -> None:
    sentence = "Das Jobcenter zahlt den Sprachkurs, wenn Sie eine Berechtigung haben. "
    text = (sentence * 130).strip()
    assert len(text) > 9000
    parts = split_message(text)
    assert len(parts) == 3
    assert all(units(p) <= MAX_TEXT for p in parts)
    assert all(p.endswith("haben.") for p in parts)
    assert " ".join(parts) == text


def test_other_scripts_end_sentences_too() -> None:
    arabic = "هل لديك تصريح إقامة؟ " * 5
    urdu = "یہ جملہ ختم ہوا۔ " * 5
    tigrinya = "እዚ ሓረግ ተወዲኡ። " * 5
    for text, end in ((arabic, "؟"), (urdu, "۔"), (tigrinya, "።")):
        parts = split_message(text, limit=50)
        assert len(parts) > 1
        assert all(p.endswith(end) for p in parts), parts


def test_paragraphs_are_kept_and_lines_are_boundaries() -> None:
    text = "Erstens\nZweitens\n\nDrittens"
    assert split_message(text) == [text]
    assert split_message(text, limit=10) == ["Erstens", "Zweitens", "Drittens"]


def test_a_sentence_longer_than_a_message_is_cut_between_words() -> None:
    text = " ".join(["Wort"] * 3000)  # no sentence end at all
    parts = split_message(text)
    assert all(units(p) <= MAX_TEXT for p in parts)
    assert all(p.startswith("Wort") and p.endswith("Wort") for p in parts)
    assert " ".join(parts) == text


def test_a_word_longer_than_a_message_is_cut_but_never_inside_an_emoji() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units: Telegram counts each emoji twice
    parts = split_message(text)
    assert [units(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == text
