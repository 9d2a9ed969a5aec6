#!/usr/bin/env python3
"""Checks documents written by zhili-cap, for its integration tests (tests/cap.rs).

  check.py cap  SCHEMA.xsd FILE...   each FILE valid against the XML Schema (OASIS CAP 1.2)
  check.py atom FILE...              each FILE well-formed Atom 1.0 with RFC 4287's required
                                     elements (feed: id, title, updated, author/name,
                                     link rel=self; entry: id, title, updated, and a
                                     link rel=alternate type=application/cap+xml href)

Prints `ok FILE` or `INVALID FILE: reason` per file; exits 1 if any file is invalid,
2 on bad usage. Needs lxml (`pip install lxml`).
"""

import re
import sys

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def check_cap(schema, path):
    doc = etree.parse(path)
    if schema.validate(doc):
        return None
    err = schema.error_log.last_error
    return f"line {err.line}: {err.message}"


def check_atom(path):
    root = etree.parse(path).getroot()
    if root.tag != ATOM + "feed":
        return f"root is {root.tag}, expected {ATOM}feed"

    def one(parent, name, where):
        found = parent.findall(ATOM + name)
        if len(found) != 1:
            raise ValueError(f"{where}: {len(found)} <{name}>, expected exactly 1")
        if not (found[0].text or "").strip():
            raise ValueError(f"{where}: <{name}> is empty")
        return found[0].text

    def updated(parent, where):
        text = one(parent, "updated", where)
        if not RFC3339.match(text):
            raise ValueError(f"{where}: updated `{text}` is not an RFC 3339 date-time")

    try:
        one(root, "id", "feed")
        one(root, "title", "feed")
        updated(root, "feed")
        authors = root.findall(ATOM + "author")
        if not authors:
            raise ValueError("feed: no <author>")
        for a in authors:
            one(a, "name", "feed/author")
        selfs = [l for l in root.findall(ATOM + "link") if l.get("rel") == "self" and l.get("href")]
        if len(selfs) != 1:
            raise ValueError(f"feed: {len(selfs)} <link rel=\"self\" href=…>, expected 1")
        for i, e in enumerate(root.findall(ATOM + "entry")):
            where = f"entry[{i}]"
            one(e, "id", where)
            one(e, "title", where)
            updated(e, where)
            alts = [
                l
                for l in e.findall(ATOM + "link")
                if l.get("rel") == "alternate" and l.get("type") == "application/cap+xml" and l.get("href")
            ]
            if len(alts) != 1:
                raise ValueError(f"{where}: {len(alts)} <link rel=\"alternate\" type=\"application/cap+xml\">, expected 1")
    except ValueError as e:
        return str(e)
    return None


def main(argv):
    if len(argv) < 3 or argv[1] not in ("cap", "atom") or (argv[1] == "cap" and len(argv) < 4):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "cap":
        schema = etree.XMLSchema(etree.parse(argv[2]))
        files, check = argv[3:], lambda p: check_cap(schema, p)
    else:
        files, check = argv[2:], check_atom
    bad = 0
    for path in files:
        try:
            problem = check(path)
        except etree.XMLSyntaxError as e:
            problem = f"not well-formed: {e}"
        if problem is None:
            print(f"ok {path}")
        else:
            bad += 1
            print(f"INVALID {path}: {problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
