"""The ONNX span reader's plumbing without the model (qa.read.span_onnx, span_tokens): export
keys, the tokenizer set-up and its pruned copy, atomic writes, a damaged export that cannot be
rebuilt. On the real model:
tests/e2e/test_span_onnx.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qa.atomic import write_atomic
from qa.embed import tokens as span_tokens
from qa.errors import ModelError, QAError
from qa.read import span_model, span_onnx


def test_export_is_keyed_by_the_delta_bytes(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(b"one reader")
    b.write_bytes(b"one reader")
    ea, eb = span_onnx.Export.of(tmp_path / "cache", a), span_onnx.Export.of(tmp_path / "cache", b)
    assert ea == eb and ea.dir.is_relative_to(tmp_path / "cache")
    b.write_bytes(b"a retrained reader")
    assert span_onnx.Export.of(tmp_path / "cache", b).onnx != ea.onnx
    assert span_onnx.Export.of(tmp_path / "cache", b).files == ea.files  # shared with the embedder


def test_delta_key_is_remembered_by_path_size_and_mtime(tmp_path, monkeypatch):
    import os

    delta, memo = tmp_path / "reader.safetensors", tmp_path / "export" / "delta-keys.json"
    delta.write_bytes(b"one reader")
    key = span_onnx.delta_key(delta, memo)
    assert memo.exists() and span_onnx.delta_key(delta, memo) == key
    monkeypatch.setattr(span_onnx.hashlib, "sha256", None)  # remembered: not hashed again
    assert span_onnx.delta_key(delta, memo) == key
    monkeypatch.undo()
    delta.write_bytes(b"retrained!")  # same size; a new mtime
    os.utime(delta, ns=(1, 1))
    assert span_onnx.delta_key(delta, memo) != key
    memo.write_text("not json")
    assert span_onnx.delta_key(delta, memo) == span_onnx.delta_key(delta, tmp_path / "other.json")


def _tiny_tokenizer(path):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate("<s> <pad> </s> <unk> q a b c d e".split())}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.save(str(path))


def test_tokenizer_cuts_the_passage_and_pads_to_the_longest(tmp_path):
    _tiny_tokenizer(tmp_path / "tokenizer.json")
    tok = span_tokens.setup(span_tokens.open_tokenizer(tmp_path / "tokenizer.json"), 9)
    enc = span_tokens.Encoded(tok.encode_batch([("q a", "b c d e a b"), ("q", "e")]))
    assert enc["input_ids"].tolist() == [[0, 4, 5, 2, 2, 6, 7, 8, 2], [0, 4, 2, 2, 9, 2, 1, 1, 1]]
    assert enc["attention_mask"].tolist()[1] == [1] * 6 + [0] * 3
    assert enc.sequence_ids(0) == [None, 0, 0, None, None, 1, 1, 1, None]
    assert enc["offset_mapping"][0][5].tolist() == [0, 1]  # offsets into the passage itself


def test_tokenizer_without_pad_token_is_broken(tmp_path):
    from tokenizers import Tokenizer, models

    Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")).save(str(tmp_path / "t.json"))
    with pytest.raises(ValueError, match="<pad>"):
        span_tokens.open_tokenizer(tmp_path / "t.json")


def _unigram(path):
    """A small tokenizer shaped like e5's: specials, NFKC, Metaspace, unigram, pair template."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    pieces = "<s> <pad> </s> <unk> ▁ a b c ab abc ▁ab ▁abc д а ▁да да α β ▁α αβ ▁αβ c. . 1 ▁1"
    vocab = [
        (p, 0.0 if p.startswith("<") else -1.0 - 0.1 * len(p) - 0.01 * i)
        for i, p in enumerate(pieces.split())
    ]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>"])
    tok.save(str(path))


def test_pruned_tokenizer_is_exact_on_covered_text_and_falls_back_otherwise(tmp_path):
    from tokenizers import Tokenizer

    src = tmp_path / "e5" / "tokenizer.json"
    src.parent.mkdir()
    _unigram(src)
    out = tmp_path / "export"
    out.mkdir()
    names = [out / n for n in ("full.json", "pruned.json", "ids.npz")]
    span_tokens.write(src, *names, lambda dest, write_to: write_to(dest))
    tokens = span_tokens.Tokens(*names)
    full = span_tokens.setup(span_tokens.open_tokenizer(src), 12)
    plain = Tokenizer.from_file(str(src))
    assert tokens.pruned.get_vocab_size() < full.get_vocab_size()  # the Greek pieces are gone
    pairs = [("abc", "да abc 1."), ("ab c", "дада " * 9), ("abc", "αβ ab"), ("?", "😉 ab")]
    for i, (q, p) in enumerate(pairs):
        got = tokens.encode([q], [p], 12)
        want = span_tokens.Encoded(full.encode_batch([(q, p)]))
        singles = tokens.singles([q, p], 6)  # one text each, cut as sentence-transformers cuts
        for text, row in zip((q, p), singles):
            ids = plain.encode(text).ids
            assert row.tolist() == (ids if len(ids) <= 6 else ids[:5] + ids[-1:]), text
        assert got.pruned == (i < 2)  # Greek, "?" (no piece of its own) and emoji: the full one
        for key in ("input_ids", "attention_mask", "offset_mapping"):
            assert got[key].tolist() == want[key].tolist(), (key, q, p)
        assert got.sequence_ids(0) == want.sequence_ids(0)


def test_tokens_refuse_a_full_tokenizer_they_were_not_made_from(tmp_path):
    src = tmp_path / "tokenizer.json"
    _unigram(src)
    names = [tmp_path / n for n in ("full.json", "pruned.json", "ids.npz")]
    span_tokens.write(src, *names, lambda dest, write_to: write_to(dest))
    names[0].write_text("{}")
    with pytest.raises(ValueError, match="full.json"):
        span_tokens.Tokens(*names)


def test_tokens_refuse_a_pruned_tokenizer_without_pad(tmp_path):
    # Checked when the tokenizer is opened (an export to write again), not at the first question.
    from tokenizers import Tokenizer, models

    src = tmp_path / "tokenizer.json"
    _unigram(src)
    names = [tmp_path / n for n in ("full.json", "pruned.json", "ids.npz")]
    span_tokens.write(src, *names, lambda dest, write_to: write_to(dest))
    Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")).save(str(names[1]))
    with pytest.raises(ValueError, match="<pad>"):
        span_tokens.Tokens(*names)


def test_damaged_export_that_rebuilding_does_not_fix_is_one_line(tmp_path, monkeypatch):
    from qa.embed import onnx_e5

    ex = span_onnx.Export(tmp_path, onnx_e5.Files(tmp_path / "export"), "0123456789abcdef", "1.32")
    ex.dir.mkdir()
    ex.onnx.write_bytes(b"not a graph")
    loads, writes = [], []
    monkeypatch.setattr(span_onnx, "write", lambda *a: writes.append(a))
    with pytest.raises(ModelError) as err:
        span_onnx.open_reader(ex, 1, 256, lambda: loads.append(1) or "model")
    assert loads == [1] and len(writes) == 1  # one rebuild attempt, not a loop
    assert "\n" not in str(err.value) and "qa build" in str(err.value)


def test_rebuild_from_a_bad_delta_is_the_delta_error(tmp_path):
    from qa.embed import onnx_e5

    ex = span_onnx.Export(tmp_path, onnx_e5.Files(tmp_path / "export"), "0123456789abcdef", "1.32")

    def load():
        raise QAError("trained reader x is unreadable: run `qa train-reader`")

    with pytest.raises(QAError, match="qa train-reader"):
        span_onnx.open_reader(ex, 1, 256, load)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    dest = tmp_path / "reader.onnx"
    dest.write_bytes(b"old")

    def fail(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(dest, fail)
    assert dest.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == [dest.name]
    write_atomic(dest, lambda tmp: tmp.write_bytes(b"new"))
    assert dest.read_bytes() == b"new" and len(list(tmp_path.iterdir())) == 1


def test_span_model_checks_engine_and_delta_before_loading_anything(tmp_path):
    with pytest.raises(QAError, match="onnx or torch"):
        span_model.SpanModel(tmp_path, engine="tensorflow")
    missing = span_model.SpanModel(tmp_path, tmp_path / "none.safetensors", engine="onnx")
    with pytest.raises(QAError, match="qa train-reader"):
        missing.guess("Who?", ["Lavrov."])
    with pytest.raises(QAError, match="qa train-reader"):
        span_model.ensure_exported(tmp_path, tmp_path / "none.safetensors")


def test_importing_the_span_model_is_light():
    code = (
        "import sys, qa.read.span_model, qa.read.span_onnx, qa.embed.tokens; heavy = {'torch', 'transformers', "
        "'sentence_transformers', 'onnxruntime', 'tokenizers', 'safetensors'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
