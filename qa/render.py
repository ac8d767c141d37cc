"""Pure rendering: an answer from Pipeline.ask -> the `qa ask --json` object, plain text, or
safe markdown. Nothing here reads an index or runs a model.

The JSON keys below are a contract scripts rely on: extend it, never rename or drop a key.
"""

from __future__ import annotations

import copy
import html
import re

from qa.types import Answer, Article, Hit

NO_ANSWER = {
    "en": "No answer in the articles.",
    "ru": "В статьях нет ответа на этот вопрос.",
}
UNDERSTOOD = {"en": "Understood as", "ru": "Вопрос понят как"}
# The reader's confidence in words for the chat. The hybrid reader's confidence is a fitted
# probability that the answer is right; it abstains below 0.4 (ReaderParams.threshold), and
# at 0.6 and above about 3 in 4 answers were right even on XQuAD's hard tune articles.
LIKELY = 0.6
CONFIDENCE_WORDS = {"en": ("likely", "uncertain"), "ru": ("вероятно", "не уверен")}


def article_json(a: Article) -> dict:
    return {
        "id": a.id,
        "path": a.path,
        "title": a.title,
        "outlet": a.outlet,
        "published": a.published,
        "language": a.lang,
        "url": a.url,
        "date_uncertain": a.date_uncertain,
        "translation_of": a.translation_of,
    }


def passage_json(articles: dict[str, Article], hit: Hit) -> dict:
    c = hit.chunk
    return {
        "text": c.text,
        "score": round(hit.score, 6),
        "start": c.start,
        "end": c.end,
        "article": article_json(articles[c.article_id]),
        "also_in": [article_json(articles[a]) for a in hit.also_in],
        "dense": None if hit.dense is None else round(hit.dense, 6),
        "lexical": None if hit.lexical is None else round(hit.lexical, 6),
    }


def answer_json(ans: Answer, k: int) -> dict:
    """The stable `qa ask --json` object of an answer from Pipeline.ask."""
    articles = ans.articles
    out = {
        "question": ans.question,
        "language": ans.language,
        "answer": None,
        "passages": [passage_json(articles, h) for h in ans.hits[:k]],
        "question_type": ans.qtype,
        "confidence": ans.score,
        "interpreted_as": ans.interpreted_as,  # a follow-up as understood; None: as asked
    }
    if ans.text is not None:
        s = ans.sentence
        out["answer"] = {
            "text": ans.text,
            "score": ans.score,
            "start": ans.start,
            "end": ans.end,
            "sentence": s.text,
            "sentence_start": s.start,
            "sentence_end": s.end,
            "article": article_json(articles[ans.article_id]),
            "also_in": [article_json(articles[a]) for a in ans.also_in],
        }
        extra = copy.deepcopy(ans.news or {})
        for c in extra.get("corroborated_by", []) + extra.get("conflicts", []):
            c["article"] = article_json(articles[c.pop("article_id")])
        resolved = extra.get("resolved_date")
        out["answer"].update(extra, display=resolved["display"] if resolved else ans.text)
    return out


def confidence_word(score: float, lang: str) -> str:
    likely, uncertain = CONFIDENCE_WORDS.get(lang, CONFIDENCE_WORDS["en"])
    return likely if score >= LIKELY else uncertain


def understood_line(obj: dict) -> str | None:
    """ "Understood as: ..." for a follow-up answered as another question, else None."""
    if not obj.get("interpreted_as"):
        return None
    label = UNDERSTOOD.get(obj["language"], UNDERSTOOD["en"])
    return f"{label}: {obj['interpreted_as']}"


def source_line(a: dict) -> str:
    bits = [b for b in (a.get("outlet"), a.get("published"), a.get("language")) if b]
    return f"{a['title']} ({', '.join(bits)})" if bits else a["title"]


def text(obj: dict, bold=("", "")) -> str:
    """Human-readable answer from the JSON object; ``bold`` wraps the span (ANSI on a tty)."""
    lines = [understood_line(obj)] if obj.get("interpreted_as") else []
    ans = obj["answer"]
    if ans is None:
        lines.append(NO_ANSWER.get(obj["language"], NO_ANSWER["en"]))
    else:
        rel_s, rel_e = ans["start"] - ans["sentence_start"], ans["end"] - ans["sentence_start"]
        sent = ans["sentence"]
        lines.append(ans.get("display") or ans["text"])
        lines.append(f'  "{sent[:rel_s]}{bold[0]}{sent[rel_s:rel_e]}{bold[1]}{sent[rel_e:]}"')
        a = ans["article"]
        lines.append(f"  — {source_line(a)}")
        lines.append(
            f"    {a['path']} [{ans['start']}:{ans['end']}]  id {a['id']}  "
            f"confidence {ans['score']:.2f}"
        )
        for other in ans["also_in"]:
            lines.append(f"    also in: {source_line(other)}  {other['path']}")
        if ans.get("conflicts"):
            lines.append("    the sources differ (newest first):")
            for c in ans["conflicts"]:
                lines.append(f"      {c['text']}  — {source_line(c['article'])}")
        if len(ans.get("reported_by", [])) > 1 or ans.get("corroborated_by"):
            n = len(ans["corroborated_by"])
            lines.append(
                f"    reported by {', '.join(ans['reported_by'])} ({n + 1} articles state it)"
            )
    if obj["passages"]:
        lines.append("")
        lines.append("Sources:")
    for i, p in enumerate(obj["passages"], 1):
        snippet = " ".join(p["text"].split())
        snippet = snippet if len(snippet) <= 160 else snippet[:157] + "..."
        lines.append(
            f"  [{i}] {source_line(p['article'])}  {p['article']['path']} [{p['start']}:{p['end']}]"
        )
        lines.append(f"      {snippet}")
        if p["also_in"]:
            lines.append("      also in: " + "; ".join(source_line(o) for o in p["also_in"]))
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=:])")


def escape_md(s: str) -> str:
    """HTML-escape, then backslash-escape markdown, so article text renders as inert text."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(s, quote=False))
