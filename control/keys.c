#include "control/keys.h"

#include <errno.h>
#include <string.h>

#include "control/ascii_qnum.h"
#include "control/qcode_qnum.h"

#define QNUM_LEFT_SHIFT 0x2a

uint16_t control_qcode_qnum(const char *name)
{
	size_t lo = 0, hi = qcode_qnum_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, qcode_qnum_table[mid].name);

		if (c == 0)
			return qcode_qnum_table[mid].qnum;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

uint16_t control_char_qnum(unsigned char c)
{
	return c < ASCII_QNUM_COUNT ? ascii_qnum[c] : 0;
}

size_t control_keys_chord(const uint16_t *qnums, size_t n, uint32_t hold_ms,
			  struct key_event *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		out[k++] = (struct key_event){ qnums[i], true,
					       i + 1 == n ? hold_ms : CONTROL_KEY_GAP_MS };
	for (size_t i = n; i-- > 0;)
		out[k++] = (struct key_event){ qnums[i], false, CONTROL_KEY_GAP_MS };
	return k;
}

long control_keys_text(const char *text, size_t len, struct key_event *out, unsigned char *bad)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		if (!control_char_qnum((unsigned char)text[i])) {
			*bad = (unsigned char)text[i];
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < len; i++) {
		uint16_t code = control_char_qnum((unsigned char)text[i]);
		uint16_t qnum = code & 0xff;

		/* Shift and the key go down together and come up together:
		 * the pause sits between press and release, where it matters. */
		if (code & ASCII_QNUM_SHIFT)
			out[k++] = (struct key_event){ QNUM_LEFT_SHIFT, true, 0 };
		out[k++] = (struct key_event){ qnum, true, CONTROL_KEY_GAP_MS };
		out[k++] = (struct key_event){ qnum, false,
					       code & ASCII_QNUM_SHIFT ? 0 : CONTROL_KEY_GAP_MS };
		if (code & ASCII_QNUM_SHIFT)
			out[k++] = (struct key_event){ QNUM_LEFT_SHIFT, false, CONTROL_KEY_GAP_MS };
	}
	return (long)k;
}
