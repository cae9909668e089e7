#!/usr/bin/env python3
"""Generate C key-code tables from qemu's keycodemapdb (tools/keymaps/keymaps.csv).

The CSV is an unmodified copy of keycodemapdb's data/keymaps.csv (see
tools/keymaps/README.md for the commit and licence). Tables are derived the
way keycodemapdb's own tools/keymap-gen derives them, so a code means the same
thing here as in QEMU:

  * every row is keyed by its "Linux Keycode"; when several rows share a key,
    the last row wins for each column;
  * a QEMU "qnum" is the "AT set1 keycode" with E0-prefixed codes 0xE0xx
    folded to 0x80 | xx, except Hanja/Hangeul (set-1 0xF1/0xF2), whose qnums
    are 0x71/0x72; qnum 0xB7 is an accepted alias of Print Screen (0x54).

Usage:
  tools/gen_keymap.py TABLE OUTPUT            write OUTPUT
  tools/gen_keymap.py --check TABLE OUTPUT    exit 1 if OUTPUT is out of date
  tools/gen_keymap.py --list                  name the tables it can emit

Tables:
  qnum-set2   devices/keymap_qnum_set2.c: qnum -> AT scan code set 2
  usb-qnum    sdl/usb_qnum.c: USB HID keyboard usage (= SDL_Scancode) -> qnum
  qcode-qnum  control/qcode_qnum.c: QEMU QKeyCode name -> qnum (send-key)
  ascii-qnum  control/ascii_qnum.c: ASCII character -> qnum + Shift on a US
              keyboard (type)

To add a table, write an emitter that
takes a Keymap and the command line and returns the file text, and add it to
TABLES; Keymap already loads every column by its header name.
"""

import argparse
import csv
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.join(HERE, "keymaps", "keymaps.csv")

COL_LINUX_NAME = "Linux Name"
COL_LINUX = "Linux Keycode"
COL_SET1 = "AT set1 keycode"
COL_SET2 = "AT set2 keycode"
COL_USB = "USB Keycodes"
COL_X11_NAME = "X11 keysym name"
COL_X11 = "X11 keysym"
COL_QCODE = "QEMU QKeyCode"

# Set-1 codes of the Korean keys: make-only codes above 0x7F without an E0
# prefix (keymap-gen's HANJA_HANGEUL_KEYS).
HANJA_HANGEUL_SET1 = (0xF1, 0xF2)
QNUM_PRINT = 0x54
QNUM_PRINT_ALIAS = 0xB7
QNUM_COUNT = 256


def parse_code(text):
    """A CSV code cell: '0x..' is hex, digits are decimal, empty is None."""
    text = text.strip()
    if not text:
        return None
    if text.lower().startswith("0x"):
        return int(text, 16)
    if text.isdigit():
        return int(text, 10)
    return text


class Keymap:
    """keymaps.csv loaded as {column: {linux keycode: value}}, last row wins."""

    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        self.path = path
        self.sha256 = hashlib.sha256(raw).hexdigest()
        reader = csv.reader(raw.decode("utf-8").splitlines())
        header = next(reader)
        missing = [c for c in (COL_LINUX, COL_SET1, COL_SET2) if c not in header]
        if missing:
            raise SystemExit("%s: missing columns %s" % (path, ", ".join(missing)))
        self.columns = {name: {} for name in header}
        self.names = {}
        # Each row as {column: value}, in CSV order, for tables keyed by
        # another column (several rows may share a Linux keycode).
        self.rows = []
        for lineno, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise SystemExit("%s:%d: %d columns, header has %d"
                                 % (path, lineno, len(row), len(header)))
            linux = parse_code(row[header.index(COL_LINUX)])
            if not isinstance(linux, int):
                raise SystemExit("%s:%d: bad Linux keycode" % (path, lineno))
            self.names[linux] = row[header.index(COL_LINUX_NAME)] or "unnamed"
            cells = {}
            for name, cell in zip(header, row):
                value = parse_code(cell)
                if value is not None:
                    self.columns[name][linux] = value
                    cells[name] = value
            self.rows.append(cells)
        self.qnum_to_linux = self._derive_qnums()

    def qnum_of(self, linux):
        """The qnum of a Linux keycode (from its merged set-1 code), or None."""
        set1 = self.columns[COL_SET1].get(linux)
        if set1 is None:
            return None
        if set1 in HANJA_HANGEUL_SET1:
            return set1 & 0x7F
        if set1 > 0x7F:
            if set1 & ~0x7F != 0xE000:
                raise SystemExit("key %d: set-1 code 0x%x is neither 0xE0xx nor "
                                 "Hanja/Hangeul" % (linux, set1))
            return 0x80 | (set1 & 0x7F)
        return set1

    def _derive_qnums(self):
        qnums = {}
        # Rows in Linux keycode order, as keymap-gen visits them.
        for linux in sorted(self.columns[COL_SET1]):
            qnums[self.qnum_of(linux)] = linux
        if QNUM_PRINT in qnums:
            qnums[QNUM_PRINT_ALIAS] = qnums[QNUM_PRINT]
        return qnums


def c_header_comment(keymap, args, what):
    rel_csv = os.path.relpath(keymap.path, os.path.dirname(HERE))
    return "\n".join([
        "/*",
        " * %s" % what,
        " *",
        " * Generated by tools/gen_keymap.py from %s" % rel_csv,
        " * (sha256 %s), a copy of" % keymap.sha256,
        " * qemu/keycodemapdb data/keymaps.csv. The data is dual-licensed",
        " * GPL-2.0-or-later / BSD-3-Clause; this generated file is used under",
        " * BSD-3-Clause (see tools/keymaps/README.md). Do not edit; regenerate with:",
        " *   %s" % " ".join(["tools/gen_keymap.py", args.table, args.output]),
        " */",
    ])


def emit_qnum_set2(keymap, args):
    set2 = keymap.columns[COL_SET2]
    lines = [
        c_header_comment(keymap, args,
                         "QEMU qnum -> AT scan code set 2 make code "
                         "(0xE0xx: E0-prefixed, absent: none)."),
        '#include "devices/keymap_qnum_set2.h"',
        "",
        "const uint16_t keymap_qnum_to_set2[KEYMAP_QNUM_COUNT] = {",
    ]
    for qnum in range(QNUM_COUNT):
        linux = keymap.qnum_to_linux.get(qnum)
        code = set2.get(linux) if linux is not None else None
        if code is None:
            continue
        if not isinstance(code, int) or not (code <= 0xFF or code & ~0xFF == 0xE000):
            raise SystemExit("qnum 0x%02x: set-2 code %r is not 0xXX or 0xE0XX"
                             % (qnum, code))
        lines.append("\t[0x%02x] = 0x%04x, /* %s */" % (qnum, code, keymap.names[linux]))
    lines.append("};")
    return "\n".join(lines) + "\n"


# USB HID usages of the keyboard page (0x07) are below 256, the keys end at
# 0xE7 (Right GUI; HID Usage Tables: 0xE8-0xFFFF reserved). keycodemapdb's
# column also carries Linux's made-up usages 0xE8-0xFB for media keys
# (hid-input.c), duplicates of real ones (0x80 and 0xED are both Volume Up)
# that no USB keyboard and no SDL scancode uses: left out.
USB_USAGE_COUNT = 256
USB_USAGE_LAST_KEY = 0xE7


def emit_usb_qnum(keymap, args):
    """USB usage -> qnum, as keymap-gen's "from" maps do it: every row's USB
    code maps to that row's Linux key (a later row wins), whose qnum comes from
    its merged set-1 code. SDL_Scancode values are these USB usages."""
    usb_to_linux = {}
    for row in keymap.rows:
        usb = row.get(COL_USB)
        if usb is None:
            continue
        if not isinstance(usb, int) or not 0 < usb < USB_USAGE_COUNT:
            raise SystemExit("USB code %r is not a usage 1..%d" % (usb, USB_USAGE_COUNT - 1))
        if usb <= USB_USAGE_LAST_KEY:
            usb_to_linux[usb] = row[COL_LINUX]
    lines = [
        c_header_comment(keymap, args,
                         "USB HID keyboard usage (page 0x07; SDL_Scancode has the same "
                         "numbers) ->\n * QEMU qnum (0: no key)."),
        '#include "sdl/usb_qnum.h"',
        "",
        "const uint8_t sdl_usb_to_qnum[USB_QNUM_COUNT] = {",
    ]
    for usb in sorted(usb_to_linux):
        linux = usb_to_linux[usb]
        qnum = keymap.qnum_of(linux)
        if qnum is None:
            continue
        lines.append("\t[0x%02x] = 0x%02x, /* %s */" % (usb, qnum, keymap.names[linux]))
    lines.append("};")
    return "\n".join(lines) + "\n"


def emit_qcode_qnum(keymap, args):
    """QEMU QKeyCode name -> qnum, sorted by name for binary search: the
    names QMP's send-key takes. Each name's key is the last row carrying it
    (keymap-gen's rule for a column keyed by Linux keycode), its qnum from
    that key's merged set-1 code; names without a set-1 code are left out."""
    qcodes = {}
    for linux in sorted(keymap.columns[COL_QCODE]):
        name = keymap.columns[COL_QCODE][linux]
        # parse_code reads the digit keys' names ("1") as numbers.
        if isinstance(name, int):
            name = str(name)
        if name == "unmapped":
            continue
        qnum = keymap.qnum_of(linux)
        if qnum is None:
            continue
        qcodes[name] = (qnum, linux)
    lines = [
        c_header_comment(keymap, args,
                         "QEMU QKeyCode name -> QEMU qnum, sorted by name (strcmp order)."),
        '#include "control/qcode_qnum.h"',
        "",
        "const struct qcode_qnum qcode_qnum_table[] = {",
    ]
    for name in sorted(qcodes, key=lambda n: n.encode()):
        qnum, linux = qcodes[name]
        lines.append('\t{ "%s", 0x%02x }, /* %s */' % (name, qnum, keymap.names[linux]))
    lines.append("};")
    lines.append("")
    lines.append("const size_t qcode_qnum_count = sizeof(qcode_qnum_table) / sizeof(qcode_qnum_table[0]);")
    return "\n".join(lines) + "\n"


# The US layout's pairs of (unshifted, shifted) characters on one key; the
# letters add themselves. The key comes from the CSV ("X11 keysym" of the
# unshifted character); the generator checks that the shifted character's
# rows name the same key, so the pairing and the CSV cannot disagree.
US_SHIFT_PAIRS = "`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+ [{ ]} \\| ;: '\" ,< .> /?".split(" ")
# Control characters `type` accepts, by the keysym of their key.
ASCII_CONTROL_KEYSYMS = {0x08: 0xFF08, 0x09: 0xFF09, 0x0A: 0xFF0D, 0x1B: 0xFF1B}


def emit_ascii_qnum(keymap, args):
    """ASCII -> (qnum, shift) on a US keyboard: 0 means the character cannot
    be typed. For each keysym the first CSV row wins (the US-layout keys come
    first: backslash is KEY_BACKSLASH, not the ISO KEY_102ND)."""
    keysym_to_linux = {}
    for row in keymap.rows:
        keysym = row.get(COL_X11)
        if isinstance(keysym, int) and keysym not in keysym_to_linux:
            keysym_to_linux[keysym] = row[COL_LINUX]
    pairs = list(US_SHIFT_PAIRS)
    pairs += [chr(c) + chr(c).upper() for c in range(ord("a"), ord("z") + 1)]
    shifted = {}
    for pair in pairs:
        low, high = pair[0], pair[1]
        if keysym_to_linux.get(ord(low)) != keysym_to_linux.get(ord(high)):
            raise SystemExit("%r and %r are not on one key in the CSV" % (low, high))
        shifted[ord(high)] = True
    table = {}
    for c in range(0x20, 0x7F):
        linux = keysym_to_linux.get(c)
        if linux is not None and keymap.qnum_of(linux) is not None:
            table[c] = (keymap.qnum_of(linux), c in shifted, linux)
    for c, keysym in ASCII_CONTROL_KEYSYMS.items():
        linux = keysym_to_linux[keysym]
        table[c] = (keymap.qnum_of(linux), False, linux)
    lines = [
        c_header_comment(keymap, args,
                         "ASCII character -> QEMU qnum on a US keyboard, with\n"
                         " * ASCII_QNUM_SHIFT when Shift must be held (0: cannot be typed)."),
        '#include "control/ascii_qnum.h"',
        "",
        "const uint16_t ascii_qnum[ASCII_QNUM_COUNT] = {",
    ]
    for c in sorted(table):
        qnum, shift, linux = table[c]
        shown = repr(chr(c))
        lines.append("\t[0x%02x] = 0x%02x%s, /* %s %s */"
                     % (c, qnum, " | ASCII_QNUM_SHIFT" if shift else "",
                        shown.replace("*/", "* /"), keymap.names[linux]))
    lines.append("};")
    return "\n".join(lines) + "\n"


TABLES = {
    "qnum-set2": emit_qnum_set2,
    "usb-qnum": emit_usb_qnum,
    "qcode-qnum": emit_qcode_qnum,
    "ascii-qnum": emit_ascii_qnum,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=DEFAULT_CSV, help="keymaps.csv to read")
    parser.add_argument("--check", action="store_true",
                        help="compare with OUTPUT instead of writing it")
    parser.add_argument("--list", action="store_true", help="list the tables")
    parser.add_argument("table", nargs="?", choices=sorted(TABLES))
    parser.add_argument("output", nargs="?")
    args = parser.parse_args()

    if args.list:
        print("\n".join(sorted(TABLES)))
        return 0
    if not args.table or not args.output:
        parser.error("TABLE and OUTPUT are required")

    text = TABLES[args.table](Keymap(args.csv), args)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print("%s: %s" % (args.output, e.strerror), file=sys.stderr)
            return 1
        if current != text:
            print("%s is out of date; run tools/gen_keymap.py %s %s"
                  % (args.output, args.table, args.output), file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
