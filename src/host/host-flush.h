/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* A TLB flusher for guests' vCPU threads (host layer).
 *
 * Accessed bits are cleared without a TLB flush (DAMON, page_idle and KVM's
 * clear_young alike), so a page whose translation stays in a TLB never
 * reads accessed again: the hottest pages read idle.  Moving a vCPU thread
 * to another CPU flushes what matters: KVM flushes the vCPU's guest TLB
 * when it is loaded on a new physical CPU (VMX KVM_REQ_TLB_FLUSH; SVM takes
 * a new ASID), and under TCG the host kernel's switch of mm on both CPUs
 * is a CR3 write, which empties the emulated TLB (no PCID).  So the flusher
 * moves each vCPU thread, every period, to another CPU of the set it may
 * run on (its affinity mask, which a cpuset already narrows), then gives
 * the whole mask back: it never puts a vCPU where it could not run anyway.
 * A vCPU allowed on one CPU only cannot be flushed this way: the guest is
 * reported "pinned" and its ranking is not to be trusted.
 *
 * The flusher runs on a thread of its own at a bounded rate (one move per
 * vCPU per period), so it never blocks the main loop. */

typedef struct VmtFlusher VmtFlusher;

typedef struct {
	guint64 flushes;	/* moves done */
	guint64 failures;	/* moves that failed (see error) */
	guint n_vcpus;		/* vCPU threads known */
	guint pinned;		/* of them allowed on a single CPU */
	char *error;		/* the last failure, or NULL */
} VmtFlushStats;

void vmt_flush_stats_clear(VmtFlushStats *s);

/* The thread ids (QMP query-cpus-fast "thread-id") of QEMU PID that are
 * really its threads (/proc/PID/task/TID): QEMU is not trusted.  Fails
 * naming the first that is not; an empty TIDS is an error too. */
gboolean vmt_host_flush_check_tids(int pid, const GArray *tids, GError **error);

/* Move thread TID of PID to another CPU it is allowed on and give its mask
 * back.  *PINNED: it is allowed on one CPU only (nothing done, TRUE). */
gboolean vmt_host_flush_thread(int pid, int tid, gboolean *pinned, GError **error);

/* A flusher thread moving every known vCPU once per PERIOD_US, or less
 * often when a round of moves costs more than CPU_PCT percent of one CPU
 * at that rate: its own CPU stays bounded whatever the number of vCPUs. */
VmtFlusher *vmt_host_flush_new(guint period_us, guint cpu_pct);
void vmt_host_flush_free(VmtFlusher *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtFlusher, vmt_host_flush_free)
void vmt_host_flush_set_period(VmtFlusher *f, guint period_us);
/* The period the flusher runs at now (what a window's flushes are to be
 * judged against): the one asked for, or longer under the CPU bound. */
guint vmt_host_flush_period(VmtFlusher *f);
/* That period for rounds costing ROUND_CPU_US of CPU (pure). */
guint vmt_host_flush_effective_period(guint period_us, guint cpu_pct, gint64 round_cpu_us);
/* Flush guest NAME (QEMU PID, vCPU threads TIDS, int) from now on;
 * replaces what NAME had.  TIDS NULL or empty: stop flushing NAME. */
void vmt_host_flush_set_guest(VmtFlusher *f, const char *name, int pid, const GArray *tids);
/* NAME's counts since the last take (and reset them); FALSE: NAME unknown. */
gboolean vmt_host_flush_take(VmtFlusher *f, const char *name, VmtFlushStats *out);
