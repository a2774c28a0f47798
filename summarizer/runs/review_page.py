"""The CSS and JavaScript of `review.html` (`runs/review.py` embeds them; the page loads nothing else).

Rules the script keeps: data is read with `JSON.parse` from `<script type="application/json">` blocks and reaches
the DOM only through `textContent`, attributes set with `setAttribute`, and `createElement` (never `innerHTML`);
offsets are code points, so the text is split with `Array.from`; verdicts live in `localStorage` (or in memory
when the browser refuses it) under a key per result.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root{--c:#dbeafe;--cb:#2563eb;--p:#fef3c7;--pb:#d97706;--w:#fee2e2;--wb:#dc2626;--x:#dcfce7;--xb:#16a34a;
--line:#d4d4d8;--muted:#52525b;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#18181b}
*{box-sizing:border-box}body{margin:0;height:100vh;display:flex;flex-direction:column}
header{display:flex;gap:12px;align-items:center;padding:6px 12px;border-bottom:1px solid var(--line);
background:#fafafa}header h1{font-size:16px;margin:0;flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
button,select,input,textarea{font:inherit}button{cursor:pointer;border:1px solid var(--line);background:#fff;
border-radius:4px;padding:2px 8px}button:hover{background:#f4f4f5}button.on{background:#18181b;color:#fff}
main{flex:1;display:flex;min-height:0}
#side{width:320px;border-right:1px solid var(--line);display:flex;flex-direction:column;min-height:0}
#tabs{display:flex;border-bottom:1px solid var(--line)}#tabs button{flex:1;border:0;border-radius:0;padding:6px}
#side-body{flex:1;overflow:auto;padding:6px}#side input[type=search]{width:100%;margin-bottom:6px}
.entry{padding:6px;border-bottom:1px solid #eee;cursor:pointer}.entry:hover,.entry.open{background:#f4f4f5}
.entry .t{font-weight:600}.meta{color:var(--muted);font-size:12px}.failed{color:#991b1b}
.pager{display:flex;gap:6px;align-items:center;justify-content:space-between;margin:6px 0}
#view{flex:1;display:flex;flex-direction:column;min-width:0;min-height:0}
#view-head{padding:8px 12px;border-bottom:1px solid var(--line)}#view-head h2{margin:0 0 2px;font-size:18px}
#filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-top:6px}
#panes{flex:1;display:flex;min-height:0}
#text{flex:1;overflow:auto;padding:12px 16px;white-space:pre-wrap;line-height:1.7;font-size:15px}
#items{width:440px;overflow:auto;border-left:1px solid var(--line);padding:8px}
.sent{border-radius:3px;cursor:pointer}.sent::before{content:attr(data-n);font-size:10px;color:#a1a1aa;
vertical-align:super;margin-right:1px}
.sent.kc{background:var(--c)}.sent.kp{background:var(--p)}.sent.kw{background:var(--w)}
.sent.kc.kp{background:linear-gradient(var(--c) 50%,var(--p) 50%)}
.sent.kc.kw,.sent.kp.kw{background:linear-gradient(var(--c) 50%,var(--w) 50%)}
.sent.kx{text-decoration:underline dashed var(--xb)}.sent.sel{outline:2px dashed var(--xb)}
.sent.active{outline:3px solid #7c3aed;background:#ede9fe}mark.q{background:none;border-bottom:2px solid #7c3aed}
.item{border:1px solid var(--line);border-left:5px solid;border-radius:4px;padding:6px 8px;margin:0 0 8px;
background:#fff}.item.claims{border-left-color:var(--cb)}.item.predictions{border-left-color:var(--pb)}
.item.warnings{border-left-color:var(--wb)}.item.added{border-left-color:var(--xb)}
.item.active{box-shadow:0 0 0 3px #c4b5fd}.item.rejected .st{text-decoration:line-through;color:var(--muted)}
.item .hd{display:flex;gap:6px;align-items:baseline;font-size:12px;color:var(--muted)}.item .st{margin:3px 0}
.badge{font-size:11px;font-weight:700;text-transform:uppercase}.flag{background:#fff7ed;border:1px solid #fdba74;
border-radius:3px;padding:1px 4px;font-size:12px}.rv{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px;
align-items:center}.verdict{font-weight:600}.v-accept{color:var(--xb)}.v-reject{color:var(--wb)}.v-fix{color:var(--pb)}
table{border-collapse:collapse;width:100%;font-size:12px}td,th{border-bottom:1px solid #eee;padding:3px 4px;
text-align:left;vertical-align:top}tr.pick{cursor:pointer}tr.pick:hover{background:#f4f4f5}
.maybe{color:#b45309}.summary{margin:4px 0;color:#3f3f46}details{margin:4px 0}
#add{border:1px dashed var(--xb);border-radius:4px;padding:6px;margin-bottom:8px;background:#f0fdf4}
#add textarea{width:100%;height:48px}#export-box{width:100%;height:120px}.empty{color:var(--muted);padding:20px}
h3{font-size:13px;margin:10px 0 4px;text-transform:uppercase;color:var(--muted)}
"""

JS = r"""
(function () {
"use strict";
var KINDS = ["claims", "predictions", "warnings"];
var ONE = {claims: "claim", predictions: "prediction", warnings: "warning"};
var KCLASS = {claims: "kc", predictions: "kp", warnings: "kw"};
var PAGE = 50, PREFIX = "summarizer-review/v1/", VOICE = "article";
var RUN = JSON.parse(document.getElementById("run-data").textContent);
var cache = new Map();
var ui = {tab: "articles", page: 0, apage: 0, query: "", aquery: "", only: null, onlyName: "", current: null,
  kinds: {claims: true, predictions: true, warnings: true}, actor: "", adding: null};

function el(tag, props) {
  var node = document.createElement(tag);
  if (props) {
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = String(v);
      else if (k === "cls") node.className = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    });
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

var store = (function () {
  var ls = null, mem = new Map();
  try { ls = window.localStorage; ls.setItem(PREFIX + "probe", "1"); ls.removeItem(PREFIX + "probe"); }
  catch (e) { ls = null; }
  return {
    get: function (k) {
      try { var v = ls ? ls.getItem(PREFIX + k) : mem.get(k); return v ? JSON.parse(v) : null; }
      catch (e) { return null; }
    },
    set: function (k, v) {
      var s = JSON.stringify(v);
      if (ls) { try { ls.setItem(PREFIX + k, s); return; } catch (e) { /* full or refused: keep in memory */ } }
      mem.set(k, s);
    },
    persistent: function () { return ls !== null; }
  };
})();

function article(i) {
  if (!cache.has(i)) cache.set(i, JSON.parse(document.getElementById("a" + i).textContent));
  return cache.get(i);
}
function review(a) {
  var r = store.get(a.rk);
  if (!r || typeof r !== "object") r = {};
  if (!r.items || typeof r.items !== "object") r.items = {};
  if (!Array.isArray(r.added)) r.added = [];
  return r;
}
function save(a, r) { r.updated = new Date().toISOString(); store.set(a.rk, r); }
function key(kind, item) { return kind + ":" + item.id; }
function verdict(r, kind, item) {
  var v = r.items[key(kind, item)];
  return v && v.s === item.statement ? v : null;  // a verdict on another statement is not this item's
}
function speakerKey(item) { return item.actor_id || VOICE; }
function speakerName(a, k) {
  if (k === VOICE) return VOICE;
  var found = a.actors.filter(function (x) { return x.id === k; })[0];
  return found ? found.name : VOICE;
}
function speakerLabel(a, k) { return k === VOICE ? "(article voice)" : speakerName(a, k); }
function allItems(a) {
  var out = [];
  KINDS.forEach(function (kind) { a[kind].forEach(function (item) { out.push({kind: kind, item: item}); }); });
  return out;
}
function progress(entry) {
  var r = store.get(entry.rk), n = entry.n[1] + entry.n[2] + entry.n[3];
  if (!r || !r.items) return null;
  var done = Object.keys(r.items).length;
  return {done: Math.min(done, n), n: n, added: Array.isArray(r.added) ? r.added.length : 0};
}

// ------------------------------------------------------------------ the side bar: articles, actors, failures

function renderSide() {
  var body = clear(document.getElementById("side-body"));
  document.querySelectorAll("#tabs button").forEach(function (b) {
    b.classList.toggle("on", b.getAttribute("data-tab") === ui.tab);
  });
  if (ui.tab === "articles") renderList(body);
  else if (ui.tab === "actors") renderActors(body);
  else renderFailures(body);
}

function matches(entry) {
  if (ui.only && ui.only.indexOf(entry.id) < 0) return false;
  if (!ui.query) return true;
  var hay = ((entry.title || "") + " " + entry.name + " " + (entry.date || "")).toLowerCase();
  return hay.indexOf(ui.query.toLowerCase()) >= 0;
}

function pager(total, page, go) {
  var pages = Math.max(1, Math.ceil(total / PAGE));
  return el("div", {cls: "pager"},
    el("button", {type: "button", disabled: page <= 0, onclick: function () { go(page - 1); }, text: "‹ prev"}),
    el("span", {cls: "meta", text: "page " + (page + 1) + " of " + pages + " · " + total}),
    el("button", {type: "button", disabled: page >= pages - 1, onclick: function () { go(page + 1); },
      text: "next ›"}));
}

function renderList(body) {
  var search = el("input", {type: "search", placeholder: "Filter by title, name or date", value: ui.query,
    "aria-label": "filter articles"});
  search.addEventListener("input", function () {
    ui.query = search.value; ui.page = 0; renderSide(); focusSearch();
  });
  body.append(search);
  if (ui.only) {
    body.append(el("div", {cls: "meta"}, "Articles of " + ui.onlyName + " ",
      el("button", {type: "button", id: "clear-only", onclick: function () { ui.only = null; renderSide(); },
        text: "show all"})));
  }
  if (RUN.failures.length) {
    body.append(el("div", {cls: "failed", id: "failed-count"}, plural(RUN.failures.length, "article") +
      " failed ", el("button", {type: "button", onclick: function () { ui.tab = "failures"; renderSide(); },
        text: "why?"})));
  }
  var shown = RUN.articles.filter(matches);
  var start = ui.page * PAGE;
  var list = el("div", {id: "list"});
  shown.slice(start, start + PAGE).forEach(function (e) {
    var p = progress(e);
    var row = el("div", {cls: "entry" + (ui.current && ui.current.i === e.i ? " open" : ""), "data-i": e.i,
        onclick: function () { openArticle(e.i); }},
      el("div", {cls: "t", text: e.title || e.name}),
      el("div", {cls: "meta", text: (e.date || "no date") + " · " + e.name}),
      el("div", {cls: "meta", text: plural(e.n[0], "actor") + " · " + plural(e.n[1], "claim") + " · " +
        plural(e.n[2], "prediction") + " · " + plural(e.n[3], "warning")}),
      p ? el("div", {cls: "meta v-accept", text: "reviewed " + p.done + "/" + p.n +
        (p.added ? " · " + p.added + " added" : "")}) : null);
    list.append(row);
  });
  if (!shown.length) list.append(el("div", {cls: "empty", text: "No article matches."}));
  body.append(list, pager(shown.length, ui.page, function (p) { ui.page = p; renderSide(); }));
}

function focusSearch() {
  var s = document.querySelector("#side-body input[type=search]");
  if (s) { s.focus(); s.setSelectionRange(s.value.length, s.value.length); }
}

function byId(id) { return RUN.articles.filter(function (e) { return e.id === id; })[0]; }

function renderActors(body) {
  var search = el("input", {type: "search", placeholder: "Filter actors by name or alias", value: ui.aquery,
    "aria-label": "filter actors"});
  search.addEventListener("input", function () {
    ui.aquery = search.value; ui.apage = 0; renderSide(); focusSearch();
  });
  body.append(search);
  var q = ui.aquery.toLowerCase();
  var rows = RUN.actors.filter(function (r) {
    return !q || [r.name].concat(r.aliases).some(function (n) { return n.toLowerCase().indexOf(q) >= 0; });
  });
  var table = el("table", {id: "actor-index"}, el("tr", null, el("th", {text: "actor"}),
    el("th", {text: "articles"}), el("th", {text: "C/P/W"})));
  rows.slice(ui.apage * PAGE, ui.apage * PAGE + PAGE).forEach(function (r) {
    var who = el("td", null, el("div", {cls: "t", text: r.name}));
    if (r.aliases.length) who.append(el("div", {cls: "meta", text: "aka " + r.aliases.join(", ")}));
    if (r.kinds.length) who.append(el("div", {cls: "meta", text: r.kinds.join(", ")}));
    if (r.maybe.length) who.append(el("div", {cls: "maybe", text: "⚠ possibly the same as " + r.maybe.join(", ")}));
    var arts = el("td");
    r.ids.forEach(function (id) {
      var e = byId(id);
      if (e) arts.append(el("div", null, el("a", {href: "#a" + e.i, text: e.title || e.name,
        onclick: function (ev) { ev.preventDefault(); openArticle(e.i); }})));
    });
    arts.append(el("button", {type: "button", text: "list these", onclick: function () {
      ui.only = r.ids; ui.onlyName = r.name; ui.tab = "articles"; ui.page = 0; renderSide(); }}));
    table.append(el("tr", null, who, arts, el("td", {text: r.n.join("/")})));
  });
  body.append(table, pager(rows.length, ui.apage, function (p) { ui.apage = p; renderSide(); }));
}

function renderFailures(body) {
  if (!RUN.failures.length) { body.append(el("div", {cls: "empty", text: "No article failed."})); return; }
  RUN.failures.forEach(function (f) {
    body.append(el("div", {cls: "entry failure"},
      el("div", {cls: "t failed", text: f.title || f.path || f.article_id || "(input)"}),
      el("div", {cls: "meta", text: (f.stage || "") + " · " + (f.reason || "failed") +
        (f.attempts ? " · " + plural(f.attempts, "attempt") : "")}),
      el("div", {cls: "meta reason", text: f.message || ""}),
      f.path ? el("div", {cls: "meta", text: f.path}) : null));
  });
}

// ------------------------------------------------------------------ one article

function visible(kind, item) {
  return ui.kinds[kind] && (!ui.actor || speakerKey(item) === ui.actor);
}

function openArticle(i) {
  var a = article(i);
  ui.current = a; ui.actor = ""; ui.adding = null;
  if (history.replaceState) history.replaceState(null, "", "#a" + i);
  renderView();
  document.querySelectorAll(".entry[data-i]").forEach(function (n) {
    n.classList.toggle("open", Number(n.getAttribute("data-i")) === i);
  });
}

function renderView() {
  var a = ui.current, view = clear(document.getElementById("view"));
  var r = review(a);
  var head = el("div", {id: "view-head"},
    el("h2", {id: "article-title", text: a.title || a.name}),
    el("div", {cls: "meta", text: [a.date || "no date", a.source, a.path, "model " + a.model]
      .filter(Boolean).join(" · ")}),
    a.summary ? el("div", {cls: "summary", text: a.summary}) : null);
  var actorTable = el("table", {id: "article-actors"}, el("tr", null, el("th", {text: "actor"}),
    el("th", {text: "kind"}), el("th", {text: "role"}), el("th", {text: "aliases"}), el("th", {text: "items"})));
  a.actors.forEach(function (x) {
    var n = allItems(a).filter(function (p) { return p.item.actor_id === x.id; }).length;
    actorTable.append(el("tr", {cls: "pick", title: "show only this actor's items",
      onclick: function () { ui.actor = x.id; renderView(); }},
      el("td", {text: x.name}), el("td", {text: x.kind}), el("td", {text: x.role}),
      el("td", {text: x.aliases.join(", ")}), el("td", {text: String(n)})));
  });
  head.append(el("details", null, el("summary", {text: plural(a.actors.length, "actor") + " (aliases)"}),
    actorTable));
  var filters = el("div", {id: "filters"});
  KINDS.forEach(function (kind) {
    var box = el("input", {type: "checkbox", id: "kind-" + kind, checked: ui.kinds[kind]});
    box.addEventListener("change", function () { ui.kinds[kind] = box.checked; renderView(); });
    filters.append(el("label", {cls: "badge"}, box, " " + kind + " (" + a[kind].length + ")"));
  });
  var pick = el("select", {id: "actor-filter", "aria-label": "filter by actor"},
    el("option", {value: "", text: "every speaker"}));
  a.actors.concat([{id: VOICE, name: "(article voice)"}]).forEach(function (x) {
    pick.append(el("option", {value: x.id, text: x.name, selected: ui.actor === x.id}));
  });
  pick.addEventListener("change", function () { ui.actor = pick.value; renderView(); });
  filters.append(el("label", null, "speaker ", pick),
    el("button", {type: "button", id: "accept-rest", onclick: function () { acceptRest(a); },
      text: "accept all unreviewed"}),
    el("button", {type: "button", id: "add-item", cls: ui.adding ? "on" : "",
      onclick: function () { ui.adding = ui.adding ? null : {sentences: []}; renderView(); },
      text: ui.adding ? "cancel adding" : "+ add a missed item"}));
  head.append(filters);
  var text = el("div", {id: "text", lang: "", tabindex: "0"});
  var items = el("div", {id: "items"});
  view.append(head, el("div", {id: "panes"}, text, items));
  renderText(a, r, text);
  renderItems(a, r, items);
  text.addEventListener("mouseup", function () { if (ui.adding) takeSelection(text); });
}

function renderText(a, r, box) {
  if (!a.has_text) box.append(el("div", {cls: "empty", text: "This result carries no article text; " +
    "the evidence is listed with each item."}));
  var cps = Array.from(a.text);  // code points: the offsets of the result count these, not UTF-16 units
  var cited = new Map(), quotes = [];
  function cite(n, cls, k) {
    if (!cited.has(n)) cited.set(n, {cls: new Set(), keys: []});
    cited.get(n).cls.add(cls); cited.get(n).keys.push(k);
  }
  allItems(a).forEach(function (p) {
    if (!visible(p.kind, p.item)) return;
    var ev = p.item.evidence;
    ev.sentences.forEach(function (s) { cite(s.sentence, KCLASS[p.kind], key(p.kind, p.item)); });
    if (ev.quote) quotes.push([ev.quote.start, ev.quote.end]);
  });
  r.added.forEach(function (x, j) { x.sentences.forEach(function (n) { cite(n, "kx", "added:" + j); }); });
  var pos = 0;
  a.sentences.forEach(function (span, idx) {
    var s = span[0], e = span[1], n = idx + 1;
    if (s > pos) box.append(cps.slice(pos, s).join(""));
    var c = cited.get(n);
    var node = el("span", {cls: "sent" + (c ? " " + Array.from(c.cls).join(" ") : "") +
      (ui.adding && ui.adding.sentences.indexOf(n) >= 0 ? " sel" : ""), "data-n": n});
    var cuts = [s, e];
    quotes.forEach(function (q) {
      if (q[0] < e && q[1] > s) cuts.push(Math.max(q[0], s), Math.min(q[1], e));
    });
    cuts = Array.from(new Set(cuts)).sort(function (x, y) { return x - y; });
    for (var j = 0; j + 1 < cuts.length; j++) {
      var piece = cps.slice(cuts[j], cuts[j + 1]).join("");
      var inQuote = quotes.some(function (q) { return q[0] <= cuts[j] && q[1] >= cuts[j + 1]; });
      node.append(inQuote ? el("mark", {cls: "q", text: piece}) : piece);
    }
    node.addEventListener("click", function () { sentenceClicked(n); });
    box.append(node);
    pos = Math.max(pos, e);
  });
  if (pos < cps.length) box.append(cps.slice(pos).join(""));
}

function sentenceNode(n) { return document.querySelector('#text .sent[data-n="' + Number(n) + '"]'); }

function clearActive() {
  document.querySelectorAll(".active").forEach(function (x) { x.classList.remove("active"); });
}

function focusItem(kind, item) {
  clearActive();
  var nodes = item.evidence.sentences.map(function (s) { return sentenceNode(s.sentence); }).filter(Boolean);
  nodes.forEach(function (x) { x.classList.add("active"); });
  var card = document.querySelector('.item[data-key="' + key(kind, item) + '"]');
  if (card) card.classList.add("active");
  if (nodes.length) nodes[0].scrollIntoView({block: "center"});
}

function sentenceClicked(n) {
  if (ui.adding) {
    var at = ui.adding.sentences.indexOf(n);
    if (at >= 0) ui.adding.sentences.splice(at, 1); else ui.adding.sentences.push(n);
    ui.adding.sentences.sort(function (x, y) { return x - y; });
    var node = sentenceNode(n);
    if (node) node.classList.toggle("sel", at < 0);
    updateAddPanel();
    return;
  }
  clearActive();
  var node2 = sentenceNode(n);
  if (node2) node2.classList.add("active");
  var cards = Array.from(document.querySelectorAll(".item[data-sents]")).filter(function (c) {
    return c.getAttribute("data-sents").split(",").indexOf(String(n)) >= 0;
  });
  cards.forEach(function (c) { c.classList.add("active"); });
  var note = document.getElementById("sentence-note");
  if (note) note.textContent = "Sentence " + n + ": " + (cards.length ? plural(cards.length, "item") :
    "no item cites it");
  if (cards.length) cards[0].scrollIntoView({block: "nearest"});
}

function takeSelection(box) {
  var sel = window.getSelection();
  if (!sel || sel.isCollapsed || !sel.rangeCount) return;
  var range = sel.getRangeAt(0), changed = false;
  box.querySelectorAll(".sent").forEach(function (node) {
    var n = Number(node.getAttribute("data-n"));
    if (range.intersectsNode(node) && ui.adding.sentences.indexOf(n) < 0) {
      ui.adding.sentences.push(n); node.classList.add("sel"); changed = true;
    }
  });
  if (changed) { ui.adding.sentences.sort(function (x, y) { return x - y; }); sel.removeAllRanges(); updateAddPanel(); }
}

function speakerSelect(a, value, id) {
  var s = el("select", {id: id || null, "aria-label": "speaker"});
  a.actors.concat([{id: VOICE, name: "(article voice)"}]).forEach(function (x) {
    s.append(el("option", {value: x.id, text: x.name, selected: value === x.id}));
  });
  return s;
}
function kindSelect(value, id) {
  var s = el("select", {id: id || null, "aria-label": "kind"});
  KINDS.forEach(function (k) { s.append(el("option", {value: k, text: ONE[k], selected: value === k})); });
  return s;
}

function sentenceText(a, n) {
  var span = a.sentences[n - 1];
  return span ? Array.from(a.text).slice(span[0], span[1]).join("") : "";
}

function updateAddPanel() {
  var a = ui.current, chosen = document.getElementById("add-chosen");
  if (!chosen) return;
  chosen.textContent = ui.adding.sentences.length ? "sentences " + ui.adding.sentences.join(", ") :
    "click sentences in the text (or select text) to cite them";
  var st = document.getElementById("add-statement");
  if (st && !st.getAttribute("data-typed")) {
    st.value = ui.adding.sentences.map(function (n) { return sentenceText(a, n); }).join(" ");
  }
}

function renderItems(a, r, box) {
  box.append(el("div", {id: "sentence-note", cls: "meta"}));
  if (ui.adding) {
    var statement = el("textarea", {id: "add-statement", placeholder: "the item as one neutral sentence"});
    statement.addEventListener("input", function () { statement.setAttribute("data-typed", "1"); });
    var kind = kindSelect("claims", "add-kind"), who = speakerSelect(a, VOICE, "add-speaker");
    box.append(el("div", {id: "add"}, el("div", {cls: "t", text: "Add a missed item"}),
      el("div", {id: "add-chosen", cls: "meta"}), el("label", null, "kind ", kind), " ",
      el("label", null, "speaker ", who), statement,
      el("button", {type: "button", id: "add-save", text: "save item", onclick: function () {
        if (!ui.adding.sentences.length || !statement.value.trim()) {
          document.getElementById("add-chosen").textContent = "choose at least one sentence and write the item";
          return;
        }
        r.added.push({kind: kind.value, actor: who.value, sentences: ui.adding.sentences.slice(),
          statement: statement.value.trim()});
        save(a, r); ui.adding = null; renderView(); renderSide();
      }})));
    updateAddPanel();
  }
  KINDS.forEach(function (kind) {
    var shown = a[kind].filter(function (item) { return visible(kind, item); });
    if (!ui.kinds[kind]) return;
    box.append(el("h3", {text: kind + " (" + shown.length + (shown.length !== a[kind].length ?
      " of " + a[kind].length : "") + ")"}));
    shown.forEach(function (item) { box.append(itemCard(a, r, kind, item)); });
  });
  if (r.added.length) {
    box.append(el("h3", {text: "added by you (" + r.added.length + ")"}));
    r.added.forEach(function (x, j) {
      box.append(el("div", {cls: "item added", "data-sents": x.sentences.join(","), "data-key": "added:" + j},
        el("div", {cls: "hd"}, el("span", {cls: "badge", text: ONE[x.kind] || x.kind}),
          el("span", {text: speakerLabel(a, x.actor)}), el("span", {text: "sentences " + x.sentences.join(", ")})),
        el("div", {cls: "st", text: x.statement}),
        el("button", {type: "button", text: "remove", onclick: function () {
          r.added.splice(j, 1); save(a, r); renderView(); renderSide(); }})));
    });
  }
}

function itemCard(a, r, kind, item) {
  var v = verdict(r, kind, item), ev = item.evidence;
  var nums = ev.sentences.map(function (s) { return s.sentence; });
  var card = el("div", {cls: "item " + kind + (v && v.v === "reject" ? " rejected" : ""),
    "data-key": key(kind, item), "data-sents": nums.join(",")});
  card.append(el("div", {cls: "hd"}, el("span", {cls: "badge", text: ONE[kind]}),
    el("span", {cls: "who", text: item.actor}), el("span", {text: item.id + " · sentences " + nums.join(", ")}),
    v ? el("span", {cls: "verdict v-" + v.v, text: v.v === "accept" ? "accepted" : v.v === "reject" ?
      "rejected" : "fixed"}) : null),
    el("div", {cls: "st", text: item.statement}));
  if (ev.quote) card.append(el("div", {cls: "meta", text: "quote: “" + ev.quote.text + "”"}));
  if (kind === "predictions") {
    var when = item.timeframe_text ? "when: " + item.timeframe_text : "when: not given";
    if (item.timeframe) {
      when += " → " + item.timeframe.start + (item.timeframe.end !== item.timeframe.start ?
        " – " + item.timeframe.end : "") + " (" + item.timeframe.rule + ")";
    } else if (item.timeframe_text) when += " → not resolved";
    card.append(el("div", {cls: "meta timeframe", text: when}));
    card.append(el("div", {cls: "meta", text: "certainty: " + item.certainty +
      (item.condition ? " · if " + item.condition : "")}));
  }
  if (kind === "warnings") {
    var parts = [];
    if (item.addressees.length) parts.push("to " + item.addressees.join(", "));
    if (item.consequence) parts.push("consequence: " + item.consequence);
    if (item.condition) parts.push("if " + item.condition);
    if (parts.length) card.append(el("div", {cls: "meta", text: parts.join(" · ")}));
  }
  if (ev.re_anchored_from) {
    card.append(el("div", {cls: "flag re-anchored", text: "re-anchored: the model cited sentence(s) " +
      ev.re_anchored_from.join(", ") + "; the statement copies sentence(s) " + nums.join(", ")}));
  }
  var fixSpeaker = speakerSelect(a, v && v.actor ? v.actor : speakerKey(item));
  var fixKind = kindSelect(v && v.kind ? v.kind : kind);
  function set(value) {
    if (value === null) delete r.items[key(kind, item)];
    else r.items[key(kind, item)] = value;
    save(a, r); renderView(); renderSide(); focusItem(kind, item);
  }
  card.append(el("div", {cls: "rv"},
    el("button", {type: "button", cls: "accept" + (v && v.v === "accept" ? " on" : ""), text: "accept",
      onclick: function (ev2) { ev2.stopPropagation(); set({v: "accept", s: item.statement}); }}),
    el("button", {type: "button", cls: "reject" + (v && v.v === "reject" ? " on" : ""), text: "reject",
      onclick: function (ev2) { ev2.stopPropagation(); set({v: "reject", s: item.statement}); }}),
    fixSpeaker, fixKind,
    el("button", {type: "button", cls: "fix" + (v && v.v === "fix" ? " on" : ""), text: "fix",
      onclick: function (ev2) {
        ev2.stopPropagation();
        set({v: "fix", s: item.statement, actor: fixSpeaker.value, kind: fixKind.value});
      }}),
    v ? el("button", {type: "button", cls: "undo", text: "undo", onclick: function (ev2) {
      ev2.stopPropagation(); set(null); }}) : null));
  [fixSpeaker, fixKind].forEach(function (s) { s.addEventListener("click", function (e) { e.stopPropagation(); }); });
  card.addEventListener("click", function () { focusItem(kind, item); });
  return card;
}

function acceptRest(a) {
  var r = review(a);
  allItems(a).forEach(function (p) {
    if (!verdict(r, p.kind, p.item)) r.items[key(p.kind, p.item)] = {v: "accept", s: p.item.statement};
  });
  save(a, r); renderView(); renderSide();
}

// ------------------------------------------------------------------ export: verdicts → gold (fixtures/gold/)

function gold(a, r) {
  var counts = {accepted: 0, fixed: 0, rejected: 0, added: 0, unreviewed: 0};
  var g = {article: a.file, article_id: a.id, _origin: "", text: a.text,
    actors: a.actors.map(function (x) { return {name: x.name, aliases: x.aliases, kind: x.kind}; }),
    claims: [], predictions: [], warnings: []};
  allItems(a).forEach(function (p) {
    var v = verdict(r, p.kind, p.item);
    var nums = p.item.evidence.sentences.map(function (s) { return s.sentence; });
    if (!v) { counts.unreviewed++; return; }
    if (v.v === "reject" || !nums.length) { counts.rejected++; return; }
    var fixed = v.v === "fix", kind = fixed && KINDS.indexOf(v.kind) >= 0 ? v.kind : p.kind;
    var item = {actor: speakerName(a, fixed && v.actor ? v.actor : speakerKey(p.item)), sentences: nums,
      statement: p.item.statement};
    if (kind === "predictions" && p.kind === "predictions" && p.item.timeframe) {
      item.timeframe_end = p.item.timeframe.end;
    }
    g[kind].push(item);
    counts[fixed ? "fixed" : "accepted"]++;
  });
  r.added.forEach(function (x) {
    if (KINDS.indexOf(x.kind) < 0 || !x.sentences.length) return;
    g[x.kind].push({actor: speakerName(a, x.actor), sentences: x.sentences, statement: x.statement});
    counts.added++;
  });
  g._origin = "reviewed by hand in summarizer's review.html on " + new Date().toISOString().slice(0, 10) +
    " from a run of model " + a.model + ": " + counts.accepted + " accepted, " + counts.fixed + " fixed, " +
    counts.rejected + " rejected, " + counts.added + " added; " + counts.unreviewed +
    " items without a verdict left out; actors as the run found them (not reviewed)";
  return g;
}

function exportGold() {
  var out = [];
  RUN.articles.forEach(function (e) {
    var r = store.get(e.rk);
    if (!r || !r.items || (!Object.keys(r.items).length && !(r.added || []).length)) return;
    out.push(gold(article(e.i), review(article(e.i))));
  });
  var text = JSON.stringify(out, null, 1) + "\n";
  var box = document.getElementById("export-box");
  box.value = text;
  document.getElementById("export-panel").open = true;
  document.getElementById("export-note").textContent = out.length ? "gold for " + plural(out.length, "article") +
    ": run `summarizer eval review-gold.json OUT`" : "no verdicts yet: accept, reject, fix or add items first";
  if (!out.length) return;
  var url = URL.createObjectURL(new Blob([text], {type: "application/json"}));
  var link = el("a", {href: url, download: "review-gold.json"});
  document.body.append(link); link.click(); link.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
}

// ------------------------------------------------------------------ start

function start() {
  document.title = RUN.title;
  var side = el("nav", {id: "side"}, el("div", {id: "tabs"}), el("div", {id: "side-body"}));
  [["articles", "Articles (" + RUN.articles.length + ")"], ["actors", "Actors (" + RUN.actors.length + ")"],
   ["failures", "Failed (" + RUN.failures.length + ")"]].forEach(function (t) {
    side.firstChild.append(el("button", {type: "button", "data-tab": t[0], text: t[1],
      onclick: function () { ui.tab = t[0]; renderSide(); }}));
  });
  var header = el("header", null, el("h1", {text: RUN.title}),
    store.persistent() ? null : el("span", {cls: "failed", text: "verdicts are not saved: this browser " +
      "refuses local storage for this page; export before closing it"}),
    el("button", {type: "button", id: "export", onclick: exportGold, text: "Export gold"}),
    el("details", {id: "export-panel"}, el("summary", {text: "export"}), el("div", {id: "export-note", cls: "meta"}),
      el("textarea", {id: "export-box", readonly: true, "aria-label": "exported gold"})));
  var view = el("section", {id: "view"}, el("div", {cls: "empty", text: RUN.articles.length ?
    "Choose an article." : "This run has no results yet."}));
  document.body.append(header, el("main", null, side, view));
  renderSide();
  var m = /^#a(\d+)$/.exec(location.hash);
  if (m && document.getElementById("a" + m[1])) openArticle(Number(m[1]));
  window.summarizerReview = {ready: performance.now(), articles: RUN.articles.length};
}
start();
})();
"""
