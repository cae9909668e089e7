/*
 * PCI host bridge: configuration mechanism #1 and a registry of type 0
 * functions on bus 0.
 *
 * Ports 0xCF8-0xCFF (one bus region, 1- to 4-byte accesses):
 *  - 0xCF8, dword: CONFIG_ADDRESS. Bit 31 enables CONFIG_DATA, bits 23:16
 *    bus, 15:11 device, 10:8 function, 7:2 register. Bits 30:24 and 1:0 read
 *    0 (PCI 3.0 section 3.2.2.3.2; QEMU stores every bit, no guest cares).
 *    Linux's pci_check_type1 writes 0x80000000 and needs it back.
 *  - 0xCF9, byte: the PIIX Reset Control Register (devices/reset_control).
 *  - Any other access inside 0xCF8-0xCFB, or one straddling 0xCFB/0xCFC: the
 *    host bridge claims CONFIG_ADDRESS only for dword accesses, which is why
 *    0xCF9 can be a register of its own and why Linux may write the byte
 *    0x01 to 0xCFB (a mechanism-select register on old chipsets) before
 *    probing. Writes are dropped, reads return all-ones, both counted: as on
 *    an i440FX, where nothing else decodes them. QEMU drops the writes too;
 *    its reads return CONFIG_ADDRESS's low bytes, which no guest relies on.
 *  - 0xCFC-0xCFF: CONFIG_DATA, 1/2/4-byte accesses at byte (port - 0xCFC)
 *    of the addressed dword. With bit 31 clear, or for a bus other than 0
 *    or an absent function, reads return all-ones and writes are dropped
 *    (a master abort), which is how Linux's scan finds nothing there.
 *
 * Config writes follow a per-byte write mask (QEMU's wmask idea): COMMAND's
 * IO, MEMORY, MASTER, PARITY, SERR and INTX_DISABLE bits, cache line size,
 * latency timer and interrupt line are writable; everything else (IDs,
 * class, STATUS, header type, ROM BAR, interrupt pin) is read-only and a
 * write touching only such bytes is counted as ignored. No function has a
 * capability list, expansion ROM or INTx pin.
 *
 * BARs (PCI 3.0 section 6.2.5.1): a write is merged into the BAR's dword
 * and the address bits not covered by the BAR's size read as zero, its
 * type bits as registered. All address bits written as ones is the sizing
 * protocol: the BAR then reads the size mask with its type bits, and
 * decoding stays where it was (Linux turns decode off around sizing anyway).
 * Any other new base is offered to the function's bar_move callback, which
 * may follow it or refuse it; refused, the BAR reads its old base again,
 * like kvmtool's vesa BAR whose deactivate hook refuses. Each write is
 * taken as a whole new base, so a guest writing a BAR byte by byte asks
 * for intermediate bases too.
 */
#include "pci.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hypervisor/bus.h"
#include "hypervisor/log.h"

#define CONFIG_ADDRESS_ENABLE   0x80000000u
#define CONFIG_ADDRESS_MASK     0x80FFFFFCu
#define CONFIG_ADDRESS_BUS(a)   (((a) >> 16) & 0xFFu)
#define CONFIG_ADDRESS_DEVFN(a) (((a) >> 8) & 0xFFu)
#define CONFIG_ADDRESS_REG(a)   ((a) & 0xFCu)

/* Offsets inside the 0xCF8-0xCFF region. */
#define PORT_OFF_ADDRESS 0
#define PORT_OFF_RCR     (RESET_CONTROL_PORT - PCI_CONFIG_ADDRESS_PORT)
#define PORT_OFF_DATA    (PCI_CONFIG_DATA_PORT - PCI_CONFIG_ADDRESS_PORT)

#define PCI_COMMAND_WRITABLE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

#define PCI_BAR_MIN_MEM_BYTES 16
#define PCI_BAR_MIN_IO_BYTES  4
#define PCI_BAR_MAX_IO_BYTES  256      /* PCI 3.0 section 6.2.5.1 */
#define PCI_IO_SPACE_END      0x10000ull
#define PCI_MEM32_END         0x100000000ull

#define PCI_DEVFN(dev, fn) ((uint8_t)((dev) << 3 | (fn)))

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* The read-only low bits of a BAR: space, type and prefetchable. */
static uint32_t bar_type_bits(const struct pci_bar_info *b)
{
	if (b->io)
		return PCI_BASE_ADDRESS_SPACE_IO;
	return b->prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
}

/* The address bits a BAR implements: what sizing reads back, type bits aside. */
static uint32_t bar_address_mask(const struct pci_bar_info *b)
{
	uint32_t low_bits = b->io ? 0x3u : 0xFu;

	return ~(uint32_t)(b->size - 1) & ~low_bits;
}

static bool is_power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool bar_info_valid(const struct pci_bar_info *b)
{
	uint64_t end;

	if (b->size == 0)
		return true;
	if (!is_power_of_two(b->size) || b->addr & (b->size - 1) ||
	    __builtin_add_overflow(b->addr, b->size, &end))
		return false;
	if (b->io)
		return !b->prefetchable && b->size >= PCI_BAR_MIN_IO_BYTES &&
		       b->size <= PCI_BAR_MAX_IO_BYTES && end <= PCI_IO_SPACE_END;
	return b->size >= PCI_BAR_MIN_MEM_BYTES && end <= PCI_MEM32_END;
}

static struct pci_function *find_function(struct pci_host *host, uint8_t devfn)
{
	for (unsigned int i = 0; i < host->function_count; i++)
		if (host->functions[i].devfn == devfn)
			return &host->functions[i];
	return NULL;
}

static bool device_has_other_functions(const struct pci_host *host, uint8_t devfn)
{
	for (unsigned int i = 0; i < host->function_count; i++) {
		uint8_t other = host->functions[i].devfn;
		if (other >> 3 == devfn >> 3 && (other & 7) != 0)
			return true;
	}
	return false;
}

/* Writes f's power-on header and write mask from f->info. */
static void function_load(const struct pci_host *host, struct pci_function *f)
{
	const struct pci_function_info *in = &f->info;
	uint8_t *c = f->config;

	memset(f->config, 0, sizeof(f->config));
	memset(f->wmask, 0, sizeof(f->wmask));
	put16(c + PCI_VENDOR_ID, in->vendor_id);
	put16(c + PCI_DEVICE_ID, in->device_id);
	put16(c + PCI_COMMAND, in->command & PCI_COMMAND_WRITABLE);
	c[PCI_REVISION_ID] = in->revision;
	c[PCI_CLASS_PROG] = (uint8_t)in->class_code;
	put16(c + PCI_CLASS_DEVICE, (uint16_t)(in->class_code >> 8));
	if ((f->devfn & 7) == 0 && device_has_other_functions(host, f->devfn))
		c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &in->bars[i];
		f->bar_decode[i] = b->addr;
		if (b->size)
			put32(c + PCI_BASE_ADDRESS_0 + 4 * i, (uint32_t)b->addr | bar_type_bits(b));
	}
	put16(c + PCI_SUBSYSTEM_VENDOR_ID, in->subsystem_vendor_id);
	put16(c + PCI_SUBSYSTEM_ID, in->subsystem_id);

	put16(f->wmask + PCI_COMMAND, PCI_COMMAND_WRITABLE);
	f->wmask[PCI_CACHE_LINE_SIZE] = 0xFF;
	f->wmask[PCI_LATENCY_TIMER] = 0xFF;
	f->wmask[PCI_INTERRUPT_LINE] = 0xFF;
}

/* A write to BAR `bar` of bytes [reg, reg + size) of its dword. */
static void bar_write(struct pci_host *host, struct pci_function *f, unsigned int bar,
		      unsigned int reg, uint32_t value, unsigned int size)
{
	const struct pci_bar_info *b = &f->info.bars[bar];
	uint8_t *p = f->config + PCI_BASE_ADDRESS_0 + 4 * bar;
	uint8_t merged[4];
	uint32_t mask, addr, type;
	int ret;

	if (b->size == 0) {
		/* Unimplemented: hardwired to zero, which is how sizing finds no BAR. */
		host->stats.ignored_writes++;
		return;
	}
	memcpy(merged, p, sizeof(merged));
	for (unsigned int i = 0; i < size; i++)
		merged[(reg & 3) + i] = (uint8_t)(value >> (8 * i));
	mask = bar_address_mask(b);
	type = bar_type_bits(b);
	addr = get32(merged) & mask;

	if (addr == mask) {
		host->stats.bar_sizings++;
		put32(p, mask | type);
		return;
	}
	if (addr == f->bar_decode[bar]) {
		put32(p, addr | type);
		return;
	}
	ret = f->ops && f->ops->bar_move ? f->ops->bar_move(f->opaque, bar, f->bar_decode[bar], addr)
					 : 0;
	if (ret < 0) {
		host->stats.bar_moves_refused++;
		put32(p, (uint32_t)f->bar_decode[bar] | type);
		return;
	}
	host->stats.bar_moves++;
	log_debug("pci", "%02x:%02x.%x BAR%u moved from 0x%" PRIx64 " to 0x%" PRIx32, 0,
		  f->devfn >> 3, f->devfn & 7, bar, f->bar_decode[bar], addr);
	f->bar_decode[bar] = addr;
	put32(p, addr | type);
}

/* A config write of `size` bytes at register `reg`, inside one dword. */
static void function_write(struct pci_host *host, struct pci_function *f, unsigned int reg,
			   uint32_t value, unsigned int size)
{
	unsigned int dword = reg & ~3u;
	uint16_t old_command = get16(f->config + PCI_COMMAND), new_command;
	bool writable = false;

	if (dword >= PCI_BASE_ADDRESS_0 && dword < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS) {
		bar_write(host, f, (dword - PCI_BASE_ADDRESS_0) / 4, reg, value, size);
		return;
	}
	for (unsigned int i = 0; i < size; i++) {
		uint8_t m = f->wmask[reg + i];
		uint8_t byte = (uint8_t)(value >> (8 * i));
		writable |= m != 0;
		f->config[reg + i] = (uint8_t)((f->config[reg + i] & ~m) | (byte & m));
	}
	if (!writable) {
		host->stats.ignored_writes++;
		log_ratelimited(LOG_DEBUG, "pci", "%02x:%02x.%x write reg=0x%02x size=%u "
				"value=0x%" PRIx32 " to read-only bytes ignored", 0, f->devfn >> 3,
				f->devfn & 7, reg, size, value);
		return;
	}
	new_command = get16(f->config + PCI_COMMAND);
	if (new_command != old_command && f->ops && f->ops->command_changed)
		f->ops->command_changed(f->opaque, old_command, new_command);
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, bus != 0, absent). */
static struct pci_function *addressed_function(struct pci_host *host)
{
	uint32_t a = host->config_address;

	if (!(a & CONFIG_ADDRESS_ENABLE) || CONFIG_ADDRESS_BUS(a) != 0)
		return NULL;
	return find_function(host, (uint8_t)CONFIG_ADDRESS_DEVFN(a));
}

static uint32_t config_data_read(struct pci_host *host, unsigned int byte, unsigned int size)
{
	struct pci_function *f = addressed_function(host);
	unsigned int reg = CONFIG_ADDRESS_REG(host->config_address) + byte;
	uint32_t value = 0;

	host->stats.config_reads++;
	if (!f) {
		host->stats.absent_reads++;
		return UINT32_MAX;
	}
	for (unsigned int i = 0; i < size; i++)
		value |= (uint32_t)f->config[reg + i] << (8 * i);
	return value;
}

static void config_data_write(struct pci_host *host, unsigned int byte, uint32_t value,
			      unsigned int size)
{
	struct pci_function *f = addressed_function(host);

	host->stats.config_writes++;
	if (!f) {
		host->stats.ignored_writes++;
		log_ratelimited(LOG_DEBUG, "pci", "config write address=0x%08" PRIx32
				" with no function there ignored", host->config_address);
		return;
	}
	function_write(host, f, CONFIG_ADDRESS_REG(host->config_address) + byte, value, size);
}

static void count_odd_access(struct pci_host *host, uint64_t offset, unsigned int size,
			     bool is_write, uint64_t value)
{
	host->stats.odd_port_accesses++;
	log_ratelimited(LOG_DEBUG, "pci", "%s port=0x%" PRIx64 " size=%u value=0x%" PRIx64
			" is not CONFIG_ADDRESS or RCR: %s", is_write ? "write" : "read",
			PCI_CONFIG_ADDRESS_PORT + offset, size, value,
			is_write ? "dropped" : "reads all-ones");
}

static uint64_t pci_host_port_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pci_host *host = opaque;
	uint64_t value;

	pthread_mutex_lock(&host->lock);
	if (offset == PORT_OFF_ADDRESS && size == 4) {
		value = host->config_address;
	} else if (offset == PORT_OFF_RCR && size == 1) {
		value = reset_control_read(&host->rcr);
	} else if (offset >= PORT_OFF_DATA) {
		/* The bus keeps offset + size within the region, so inside CONFIG_DATA. */
		value = config_data_read(host, (unsigned int)(offset - PORT_OFF_DATA), size);
	} else {
		count_odd_access(host, offset, size, false, 0);
		value = UINT64_MAX;
	}
	pthread_mutex_unlock(&host->lock);
	return value;
}

static void pci_host_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pci_host *host = opaque;

	pthread_mutex_lock(&host->lock);
	if (offset == PORT_OFF_ADDRESS && size == 4)
		host->config_address = (uint32_t)value & CONFIG_ADDRESS_MASK;
	else if (offset == PORT_OFF_RCR && size == 1)
		reset_control_write(&host->rcr, (uint8_t)value);
	else if (offset >= PORT_OFF_DATA)
		config_data_write(host, (unsigned int)(offset - PORT_OFF_DATA), (uint32_t)value, size);
	else
		count_odd_access(host, offset, size, true, value);
	pthread_mutex_unlock(&host->lock);
}

static const struct bus_ops pci_host_ops = {
	.read = pci_host_port_read,
	.write = pci_host_port_write,
};

int pci_register_function(struct pci_host *host, unsigned int dev, unsigned int fn,
			  const struct pci_function_info *info,
			  const struct pci_function_ops *ops, void *opaque)
{
	struct pci_function *f;
	uint8_t devfn;

	if (dev >= PCI_MAX_DEVICES || fn >= PCI_MAX_FUNCTIONS)
		return -EINVAL;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		if (!bar_info_valid(&info->bars[i]))
			return -EINVAL;
	devfn = PCI_DEVFN(dev, fn);
	pthread_mutex_lock(&host->lock);
	if (find_function(host, devfn)) {
		pthread_mutex_unlock(&host->lock);
		return -EEXIST;
	}
	if (fn != 0 && !find_function(host, PCI_DEVFN(dev, 0))) {
		pthread_mutex_unlock(&host->lock);
		return -EINVAL;
	}
	if (host->function_count == PCI_HOST_MAX_FUNCTIONS) {
		pthread_mutex_unlock(&host->lock);
		return -ENOSPC;
	}
	f = &host->functions[host->function_count++];
	memset(f, 0, sizeof(*f));
	f->devfn = devfn;
	f->info = *info;
	f->ops = ops;
	f->opaque = opaque;
	function_load(host, f);
	if (fn != 0) {
		/* Function 0 now advertises its siblings, or Linux never looks. */
		struct pci_function *f0 = find_function(host, PCI_DEVFN(dev, 0));
		f0->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
	}
	pthread_mutex_unlock(&host->lock);
	return 0;
}

void pci_host_reset(struct pci_host *host)
{
	pthread_mutex_lock(&host->lock);
	host->config_address = 0;
	reset_control_reset(&host->rcr);
	for (unsigned int i = 0; i < host->function_count; i++) {
		struct pci_function *f = &host->functions[i];
		uint16_t old_command = get16(f->config + PCI_COMMAND), new_command;
		uint64_t old_decode[PCI_NUM_BARS];

		memcpy(old_decode, f->bar_decode, sizeof(old_decode));
		function_load(host, f);
		new_command = get16(f->config + PCI_COMMAND);
		if (new_command != old_command && f->ops && f->ops->command_changed)
			f->ops->command_changed(f->opaque, old_command, new_command);
		for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
			if (old_decode[b] != f->bar_decode[b] && f->ops && f->ops->bar_move)
				f->ops->bar_move(f->opaque, b, old_decode[b], f->bar_decode[b]);
	}
	pthread_mutex_unlock(&host->lock);
}

int pci_host_init(struct pci_host *host, struct bus *bus)
{
	const struct pci_function_info bridge = {
		.vendor_id = PCI_HOST_BRIDGE_VENDOR,
		.device_id = PCI_HOST_BRIDGE_DEVICE,
		.revision = PCI_HOST_BRIDGE_REVISION,
		.class_code = PCI_CLASS_BRIDGE_HOST,
		/* Memory and bus mastering on, as firmware leaves a host bridge. */
		.command = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
	};
	const struct bus_region region = {
		.name = "pci-host", .base = PCI_CONFIG_ADDRESS_PORT, .len = PCI_HOST_PORT_COUNT,
		.min_access = 1, .max_access = 4,
		.ops = &pci_host_ops, .opaque = host,
	};
	int ret;

	memset(host, 0, sizeof(*host));
	ret = pthread_mutex_init(&host->lock, NULL);
	if (ret)
		return -ret;
	reset_control_reset(&host->rcr);
	ret = pci_register_function(host, 0, 0, &bridge, NULL, NULL);
	if (ret == 0)
		ret = bus_register(bus, BUS_PIO, &region);
	if (ret < 0) {
		pthread_mutex_destroy(&host->lock);
		return ret;
	}
	return 0;
}

void pci_host_destroy(struct pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

uint16_t pci_host_command(struct pci_host *host, unsigned int dev, unsigned int fn)
{
	struct pci_function *f;
	uint16_t command = 0;

	if (dev >= PCI_MAX_DEVICES || fn >= PCI_MAX_FUNCTIONS)
		return 0;
	pthread_mutex_lock(&host->lock);
	f = find_function(host, PCI_DEVFN(dev, fn));
	if (f)
		command = get16(f->config + PCI_COMMAND);
	pthread_mutex_unlock(&host->lock);
	return command;
}

void pci_host_print_stats(struct pci_host *host, FILE *out)
{
	struct pci_host_stats st;
	unsigned int functions;

	pthread_mutex_lock(&host->lock);
	st = host->stats;
	functions = host->function_count;
	pthread_mutex_unlock(&host->lock);
	fprintf(out, "pci: functions=%u config_reads=%" PRIu64 " config_writes=%" PRIu64
		" absent_reads=%" PRIu64 " ignored_writes=%" PRIu64 " odd_port_accesses=%" PRIu64
		" bar_sizings=%" PRIu64 " bar_moves=%" PRIu64 " bar_moves_refused=%" PRIu64 "\n",
		functions, st.config_reads, st.config_writes, st.absent_reads, st.ignored_writes,
		st.odd_port_accesses, st.bar_sizings, st.bar_moves, st.bar_moves_refused);
}
