# Helpers for the std-VGA tests (tests/integration/vga_*.sh), sourced after
# common.bash and vnc_common.bash.

# vga_expects W H: --expect options for guests/vga-demo/pattern.h at W x H
# (25 points): two per colour bar (its first column at row 0, its centre),
# the field, the edge markers (column W-1 and row H-1 below the bars) and
# the label box's corners. Glyph pixels are left to the QEMU comparison.
vga_expects() {
	local w=$1 h=$2 i x0 x1
	local top=$((h / 4)) ly=$((h / 4 + 16))
	local box_w=$((9 * 8 * 4 + 2 * 8)) box_h=$((8 * 4 + 2 * 8))
	local rgb=(FFFFFF FFFF00 00FFFF 00FF00 FF00FF FF0000 0000FF 000000)
	for i in 0 1 2 3 4 5 6 7; do
		x0=$((i * w / 8)); x1=$(((i + 1) * w / 8))
		printf -- '--expect %d,0,%s ' "$x0" "${rgb[$i]}"
		printf -- '--expect %d,%d,%s ' $(((x0 + x1) / 2)) $((top - 1)) "${rgb[$i]}"
	done
	printf -- '--expect %d,%d,202020 ' $((w / 2)) "$top"            # field
	printf -- '--expect %d,%d,202020 ' $((w - 2)) $((h - 2))
	printf -- '--expect %d,%d,00FF80 ' $((w - 1)) "$top"            # right edge
	printf -- '--expect %d,%d,00FF80 ' $((w - 1)) $((h / 2))
	printf -- '--expect %d,%d,00FF80 ' 0 $((h - 1))                 # bottom edge
	printf -- '--expect %d,%d,00FF80 ' $((w / 2)) $((h - 1))
	printf -- '--expect %d,%d,000000 ' 16 "$ly"                      # label box
	printf -- '--expect %d,%d,000000 ' $((16 + box_w - 1)) $((ly + box_h - 1))
	printf -- '--expect %d,%d,202020 ' $((16 + box_w)) "$ly"
}
