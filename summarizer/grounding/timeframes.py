"""Resolve a prediction's timeframe, as written, to a date range against the article date.

Deliberately rule-based: a small model guessing dates is worse than saying "unresolved". Only phrases with
an unambiguous reading are resolved; everything else stays `None`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from summarizer.schema import Timeframe

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
# "the coming days" read as up to a week, "weeks" up to four weeks, and so on: the stated reading is in `rule`.
_COMING = {"day": 7, "week": 28, "month": 90, "year": 3 * 365}
_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "few": 3, "several": 5, "couple of": 2}


def _tf(start: dt.date, end: dt.date, rule: str) -> Timeframe:
    return Timeframe(start=start, end=end, rule=rule)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def resolve_timeframe(text: str | None, date: dt.date | None) -> Timeframe | None:
    """A date range for `text` relative to `date`, or None when it cannot be resolved honestly."""
    if not text or date is None:
        return None
    t = " ".join(text.lower().replace("’", "'").split())
    if re.search(r"\btoday\b|\btonight\b", t):
        return _tf(date, date, "today")
    if re.search(r"\btomorrow\b", t):
        d = date + dt.timedelta(days=1)
        return _tf(d, d, "tomorrow")
    m = re.search(r"\b(?:in|within|over) the (?:coming|next) (days|weeks|months|years)\b", t) or re.search(
        r"\b(days|weeks|months|years), not (?:weeks|months|years)\b", t)
    if m:
        unit = m.group(1)[:-1]
        return _tf(date, date + dt.timedelta(days=_COMING[unit]), f"coming {unit}s: up to {_COMING[unit]} days")
    m = re.search(r"\b(?:in|within|over) (?:the next )?(\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|"
                  r"few|several|couple of) (day|week|month|year)s?\b", t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _WORDS[m.group(1)]
        return _tf(date, date + dt.timedelta(days=n * _UNITS[m.group(2)]), f"{n} {m.group(2)}(s) from article date")
    m = re.search(r"\bnext (week|month|year)\b", t)
    if m:
        unit = m.group(1)
        if unit == "week":
            start = date + dt.timedelta(days=7 - date.weekday())
            return _tf(start, start + dt.timedelta(days=6), "next calendar week")
        if unit == "month":
            y, mo = (date.year + 1, 1) if date.month == 12 else (date.year, date.month + 1)
            return _tf(dt.date(y, mo, 1), _month_end(y, mo), "next calendar month")
        return _tf(dt.date(date.year + 1, 1, 1), dt.date(date.year + 1, 12, 31), "next calendar year")
    if re.search(r"\b(?:by )?the end of (?:the|this) year\b|\bthis year\b", t):
        return _tf(date, dt.date(date.year, 12, 31), "until end of article year")
    m = re.search(r"\b(?:by|in|before|until) (" + "|".join(_MONTHS) + r")(?: (\d{4}))?\b", t)
    if m:
        month = _MONTHS[m.group(1)]
        year = int(m.group(2)) if m.group(2) else date.year + (1 if month < date.month else 0)
        return _tf(date, _month_end(year, month), "until end of named month")
    m = re.search(r"\b(?:by|in|before|until) (\d{4})\b", t)
    if m and 1900 < int(m.group(1)) < 2200:
        year = int(m.group(1))
        if year >= date.year:
            return _tf(date, dt.date(year, 12, 31), "until end of named year")
    return None


_PHRASE = re.compile(
    r"\b(?:today|tonight|tomorrow|(?:next|this|coming) (?:week|month|year|decade)|next (?:spring|summer|autumn|fall|"
    r"winter)|(?:by|before|until|in|within) (?:the )?(?:end of (?:the |this )?(?:year|month|week)|year[- ]end|"
    r"(?:19|20)\d\d|(?:january|february|march|april|may|june|july|august|september|october|november|december)"
    r"(?: (?:19|20)\d\d)?)|(?:in|within|over) the (?:coming|next) (?:few |several |two |three )?(?:days|weeks|months|"
    r"years)|(?:in|within) (?:a|one|two|three|four|five|six|seven|eight|nine|ten|a few|several|\d+) (?:days?|weeks?|"
    r"months?|years?)|a matter of (?:days|weeks|months)|by (?:19|20)\d\d|in due course|soon)\b",
    re.IGNORECASE)


def timeframe_in(text: str) -> str | None:
    """The first timeframe phrase a sentence states ("in the coming days", "by 2050"), as written, or None."""
    found = _PHRASE.search(text)
    return found.group(0) if found else None
