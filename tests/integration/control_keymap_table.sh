#!/bin/bash
# control/qcode_qnum.c (send-key's QEMU key names) and control/ascii_qnum.c
# (type's US layout) are what tools/gen_keymap.py generates from
# tools/keymaps/keymaps.csv: regenerate after changing either.
set -eu
. "$(dirname "$0")/common.bash"
cd "$(dirname "$0")/../.."
python3 tools/gen_keymap.py --check qcode-qnum control/qcode_qnum.c ||
	fail "control/qcode_qnum.c is out of date"
python3 tools/gen_keymap.py --check ascii-qnum control/ascii_qnum.c ||
	fail "control/ascii_qnum.c is out of date"
echo "control/qcode_qnum.c and control/ascii_qnum.c match tools/gen_keymap.py output"
