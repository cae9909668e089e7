/* An interrupt line a device drives; the machine wires it to the KVM irqchip. */
#ifndef FBVM_IRQ_H
#define FBVM_IRQ_H

#include <stdbool.h>

struct irq_line {
	/* Sets the level of GSI `gsi`; NULL means the line is not connected. */
	void (*set_level)(void *ctx, unsigned int gsi, bool level);
	void *ctx;
	unsigned int gsi;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
	if (line && line->set_level)
		line->set_level(line->ctx, line->gsi, level);
}

#endif
