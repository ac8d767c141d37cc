"""qa: question answering over English and Russian news articles, with answers quoted
verbatim from the articles and the exact passage they came from (or an honest "no answer").

    >>> from qa import Pipeline, Settings, build
    >>> settings = Settings(corpus="corpus", index="index")
    >>> report = build(settings)              # incremental: embeds only new or changed articles
    >>> answer = Pipeline(settings).ask("When did the US send its written response?")
    >>> answer.text, answer.article_id, (answer.start, answer.end)
    ('January 26', '14f66b90a5d5', (2305, 2315))
    >>> from qa import render; render.answer_json(answer, k=5)["answer"]["text"]
    'January 26'

Expected failures raise QAError (and its subclasses in qa.errors) with a one-line message that
says what to do. The names below load lazily, so `import qa` stays cheap.
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["Pipeline", "build", "add", "Settings", "Answer", "QAError"]

_WHERE = {
    "Pipeline": "qa.pipeline",
    "build": "qa.indexer",
    "add": "qa.intake",
    "Settings": "qa.config",
    "Answer": "qa.types",
    "QAError": "qa.errors",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
