#!/bin/bash
# sdl/usb_qnum.c is what tools/gen_keymap.py (table usb-qnum) generates from
# tools/keymaps/keymaps.csv (qemu keycodemapdb): nobody edited the generated
# table by hand, and a changed CSV or generator was followed by regenerating.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v python3 >/dev/null || fail "python3 missing (make deps installs it)"
# Relative paths: the generated files name the command that made them.
cd "$top"
python3 tools/gen_keymap.py --check usb-qnum sdl/usb_qnum.c ||
	fail "sdl/usb_qnum.c is out of date"
python3 tools/gen_keymap.py --check qnum-set2 devices/keymap_qnum_set2.c ||
	fail "devices/keymap_qnum_set2.c is out of date"
echo "sdl/usb_qnum.c and devices/keymap_qnum_set2.c match tools/gen_keymap.py output"
