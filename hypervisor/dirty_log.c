#include "dirty_log.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"

/* Documentation/virt/kvm/api.rst, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: with
 * INITIALLY_SET every page of a new slot starts dirty and write-enabled, so
 * nothing faults until a page is first cleared. */
#define DIRTY_LOG_MANUAL_FLAGS (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET)
/* KVM_CLEAR_DIRTY_LOG: first_page must be a multiple of 64, and num_pages too
 * unless the range ends at the end of the slot. */
#define DIRTY_LOG_CLEAR_ALIGN_PAGES 64u

const char *dirty_log_mode_name(enum dirty_log_mode mode)
{
	switch (mode) {
	case DIRTY_LOG_MANUAL:
		return "manual-protect";
	case DIRTY_LOG_GET:
		return "get-and-clear";
	default:
		return "off";
	}
}

void dirty_log_init(struct dirty_log *dl, struct kvm *kvm, bool want_logging)
{
	memset(dl, 0, sizeof(*dl));
	dl->vm_fd = kvm->vm_fd;
	dl->mode = DIRTY_LOG_OFF;
	if (!want_logging)
		return;
	/* In an L1 under QEMU TCG (tools/l1/run-l1.sh), Linux guests hung or
	 * triple-faulted while KVM write-protected the framebuffer they drew
	 * into (every mode: 17 of 46 runs), never without it (0 of 19): the
	 * tracker compares whole frames there instead (README, Linux tests in
	 * an L1). FBVM_DIRTY_LOG=on keeps the log for whoever investigates. */
	const char *force = getenv("FBVM_DIRTY_LOG");
	if (kvm_host_cpu_is_qemu_tcg() && !(force && strcmp(force, "on") == 0)) {
		log_info("dirty_log", "the host CPU is QEMU TCG, where guests hang or triple-fault"
			 " under KVM's dirty log: comparing whole frames instead"
			 " (FBVM_DIRTY_LOG=on uses it anyway)");
		return;
	}

	dl->mode = DIRTY_LOG_GET;
	/* The capability answers with the flags it supports (0 when absent). */
	int offered = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	if (offered > 0 && (offered & DIRTY_LOG_MANUAL_FLAGS) == DIRTY_LOG_MANUAL_FLAGS) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
			.args = { DIRTY_LOG_MANUAL_FLAGS },
		};
		if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) == 0)
			dl->mode = DIRTY_LOG_MANUAL;
		else
			log_warn("dirty_log", "KVM_ENABLE_CAP manual protect failed: %s,"
				 " using get-and-clear", strerror(errno));
	}
	log_debug("dirty_log", "mode=%s", dirty_log_mode_name(dl->mode));
}

static void free_slot(struct dirty_log_slot *s)
{
	free(s->kvm_bitmap);
	free(s->pending);
	free(s->clear);
	memset(s, 0, sizeof(*s));
}

void dirty_log_destroy(struct dirty_log *dl)
{
	for (unsigned int i = 0; i < dl->count; i++)
		free_slot(&dl->slots[i]);
	dl->count = 0;
}

int dirty_log_map_slot(struct dirty_log *dl, struct kvm *kvm, uint32_t slot, uint64_t gpa,
		       uint64_t size, void *host)
{
	struct dirty_log_slot s = { .slot = slot, .gpa = gpa };
	int ret;

	if (size == 0 || (gpa | size) % DIRTY_LOG_PAGE_BYTES)
		return -EINVAL;
	if (dl->mode == DIRTY_LOG_OFF)
		return kvm_set_memory(kvm, slot, gpa, size, host, 0);
	if (dl->count == DIRTY_LOG_MAX_SLOTS)
		return -ENOSPC;

	s.pages = size / DIRTY_LOG_PAGE_BYTES;
	s.words = (s.pages + 63) / 64;
	/* KVM writes (and reads) whole 64-bit words for the slot's page count. */
	s.kvm_bitmap = calloc(s.words, sizeof(uint64_t));
	if (dl->mode == DIRTY_LOG_GET)
		s.pending = calloc(s.words, sizeof(uint64_t));
	else
		s.clear = calloc(s.words, sizeof(uint64_t));
	if (!s.kvm_bitmap || (!s.pending && !s.clear)) {
		free_slot(&s);
		return -ENOMEM;
	}
	ret = kvm_set_memory(kvm, slot, gpa, size, host, KVM_MEM_LOG_DIRTY_PAGES);
	if (ret < 0) {
		free_slot(&s);
		return ret;
	}
	dl->slots[dl->count++] = s;
	return 0;
}

static struct dirty_log_slot *find_slot(struct dirty_log *dl, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < dl->count; i++) {
		struct dirty_log_slot *s = &dl->slots[i];
		uint64_t bytes = s->pages * DIRTY_LOG_PAGE_BYTES;

		if (gpa < s->gpa)
			continue;
		uint64_t offset = gpa - s->gpa;
		if (offset < bytes && len <= bytes - offset)
			return s;
	}
	return NULL;
}

/* Bits [lo, hi) of word `word` (0 <= lo < hi <= 64 after clamping). */
static uint64_t range_mask(size_t word, uint64_t first, uint64_t end)
{
	uint64_t base = (uint64_t)word * 64;
	uint64_t lo = first > base ? first - base : 0;
	uint64_t hi = end - base < 64 ? end - base : 64;
	uint64_t width = hi - lo;

	return (width == 64 ? ~0ull : ((1ull << width) - 1)) << lo;
}

/* Copies bits [first, first + n) of src (words_src words) to dst bits
 * [0, n), zeroing the rest of the last word. Returns the number of set bits. */
static uint64_t extract_bits(uint64_t *dst, const uint64_t *src, size_t words_src, uint64_t first,
			     uint64_t n)
{
	size_t words = (n + 63) / 64, base = first / 64;
	unsigned int shift = first % 64;
	uint64_t count = 0;

	for (size_t i = 0; i < words; i++) {
		uint64_t w = src[base + i] >> shift;
		if (shift && base + i + 1 < words_src)
			w |= src[base + i + 1] << (64 - shift);
		if (i == words - 1 && n % 64)
			w &= (1ull << (n % 64)) - 1;
		dst[i] = w;
		count += (uint64_t)__builtin_popcountll(w);
	}
	return count;
}

static int get_log(struct dirty_log *dl, struct dirty_log_slot *s)
{
	struct kvm_dirty_log log = { .slot = s->slot, .dirty_bitmap = s->kvm_bitmap };

	dl->stats.get_ioctls++;
	if (ioctl(dl->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		int ret = -errno;
		dl->stats.errors++;
		log_ratelimited(LOG_ERROR, "dirty_log", "KVM_GET_DIRTY_LOG slot=%" PRIu32 ": %s",
				s->slot, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Re-arms the dirty pages among [first, end) of the slot: only those bits go
 * into the clear bitmap, so neighbours sharing a 64-page word stay dirty. */
static int clear_range(struct dirty_log *dl, struct dirty_log_slot *s, uint64_t first,
		       uint64_t end)
{
	size_t w0 = first / 64, w1 = (end - 1) / 64, lo = SIZE_MAX, hi = 0;

	for (size_t w = w0; w <= w1; w++) {
		s->clear[w] = s->kvm_bitmap[w] & range_mask(w, first, end);
		if (s->clear[w]) {
			lo = lo == SIZE_MAX ? w : lo;
			hi = w;
		}
	}
	if (lo == SIZE_MAX)
		return 0;

	uint64_t first_page = (uint64_t)lo * DIRTY_LOG_CLEAR_ALIGN_PAGES;
	uint64_t end_page = ((uint64_t)hi + 1) * DIRTY_LOG_CLEAR_ALIGN_PAGES;
	if (end_page > s->pages)
		end_page = s->pages;   /* allowed: the range reaches the end of the slot */
	struct kvm_clear_dirty_log clear = {
		.slot = s->slot,
		.num_pages = (uint32_t)(end_page - first_page),
		.first_page = first_page,
		.dirty_bitmap = &s->clear[lo],
	};

	dl->stats.clear_ioctls++;
	if (ioctl(dl->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0) {
		int ret = -errno;
		dl->stats.errors++;
		log_ratelimited(LOG_ERROR, "dirty_log", "KVM_CLEAR_DIRTY_LOG slot=%" PRIu32
				" first_page=%" PRIu64 " num_pages=%" PRIu32 ": %s", s->slot,
				first_page, clear.num_pages, strerror(-ret));
		return ret;
	}
	return 0;
}

int dirty_log_fetch(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap)
{
	struct dirty_log *dl = ctx;
	struct dirty_log_slot *s;
	int ret;

	if (len == 0 || (gpa | len) % DIRTY_LOG_PAGE_BYTES)
		return -EINVAL;
	dl->stats.fetches++;
	s = dl->mode == DIRTY_LOG_OFF ? NULL : find_slot(dl, gpa, len);
	if (!s) {
		dl->stats.not_covered++;
		return -ENOTSUP;
	}

	uint64_t first = (gpa - s->gpa) / DIRTY_LOG_PAGE_BYTES;
	uint64_t n = len / DIRTY_LOG_PAGE_BYTES;

	ret = get_log(dl, s);
	if (ret < 0)
		return ret;
	if (dl->mode == DIRTY_LOG_MANUAL) {
		/* GET only copied the bitmap; the clear re-arms the fetched pages. A
		 * write between the two is not lost: the page was dirty already and
		 * the caller reads it after this returns. */
		dl->stats.pages_reported += extract_bits(bitmap, s->kvm_bitmap, s->words, first, n);
		return clear_range(dl, s, first, first + n);
	}

	/* GET re-armed the whole slot: keep what lies outside the range. */
	for (size_t w = 0; w < s->words; w++)
		s->pending[w] |= s->kvm_bitmap[w];
	dl->stats.pages_reported += extract_bits(bitmap, s->pending, s->words, first, n);
	for (size_t w = first / 64; w <= (first + n - 1) / 64; w++)
		s->pending[w] &= ~range_mask(w, first, first + n);
	return 0;
}

void dirty_log_print_stats(const struct dirty_log *dl, FILE *out)
{
	fprintf(out, "stats: dirty_log: mode=%s slots=%u fetches=%" PRIu64 " get=%" PRIu64
		" clear=%" PRIu64 " pages=%" PRIu64 " not_covered=%" PRIu64 " errors=%" PRIu64 "\n",
		dirty_log_mode_name(dl->mode), dl->count, dl->stats.fetches, dl->stats.get_ioctls,
		dl->stats.clear_ioctls, dl->stats.pages_reported, dl->stats.not_covered,
		dl->stats.errors);
}
