"""一键查询: Chinese search over the service catalogue.

Interface (stable):

    search_items(q, *, department=None, type=None, event=None, proxy=None,
                 limit=20, offset=0) -> SearchResult(total, items)
    index_items(items) -> None     # rebuild the items' SearchTerm rows in bulk
    index_item(item) -> None       # the same for one item
    reindex_all() -> int

Design: an inverted index in our own table (`SearchTerm`: term, item, weight) and the same
SQL on SQLite and PostgreSQL, rather than SQLite FTS5 or PostgreSQL pg_trgm / tsvector:

- trigram indexes (FTS5 `trigram`, pg_trgm) only help queries of 3 or more characters, and
  most words residents type are 2 (低保, 医保, 社保, 年审) — see /work/shared/TESTING.md;
- PostgreSQL here has no Chinese parser (no zhparser / pg_jieba), so its full-text search
  would need our segmentation anyway;
- FTS5's bm25 and PostgreSQL's ts_rank score differently: the relevance set would pass on
  one database and not the other. One table and one query give one ranking on both;
- the index has to hold what neither engine knows: pinyin (full and initials) so
  `laonianzheng` and `lnz` find 老年证, and per-field weights (name > alias > department
  and life event > materials > FAQ).

Terms per item (weights by field, a term keeps its highest weight): jieba `cut_for_search`
words of the name, aliases, department, life events, material names and FAQ questions;
character bigrams of the name and aliases (so a word jieba splits differently still
meets); the whole name and each alias; full pinyin and initials (pypinyin) of the name,
the aliases and their words. jieba's dictionary gets the catalogue's aliases, the synonym
phrases and the words in seed_data/search_words.json, so 年审, 老年证, 低保 are words (not
the names: see _add_words).

A query is normalised (NFKC: full-width → half-width; lower case; punctuation → space),
its stop words dropped (data: seed_data/search_words.json), segmented the same way,
expanded with the other phrases of every `Synonym` group it mentions (低保 ↔ 最低生活保障),
and — when it is all ASCII letters — matched as pinyin, the last syllable also as a prefix
(`laonianzh` while the resident is still typing). The score is Σ weight × idf over the
matched terms, computed in SQL (GROUP BY item ORDER BY score); then a small re-rank of the
top candidates in Python: an exact name or alias first, then names or aliases containing
the whole query, shorter names first among equals. `total` counts the items scoring at
least MIN_SHARE of the best, so a stray shared bigram does not make every item a match.

jieba loads its dictionary lazily, once per process (about 0.7 s on the first search or
index; later calls take microseconds). A process that loaded it before an item got a new
alias segments that alias as ordinary text until it restarts; the alias's bigrams and pinyin
still find it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from django.db import connection, transaction

from wangge.services.access import visible_items
from wangge.services.models import ItemType, LifeEvent, SearchTerm, ServiceItem, Synonym

logger = logging.getLogger(__name__)

#: field weights: name > alias > department / life event > materials > FAQ
W_NAME, W_ALIAS, W_DEPT, W_EVENT, W_MATERIAL, W_FAQ = 10.0, 8.0, 3.0, 3.0, 1.5, 1.0
#: a bigram or a single character counts less than a word of the same field
BIGRAM_SHARE, CHAR_SHARE, PINYIN_SHARE = 0.5, 0.3, 0.9
#: query terms: a word 1, a bigram of the query 0.5, a synonym's phrase 0.8, a pinyin
#: prefix expansion 0.6
Q_WORD, Q_BIGRAM, Q_SYNONYM, Q_PREFIX = 1.0, 0.5, 0.8, 0.6
#: a term found in more than this share of the items is dropped from a query that has
#: rarer terms (申请, 证明): it hardly ranks and costs the most rows to sum
COMMON_SHARE = 0.1
#: items scoring below this share of the best are not matches (see module docstring)
MIN_SHARE = 0.12
#: candidates re-ranked in Python
WINDOW = 50
#: pinyin spellings a prefix expands to, at most
PREFIX_TERMS = 30
TERM_MAX = 64

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]+")
_ASCII_QUERY = re.compile(r"^[a-z ]+$")


@dataclass(frozen=True)
class SearchResult:
    total: int
    items: list[ServiceItem]


# -- vocabulary and tokenizer ------------------------------------------------------------

@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    return json.loads(resources.files("wangge.services.seed_data")
                      .joinpath("search_words.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(_vocabulary()["stop_words"])


@lru_cache(maxsize=1)
def _stop_phrases() -> list[str]:
    """Multi-character stop words, longest first (removed from the query as substrings)."""
    return sorted((w for w in stop_words() if len(w) > 1 and not w.isascii()),
                  key=len, reverse=True)


_tokenizer: Any = None
_tokenizer_lock = threading.Lock()


def _jieba() -> Any:
    """The process's jieba tokenizer, loaded on first use (~0.7 s), with the catalogue's
    vocabulary added."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            _add_words(tk, [*_vocabulary()["words"],
                            *Synonym.objects.values_list("phrase", flat=True)], exact=True)
            _add_words(tk, [a for aliases in ServiceItem.objects.filter(
                current__isnull=False).values_list("current__aliases", flat=True)
                for a in aliases or []])
            _tokenizer = tk
    return _tokenizer


def _add_words(tk: Any, words: Iterable[str], *, exact: bool = False) -> None:
    """Add words to jieba's dictionary. `exact`: with the frequency jieba needs to keep the
    word whole (slow, ~1 ms a word: for the vocabulary and synonyms); otherwise a fixed
    high frequency (aliases: 100,000 items' worth stay fast). Item names are not added: a
    whole name as one word would hide its words of 4 or more characters (最低生活保障)
    from `cut_for_search`, which splits a long word only into 2- and 3-character parts."""
    for w in words:
        w = normalize(w).replace(" ", "")
        if len(w) >= 2 and not w.isascii() and not tk.FREQ.get(w):
            tk.add_word(w, freq=max(tk.suggest_freq(w), 5000) if exact else 50000)


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and brackets to half-width), lower case,
    punctuation and spaces to one space."""
    return _PUNCT.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def segment(text: str) -> list[str]:
    """jieba's search-mode words of normalised text (a word and its parts), no spaces."""
    return list(_segment(text, id(_jieba())))


@lru_cache(maxsize=50000)
def _segment(text: str, _tokenizer_id: int) -> tuple[str, ...]:
    # material names and FAQ questions repeat across items: segment each once
    tk = _jieba()
    out: list[str] = []
    for part in normalize(text).split():
        out += [w for w in tk.cut_for_search(part, HMM=True) if w.strip()]
    return tuple(out)


def bigrams(text: str) -> list[str]:
    out = []
    for run in _CJK.findall(normalize(text)):
        out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


@lru_cache(maxsize=20000)
def pinyin(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters of `text`: 老年证 → laonianzheng,
    lnz. Non-Chinese characters are dropped."""
    from pypinyin import Style, lazy_pinyin

    han = "".join(_CJK.findall(text))
    if not han:
        return "", ""
    syllables = lazy_pinyin(han, style=Style.NORMAL, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables if s)


# -- indexing ------------------------------------------------------------------------------

def item_terms(item: ServiceItem) -> dict[str, float]:
    """The index terms of an item's published guide and their weights."""
    version = item.current
    if version is None:
        return {}
    terms: dict[str, float] = {}

    def put(term: str, weight: float) -> None:
        term = term[:TERM_MAX]
        if term and term not in stop_words() and weight > terms.get(term, 0.0):
            terms[term] = weight

    def words(text: str, weight: float, *, chars: bool = False) -> list[str]:
        found = segment(text)
        for w in found:
            if len(w) > 1:
                put(w, weight)
            elif chars and _CJK.match(w):
                put(w, weight * CHAR_SHARE)
        return found

    def spelled(text: str, weight: float) -> None:
        full, initials = pinyin(text)
        put(full, weight * PINYIN_SHARE)
        if len(initials) >= 2:
            put(initials, weight * PINYIN_SHARE)

    for text, weight in [(version.name, W_NAME), *((a, W_ALIAS) for a in version.aliases)]:
        whole = normalize(text).replace(" ", "")
        put(whole, weight)
        for b in bigrams(text):
            put(b, weight * BIGRAM_SHARE)
        for w in words(text, weight, chars=weight == W_NAME):
            if len(w) > 1:
                spelled(w, weight)
        spelled(text, weight)
    words(item.department.name, W_DEPT)
    labels = dict(LifeEvent.choices)
    for event in version.events:
        words(str(labels.get(event, event)), W_EVENT)
    for material in version.materials:
        words(material.get("name", ""), W_MATERIAL)
    for faq in version.faq:
        words(faq.get("q", ""), W_FAQ)
    return terms


def index_items(items: Iterable[ServiceItem]) -> None:
    """Rebuild the search terms of these items (their published versions) in bulk: the
    catalogue import calls it once for all the items it changed. 664 items take 0.5-1 s,
    most of it jieba and pypinyin (rows go in by plain executemany)."""
    ids = [i.pk for i in items]
    if not ids:
        return
    loaded = list(ServiceItem.objects.filter(pk__in=ids)
                  .select_related("current", "department"))
    tk = _jieba()
    _add_words(tk, [w for i in loaded if i.current for w in i.current.aliases])
    rows = [(t, i.pk, round(w, 3)) for i in loaded if i.active
            for t, w in item_terms(i).items()]
    table = SearchTerm._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        for chunk in range(0, len(ids), 500):
            SearchTerm.objects.filter(item_id__in=ids[chunk:chunk + 500]).delete()
        # plain executemany: model instances cost more than jieba does at this size
        for chunk in range(0, len(rows), 5000):
            cur.executemany(f"INSERT INTO {table} (term, item_id, weight) VALUES (%s, %s, %s)",
                            rows[chunk:chunk + 5000])


def index_item(item: ServiceItem) -> None:
    index_items([item])


def reindex_all() -> int:
    """Rebuild the whole index (e.g. after the vocabulary changed); returns the items."""
    items = list(ServiceItem.objects.filter(active=True, current__isnull=False))
    with transaction.atomic():
        SearchTerm.objects.all().delete()
        for chunk in range(0, len(items), 2000):
            index_items(items[chunk:chunk + 2000])
    return len(items)


# -- querying ------------------------------------------------------------------------------

def _synonym_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group, phrase in Synonym.objects.values_list("group", "phrase"):
        groups.setdefault(group, []).append(normalize(phrase).replace(" ", ""))
    return groups


def query_terms(q: str) -> dict[str, float]:
    """The weighted terms a query looks up (exact terms; pinyin prefixes are marked with a
    trailing '*')."""
    text = normalize(q)
    if not text:
        return {}
    terms: dict[str, float] = {}

    def put(term: str, weight: float) -> None:
        term = term[:TERM_MAX]
        if term and weight > terms.get(term, 0.0):
            terms[term] = weight

    if _ASCII_QUERY.match(text):  # pinyin, as residents type it on a phone
        parts = [p for p in text.split() if p not in stop_words()]
        if not parts:
            return {}
        joined = "".join(parts)
        for p in {*parts, joined}:
            put(p, Q_WORD)
        if len(joined) >= 2:
            put(joined + "*", Q_PREFIX)
        return terms
    squeezed = text.replace(" ", "")
    for phrases in _synonym_groups().values():
        if any(p and p in squeezed for p in phrases):
            for p in phrases:
                if p not in squeezed:
                    put(p, Q_SYNONYM)
    core = text
    for phrase in _stop_phrases():
        core = core.replace(phrase, " ")
    core = core.strip() or text
    stops = stop_words()
    for w in segment(core):
        if w not in stops and (len(w) > 1 or len(core.replace(" ", "")) == 1):
            put(w, Q_WORD)
        if w.isascii() and w.isalpha() and len(w) >= 2:
            put(w, Q_WORD)
    for run in _CJK.findall(core):
        for i in range(len(run) - 1):
            b = run[i:i + 2]
            if b[0] not in stops and b[1] not in stops:
                put(b, Q_BIGRAM)
    if not terms:  # only stop words: search for what was typed
        put(squeezed, Q_WORD)
    return terms


def _prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """[low, high) of the ASCII terms starting with `prefix` (a-z only)."""
    head = prefix.rstrip("z")
    if not head:
        return prefix, None
    return prefix, head[:-1] + chr(ord(head[-1]) + 1)


def _expand_prefix(prefix: str) -> list[str]:
    low, high = _prefix_bounds(prefix)
    sql = (f"SELECT term FROM {SearchTerm._meta.db_table} WHERE term >= %s"
           + (" AND term < %s" if high else "") + " AND term LIKE %s"
           " GROUP BY term ORDER BY COUNT(*) DESC, term LIMIT %s")
    params: list[Any] = [low, *([high] if high else []), prefix + "%", PREFIX_TERMS]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall() if r[0] != prefix]


def _filters(department: str | None, type: str | None, event: str | None,
             proxy: bool | None) -> tuple[str, list[Any]]:
    from wangge.org.models import Department

    sql, params = ["i.active = %s", "i.current_id IS NOT NULL"], [True]
    if department:
        dept = Department.objects.filter(code=department).values_list("pk", flat=True).first()
        sql.append("i.department_id = %s")
        params.append(dept if dept is not None else -1)
    if type:
        sql.append("i.type = %s")
        params.append(type)
    if event:
        sql.append("i.events_text LIKE %s")
        params.append(f"%|{event}|%")
    if proxy is not None:
        sql.append("i.proxy_eligible = %s")
        params.append(bool(proxy))
    return " AND ".join(sql), params


_size_cache: tuple[float, int] = (0.0, 0)
#: seconds the number of items (idf's N) is reused: counting 100,000 rows on every query
#: costs more than a slightly stale N changes any ranking
SIZE_TTL = 60.0


def _collection_size() -> int:
    global _size_cache
    now = time.monotonic()
    if now - _size_cache[0] > SIZE_TTL or not _size_cache[1]:
        _size_cache = (now, visible_items().count())
    return _size_cache[1]


def _weights(terms: dict[str, float]) -> dict[str, float]:
    """term → query weight × idf, for the terms the index holds (prefixes expanded); N
    is the number of visible items, whatever the filters (idf belongs to the catalogue)."""
    exact: dict[str, float] = {}
    for term, weight in terms.items():
        if term.endswith("*"):
            for t in _expand_prefix(term[:-1]):
                exact.setdefault(t, weight)
        else:
            exact[term] = max(weight, exact.get(term, 0.0))
    if not exact:
        return {}
    marks = ", ".join(["%s"] * len(exact))
    table = SearchTerm._meta.db_table
    n = _collection_size()
    with connection.cursor() as cur:
        cur.execute(f"SELECT term, COUNT(*) FROM {table} WHERE term IN ({marks}) "
                    "GROUP BY term", list(exact))
        df = dict(cur.fetchall())
    if not n or not df:
        return {}
    rare = [t for t in df if df[t] <= COMMON_SHARE * n]
    keep = rare or list(df)
    return {t: round(exact[t] * math.log(1 + n / df[t]), 4) for t in keep}


def _rank(coef: dict[str, float], where: str, params: list[Any],
          window: int) -> tuple[list[tuple[int, float]], int]:
    """The best `window` (item id, score) and the number of items scoring at least
    MIN_SHARE of the best: one statement, the scores computed once (a materialised CTE,
    the same SQL on SQLite ≥ 3.35 and PostgreSQL ≥ 12)."""
    values = ", ".join("(%s, %s)" for _ in coef)
    sql = (f"WITH q(term, coef) AS (VALUES {values}), "
           "scored AS MATERIALIZED ("
           "SELECT st.item_id AS item_id, SUM(st.weight * q.coef) AS score "
           f"FROM q JOIN {SearchTerm._meta.db_table} st ON st.term = q.term "
           f"JOIN {ServiceItem._meta.db_table} i ON i.id = st.item_id "
           f"WHERE {where} GROUP BY st.item_id) "
           "SELECT item_id, score, (SELECT COUNT(*) FROM scored WHERE score >= "
           "(SELECT MAX(score) FROM scored) * %s) AS total "
           "FROM scored ORDER BY score DESC, item_id LIMIT %s")
    with connection.cursor() as cur:
        cur.execute(sql, [*(x for t, c in coef.items() for x in (t, c)), *params,
                          MIN_SHARE, window])
        rows = cur.fetchall()
    if not rows:
        return [], 0
    floor = float(rows[0][1]) * MIN_SHARE
    return [(r[0], float(r[1])) for r in rows if float(r[1]) >= floor], int(rows[0][2])


def _rerank(q: str, ranked: list[tuple[int, float]]) -> list[ServiceItem]:
    """Exact name or alias first; then names or aliases holding the whole query (the
    shorter name first); then by score. Pinyin queries compare spellings."""
    items = {i.pk: i for i in ServiceItem.objects.filter(pk__in=[r[0] for r in ranked])
             .select_related("department", "current")}
    text = normalize(q).replace(" ", "")
    core = normalize(q)
    for phrase in _stop_phrases():
        core = core.replace(phrase, " ")
    core = "".join(w for w in core.split() if w not in stop_words())
    is_pinyin = bool(_ASCII_QUERY.match(normalize(q)))

    def names(item: ServiceItem) -> list[str]:
        found = [item.name, *(item.current.aliases if item.current else [])]
        found = [normalize(n).replace(" ", "") for n in found]
        if is_pinyin:
            return [s for n in found for s in pinyin(n) if s]
        return found

    def key(pair: tuple[int, float]) -> tuple[int, float, int, int]:
        item = items[pair[0]]
        spelled = names(item)
        if text in spelled or (core and core in spelled):
            bucket = 0
        elif any(text in n for n in spelled) or (core and any(core in n for n in spelled)):
            bucket = 1
        else:
            bucket = 2
        length = len(item.name) if bucket < 2 else 0
        return bucket, -round(pair[1], 6), length, pair[0]

    return [items[i] for i, _ in sorted((r for r in ranked if r[0] in items), key=key)]


def search_items(q: str, *, department: str | None = None, type: str | None = None,
                 event: str | None = None, proxy: bool | None = None,
                 limit: int = 20, offset: int = 0) -> SearchResult:
    """Ranked items for a resident's query, filtered; without a query, the filtered
    items in code order. Unknown filter values match nothing (the API checks them)."""
    where, params = _filters(department, type, event, proxy)
    terms = query_terms(q) if q else {}
    if not terms:
        qs = visible_items().select_related("department", "current")
        if department:
            qs = qs.filter(department__code=department)
        if type:
            qs = qs.filter(type=type)
        if event:
            qs = qs.filter(events_text__contains=f"|{event}|")
        if proxy is not None:
            qs = qs.filter(proxy_eligible=proxy)
        if q and normalize(q):
            return SearchResult(0, [])
        return SearchResult(qs.count(), list(qs.order_by("code")[offset:offset + limit]))
    coef = _weights(terms)
    if not coef:
        return SearchResult(0, [])
    window = max(WINDOW, offset + limit)
    ranked, total = _rank(coef, where, params, window)
    ordered = _rerank(q, ranked)
    return SearchResult(total, ordered[offset:offset + limit])


#: valid filter values, for the API's 422 on a bad one
ITEM_TYPES = frozenset(ItemType.values)
LIFE_EVENTS = frozenset(LifeEvent.values)
