#include "vmmouse.h"

#include "guest.h"

struct vmmouse_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* One backdoor call. ESI and EDI are outputs too (the host may write them). */
static void vmmouse_call(uint32_t cmd, uint32_t arg, struct vmmouse_regs *r)
{
	uint32_t si, di;

	__asm__ volatile("inl %%dx, %%eax"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx), "=S"(si),
			   "=D"(di)
			 : "a"(VMMOUSE_MAGIC), "b"(arg), "c"(cmd), "d"(VMMOUSE_PORT)
			 : "memory");
	(void)si;
	(void)di;
}

int vmmouse_detect(uint32_t *version)
{
	struct vmmouse_regs r;

	vmmouse_call(VMMOUSE_CMD_GETVERSION, ~VMMOUSE_MAGIC, &r);
	*version = r.eax;
	if (r.ebx != VMMOUSE_MAGIC || r.eax == 0xFFFFFFFFu)
		return -ENODEV;
	return 0;
}

int vmmouse_enable(uint32_t *detail)
{
	struct vmmouse_regs r;

	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_COMMAND, VMMOUSE_SUB_ENABLE, &r);
	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_STATUS, 0, &r);
	*detail = r.eax;
	if ((r.eax & 0xFFFF) == 0)
		return -ENODEV;
	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_DATA, 1, &r);
	*detail = r.eax;
	if (r.eax != VMMOUSE_VERSION_ID)
		return -EIO;
	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_COMMAND, VMMOUSE_SUB_REQUEST_ABSOLUTE, &r);
	return 0;
}

uint32_t vmmouse_status(void)
{
	struct vmmouse_regs r;

	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_STATUS, 0, &r);
	return r.eax;
}

int vmmouse_read(struct vmmouse_packet *p, uint32_t *status)
{
	struct vmmouse_regs r;

	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_STATUS, 0, &r);
	*status = r.eax;
	if ((r.eax & VMMOUSE_STATUS_ERROR) == VMMOUSE_STATUS_ERROR)
		return -EIO;
	if ((r.eax & 0xFFFF) == 0)
		return 0;
	if ((r.eax & 0xFFFF) % 4)
		return -EINVAL;
	vmmouse_call(VMMOUSE_CMD_ABSPOINTER_DATA, 4, &r);
	p->status = r.eax;
	p->x = r.ebx;
	p->y = r.ecx;
	p->z = r.edx;
	return 1;
}
