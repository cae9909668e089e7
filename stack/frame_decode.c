/*
 * The prologue decoder (see frame_decode.h): a length decoder for the
 * instructions gcc and clang put before and around a stack reservation
 * (x86-64, 64-bit mode), enough to walk a prologue without mistaking an
 * immediate for an opcode, and the walk that adds up what it reserves.
 * Split from the thread code (git log --follow stack/thread.c has the
 * history before the split).
 */
#include "frame_decode.h"

#include <stdbool.h>
#include <string.h>

static int32_t load_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

struct insn {
	size_t len;
	uint8_t rex, op, op2, modrm; /* op2: second byte after 0x0f */
	bool has_modrm;
	int64_t disp, imm;
};

/* One-byte opcodes with a ModRM byte and no immediate. */
static bool op_modrm(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4; /* ALU r/m forms: add, or, adc, sbb, and, sub, xor, cmp */
	return op == 0x63 || (op >= 0x84 && op <= 0x8b) || op == 0x8d || op == 0x8f ||
	       (op >= 0xd0 && op <= 0xd3) || op == 0xfe || op == 0xff;
}

/* Two-byte (0x0f xx) opcodes with a ModRM byte and no immediate. */
static bool op2_modrm(uint8_t op)
{
	return (op >= 0x10 && op <= 0x17) || (op >= 0x18 && op <= 0x1f) || op == 0x28 ||
	       op == 0x29 || op == 0x2e || op == 0x2f || (op >= 0x40 && op <= 0x4f) ||
	       (op >= 0x50 && op <= 0x7f && op != 0x77) || (op >= 0x90 && op <= 0x9f) ||
	       op == 0xaf || op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf ||
	       (op >= 0xd0 && op <= 0xfe);
}

/* Decodes the instruction at code[0..avail); false if unknown or truncated. */
static bool insn_decode(const uint8_t *code, size_t avail, struct insn *in)
{
	size_t i = 0, imm_bytes = 0;
	bool opsize16 = false;

	memset(in, 0, sizeof(*in));
	for (; i < avail; i++) {
		uint8_t b = code[i];

		if (b == 0x66)
			opsize16 = true;
		else if (!(b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e || b == 0x26 ||
			   b == 0x36 || b == 0x64 || b == 0x65 || b == 0xf0))
			break;
	}
	if (i < avail && (code[i] & 0xf0) == 0x40)
		in->rex = code[i++];
	if (i >= avail)
		return false;
	in->op = code[i++];
	if (in->op == 0x0f) {
		if (i >= avail)
			return false;
		in->op2 = code[i++];
		if (in->op2 >= 0x80 && in->op2 <= 0x8f)
			imm_bytes = 4; /* jcc rel32 */
		else if (in->op2 == 0x1e || op2_modrm(in->op2))
			in->has_modrm = true; /* 0x1e: endbr64 (f3 0f 1e fa) */
		else if (in->op2 == 0x05 || in->op2 == 0x0b)
			; /* syscall, ud2 */
		else
			return false;
	} else if ((in->op >= 0x50 && in->op <= 0x5f) || in->op == 0x90 || in->op == 0x99 ||
		   in->op == 0xc3 || in->op == 0xc9 || in->op == 0xcc || in->op == 0xf4) {
		; /* push, pop, nop, cqo, ret, leave, int3, hlt */
	} else if (in->op < 0x40 && (in->op & 7) == 4) {
		imm_bytes = 1;
	} else if (in->op < 0x40 && (in->op & 7) == 5) {
		imm_bytes = opsize16 ? 2 : 4;
	} else if (op_modrm(in->op)) {
		in->has_modrm = true;
	} else if (in->op == 0x80 || in->op == 0x83 || in->op == 0xc0 || in->op == 0xc1 ||
		   in->op == 0xc6) {
		in->has_modrm = true;
		imm_bytes = 1;
	} else if (in->op == 0x81 || in->op == 0xc7 || in->op == 0x69) {
		in->has_modrm = true;
		imm_bytes = opsize16 ? 2 : 4;
	} else if (in->op == 0x6b) {
		in->has_modrm = true;
		imm_bytes = 1;
	} else if (in->op == 0xf6 || in->op == 0xf7) {
		in->has_modrm = true; /* test takes an immediate: decided below */
	} else if ((in->op >= 0x70 && in->op <= 0x7f) || in->op == 0xeb || in->op == 0xa8 ||
		   (in->op >= 0xb0 && in->op <= 0xb7)) {
		imm_bytes = 1;
	} else if (in->op == 0xe8 || in->op == 0xe9 || in->op == 0xa9) {
		imm_bytes = 4;
	} else if (in->op >= 0xb8 && in->op <= 0xbf) {
		imm_bytes = (in->rex & 8) ? 8 : 4;
	} else {
		return false;
	}
	if (in->has_modrm) {
		uint8_t mod, rm;

		if (i >= avail)
			return false;
		in->modrm = code[i++];
		mod = in->modrm >> 6;
		rm = in->modrm & 7;
		if ((in->op == 0xf6 || in->op == 0xf7) && ((in->modrm >> 3) & 7) == 0)
			imm_bytes = in->op == 0xf6 ? 1 : (opsize16 ? 2 : 4);
		if (mod != 3) {
			size_t disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;

			if (rm == 4) {
				if (i >= avail)
					return false;
				if (mod == 0 && (code[i] & 7) == 5)
					disp_bytes = 4;
				i++;
			} else if (mod == 0 && rm == 5) {
				disp_bytes = 4; /* %rip-relative */
			}
			if (i + disp_bytes > avail)
				return false;
			if (disp_bytes == 1)
				in->disp = (int8_t)code[i];
			else if (disp_bytes == 4)
				in->disp = load_s32(code + i);
			i += disp_bytes;
		}
	}
	if (i + imm_bytes > avail)
		return false;
	if (imm_bytes == 1)
		in->imm = (int8_t)code[i];
	else if (imm_bytes == 2)
		in->imm = (int16_t)(code[i] | code[i + 1] << 8);
	else if (imm_bytes == 4)
		in->imm = load_s32(code + i);
	else if (imm_bytes == 8)
		memcpy(&in->imm, code + i, sizeof(in->imm));
	in->len = i + imm_bytes;
	return true;
}

/* ModRM register operand (with REX.R) and r/m operand (with REX.B), for mod 3. */
static unsigned int insn_reg(const struct insn *in)
{
	return ((in->modrm >> 3) & 7) | (in->rex & 4) << 1;
}

static unsigned int insn_rm(const struct insn *in)
{
	return (in->modrm & 7) | (in->rex & 1) << 3;
}

static bool insn_mod3(const struct insn *in) { return (in->modrm >> 6) == 3; }

#define REG_NUM_RSP 4
#define REG_NUM_R11 11

/* A bounded string builder for the description (no stdio in a handler). */
struct desc_buf {
	char *s;
	size_t len, cap;
};

static void desc_str(struct desc_buf *d, const char *s)
{
	while (*s && d->len + 1 < d->cap)
		d->s[d->len++] = *s++;
	if (d->cap)
		d->s[d->len] = '\0';
}

static void desc_hex(struct desc_buf *d, uint64_t v)
{
	char digits[17];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	desc_str(d, "0x");
	while (n) {
		char c[2] = { digits[--n], '\0' };
		desc_str(d, c);
	}
}

size_t frame_decode(const uint8_t *code, size_t len, char *desc, size_t desc_len)
{
	struct desc_buf d = { desc, 0, desc_len };
	size_t off = 0, total = 0, loop_base = 0;
	uint64_t loop_bytes = 0;
	bool in_loop = false, r11_is_rsp = false;

	if (desc_len)
		desc[0] = '\0';
	while (off < len) {
		struct insn in;

		if (!insn_decode(code + off, len - off, &in))
			break;
		off += in.len;
		/* sub $N,%rsp / add $-N,%rsp (gcc writes 128 as add $-128) */
		if ((in.op == 0x81 || in.op == 0x83) && (in.rex & 8) && insn_mod3(&in) &&
		    insn_rm(&in) == REG_NUM_RSP) {
			unsigned int ext = (in.modrm >> 3) & 7;
			int64_t n = ext == 5 ? in.imm : ext == 0 ? -in.imm : 0;

			if (n <= 0) {
				if (ext == 0 && total)
					break; /* releasing the frame: the prologue is over */
				continue;
			}
			if (in_loop)
				continue; /* the loop's own page step */
			total += (size_t)n;
			if (d.len)
				desc_str(&d, "; ");
			desc_str(&d, ext == 5 ? "sub $" : "add $-");
			desc_hex(&d, (uint64_t)n);
			desc_str(&d, ",%rsp");
			continue;
		}
		/* lea -N(%rsp),%r11: the bound of a stack-clash probe loop */
		if (in.op == 0x8d && (in.rex & 8) && insn_reg(&in) == REG_NUM_R11 &&
		    !insn_mod3(&in) && (in.modrm & 7) == 4 && in.disp < 0) {
			loop_base = total;
			loop_bytes = (uint64_t)-in.disp;
			in_loop = true;
			continue;
		}
		/* mov %rsp,%r11; sub $N,%r11: the same bound, other spelling */
		if (in.op == 0x89 && (in.rex & 8) && insn_mod3(&in) && insn_reg(&in) == REG_NUM_RSP &&
		    insn_rm(&in) == REG_NUM_R11) {
			r11_is_rsp = true;
			continue;
		}
		if ((in.op == 0x81 || in.op == 0x83) && (in.rex & 8) && insn_mod3(&in) &&
		    insn_rm(&in) == REG_NUM_R11 && ((in.modrm >> 3) & 7) == 5 && r11_is_rsp &&
		    in.imm > 0) {
			loop_base = total;
			loop_bytes = (uint64_t)in.imm;
			in_loop = true;
			continue;
		}
		/* cmp %r11,%rsp closes the loop: it reserved loop_bytes in all */
		if (in.op == 0x39 && insn_mod3(&in) && in_loop &&
		    ((insn_reg(&in) == REG_NUM_R11 && insn_rm(&in) == REG_NUM_RSP) ||
		     (insn_reg(&in) == REG_NUM_RSP && insn_rm(&in) == REG_NUM_R11))) {
			in_loop = false;
			total = loop_base + (size_t)loop_bytes;
			if (d.len)
				desc_str(&d, "; ");
			desc_str(&d, "probe loop lea -");
			desc_hex(&d, loop_bytes);
			desc_str(&d, "(%rsp),%r11");
			continue;
		}
		if (in.op == 0xe8 || in.op == 0xc3 || in.op == 0xe9 || in.op == 0xeb ||
		    (in.op == 0xff && ((in.modrm >> 3) & 7) >= 2 && ((in.modrm >> 3) & 7) <= 5))
			break; /* a call, return or jump: past the prologue */
	}
	if (in_loop) {
		/* The fault came inside the loop, before cmp was decoded (the
		 * window ended): the lea alone states the reservation. */
		total = loop_base + (size_t)loop_bytes;
		if (d.len)
			desc_str(&d, "; ");
		desc_str(&d, "probe loop lea -");
		desc_hex(&d, loop_bytes);
		desc_str(&d, "(%rsp),%r11");
	}
	return total;
}
