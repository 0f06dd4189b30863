#!/usr/bin/env python3
"""A scripted $EDITOR for rule1.py: RULE1_EDIT says what to do to the file
(none, change, add, remove, comment); what it wrote is copied to
RULE1_EDIT_SAVE so the harness knows what the user gave."""
import os
import re
import sys

path = sys.argv[-1]
mode = os.environ.get("RULE1_EDIT", "none")
with open(path, "rb") as f:
    text = f.read()
lines = text.splitlines(True)
simple = re.compile(rb"^([A-Za-z_][A-Za-z0-9_-]*): ([A-Za-z0-9][A-Za-z0-9 ._-]*)(\r?\n)$")
if mode == "change":
    for i, l in enumerate(lines):
        m = simple.match(l)
        if m:
            lines[i] = m.group(1) + b": changed-by-editor" + m.group(3)
            break
elif mode == "remove":
    for i, l in enumerate(lines):
        if simple.match(l):
            del lines[i]
            break
elif mode == "add":
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    lines.append(b"added_by_editor: added value\n")
elif mode == "comment":
    bom = b"\xef\xbb\xbf" if lines and lines[0].startswith(b"\xef\xbb\xbf") else b""
    if bom:
        lines[0] = lines[0][3:]
    lines.insert(0, bom + b"# a comment by the editor\n")
out = b"".join(lines)
if mode != "none":
    with open(path, "wb") as f:
        f.write(out)
with open(os.environ["RULE1_EDIT_SAVE"], "wb") as f:
    f.write(out)
