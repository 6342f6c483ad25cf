"""Updates of one chat are answered in order; other chats do not wait for them."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.ordering import PerChatUpdateProcessor
from tests.bot.conftest import message_update


def test_one_chat_in_order_other_chats_in_parallel() -> None:
    async def scenario() -> list[str]:
        processor = PerChatUpdateProcessor()
        done: list[str] = []

        async def answer(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            done.append(name)

        first, second = (Update.de_json(message_update(t, chat_id=1)) for t in ("a", "b"))
        other = Update.de_json(message_update("c", chat_id=2))
        await asyncio.gather(
            processor.process_update(first, answer("chat 1, first", 0.2)),
            processor.process_update(second, answer("chat 1, second", 0)),
            processor.process_update(other, answer("chat 2", 0.05)),
        )
        return done

    assert asyncio.run(scenario()) == ["chat 2", "chat 1, first", "chat 1, second"]
