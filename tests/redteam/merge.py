#!/usr/bin/env python3
"""Differential harness for the merge driver (docs/git.md, "Merges"): random
three-way merges of sealed files through real git, against a model merge of
the plaintext trees written here, independent of gitseal.

For each case: a base document in one store (YAML with comments, nested
maps, lists, block scalars and several documents; JSON; dotenv; INI with
sections), two branches of random edits (a leaf changed, added or removed at
any depth, a list changed, keys reordered, a comment edited, the same key
added or changed on both sides with the same or another value, removed on
one side and changed on the other), each committed through the filter. Then
git merge, rebase, cherry-pick, stash pop, pull --rebase from a second
clone and revert, each checked against the model (and criss-cross merges,
see criss_cross_case):

- git exits 0 exactly when the model finds no conflict;
- exit 0: the work tree and the committed blob (its MAC verified by
  `gitseal decrypt`) hold the model's tree, and the blob is sealed for the
  base's recipients; `git status` is clean;
- a conflict: the markers' "ours" and "theirs" sides are the model merge
  with each conflicting leaf taken from that side (nothing dropped), and
  after a resolution (ours, theirs or by hand) the commit holds what was
  resolved;
- always: no secret value of any version in any object, nor in any file
  under .git (rr-cache with rerere on, AUTO_MERGE, ORIG_HEAD, MERGE_MSG,
  logs, the index).

A run without --quick adds git merge -X ours / -X theirs, git merge
--squash, git am -3 and git checkout -m (MORE_FLOWS), and files of the binary store, whose
lines merge as git merge-file merges them (binary_case). --flow also takes
NEW_FLOWS: git switch --merge, cherry-pick -m 1 of a merge, rebase
--rebase-merges, rebase -i with edit or squash, and a side that rotated
the data key (a clean merge must not go back to the key from before).

Also the rule-2 cases: a branch that adds a recipient to the file's metadata
(sealed for it by hand, or a stanza grafted on) must not have its merge
sealed for that recipient silently.

The trees are read by PyYAML as yaml.v3 types them, Python's json and line
parsers (tests/redteam/rule1.py).

usage: merge.py [--bin build/gitseal] [--cases N] [--first I] [--seed S] [--store S]...
                [--flow F]... [--quick] [--keep DIR] [--as-lines-fails]
Exit 0: every check held; 1: a violation (printed with its seed and case,
and the three plaintexts under --keep); 2: stopped by SIGINT or SIGTERM
before the last case, no violation so far (the counts up to there printed).
"""
import argparse
import collections
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import rule1  # noqa: E402 the independent parsers

STORES = ("yaml", "json", "dotenv", "ini")
FLOWS = ("merge", "rebase", "cherry-pick", "stash", "pull-rebase", "revert", "criss-cross")
# flows of a full run only (--quick keeps FLOWS' turns, and so mergefuzz.bats'
# fixed-seed cases): git merge -X ours or -X theirs, which git passes to no
# merge driver (the file merges as without it: a conflict stays one, no side
# taken silently), git merge --squash, git am -3 of theirs' commit as a
# patch of the sealed blobs, and git checkout -m carrying theirs' change,
# uncommitted, over to ours
MORE_FLOWS = ("merge-x", "squash", "am", "checkout-m")
# merge 31's flows, of a --flow run: git switch --merge (as checkout-m);
# theirs' change brought by git cherry-pick -m 1 of a merge commit and by
# git rebase --rebase-merges of a branch holding that merge; git rebase -i
# stopping at theirs' commit (edit, then amended) or squashing a later
# commit into it; and a side that rotated the file's data key
# (updatekeys --rotate) before the other edited: a clean merge keeps the
# rotated key, never goes back to the one both had
NEW_FLOWS = ("switch-m", "cherry-pick-m1", "rebase-merges", "rebase-edit", "rebase-squash", "rotate")
EXT = {"yaml": "yaml", "json": "json", "dotenv": "env", "ini": "ini", "binary": "txt"}
MISSING = object()
# a tree merge the driver could not write (a writer limit, its proof)
# merges as lines, a conflict (docs/git.md "Merges")
AS_LINES = "; merged as lines"
TOKEN = re.compile(rb"v[0-9a-f]{10}\d{3}")
CONFLICT = object()


# ---- the model: trees of dict / list / scalar --------------------------------

class Gen:
    """Random values: every secret a unique token, so that a scan of .git
    for it cannot hit anything else."""

    def __init__(self, rng, store):
        self.rng = rng
        self.store = store
        self.n = 0

    def token(self):
        self.n += 1
        return "v%s%03d" % ("".join(self.rng.choice("0123456789abcdef") for _ in range(10)), self.n % 1000)

    def key(self, depth=0):
        if self.store == "dotenv":
            return self.rng.choice(["A", "B", "C", "D", "E", "DB_USER", "DB_PASS", "TOKEN", "PORT"]) + \
                ("" if self.rng.random() < 0.7 else "_%d" % self.rng.randrange(3))
        if self.store == "ini":
            return self.rng.choice(["user", "pass", "host", "port", "key", "url", "name"]) + \
                ("" if self.rng.random() < 0.7 else "%d" % self.rng.randrange(3))
        if self.rng.random() < 0.04:
            # keys that need quotes; "a.b" also reads as a path in messages
            return self.rng.choice(["a.b", "x y", "123", "k: v", "#h", "é"])
        return self.rng.choice(["a", "b", "c", "d", "db", "api", "user", "pass", "port",
                                "tls", "x", "y", "nested", "list"]) + \
            ("" if self.rng.random() < 0.6 else "%d" % self.rng.randrange(4))

    def scalar(self):
        r = self.rng.random()
        if self.store in ("dotenv", "ini"):
            if r < 0.15:
                return self.token() + " with spaces"
            if r < 0.2:
                return "a=b" + self.token()
            if r < 0.23:
                return ""
            return self.token()
        if r < 0.03:
            return None
        if r < 0.05:
            return ""
        if r < 0.12:
            return self.rng.randrange(2, 100000)  # never 0 or 1: False == 0 in Python
        if r < 0.17:
            return self.rng.choice([True, False])
        if r < 0.25 and self.store == "yaml":
            # a block scalar
            return "".join("%s line %d\n" % (self.token(), i) for i in range(self.rng.randrange(1, 4)))
        if r < 0.3:
            return self.token() + ": # quoted"
        return self.token()

    def value(self, depth):
        r = self.rng.random()
        if depth < 4 and r < 0.3:
            return self.mapping(depth + 1)
        if r < 0.42:
            return self.listing(depth)
        return self.scalar()

    def listing(self, depth):
        n = self.rng.randrange(0, 4)
        if depth < 3 and self.rng.random() < 0.2 and self.store == "json":
            return [self.mapping(depth + 1) for _ in range(max(n, 1))]
        return [self.scalar() for _ in range(n)]

    def mapping(self, depth, n=None):
        m = {}
        for _ in range(n if n is not None else self.rng.randrange(1, 5)):
            k = self.key(depth)
            if self.store == "dotenv" or (self.store == "ini" and depth >= 1):
                m[k] = self.scalar()
            elif self.store == "ini":
                m[k] = self.mapping(1, self.rng.randrange(1, 4))
            else:
                m[k] = self.value(depth)
        return m

    def document_set(self):
        if self.store == "ini":
            docs = [{("sec%d" % i if i else "db"): self.mapping(1, self.rng.randrange(1, 4))
                     for i in range(self.rng.randrange(1, 4))}]
        elif self.store == "dotenv":
            docs = [self.mapping(0, self.rng.randrange(2, 7))]
        elif self.store == "json":
            docs = [self.mapping(0, self.rng.randrange(2, 6))]
        else:
            docs = [self.mapping(0, self.rng.randrange(2, 6))
                    for _ in range(1 if self.rng.random() < 0.75 else self.rng.randrange(2, 4))]
        return docs


def deep(x):
    return json.loads(json.dumps(x))


def maps_in(node, path=()):
    """Every map of a tree with its path."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from maps_in(v, path + (k,))


class Doc:
    """A document set with the comments of its keys (YAML, dotenv, INI)."""

    def __init__(self, docs, comments=None):
        self.docs = docs
        self.comments = comments or {}

    def copy(self):
        return Doc(deep(self.docs), dict(self.comments))


def edit(g, doc, store, kind=None, at=None, value=MISSING):
    """One random edit of doc in place; returns (kind, path) so that the
    other side can make an edit at the same place."""
    rng = g.rng
    if not doc.docs:
        return None
    di = rng.randrange(len(doc.docs)) if at is None else at[0]
    maps = list(maps_in(doc.docs[di])) if di < len(doc.docs) else []
    if store == "ini":
        maps = [(p, m) for p, m in maps if len(p) <= 1]
    kinds = ["change", "change", "add", "delete", "reorder", "list", "comment", "retype"]
    if kind is None and at is None and rng.random() < 0.01:
        # the file emptied (an empty file passes the filter as it is)
        doc.docs[:] = []
        return "truncate", (0, ())
    if store == "yaml" and kind is None and rng.random() < 0.03:
        # a document added or removed: the file's documents are one atom
        if len(doc.docs) > 1 and rng.random() < 0.5:
            del doc.docs[rng.randrange(len(doc.docs))]
        else:
            doc.docs.append(g.mapping(0, rng.randrange(1, 3)))
        return "document", (len(doc.docs), ())
    kind = kind or rng.choice(kinds)
    if at is not None:
        if di >= len(doc.docs):
            return None
        path = at[1]
        parent = doc.docs[di]
        for k in path[:-1]:
            parent = parent.get(k) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            return None
        key = path[-1]
    else:
        mpath, parent = rng.choice(maps)
        if store == "ini" and not mpath:
            # top level: sections
            if kind in ("change", "retype", "list"):
                if not parent:
                    return None
                sec = rng.choice(list(parent))
                mpath, parent = (sec,), parent[sec]
        key = rng.choice(list(parent)) if parent and kind not in ("add",) else g.key(len(mpath))
        path = mpath + (key,)
    leaf_only = store in ("dotenv",) or (store == "ini" and len(path) == 2)
    if kind == "change" or kind == "add":
        if store == "ini" and len(path) == 1:
            parent[key] = g.mapping(1, rng.randrange(1, 3)) if value is MISSING else value
        elif value is not MISSING:
            parent[key] = value
        else:
            parent[key] = g.scalar() if leaf_only or rng.random() < 0.7 else g.value(len(path))
    elif kind == "delete":
        if key not in parent or (store == "ini" and len(doc.docs[di]) <= 1 and len(path) == 1):
            return None
        del parent[key]
    elif kind == "reorder":
        items = list(parent.items())
        rng.shuffle(items)
        parent.clear()
        parent.update(items)
    elif kind == "list":
        if leaf_only:
            return None
        cur = parent.get(key)
        if isinstance(cur, list) and cur and rng.random() < 0.5:
            cur = list(cur)
            r = rng.random()
            if r < 0.4:
                cur.append(g.scalar())
            elif r < 0.7:
                cur.pop(rng.randrange(len(cur)))
            else:
                cur[rng.randrange(len(cur))] = g.scalar()
            parent[key] = cur
        else:
            parent[key] = g.listing(len(path))
    elif kind == "comment":
        if store == "json":
            return None
        if at is None and rng.random() < 0.25:
            # the end of the map (INI, dotenv: of the file)
            path = (mpath if store == "yaml" else ()) + (END,)
        if (di,) + path in doc.comments and rng.random() < 0.35:
            del doc.comments[(di,) + path]
        else:
            doc.comments[(di,) + path] = "note %s" % g.token()
    elif kind == "retype":
        if leaf_only:
            return None
        cur = parent.get(key, MISSING)
        parent[key] = g.mapping(len(path), 1) if not isinstance(cur, dict) else g.scalar()
    return kind, (di, path)


def add_comments(g, doc, store, share=0.25):
    """Comments above some of the keys of a base."""
    if store == "json":
        return
    for di, d in enumerate(doc.docs):
        for path, m in maps_in(d):
            for k in m:
                if g.rng.random() < share:
                    doc.comments[(di,) + path + (k,)] = "note %s" % g.token()
            # at the end of a map (INI, dotenv: of the file)
            if (store == "yaml" or not path) and g.rng.random() < share:
                doc.comments[(di,) + path + (END,)] = "note %s" % g.token()


def edit_side(g, doc, store, n):
    done = []
    for _ in range(n):
        r = edit(g, doc, store)
        if r:
            done.append(r)
    return done


def both_sides(g, base, ours, theirs, store):
    """An edit at one place on both sides: the same value, other values,
    removed on one side and changed on the other."""
    rng = g.rng
    di = rng.randrange(len(base.docs))
    maps = [(p, m) for p, m in maps_in(base.docs[di]) if store != "ini" or len(p) == 1]
    mpath, parent = rng.choice(maps)
    if store == "ini" and not mpath:
        return
    r = rng.random()
    existing = list(parent)
    if r < 0.35 or not existing:
        key = g.key(len(mpath))
        v1 = g.scalar()
        v2 = v1 if rng.random() < 0.5 else g.scalar()
        edit(g, ours, store, "add", (di, mpath + (key,)), v1)
        edit(g, theirs, store, "add", (di, mpath + (key,)), v2)
    elif r < 0.65:
        key = rng.choice(existing)
        v1 = g.scalar()
        v2 = v1 if rng.random() < 0.4 else g.scalar()
        edit(g, ours, store, "change", (di, mpath + (key,)), v1)
        edit(g, theirs, store, "change", (di, mpath + (key,)), v2)
    else:
        key = rng.choice(existing)
        a, b = (ours, theirs) if rng.random() < 0.5 else (theirs, ours)
        edit(g, a, store, "delete", (di, mpath + (key,)))
        edit(g, b, store, "change", (di, mpath + (key,)), g.scalar())


END = "$end"  # the last element of a place at the end of a map (INI, dotenv: of the file)


def holds(docs, place):
    """Whether docs hold what a comment place is anchored by: the key, or
    for a place at the end of a map, the map."""
    di = place[0]
    if di < 0 or di >= len(docs):
        return False
    node = docs[di]
    for k in place[1:]:
        if k == END:
            return isinstance(node, dict)
        if not isinstance(node, dict) or k not in node:
            return False
        node = node[k]
    return True


def path_exists(docs, place, merged=False):
    """Whether the key a comment place names is in docs (a map's end: the
    map, holding a key; in the merge, a nested map has an end even empty:
    the driver writes `m: {` and the comment before its `}`)."""
    if not holds(docs, place):
        return False
    if place[-1] != END:
        return True
    node = docs[place[0]]
    for k in place[1:-1]:
        node = node[k]
    return bool(node) or (merged and len(place) > 2)


def rendered(doc, store):
    """The comments a Doc's text holds: {place: text}, a place the path of
    the key below it (a comment of a key the document lacks is not
    written)."""
    if doc is None or store == "json":
        return {}
    return {p: c for p, c in doc.comments.items() if path_exists(doc.docs, p)}


def same(a, b):
    """Equal data, the order of a map's keys included (the driver counts
    it: docs/git.md "Merges"); Python's == of dicts ignores it."""
    if isinstance(a, UnknownOrder) or isinstance(b, UnknownOrder):
        return False  # its order equals nothing
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return type(a) is type(b) and a == b


def same_unordered(a, b):
    return a == b and type(a) is type(b)


def order_kept(a, b):
    """Whether the keys maps a and b both hold come in the same order."""
    return [k for k in a if k in b] == [k for k in b if k in a]


def reorder_like(keys, ref):
    """keys in ref's order; a key ref lacks stays after the key it followed
    (first when none), as the driver's reorder_like."""
    pos = {k: i for i, k in enumerate(ref)}
    ranked, prev = [], 0
    for i, k in enumerate(keys):
        if k in pos:
            prev = pos[k] + 1
        ranked.append((prev, i, k))
    return [k for _, _, k in sorted(ranked)]


class UnknownOrder(dict):
    """A map of a criss-cross merge's virtual base whose merge bases
    ordered its keys differently: its order equals neither side's (git's
    virtual base holds markers there)."""


def match_docs(a, b):
    """The longest common subsequence of equal documents: for each of b's
    documents the index of a's it is, or None."""
    n, m = len(a), len(b)
    ln = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            ln[i][j] = ln[i + 1][j + 1] + 1 if same(a[i], b[j]) else max(ln[i + 1][j], ln[i][j + 1])
    at, i, j = [None] * m, 0, 0
    while i < n and j < m:
        if same(a[i], b[j]):
            at[j] = i
            i, j = i + 1, j + 1
        elif ln[i + 1][j] >= ln[i][j + 1]:
            i += 1
        else:
            j += 1
    return at


def doc_places(c, i, j):
    """The places of document i of c as document j's."""
    if i is None:
        return {}
    return {(j,) + p[1:]: v for p, v in c.items() if p[0] == i}


class Merge:
    """The model three-way merge: maps key by key at every depth, lists and
    scalars as atoms, a conflict only where both sides changed one thing
    differently. pick chooses what a conflict takes ("ours", "theirs" or
    None: record it only)."""

    def __init__(self, pick=None):
        self.pick = pick
        self.conflicts = []
        self.whole = False
        self.orphans = []  # comments a conflict's side keeps above another key

    def value(self, b, o, t, path):
        if same(o, t) or same(b, t):
            return o
        if same(b, o):
            return t
        if isinstance(o, dict) and isinstance(t, dict) and (b is MISSING or isinstance(b, dict)):
            return self.mapping({} if b is MISSING else b, o, t, path)
        # a removal drops nothing of a side that only moved keys
        if t is MISSING and isinstance(b, dict) and same_unordered(b, o):
            return t
        if o is MISSING and isinstance(b, dict) and same_unordered(b, t):
            return o
        self.conflicts.append(path)
        if self.pick == "unknown":
            return object()  # equals nothing: git's virtual base holds markers there
        return t if self.pick == "theirs" else o

    def mapping(self, b, o, t, path):
        out = {}
        for k in list(o) + [k for k in t if k not in o]:
            n = len(self.conflicts)
            v = self.value(b.get(k, MISSING), o.get(k, MISSING), t.get(k, MISSING), path + (k,))
            if v is MISSING:
                continue
            ref = b if len(self.conflicts) > n and self.pick == "base" else t
            if k not in o and k in ref:
                # a key theirs added, or one ours removed brought back by
                # a conflict's side: where it stood in that side, after
                # the nearest key before it that the merge holds (first
                # when none)
                before = list(ref)[:list(ref).index(k)]
                prev = next((x for x in reversed(before) if x in out), None)
                keys = list(out)
                at = keys.index(prev) + 1 if prev is not None else 0
                # keys both sides added there: in the byte order of their
                # names, whichever side is ours (git merges criss-cross
                # merge bases in the order of their dates)
                while at < len(keys) and keys[at] not in ref and str(keys[at]).encode() < str(k).encode():
                    at += 1
                out[k] = v
                out = {x: out[x] for x in keys[:at] + [k] + keys[at:]}
                continue
            out[k] = v
        # the order of keys is data: base's while neither side changed the
        # order of the keys it kept, else the side that did (keys only the
        # other has after the key they followed), both differently a
        # conflict at this map; a base of unknown order (criss-cross) was
        # changed by both
        unknown = isinstance(b, UnknownOrder)
        ours_moved = unknown or not order_kept(b, o)
        theirs_moved = unknown or not order_kept(b, t)
        keys = list(out)
        if theirs_moved and not ours_moved:
            keys = reorder_like(keys, t)
        elif theirs_moved and not order_kept(o, t):
            self.conflicts.append(path + ("(order)",))
            if self.pick == "unknown":
                return UnknownOrder(out)
            if self.pick == "theirs":
                keys = reorder_like(keys, t)
            elif self.pick == "base":
                keys = reorder_like(keys, b)
        return {k: out[k] for k in keys}

    def docs(self, b, o, t):
        if not b:
            # added on both sides, or over an empty file (git gives the
            # driver an empty base for both): each document merges with
            # nothing
            b = [MISSING] * len(o) if len(o) == len(t) else []
        if len(o) == len(t) == len(b):
            return [self.value(x, y, z, (i,)) for i, (x, y, z) in enumerate(zip(b, o, t))]
        # the documents of a file as one atom
        if same(o, t) or same(b, t):
            return o
        if same(b, o) or (not t and same_unordered(b, o)):
            return t
        if not o and same_unordered(b, t):
            return o
        self.whole = True
        self.conflicts.append(())
        return t if self.pick == "theirs" else o


    def comment_places(self, cb, co, ct, merged, docs=None):
        """Comments per place, as git merges lines: one side changed a
        place, that side's; both alike, that; both differently, a
        conflict. A key the merge removed keeps no comment, so a comment
        changed or added above it conflicts. A side that lacks the key (or
        map) the merge holds (docs: the base's, ours' and theirs') removed
        or replaced it, and the data conflicted: it changed no comment
        there, and the base's stands for its own (the value a side of the
        markers shows keeps the comments it had)."""
        out = {}
        for p in sorted(set(cb) | set(co) | set(ct), key=repr):
            b, o, t = cb.get(p), co.get(p), ct.get(p)
            here = path_exists(merged, p, True)
            if docs is not None and here:
                if not holds(docs[1], p):
                    o = b
                if not holds(docs[2], p):
                    t = b
            conflict = False
            if o == t or b == t:
                r = o
            elif b == o:
                r = t
            else:
                conflict = True
            if not conflict and r is not None and not here:
                conflict = True
            if conflict:
                self.conflicts.append(("comment",) + p)
                r = t if self.pick == "theirs" else b if self.pick == "base" else o
                if self.pick == "unknown":
                    r = object()  # equals nothing: git's virtual base holds markers there
            if r is not None and here:
                out[p] = r
            elif r is not None:
                self.orphans.append(r)
        return out

    def comments(self, b, o, t, merged, store):
        """The merged comments {place: text} over docs()'s result merged;
        b None for a file new on both sides."""
        if store == "json":
            return {}
        cb, co, ct = rendered(b, store), rendered(o, store), rendered(t, store)
        bd = b.docs if b is not None else []
        if len(o.docs) == len(t.docs) and (not bd or len(bd) == len(o.docs)):
            return self.comment_places(cb, co, ct, merged, (bd, o.docs, t.docs))
        out = self.doc_set_comments(bd, cb, o, co, t, ct, merged)
        if not merged and any(c[:1] == ("comment",) for c in self.conflicts):
            self.whole = True  # a file emptied on one side: no document to mark
        return out

    def doc_set_comments(self, bd, cb, o, co, t, ct, merged):
        # documents added or removed, one atom: each document of the side
        # kept is matched (as data) with the base's, whose data the other
        # side holds too
        same_docs = same(o.docs, t.docs)
        # as docs() chose: also a file ours emptied where theirs only
        # moved keys (their document is the base's, its comments compared
        # with the base's there)
        keep_ours = same_docs or same(bd, t.docs) or (not o.docs and same_unordered(bd, t.docs))
        kept, ck, cx = (o, co, ct) if keep_ours else (t, ct, co)
        at = match_docs(bd, kept.docs)
        out = {}
        for j, i in enumerate(at):
            pk, px = doc_places(ck, j, j), doc_places(cx, j if same_docs else i, j)
            po, pt = (pk, px) if keep_ours else (px, pk)
            out.update(self.comment_places(doc_places(cb, i, j), po, pt, merged))
        for i in range(len(bd)):
            if i in at:
                continue
            px = {} if same_docs else doc_places(cx, i, -1 - i)
            po, pt = ({}, px) if keep_ours else (px, {})
            self.comment_places(doc_places(cb, i, -1 - i), po, pt, merged)
        return out


# ---- text of each store ----------------------------------------------------

PLAIN = re.compile(r"^[a-z][a-z0-9]*$")


def yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if PLAIN.match(v):
        return v
    return json.dumps(v)


def yaml_text(doc, rng, step):
    if not doc.docs:
        return b""
    out = []

    def comment(di, path, ind):
        c = doc.comments.get((di,) + path)
        if c:
            out.append(" " * ind + "# " + c)

    def node(di, v, path, ind):
        for k, x in v.items():
            comment(di, path + (k,), ind)
            head = " " * ind + yaml_scalar(k) + ":"
            if isinstance(x, dict):
                if not x:
                    out.append(head + " {}")
                else:
                    out.append(head)
                    node(di, x, path + (k,), ind + step)
            elif isinstance(x, list):
                if not x:
                    out.append(head + " []")
                elif all(not isinstance(i, (dict, list)) and not (isinstance(i, str) and "\n" in i) for i in x) \
                        and len(x) < 3:
                    out.append(head + " [" + ", ".join(yaml_scalar(i) for i in x) + "]")
                else:
                    out.append(head)
                    for i in x:
                        if isinstance(i, str) and "\n" in i:
                            out.append(" " * (ind + step) + "- " + json.dumps(i))
                        elif isinstance(i, dict):
                            out.append(" " * (ind + step) + "- " + json.dumps(i))
                        else:
                            out.append(" " * (ind + step) + "- " + yaml_scalar(i))
            elif isinstance(x, str) and "\n" in x and x.endswith("\n") and "\n\n" not in x:
                out.append(head + " |")
                for line in x[:-1].split("\n"):
                    out.append(" " * (ind + step) + line)
            else:
                out.append(head + " " + yaml_scalar(x))
        if v:
            comment(di, path + (END,), ind)

    for di, d in enumerate(doc.docs):
        if di or len(doc.docs) > 1:
            out.append("---")
        if not d:
            out.append("{}")
        node(di, d, (), 0)
    return ("\n".join(out) + "\n").encode()


def json_text(doc, rng, step):
    if not doc.docs:
        return b""
    return (json.dumps(doc.docs[0], indent=step) + "\n").encode()


def dotenv_text(doc, rng, step):
    if not doc.docs:
        return b""
    out = []
    for k, v in doc.docs[0].items():
        c = doc.comments.get((0, k))
        if c:
            out.append("# " + c)
        out.append("%s=%s" % (k, v))
    c = doc.comments.get((0, END))
    if c and doc.docs[0]:
        out.append("# " + c)
    return ("\n".join(out) + "\n").encode()


def ini_text(doc, rng, step):
    if not doc.docs:
        return b""
    out = []
    for s, m in doc.docs[0].items():
        c = doc.comments.get((0, s))
        if c:
            out.append("; " + c)
        out.append("[%s]" % s)
        for k, v in m.items():
            c = doc.comments.get((0, s, k))
            if c:
                out.append("# " + c)
            out.append("%s = %s" % (k, v))
        out.append("")
    c = doc.comments.get((0, END))
    if c and doc.docs[0]:
        out.insert(len(out) - 1, "# " + c)
    return ("\n".join(out).rstrip("\n") + "\n").encode()


TEXT = {"yaml": yaml_text, "json": json_text, "dotenv": dotenv_text, "ini": ini_text}


def ini_parse(data):
    out, sec = {}, None
    for line in data.decode("utf-8").split("\n"):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            if not s.endswith("]"):
                raise ValueError("bad header %r" % s)
            sec = out.setdefault(s[1:-1], {})
            continue
        if sec is None or "=" not in s:
            raise ValueError("bad line %r" % s)
        k, v = s.split("=", 1)
        if k.strip() in sec:
            raise ValueError("duplicate key %r" % k)
        sec[k.strip()] = v.strip()
    return ("ini", tuple((k, tuple(v.items())) for k, v in out.items()))


def data_of(store, text):
    """The data of a text as an oracle independent of gitseal sees it; the
    order of keys counts (it is data to the driver)."""
    if not text and store in ("yaml", "json"):
        return ("empty file",)  # no document; a dotenv or INI file of no key reads as one
    if store == "yaml":
        return rule1.yaml_tree(text)
    if store == "json":
        return rule1.json_tree(text)
    if store == "dotenv":
        return tuple((k, v) for k, v in rule1.dotenv_tree(text) if k != "comment")
    return ini_parse(text)


NOTE = re.compile(r"note v[0-9a-f]{10}\d{3}")
YAML_KEY = re.compile(r"""^( *)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-][^:#]*?|-[^\s:#][^:#]*?) *:( |$)""")


def yaml_key_of(line):
    """(indentation, key, whether the value is on later lines) of a block
    mapping's key line, or None."""
    m = YAML_KEY.match(line)
    if not m:
        return None
    k = m.group(2)
    if k.startswith('"'):
        k = json.loads(k)
    elif k.startswith("'"):
        k = k[1:-1].replace("''", "'")
    rest = line[m.end():].strip()
    return len(m.group(1)), k, rest == "" or rest.startswith("#")


def yaml_place(lines, at):
    """The key path of the key line lines[at]; None when it is no key."""
    k = yaml_key_of(lines[at])
    if not k:
        return None
    ind, path = k[0], [k[1]]
    for i in range(at - 1, -1, -1):
        if ind == 0:
            break
        s = lines[i].strip()
        if not s or s.startswith("#"):
            continue
        p = yaml_key_of(lines[i])
        if p and p[0] < ind and p[2]:
            path.insert(0, p[1])
            ind = p[0]
        elif p is None and len(lines[i]) - len(lines[i].lstrip(" ")) < ind:
            return None  # under a list item or a flow value: not a place the model has
    return tuple(path) if ind == 0 else None


def comments_of(store, text):
    """The note comments of a text, {place: [texts]}: a place is the path
    of the key on the first line below the comment that is no comment (or
    "?" when that is no key); independent of gitseal."""
    out = {}
    if store == "json":
        return out
    docs = [text.decode("utf-8", "replace").split("\n")]
    if store == "yaml":
        lines0, docs, cur = docs[0], [], []
        for line in lines0:
            if re.match(r"^---( |$)", line):
                docs.append(cur)
                cur = []
            else:
                cur.append(line)
        docs.append(cur)
        if not any(l.strip() and not l.strip().startswith("#") for l in docs[0]) and len(docs) > 1:
            docs[1] = docs[0] + docs[1]
            docs = docs[1:]
    for di, lines in enumerate(docs):
        for n, line in enumerate(lines):
            s = line.strip()
            m = NOTE.search(s)
            if not m or not s or s[0] not in "#;":
                continue
            below = next((i for i in range(n + 1, len(lines))
                          if lines[i].strip() and lines[i].strip()[0] not in "#;"), None)
            place = ("?",)
            ci = len(line) - len(line.lstrip(" "))
            if below is None and store in ("dotenv", "ini"):
                place = (0, END)
            elif store == "yaml" and below is not None and lines[below].strip() == "}":
                # in an empty flow map the merge left: its end
                above = next((i for i in range(n - 1, -1, -1) if lines[i].rstrip().endswith("{") and
                              yaml_key_of(lines[i])), None)
                p = yaml_place(lines, above) if above is not None else None
                place = (di,) + p + (END,) if p else place
            elif store == "yaml" and (below is None or len(lines[below]) - len(lines[below].lstrip(" ")) < ci or
                                      (ci == 0 and below is None)):
                # less indented below (or nothing): the end of the map of
                # the key line above at the comment's indentation
                above = next((i for i in range(n - 1, -1, -1) if lines[i].strip() and
                              lines[i].strip()[0] != "#" and
                              len(lines[i]) - len(lines[i].lstrip(" ")) == ci and yaml_key_of(lines[i])), None)
                p = yaml_place(lines, above) if above is not None else None
                place = (di,) + p[:-1] + (END,) if p else place
            elif below is not None:
                b = lines[below].strip()
                if store == "yaml":
                    p = yaml_place(lines, below)
                    place = (di,) + p if p else place
                elif store == "dotenv" and "=" in b:
                    place = (0, b.split("=", 1)[0].strip())
                elif store == "ini" and b.startswith("[") and b.endswith("]"):
                    place = (0, b[1:-1])
                elif store == "ini" and "=" in b:
                    sec = next((lines[i].strip()[1:-1] for i in range(below - 1, -1, -1)
                                if lines[i].strip().startswith("[")), None)
                    place = (0, sec, b.split("=", 1)[0].strip()) if sec is not None else place
            out.setdefault(place, []).append(m.group(0))
    return out


def expected_comments(comments):
    return {p: [NOTE.search(c).group(0)] for p, c in comments.items()}


def values_of(node):
    """Every string leaf (the secrets a scan looks for)."""
    if isinstance(node, dict):
        for v in node.values():
            yield from values_of(v)
    elif isinstance(node, list):
        for v in node:
            yield from values_of(v)
    elif isinstance(node, str):
        for line in node.split("\n"):
            m = re.search(r"v[0-9a-f]{10}\d{3}", line)
            if m:
                yield m.group(0)


def resolve_markers(text, side):
    """The text with each conflict's side kept (0: ours, 1: theirs)."""
    out, state = [], None
    for line in text.split(b"\n"):
        if re.match(rb"^<{7}( |$)", line):
            state = 0
            continue
        if state is not None and re.match(rb"^\|{7}( |$)", line):
            state = 2
            continue
        if state is not None and line == b"=" * 7:
            state = 1
            continue
        if state is not None and re.match(rb"^>{7}( |$)", line):
            state = None
            continue
        if state is None or state == side:
            out.append(line)
    return b"\n".join(out)


# ---- git ---------------------------------------------------------------------

class Harness:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.keep = args.keep
        self.as_lines_fails = args.as_lines_fails
        self.counts = collections.Counter()
        self.failures = 0
        self.tmp = tempfile.mkdtemp(prefix="mergefuzz-")
        os.chmod(self.tmp, 0o700)
        self.key = os.path.join(REPO, "keys", "demo-age-key.txt")
        self.key2 = os.path.join(REPO, "keys", "test-age-key-2.txt")
        self.recipient = open(os.path.join(REPO, "keys", "demo-age-recipient.txt")).read().strip()
        self.recipient2 = [l.split(": ", 1)[1].strip() for l in open(self.key2)
                           if l.startswith("# public key: ")][0]
        home = os.path.join(self.tmp, "home")
        os.mkdir(home)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SOPS_", "GIT_")) and k not in ("EDITOR", "VISUAL")}
        self.env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                        SOPS_AGE_KEY_FILE=self.key, GIT_CONFIG_NOSYSTEM="1",
                        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                        GIT_COMMITTER_EMAIL="t@e", GIT_EDITOR="true",
                        PATH=os.path.dirname(self.bin) + os.pathsep + os.environ.get("PATH", ""))
        self.n = 0

    def git(self, d, *argv, check=True):
        p = subprocess.run(("git",) + argv, cwd=d, env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        if check and p.returncode != 0:
            raise RuntimeError("git %s: %s" % (" ".join(argv), (p.stdout + p.stderr).decode(errors="replace")[-400:]))
        return p

    def gitseal(self, d, *argv, stdin=None):
        p = subprocess.run((self.bin,) + argv, cwd=d, env=self.env, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def repo(self, store):
        self.n += 1
        d = os.path.join(self.tmp, "c%05d" % self.n)
        os.makedirs(os.path.join(d, "repo", "secrets"))
        repo = os.path.join(d, "repo")
        self.git(repo, "init", "-q", "-b", "main")
        rule1.write(os.path.join(repo, ".sops.yaml"),
                    ("creation_rules:\n  - path_regex: ^secrets/\n    age: %s\n" % self.recipient).encode())
        rc, _, err = self.gitseal(repo, "git", "init", "secrets/**")
        if rc:
            raise RuntimeError("gitseal git init: " + err)
        self.git(repo, "config", "rerere.enabled", "true")
        self.git(repo, "add", ".sops.yaml", ".gitattributes")
        self.git(repo, "commit", "-qm", "rules")
        return d, repo

    def lines_clean(self, case, out, files):
        """The driver merged as lines (a conflict) where the model merges
        cleanly: a writer limit (docs/git.md) or a defect. Said, and a
        failure under --as-lines-fails; False then."""
        why = "merged as lines, the model merges: %s" % rule1.first_line(out)
        if self.as_lines_fails:
            self.fail(case, why, files)
            return False
        print("INFO %s: %s" % (case, why), flush=True)
        return True

    def fail(self, case, why, files):
        self.failures += 1
        self.counts[case.store + ":" + case.flow + ":FAIL"] += 1
        where = ""
        if self.keep:
            dest = os.path.join(self.keep, "%s-%d" % (case.store, self.failures))
            os.makedirs(dest, exist_ok=True)
            for name, data in files.items():
                rule1.write(os.path.join(dest, name), data)
            rule1.write(os.path.join(dest, "case"), ("%s\n%s\n" % (case, why)).encode())
            where = " [%s]" % dest
        print("FAIL %s: %s%s" % (case, why, where), flush=True)


class Case:
    def __init__(self, seed, store, flow, idx):
        self.seed, self.store, self.flow, self.idx = seed, store, flow, idx

    def __str__(self):
        return "seed=%d store=%s flow=%s case=%d" % (self.seed, self.store, self.flow, self.idx)


def scan_git(h, repo, secrets):
    """Secret values found in any object or any file under .git."""
    objs = h.git(repo, "cat-file", "--batch-all-objects", "--batch", check=False).stdout
    found = set()
    for s in secrets:
        if s.encode() in objs:
            found.add("%s in an object" % s)
    for root, _, files in os.walk(os.path.join(repo, ".git")):
        if "/objects" in root:
            continue  # compressed: read through cat-file above
        for f in files:
            p = os.path.join(root, f)
            try:
                data = rule1.read(p)
            except OSError:
                continue
            for s in secrets:
                if s.encode() in data:
                    found.add("%s in %s" % (s, os.path.relpath(p, repo)))
    return sorted(found)


RECIPIENT_RE = re.compile(rb"age1[02-9ac-hj-np-z]{58}")


def recipients_of(blob):
    return sorted(set(RECIPIENT_RE.findall(blob)))


def blob_plain(h, d, store, blob):
    """The blob decrypted by `gitseal decrypt` (its MAC checked)."""
    f = os.path.join(d, "blob." + EXT[store])
    rule1.write(f, blob)
    rc, out, err = h.gitseal(d, "decrypt", f)
    os.unlink(f)
    return rc, out, err


def merged_as_lines(h, case, repo, work, texts, files):
    """A tree merge the driver refused merges as lines: a conflicted index,
    markers in the work tree (a file without them would pass for a
    resolution), and every value either side added (texts: of a merge)."""
    if not conflicted(h, repo):
        h.fail(case, "merged as lines without a conflicted index", files)
        return False
    if not re.search(rb"^<{7} ", work, re.M):
        h.fail(case, "merged as lines without markers in the work tree", files)
        return False
    for side in ("ours", "theirs") if texts else ():
        lost = set(TOKEN.findall(texts[side])) - set(TOKEN.findall(texts["base"])) - set(TOKEN.findall(work))
        if lost:
            h.fail(case, "merged as lines without %s' %s" % (side, b", ".join(sorted(lost)).decode()), files)
            return False
    return True


def conflicted(h, repo):
    st = h.git(repo, "status", "--porcelain").stdout
    return any(line[:2] in (b"UU", b"AA", b"DU", b"UD") for line in st.splitlines())


def run_flow(h, case, d, repo, path, texts):
    """The flow up to the merge; returns (exit status, output, the
    repository where it happened)."""
    rel = "secrets/f." + EXT[case.store]
    flow = case.flow
    if flow == "merge":
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "merge", "--no-edit", "theirs", check=False)
    elif flow == "rebase":
        h.git(repo, "checkout", "-qf", "-B", "w", "theirs")
        p = h.git(repo, "rebase", "ours", check=False)
    elif flow == "cherry-pick":
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "cherry-pick", "--keep-redundant-commits", "theirs", check=False)
    elif flow == "stash":
        h.git(repo, "checkout", "-qf", "-B", "w", "base")
        rule1.write(path, texts["theirs"])
        h.git(repo, "add", rel)
        h.git(repo, "stash", "-q")
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "stash", "pop", check=False)
    elif flow == "merge-x":
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "merge", "--no-edit", "-X", ("ours", "theirs")[case.idx % 2], "theirs", check=False)
    elif flow in ("checkout-m", "switch-m"):
        h.git(repo, "checkout", "-qf", "-B", "w", "base")
        rule1.write(path, texts["theirs"])
        if flow == "switch-m":
            p = h.git(repo, "switch", "--merge", "ours", check=False)
        else:
            p = h.git(repo, "checkout", "-m", "ours", check=False)
        if p.returncode == 0 and conflicted(h, repo):
            # git checkout -m exits 0 over a conflict it leaves in the index
            return 1, (p.stdout + p.stderr).decode(errors="replace"), repo, path
    elif flow == "squash":
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "merge", "--squash", "theirs", check=False)
    elif flow == "am":
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        patch = h.git(repo, "format-patch", "-1", "--stdout", "--binary", "--no-textconv", "theirs").stdout
        patch_file = os.path.join(d, "theirs.patch")
        with open(patch_file, "wb") as pf:
            pf.write(patch)
        p = h.git(repo, "am", "-3", patch_file, check=False)
    elif flow in ("cherry-pick-m1", "rebase-merges"):
        # theirs merged (no driver: only theirs changed the file) into a
        # branch from base that changed another file
        h.git(repo, "checkout", "-qf", "-B", "side", "base")
        rule1.write(os.path.join(repo, "other.txt"), b"side\n")
        h.git(repo, "add", "other.txt")
        h.git(repo, "commit", "-qm", "side")
        h.git(repo, "merge", "-q", "--no-ff", "--no-edit", "theirs")
        if flow == "cherry-pick-m1":
            h.git(repo, "checkout", "-qf", "-B", "w", "ours")
            p = h.git(repo, "cherry-pick", "--keep-redundant-commits", "-m", "1", "side", check=False)
        else:
            h.git(repo, "checkout", "-qf", "-B", "w", "side")
            p = h.git(repo, "rebase", "--rebase-merges", "ours", check=False)
    elif flow in ("rebase-edit", "rebase-squash"):
        if flow == "rebase-squash":
            # theirs' commit squashed into an earlier one (of another file)
            h.git(repo, "checkout", "-qf", "-B", "w", "base")
            rule1.write(os.path.join(repo, "other.txt"), b"earlier\n")
            h.git(repo, "add", "other.txt")
            h.git(repo, "commit", "-qm", "earlier")
            h.git(repo, "cherry-pick", "theirs")
            todo = "sed -i '2s/^pick/squash/'"
        else:
            h.git(repo, "checkout", "-qf", "-B", "w", "theirs")
            todo = "sed -i '1s/^pick/edit/'"
        p = h.git(repo, "-c", "sequence.editor=" + todo, "rebase", "-i", "ours", check=False)
        if p.returncode and b"is now empty" in p.stdout + p.stderr and not conflicted(h, repo):
            # ours held theirs' change already: an interactive rebase
            # stops at the empty commit (git's way), the merge clean
            p = h.git(repo, "rebase", "--skip", check=False)
        if p.returncode == 0 and rebasing(repo):
            # stopped at theirs' commit, applied: amended as it is
            h.git(repo, "commit", "-q", "--amend", "--no-edit")
            p = h.git(repo, "rebase", "--continue", check=False)
    elif flow == "rotate":
        # one side's data key rotated (a commit of its own) after its edit
        # (updatekeys --rotate, or gitseal rotate of the sealed blob, its
        # output staged as it is)
        side = ("ours", "theirs")[case.idx % 2]
        h.git(repo, "checkout", "-qf", side)
        blob = h.git(repo, "cat-file", "-p", "HEAD:" + rel).stdout
        if not blob.strip():
            rc = 0  # a side that emptied the file: no sops file, no key to rotate
            case.emptied = True
            h.counts[case.store + ":rotate:emptied"] += 1
        elif case.idx // 2 % 2:
            sealed = os.path.join(d, "rotated." + EXT[case.store])
            rule1.write(sealed, blob)
            rc, _, err = h.gitseal(d, "rotate", "-i", sealed)
            if not rc:
                shutil.copyfile(sealed, path)
                h.git(repo, "add", rel)
        else:
            rc, _, err = h.gitseal(repo, "updatekeys", "-r", "--rotate", "-y", "secrets")
        if rc:
            raise RuntimeError("rotate: " + err)
        h.git(repo, "commit", "-qm", "rotated", "--allow-empty")
        h.git(repo, "checkout", "-qf", "-B", "w", "ours")
        p = h.git(repo, "merge", "--no-edit", "theirs", check=False)
    elif flow == "revert":
        h.git(repo, "checkout", "-qf", "-B", "w", "theirs")
        rule1.write(path, texts["ours"])
        h.git(repo, "commit", "-qam", "ours over theirs")
        p = h.git(repo, "revert", "--no-edit", "theirs", check=False)
        if p.returncode and b"nothing to commit" in p.stdout + p.stderr and not conflicted(h, repo):
            # the revert changes nothing: git leaves HEAD as it was
            return 0, (p.stdout + p.stderr).decode(errors="replace"), repo, path
    else:
        clone = os.path.join(d, "clone")
        if not os.path.exists(clone):
            h.git(d, "clone", "-q", "--no-checkout", repo, clone)
            rc, _, err = h.gitseal(clone, "git", "init")
            if rc:
                raise RuntimeError("gitseal git init in the clone: " + err)
            h.git(clone, "config", "rerere.enabled", "true")
        h.git(clone, "checkout", "-qf", "-B", "w", "origin/theirs")
        p = h.git(clone, "pull", "--rebase", "origin", "ours", check=False)
        repo = clone
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace"), repo, os.path.join(repo, rel)


def rebasing(repo):
    return os.path.isdir(os.path.join(repo, ".git", "rebase-merge"))


def finish(h, case, repo):
    """Commits a resolution in the flow's way."""
    flow = case.flow
    if flow in ("rebase", "pull-rebase", "am", "rebase-merges", "rebase-edit", "rebase-squash"):
        cmd = "am" if flow == "am" else "rebase"
        # an edit stops again once the resolution is committed
        for _ in range(3):
            p = h.git(repo, cmd, "--continue", check=False)
            if p.returncode and (b"nothing to commit" in p.stdout + p.stderr or
                                 b"No changes - did you forget" in p.stdout + p.stderr):
                h.git(repo, cmd, "--skip")
            elif p.returncode:
                raise RuntimeError(cmd + " --continue: " + (p.stdout + p.stderr).decode(errors="replace")[-300:])
            if cmd == "am" or not rebasing(repo):
                break
    elif flow in ("cherry-pick", "revert", "cherry-pick-m1"):
        p = h.git(repo, flow.split("-m1")[0], "--continue", check=False)
        if p.returncode:
            h.git(repo, "commit", "-q", "--allow-empty", "--no-edit")
    elif flow == "stash":
        h.git(repo, "commit", "-qm", "resolved", "--allow-empty")
        h.git(repo, "stash", "drop", "-q")
    elif flow in ("checkout-m", "switch-m"):
        h.git(repo, "commit", "-qm", "resolved", "--allow-empty")
    else:
        h.git(repo, "commit", "-q", "--no-edit", "--allow-empty")


def check_committed(h, case, d, repo, rel, want_data, base_rcpt, files):
    """HEAD's blob verifies, holds want_data and is sealed for the base's
    recipients; the work tree says nothing changed."""
    blob = h.git(repo, "cat-file", "-p", "HEAD:" + rel).stdout
    files = dict(files, blob=blob)
    if not blob:
        # an empty file is committed as it is
        if data_of(case.store, blob) != want_data:
            h.fail(case, "committed an empty file, the model wants %r" % rule1.short(want_data), files)
            return False
        return True
    rc, plain, err = blob_plain(h, d, case.store, blob)
    if rc:
        h.fail(case, "the committed blob does not open: %s" % rule1.first_line(err), files)
        return False
    got = data_of(case.store, plain)
    if got != want_data:
        h.fail(case, "the committed data differs from the model: %s" % rule1.first_diff(want_data, got),
               dict(files, committed=plain))
        return False
    if recipients_of(blob) != base_rcpt:
        h.fail(case, "sealed for %s, the base for %s" % (recipients_of(blob), base_rcpt), files)
        return False
    st = h.git(repo, "status", "--porcelain", "--", rel).stdout
    if st:
        h.fail(case, "git status not clean: %r" % st, files)
        return False
    return True


def one_case(h, case):
    rng = random.Random("%d/%s/%d" % (case.seed, case.store, case.idx))
    g = Gen(rng, case.store)
    store = case.store
    for _ in range(50):
        base = Doc(g.document_set())
        add_comments(g, base, store)
        ours, theirs = base.copy(), base.copy()
        edit_side(g, ours, store, rng.randrange(1, 4))
        edit_side(g, theirs, store, rng.randrange(0, 4))
        if rng.random() < 0.35:
            both_sides(g, base, ours, theirs, store)
        step = rng.choice([2, 4])
        texts = {n: TEXT[store](x, rng, step) for n, x in (("base", base), ("ours", ours), ("theirs", theirs))}
        # git runs no driver unless both sides changed the file
        if len(set(texts.values())) == 3:
            break
    else:
        raise AssertionError("no case with edits on both sides")
    files = {"base": texts["base"], "ours": texts["ours"], "theirs": texts["theirs"]}
    for n, t in texts.items():
        try:
            data_of(store, t)
        except Exception as e:  # noqa: BLE001
            raise AssertionError("the generator wrote a text its oracle refuses: %s\n%s" % (e, t.decode()))
    # sometimes the file is new on both branches (git's add/add: an empty
    # base); stash cannot carry a new file over as a merge
    fresh = case.flow not in ("stash", "revert", "am", "checkout-m", "switch-m", "rotate") and rng.random() < 0.12
    bdocs = None if fresh else base.docs
    # the three versions git merges: a revert of theirs' commit made on
    # top of it, under ours, merges ours with base over theirs
    roles = (bdocs, ours.docs, theirs.docs) if case.flow != "revert" else \
        (theirs.docs, ours.docs, base.docs)
    role_docs = (None if fresh else base, ours, theirs) if case.flow != "revert" else (theirs, ours, base)
    if fresh:
        texts["base"] = files["base"] = b""
        h.counts[store + ":added-on-both-sides"] += 1
    model = Merge()
    merged = model.docs(*roles)
    comments = model.comments(*role_docs, merged, store) if not model.whole else {}
    if any(c[:1] == ("comment",) for c in model.conflicts):
        h.counts[store + ":comment-conflict"] += 1
    secrets = set()
    for x in (base, ours, theirs):
        for dd in x.docs:
            secrets.update(values_of(dd))

    def model_text(pick):
        m = Merge(pick)
        docs = m.docs(*roles)
        return TEXT[store](Doc(docs, m.comments(*role_docs, docs, store)), rng, step)

    def model_notes(pick):
        """The note comments the pick side of a conflict holds."""
        m = Merge(pick)
        docs = m.docs(*roles)
        return set(NOTE.findall(" ".join(list(m.comments(*role_docs, docs, store).values()) + m.orphans)))

    def model_orphans(pick):
        """Whether the pick side keeps a comment whose key the merge removed."""
        m = Merge(pick)
        docs = m.docs(*roles)
        m.comments(*role_docs, docs, store)
        return bool(m.orphans)

    # the versions whose changes each side of the markers shows (a revert
    # merges ours with base over theirs)
    side_texts = (texts["ours"], texts["theirs"] if case.flow != "revert" else texts["base"])

    d, repo = h.repo(store)
    rel = "secrets/f." + EXT[store]
    path = os.path.join(repo, rel)
    with case_run(h, case, d, files):
        if not fresh:
            rule1.write(path, texts["base"])
            h.git(repo, "add", "-A")
        h.git(repo, "commit", "-qm", "base", "--allow-empty")
        h.git(repo, "branch", "base")
        for side in ("ours", "theirs"):
            h.git(repo, "checkout", "-qf", "-B", side, "base")
            os.makedirs(os.path.dirname(path), exist_ok=True)  # git removes it when empty
            rule1.write(path, texts[side])
            h.git(repo, "add", rel)
            h.git(repo, "commit", "-qm", side)
        # whom the result is sealed for: the base's (ours' for a new file)
        # (an empty base is no sops file: then a side's, sealed by the same rule)
        base_rcpt = []
        for b in ("ours", "theirs") if fresh else ("base", "ours", "theirs"):
            base_rcpt = recipients_of(h.git(repo, "cat-file", "-p", b + ":" + rel).stdout)
            if base_rcpt:
                break
        code, out, repo2, path2 = run_flow(h, case, d, repo, path, texts)
        h.counts[store + ":" + case.flow + ":run"] += 1
        work = rule1.read(path2) if os.path.exists(path2) else b""
        files.update(output=out.encode(), worktree=work)
        if code == 0 and case.flow in ("stash", "squash", "checkout-m", "switch-m"):
            h.git(repo2, "commit", "-qam", "popped", "--allow-empty")
        if code == 0:
            if not check_merged(h, case, d, repo2, rel, model, TEXT[store](Doc(merged), rng, step), work,
                                base_rcpt, files):
                return
            if not check_comments(h, case, comments, work, files):
                return
            if case.flow == "rotate" and not getattr(case, "emptied", False) and \
                    not check_rotated(h, case, repo2, rel, files):
                return
        elif AS_LINES in out:
            # the store cannot write the merged comments at their places:
            # the versions merge as lines, a conflict that keeps both sides
            if not merged_as_lines(h, case, repo2, work, texts if case.flow == "merge" else None, files):
                return
            h.counts[store + ":merged-as-lines(info)"] += 1
            if not model.conflicts and not h.lines_clean(case, out, files):
                return
        else:
            if not model.conflicts:
                h.fail(case, "git exits %d, the model merges: %s" % (code, rule1.first_line(out)), files)
                return
            if not conflicted(h, repo2):
                h.fail(case, "git exits %d without a conflicted index: %s" % (code, rule1.first_line(out)),
                       files)
                return
            if not conflict_checks(h, case, d, repo2, path2, rel, store, model, model_text, model_notes,
                                   (model_orphans, side_texts), work,
                                   secrets, base_rcpt, files, rng):
                return
            h.counts[store + ":" + case.flow + ":conflict"] += 1
        no_leaks(h, case, repo2, secrets, files)


# the first line of an age header wrapping a data key for an X25519
# recipient: its ephemeral share tells one wrapping (one data key) from another
WRAPPED = re.compile(rb"YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0\+IFgyNTUxOS[A-Za-z0-9+/]{20}")


def check_rotated(h, case, repo, rel, files):
    """A clean merge over a rotation: the result is not sealed under the
    data key from before it (the base's, which the other side kept)."""
    old = set(WRAPPED.findall(h.git(repo, "cat-file", "-p", "base:" + rel).stdout))
    got = set(WRAPPED.findall(h.git(repo, "cat-file", "-p", "HEAD:" + rel).stdout))
    if not old or not got or old & got:
        h.fail(case, "the merge over a rotation is sealed under the data key from before it", files)
        return False
    h.counts[case.store + ":rotate:key-kept-rotated"] += 1
    return True


def check_merged(h, case, d, repo, rel, model, want_text, work, base_rcpt, files):
    """git exited 0: the model has no conflict, and the work tree and the
    committed blob hold its data."""
    if model.conflicts:
        h.fail(case, "git exits 0, the model has conflicts at %s" % model.conflicts[:3], files)
        return False
    want, got = data_of(case.store, want_text), data_of(case.store, work)
    if got != want:
        h.fail(case, "merged data differs from the model: %s" % rule1.first_diff(want, got), files)
        return False
    if not check_committed(h, case, d, repo, rel, want, base_rcpt, files):
        return False
    h.counts[case.store + ":" + case.flow + ":merged"] += 1
    return True


def check_comments(h, case, comments, work, files):
    """git exited 0: each comment is where the model's merge of comments
    puts it (none of a side lost, none a side removed or changed kept, none
    moved to another key)."""
    want, got = expected_comments(comments), comments_of(case.store, work)
    if got != want:
        wt = {c: p for p, cs in want.items() for c in cs}
        gt = {c: p for p, cs in got.items() for c in cs}
        lost = sorted(c for c in wt if c not in gt)
        extra = sorted(c for c in gt if c not in wt)
        moved = sorted("%s at %s, not %s" % (c, gt[c], wt[c]) for c in wt if c in gt and gt[c] != wt[c])
        h.fail(case, "comments differ from the model: lost %s; kept %s; moved %s" %
               (lost[:3], extra[:3], moved[:3]), files)
        return False
    h.counts[case.store + ":comments-at-their-place"] += sum(len(v) for v in want.values())
    return True


def conflict_checks(h, case, d, repo, path, rel, store, model, model_text, model_notes, whole_sides, work, secrets,
                    base_rcpt, files, rng):
    if model.whole:
        h.counts[store + ":whole-file-conflict"] += 1
    else:
        for side, pick in ((0, "ours"), (1, "theirs")):
            res = resolve_markers(work, side)
            ok, _ = (True, None)
            try:
                got = data_of(store, res)
            except Exception as e:  # noqa: BLE001
                h.fail(case, "the %s side of the markers does not parse: %s" % (pick, e), files)
                return False
            want = data_of(store, model_text(pick))
            model_orphans, side_texts = whole_sides
            if got != want and store == "ini" and model_orphans(pick) and \
                    res.strip() == side_texts[side].strip():
                # INI (go-ini, which sops reads) has no place for a comment
                # whose key this merge removed (a comment at the end of a
                # section is the next one's): the driver shows that side's
                # version whole, every change of it kept (docs/git.md)
                h.counts[store + ":side-whole-unwritable-comment"] += 1
                continue
            if got != want:
                h.fail(case, "the %s side of the markers is not the model's: %s" %
                       (pick, rule1.first_diff(want, got)), files)
                return False
            notes, want_notes = set(NOTE.findall(res.decode("utf-8", "replace"))), model_notes(pick)
            if notes != want_notes:
                h.fail(case, "the %s side of the markers has other comments than the model's: lost %s, kept %s" %
                       (pick, sorted(want_notes - notes)[:3], sorted(notes - want_notes)[:3]), files)
                return False
    # a resolution, committed in the flow's way
    how = rng.choice(["ours", "theirs", "manual"])
    h.counts[store + ":resolved-" + how] += 1
    if how == "manual":
        extra = "res%s" % "".join(rng.choice("0123456789abcdef") for _ in range(12))
        secrets.add(extra)
        text = model_text("theirs")
        text = resolve_with(store, text, extra)
        rule1.write(path, text)
    else:
        h.git(repo, "checkout", "--" + how, "--", rel)
        text = rule1.read(path)
    h.git(repo, "add", rel)
    finish(h, case, repo)
    return check_committed(h, case, d, repo, rel, data_of(store, text), base_rcpt, dict(files, resolved=text))


def resolve_with(store, text, extra):
    """text with one more key holding the value extra."""
    if store == "yaml":
        lines = text.split(b"\n")
        # into the first document
        at = 1 if lines[0] == b"---" else 0
        if lines[at] == b"{}":
            lines[at] = b"resolved: " + extra.encode()
        else:
            lines.insert(at, b"resolved: " + extra.encode())
        return b"\n".join(lines)
    if store == "json":
        # a side that emptied the file: the resolution starts from nothing
        o = json.loads(text) if text.strip() else {}
        o["resolved"] = extra
        return json.dumps(o, indent=2).encode() + b"\n"
    if store == "dotenv":
        return text + b"RESOLVED=" + extra.encode() + b"\n"
    return b"[resolved]\nkey = " + extra.encode() + b"\n" + text


# ---- criss-cross: two merge bases -----------------------------------------------

def criss_cross_case(h, case):
    """x and m from base, each merged into the other (their conflicts
    resolved each its own way), edited again and merged: git merges the
    two merge bases first, through the driver. The model's base is their
    merge with a value that equals nothing where they conflicted (git's
    virtual base holds markers there, which agree with neither side):
    exit 0 exactly when the model has no conflict, then its data; a
    conflict shows markers."""
    store = case.store
    rng = random.Random("%d/%s/%d/criss-cross" % (case.seed, store, case.idx))
    g = Gen(rng, store)
    for _ in range(50):
        base = Doc(g.document_set())
        x, m = base.copy(), base.copy()
        edit_side(g, x, store, rng.randrange(1, 3))
        edit_side(g, m, store, rng.randrange(1, 3))
        if rng.random() < 0.6:
            both_sides(g, base, m, x, store)
        inner = Merge()
        inner.comments(base, m, x, inner.docs(base.docs, m.docs, x.docs), store)
        if inner.whole:
            continue
        m2 = Doc(Merge("ours").docs(base.docs, m.docs, x.docs))
        x2 = Doc(Merge("theirs").docs(base.docs, m.docs, x.docs))
        m3, x3 = m2.copy(), x2.copy()
        edit_side(g, m3, store, rng.randrange(1, 3))
        edit_side(g, x3, store, rng.randrange(1, 3))
        step = rng.choice([2, 4])
        t = {n: TEXT[store](d, rng, step) for n, d in
             (("base", base), ("x", x), ("m", m), ("m2", m2), ("x2", x2), ("m3", m3), ("x3", x3))}
        if len({t["base"], t["x"], t["m"]}) == 3 and len({t["m2"], t["m3"], t["x3"]}) == 3 and \
                t["x2"] != t["x3"]:
            break
    else:
        raise AssertionError("no criss-cross case")
    vmodel = Merge("unknown")
    vbase = vmodel.docs(base.docs, m.docs, x.docs)
    vcomments = vmodel.comments(base, m, x, vbase, store)
    model = Merge()
    merged = model.docs(vbase, m3.docs, x3.docs)
    comments = model.comments(Doc(vbase, vcomments), m3, x3, merged, store) if not model.whole else {}
    secrets = set()
    for dd in (base, x, m, m2, x2, m3, x3):
        for doc in dd.docs:
            secrets.update(values_of(doc))
    files = {n: v for n, v in t.items()}
    d, repo = h.repo(store)
    rel = "secrets/f." + EXT[store]
    path = os.path.join(repo, rel)

    def commit(branch, start, name, merge=None):
        h.git(repo, "checkout", "-qf", "-B", branch, start)
        if merge:
            h.git(repo, "merge", "--no-edit", merge, check=False)
        rule1.write(path, t[name])
        h.git(repo, "add", rel)
        h.git(repo, "commit", "-qm", name, "--allow-empty")

    with case_run(h, case, d, files):
        rule1.write(path, t["base"])
        h.git(repo, "add", "-A")
        h.git(repo, "commit", "-qm", "base")
        h.git(repo, "branch", "base")
        base_rcpt = recipients_of(h.git(repo, "cat-file", "-p", "base:" + rel).stdout)
        commit("x", "base", "x")
        commit("m", "base", "m")
        commit("m2", "m", "m2", merge="x")
        commit("x2", "x", "x2", merge="m")
        commit("m3", "m2", "m3")
        commit("x3", "x2", "x3")
        bases = h.git(repo, "merge-base", "--all", "m3", "x3").stdout.split()
        h.counts[store + ":criss-cross:merge-bases=%d" % len(bases)] += 1
        h.git(repo, "checkout", "-qf", "-B", "w", "m3")
        p = h.git(repo, "merge", "--no-edit", "x3", check=False)
        out = (p.stdout + p.stderr).decode(errors="replace")
        work = rule1.read(path) if os.path.exists(path) else b""
        files.update(output=out.encode(), worktree=work)
        h.counts[store + ":criss-cross:run"] += 1
        if p.returncode == 0:
            if not check_merged(h, case, d, repo, rel, model, TEXT[store](Doc(merged), rng, step), work,
                                base_rcpt, files):
                return
            if not check_comments(h, case, comments, work, files):
                return
        elif AS_LINES in out:
            if not merged_as_lines(h, case, repo, work, None, files):
                return
            h.counts[store + ":merged-as-lines(info)"] += 1
            if not model.conflicts and not h.lines_clean(case, out, files):
                return
        else:
            # a whole-file conflict whose lines merge cleanly shows that
            # merge without markers (tests/git/mergefuzz.bats)
            if not conflicted(h, repo) or (not model.whole and not re.search(rb"^<{7} ", work, re.M)):
                h.fail(case, "git exits %d without markers in the work tree: %s" %
                       (p.returncode, rule1.first_line(out)), files)
                return
            if not model.conflicts:
                h.fail(case, "git exits %d, the model merges: %s" % (p.returncode, rule1.first_line(out)), files)
                return
            h.counts[store + ":criss-cross:conflict"] += 1
        no_leaks(h, case, repo, secrets, files)


# ---- rule 2: a branch that names another recipient --------------------------

@contextlib.contextmanager
def case_run(h, case, d, files):
    """A case's steps: a git step that fails is the case's failure; its
    directory goes at the end (a failure's bytes are under --keep)."""
    try:
        yield
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        h.fail(case, "harness step failed: %s" % str(e).splitlines()[0][:300], files)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def no_leaks(h, case, repo, secrets, files):
    """No secret value in any object or file under .git (else a failure)."""
    leaks = scan_git(h, repo, secrets)
    if leaks:
        h.fail(case, "plaintext under .git: %s" % ", ".join(leaks[:4]), files)
    return not leaks


def binary_lines(rng, g, lines):
    """lines with a few random line edits: changed, added, removed."""
    out = list(lines)
    for _ in range(rng.randrange(1, 3)):
        r, at = rng.random(), rng.randrange(len(out) + 1)
        if r < 0.45 and at < len(out):
            out[at] = g.token()
        elif r < 0.75 or not out:
            out.insert(at, g.token())
        elif at < len(out):
            del out[at]
    return out


def binary_case(h, case):
    """A file of the binary store (its one value is the file's text): its
    lines merge as git merges a text file. The oracle is git merge-file on
    the plaintexts: clean exactly when it is, the same text; a conflict's
    sides resolved are its --ours and --theirs merges (nothing dropped)."""
    rng = random.Random("%d/%s/%d" % (case.seed, case.store, case.idx))
    g = Gen(rng, "dotenv")
    while True:
        base = [g.token() for _ in range(rng.randrange(1, 30))]
        sides = [binary_lines(rng, g, base), binary_lines(rng, g, base)]
        if rng.random() < 0.2:  # the same line changed on both sides
            at = rng.randrange(len(base))
            for sd in sides:
                if at < len(sd):
                    sd[at] = g.token()
        texts = {"base": base, "ours": sides[0], "theirs": sides[1]}
        nl = rng.random() < 0.85  # else no final newline
        texts = {k: ("\n".join(v) + ("\n" if nl and v else "")).encode() for k, v in texts.items()}
        if len(set(texts.values())) == 3:
            break
    files = dict(texts)
    secrets = {t.decode() for t in TOKEN.findall(b" ".join(texts.values()))}
    d, repo = h.repo("binary")
    rel = "secrets/f.txt"
    path = os.path.join(repo, rel)

    def merge_file(*flags):
        tmp = [os.path.join(d, n) for n in ("o", "b", "t")]
        for f, n in zip(tmp, ("ours", "base", "theirs")):
            rule1.write(f, texts[n])
        p = subprocess.run(("git", "merge-file", "-p") + flags + tuple(tmp), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=h.env)
        for f in tmp:
            os.unlink(f)
        return p.returncode, p.stdout

    with case_run(h, case, d, files):
        rule1.write(path, texts["base"])
        h.git(repo, "add", "-A")
        h.git(repo, "commit", "-qm", "base")
        h.git(repo, "branch", "base")
        for side in ("ours", "theirs"):
            h.git(repo, "checkout", "-qf", "-B", side, "base")
            rule1.write(path, texts[side])
            h.git(repo, "add", rel)
            h.git(repo, "commit", "-qm", side)
        base_rcpt = recipients_of(h.git(repo, "cat-file", "-p", "base:" + rel).stdout)
        code, out, repo2, path2 = run_flow(h, case, d, repo, path, texts)
        h.counts["binary:" + case.flow + ":run"] += 1
        work = rule1.read(path2) if os.path.exists(path2) else b""
        files.update(output=out.encode(), worktree=work)
        rc, want = merge_file()
        if (code == 0) != (rc == 0):
            h.fail(case, "git exits %d, git merge-file %d: %s" % (code, rc, rule1.first_line(out)), files)
            return
        if code == 0:
            if case.flow in ("stash", "squash", "checkout-m"):
                h.git(repo2, "commit", "-qam", "popped", "--allow-empty")
            if work != want:
                h.fail(case, "the merged text is not git merge-file's", dict(files, model=want))
                return
            blob = h.git(repo2, "cat-file", "-p", "HEAD:" + rel).stdout
            rc2, plain, err = blob_plain(h, d, "binary", blob)
            if rc2 or plain != want or recipients_of(blob) != base_rcpt:
                h.fail(case, "the committed blob is not the merge sealed for the base's recipients: %s" %
                       rule1.first_line(err), dict(files, blob=blob))
                return
            h.counts["binary:" + case.flow + ":merged"] += 1
        else:
            for i, flag in enumerate(("--ours", "--theirs")):
                got, want_side = resolve_markers(work, i), merge_file(flag)[1]
                if got != want_side:
                    h.fail(case, "the %s side of the markers is not git merge-file %s's" % (flag[2:], flag),
                           dict(files, model=want_side))
                    return
            h.counts["binary:" + case.flow + ":conflict"] += 1
        no_leaks(h, case, repo2, secrets, files)


def widen_case(h, seed, idx):
    """theirs changes the file's metadata, as a pull request can: another
    recipient, sealed by hand for both or a stanza grafted onto the base's
    metadata; or its own rule narrowed (encrypted_regex) so that values
    are in clear. The merge must neither seal the result for that
    recipient nor leave a value in clear without a word."""
    case = Case(seed, "yaml", "widen", idx)
    rng = random.Random("%d/widen/%d" % (seed, idx))
    d, repo = h.repo("yaml")
    rel = "secrets/f.yaml"
    path = os.path.join(repo, rel)
    files = {}
    try:
        rule1.write(path, b"a: wide%03d-base\nb: wide%03d-bee\n" % (idx, idx))
        h.git(repo, "add", "-A")
        h.git(repo, "commit", "-qm", "base")
        h.git(repo, "branch", "base")
        h.git(repo, "checkout", "-qb", "theirs")
        plain = b"a: wide%03d-base\nb: wide%03d-bee\nc: wide%03d-new\n" % (idx, idx, idx)
        kind = ["sealed-for-both", "grafted-stanza", "narrowed-rule"][idx % 3]
        if kind == "narrowed-rule":
            # readers unchanged, but its own rule leaves b and c in clear
            f = os.path.join(d, "x.yaml")
            rule1.write(f, plain)
            rc, blob, err = h.gitseal(d, "encrypt", "--age", h.recipient, "--encrypted-regex", "^a$", f)
            if rc:
                raise RuntimeError("encrypt: " + err)
        elif kind == "sealed-for-both":
            f = os.path.join(d, "x.yaml")
            rule1.write(f, plain)
            rc, blob, err = h.gitseal(d, "encrypt", "--age", h.recipient + "," + h.recipient2, f)
            if rc:
                raise RuntimeError("encrypt: " + err)
        else:
            f = os.path.join(d, "x.yaml")
            rule1.write(f, b"z: 1\n")
            rc, other, err = h.gitseal(d, "encrypt", "--age", h.recipient2, f)
            stanza = re.search(rb"\n(        - recipient: .*?\n(?:          .*\n)+)", other) or \
                re.search(rb"\n(        - enc: \|\n(?:          .*\n)+)", other)
            rule1.write(path, plain)
            h.git(repo, "add", rel)
            blob = h.git(repo, "cat-file", "-p", ":" + rel).stdout
            blob = re.sub(rb"(\n    age:\n)", lambda m: m.group(1) + stanza.group(1), blob, count=1)
        oid = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=blob, env=h.env,
                             stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        h.git(repo, "update-index", "--cacheinfo", "100644,%s,%s" % (oid, rel))
        # as a clone without the filter commits it (a pull request)
        h.git(repo, "-c", "filter.gitseal.process=", "-c", "filter.gitseal.required=false",
              "commit", "-qm", "theirs: another recipient", "--no-verify")
        h.git(repo, "checkout", "-qf", "-B", "w", "base")
        ours = b"a: wide%03d-ours\nb: wide%03d-bee\n" % (idx, idx)
        rule1.write(path, ours + (b"d: wide%03d-dnew\n" % idx if kind == "narrowed-rule" else b""))
        h.git(repo, "commit", "-qam", "ours")
        flow = rng.choice(["merge", "rebase", "cherry-pick"])
        case.flow = "widen-" + kind + "-" + flow
        if flow == "merge":
            p = h.git(repo, "merge", "--no-edit", "theirs", check=False)
        elif flow == "rebase":
            h.git(repo, "checkout", "-qf", "-B", "w2", "theirs")
            p = h.git(repo, "rebase", "w", check=False)
        else:
            p = h.git(repo, "cherry-pick", "--keep-redundant-commits", "theirs", check=False)
        out = (p.stdout + p.stderr).decode(errors="replace")
        files["output"] = out.encode()
        h.counts["widen:" + kind + ":run"] += 1
        head = h.git(repo, "cat-file", "-p", "HEAD:" + rel).stdout
        idxblob = h.git(repo, "cat-file", "-p", ":" + rel, check=False).stdout
        r2 = h.recipient2.encode()
        if kind == "narrowed-rule":
            # what theirs put in clear is public already; anything else
            # (ours' new key d) must stay sealed
            public = set(re.findall(rb"^\w+: wide.*$", blob, re.M))
            clear = set(re.findall(rb"^\w+: wide.*$", head + b"\n" + idxblob, re.M)) - public
            if p.returncode == 0 and clear:
                h.fail(case, "the merge exits 0 and leaves %s in clear under theirs' rule" %
                       b", ".join(sorted(clear)).decode(), files)
            elif p.returncode == 0:
                h.counts["widen:" + kind + ":sealed"] += 1
            elif "would be in clear" not in out:
                h.fail(case, "refused without saying why: %s" % rule1.first_line(out), files)
            else:
                h.counts["widen:" + kind + ":refused"] += 1
        elif p.returncode == 0 and (r2 in head or r2 in idxblob):
            h.fail(case, "the merge exits 0 and seals the result for the other recipient", files)
        elif p.returncode == 0:
            h.fail(case, "the merge exits 0 and drops theirs' recipient without a word", files)
        elif "recipients changed: +" + h.recipient2 not in out:
            h.fail(case, "refused without naming the recipient: %s" % rule1.first_line(out), files)
        else:
            h.counts["widen:" + kind + ":refused"] += 1
    except RuntimeError as e:
        h.fail(case, "harness step failed: %s" % str(e).splitlines()[0][:300], files)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "gitseal"))
    ap.add_argument("--cases", type=int, default=10, help="cases per store and flow")
    ap.add_argument("--first", type=int, default=0,
                    help="the first case's number (a case's inputs depend on seed, store and number only)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--store", action="append", choices=STORES + ("binary",))
    ap.add_argument("--flow", action="append", choices=FLOWS + MORE_FLOWS + NEW_FLOWS + ("widen",))
    ap.add_argument("--quick", action="store_true",
                    help="one flow per case, in turn (for make check)")
    ap.add_argument("--keep", help="a directory for the bytes of each failure")
    ap.add_argument("--as-lines-fails", action="store_true",
                    help="a merge as lines where the model merges cleanly is a failure (else said)")
    args = ap.parse_args()
    if rule1.yaml is None:
        print("merge.py: skipped: python3-yaml is not installed")
        return 0
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    h = Harness(args)
    stores = args.store or (STORES if args.quick else STORES + ("binary",))
    flows = args.flow or (FLOWS if args.quick else FLOWS + MORE_FLOWS) + ("widen",)
    print("merge.py: seed %d, %d case(s) per store and flow" % (seed, args.cases), flush=True)
    t0 = time.time()
    stopped = None

    def stop(signum, frame):
        raise KeyboardInterrupt

    # a run cut short (the time budget's kill) still says how far it got
    signal.signal(signal.SIGTERM, stop)
    i = args.first
    try:
        for i in range(args.first, args.first + args.cases):
            for si, store in enumerate(stores):
                run = [f for f in flows if f != "widen"]
                if args.quick and run:
                    run = [run[(i * len(stores) + si) % len(run)]]
                for flow in run:
                    if store == "binary" and flow in ("revert", "criss-cross", "merge-x", "am") + NEW_FLOWS:
                        continue
                    if store == "binary":
                        binary_case(h, Case(seed, store, flow, i))
                    elif flow == "criss-cross":
                        criss_cross_case(h, Case(seed, store, flow, i))
                    else:
                        one_case(h, Case(seed, store, flow, i))
            if "widen" in flows:
                widen_case(h, seed, i)
    except KeyboardInterrupt:
        stopped = i
    finally:
        shutil.rmtree(h.tmp, ignore_errors=True)
    for k in sorted(h.counts):
        print("  %-44s %d" % (k, h.counts[k]))
    if stopped is not None:
        print("merge.py: stopped in case %d (cases %d to %d done), %d run(s)" %
              (stopped, args.first, stopped - 1, sum(v for k, v in h.counts.items() if k.endswith(":run"))))
    print("merge.py: %d failure(s), %.0f s" % (h.failures, time.time() - t0))
    return 1 if h.failures else 2 if stopped is not None else 0


if __name__ == "__main__":
    sys.exit(main())
