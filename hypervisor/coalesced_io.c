#include "coalesced_io.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bus.h"
#include "kvm.h"
#include "log.h"

/* The ring is one page (KVM's PAGE_SIZE; x86 only here). */
#define COALESCED_RING_BYTES 4096u
#define COALESCED_MAX_ENTRIES \
	((COALESCED_RING_BYTES - sizeof(struct kvm_coalesced_mmio_ring)) / \
	 sizeof(struct kvm_coalesced_mmio))

static int coalesced_io_start(struct coalesced_io *c, void *ring_page)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = pthread_mutex_init(&c->lock, NULL);
	if (ret)
		return -ret;
	c->lock_ready = true;
	c->ring = ring_page;
	c->max_entries = (uint32_t)COALESCED_MAX_ENTRIES;
	return 0;
}

int coalesced_io_init_ring(struct coalesced_io *c, void *ring_page)
{
	return coalesced_io_start(c, ring_page);
}

int coalesced_io_init(struct coalesced_io *c, struct kvm *kvm, void *run, size_t run_bytes)
{
	/* KVM_CAP_COALESCED_MMIO answers with the ring's page offset in the
	 * vCPU mapping (0: not offered). */
	int page = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	memset(c, 0, sizeof(*c));
	if (page <= 0 || ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -ENOTSUP;
	if ((size_t)page * COALESCED_RING_BYTES + COALESCED_RING_BYTES > run_bytes)
		return -ENOTSUP;   /* the mapping does not reach the ring */
	return coalesced_io_start(c, (uint8_t *)run + (size_t)page * COALESCED_RING_BYTES);
}

void coalesced_io_destroy(struct coalesced_io *c)
{
	if (c->lock_ready)
		pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

int coalesced_io_add_pio(struct coalesced_io *c, struct kvm *kvm, uint16_t port, uint32_t len)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = len, .pio = 1 };

	if (!c->ring)
		return -ENOTSUP;
	if (ioctl(kvm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return -errno;
	c->zones++;
	return 0;
}

void coalesced_io_replay(struct coalesced_io *c, struct bus *bus)
{
	struct kvm_coalesced_mmio_ring *ring = c->ring;

	/* The kernel advances `last` after filling an entry (smp_wmb); the
	 * acquire load pairs with it. Empty: the common case, no lock. */
	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_RELAXED) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		uint32_t first = ring->first, last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio e;

		if (first == last)
			break;
		if (first >= c->max_entries || last >= c->max_entries) {
			c->bad_entries++;
			log_ratelimited(LOG_ERROR, "coalesced_io", "ring out of range first=%" PRIu32
					" last=%" PRIu32 " max=%" PRIu32 ", dropped", first, last,
					c->max_entries);
			__atomic_store_n(&ring->first, last < c->max_entries ? last : 0,
					 __ATOMIC_RELEASE);
			break;
		}
		e = ring->coalesced_mmio[first];
		if (e.len == 0 || e.len > sizeof(e.data)) {
			c->bad_entries++;
			log_ratelimited(LOG_ERROR, "coalesced_io", "entry len=%" PRIu32 " at 0x%" PRIx64
					" dropped", e.len, (uint64_t)e.phys_addr);
		} else {
			bus_access(bus, e.pio ? BUS_PIO : BUS_MMIO, e.phys_addr, e.data, e.len, true);
			c->replayed++;
		}
		/* The entry is consumed: the kernel may reuse the slot. */
		__atomic_store_n(&ring->first, (first + 1) % c->max_entries, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
}

void coalesced_io_print_stats(struct coalesced_io *c, FILE *out)
{
	if (c->lock_ready)
		pthread_mutex_lock(&c->lock);
	fprintf(out, "stats: coalesced_io: %s zones=%u replayed=%" PRIu64 " bad_entries=%" PRIu64
		"\n", c->ring ? "on" : "off", c->zones, c->replayed, c->bad_entries);
	if (c->lock_ready)
		pthread_mutex_unlock(&c->lock);
}
