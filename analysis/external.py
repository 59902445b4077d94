"""External link checks as the reports read them: each external link's target status, and
the links whose target is broken (``broken_external_link``) or turned the checker away
(``unverified_external_link``).

``checks`` is the crawl's ``external_checks`` frame (docs/crawl-store.md): one row per
distinct external URL the crawler asked for, when ``[crawl] check_external`` was on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkaudit.analysis.checks import concat_findings, make_findings, quote
from linkaudit.analysis.model import flags

# Answers that say the site refused the checker rather than that the page is gone: a login
# wall (401), a bot filter (403, LinkedIn's 999) or a rate limit (429). A browser often
# gets the page, so these are notices to look at, not broken links.
REFUSED_STATUSES = (401, 403, 429, 999)
REFUSED_NOTE = "the site turns automated checks away: open the link in a browser"


def external_status(links: pd.DataFrame, checks: pd.DataFrame) -> pd.Series:
    """The checked status of each external link's target (its own answer, a 3xx when it
    redirects), <NA> for internal links and unchecked targets; aligned to ``links``."""
    status = pd.Series(pd.NA, index=links.index, dtype="Int64")
    if checks.empty or links.empty:
        return status
    external = ~flags(links["internal"])
    by_url = checks.drop_duplicates("url").set_index("url")["status"].astype("Int64")
    status[external] = links.loc[external, "target"].map(by_url).astype("Int64")
    return status


def check_verdicts(checks: pd.DataFrame) -> pd.DataFrame:
    """url, verdict (``broken``, ``refused`` or "") and reason of every checked URL."""
    final = checks["final_status"].astype("Int64")
    redirected = checks["final_url"].notna().to_numpy(dtype=bool)
    error = checks["error"].fillna("").astype("str")
    answered = final.notna().to_numpy(dtype=bool)
    code = final.fillna(0).astype(int)
    refused = answered & code.isin(REFUSED_STATUSES).to_numpy(dtype=bool)
    looped = answered & (error != "").to_numpy(dtype=bool)  # a redirect loop or too many hops
    failed = answered & (code >= 400).to_numpy(dtype=bool) & ~refused
    broken = ~answered | looped | failed
    where = np.where(redirected, " at " + checks["final_url"].fillna("").astype("str"), "")
    http = "HTTP " + code.astype("str")
    reason = np.where(answered, http, np.where(error != "", "no response: " + error,
                                                "no response"))
    reason = np.where(looped, error, reason)
    reason = np.where(redirected & ~looped, "redirects to " + reason + where, reason)
    reason = np.where(refused, reason + " (" + REFUSED_NOTE + ")", reason)
    verdict = np.where(broken, "broken", np.where(refused, "refused", ""))
    return pd.DataFrame({"url": checks["url"].to_numpy(), "verdict": verdict,
                         "reason": reason})


def external_link_findings(links: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """One ``broken_external_link`` warning per link occurrence whose external target
    answered 4xx/5xx (after its redirects), looped or gave no response, and one
    ``unverified_external_link`` notice per occurrence whose target refused the check."""
    if checks.empty or links.empty:
        return concat_findings([])
    verdicts = check_verdicts(checks).drop_duplicates("url").set_index("url")
    external = links[~flags(links["internal"]) & links["target"].isin(verdicts.index)]
    rows = external.assign(verdict=external["target"].map(verdicts["verdict"]),
                           reason=external["target"].map(verdicts["reason"]))

    def detail(frame: pd.DataFrame) -> pd.Series:
        anchor = frame["anchor"].fillna("").map(quote)
        return frame["target"].astype("str") + ": " + frame["reason"] + " (anchor " + anchor + ")"

    return concat_findings([
        make_findings(rows[rows["verdict"] == "broken"], "broken_external_link", detail,
                      url="source", target="target"),
        make_findings(rows[rows["verdict"] == "refused"], "unverified_external_link", detail,
                      url="source", target="target"),
    ])
