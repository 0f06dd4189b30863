#!/usr/bin/env python3
"""Differential harness for init's pins of a subdirectory's .gitattributes
(src/git/pins.c, gitpins_pattern_at_top; docs/threat-model.md, "Red team
31"): real git is the oracle, gitseal's reading of the lines is not.

For each case: a repository holding .gitattributes files in random
subdirectories (nested; names with '*', '?', '[', '\\', blanks, quotes,
leading dots, '!', '#', unicode), each with random filter lines: patterns
with and without a slash, a leading or trailing '/', '**' at the start, in
the middle and at the end, character classes, escapes, '!'-negations (git
ignores them in attributes), C-quoted patterns (blanks, escapes, octal),
comments, a byte order mark, CRLF line ends and trailing blanks; and lines
init does not pin (tabs, blanks first, other attributes). Random paths,
most made to match a line, some beside it. Then:

- `git check-attr filter` for every path with the files in place, each
  line init named as not kept left out (expected);
- `gitseal git init`, which must exit 0 and name exactly the lines this
  harness predicts it cannot keep (a line not in init's form, a negative
  or empty pattern);
- the files removed (work tree and index): `git check-attr filter` again,
  now from init's pins alone, must answer as expected for every path. A
  path the pins leave out is a pin that means less (a secret committed in
  clear once a pull request removes the line); one they add, more.

usage: pins.py [--bin build/gitseal] [--cases N] [--first I] [--seed S] [--keep DIR]
Exit 0: every case held; 1: a disagreement (printed with seed and case; the
repository kept under --keep).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

DRIVERS = 'filter=gitseal diff=gitseal merge=gitseal'
# the forms init keeps (setup.c: ATTR_SUFFIX and the older ones)
SUFFIXES = [DRIVERS, DRIVERS + ' text eol=lf conflict-marker-size=32', DRIVERS + ' conflict-marker-size=32']

DIR_NAMES = ['c', 'config', 'a b', '.hidden', 'c[1]', 'd*', 'q?', 'back\\slash', '!bang', '#hash', 'quo"te',
             "it's", 'caf\u00e9', '\u65e5\u672c', 'x]y', '[ab]', '**', 'sp  ace', '-dash']
NAMES = ['a', 'b', 'x.yaml', 'db.env', 'sec rets', '.env', 'caf\u00e9.yaml', '*', '?', '[a]', 'b\\c', '!x', '#y',
         'q"q', 'a b.yaml', 'deep.ini', 'e', 'g.env', 'ab', 'a.yaml ', 'x\ty']
WORDS = ['a', 'b', 'x', 'ab', 'sec', 'db', 'caf\u00e9', 'e']


def shown(text):
    """A line as gs_shown (util/shown.c) shows it: control bytes as \\xNN."""
    out = []
    for ch in text:
        if ord(ch) < 0x20 or ord(ch) == 0x7f or ch == '\ufeff':
            out.append(''.join('\\x%02x' % b for b in ch.encode()))
        else:
            out.append(ch)
    return ''.join(out)


def c_unquote(token):
    """git's unquote_c_style on a line from its '"': (text, length) or None."""
    esc = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '\\': '\\', '"': '"'}
    i, out = 1, []
    while i < len(token):
        ch = token[i]
        i += 1
        if ch == '"':
            return ''.join(out), i
        if ch == '\\':
            if i >= len(token):
                return None
            ch = token[i]
            i += 1
            if ch in '0123':
                digits = token[i:i + 2]
                if len(digits) < 2 or any(d not in '01234567' for d in digits):
                    return None
                ch = chr(int(ch + digits, 8))
                i += 2
            elif ch in esc:
                ch = esc[ch]
            else:
                return None
        out.append(ch)
    return None


def c_quote(text):
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append('\\' + ch)
        elif ord(ch) < 0x20:
            out.append('\\%03o' % ord(ch))
        else:
            out.append(ch)
    return ''.join(out) + '"'


def stars_after_literal(d, pat):
    """Whether git reads pat, a pattern of d's file, otherwise once d is
    written before it with an escape: git compares a pattern's start up to
    its first special byte as it stands and matches the rest by wildmatch,
    where a '**' opening the rest crosses directories ('x/ab**' is 'x/ab'
    then any depth); init names such a line (pins.c)."""
    if not (any(ch in '*?[\\' for ch in d) or d[0] in '!#'):
        return False
    end = len(pat) - (1 if pat.endswith('/') else 0)
    if not (pat.startswith('/') or '/' in pat[:end]):
        return False
    at = 1 if pat.startswith('/') else 0
    k = at
    while k < end and pat[k] not in '*?[\\':
        k += 1
    if k == at or k + 1 >= end or pat[k - 1] == '/' or pat[k:k + 2] != '**':
        return False
    while k < len(pat) and pat[k] == '*':
        k += 1
    return k == end or pat[k] == '/' or pat[k:k + 2] == '\\/'


class Pattern:
    """A pattern as segments: each a list of pieces ('lit', s), ('star',),
    ('any',), ('class', chars, negated), ('dstar',)."""

    def __init__(self, rng):
        self.lead = rng.random() < 0.2
        self.trail = rng.random() < 0.08
        nseg = rng.choice([1, 1, 1, 2, 2, 3])
        self.segs = []
        for k in range(nseg):
            if nseg > 1 and rng.random() < 0.25:
                self.segs.append([('dstar',)])
                continue
            pieces = []
            for _ in range(rng.choice([1, 1, 2, 3])):
                r = rng.random()
                if r < 0.45:
                    pieces.append(('lit', rng.choice(NAMES + WORDS)))
                elif r < 0.65:
                    pieces.append(('star',))
                elif r < 0.75:
                    pieces.append(('any',))
                elif r < 0.9:
                    pieces.append(('class', rng.choice(['ab', 'xy', 'a-c', '.e']), rng.random() < 0.3))
                else:
                    pieces.append(('lit', rng.choice(['**', '*.yaml', '.env'])))  # literal text, escaped
            self.segs.append(pieces)

    def text(self, rng):
        segs = []
        for seg in self.segs:
            out = []
            for piece in seg:
                if piece[0] == 'dstar':
                    out.append('**')
                elif piece[0] == 'star':
                    out.append('*')
                elif piece[0] == 'any':
                    out.append('?')
                elif piece[0] == 'class':
                    out.append('[' + ('!' if piece[2] else '') + piece[1] + ']')
                else:
                    out.append(''.join('\\' + ch if ch in '*?[\\' or (ch in '!#' and not out and not segs and
                                                                        not self.lead) else ch
                                       for ch in piece[1]))
            segs.append(''.join(out))
        return ('/' if self.lead else '') + '/'.join(segs) + ('/' if self.trail else '')

    def instance(self, rng):
        """Path components (relative to the file's directory) matching it, or
        near it; where a segment fits no real name, None."""
        if self.trail:
            return None
        comps = []
        if not self.lead and len(self.segs) == 1:
            comps += [rng.choice(WORDS) for _ in range(rng.choice([0, 0, 1, 2]))]
        for seg in self.segs:
            if seg == [('dstar',)]:
                comps += [rng.choice(WORDS) for _ in range(rng.choice([0, 1, 2]))]
                continue
            name = ''
            for piece in seg:
                if piece[0] == 'star':
                    name += rng.choice(['', 'x', 'ab', '.'])
                elif piece[0] == 'any':
                    name += rng.choice(['q', '.', ' ', 'y'])
                elif piece[0] == 'class':
                    chars = piece[1].replace('a-c', 'abc')
                    name += rng.choice('zq') if piece[2] else rng.choice(chars)
                else:
                    name += piece[1]
            comps.append(name)
        if rng.random() < 0.2:
            comps.insert(rng.randrange(len(comps) + 1), rng.choice(WORDS))
        return comps


def valid(comps):
    return comps and all(c and c not in ('.', '..', '.git') and '/' not in c and '\0' not in c for c in comps)


def make_case(rng):
    """(files: {dir: (text, [(line, warned_expected)])}, paths)."""
    ndirs = rng.choice([1, 1, 2, 3])
    dirs = []
    for _ in range(ndirs):
        if dirs and rng.random() < 0.4:
            base = rng.choice(dirs)
        else:
            base = ''
        dirs.append(base + '/'.join(rng.choice(DIR_NAMES) for _ in range(rng.choice([1, 1, 2]))) + '/')
    dirs = sorted(set(dirs))
    files, paths = {}, set()
    for d in dirs:
        lines, rows = [], []
        for _ in range(rng.choice([1, 2, 3, 4, 6])):
            pat = Pattern(rng)
            text = pat.text(rng)
            warned = False
            r = rng.random()
            if r < 0.2:
                q = c_quote(text + (' ' if rng.random() < 0.3 else ''))
                token = q
            elif r < 0.25:
                token = '!' + text
                warned = True
            elif r < 0.28:
                token = c_quote('!' + text)
                warned = True
            elif r < 0.3:
                token = '"' + text  # an unterminated quote: git reads it as it stands
            else:
                token = text
            if any(ch in ' \t' for ch in token) and not (token.startswith('"') and c_unquote(token)):
                token = text = 'plain'
                warned = False
            r = rng.random()
            if r < 0.08:
                line = token + ' filter=gitseal'  # not init's form: named
                warned = True
            elif r < 0.12:
                line = ' ' + token + ' ' + rng.choice(SUFFIXES)
                warned = True
            elif r < 0.15:
                line = token + '\t' + rng.choice(SUFFIXES)
                warned = True
            else:
                line = token + ' ' + rng.choice(SUFFIXES)
            quoted = c_unquote(token) if token.startswith('"') else None
            if quoted and quoted[1] != len(token):
                warned = True  # '"a"b': git reads the pattern a, then an attribute b
            if quoted and quoted[1] == len(token):
                warned |= stars_after_literal(d, quoted[0])
            elif not token.startswith('!'):
                warned |= stars_after_literal(d, token)
            if token.startswith('#'):
                warned = False  # a comment
            if rng.random() < 0.1:
                lines.append('# a comment')
            if rng.random() < 0.05:
                lines.append('')
            lines.append(line + (' ' * rng.choice([0, 0, 0, 2])))
            rows.append((line, warned))
            inst = pat.instance(rng)
            if inst:
                for comps in (inst, inst[1:], [rng.choice(WORDS)] + inst):
                    if valid(comps):
                        paths.add(d + '/'.join(comps))
                        paths.add('/'.join(comps))
        eol = '\r\n' if rng.random() < 0.2 else '\n'
        text = ('\ufeff' if rng.random() < 0.15 else '') + eol.join(lines) + eol
        files[d] = (text, rows)
        for _ in range(4):
            comps = [rng.choice(NAMES + WORDS) for _ in range(rng.choice([1, 2, 3]))]
            if valid(comps):
                paths.add(d + '/'.join(comps))
    # beside the directories: a name like theirs without its escapes
    for d in dirs:
        paths.add(d.replace('[', '').replace(']', '').replace('*', 'x').replace('?', 'q') + 'x.yaml')
    return files, sorted(p for p in paths if valid(p.split('/')))


def run(cmd, cwd, env, data=None, check=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise RuntimeError('%s: exit %d: %s' % (' '.join(cmd), p.returncode, p.stderr.decode(errors='replace')))
    return p


def check_attr(repo, env, paths):
    out = run(['git', 'check-attr', '-z', '--stdin', 'filter'], repo, env,
              data=b''.join(p.encode() + b'\0' for p in paths)).stdout.split(b'\0')
    answers = {}
    for i in range(0, len(out) - 2, 3):
        answers[out[i].decode()] = out[i + 2].decode()
    return answers


def write_files(repo, files, drop):
    for d, (text, rows) in files.items():
        os.makedirs(os.path.join(repo, d), exist_ok=True)
        if drop:
            kept = []
            for line in text.split('\n'):
                bare = line.rstrip('\r').rstrip(' ').lstrip('\ufeff')
                if (d, bare) not in drop:
                    kept.append(line)
            text = '\n'.join(kept)
        with open(os.path.join(repo, d, '.gitattributes'), 'w', encoding='utf-8', newline='') as f:
            f.write(text)


WARN = 'gitseal: warning: not kept in .git/info/attributes: \''


def named_lines(stderr, files):
    """The (dir, line) pairs init named as not kept."""
    named = set()
    for d, (text, rows) in files.items():
        for line in text.split('\n'):
            bare = line.rstrip('\r').rstrip(' ').lstrip('\ufeff')
            for tail in (' is not a line', ': its pattern'):
                if WARN + shown(bare) + "' in " + shown(d) + '.gitattributes' + tail in stderr:
                    named.add((d, bare))
    return named


def one_case(args, seed, case, env, work):
    rng = random.Random('%d:%d' % (seed, case))
    files, paths = make_case(rng)
    repo = os.path.join(work, 'r%d' % case)
    run(['git', 'init', '-q', repo], work, env)
    write_files(repo, files, None)
    run(['git', 'add', '-A'], repo, env)
    run(['git', 'commit', '-qm', 'attributes'], repo, env)
    init = run([args.bin, 'git', 'init'], repo, env, check=False)
    stderr = init.stderr.decode(errors='replace')
    problems = []
    if init.returncode != 0:
        problems.append('gitseal git init: exit %d: %s' % (init.returncode, stderr))
        return problems, repo, 0, 0
    named = named_lines(stderr, files)
    expected_named = {(d, line) for d, (text, rows) in files.items() for line, warned in rows if warned}
    for d, line in sorted(expected_named - named):
        problems.append('not named by init: %r in %s.gitattributes' % (line, d))
    for d, line in sorted(named - expected_named):
        problems.append('named by init, not kept: %r in %s.gitattributes' % (line, d))
    info = os.path.join(repo, '.git', 'info', 'attributes')
    pins = os.path.exists(info)
    if pins:
        os.rename(info, info + '.pins')
    write_files(repo, files, named)
    expected = check_attr(repo, env, paths)
    if pins:
        os.rename(info + '.pins', info)
    run(['git', 'update-index', '--force-remove', '--'] + [d + '.gitattributes' for d in files], repo, env)
    for d in files:
        os.unlink(os.path.join(repo, d, '.gitattributes'))
    pinned = check_attr(repo, env, paths)
    for path in paths:
        want, got = expected.get(path), pinned.get(path)
        if want != got:
            problems.append('%r: the files say filter %s, the pins %s (%s)' %
                            (path, want, got, 'the pins mean less' if want == 'gitseal' else 'the pins mean more'))
    lines = sum(len(rows) for text, rows in files.values())
    return problems, repo, lines, len(paths)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', default=os.path.join(here, '..', '..', 'build', 'gitseal'))
    ap.add_argument('--cases', type=int, default=20)
    ap.add_argument('--first', type=int, default=0)
    ap.add_argument('--seed', type=int, default=31)
    ap.add_argument('--keep')
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    start = time.time()
    work = tempfile.mkdtemp(prefix='pins-')
    env = dict(os.environ, HOME=work, GIT_CONFIG_NOSYSTEM='1', LC_ALL='C.UTF-8',
               PATH=os.path.dirname(args.bin) + os.pathsep + os.environ.get('PATH', ''))
    for key in ('GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE'):
        env.pop(key, None)
    with open(os.path.join(work, '.gitconfig'), 'w') as f:
        f.write('[user]\n\tname = pins\n\temail = pins@example.invalid\n[init]\n\tdefaultBranch = main\n')
    failures = lines = paths = 0
    try:
        for case in range(args.first, args.first + args.cases):
            problems, repo, n_lines, n_paths = one_case(args, args.seed, case, env, work)
            lines += n_lines
            paths += n_paths
            if problems:
                failures += 1
                print('pins.py: seed %d case %d:' % (args.seed, case))
                for p in problems[:20]:
                    print('  ' + p)
                if args.keep:
                    shutil.copytree(repo, os.path.join(args.keep, 'seed%d-case%d' % (args.seed, case)), symlinks=True)
            shutil.rmtree(repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('pins.py: %d case(s), %d line(s), %d path(s) checked' % (args.cases, lines, paths))
    print('pins.py: %d failure(s), %d s' % (failures, int(time.time() - start)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
