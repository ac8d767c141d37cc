"""What ships of the trained span reader (qa.read.span_model): a small fp16 delta of the
trained layers only, attributed to XQuAD under CC BY-SA 4.0. Its answers on the real model:
tests/e2e/test_span_model.py."""

from __future__ import annotations

import json

from qa.read import span_model


def test_shipped_delta_is_small_attributed_and_only_the_trained_layers():
    from safetensors import safe_open

    assert span_model.DELTA.exists(), "qa/models/reader-delta.safetensors must ship"
    assert span_model.DELTA.stat().st_size < 50e6
    with safe_open(str(span_model.DELTA), "pt") as f:
        keys = list(f.keys())
        meta = json.loads(f.metadata()["qa"])
        assert str(f.get_tensor(keys[0]).dtype) == "torch.float16"
    assert keys and all(k.startswith(("bert.encoder.", "qa_outputs.")) for k in keys)
    assert "XQuAD" in meta["data"] and "CC BY-SA 4.0" in meta["data"]
    notice = (span_model.DELTA.parent / "README.md").read_text()
    assert "CC BY-SA 4.0" in notice and "Artetxe" in notice
    assert (span_model.DELTA.parent / "LICENSE-CC-BY-SA-4.0.txt").exists()


class _Enc(dict):
    """A tokenizer output for decode: <s>, a question token, </s>, then one token a word."""

    def __init__(self, text: str):
        import numpy as np

        shift = len(span_model.P_PREFIX)
        offs, at = [(0, 0), (0, 3), (0, 0)], 0
        for w in text.split():
            at = text.index(w, at)
            offs.append((at + shift, at + len(w) + shift))
            at += len(w)
        self.seq = [None, 0, None] + [1] * (len(offs) - 3)
        super().__init__(offset_mapping=np.array([offs]))

    def sequence_ids(self, i):
        return self.seq


def test_decode_best_span_and_runners_up_that_do_not_overlap():
    import numpy as np

    text = "Secretary Antony Blinken and NATO chief Jens Stoltenberg spoke"
    enc = _Enc(text)
    n = len(enc.seq)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    start[0] = end[0] = 1.0  # "no answer"
    start[4], end[5] = 6.0, 6.0  # Antony Blinken: 12
    start[9], end[10] = 4.0, 4.0  # Jens Stoltenberg: 8
    start[3] = 3.0  # "Secretary Antony Blinken" overlaps the best: never a runner-up
    g = span_model.decode(enc, 0, start, end, text, 0, longest=4)
    assert text[g.start : g.end] == "Antony Blinken" and g.score == 12.0 and g.null == 2.0
    others = [text[a:b] for a, b, _ in g.others]
    assert "Jens Stoltenberg" in others and "Secretary Antony Blinken" not in others
    spans = [(g.start, g.end)] + [(a, b) for a, b, _ in g.others]
    for i, (a, b) in enumerate(spans):  # no two overlap
        assert all(b <= c or d <= a for c, d in spans[i + 1 :])
    assert g.mass > g.score  # the log-sum over all starts and ends bounds the best one
    short = span_model.decode(enc, 0, start, end, text, 0, longest=1)
    assert short.end - short.start <= max(len(w) for w in text.split())
