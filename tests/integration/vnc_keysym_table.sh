#!/bin/bash
# vnc/keysym_qnum.c is what tools/gen_keysym_map.py generates from
# tools/keymaps/keymaps.csv (qemu keycodemapdb): nobody edited the generated
# table by hand, and a changed CSV or generator was followed by regenerating.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v python3 >/dev/null || fail "python3 missing (make deps installs it)"
python3 "$top/tools/gen_keysym_map.py" --check "$top/vnc/keysym_qnum.c" ||
	fail "vnc/keysym_qnum.c is out of date"
echo "vnc/keysym_qnum.c matches tools/gen_keysym_map.py output"
