#include "guest.h"
#include "i8042.h"

#define I8042_POLLS_PER_MS 1000u

static unsigned i8042_tick_hz;

void i8042_set_tick_hz(unsigned hz)
{
	i8042_tick_hz = hz;
}

struct i8042_deadline {
	uint64_t until;         /* tick, or poll count when counting polls */
	uint64_t polls;
};

static void i8042_deadline_start(struct i8042_deadline *d, unsigned timeout_ms)
{
	d->polls = 0;
	if (i8042_tick_hz)
		/* Round up, plus one tick: the current tick may end at once. */
		d->until = timer_ticks() + ((uint64_t)timeout_ms * i8042_tick_hz + 999) / 1000 + 1;
	else
		d->until = (uint64_t)timeout_ms * I8042_POLLS_PER_MS;
}

static int i8042_deadline_passed(struct i8042_deadline *d)
{
	if (i8042_tick_hz)
		return timer_ticks() >= d->until;
	return ++d->polls > d->until;
}

static int i8042_wait_write(unsigned timeout_ms)
{
	struct i8042_deadline d;

	i8042_deadline_start(&d, timeout_ms);
	while (inb(I8042_STATUS_PORT) & I8042_STR_IBF)
		if (i8042_deadline_passed(&d))
			return -ETIMEDOUT;
	return 0;
}

int i8042_write_command(uint8_t cmd, unsigned timeout_ms)
{
	int ret = i8042_wait_write(timeout_ms);

	if (ret == 0)
		outb(cmd, I8042_COMMAND_PORT);
	return ret;
}

int i8042_write_data(uint8_t byte, unsigned timeout_ms)
{
	int ret = i8042_wait_write(timeout_ms);

	if (ret == 0)
		outb(byte, I8042_DATA_PORT);
	return ret;
}

int i8042_read(uint8_t *byte, uint8_t *status, unsigned timeout_ms)
{
	struct i8042_deadline d;
	uint8_t st;

	i8042_deadline_start(&d, timeout_ms);
	while (!((st = inb(I8042_STATUS_PORT)) & I8042_STR_OBF))
		if (i8042_deadline_passed(&d))
			return -ETIMEDOUT;
	if (status)
		*status = st;
	*byte = inb(I8042_DATA_PORT);
	return 0;
}

int i8042_flush(uint8_t *last_status)
{
	int count = 0;
	uint8_t st;

	while ((st = inb(I8042_STATUS_PORT)) & I8042_STR_OBF) {
		if (count++ >= I8042_BUFFER_SIZE) {
			if (last_status)
				*last_status = st;
			return -EIO;
		}
		(void)inb(I8042_DATA_PORT);
	}
	if (last_status)
		*last_status = st;
	return count;
}
