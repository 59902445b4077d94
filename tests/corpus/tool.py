"""Build and label the real-page corpus (see tests/corpus/README.md).

    python -m tests.corpus.tool strip RAW.html OUT.html
        Save a real page small: scripts, styles, comments, inline images, srcset and
        data-* attributes removed; structure, classes, ids, roles, aria, hidden and
        inline style kept (they decide positions).

    python -m tests.corpus.tool label OUT.html --body XPATH [--exclude XPATH ...]
        Print the word count of the article body chosen by the labeller and every
        link with its order, whether it lies in the body, href and anchor. With
        --write META.json, record word_count and body_links in that truth file.

The word count and link order follow crawler.extract: words as count_words counts
them, links numbered over every <a href> outside script/style/noscript/template/svg.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lxml import etree

from linkaudit.crawler.decoding import parse_html
from linkaudit.crawler.positions import BLOCK_TAGS, SKIPPED_TAGS
from linkaudit.crawler.sentences import collapse_whitespace, count_words

_DROP_TAGS = ("script", "style", "noscript", "template", "link", "iframe", "object", "embed")
_KEEP_LINK_RELS = {"canonical", "alternate", "next", "prev", "amphtml"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def strip_page(raw: bytes) -> str:
    root = parse_html(raw)
    if root is None:
        raise SystemExit("nothing to parse")
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _drop(element)
    for element in list(root.iter(*_DROP_TAGS)):
        if element.tag == "link":
            rels = set((element.get("rel") or "").lower().split())
            if rels & _KEEP_LINK_RELS:
                continue
        _drop(element)
    for svg in list(root.iter("svg")):
        for child in list(svg):
            svg.remove(child)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in list(element.attrib):
            value = element.get(name) or ""
            if (
                name.startswith(("data-", "on"))
                or name in ("srcset", "sizes", "jsaction")
                or value.startswith("data:")
            ):
                del element.attrib[name]
    html = etree.tostring(root, method="html", encoding="unicode")
    return "<!DOCTYPE html>\n" + html


def _drop(element: etree._Element) -> None:
    """Remove an element but keep its tail text."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def page_links(root: etree._Element) -> list[etree._Element]:
    """Every <a href> in the order crawler.extract numbers links."""
    links = []
    for element in root.iter("a"):
        if element.get("href") is None:
            continue
        if any(a.tag in SKIPPED_TAGS for a in element.iterancestors()):
            continue
        links.append(element)
    return links


def _hidden(element: etree._Element) -> bool:
    if element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(element.get("style") or ""))


def body_text(bodies: list[etree._Element], excluded: set) -> str:
    parts: list[str] = []
    for body in bodies:
        _collect(body, excluded, parts)
    return collapse_whitespace("".join(parts))


def _collect(element: etree._Element, excluded: set, parts: list[str]) -> None:
    walker = etree.iterwalk(element, events=("start", "end"))
    skipped = None  # the element whose subtree is being left out
    for event, node in walker:
        if event == "start":
            if (
                not isinstance(node.tag, str)
                or node.tag in SKIPPED_TAGS
                or node in excluded
                or _hidden(node)
            ):
                walker.skip_subtree()
                skipped = node
                continue
            parts.append(" " if node.tag == "br" else "")
            parts.append(node.text or "")
        else:
            if node is not skipped and node.tag in BLOCK_TAGS:
                parts.append(" ")
            skipped = None
            if node is not element and node.tail:
                parts.append(node.tail)


def label(page: Path, body_xpaths: list[str], exclude_xpaths: list[str]) -> dict:
    root = parse_html(page.read_bytes())
    bodies = [e for xp in body_xpaths for e in root.xpath(xp)]
    if not bodies:
        raise SystemExit(f"--body matched nothing: {body_xpaths}")
    excluded = {e for xp in exclude_xpaths for e in root.xpath(xp)}
    in_body = set()
    for body in bodies:
        in_body.update(body.iter("a"))
    for element in excluded:
        in_body.difference_update(element.iter("a"))
    links = []
    for order, element in enumerate(page_links(root)):
        anchor = collapse_whitespace(" ".join(element.itertext()))
        links.append(
            {"order": order, "in_body": element in in_body, "href": element.get("href"),
             "anchor": anchor[:80]}
        )
    text = body_text(bodies, excluded)
    return {"word_count": count_words(text), "links": links, "text": text}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.tool")
    sub = parser.add_subparsers(dest="command", required=True)
    strip = sub.add_parser("strip")
    strip.add_argument("raw", type=Path)
    strip.add_argument("out", type=Path)
    lab = sub.add_parser("label")
    lab.add_argument("page", type=Path)
    lab.add_argument("--body", action="append", required=True)
    lab.add_argument("--exclude", action="append", default=[])
    lab.add_argument("--write", type=Path, help="truth JSON to update")
    lab.add_argument("--text", action="store_true", help="print the body text too")
    args = parser.parse_args(argv)
    if args.command == "strip":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(strip_page(args.raw.read_bytes()), encoding="utf-8")
        print(f"{args.out}: {args.out.stat().st_size:,} bytes (raw {args.raw.stat().st_size:,})")
        return 0
    result = label(args.page, args.body, args.exclude)
    for link in result["links"]:
        mark = "B" if link["in_body"] else "."
        print(f"{link['order']:4d} {mark} {link['href'][:70]!s:70} {link['anchor'][:40]}")
    if args.text:
        print(result["text"])
    body_links = [link["order"] for link in result["links"] if link["in_body"]]
    print(f"word_count={result['word_count']} body_links={len(body_links)}"
          f" links={len(result['links'])}")
    if args.write:
        meta = json.loads(args.write.read_text(encoding="utf-8")) if args.write.exists() else {}
        meta.update(
            body_xpath=args.body,
            exclude_xpath=args.exclude,
            word_count=result["word_count"],
            body_links=body_links,
            body_hrefs=[result["links"][o]["href"] for o in body_links],
        )
        args.write.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
