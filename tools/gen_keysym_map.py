#!/usr/bin/env python3
"""Generate vnc/keysym_qnum.c: X11 keysym -> QEMU qnum for a US keyboard.

VNC KeyEvents carry X11 keysyms (characters, not keys); the VNC server maps
each back to the physical key a US keyboard produces it with. Shifted symbols
map to their unshifted key ("!" -> the 1 key) because the client sends its
Shift press separately.

Source: qemu's keycodemapdb data/keymaps.csv (tools/keymaps/keymaps.csv, an
unmodified copy), dual-licensed GPL-2.0-or-later / BSD-3-Clause. Each CSV row
names one Linux key, its "AT set1 keycode" and at most one "X11 keysym"; a key
appears in several rows when it yields several keysyms (KEY_1 gives both "1"
and "exclam"). Rows are read one by one, not merged by Linux keycode, so every
keysym is kept. qnum = the set-1 code, with E0-prefixed codes 0xE0xx folded to
0x80 | xx and the Korean Hanja/Hangeul codes 0xF1/0xF2 to 0x71/0x72, as
keycodemapdb's keymap-gen derives it.

When two keys yield the same keysym (backslash: KEY_BACKSLASH and the ISO
KEY_102ND; underscore: KEY_MINUS and the Japanese KEY_RO), the first row in
the CSV wins: those rows are the US-layout keys.

EXTRA_KEYSYMS adds keysyms X11 clients send for keys whose CSV row carries a
different keysym (the keypad with NumLock off, Super, Menu, Print, AltGr,
Shift+Tab); each names the Linux key whose row supplies the set-1 code, so
the codes still come from the CSV.

Usage:
  tools/gen_keysym_map.py [--csv CSV] OUTPUT           write OUTPUT
  tools/gen_keysym_map.py [--csv CSV] --check OUTPUT   exit 1 if out of date
"""

import argparse
import csv
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
DEFAULT_CSV = os.path.join(HERE, "keymaps", "keymaps.csv")

COL_LINUX_NAME = "Linux Name"
COL_SET1 = "AT set1 keycode"
COL_X11_NAME = "X11 keysym name"
COL_X11 = "X11 keysym"

HANJA_HANGEUL_SET1 = (0xF1, 0xF2)

# (keysym, name, Linux key whose set-1 code it takes)
EXTRA_KEYSYMS = [
    (0xFE03, "XK_ISO_Level3_Shift", "KEY_RIGHTALT"),   # AltGr
    (0xFE20, "XK_ISO_Left_Tab", "KEY_TAB"),            # Shift+Tab
    (0xFF61, "XK_Print", "KEY_SYSRQ"),
    (0xFF67, "XK_Menu", "KEY_COMPOSE"),
    (0xFF95, "XK_KP_Home", "KEY_KP7"),
    (0xFF96, "XK_KP_Left", "KEY_KP4"),
    (0xFF97, "XK_KP_Up", "KEY_KP8"),
    (0xFF98, "XK_KP_Right", "KEY_KP6"),
    (0xFF99, "XK_KP_Down", "KEY_KP2"),
    (0xFF9A, "XK_KP_Prior", "KEY_KP9"),
    (0xFF9B, "XK_KP_Next", "KEY_KP3"),
    (0xFF9C, "XK_KP_End", "KEY_KP1"),
    (0xFF9D, "XK_KP_Begin", "KEY_KP5"),
    (0xFF9E, "XK_KP_Insert", "KEY_KP0"),
    (0xFF9F, "XK_KP_Delete", "KEY_KPDOT"),
    (0xFFAA, "XK_KP_Multiply", "KEY_KPASTERISK"),
    (0xFFEB, "XK_Super_L", "KEY_LEFTMETA"),
    (0xFFEC, "XK_Super_R", "KEY_RIGHTMETA"),
]


def parse_code(text):
    text = text.strip()
    if not text:
        return None
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


def set1_to_qnum(set1, where):
    if set1 in HANJA_HANGEUL_SET1:
        return set1 & 0x7F
    if set1 > 0x7F:
        if set1 & ~0x7F != 0xE000:
            raise SystemExit("%s: set-1 code 0x%x is neither 0xE0xx nor Hanja/Hangeul"
                             % (where, set1))
        return 0x80 | (set1 & 0x7F)
    return set1


def load(path):
    """Returns (sha256, [(keysym, qnum, keysym name, linux name)]) in CSV order,
    and {linux name: qnum} for EXTRA_KEYSYMS."""
    with open(path, "rb") as f:
        raw = f.read()
    reader = csv.reader(raw.decode("utf-8").splitlines())
    header = next(reader)
    for col in (COL_LINUX_NAME, COL_SET1, COL_X11_NAME, COL_X11):
        if col not in header:
            raise SystemExit("%s: no column %r" % (path, col))
    idx = {name: header.index(name) for name in header}
    rows, key_qnum = [], {}
    for lineno, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise SystemExit("%s:%d: %d columns, header has %d"
                             % (path, lineno, len(row), len(header)))
        set1 = parse_code(row[idx[COL_SET1]])
        if set1 is None:
            continue
        where = "%s:%d" % (path, lineno)
        qnum = set1_to_qnum(set1, where)
        linux = row[idx[COL_LINUX_NAME]]
        key_qnum.setdefault(linux, qnum)
        keysym = parse_code(row[idx[COL_X11]])
        if keysym is not None:
            rows.append((keysym, qnum, row[idx[COL_X11_NAME]], linux))
    return hashlib.sha256(raw).hexdigest(), rows, key_qnum


def build(path):
    sha, rows, key_qnum = load(path)
    table = {}
    for keysym, qnum, name, linux in rows:
        table.setdefault(keysym, (qnum, name, linux))   # first row wins
    for keysym, name, linux in EXTRA_KEYSYMS:
        if keysym in table:
            raise SystemExit("EXTRA_KEYSYMS: %s is in the CSV already" % name)
        if linux not in key_qnum:
            raise SystemExit("EXTRA_KEYSYMS: %s has no set-1 code in the CSV" % linux)
        table[keysym] = (key_qnum[linux], name, linux + " (extra)")
    return sha, table


def emit(path, sha, table, output):
    rel_csv = os.path.relpath(path, TOP)
    lines = [
        "/*",
        " * X11 keysym -> QEMU qnum for a US keyboard, sorted by keysym for",
        " * binary search (vnc/input.c).",
        " *",
        " * Generated by tools/gen_keysym_map.py from %s" % rel_csv,
        " * (sha256 %s)," % sha,
        " * a copy of qemu's keycodemapdb data/keymaps.csv. keycodemapdb's data is",
        " * dual-licensed GPL-2.0-or-later / BSD-3-Clause; this generated file is",
        " * used under BSD-3-Clause. Do not edit; regenerate with:",
        " *   tools/gen_keysym_map.py %s" % os.path.relpath(os.path.abspath(output), TOP),
        " */",
        '#include "vnc/keysym_qnum.h"',
        "",
        "const struct keysym_qnum keysym_qnum_table[] = {",
    ]
    for keysym in sorted(table):
        qnum, name, linux = table[keysym]
        lines.append("\t{ 0x%04x, 0x%02x }, /* %s: %s */" % (keysym, qnum, name, linux))
    lines += [
        "};",
        "",
        "const size_t keysym_qnum_count = sizeof(keysym_qnum_table) / sizeof(keysym_qnum_table[0]);",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=DEFAULT_CSV)
    parser.add_argument("--check", action="store_true",
                        help="compare with OUTPUT instead of writing it")
    parser.add_argument("output")
    args = parser.parse_args()

    sha, table = build(args.csv)
    text = emit(args.csv, sha, table, args.output)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print("%s: %s" % (args.output, e.strerror), file=sys.stderr)
            return 1
        if current != text:
            print("%s is out of date; run tools/gen_keysym_map.py %s"
                  % (args.output, args.output), file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
