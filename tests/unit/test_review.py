"""review.html without a browser: the data blocks cannot end early, and the export is gold `summarizer eval` reads
(the browser itself is driven in tests/http/test_review_page.py)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from fixtures_lib import SEED, answer

from summarizer import Summarizer
from summarizer.article.readers import read_article
from summarizer.eval.gold import gold_article, load_gold_dir
from summarizer.models.testing import ScriptedBackend
from summarizer.runs.review import render_review, script_json


def test_script_json_cannot_close_or_comment_its_element() -> None:
    data = {"text": "a </script><script>alert(1)</script> <!-- x --> & 😀"}
    encoded = script_json(data)
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == data


def test_page_holds_each_article_as_data_and_every_sentence() -> None:
    seed = answer("zelensky-north-korea")
    with Summarizer(backend=ScriptedBackend(script=lambda request: seed)) as summarizer:
        summary = summarizer.summarize(SEED)
    hostile = summary.model_copy(update={"article": summary.article.model_copy(
        update={"title": "</script><script>window.x = 1</script>"})})
    page = io.StringIO()
    assert render_review([("seed", hostile)], page, title="Review </title><script>") == 1
    text = page.getvalue()
    assert text.count("<script") == 3 and text.count("</script>") == 3  # article, run data, the page's script
    assert "<title>Review &lt;/title&gt;&lt;script&gt;</title>" in text
    block = re.search(r'<script type="application/json" id="a0">(.*?)</script>', text, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["title"] == hostile.article.title and data["text"] == summary.article.text
    assert len(data["sentences"]) == summary.article.sentences  # every sentence, cited or not


def test_an_export_is_gold_that_carries_its_text(tmp_path: Path) -> None:
    article = read_article(SEED)
    export = tmp_path / "review-gold.json"
    export.write_text(json.dumps([{
        "article": "zelensky-north-korea.txt", "article_id": article.id, "_origin": "reviewed by hand",
        "text": article.text, "actors": [{"name": "Lloyd Austin", "aliases": [], "kind": "person"}],
        "claims": [{"actor": "Lloyd Austin", "sentences": [35], "statement": "Putin is weak."}]}]), encoding="utf-8")
    [(path, gold)] = load_gold_dir(export)
    assert gold_article(gold, path, tmp_path / "nowhere").id == article.id  # no articles folder needed
