#!/usr/bin/env python3
"""Differential harness for rule 1: whenever a gitseal command exits 0,
decrypting what it wrote gives back exactly what the user gave.

The oracle is independent of gitseal's loader: PyYAML (YAML), Python's json
(JSON, numbers kept as their text) and small line parsers (dotenv, INI) read
the input and the decrypted output, and the two trees must be equal.  When
gitseal refuses (non-zero exit) nothing may have changed on disk.

usage: rule1.py [--bin build/gitseal] [--shared ../shared] [--phase NAME]...
                [--limit N] [--keep DIR] [-v]
Exit 0: every check held; 1: a violation (each printed with its case and a
directory holding the bytes to reproduce it, under --keep).
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None


class Harness:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.shared = os.path.abspath(args.shared)
        self.keep = args.keep
        self.verbose = args.verbose
        self.limit = args.limit
        self.failures = []
        self.counts = collections.Counter()
        self.tmp = tempfile.mkdtemp(prefix="rule1-")
        os.chmod(self.tmp, 0o700)
        self.key = os.path.join(REPO, "keys", "demo-age-key.txt")
        self.key2 = os.path.join(REPO, "keys", "test-age-key-2.txt")
        self.recipient = open(os.path.join(REPO, "keys", "demo-age-recipient.txt")).read().strip()
        self.recipient2 = [l.split(": ", 1)[1].strip() for l in open(self.key2)
                           if l.startswith("# public key: ")][0]
        home = os.path.join(self.tmp, "home")
        os.mkdir(home)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SOPS_") and k not in ("EDITOR", "VISUAL")}
        self.env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                        SOPS_AGE_KEY_FILE=self.key, GIT_CONFIG_NOSYSTEM="1",
                        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                        GIT_COMMITTER_EMAIL="t@e")
        self.case_no = 0
        self.seed = args.seed

    # -- running ------------------------------------------------------------
    def run(self, argv, cwd=None, env=None, stdin=None, timeout=60):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([self.bin] + argv, cwd=cwd, env=e, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")

    def workdir(self):
        self.case_no += 1
        d = os.path.join(self.tmp, "c%05d" % self.case_no)
        os.mkdir(d)
        return d

    def fail(self, phase, case, why, files=None):
        self.counts[phase + ":fail"] += 1
        where = ""
        if self.keep and files:
            dest = os.path.join(self.keep, "%s-%d" % (phase, len(self.failures)))
            os.makedirs(dest, exist_ok=True)
            for name, data in files.items():
                with open(os.path.join(dest, name), "wb") as f:
                    f.write(data)
            where = " [" + dest + "]"
        if self.keep and files:
            write(os.path.join(dest, "case"), (case + "\n" + why + "\n").encode())
        self.failures.append((phase, case, why))
        print("FAIL %s %s: %s%s" % (phase, case, why, where), flush=True)

    def ok(self, phase):
        self.counts[phase + ":ok"] += 1

    def skip(self, phase, why):
        self.counts[phase + ":refused:" + why] += 1


# -- independent trees ------------------------------------------------------
class Dup(Exception):
    pass


def _pairs_keep(pairs):
    return ("map", tuple((k, v) for k, v in pairs))


def json_tree(data):
    """JSON as a comparable tree; numbers by their value as decimal text so
    that 1e400 and 1.0 are not rounded by a float."""
    from decimal import Decimal

    def num(s):
        d = Decimal(s)
        return ("num", d.normalize() if d.is_finite() else s)

    def conv(o):
        if isinstance(o, tuple) and o and o[0] == "map":
            return ("map", tuple((k, conv(v)) for k, v in o[1]))
        if isinstance(o, list):
            return ("list", tuple(conv(x) for x in o))
        return o
    return conv(json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data,
                           object_pairs_hook=_pairs_keep, parse_float=num,
                           parse_int=num, parse_constant=lambda s: ("num", s)))


def yaml_tree(data):
    """YAML documents as comparable trees, scalars typed as yaml.v3 types
    them when sops decodes into interface{} (docs/sops-parity.md): YAML
    1.2's true/false/null, ints in Go's base-0 syntax with '_' dropped,
    1.2 floats; timestamps and YAML 1.1's yes/no stay strings; "<<" is a
    key like any other."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    # an empty document is an empty map to sops (and gitseal writes one so
    # when a file's last key is removed after its "---")
    return [conv(d) if d is not None else ("map", ()) for d in yaml.load_all(data, Loader=V3Loader)]


def _v3_loader():
    import re

    class R(yaml.resolver.BaseResolver):
        pass
    R.add_implicit_resolver("tag:yaml.org,2002:bool",
                            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    R.add_implicit_resolver("tag:yaml.org,2002:null",
                            re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
    R.add_implicit_resolver("tag:yaml.org,2002:int",
                            re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$"),
                            list("-+0123456789"))
    R.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
    # no merge keys: sops (yaml.v3 nodes) keeps "<<" as a key like any other

    class L(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
            yaml.composer.Composer, yaml.constructor.SafeConstructor, R):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            R.__init__(self)

    def go_int(loader, node):
        v = go_int_value(loader.construct_scalar(node).replace("_", ""))
        return v if isinstance(v, float) or -2**63 <= v < 2**63 else float(v)

    def go_int_value(t):
        sign = -1 if t.startswith("-") else 1
        t = t.lstrip("+-")
        try:
            if t[:2] in ("0x", "0X"):
                return sign * int(t[2:], 16)
            if t[:2] in ("0o", "0O"):
                return sign * int(t[2:], 8)
            if t[:2] in ("0b", "0B"):
                return sign * int(t[2:], 2)
            if len(t) > 1 and t[0] == "0":
                return sign * int(t[1:], 8)
            return sign * int(t)
        except ValueError:
            return sign * float(t)

    def go_float(loader, node):
        t = loader.construct_scalar(node).replace("_", "").lower()
        return float(t.replace(".inf", "inf").replace(".nan", "nan"))

    def map_pairs(loader, node):
        loader.flatten_mapping(node)
        return ("map", tuple((conv(loader.construct_object(k, deep=True)),
                              conv(loader.construct_object(v, deep=True)))
                             for k, v in node.value))
    L.add_constructor("tag:yaml.org,2002:int", go_int)
    L.add_constructor("tag:yaml.org,2002:float", go_float)
    L.add_constructor("tag:yaml.org,2002:timestamp", lambda lo, n: lo.construct_scalar(n))
    L.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, map_pairs)
    # yaml.v3 knows no set: a !!set is a mapping of its keys to nulls
    L.add_constructor("tag:yaml.org,2002:set", map_pairs)
    return L


V3Loader = _v3_loader() if yaml else None

def conv(o):
    import math
    if isinstance(o, float):
        if math.isnan(o):
            return ("float", "nan")
        return ("float", repr(o))
    if isinstance(o, bool):
        return ("bool", o)
    if isinstance(o, int):
        return ("int", o)
    if isinstance(o, list):
        return ("list", tuple(conv(x) for x in o))
    if isinstance(o, tuple):
        return o
    if isinstance(o, (bytes, bytearray)):
        return ("bytes", bytes(o))
    if o is None:
        return ("null",)
    if isinstance(o, str):
        return ("str", o)
    return ("other", repr(o))


def dotenv_tree(data):
    """sops's dotenv store: KEY=VALUE lines, '#' comments, blank lines kept."""
    out = []
    text = data.decode("utf-8")
    for line in text.split("\n"):
        if line == "":
            continue
        if line.startswith("#"):
            out.append(("comment", line[1:]))
            continue
        if "=" not in line:
            raise ValueError("no = in %r" % line)
        k, v = line.split("=", 1)
        out.append((k, v))
    return out


def ini_tree(data):
    """Lines stripped; a value's continuation lines (a key line ending in a
    backslash) joined to it, as go-ini reads them and gitseal writes them
    back (docs/git.md)."""
    out = []
    lines = data.decode("utf-8").splitlines()
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        i += 1
        if not s:
            continue
        if s[0] not in "#;[" and ("=" in s or ":" in s):
            while s.endswith("\\") and i < len(lines):
                s = s[:-1] + lines[i].strip()
                i += 1
        out.append(s)
    return out


TREES = {"yaml": lambda d: yaml_tree(d), "json": json_tree, "dotenv": dotenv_tree,
         "ini": ini_tree, "binary": lambda d: d}


def yaml_comments(data):
    """The comments of a YAML text in order: a '#' at a line start or after
    a blank, outside every scalar (PyYAML's scanner gives their spans)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    text = text.replace("\r\n", "\n")
    spans = []
    for t in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(t, yaml.ScalarToken):
            start = t.start_mark.index
            if t.style in ("|", ">"):
                # a block scalar's header line may end in a comment
                nl = text.find("\n", start)
                start = len(text) if nl < 0 else nl
            spans.append((start, t.end_mark.index))
    out, i, si = [], 0, 0
    while True:
        i = text.find("#", i)
        if i < 0:
            return out
        while si < len(spans) and spans[si][1] <= i:
            si += 1
        inside = si < len(spans) and spans[si][0] <= i < spans[si][1]
        if not inside and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out.append(text[i + 1:end].strip())
            i = end
        else:
            i += 1


def is_subsequence(a, b):
    it = iter(b)
    return all(any(x == y for y in it) for x in a)


def tree_of(fmt, data):
    try:
        return True, TREES[fmt](data)
    except Exception as e:  # noqa: BLE001 the oracle refuses too
        return False, "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:120])


EXT = {"yaml": "yaml", "json": "json", "dotenv": "env", "ini": "ini", "binary": "bin"}


def tree_path(steps):
    """sops's --extract/set path: keys quoted raw (no escapes), indexes bare."""
    out = ""
    for s in steps:
        if isinstance(s, int):
            out += "[%d]" % s
        elif "\0" in s or not s.encode("utf-8", "ignore").decode() == s:
            return None
        elif '"' not in s:
            out += '["%s"]' % s
        elif "'" not in s:
            out += "['%s']" % s
        else:
            return None
    return out


def first_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    return lines[-1][:200] if lines else "(no message)"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# -- phase: encrypt / decrypt in every output mode ---------------------------
def check_same(h, phase, case, fmt, given, got, files):
    """got (decrypted bytes) must be the data of given (plaintext bytes);
    a case under mut/exact/ its bytes (a layout the stores keep)."""
    if got == given:
        h.ok(phase)
        return True
    if "/exact/" in case and phase == "roundtrip":
        h.fail(phase, case, "decrypt gives other bytes where the layout is kept: %s" %
               first_diff(tuple(given.split(b"\n")), tuple(got.split(b"\n"))), files)
        return False
    ok_in, t_in = tree_of(fmt, given)
    ok_out, t_out = tree_of(fmt, got)
    if fmt == "yaml" and ok_in and ok_out:
        try:
            c_in, c_out = yaml_comments(given), yaml_comments(got)
        except yaml.YAMLError:
            c_in = c_out = None
        # every comment given comes back, in order (an alias written out
        # repeats the comments of what it names: docs/conformance.md)
        if c_in is not None and not is_subsequence(c_in, c_out):
            h.fail(phase, case, "comments lost: %s" % first_diff(tuple(c_in), tuple(c_out)), files)
            return False
    if not ok_in:
        # the oracle cannot read the input: only bytes can prove it
        h.counts[phase + ":unverified(oracle refuses input)"] += 1
        return True
    if not ok_out:
        h.fail(phase, case, "decrypted output does not parse: " + t_out, files)
        return False
    if t_in != t_out and not same_but_binary_tag(t_in, t_out):
        h.fail(phase, case, "decrypted data differs: %s" % first_diff(t_in, t_out), files)
        return False
    h.ok(phase)
    h.counts[phase + ":layout-changed"] += 1
    if h.verbose:
        print("  layout changed: %s %s: %s" % (phase, case, first_diff(tuple(given.split(b"\n")),
                                                                    tuple(got.split(b"\n")))))
    return True


def same_but_binary_tag(a, b):
    """A !!binary tag dropped from an encrypted value (docs/conformance.md:
    sops drops tags of encrypted values too): the base64 text comes back."""
    import base64
    if isinstance(a, tuple) and a and a[0] == "bytes" and isinstance(b, tuple) and b[:1] == ("str",):
        try:
            return base64.b64decode("".join(b[1].split())) == a[1]
        except Exception:  # noqa: BLE001
            return False
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        return all(x == y or same_but_binary_tag(x, y) for x, y in zip(a, b))
    return False


def first_diff(a, b, path="$"):
    if type(a) != type(b):
        return "%s: %r != %r" % (path, short(a), short(b))
    if isinstance(a, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_diff(x, y, "%s[%d]" % (path, i))
        if len(a) != len(b):
            return "%s: length %d != %d" % (path, len(a), len(b))
    return "%s: %r != %r" % (path, short(a), short(b))


def short(x):
    r = repr(x)
    return r if len(r) < 100 else r[:100] + "..."


def phase_roundtrip(h, fmt, case, plain):
    phase = "roundtrip"
    d = h.workdir()
    name = "in." + EXT[fmt]
    src = os.path.join(d, name)
    write(src, plain)
    rc, enc, err = h.run(["encrypt", "--age", h.recipient, name], cwd=d)
    if rc != 0:
        if read(src) != plain:
            h.fail(phase, case, "encrypt failed and changed its input", {name: plain})
        h.skip(phase, "encrypt %d" % rc)
        if h.verbose:
            print("  refused %s: %d %s" % (case, rc, first_line(err)))
        return
    files = {name: plain, "enc." + EXT[fmt]: enc}
    encname = "enc." + EXT[fmt]
    write(os.path.join(d, encname), enc)
    rc, dec, err = h.run(["decrypt", encname], cwd=d)
    if rc != 0:
        h.fail(phase, case, "encrypt exited 0 but decrypt fails: %d %s" % (rc, first_line(err)), files)
        return
    if not check_same(h, phase, case, fmt, plain, dec, files):
        return
    # encrypt -i and --output must write what standard output got (bar the
    # random parts): decrypting each must give the same bytes as above
    rc, _, err = h.run(["encrypt", "--age", h.recipient, "--output", "out." + EXT[fmt], name], cwd=d)
    rc2, _, err2 = h.run(["encrypt", "--age", h.recipient, "-i", name], cwd=d)
    for label, r, e, path in (("--output", rc, err, "out." + EXT[fmt]), ("-i", rc2, err2, name)):
        if r != 0:
            h.fail(phase, case, "encrypt %s exits %d where stdout worked: %s" % (label, r, first_line(e)), files)
            continue
        r, dd, e = h.run(["decrypt", path], cwd=d)
        if r != 0 or dd != dec:
            h.fail(phase, case, "encrypt %s: decrypt gives other bytes (%d %s)" % (label, r, first_line(e)), files)
    # decrypt --output and decrypt -i
    rc, _, err = h.run(["decrypt", "--output", "dec." + EXT[fmt], encname], cwd=d)
    if rc != 0 or read(os.path.join(d, "dec." + EXT[fmt])) != dec:
        h.fail(phase, case, "decrypt --output differs from stdout (%d %s)" % (rc, first_line(err)), files)
    rc, _, err = h.run(["decrypt", "-i", encname], cwd=d)
    if rc != 0 or read(os.path.join(d, encname)) != dec:
        h.fail(phase, case, "decrypt -i differs from stdout (%d %s)" % (rc, first_line(err)), files)
    write(os.path.join(d, encname), enc)
    if fmt in ("yaml", "json"):
        phase_extract(h, d, case, fmt, encname, plain, files)
    shutil.rmtree(d, ignore_errors=True)


def phase_extract(h, d, case, fmt, encname, plain, files):
    """--extract of every top-level key, and of paths into maps and lists
    below them, as the store's own format equals the input's value."""
    ok, t = tree_of(fmt, plain)
    if not ok:
        return
    doc = t[0] if fmt == "yaml" else t
    if fmt == "yaml" and len(t) != 1:
        return
    if not (isinstance(doc, tuple) and doc[0] == "map"):
        return
    for k, v in doc[1][:20]:
        if not (isinstance(k, tuple) and k[0] == "str") and fmt == "yaml":
            continue
        extract_one(h, d, case, fmt, encname, files, [k[1] if fmt == "yaml" else k], v)
    deeper = [p for p in tree_paths(fmt, doc) if len(p) > 1][:20]
    for p in deeper:
        extract_one(h, d, case, fmt, encname, files, list(p), value_at(fmt, doc, p))


def value_at(fmt, t, path):
    for step in path:
        if t[0] == "map":
            t = [v for k, v in t[1] if node_key(fmt, k) == step][0]
        else:
            t = t[1][step]
    return t


def extract_one(h, d, case, fmt, encname, files, steps, v):
    phase = "extract"
    path = tree_path(steps)
    if path is None:
        return
    rc, out, err = h.run(["decrypt", "--extract", path, "--output-type", fmt, encname], cwd=d)
    if rc != 0:
        h.fail(phase, case, "--extract %s exits %d: %s" % (path, rc, first_line(err)), files)
        return
    if fmt == "json" and not isinstance(v, (str, tuple)):
        return
    if (fmt == "yaml" and v[0] == "str") or (fmt == "json" and isinstance(v, str)):
        # a string is printed raw (sops prints it with no newline)
        want = (v[1] if fmt == "yaml" else v).encode()
        if out != want:
            h.fail(phase, case, "--extract %s gives %r, want %r" % (path, short(out), short(want)), files)
        else:
            h.ok(phase)
        return
    if v[0] in ("map", "list") and (fmt == "yaml" or v[0] == "map"):
        okx, tx = tree_of(fmt, out)
        got = (tx[0] if okx and fmt == "yaml" and len(tx) == 1 else tx) if okx else None
        if got != v:
            h.fail(phase, case, "--extract %s: %s" % (path, first_diff(v, got) if okx else tx), files)
        else:
            h.ok(phase)


# -- corpora ------------------------------------------------------------------
def corpus_yaml_suite(h):
    root = os.path.join(h.shared, "testdata", "yaml-test-suite")
    for case in sorted(os.listdir(root)):
        base = os.path.join(root, case)
        if not os.path.isdir(base):
            continue
        subs = [base] if os.path.exists(os.path.join(base, "in.yaml")) else \
            [os.path.join(base, s) for s in sorted(os.listdir(base))]
        for s in subs:
            p = os.path.join(s, "in.yaml")
            if os.path.exists(p) and not os.path.exists(os.path.join(s, "error")):
                yield "yaml", "yts/" + os.path.relpath(s, root), read(p)


def corpus_json_suite(h):
    root = os.path.join(h.shared, "testdata", "json-test-suite", "test_parsing")
    for f in sorted(os.listdir(root)):
        if f.startswith(("y_", "i_")):
            yield "json", "jts/" + f, read(os.path.join(root, f))


def corpus_sops_real_plain(h):
    """The plaintexts of the real sops files (decrypted by gitseal, checked
    against expected.plain in phase_sops_real) as new inputs."""
    root = os.path.join(h.shared, "testdata", "sops-real", "cases")
    for case in sorted(os.listdir(root)):
        p = os.path.join(root, case, "expected.plain")
        t = os.path.join(root, case, "type")
        if os.path.exists(p) and os.path.exists(t):
            fmt = read(t).decode().strip()
            yield fmt, "sops-real/" + case, read(p)


def corpus_fixture_plain(h):
    res = os.path.join(h.shared, "testdata", "sops", "getsops-sops", "functional-tests", "res")
    for f in ("comments.yaml", "comments_list.yaml", "comments_unencrypted_comments.yaml",
              "multiple_keys.yaml", "plainfile.yaml"):
        yield "yaml", "sops/" + f, read(os.path.join(res, f))
    k = os.path.join(h.shared, "testdata", "sops", "kaweezle-iknite")
    for f in ("data_with_key_complete_plain.yaml", "data_with_key_invalid_plain.yaml"):
        yield "yaml", "sops/" + f, read(os.path.join(k, f))
    ks = os.path.join(h.shared, "testdata", "ksops")
    for dirpath, _, names in sorted(os.walk(ks)):
        for n in sorted(names):
            if ".plain." in n:
                ext = n.rsplit(".", 1)[1]
                fmt = {"yaml": "yaml", "yml": "yaml", "json": "json", "env": "dotenv",
                       "ini": "ini"}.get(ext, "binary")
                yield fmt, "ksops/" + os.path.relpath(os.path.join(dirpath, n), ks), \
                    read(os.path.join(dirpath, n))


CORPORA = {"yts": corpus_yaml_suite, "jts": corpus_json_suite,
           "sops-real": corpus_sops_real_plain, "fixtures": corpus_fixture_plain}
# also: --corpus mutations, --corpus gen31 (both in the default run)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "gitseal"))
    ap.add_argument("--shared", default=os.environ.get("GITSEAL_SHARED", os.path.join(REPO, "..", "shared")))
    ap.add_argument("--phase", action="append")
    ap.add_argument("--corpus", action="append")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--keep")
    ap.add_argument("--max-paths", type=int, default=12)
    ap.add_argument("--only", help="cases whose name matches this regex")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if yaml is None:
        print("rule1: skipped: python3-yaml is not installed")
        return 0
    if not os.path.isdir(os.path.join(args.shared, "testdata")):
        print("rule1: skipped: no shared test data at %s" % args.shared)
        return 0
    random.seed(args.seed)
    h = Harness(args)
    try:
        phases = args.phase or list(PHASES)
        for name in phases:
            PHASES[name](h, args)
    finally:
        shutil.rmtree(h.tmp, ignore_errors=True)
    for k in sorted(h.counts):
        print("  %-60s %d" % (k, h.counts[k]))
    print("rule1: %d violation(s)" % len(h.failures))
    return 1 if h.failures else 0


def inputs(h, args):
    names = args.corpus or list(CORPORA) + ["mutations", "gen31"]
    n = 0
    for name in names:
        gen = CORPORA.get(name) or globals().get("corpus_" + name)
        for item in gen(h):
            if args.only and not re.search(args.only, item[1]):
                continue
            yield item
            n += 1
            if args.limit and n >= args.limit:
                return


def run_roundtrip(h, args):
    for fmt, case, plain in inputs(h, args):
        phase_roundtrip(h, fmt, case, plain)


# -- tree surgery for set/unset ----------------------------------------------
SET_VALUES = ['"s3t"', "42", "1.5", "true", "false", "null", '{"n": "v", "m": [1]}', '[1, "x", null]',
              '""', '"multi\\nline\\n"', "[]", "{}"]


def value_tree(fmt, text):
    return json_tree(text) if fmt == "json" else conv(yaml.load(text, Loader=V3Loader))


def node_key(fmt, k):
    return k[1] if fmt == "yaml" else k


def tree_paths(fmt, node, prefix=()):
    """Every path below node (keys that are strings, list indexes)."""
    if isinstance(node, tuple) and node and node[0] == "map":
        seen = set()
        for k, v in node[1]:
            if fmt == "yaml" and not (isinstance(k, tuple) and k[0] == "str"):
                continue
            key = node_key(fmt, k)
            if key in seen:
                continue
            seen.add(key)
            yield prefix + (key,)
            yield from tree_paths(fmt, v, prefix + (key,))
    elif isinstance(node, tuple) and node and node[0] == "list":
        for i, v in enumerate(node[1]):
            yield prefix + (i,)
            yield from tree_paths(fmt, v, prefix + (i,))


def tree_change(fmt, node, path, new, delete=False):
    """node with the value at path replaced by new (or removed)."""
    step, rest = path[0], path[1:]
    kind, items = node[0], list(node[1])
    if kind == "map":
        for i, (k, v) in enumerate(items):
            if node_key(fmt, k) == step:
                if not rest:
                    if delete:
                        del items[i]
                    else:
                        items[i] = (k, new)
                else:
                    items[i] = (k, tree_change(fmt, v, rest, new, delete))
                return (kind, tuple(items))
        items.append((("str", step) if fmt == "yaml" else step, new))
        return (kind, tuple(items))
    if not rest:
        if delete:
            del items[step]
        else:
            items[step] = new
    else:
        items[step] = tree_change(fmt, items[step], rest, new, delete)
    return (kind, tuple(items))


def one_hunk(before, after):
    """The decrypted files differ in one contiguous run of lines: every
    other value and line is unchanged byte for byte."""
    import difflib
    a, b = before.splitlines(True), after.splitlines(True)
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    return len(ops) <= 1


def phase_setunset(h, fmt, case, plain, max_paths):
    d = h.workdir()
    name = "f." + EXT[fmt]
    rc, enc, err = h.run(["encrypt", "--age", h.recipient, "--filename-override", name, "/dev/stdin"],
                         cwd=d, stdin=plain)
    if rc != 0:
        return
    ok, t = tree_of(fmt, plain)
    if not ok:
        return
    write(os.path.join(d, name), enc)
    rc, dec0, err = h.run(["decrypt", name], cwd=d)
    ok, t0 = tree_of(fmt, dec0)
    if rc != 0 or not ok:
        return
    # several documents: set and unset act on the first, as in sops; the
    # others must come back as they were
    rest = ()
    if fmt == "yaml":
        if not t0 or not (isinstance(t0[0], tuple) and t0[0][:1] == ("map",)):
            return
        t0, rest = t0[0], tuple(t0[1:])
        if rest:
            h.counts["setunset:multi-document"] += 1
    paths = list(tree_paths(fmt, t0))[:max_paths] + [("added_by_set",)]
    for n, path in enumerate(paths):
        tp = tree_path(path)
        if tp is None:
            continue
        values = SET_VALUES if n < 2 else [SET_VALUES[n % len(SET_VALUES)]]
        for val in values:
            run_set(h, d, name, fmt, case, enc, dec0, t0, path, tp, val, rest)
        if path != ("added_by_set",):
            run_unset(h, d, name, fmt, case, enc, dec0, t0, path, tp, rest)
    shutil.rmtree(d, ignore_errors=True)


def old_is_scalar(t, path):
    for step in path:
        if t[0] == "map":
            m = [v for k, v in t[1] if node_key("yaml", k) == step]
            if not m:
                return True
            t = m[0]
        else:
            t = t[1][step]
    return t[0] not in ("map", "list")


def run_set(h, d, name, fmt, case, enc, dec0, t0, path, tp, val, rest=()):
    f = os.path.join(d, name)
    write(f, enc)
    rc, _, err = h.run(["set", name, tp, val], cwd=d)
    files = {name: enc, "args": ("set %s %s" % (tp, val)).encode()}
    if rc != 0:
        if read(f) != enc:
            h.fail("set", case, "set %s %s exits %d and changed the file" % (tp, val, rc), files)
        h.skip("set", "set %d %s" % (rc, first_line(err)[:60]))
        return
    rc, dec, err = h.run(["decrypt", name], cwd=d)
    if rc != 0:
        h.fail("set", case, "set %s %s: then decrypt exits %d: %s" % (tp, val, rc, first_line(err)), files)
        return
    ok, got = tree_of(fmt, dec)
    want = tree_change(fmt, t0, path, value_tree(fmt, val))
    got = first_doc(fmt, got, rest) if ok else got
    if not ok or got != want:
        h.fail("set", case, "set %s %s: %s" % (tp, val, first_diff(want, got) if ok else got),
               dict(files, **{"dec.after": dec}))
        return
    if fmt == "yaml" and old_is_scalar(t0, path) and not is_subsequence(yaml_comments(dec0), yaml_comments(dec)):
        h.fail("set", case, "set %s %s: comments lost" % (tp, val),
               dict(files, **{"dec.before": dec0, "dec.after": dec}))
        return
    layout_note(h, "set", case, tp, dec0, dec)
    h.ok("set")


def first_doc(fmt, got, rest):
    """The first document of a YAML file whose other documents are rest,
    else a marker that differs from every tree (they changed)."""
    if fmt != "yaml":
        return got
    if len(got) == 1 + len(rest) and tuple(got[1:]) == rest:
        return got[0]
    return ("other documents changed", got[1:])


def run_unset(h, d, name, fmt, case, enc, dec0, t0, path, tp, rest=()):
    f = os.path.join(d, name)
    write(f, enc)
    rc, _, err = h.run(["unset", name, tp], cwd=d)
    files = {name: enc, "args": ("unset %s" % tp).encode()}
    if rc != 0:
        if read(f) != enc:
            h.fail("unset", case, "unset %s exits %d and changed the file" % (tp, rc), files)
        h.skip("unset", "unset %d %s" % (rc, first_line(err)[:60]))
        return
    rc, dec, err = h.run(["decrypt", name], cwd=d)
    if rc != 0:
        h.fail("unset", case, "unset %s: then decrypt exits %d: %s" % (tp, rc, first_line(err)), files)
        return
    ok, got = tree_of(fmt, dec)
    want = tree_change(fmt, t0, path, None, delete=True)
    got = first_doc(fmt, got, rest) if ok else got
    if not ok or got != want:
        h.fail("unset", case, "unset %s: %s" % (tp, first_diff(want, got) if ok else got),
               dict(files, **{"dec.after": dec}))
        return
    layout_note(h, "unset", case, tp, dec0, dec)
    h.ok("unset")


def layout_note(h, phase, case, tp, before, after):
    """Data equal but lines beyond the changed value differ: the file was
    written in the fresh layout (said on stderr); counted, not a violation."""
    if not one_hunk(before, after):
        h.counts[phase + ":layout-rewritten"] += 1
        if h.verbose:
            print("  layout rewritten: %s %s %s" % (phase, case, tp))


def run_setunset(h, args):
    for fmt, case, plain in inputs(h, args):
        if fmt in ("yaml", "json") and len(plain) < 20000:
            try:
                phase_setunset(h, fmt, case, plain, args.max_paths)
            except Exception as e:  # noqa: BLE001 an oracle bug must not hide the rest
                h.counts["setunset:oracle-cannot-follow"] += 1
                print("  oracle cannot follow %s: %s: %s" % (case, type(e).__name__, e))


# -- edit with a scripted editor ---------------------------------------------
def phase_edit(h, fmt, case, plain):
    d = h.workdir()
    name = "f." + EXT[fmt]
    rc, enc, err = h.run(["encrypt", "--age", h.recipient, "--filename-override", name, "/dev/stdin"],
                         cwd=d, stdin=plain)
    if rc != 0:
        return
    editor = os.path.join(HERE, "editor.py")
    save = os.path.join(d, "edited")
    f = os.path.join(d, name)
    for mode in ("none", "change", "add", "remove", "comment"):
        if mode == "add" and (fmt != "yaml" or plain.lstrip()[:1] in (b"{", b"[") or b"\n---" in plain):
            continue
        write(f, enc)
        if os.path.exists(save):
            os.unlink(save)
        rc, _, err = h.run(["edit", name], cwd=d, env={"EDITOR": editor, "RULE1_EDIT": mode,
                                                       "RULE1_EDIT_SAVE": save})
        files = {name: enc, "mode": mode.encode()}
        if mode == "none" or (os.path.exists(save) and read(save) == plain_of(h, d, enc, name)):
            if rc != 200 or read(f) != enc:
                h.fail("edit", case, "edit %s: exit %d (want 200), file %s" %
                       (mode, rc, "kept" if read(f) == enc else "changed"), files)
            else:
                h.ok("edit")
            continue
        edited = read(save) if os.path.exists(save) else None
        if rc != 0:
            if read(f) != enc:
                h.fail("edit", case, "edit %s exits %d and changed the file" % (mode, rc), files)
            h.skip("edit", "edit %s %d %s" % (mode, rc, first_line(err)[:60]))
            if h.verbose:
                print("  refused %s %s: %s" % (case, mode, first_line(err)))
            continue
        files["edited"] = edited
        rc, dec, err = h.run(["decrypt", name], cwd=d)
        if rc != 0:
            h.fail("edit", case, "edit %s: then decrypt exits %d: %s" % (mode, rc, first_line(err)), files)
            continue
        if check_same(h, "edit", case + " " + mode, fmt, edited, dec, dict(files, dec=dec)) and mode == "change":
            # one value changed: the sealed file changes on that value's
            # line and the metadata's lastmodified and mac only
            keep = lambda data: [l for l in data.splitlines(True)
                                 if not re.search(rb"lastmodified|\bmac\b|sops_mac", l)]
            if not one_hunk(b"".join(keep(enc)), b"".join(keep(read(f)))):
                h.counts["edit:sealed-lines-beyond-the-value"] += 1
                if h.verbose:
                    print("  sealed lines beyond the value: edit %s" % case)
    shutil.rmtree(d, ignore_errors=True)


def plain_of(h, d, enc, name):
    rc, dec, _ = h.run(["decrypt", "--filename-override", name, "/dev/stdin"], cwd=d, stdin=enc)
    return dec if rc == 0 else None


def run_edit(h, args):
    for fmt, case, plain in inputs(h, args):
        if fmt in ("yaml", "json", "dotenv", "ini") and len(plain) < 50000:
            phase_edit(h, fmt, case, plain)


# -- rotate, updatekeys, groups -------------------------------------------------
def phase_keys(h, fmt, case, plain):
    d = h.workdir()
    name = "f." + EXT[fmt]
    rc, enc, err = h.run(["encrypt", "--age", h.recipient, "--filename-override", name, "/dev/stdin"],
                         cwd=d, stdin=plain)
    if rc != 0:
        return
    f = os.path.join(d, name)
    write(f, enc)
    dec0 = plain_of(h, d, enc, name)
    if dec0 is None:
        h.fail("keys", case, "encrypt exited 0 but decrypt fails", {name: enc})
        return
    write(os.path.join(d, ".sops.yaml"), ("creation_rules:\n  - age: %s,%s\n" %
                                          (h.recipient, h.recipient2)).encode())
    only2 = {"SOPS_AGE_KEY_FILE": h.key2}
    steps = [
        ("rotate -i", ["rotate", "-i", name], None),
        ("rotate --add-age", ["rotate", "-i", "--add-age", h.recipient2, name], only2),
        ("rotate --rm-age", ["rotate", "-i", "--rm-age", h.recipient2, name], None),
        ("updatekeys -y", ["updatekeys", "-y", name], only2),
        ("rotate --output", ["rotate", "--output", "rotated." + EXT[fmt], name], None),
        ("groups delete 0", ["groups", "delete", "--file", name, "-i", "0"], None),
        ("groups add", ["groups", "add", "--file", name, "-i", "-y", "--age", h.recipient2], only2),
        ("groups delete 0 again", ["groups", "delete", "--file", name, "-i", "0"], only2),
    ]
    for label, argv, dec_env in steps:
        before = read(f)
        rc, out, err = h.run(argv, cwd=d, env={"SOPS_AGE_KEY": read(h.key).decode() + read(h.key2).decode()})
        files = {name: before, "args": " ".join(argv).encode()}
        if rc != 0:
            if read(f) != before:
                h.fail("keys", case, "%s exits %d and changed the file" % (label, rc), files)
            h.skip("keys", "%s %d %s" % (label, rc, first_line(err)[:70]))
            continue
        target = argv[argv.index("--output") + 1] if "--output" in argv else name
        rc, dec, err = h.run(["decrypt", "--input-type", fmt, "--output-type", fmt, target], cwd=d, env=dec_env)
        if rc != 0:
            h.fail("keys", case, "%s exits 0, then decrypt exits %d: %s" % (label, rc, first_line(err)), files)
            continue
        if dec != dec0:
            # the data must be the same; a layout the file's own could not
            # keep (a flow-style root is written afresh) is counted
            ok0, t0 = tree_of(fmt, dec0)
            ok1, t1 = tree_of(fmt, dec)
            if not ok0:
                h.counts["keys:unverified(oracle refuses input)"] += 1
                continue
            if not (ok1 and t0 == t1):
                h.fail("keys", case, "%s changed the plaintext" % label, dict(files, before=dec0, after=dec))
                continue
            h.counts["keys:layout-changed:" + label] += 1
        h.ok("keys")
    shutil.rmtree(d, ignore_errors=True)


def run_keys(h, args):
    for fmt, case, plain in inputs(h, args):
        phase_keys(h, fmt, case, plain)


# -- git: clean/smudge through a fresh clone, and the merge driver -----------------
def git(h, d, *argv, check=True, env=None):
    e = dict(h.env, PATH=os.path.dirname(h.bin) + os.pathsep + os.environ.get("PATH", ""))
    if env:
        e.update(env)
    p = subprocess.run(("git",) + argv, cwd=d, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise RuntimeError("git %s: %s" % (" ".join(argv), p.stderr.decode(errors="replace")[:300]))
    return p


def git_repo(h):
    d = h.workdir()
    repo = os.path.join(d, "repo")
    os.mkdir(repo)
    git(h, repo, "init", "-q", "-b", "main")
    write(os.path.join(repo, ".sops.yaml"),
          ("creation_rules:\n  - path_regex: ^secrets/\n    age: %s\n" % h.recipient).encode())
    rc, _, err = h.run(["git", "init", "secrets/**"], cwd=repo,
                       env={"PATH": os.path.dirname(h.bin) + os.pathsep + os.environ.get("PATH", "")})
    if rc != 0:
        raise RuntimeError("gitseal git init: " + err)
    os.mkdir(os.path.join(repo, "secrets"))
    return d, repo


def edited(fmt, plain):
    """plain with one value added the way a user would type it, or None
    where the format's text has no obvious place for one."""
    if fmt == "binary":
        return plain + b"\x00rt-added\n"
    if fmt == "dotenv" and (not plain or plain.endswith(b"\n")):
        return plain + (b"RT_ADDED=v\r\n" if plain.endswith(b"\r\n") else b"RT_ADDED=v\n")
    if fmt == "ini" and (not plain or plain.endswith(b"\n")):
        nl = b"\r\n" if plain.endswith(b"\r\n") else b"\n"
        return plain + b"[rt_added]" + nl + b"added = v" + nl
    if fmt == "yaml" and mergeable(fmt, plain):
        return plain + b"rt_added: v\n"
    if fmt == "json":
        i = plain.find(b"{")
        if i >= 0 and plain[:i].strip(b" \t\r\n\xef\xbb\xbf") == b"" and plain[i + 1:].lstrip()[:1] != b"}":
            return plain[:i + 1] + b'"rt_added": "v", ' + plain[i + 1:]
    return None


def run_git(h, args):
    """add, commit, a fresh clone's checkout; then each file edited there
    (a value added, the rest as it was: the filter re-seals it keeping the
    committed ciphertexts of what did not change), committed, and checked
    out again in another clone."""
    d, repo = git_repo(h)
    given = {}
    for fmt, case, plain in inputs(h, args):
        if len(plain) > 1 << 20:
            continue
        rc, _, _ = h.run(["encrypt", "--age", h.recipient, "--filename-override", "x." + EXT[fmt],
                          "/dev/stdin"], cwd=d, stdin=plain)
        if rc != 0:
            continue
        rel = "secrets/%04d.%s" % (len(given), EXT[fmt])
        write(os.path.join(repo, rel), plain)
        given[rel] = (fmt, case, plain)
    git(h, repo, "add", "-A")
    git(h, repo, "commit", "-qm", "corpus")
    for rel, (fmt, case, plain) in given.items():
        blob = git(h, repo, "cat-file", "-p", "HEAD:" + rel).stdout
        if b"ENC[AES256_GCM" not in blob and plain.strip():
            h.fail("git", case, "the committed blob is not encrypted", {"blob": blob})
    status = git(h, repo, "status", "--porcelain").stdout
    if status:
        h.counts["git:status-not-clean-after-commit"] += len(status.splitlines())
    clone = os.path.join(d, "clone")
    git(h, d, "clone", "-q", "--no-checkout", repo, clone)
    h.run(["git", "init"], cwd=clone, env={"PATH": os.path.dirname(h.bin) + os.pathsep + os.environ["PATH"]})
    git(h, clone, "checkout", "-q", "main")
    for rel, (fmt, case, plain) in given.items():
        got = read(os.path.join(clone, rel))
        if fmt == "dotenv":
            # text eol=lf: git stores a dotenv file with LF line ends (docs/git.md)
            plain = plain.replace(b"\r\n", b"\n")
        check_same(h, "git", case, fmt, plain, got, {"given": plain, "checkout": got})
    changed = {}
    for rel, (fmt, case, plain) in given.items():
        new = edited(fmt, read(os.path.join(clone, rel)))
        # an edit that made the text something gitseal refuses is not one
        if new is not None and h.run(["encrypt", "--age", h.recipient, "--filename-override", "x." + EXT[fmt],
                                      "/dev/stdin"], cwd=d, stdin=new)[0] == 0:
            write(os.path.join(clone, rel), new)
            changed[rel] = (fmt, case, new)
    git(h, clone, "add", "-A")
    # --only may leave no file the edit can change
    git(h, clone, "commit", "-qm", "edited", "--allow-empty")
    again = os.path.join(d, "again")
    git(h, d, "clone", "-q", "--no-checkout", clone, again)
    h.run(["git", "init"], cwd=again, env={"PATH": os.path.dirname(h.bin) + os.pathsep + os.environ["PATH"]})
    git(h, again, "checkout", "-q", "main")
    for rel, (fmt, case, new) in changed.items():
        blob = git(h, again, "cat-file", "-p", "HEAD:" + rel).stdout
        # in clear only where the file's own rule selects (a Secret's data)
        if b"_regex" not in blob and (b"rt-added" in blob or b"rt_added: v" in blob or b"RT_ADDED=v" in blob
                                      or b"added = v" in blob):
            h.fail("git-edit", case, "the added value is in clear in the committed blob", {"blob": blob})
            continue
        got = read(os.path.join(again, rel))
        if fmt == "dotenv":
            new = new.replace(b"\r\n", b"\n")
        check_same(h, "git-edit", case, fmt, new, got, {"given": new, "checkout": got})
    shutil.rmtree(d, ignore_errors=True)


def mergeable(fmt, plain):
    return fmt == "yaml" and plain.endswith(b"\n") and plain[:1] not in (b"{", b"[", b"-", b" ") and \
        b"\n---" not in plain and not plain.startswith((b"---", b"%", b"\xef")) and b"\r" not in plain


def run_merge(h, args):
    for fmt, case, plain in inputs(h, args):
        if not mergeable(fmt, plain) or len(plain) > 100000:
            continue
        base = plain + b"merge_a: base\nmerge_b: base\n"
        ok, _ = tree_of(fmt, base)
        if not ok:
            continue
        rc, _, _ = h.run(["encrypt", "--age", h.recipient, "--filename-override", "x.yaml", "/dev/stdin"],
                         stdin=base)
        if rc != 0:
            continue
        d, repo = git_repo(h)
        f = os.path.join(repo, "secrets", "f.yaml")
        try:
            write(f, base)
            git(h, repo, "add", "-A")
            git(h, repo, "commit", "-qm", "base")
            git(h, repo, "checkout", "-q", "-b", "side")
            write(f, base.replace(b"merge_b: base", b"merge_b: side"))
            git(h, repo, "commit", "-qam", "side")
            git(h, repo, "checkout", "-q", "main")
            write(f, base.replace(b"merge_a: base", b"merge_a: main"))
            git(h, repo, "commit", "-qam", "main")
            p = git(h, repo, "merge", "-q", "--no-edit", "side", check=False)
        except RuntimeError as e:
            h.fail("merge", case, str(e), {"base.yaml": base})
            shutil.rmtree(d, ignore_errors=True)
            continue
        want = base.replace(b"merge_b: base", b"merge_b: side").replace(b"merge_a: base", b"merge_a: main")
        got = read(f)
        if p.returncode != 0:
            h.fail("merge", case, "non-conflicting edits do not merge: %s" %
                   first_line(p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")),
                   {"base.yaml": base, "worktree": got})
        else:
            check_same(h, "merge", case, fmt, want, got, {"base.yaml": base, "worktree": got})
        shutil.rmtree(d, ignore_errors=True)


# -- render: the sops-real Secrets decoded equal their plaintext ---------------------
def secret_values(doc):
    """A Secret's values as bytes: data base64-decoded, stringData as is."""
    import base64
    out = {}
    for k, v in (doc.get("data") or {}).items():
        try:
            out[k] = base64.b64decode(v, validate=True) if v is not None else b""
        except (ValueError, TypeError):
            out[k] = ("not base64", v)
    for k, v in (doc.get("stringData") or {}).items():
        out[k] = str(v).encode()
    return out


def run_render(h, args):
    root = os.path.join(h.shared, "testdata", "sops-real", "cases")
    for case in sorted(os.listdir(root)):
        c = os.path.join(root, case)
        if read(os.path.join(c, "expect")).strip() != b"ok" or \
                read(os.path.join(c, "type")).strip() not in (b"yaml", b"json"):
            continue
        want = json.loads(read(os.path.join(c, "expected.json")))
        want = want if isinstance(want, list) else [want]
        secrets = [d for d in want if isinstance(d, dict) and d.get("kind") == "Secret"]
        if not secrets:
            continue
        name = [f for f in os.listdir(c) if f not in ("expect", "expected.json", "expected.plain", "key.txt",
                                                      "type", "file")][0]
        d = h.workdir()
        os.mkdir(os.path.join(d, ".git"))
        shutil.copy(os.path.join(c, name), os.path.join(d, name if name.endswith((".yaml", ".yml", ".json"))
                                                      else name + ".yaml"))
        rc, out, err = h.run(["render", "--root", d, d], cwd=d, env={"SOPS_AGE_KEY_FILE": os.path.join(c, "key.txt")})
        if rc != 0:
            h.fail("render", "sops-real/" + case, "render exits %d: %s" % (rc, first_line(err)), {})
            continue
        got = [x for x in yaml.safe_load_all(out.decode()) if isinstance(x, dict) and x.get("kind") == "Secret"]
        for w in secrets:
            m = [g for g in got if (g.get("metadata") or {}).get("name") == (w.get("metadata") or {}).get("name")]
            if not m:
                h.fail("render", "sops-real/" + case, "Secret %r not rendered" % (w.get("metadata") or {}).get("name"),
                       {"out": out})
            elif secret_values(m[0]) != secret_values(w):
                h.fail("render", "sops-real/" + case, "decoded data differs", {"out": out})
            else:
                h.ok("render")
        shutil.rmtree(d, ignore_errors=True)


PHASES = collections.OrderedDict(roundtrip=run_roundtrip, setunset=run_setunset, edit=run_edit,
                                 keys=run_keys, git=run_git, merge=run_merge, render=run_render)


YAML_BASES = [
    # comments everywhere
    b"# head\na: 1 # after a\n# between\nb:\n  # inside\n  c: x # after c\n  d: [1, 2] # flow\n# tail\n",
    b"a:\n  - x # one\n  # own line\n  - y\n  -  # empty item\n  - z\n",
    b"a: # on the key line\n  b: 1\n\n\n# after blank lines\nc: 2\n#no space\n",
    # anchors and aliases
    b"base: &b\n  user: u\n  pass: p\nuse: *b\nmerged:\n  <<: *b\n  pass: q\nscalar: &s v\nagain: *s\n",
    b"list: &l [1, 2]\nmore: *l\nemptyanchor: &e\nref: *e\n",
    # tags
    b"a: !!str 1\nb: !!int \"2\"\nc: !!float 3\nd: !!bool \"true\"\ne: !!null \"\"\nf: !!str\ng: !!map {x: 1}\nh: !!seq [1]\n",
    # block scalars
    b"a: |\n  line\n\nb: |-\n  strip\n\n\nc: |+\n  keep\n\n\nd: >\n  folded\n  text\n\n  para\ne: >-\n  f\nf: >+\n  g\n\n",
    b"a: |2\n    indented\n  base\nb: |1-\n  x\nc: >2+\n   y\n\nd: |\n\n  leading blank\ne: |\n  trailing spaces   \n",
    b"a: |-\n  x\n\t\n  y\nb: |\n  # not a comment\n  - not a list\nc: >\n  \ta tab\n",
    b"a: |+\n  last\n\n",
    b"a: |\n  no newline at end",
    b"k: |\n  line1\n    more indented\n  line3\nz: 1\n",
    # flow collections
    b"a: {b: [1, {c: d}], e: []}\nf: [ {}, [], '', \"\" ]\ng: {? h : i}\n",
    b"a: [x,\n  y,\n  z]\nb: {c: 1,\n    d: 2}\n",
    b"a: [\"q,uote\", 'sin''gle', plain text, -1, 0x1F, .inf, ~]\n",
    # multi-document
    b"a: 1\n---\nb: 2\n---\n# c\nc: 3\n",
    b"---\na: 1\n...\n---\nb: 2\n...\n",
    b"%YAML 1.2\n---\na: 1\n",
    # scalar types
    b"a: 1.0\nb: -0\nc: -0.0\nd: 1e400\ne: 0o17\nf: 017\ng: 1_000\nh: +1\ni: .NaN\nj: -.inf\nk: 0x10\nl: 12345678901234567890123\nm: 1.10\nn: 1e3\n",
    b"a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: True\nh: FALSE\ni: Null\nj: NULL\nk: ~\nl: ''\nm: null\n",
    b"a: '1'\nb: \"true\"\nc: 'null'\nd: \"\"\ne: ' '\nf: 'it''s'\ng: \"\\t\\n\\u00e9\\U0001F600\\x41\\/\"\n",
    b"a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\nc: 12:30:00\nd: 1:20\n",
    # plain multi-line, quoted multi-line
    b"a: first\n  second\n\n  third\nb: \"dq\n  line \\\n  cont\"\nc: 'sq\n\n  x'\n",
    # unicode keys and values
    "\u00e9t\u00e9: \u00fc\nk\u00eby2: \U0001F600\n\u65e5\u672c: \u8a9e\n\"tab\\tkey\": v\n'sp key': v\n\"\": empty key\n".encode(),
    # empty values
    b"a:\nb: ''\nc: \"\"\nd: []\ne: {}\nf: ~\ng:\n  h:\n",
    # keys with special characters
    b"\"a:b\": 1\n'#x': 2\n\"[0]\": 3\n? complex\n: v\n\"quo\\\"te\": 4\n",
    # indentation
    b"a:\n    b:\n        - c\n        -   d: 1\n            e: 2\n",
    b"a:\n- 1\n- - 2\n  - 3\n-\n  x: y\n",
    # sops metadata-like keys in the data
    b"sopsy: 1\nkey_sops: 2\nnested:\n  sops: not metadata\n",
    # kubernetes secret
    b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    a: b\ntype: Opaque\ndata:\n  k: dmFsdWU=\nstringData:\n  s: |\n    multi\n    line\n",
]

JSON_BASES = [
    b'{"a": "\\u00e9\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000", "b": "\\u2028\\u2029"}',
    b'{"n": [0, -0, 1.0, 1.5e10, 1E400, -1e-400, 12345678901234567890123456789, 0.1, 1e2, -0.0, 100000000000000000000]}',
    b'{"big": 9007199254740993, "small": 5e-324, "neg": -9223372036854775809}',
    b'{"t": true, "f": false, "z": null, "s": "", "o": {}, "l": [], "ll": [[], [{}]]}',
    b'{\n  "deep": {"a": {"b": {"c": [1, {"d": "e"}]}}},\n  "k": "v"\n}\n',
    b'{"\\u00e9": 1, "e\\u0301": 2, "": 3, "a b": 4, "a\\"b": 5}',
    b'  {"ws": 1}  \n\n',
    b'{"a":1}',
    b'{"lone": "\\ud800", "pair": "\\ud834\\udd1e"}',
    b'{"dup": 1, "dup": 2}',
    b'{"a": 1,\r\n "b": "c"}\r\n',
]

DOTENV_BASES = [
    b"A=1\nB=two words\nC=\nD=a=b=c\n",
    b"# comment\nA=1\n\n# another\nB=2\n",
    b"export A=1\nB='single quoted'\nC=\"double quoted\"\n",
    b"A=\"multi\nline\"\nB=x\n",
    b"A=with \\n escape\nB=tab\there\nC= leading space\nD=trailing space \n",
    b"A=1\nA=2\n",
    b"A=1",
    b"A=1\r\nB=2\r\n",
    "K\u00e9=\u00fc\nEMOJI=\U0001F600\n".encode(),
    b"A=#not a comment\nB=x # maybe comment\n",
    b"lower=1\nMixed_Case=2\nwith.dot=3\nwith-dash=4\n",
]

INI_BASES = [
    b"[s]\na = 1\nb = two\n",
    b"; comment\n[s]\n# other\na=1\n\n[t]\nb=2\n",
    b"[s]\na = 1\na = 2\n",
    b"[s]\nk = v ; inline\nk2 = \"quoted\"\n",
    b"[s]\nempty =\nspaces =   lots   \n",
    b"[DEFAULT]\nx = 1\n[s]\ny = 2\n",
    b"[s]\na = 1\n[s]\nb = 2\n",
    b"[s]\nmulti = line1\n  line2\n",
    b"[s]\na = 1\r\n[t]\r\nb = 2\r\n",
    b"top = 1\n[s]\na = 2\n",
    b"[s]\na: colon\n",
    "[s\u00e9]\nk\u00ebey = \u00fc\n".encode(),
    b"[s]\nkey with spaces = v\n",
    # an end-of-line comment of a header (refused when it would be encrypted)
    b"[db] ; hdr\nuser = u\n",
    b"[a]\nk = v\n[db] # hdr\n",
    # a value continued with a backslash, quoted keys, '=' in a value
    b"[s]\na = x \\\n  y\nb = z\n",
    b"[s]\n\"a=b\" = c\n`d:e` = f=g\n",
]


# Layouts every store keeps byte for byte through encrypt and decrypt
# (docs/conformance.md): a difference is a violation, not a layout note.
EXACT_BASES = [
    # a block's step where its header's comment holds '#' (fidelity30)
    ("yaml", b"k: | # a # b\n  text\nz: 1\n"),
    ("yaml", b"k: |-  # a #b\n  x\n  y\n"),
    ("yaml", b"\"a #b\": | # c\n  text\n"),
    ("yaml", b"l:\n- 1\nk: |2 # a # b\n   text\n"),
    ("yaml", b"k: |\t# c\n  text\nz:\t|\n  t\n"),
    ("yaml", b"a: 1 # c\n# own\nb:\n  c: [1, 2] # f\n"),
    ("yaml", b"a: 1\r\nb: |\r\n  x\r\n"),
    # blocks at steps of their own, flat and beside a nested map (fidelity31)
    ("yaml", b"a: |\n  x\nb: |\n    y\n    w\nl:\n  - |\n      z\n  - |\n     v\n"),
    ("yaml", b"m:\n  k: v\nb: |\n    x\nc: |+\n      y\n\n"),
    ("dotenv", b"export A=1\nB='x y' \n# c\nC=\"q#\" # t\n\n"),
    ("dotenv", b"A=1\r\nB=\r\n"),
    ("ini", b"; top\n[s] \n# c\na = 1 ; t\nb:2\n\n[t]\nc = \"q;\"\n"),
    ("ini", b"[s]\n; hdr\nk = v\n"),
    ("json", b'{ "a" : [ 1 , 2 ] ,\n\t"b": {"c": null} }\n'),
]


def yaml_variants(base):
    yield "as-is", base
    if not base.endswith(b"\n"):
        return
    yield "crlf", base.replace(b"\n", b"\r\n")
    yield "bom", b"\xef\xbb\xbf" + base
    yield "no-final-newline", base.rstrip(b"\n")
    yield "trailing-blank-lines", base + b"\n\n"
    yield "indented", b"root:\n" + b"".join(b"  " + l if l.strip() and not l.startswith((b"---", b"...", b"%")) else l
                                         for l in base.splitlines(True))
    yield "comment-after-each-line", b"".join(
        l.rstrip(b"\n") + (b" # c%d\n" % i if l.strip() and b"|" not in l and b">" not in l
                                                and not l.startswith(b"  ") else b"\n")
        for i, l in enumerate(base.splitlines(True)))
    yield "comment-line-between", b"".join(l + b"# between\n" for l in base.splitlines(True)
                                           if True)


def corpus_mutations(h):
    for i, b in enumerate(YAML_BASES):
        for vname, v in yaml_variants(b):
            yield "yaml", "mut/yaml%d/%s" % (i, vname), v
    # generated: very long lines, deep nesting, many keys, tabs
    yield "yaml", "mut/long-line", b"a: " + b"x" * 200000 + b"\nb: 1\n"
    yield "yaml", "mut/long-key", b"k" * 5000 + b": v\n"
    deep = b"".join(b"  " * i + b"k%d:\n" % i for i in range(120)) + b"  " * 120 + b"leaf: v\n"
    yield "yaml", "mut/deep-block", deep
    yield "yaml", "mut/deep-flow", b"a: " + b"[" * 200 + b"1" + b"]" * 200 + b"\n"
    yield "yaml", "mut/deep-flow-map", b"a: " + b"{b: " * 150 + b"1" + b"}" * 150 + b"\n"
    yield "yaml", "mut/many-keys", b"".join(b"k%d: v%d\n" % (i, i) for i in range(3000))
    yield "yaml", "mut/tabs", b"a:\tx\nb: \"\t\"\nc: x\ty\n"
    yield "yaml", "mut/dup-keys", b"a: 1\na: 2\n"
    yield "yaml", "mut/dup-keys-nested", b"a:\n  b: 1\n  b: 2\n"
    yield "yaml", "mut/dup-keys-flow", b"a: {b: 1, b: 2}\n"
    yield "yaml", "mut/nul", b"a: \"\\0\"\n"
    yield "yaml", "mut/control", b"a: \"\\x07\\x1b\\x7f\\u0085\\ufeff\"\n"
    yield "yaml", "mut/lone-cr", b"a: 1\rb: 2\n"
    yield "yaml", "mut/cr-in-value", b"a: \"x\\ry\"\nb: \"x\\r\\n\"\n"
    for i, b in enumerate(JSON_BASES):
        yield "json", "mut/json%d" % i, b
        yield "json", "mut/json%d/bom" % i, b"\xef\xbb\xbf" + b
    # the JSON suite's accepted values, each under a key
    root = os.path.join(h.shared, "testdata", "json-test-suite", "test_parsing")
    for f in sorted(os.listdir(root)):
        if f.startswith(("y_", "i_")):
            body = read(os.path.join(root, f)).strip()
            if body[:1] in (b"[", b"{") or body[:1].isdigit() or body[:1] in (b"-", b'"', b"t", b"f", b"n"):
                yield "json", "mut/jts-wrapped/" + f, b'{"v": ' + body + b'}\n'
    for i, b in enumerate(DOTENV_BASES):
        yield "dotenv", "mut/dotenv%d" % i, b
    for i, b in enumerate(INI_BASES):
        yield "ini", "mut/ini%d" % i, b
    for i, (fmt, b) in enumerate(EXACT_BASES):
        yield fmt, "mut/exact/%s%d" % (fmt, i), b
    yield "binary", "mut/binary-empty", b""
    yield "binary", "mut/binary-nul", b"\0\xff\xfe" * 1000
    yield "binary", "mut/binary-big", bytes(random.getrandbits(8) for _ in range(300000))


# -- generated shapes (fidelity 31): seeded, --seed N picks another draw ------
GEN31_PER_FAMILY = 12


def _word(r, n=None):
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n or r.randint(1, 8)))


def _lines(r, n):
    return [_word(r) + (" " + _word(r) if r.random() < 0.5 else "") for _ in range(n)]


def gen31_block(r, key, owner, step, nested_step):
    """A literal block that decrypt writes back byte for byte: "|" or "|+"
    (its text ends in a line break), "|-" over several lines."""
    chomp = r.choice(["", "+", "-"])
    body = _lines(r, r.randint(2 if chomp == "-" else 1, 4))
    pad = " " * (owner + step)
    out = " " * owner + key + ": |" + chomp + "\n" + "".join(pad + l + "\n" for l in body)
    if chomp == "+":
        out += "\n"
    return out


def gen31_blocks(r):
    """Flat and nested maps and lists whose blocks sit at steps of their own."""
    nested = r.choice([0, 2, 4])
    out = ""
    for i in range(r.randint(2, 6)):
        kind = r.random()
        key = "k%d" % i
        if kind < 0.45:
            out += gen31_block(r, key, 0, r.randint(1, 6), nested)
        elif kind < 0.6:
            out += "%s: %s\n" % (key, _word(r))
        elif kind < 0.75 and nested:
            out += "%s:\n" % key + gen31_block(r, "in", nested, r.randint(1, 6), nested)
        elif kind < 0.9:
            dash = r.choice([0, 2])
            step = r.randint(2, 6)
            out += "%s:\n%s- |\n%s\n" % (key, " " * dash, "\n".join(" " * (dash + step) + l for l in _lines(r, 2)))
        else:
            out += "# comment %d\n" % i
    return out.encode()


def gen31_yaml(r):
    """Shapes whose data must come back (their layout is counted)."""
    doc = lambda: "%s: %s\n" % (_word(r), _word(r))
    pieces = [
        # several documents, comments between them, empty ones, ends
        lambda: "".join(r.choice(["---\n", "--- # c\n", "...\n---\n", "# between\n---\n", "---\n\n"]) +
                        (doc() if r.random() < 0.8 else "") for _ in range(r.randint(2, 4))),
        lambda: "%YAML 1.1\n---\n" + doc(),
        lambda: "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n--- !!map\n" + doc() + "...\n",
        # explicit tags
        lambda: "t1: !!str %d\nt2: !!binary aGVsbG8=\nt3: !foo %s\nt4: !!str\n" % (r.randint(0, 99), _word(r)),
        lambda: "t: !local\n  k: v\nl: !!seq\n- !x 1\n",
        # complex keys
        lambda: "? %s\n: v\n? |\n  block key\n: w\n" % _word(r),
        lambda: "? %s\n  # c\n: v\n" % _word(r),
        # flow collections in blocks, with comments
        lambda: "f: [1, {a: [x, y]}, []] # after\ng: {k: [1, 2], j: {}}\n",
        lambda: "f: [\n  1, # one\n  {a: b}, # two\n  [x]\n]\nz: 1\n",
        # anchors on maps, aliases in lists
        lambda: "base: &b\n  k: v\n  j: [1]\nlist:\n  - *b\n  - x\n  - *b\n",
        lambda: "m: &m {k: v}\nl: [*m, *m]\ns: &s str\nt:\n- *s\n",
        # long plain scalars, folded over lines
        lambda: "long: " + " ".join(_word(r) for _ in range(60)) + "\n",
        lambda: "folded: " + "\n  ".join(" ".join(_word(r) for _ in range(8)) for _ in range(4)) + "\nz: 1\n",
        # sequences in maps, indented or not
        lambda: "a:\n- 1\n- x\nb:\n  - 2\n  - y\nc:\n    - 3\n",
        lambda: "a:\n- k: v\n  j: w\n-   q: 1\n",
        # trailing blanks after values and keys
        lambda: "a: v  \nb: w\t\nc: 'q' \t\nd:   \ne: [1] \n",
    ]
    body = "".join(r.choice(pieces[3:]) () for _ in range(r.randint(1, 3)))
    if r.random() < 0.3:
        body = r.choice(pieces[:3])() + ("" if r.random() < 0.5 else "")
    if r.random() < 0.2:
        body = "\ufeff" + body
    return body.encode()


def gen31_json(r):
    pieces = [
        lambda: '"e": [[], [[]], [{}], {"x": []}]',
        lambda: '"s": "\\ud83d\\ude00 \\ud834\\udd1e \\u00e9\\u0000"',
        lambda: '"deep": ' + "[" * r.choice([60, 120, 200, 250]) + "1" + "]" * 0,
        lambda: '"dup": 1, "dup": 2',
        lambda: '"n": [0, -0, 1e2, 12345678901234567890]',
        lambda: '"o": {"a": {"b": {"c": "d"}}}',
    ]
    parts = []
    for _ in range(r.randint(1, 3)):
        p = r.choice(pieces)()
        if p.startswith('"deep"'):
            p += "]" * p.count("[")
        parts.append(p)
    body = "{" + ", ".join(parts) + "}\n"
    if r.random() < 0.3:
        body = "\ufeff" + body
    return body.encode()


def gen31_dotenv(r):
    pieces = [lambda: "export %s=%s\n" % (_word(r).upper(), _word(r)),
              lambda: '%s="a # b"\n' % _word(r).upper(),
              lambda: "%s='x#y'\n" % _word(r).upper(),
              lambda: "%s=\n" % _word(r).upper(),
              lambda: "%s\n" % _word(r).upper(),
              lambda: "%s=v # c\n" % _word(r).upper(),
              lambda: "# comment\n"]
    return "".join(r.choice(pieces)() for _ in range(r.randint(1, 6))).encode()


def gen31_ini(r):
    pieces = [lambda: "[s]\nk = v\n",
              lambda: "[s]\nj = w\n",
              lambda: "; c\n[t]\n; d\nk = v ; e\n",
              lambda: "[u]\nflag\nk =\n",
              lambda: "[v]\nlong = first\n  second\n",
              lambda: "[w]\na = 1\na = 2\n"]
    return "".join(r.choice(pieces)() for _ in range(r.randint(1, 4))).encode()


def corpus_gen31(h):
    """Shapes rule 1 had not covered before fidelity 31, drawn with --seed:
    gen31/exact/ must come back byte for byte, the others as data."""
    r = random.Random(h.seed)
    for i in range(GEN31_PER_FAMILY * 3):
        yield "yaml", "gen31/exact/blocks%d" % i, gen31_blocks(r)
    for i in range(GEN31_PER_FAMILY * 3):
        yield "yaml", "gen31/yaml%d" % i, gen31_yaml(r)
    for i in range(GEN31_PER_FAMILY):
        yield "json", "gen31/json%d" % i, gen31_json(r)
    for i in range(GEN31_PER_FAMILY):
        yield "dotenv", "gen31/dotenv%d" % i, gen31_dotenv(r)
    for i in range(GEN31_PER_FAMILY):
        yield "ini", "gen31/ini%d" % i, gen31_ini(r)


if __name__ == "__main__":
    sys.exit(main())
