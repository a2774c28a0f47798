"""Prompt templates are data: loaded from `prompts/`, rendered with the article passed as a variable.

The message layout serves llama.cpp's prompt cache: the system message (instructions and the example) is the
same for every article, the article comes next, and the step's instruction comes last, so two passes over one
article and many articles in a batch share the longest possible prefix.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2

from summarizer.article.model import Article
from summarizer.schema import ActorDraft

Step = Literal["extract", "actors", "claims", "predictions", "warnings", "overview"]
_FILES = ("system.j2", "article.j2", "actors.j2", "step_extract.j2", "step_actors.j2", "step_claims.j2",
          "step_overview.j2", "step_predictions.j2", "step_warnings.j2", "example.md", "cues.json")
CUED_STEPS = ("claims", "predictions", "warnings")


def _template_dir() -> Path:
    """Source checkout first (editable installs), else the installed `summarizer.templates` package."""
    here = Path(__file__).resolve().parents[2] / "prompts"
    if (here / "system.j2").is_file():
        return here
    return Path(str(resources.files("summarizer.templates")))


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_template_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
    )


@cache
def prompt_hash() -> str:
    """sha256 over every template file: part of every cache key and output record."""
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update(name.encode())
        digest.update((_template_dir() / name).read_bytes())
    return digest.hexdigest()


@cache
def _cue_patterns() -> dict[str, re.Pattern[str]]:
    words = json.loads((_template_dir() / "cues.json").read_text(encoding="utf-8"))
    quotes = "|[“”\"]"  # a quotation is a claim's cue too
    return {step: re.compile(rf"\b(?:{words[step]})\b" + (quotes if step == "claims" else ""), re.IGNORECASE)
            for step in CUED_STEPS}


def cued_sentences(article: Article, step: str) -> list[int]:
    """Sentences worth a look in `step`, by the words that mark them (`prompts/cues.json`); [] for other steps.

    A small model lists the first items it notices and stops; naming the sentences that report speech (claims),
    the future (predictions) or a warning spreads its attention over the whole article. A hint in the prompt,
    never a filter: the model may cite any sentence, and the validators check whatever it cites.
    """
    pattern = _cue_patterns().get(step)
    return [s.n for s in article.sentences if pattern.search(s.text)] if pattern else []


@cache
def _example() -> str:
    return (_template_dir() / "example.md").read_text(encoding="utf-8").strip()


def render(name: str, **variables: Any) -> str:
    """Render one template; variables are values, never template source."""
    return _env().get_template(name).render(**variables).strip()


def build_messages(
    article: Article,
    step: Step = "extract",
    *,
    actors: Sequence[ActorDraft] = (),
) -> list[dict[str, str]]:
    """The chat messages for one step over one article."""
    system = render("system.j2", example=_example())
    body = render(
        "article.j2",
        title=article.title or "",
        date=article.date.isoformat() if article.date else "",
        numbered=article.numbered(),
    )
    if actors:
        body = f"{body}\n\n{render('actors.j2', actors=list(actors))}"
    cued = ", ".join(f"[{n}]" for n in cued_sentences(article, step))
    instruction = render(f"step_{step}.j2", cued=cued)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{body}\n\n{instruction}"},
    ]
