"""Small hand-made data shared by unit and e2e tests: a five-article corpus, a deterministic
fake embedder, an in-memory index built from them, and a tiny parallel SQuAD pair."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from qa.embed.embedder import DIM
from qa.ingest import chunker, corpus
from qa.store import faiss_index
from qa.store.catalog import Entry
from qa.types import Article

ARTICLES = {
    "en/geneva.txt": "Lavrov met Blinken in Geneva\n\nLavrov and Blinken held talks in Geneva "
    "on January 21. They spoke for two hours. Both sides called the talks useful.\n",
    "en/kyiv.txt": "Blinken visits Kyiv\n\nAntony Blinken arrived in Kyiv on January 19. He met "
    "President Zelensky. The visit lasted one day.\n",
    "en/nato.txt": "NATO answers Moscow\n\nNATO sent its written answer on January 26. Jens "
    "Stoltenberg presented it in Brussels. Moscow said it would study the text.\n",
    "ru/geneva.txt": "Лавров встретился с Блинкеном в Женеве\n\nЛавров и Блинкен провели "
    "переговоры в Женеве 21 января. Они говорили два часа. Стороны назвали встречу полезной.\n",
    "ru/kyiv.txt": "Блинкен прибыл в Киев\n\nЭнтони Блинкен прибыл в Киев 19 января. Он "
    "встретился с президентом Зеленским. Визит продлился один день.\n",
}
NEW = (
    "Zorvian envoy in Tallinn\n\nThe Zorvian ambassador signed the accord in Tallinn on "
    "3 March 2022. The ceremony was brief. Quokkaberry wine was served.\n"
)


class FakeEmbedder:
    """The Embedder interface with deterministic unit vectors; counts what it is asked to embed.

    Every text gets a fixed random unit vector (seeded by a hash of the text), so tests run in
    seconds and can count exactly what each build embeds."""

    def __init__(self, model_id: str = "fake/hash-embedder"):
        self._model_id = model_id
        self.embedded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @staticmethod
    def _vec(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return self._encode(texts)


def article(path: str, text: str, **kw) -> Article:
    """An Article as corpus.load makes it from ``text`` ("title\\n\\nbody") at ``path``."""
    lang = kw.pop("lang", path.split("/")[0] if path.startswith(("en/", "ru/")) else "en")
    return Article(
        id=corpus.article_id(path),
        path=path,
        title=text.split("\n")[0],
        lang=lang,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
        **kw,
    )


def unit(i: int) -> np.ndarray:
    """A unit vector along axis ``i``: cosine 1 with itself, 0 with any other axis."""
    v = np.zeros(DIM, np.float32)
    v[i] = 1.0
    return v


# Text edge cases every parser of user or article text must survive (STYLE.md).
EDGE_TEXTS = {
    "empty": "",
    "question-mark": "?",
    "yolka": "ёлка",
    "mixed": "Путин met Biden",
    "emoji": "😉",
}


def memory_index(
    articles: list[Article],
    vec: Callable[[str], np.ndarray] = FakeEmbedder._vec,
    size: int = 3,
    stride: int = 1,
) -> faiss_index.Index:
    """An index held in memory only: the articles chunked as a build does, every sentence and
    window embedded by ``vec`` (the fake embedder's unless a test picks the vectors)."""
    entries = []
    for a in articles:
        sents = chunker.sentences(a)
        chunks = chunker.chunks(a, sents, size, stride)
        svecs = np.array([vec(s.text) for s in sents], np.float32).reshape(-1, DIM)
        cvecs = np.array([vec(c.text) for c in chunks], np.float32).reshape(-1, DIM)
        entries.append(Entry(a, sents, chunks, svecs, cvecs))
    index = faiss_index.Index(entries, {"dim": DIM})
    index.version = "v-memory"
    return index


SQUAD_EN = {
    "version": "1.1",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "The Panthers defense gave up just 308 points. Kawann Short led the team.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "How many points did the Panthers defense surrender?",
                            "answers": [{"answer_start": 34, "text": "308"}],
                        },
                        {
                            "id": "q2",
                            "question": "Who led the team?",
                            "answers": [{"answer_start": 46, "text": "Kawann Short"}],
                        },
                    ],
                },
                {
                    "context": "Lavrov and Blinken held talks in Geneva on January 21.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Where did Lavrov and Blinken hold talks?",
                            "answers": [{"answer_start": 33, "text": "Geneva"}],
                        }
                    ],
                },
            ],
        }
    ],
}
SQUAD_RU = {
    "version": "1.1",
    "data": [
        {
            "title": "t",
            "paragraphs": [
                {
                    "context": "Лавров и Блинкен провели переговоры в Женеве 21 января.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Где Лавров и Блинкен провели переговоры?",
                            "answers": [{"answer_start": 37, "text": "Женеве"}],
                        }
                    ],
                },
                {
                    "context": "\ufeffЗащита Пэнтерс уступила всего 308 очков. Кейван Шорт лидировал в команде.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Сколько очков уступила защита Пэнтерс?",
                            "answers": [{"answer_start": 31, "text": "308"}],
                        },
                        {
                            "id": "q2",
                            "question": "Кто лидировал в команде?",
                            "answers": [{"answer_start": 41, "text": "Кейван Шорт"}],
                        },
                    ],
                },
            ],
        }
    ],
}


def load_index(settings) -> faiss_index.Index:
    """The live FAISS index version of ``settings.index``."""
    return faiss_index.load(settings.index)


def indexed_paths(idx) -> set[str]:
    return {a.path for a in idx.articles.values()}


def n_texts(idx, path: str) -> int:
    """Chunks + sentences of one article: what embedding it costs."""
    e = next(e for e in idx.entries if e.article.path == path)
    return len(e.chunks) + len(e.sentences)
