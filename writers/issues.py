"""What each finding category means and how to fix it, as the reports explain it.

The HTML report shows this beside each category's findings, and the workbook's Summary
sheet beside its counts, so a reader acts on a finding without opening the documentation
(docs/findings.md holds the full rules). Every category of ``analysis.model.SEVERITY``
has an entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryHelp:
    """A category's name for people, what its findings mean and how to fix them."""

    title: str
    meaning: str
    fix: str


CATEGORY_HELP: dict[str, CategoryHelp] = {
    "broken_link": CategoryHelp(
        "Broken links",
        "A link points to a URL that answered 4xx or did not answer: the reader lands on an "
        "error page and search engines waste their visit.",
        "Point the link to the page that replaced the target, or remove it; if the target "
        "moved, redirect its old URL to the new one.",
    ),
    "server_error": CategoryHelp(
        "Server errors",
        "An internal URL answered 5xx: the page is down for readers and search engines.",
        "Check the server or application logs for that URL and fix the error; if it was "
        "temporary, crawl again to confirm.",
    ),
    "redirect_loop": CategoryHelp(
        "Redirect loops",
        "A redirect chain comes back to a URL it already visited: the page never loads.",
        "Make the chain end on a page that answers 200; remove the rule that sends it back.",
    ),
    "missing_title": CategoryHelp(
        "Pages without a title",
        "An audited page has no <title> or an empty one: search results show something "
        "random in its place.",
        "Write a unique title naming the page's subject, about 50-60 characters.",
    ),
    "crawl_limit": CategoryHelp(
        "Crawl limits reached",
        "A crawl limit (max_pages, max_depth, max_url_length, max_seconds) kept URLs out of "
        "the crawl: the reports cover only part of the site.",
        "Raise the limit named in the detail (--max-pages, [crawl] settings) and crawl "
        "again, or exclude the URLs you do not need audited.",
    ),
    "audit_incomplete": CategoryHelp(
        "Failed stages of the audit",
        "A stage of the audit failed (a bug): its columns are empty and its findings "
        "absent from these reports.",
        "Report the traceback in errors.log; run the analysis again once it is fixed.",
    ),
    "staging_copy": CategoryHelp(
        "Copy of another site",
        "Most pages name another host as the canonical home of their own path: the crawl "
        "is read as a copy of that site (staging, local build).",
        "If this is deliberate, declare the production host with --alias (or [crawl] "
        "aliases); if not, fix the canonicals of the copy.",
    ),
    "redirect_chain": CategoryHelp(
        "Redirect chains",
        "A link reaches its page only through two or more redirects: slower for readers, "
        "and link value is lost on the way.",
        "Link straight to the final URL, and make old redirects point to it in one hop.",
    ),
    "orphan_page": CategoryHelp(
        "Orphan pages",
        "No internal page links to the page (it was found through the sitemap or a list): "
        "readers cannot reach it and search engines rate it low.",
        "Link to it from related articles and from its category page, or remove it from "
        "the sitemap if it should not exist.",
    ),
    "duplicate_title": CategoryHelp(
        "Duplicate titles and h1s",
        "Two or more audited pages share a title or a first h1: they announce the same "
        "subject and compete for the same searches.",
        "Give each page its own title and h1; merge the pages if they really cover the "
        "same subject.",
    ),
    "missing_h1": CategoryHelp(
        "Pages without an h1",
        "An audited page has no h1 element: its main heading is missing for readers, "
        "screen readers and search engines.",
        "Add one h1 that names the page's subject (usually the article's title).",
    ),
    "multiple_h1": CategoryHelp(
        "Pages with several h1s",
        "An audited page has more than one h1: which one is the page's subject is unclear.",
        "Keep one h1 and make the others h2 (themes often wrap the logo or site name in "
        "an h1: fix it in the theme).",
    ),
    "thin_content": CategoryHelp(
        "Thin pages",
        "An audited page's main content has fewer words than the threshold (200): it "
        "rarely answers a search well.",
        "Expand the page with useful content, merge it into a fuller page (and redirect), "
        "or mark it noindex if it exists for another reason.",
    ),
    "near_duplicate": CategoryHelp(
        "Near-duplicate pages",
        "Two pages' main texts are nearly the same (most of their words in the same "
        "order): they compete with each other.",
        "Merge them and redirect one to the other, rewrite one, or point the copy's "
        "canonical to the original.",
    ),
    "off_topic_link": CategoryHelp(
        "Off-topic internal links",
        "A content link points to a page whose topic does not belong with the linking "
        "page's: the reader is sent away from what they came to read.",
        "Replace the link with one of the suggested on-topic pages, or remove it; when the "
        "sentence really connects the two subjects, make that connection explicit.",
    ),
    "promotional_link": CategoryHelp(
        "Promotional links",
        "A link is a call to action (\"consultez notre offre\", \"book now\"), a sponsored "
        "or affiliate link, or a paragraph that only sends the reader elsewhere.",
        "Keep calls to action where they serve the reader (end of the article, one per "
        "page); reword the others as plain mentions; mark paid links rel=\"sponsored\".",
    ),
    "incoherent_section": CategoryHelp(
        "Sections off their page's topic",
        "A section of a page strays from the page's own topic (often an inserted promo "
        "block or an unrelated aside).",
        "Move the section to a page about its subject, cut it, or rewrite it so it serves "
        "the page's topic.",
    ),
    "content_artifact": CategoryHelp(
        "Leftovers of a broken export",
        "The main text holds leftovers of a broken export or an unfinished template: raw "
        "markdown, code fences, placeholders, lorem ipsum.",
        "Edit the paragraph quoted in the detail: render or remove the markup, fill in the "
        "placeholder.",
    ),
    "broken_external_link": CategoryHelp(
        "Broken links to other sites",
        "A link to another site points to a page that answered 4xx or 5xx or did not "
        "answer when the crawl checked it: the reader lands on an error page.",
        "Link to the page's new address or to another source, or remove the link; a "
        "page archived on web.archive.org can stand in for a vanished source.",
    ),
    "unverified_external_link": CategoryHelp(
        "Links to other sites that refused the check",
        "The site linked to turned the automated check away (login wall, bot filter, rate "
        "limit: 401, 403, 429, 999): the link may well work in a browser.",
        "Open the link in a browser; fix it only if it is really broken.",
    ),
    "missing_meta_description": CategoryHelp(
        "Pages without a meta description",
        "An audited page has no meta description: search engines pick a snippet of their "
        "own.",
        "Write a description of one or two sentences that makes a reader want the page.",
    ),
    "skipped_heading_level": CategoryHelp(
        "Skipped heading levels",
        "A heading goes more than one level deeper than the one before (h2 to h4): the "
        "outline is broken for screen readers.",
        "Use the next level down (h3 after h2); style headings with CSS, not with levels.",
    ),
    "empty_heading": CategoryHelp(
        "Empty headings",
        "A heading element has no text (often a theme's spacer or an icon).",
        "Give the heading text or replace the element with a non-heading one.",
    ),
    "noindex": CategoryHelp(
        "Pages not to be indexed",
        "An internal page asks not to be indexed (meta robots or X-Robots-Tag). Often "
        "deliberate (a thank-you page).",
        "Check that the page really should stay out of search results; if not, remove "
        "the noindex.",
    ),
    "canonicalized": CategoryHelp(
        "Pages with another canonical",
        "An internal page declares another URL as canonical: search engines index that "
        "URL instead. Often deliberate (a printable or filtered version).",
        "Check the canonical names the right page; link internally to the canonical URL.",
    ),
    "blocked_by_robots": CategoryHelp(
        "Blocked by robots.txt",
        "robots.txt forbids crawling an internal URL: it was not audited and search "
        "engines do not read it. Often deliberate (a private folder).",
        "Check the rule is meant; if the page should rank, allow it in robots.txt.",
    ),
    "page_limit": CategoryHelp(
        "Pages cut by an extraction limit",
        "A per-page extraction limit applied (links, headings, sections, words, nesting): "
        "the page is recorded, part of it was left out.",
        "Usually a generated or broken page: check it in a browser; raise the limit only "
        "if the page is genuine.",
    ),
}


def category_help(category: str) -> CategoryHelp:
    """The help of ``category``; an unknown one gets its name and no advice."""
    return CATEGORY_HELP.get(
        category, CategoryHelp(category.replace("_", " ").capitalize(), "", "")
    )
