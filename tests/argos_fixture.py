"""Build tiny but real ``.argosmodel`` packages offline, so tests exercise the real loading path.

No package can be downloaded here, so each one is made from scratch: a sentencepiece model
trained on a few sentences, and a one-layer CTranslate2 Transformer with random weights over
its pieces (built from numpy through a small converter, no torch). The translations are
nonsense; what matters is that argostranslate's package format, the tokenizer and CTranslate2
load and run exactly as they would for a real package. Building one takes well under a second.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = [
    "Wann beginnt der Integrationskurs?",
    "Mein Kind muss zur Schule gehen.",
    "Ich brauche einen Termin bei der Ausländerbehörde.",
    "Wie viel kostet die Einbürgerung?",
    "Wo finde ich einen Sprachkurs in meiner Nähe?",
    "Der Aufenthaltstitel läuft nächsten Monat ab.",
    "متى تبدأ دورة الاندماج؟",
    "يجب أن يذهب طفلي إلى المدرسة.",
    "أحتاج إلى موعد في دائرة الأجانب.",
    "كم تكلفة التجنيس؟",
    "أين أجد دورة لغة قريبة مني؟",
    "When does the integration course start?",
    "My child has to go to school.",
    "How much does naturalisation cost?",
]
NAMES = {"de": "German", "ar": "Arabic", "en": "English", "tr": "Turkish", "fr": "French"}
D_MODEL, HEADS, FFN = 16, 2, 32


def train_sentencepiece() -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES),
        model_writer=model,
        vocab_size=120,
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
    )
    return model.getvalue()


def _tiny_transformer(vocabulary: list[str], seed: int) -> Any:
    """A one-layer encoder-decoder with random weights, as a CTranslate2 model spec."""
    from ctranslate2.specs import transformer_spec

    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.2, shape).astype(np.float32)

    def norm(layer: Any) -> None:
        layer.gamma = np.ones(D_MODEL, np.float32)
        layer.beta = np.zeros(D_MODEL, np.float32)

    def linear(layer: Any, out: int, inp: int) -> None:
        layer.weight = weights(out, inp)
        layer.bias = np.zeros(out, np.float32)

    def ffn(layer: Any) -> None:
        norm(layer.layer_norm)
        linear(layer.linear_0, FFN, D_MODEL)
        linear(layer.linear_1, D_MODEL, FFN)

    spec = transformer_spec.TransformerSpec.from_config(1, HEADS)
    encoder, decoder = spec.encoder, spec.decoder
    encoder.embeddings[0].weight = weights(len(vocabulary), D_MODEL)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * D_MODEL, D_MODEL)
        linear(layer.self_attention.linear[1], D_MODEL, D_MODEL)
        ffn(layer.ffn)
    decoder.embeddings.weight = weights(len(vocabulary), D_MODEL)
    norm(decoder.layer_norm)
    linear(decoder.projection, len(vocabulary), D_MODEL)
    for layer in decoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * D_MODEL, D_MODEL)
        linear(layer.self_attention.linear[1], D_MODEL, D_MODEL)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], D_MODEL, D_MODEL)
        linear(layer.attention.linear[1], 2 * D_MODEL, D_MODEL)
        linear(layer.attention.linear[2], D_MODEL, D_MODEL)
        ffn(layer.ffn)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    return spec


def write_ctranslate2_model(output_dir: Path, vocabulary: list[str], seed: int) -> None:
    from ctranslate2.converters import Converter

    class NumpyConverter(Converter):
        def _load(self) -> Any:
            return _tiny_transformer(vocabulary, seed)

    NumpyConverter().convert(str(output_dir), force=True)


BPE_CODES = "#version: 0.2\ne n</w>\ne r</w>\nd e\ni n\nc h\ns t\nu n\na n\n"


def _bpe_vocabulary(codes: Path, from_code: str, to_code: str) -> list[str]:
    """Every token the BPE tokenizer makes of the training sentences, after the special tokens."""
    from argostranslate.tokenizer import BPETokenizer

    tokenizer = BPETokenizer(codes, from_code, to_code)
    tokens = {token for sentence in SENTENCES for token in tokenizer.encode(sentence)}
    return ["<unk>", "<s>", "</s>", *sorted(tokens)]


def build_package(dest: Path, from_code: str, to_code: str, *, tokenizer: str = "sentencepiece",
                  sentencepiece_model: bytes | None = None) -> Path:
    """Write ``translate-FROM_TO-1_0.argosmodel`` into ``dest``: a zip of one directory, as argos expects.

    ``tokenizer`` is ``sentencepiece`` (most Argos packages) or ``bpe`` (Moses tokens + BPE codes).
    """
    name = f"translate-{from_code}_{to_code}-1_0"
    work = dest / f"{name}.build"
    work.mkdir(parents=True, exist_ok=True)
    if tokenizer == "bpe":
        tokenizer_file = work / "bpe.model"
        tokenizer_file.write_text(BPE_CODES, encoding="utf-8")
        vocabulary = _bpe_vocabulary(tokenizer_file, from_code, to_code)
    else:
        import sentencepiece as spm

        tokenizer_file = work / "sentencepiece.model"
        tokenizer_file.write_bytes(sentencepiece_model or train_sentencepiece())
        processor = spm.SentencePieceProcessor(model_file=str(tokenizer_file))
        vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    write_ctranslate2_model(work / "model", vocabulary, seed=sum(map(ord, from_code + to_code)))
    metadata = {
        "package_version": "1.0",
        "argos_version": "1.0",
        "from_code": from_code,
        "from_name": NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": NAMES.get(to_code, to_code),
        "type": "translate",
        "links": [],
    }
    archive = dest / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/metadata.json", json.dumps(metadata, indent=2))
        zf.write(tokenizer_file, f"{name}/{tokenizer_file.name}")
        zf.writestr(f"{name}/README.md", "Tiny random test model: its translations are nonsense.\n")
        for path in sorted((work / "model").iterdir()):
            zf.write(path, f"{name}/model/{path.name}")
    shutil.rmtree(work)
    return archive
