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
