"""The page reader: expected-F1 decoding, numpy inference = the torch model it trains as, the shipped weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from knowledge.sequence_reader import INPUTS, WEIGHTS_FILE, Network, SequenceReader, expected_f1_run


def brute_force_run(p: np.ndarray, alpha: float) -> float:
    total = alpha * p.sum()
    return max(2 * p[i:j].sum() / ((j - i) + total) for i, j in itertools.combinations(range(len(p) + 1), 2))


def test_expected_f1_run_is_the_best_run() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.random(rng.integers(1, 12)) ** 3
        run = expected_f1_run(p, 1.0)
        assert run == list(range(run[0], run[-1] + 1))
        assert 2 * p[run].sum() / (len(run) + p.sum()) == pytest.approx(brute_force_run(p, 1.0))


def test_the_run_follows_how_much_answer_the_page_holds() -> None:
    assert expected_f1_run(np.array([0.05, 0.9, 0.9, 0.05, 0.05])) == [1, 2]
    # a long, fairly likely block is taken whole rather than cut at one threshold
    assert expected_f1_run(np.array([0.05, 0.6, 0.5, 0.55, 0.6, 0.05])) == [1, 2, 3, 4]
    assert expected_f1_run(np.array([])) == []


def toy_reader(gate: float = 0.5) -> SequenceReader:
    rng = np.random.default_rng(1)
    d, h = len(INPUTS), 4
    weights = {"inp.weight": rng.normal(size=(h, d)) * 0.3, "inp.bias": np.zeros(h),
               "out.weight": rng.normal(size=(1, 2 * h)), "out.bias": np.zeros(1),
               "page.weight": rng.normal(size=(1, 4 * h)), "page.bias": np.zeros(1)}
    for layer, suffix in itertools.product(range(2), ("", "_reverse")):
        width = h if layer == 0 else 2 * h
        weights[f"gru.weight_ih_l{layer}{suffix}"] = rng.normal(size=(3 * h, width)) * 0.5
        weights[f"gru.weight_hh_l{layer}{suffix}"] = rng.normal(size=(3 * h, h)) * 0.5
        weights[f"gru.bias_ih_l{layer}{suffix}"] = rng.normal(size=3 * h) * 0.1
        weights[f"gru.bias_hh_l{layer}{suffix}"] = rng.normal(size=3 * h) * 0.1
    return SequenceReader(Network.stack([weights]), np.zeros(d), np.ones(d), alpha=1.0, gate=gate)


def test_gate_threshold_and_round_trip(tmp_path: pytest.TempPathFactory) -> None:
    reader = toy_reader()
    p = np.array([0.1, 0.3, 0.9, 0.8, 0.35, 0.3], dtype=np.float32)
    assert reader.select(p, page=0.4) == []  # the page does not answer
    assert reader.select(p, page=0.4, gate=-1.0) != []  # always extract
    full = reader.select(p, page=0.9)
    assert 2 in full and 3 in full
    assert reader.select(p, page=0.9, threshold=0.5) == [2, 3]  # chat: the run's weak ends trimmed
    path = tmp_path / "reader.npz"  # type: ignore[operator]
    reader.save(path)
    loaded = SequenceReader.load(path)
    x = np.random.default_rng(2).normal(size=(7, len(INPUTS)))
    (a, pa), (b, pb) = reader.probabilities(x), loaded.probabilities(x)
    assert np.allclose(a, b) and pa == pytest.approx(pb)
    assert (loaded.alpha, loaded.gate) == (1.0, 0.5)


def test_numpy_network_is_the_torch_network() -> None:
    """Pages of different lengths in one padded torch batch = each page alone in numpy."""
    torch = pytest.importorskip("torch")  # only where training is installed (make install-train)
    from knowledge.sequence_train import TrainConfig, build_network

    torch.manual_seed(0)
    model = build_network(len(INPUTS), TrainConfig(hidden=8))
    model.eval()
    network = Network.stack([{k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()}])
    rng = np.random.default_rng(3)
    pages = [rng.normal(size=(n, len(INPUTS))).astype(np.float32) for n in (9, 4, 1)]
    batch = np.zeros((3, 9, len(INPUTS)), dtype=np.float32)
    for k, page in enumerate(pages):
        batch[k, :len(page)] = page
    with torch.no_grad():
        logits, page_logits = model(torch.from_numpy(batch), torch.tensor([len(p) for p in pages]))
    for k, page in enumerate(pages):
        sentence, page_logit = network(page.astype(np.float64))
        assert np.allclose(sentence[0], logits[k, :len(page)].numpy(), atol=1e-5)
        assert float(page_logit[0]) == pytest.approx(float(page_logits[k]), abs=1e-5)


@pytest.mark.skipif(not WEIGHTS_FILE.exists(), reason="no trained page reader shipped")
def test_shipped_weights_say_what_they_were_trained_on() -> None:
    reader = SequenceReader.load()
    assert reader.meta["trained_on"]["split"] == "train"
    assert reader.meta["encoder"].startswith("e5-tuned-")
    assert 0.0 <= reader.gate < 1.0 and 0.5 <= reader.alpha <= 1.5
    assert reader.network.weights["inp.weight"].shape[0] == reader.meta["train"]["networks"]
