"""Texts of the Telegram-only ``/delete`` flow.

Everything the dialogue says comes from the hub (``lotse/locales``); only erasing data is the
channel's own business. These few texts follow the locale files' register (formal, plain
language) and fall back along each language's fallback chain (Pashto reads Farsi, Sorani
Arabic, Armenian and Mongolian Russian); the remaining languages get English until translators
add them. They belong in ``lotse/locales`` once those files are open for new keys.
"""

from __future__ import annotations

from lotse.languages import fallback_chain

TEXTS: dict[str, dict[str, str]] = {
    "delete_confirm": {
        "en": "Delete all your messages with Lotse? This cannot be undone.",
        "de": "Alle Ihre Nachrichten mit Lotse löschen? Das kann man nicht rückgängig machen.",
        "ar": "هل تريد حذف كل رسائلك مع Lotse؟ لا يمكن التراجع عن ذلك.",
        "tr": "Lotse ile tüm mesajlarınız silinsin mi? Bu geri alınamaz.",
        "uk": "Видалити всі Ваші повідомлення з Lotse? Це не можна скасувати.",
        "ru": "Удалить все Ваши сообщения с Lotse? Это нельзя отменить.",
        "fa": "همه پیام‌های شما با Lotse پاک شود؟ این کار برگشت‌پذیر نیست.",
        "pl": "Usunąć wszystkie wiadomości z Lotse? Tego nie można cofnąć.",
        "ro": "Ștergeți toate mesajele dumneavoastră cu Lotse? Acest lucru nu poate fi anulat.",
        "fr": "Supprimer tous vos messages avec Lotse ? Cette action est définitive.",
        "it": "Cancellare tutti i suoi messaggi con Lotse? Non si può annullare.",
        "nl": "Al uw berichten met Lotse verwijderen? Dit kan niet ongedaan worden gemaakt.",
        "pt": "Apagar todas as suas mensagens com o Lotse? Isto não pode ser desfeito.",
        "es": "¿Borrar todos sus mensajes con Lotse? No se puede deshacer.",
    },
    "delete_yes": {
        "en": "Yes, delete", "de": "Ja, löschen", "ar": "نعم، احذف", "tr": "Evet, sil", "uk": "Так, видалити",
        "ru": "Да, удалить", "fa": "بله، پاک شود", "pl": "Tak, usuń", "ro": "Da, ștergeți",
        "fr": "Oui, supprimer", "it": "Sì, cancella", "nl": "Ja, verwijderen", "pt": "Sim, apagar",
        "es": "Sí, borrar",
    },
    "delete_no": {
        "en": "No, keep", "de": "Nein, behalten", "ar": "لا، احتفظ بها", "tr": "Hayır, kalsın",
        "uk": "Ні, залишити", "ru": "Нет, оставить", "fa": "نه، بماند", "pl": "Nie, zachowaj",
        "ro": "Nu, păstrați", "fr": "Non, garder", "it": "No, tieni", "nl": "Nee, bewaren",
        "pt": "Não, manter", "es": "No, conservar",
    },
    "delete_done": {
        "en": "Done. Your messages have been deleted. If you write again, a new conversation starts.",
        "de": "Erledigt. Ihre Nachrichten wurden gelöscht. Wenn Sie wieder schreiben, beginnt ein neues Gespräch.",
        "ar": "تم. حُذفت رسائلك. إذا كتبت مرة أخرى، تبدأ محادثة جديدة.",
        "tr": "Tamam. Mesajlarınız silindi. Yeniden yazarsanız yeni bir sohbet başlar.",
        "uk": "Готово. Ваші повідомлення видалено. Якщо Ви напишете знову, почнеться нова розмова.",
        "ru": "Готово. Ваши сообщения удалены. Если Вы напишете снова, начнётся новый разговор.",
        "fa": "انجام شد. پیام‌های شما پاک شد. اگر دوباره بنویسید، یک گفتگوی تازه شروع می‌شود.",
        "pl": "Gotowe. Wiadomości zostały usunięte. Nowa wiadomość rozpocznie nową rozmowę.",
        "ro": "Gata. Mesajele dumneavoastră au fost șterse. Dacă scrieți din nou, începe o conversație nouă.",
        "fr": "C’est fait. Vos messages ont été supprimés. Si vous écrivez à nouveau, une nouvelle conversation "
              "commence.",
        "it": "Fatto. I suoi messaggi sono stati cancellati. Se scrive di nuovo, inizia una nuova conversazione.",
        "nl": "Klaar. Uw berichten zijn verwijderd. Als u opnieuw schrijft, begint een nieuw gesprek.",
        "pt": "Feito. As suas mensagens foram apagadas. Se escrever de novo, começa uma nova conversa.",
        "es": "Hecho. Sus mensajes se han borrado. Si vuelve a escribir, empieza una conversación nueva.",
    },
    "delete_kept": {
        "en": "OK, nothing was deleted.", "de": "Gut, es wurde nichts gelöscht.", "ar": "حسنًا، لم يُحذف شيء.",
        "tr": "Tamam, hiçbir şey silinmedi.", "uk": "Добре, нічого не видалено.", "ru": "Хорошо, ничего не удалено.",
        "fa": "بسیار خوب، چیزی پاک نشد.", "pl": "Dobrze, nic nie zostało usunięte.", "ro": "Bine, nu s-a șters nimic.",
        "fr": "D’accord, rien n’a été supprimé.", "it": "Va bene, non è stato cancellato nulla.",
        "nl": "Goed, er is niets verwijderd.", "pt": "Está bem, nada foi apagado.",
        "es": "De acuerdo, no se borró nada.",
    },
}


def text(key: str, language: str) -> str:
    translations = TEXTS[key]
    return next(translations[code] for code in fallback_chain(language) if code in translations)
