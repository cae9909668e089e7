#include "vmstop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stop_flag;
static enum vm_stop_reason stop_reason;
static int stop_status;
static int stop_efd = -1;

int vm_stop_eventfd(void)
{
	pthread_mutex_lock(&stop_lock);
	if (stop_efd < 0)
		stop_efd = eventfd(stop_flag ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_unlock(&stop_lock);
	return stop_efd;
}

void vm_request_stop(enum vm_stop_reason reason, int exit_status, const char *detail)
{
	bool first;

	pthread_mutex_lock(&stop_lock);
	first = !atomic_load(&stop_flag);
	if (first) {
		stop_reason = reason;
		stop_status = exit_status;
		atomic_store(&stop_flag, true);
		if (stop_efd >= 0) {
			uint64_t one = 1;
			if (write(stop_efd, &one, sizeof(one)) < 0) {
				/* The counter cannot overflow from one write; nothing to do. */
			}
		}
	}
	pthread_mutex_unlock(&stop_lock);
	/* A guest's verdict or a quit is the expected end: only debug noise. */
	if (first) {
		char status[16];
		const struct log_field fields[] = {
			{ "exit_reason", vm_stop_reason_name(reason) },
			{ "exit_status", status },
		};

		snprintf(status, sizeof(status), "%d", exit_status);
		log_msg_fields(reason == VM_STOP_TEST_EXIT || reason == VM_STOP_POWEROFF ? LOG_DEBUG
			       : reason == VM_STOP_RESET ? LOG_INFO : LOG_ERROR,
			       "vm", fields, 2, "stopping: %s%s%s (exit status %d)",
			       vm_stop_reason_name(reason), detail ? ": " : "", detail ? detail : "",
			       exit_status);
	}
}

bool vm_stop_requested(void) { return atomic_load(&stop_flag); }

enum vm_stop_reason vm_stop_reason(void)
{
	enum vm_stop_reason r;

	pthread_mutex_lock(&stop_lock);
	r = stop_reason;
	pthread_mutex_unlock(&stop_lock);
	return r;
}

int vm_stop_exit_status(void)
{
	int s;

	pthread_mutex_lock(&stop_lock);
	s = stop_status;
	pthread_mutex_unlock(&stop_lock);
	return s;
}

const char *vm_stop_reason_name(enum vm_stop_reason reason)
{
	switch (reason) {
	case VM_STOP_NONE: return "running";
	case VM_STOP_POWEROFF: return "power off";
	case VM_STOP_TEST_EXIT: return "guest test exit";
	case VM_STOP_RESET: return "guest reset";
	case VM_STOP_TRIPLE_FAULT: return "triple fault (shutdown)";
	case VM_STOP_HALTED: return "halted with interrupts disabled";
	case VM_STOP_INTERNAL_ERROR: return "KVM internal error";
	case VM_STOP_HOST_ERROR: return "host error";
	}
	return "unknown";
}

void vm_stop_reset_for_test(void)
{
	uint64_t v;

	pthread_mutex_lock(&stop_lock);
	atomic_store(&stop_flag, false);
	stop_reason = VM_STOP_NONE;
	stop_status = 0;
	if (stop_efd >= 0 && read(stop_efd, &v, sizeof(v)) < 0) {
		/* Not signalled: nothing to drain. */
	}
	pthread_mutex_unlock(&stop_lock);
}
