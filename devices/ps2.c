#include "ps2.h"

_Static_assert((PS2_QUEUE_BYTES & (PS2_QUEUE_BYTES - 1)) == 0,
	       "PS2_QUEUE_BYTES must be a power of two");

void ps2_queue_init(struct ps2_queue *q, uint32_t limit)
{
	if (limit == 0)
		limit = 1;
	if (limit > PS2_QUEUE_BYTES)
		limit = PS2_QUEUE_BYTES;
	q->limit = limit;
	ps2_queue_clear(q);
}

void ps2_queue_clear(struct ps2_queue *q)
{
	q->rd = 0;
	q->wr = 0;
}

uint32_t ps2_queue_count(const struct ps2_queue *q)
{
	return q->wr - q->rd;
}

uint32_t ps2_queue_space(const struct ps2_queue *q)
{
	return q->limit - ps2_queue_count(q);
}

bool ps2_queue_push(struct ps2_queue *q, const uint8_t *bytes, size_t n)
{
	if (n > ps2_queue_space(q))
		return false;
	for (size_t i = 0; i < n; i++)
		q->data[q->wr++ & (PS2_QUEUE_BYTES - 1)] = bytes[i];
	return true;
}

bool ps2_queue_pop(struct ps2_queue *q, uint8_t *byte)
{
	if (q->wr == q->rd)
		return false;
	*byte = q->data[q->rd++ & (PS2_QUEUE_BYTES - 1)];
	return true;
}
