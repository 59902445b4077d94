"""``--fail-on`` rules: when a scheduled run should exit non-zero so cron mails it.

A rule is ``[new:]NAME[OP N]``:

- NAME is a finding category (``broken_link``), a severity (``error``, ``warning``,
  ``notice``) or ``any`` (every finding);
- ``new:`` counts only findings that the previous complete crawl did not have;
- OP is one of ``>``, ``>=``, ``<``, ``<=``, ``=``, ``==``; without one the rule means ``> 0``.

Examples: ``new:broken_link``, ``off_topic_link>5``, ``error>0``, ``new:any>=10``.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import pandas as pd

from linkaudit.analysis.model import SEVERITIES, SEVERITY

_RULE = re.compile(r"^(?P<new>new:)?(?P<name>[a-z_]+)\s*(?:(?P<op>>=|<=|==|=|>|<)\s*"
                   r"(?P<count>\d+))?$")
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "=": operator.eq, "==": operator.eq}


class AlertRuleError(ValueError):
    """A --fail-on rule cannot be read."""


@dataclass(frozen=True)
class AlertRule:
    text: str
    new_only: bool
    name: str
    op: str
    count: int

    def matches(self, findings: pd.DataFrame) -> bool:
        return _OPS[self.op](self.selected(findings), self.count)

    def selected(self, findings: pd.DataFrame) -> int:
        if self.name == "any":
            return len(findings)
        column = "severity" if self.name in SEVERITIES else "category"
        return int((findings[column] == self.name).sum())


def parse_rule(text: str, categories: set[str]) -> AlertRule:
    match = _RULE.match(text.strip())
    if not match:
        raise AlertRuleError(f"cannot read --fail-on rule {text!r} "
                             "(expected e.g. new:broken_link or off_topic_link>5)")
    name = match["name"]
    if name not in categories and name not in SEVERITIES and name != "any":
        raise AlertRuleError(f"--fail-on rule {text!r}: unknown category {name!r} "
                             "(categories: docs/findings.md; severities: error, warning, notice)")
    return AlertRule(text=text, new_only=bool(match["new"]), name=name,
                     op=match["op"] or ">", count=int(match["count"] or 0))


def check_rules(rules: list[str]) -> list[AlertRule]:
    """Every rule parsed against the known categories; the command checks them before crawling."""
    return [parse_rule(text, set(SEVERITY)) for text in rules]


def evaluate_rules(rules: list[str], findings: pd.DataFrame,
                   changes: pd.DataFrame | None) -> list[str]:
    """One line per rule that matched, e.g. ``new:broken_link: 2 (rule: > 0)``."""
    parsed = check_rules(rules)
    new_findings = new_findings_of(changes, findings)
    matched = []
    for rule in parsed:
        pool = new_findings if rule.new_only else findings
        if rule.matches(pool):
            matched.append(f"{rule.text}: {rule.selected(pool)} "
                           f"{'new ' if rule.new_only else ''}finding(s) (rule: {rule.op} "
                           f"{rule.count})")
    return matched


def new_findings_of(changes: pd.DataFrame | None, findings: pd.DataFrame) -> pd.DataFrame:
    """Findings that are new since the previous crawl; all of them when there was none."""
    if changes is None:
        return findings
    new = changes[changes["change"] == "new_finding"]
    return pd.DataFrame({"category": new["category"].to_numpy(),
                         "severity": new["severity"].to_numpy()})
