"""e5's tokenizer for the ONNX engine (the embedder's texts and the span reader's pairs): its
tokenizer.json run by the `tokenizers` library (no transformers), set up as transformers' fast
tokenizer would be, and quick to load. One instance per process serves both models.

Loading e5's 250k-piece unigram model takes ~1 s (building its trie holds the GIL throughout):
most of a cold `qa ask`. Most of those pieces are in scripts that English and Russian news do
not use, so the export also writes a pruned copy that keeps every piece made only of COVERED
characters (~130k pieces, ~0.3 s to load). On a text whose normalized characters are all
covered, the unigram lattice holds exactly the pieces the full model would consider, with the
same scores, and no unknown-character nodes (every covered character is a piece of its own):
the best segmentation, offsets and truncation are the same, and the ids map back to e5's. Any
other text (Greek, Chinese, emoji, ...) goes to the full tokenizer, loaded on first need.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

PAD = "<pad>"
# Basic Latin, Latin-1, Cyrillic, general punctuation, currency signs. Latin Extended-A would
# add 11k pieces (~50 ms of loading) for two more of 1474 XQuAD EN/RU texts on the fast path.
COVERED = ((0x20, 0x7F), (0xA0, 0x100), (0x400, 0x500), (0x2010, 0x205F), (0x20A0, 0x20C0))


def setup(tok, max_len: int):
    """``tok`` as transformers sets it for ``tok(q, p, truncation="only_second",
    max_length=max_len, padding=True)``: pairs cut in the passage, padded to the longest."""
    tok.enable_truncation(max_len, strategy="only_second")
    tok.enable_padding(pad_id=tok.token_to_id(PAD), pad_token=PAD)
    return tok


def open_tokenizer(path: Path):
    """A tokenizer.json, checked to have the <pad> token the pair encoding pads with."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    if tok.token_to_id(PAD) is None:
        raise ValueError(f"the tokenizer has no {PAD} token")
    return tok


def prune(full: dict) -> tuple[dict, dict]:
    """(the pruned tokenizer.json, {"chars": the characters it is exact for, "ids": e5's id of
    each of its ids}) from e5's tokenizer.json, parsed."""
    vocab = full["model"]["vocab"]
    specials = {t["content"] for t in full["added_tokens"]}
    space = full["pre_tokenizer"]["replacement"]  # Metaspace's "▁", which words start with
    chars = {p for p, _ in vocab if len(p) == 1 and any(a <= ord(p) < b for a, b in COVERED)}
    chars.add(space)
    keep = [i for i, (p, _) in enumerate(vocab) if p in specials or set(p) <= chars]
    new = {old: i for i, old in enumerate(keep)}
    out = json.loads(json.dumps(full))  # a deep copy
    out["model"]["vocab"] = [vocab[i] for i in keep]
    out["model"]["unk_id"] = new[full["model"]["unk_id"]]
    for t in out["added_tokens"]:
        t["id"] = new[t["id"]]
    for t in out["post_processor"]["special_tokens"].values():
        t["ids"] = [new[i] for i in t["ids"]]
    return out, {"chars": "".join(sorted(chars - {space})) + " ", "ids": np.array(keep, np.int32)}


class Encoded:
    """The parts of a transformers BatchEncoding that span_model.decode and train._targets
    read (``enc["input_ids"]``, ``enc["offset_mapping"]``, ``enc.sequence_ids(i)``), as numpy."""

    def __init__(self, encodings, ids: np.ndarray | None = None):
        self.encodings = encodings
        self.pruned = ids is not None  # which tokenizer made it (for the tests)
        raw = np.array([e.ids for e in encodings], dtype=np.int64)
        self.data = {
            "input_ids": raw if ids is None else ids[raw],
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "offset_mapping": np.array([e.offsets for e in encodings], dtype=np.int64),
        }

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]

    def sequence_ids(self, i: int) -> list[int | None]:
        return self.encodings[i].sequence_ids


class Tokens:
    """Texts and question/passage pairs -> token ids: the pruned tokenizer when it is exact,
    else the full one. One loaded tokenizer serves every length and both uses: the settings are
    made per call, under a lock (they live in the tokenizer object)."""

    def __init__(self, full: Path, pruned: Path, mapping: Path):
        self.full_path = full
        with np.load(mapping) as m:  # npz, not JSON: 130k ids load in ~1 ms instead of ~25
            if full.stat().st_size != int(m["full_bytes"]):  # the full one loads only on need
                raise ValueError(f"{full.name} is not the tokenizer the export was made from")
            self.ids = m["ids"].astype(np.int64)
            self.chars = frozenset(str(m["chars"]))
            self.vocab_size = int(m["vocab_size"])
        self.pruned = open_tokenizer(pruned)
        self._full = None
        self._lock = threading.Lock()

    def _pick(self, texts) -> tuple:
        norm = self.pruned.normalizer.normalize_str
        if all(set(norm(t)) <= self.chars for t in texts):
            return self.pruned, self.ids
        return self.full(), None

    def encode(self, questions: list[str], passages: list[str], max_len: int) -> Encoded:
        """Pairs cut in the passage at ``max_len`` tokens, padded to the longest (span reader)."""
        pairs = list(zip(questions, passages))
        tok, ids = self._pick(t for pair in pairs for t in pair)
        with self._lock:
            setup(tok, max_len)
            return Encoded(tok.encode_batch(pairs), ids)

    def singles(self, texts: list[str], max_len: int) -> list[np.ndarray]:
        """e5's ids of each text, <s> and </s> included, cut at ``max_len`` tokens as
        sentence-transformers cuts (the first max_len - 2 pieces, then </s>)."""
        tok, ids = self._pick(texts)
        with self._lock:
            tok.no_truncation()
            tok.no_padding()
            encs = tok.encode_batch(list(texts))
        out = []
        for e in encs:
            row = np.asarray(e.ids, dtype=np.int64)
            if len(row) > max_len:
                row = np.concatenate([row[: max_len - 1], row[-1:]])
            out.append(row if ids is None else ids[row])
        return out

    def full(self):
        with self._lock:
            if self._full is None:
                self._full = open_tokenizer(self.full_path)
        return self._full


def write(src: Path, full: Path, pruned: Path, mapping: Path, save) -> None:
    """The three tokenizer files of an export from e5's tokenizer.json ``src``, each through
    ``save(dest, write_to)`` (an atomic writer); the mapping last, as it vouches for the rest."""
    raw = src.read_bytes()
    parsed = json.loads(raw)
    small, m = prune(parsed)
    m |= {"full_bytes": len(raw), "vocab_size": len(parsed["model"]["vocab"])}
    save(full, lambda tmp: tmp.write_bytes(raw))
    save(pruned, lambda tmp: tmp.write_text(json.dumps(small, ensure_ascii=False), "utf-8"))
    save(mapping, lambda tmp: _save_npz(tmp, m))


def _save_npz(path: Path, arrays: dict) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a path
        np.savez(f, **arrays)
