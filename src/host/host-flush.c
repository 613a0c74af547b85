// SPDX-License-Identifier: GPL-2.0-or-later
/* vCPU thread moves as TLB flushes; see host-flush.h. */
#include "error.h"
#include "host-flush.h"
#include "sysfs.h"

#include <errno.h>
#include <gio/gio.h>
#include <sched.h>
#include <string.h>
#include <time.h>

/* pid and tids never change (another set makes another Guest): a round
 * reads them unlocked, holding a ref; next_cpu is the flusher thread's,
 * st is under the flusher's lock. */
typedef struct {
	gint ref;
	int pid;
	GArray *tids;		/* int */
	guint next_cpu;		/* rotates through the allowed CPUs */
	VmtFlushStats st;
} Guest;

struct VmtFlusher {
	GMutex lock;
	GCond wake;
	GThread *thread;
	gboolean stop;
	guint period_us;	/* asked for */
	guint effective_us;	/* run at: longer while a round costs too much */
	guint cpu_pct;		/* the bound: percent of one CPU */
	gint64 round_cpu_us;	/* a round's CPU time, smoothed */
	GHashTable *guests;	/* name -> Guest */
};

void vmt_flush_stats_clear(VmtFlushStats *s)
{
	g_clear_pointer(&s->error, g_free);
	memset(s, 0, sizeof(*s));
}

static void guest_unref(gpointer p)
{
	Guest *g = p;

	if (!g_atomic_int_dec_and_test(&g->ref))
		return;
	g_array_unref(g->tids);
	g_free(g->st.error);
	g_free(g);
}

static gboolean is_thread_of(int pid, int tid)
{
	g_autofree char *p = g_strdup_printf("/proc/%d/task/%d", pid, tid);

	return vmt_sysfs_exists(p);
}

gboolean vmt_host_flush_check_tids(int pid, const GArray *tids, GError **error)
{
	if (!tids || tids->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "QEMU (pid %d) names no vCPU threads", pid);
		return FALSE;
	}
	for (guint i = 0; i < tids->len; i++) {
		int tid = g_array_index(tids, int, i);

		if (tid <= 0 || !is_thread_of(pid, tid)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "QEMU (pid %d) names vCPU thread %d, which is not one of its "
				    "threads", pid, tid);
			return FALSE;
		}
	}
	return TRUE;
}

/* The Nth allowed CPU after ROTOR (wrapping), or -1 when there is none. */
static int pick_cpu(const cpu_set_t *set, guint *rotor)
{
	guint n = (guint)CPU_COUNT(set), k = *rotor % MAX(n, 1);

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set) && k-- == 0) {
			(*rotor)++;
			return c;
		}
	return -1;
}

static gboolean flush_thread(int pid, int tid, guint *rotor, gboolean *pinned, GError **error)
{
	cpu_set_t mask, one, now;
	int cpu, e;

	*pinned = FALSE;
	/* a tid the kernel gave to another process since is not ours to move */
	if (!is_thread_of(pid, tid)) {
		g_set_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE,
			    "vCPU thread %d of pid %d is gone", tid, pid);
		return FALSE;
	}
	if (sched_getaffinity(tid, sizeof(mask), &mask) < 0)
		goto fail;
	if (CPU_COUNT(&mask) < 2) {
		*pinned = TRUE;
		return TRUE;
	}
	cpu = pick_cpu(&mask, rotor);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* the move is done when sched_setaffinity returns (a stopper moves a
	 * running thread); the mask given back lets it stay there */
	if (sched_setaffinity(tid, sizeof(one), &one) < 0)
		goto fail;
	/* someone pinned it meanwhile (libvirt's vcpupin, taskset): theirs
	 * stands, and the mask is not given back over it.  The window left is
	 * the two calls below, not the move. */
	if (sched_getaffinity(tid, sizeof(now), &now) < 0)
		goto fail;
	if (!CPU_EQUAL(&now, &one))
		return TRUE;
	if (sched_setaffinity(tid, sizeof(mask), &mask) < 0)
		goto fail;
	return TRUE;
fail:
	e = errno;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "moving vCPU thread %d of pid %d: %s",
		    tid, pid, g_strerror(e));
	return FALSE;
}

gboolean vmt_host_flush_thread(int pid, int tid, gboolean *pinned, GError **error)
{
	guint rotor = (guint)g_random_int();

	return flush_thread(pid, tid, &rotor, pinned, error);
}

/* One round's moves of G's vCPUs, unlocked, into ROUND. */
static void flush_guest(Guest *g, VmtFlushStats *round)
{
	for (guint i = 0; i < g->tids->len; i++) {
		g_autoptr(GError) error = NULL;
		gboolean pin;

		if (flush_thread(g->pid, g_array_index(g->tids, int, i), &g->next_cpu, &pin, &error)) {
			round->flushes += !pin;
			round->pinned += pin;
		} else {
			round->failures++;
			g_free(round->error);
			round->error = g_strdup(error->message);
		}
	}
	round->n_vcpus = g->tids->len;
}

/* ... added to G's stats, under the lock */
static void add_round(Guest *g, VmtFlushStats *round)
{
	g->st.flushes += round->flushes;
	g->st.failures += round->failures;
	if (round->error) {
		g_free(g->st.error);
		g->st.error = g_steal_pointer(&round->error);
	}
	g->st.n_vcpus = round->n_vcpus;
	g->st.pinned = round->pinned;
}

static gint64 thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* The period a round costing ROUND_CPU_US of CPU may run at: no shorter
 * than PERIOD_US, and long enough that the flusher takes at most CPU_PCT
 * percent of one CPU. */
guint vmt_host_flush_effective_period(guint period_us, guint cpu_pct, gint64 round_cpu_us)
{
	gint64 bound = MAX(round_cpu_us, 0) * 100 / CLAMP(cpu_pct, 1u, 100u);

	return (guint)CLAMP(bound, (gint64)period_us, (gint64)G_MAXUINT / 2);
}

static gpointer run(gpointer data)
{
	VmtFlusher *f = data;
	gint64 next = g_get_monotonic_time();

	g_mutex_lock(&f->lock);
	while (!f->stop) {
		GHashTableIter it;
		gpointer v;
		gint64 c0, spent;
		GPtrArray *round;
		VmtFlushStats *stats;

		/* nothing to flush: sleep until a guest comes, not a wake-up
		 * a period for nothing (under nested TCG 7% of a CPU, measured
		 * by bench/scanner.sh's idle daemon) */
		if (g_hash_table_size(f->guests) == 0) {
			while (!f->stop && g_hash_table_size(f->guests) == 0)
				g_cond_wait(&f->wake, &f->lock);
			next = g_get_monotonic_time();
			continue;
		}
		/* the moves without the lock: each can wait for a migration,
		 * and a round of 32 guests' many (the main loop sets guests
		 * and status reads the period meanwhile) */
		round = g_ptr_array_new_with_free_func(guest_unref);
		g_hash_table_iter_init(&it, f->guests);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			g_atomic_int_inc(&((Guest *)v)->ref);
			g_ptr_array_add(round, v);
		}
		g_mutex_unlock(&f->lock);
		c0 = thread_cpu_us();
		stats = g_new0(VmtFlushStats, round->len);
		for (guint i = 0; i < round->len; i++)
			flush_guest(round->pdata[i], &stats[i]);
		spent = thread_cpu_us() - c0;
		g_mutex_lock(&f->lock);
		for (guint i = 0; i < round->len; i++)
			add_round(round->pdata[i], &stats[i]);
		g_ptr_array_unref(round);
		g_free(stats);
		/* every vCPU once a period costs more with more guests (a
		 * move is a few syscalls and a migration; under nested TCG
		 * about a millisecond): the period stretches instead, for all
		 * guests alike, and the sensor is told (vmt_host_flush_period) */
		f->round_cpu_us = f->round_cpu_us ? (3 * f->round_cpu_us + spent) / 4 : spent;
		f->effective_us = vmt_host_flush_effective_period(f->period_us, f->cpu_pct, f->round_cpu_us);
		/* a fixed rate, not catching up after a stall: the cap holds */
		next = MAX(next + f->effective_us, g_get_monotonic_time());
		while (!f->stop && g_cond_wait_until(&f->wake, &f->lock, next))
			;
	}
	g_mutex_unlock(&f->lock);
	return NULL;
}

VmtFlusher *vmt_host_flush_new(guint period_us, guint cpu_pct)
{
	VmtFlusher *f = g_new0(VmtFlusher, 1);

	g_mutex_init(&f->lock);
	g_cond_init(&f->wake);
	f->period_us = f->effective_us = MAX(period_us, 100u);
	f->cpu_pct = cpu_pct;
	f->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, guest_unref);
	f->thread = g_thread_new("vmt-flush", run, f);
	return f;
}

void vmt_host_flush_free(VmtFlusher *f)
{
	if (!f)
		return;
	g_mutex_lock(&f->lock);
	f->stop = TRUE;
	g_cond_signal(&f->wake);
	g_mutex_unlock(&f->lock);
	g_thread_join(f->thread);
	g_hash_table_unref(f->guests);
	g_cond_clear(&f->wake);
	g_mutex_clear(&f->lock);
	g_free(f);
}

void vmt_host_flush_set_period(VmtFlusher *f, guint period_us)
{
	g_mutex_lock(&f->lock);
	f->period_us = MAX(period_us, 100u);
	f->effective_us = vmt_host_flush_effective_period(f->period_us, f->cpu_pct, f->round_cpu_us);
	g_mutex_unlock(&f->lock);
}

guint vmt_host_flush_period(VmtFlusher *f)
{
	guint p;

	g_mutex_lock(&f->lock);
	p = f->effective_us;
	g_mutex_unlock(&f->lock);
	return p;
}

void vmt_host_flush_set_guest(VmtFlusher *f, const char *name, int pid, const GArray *tids)
{
	g_mutex_lock(&f->lock);
	if (!tids || tids->len == 0) {
		g_hash_table_remove(f->guests, name);
	} else {
		Guest *g = g_hash_table_lookup(f->guests, name);

		if (!g || g->pid != pid || g->tids->len != tids->len ||
		    memcmp(g->tids->data, tids->data, tids->len * sizeof(int)) != 0) {
			g = g_new0(Guest, 1);
			g->ref = 1;
			g->pid = pid;
			g->tids = g_array_copy((GArray *)tids);
			g->st.n_vcpus = tids->len;
			g_hash_table_replace(f->guests, g_strdup(name), g);
			g_cond_signal(&f->wake);	/* it may sleep for want of guests */
		}
	}
	g_mutex_unlock(&f->lock);
}

gboolean vmt_host_flush_take(VmtFlusher *f, const char *name, VmtFlushStats *out)
{
	Guest *g;

	memset(out, 0, sizeof(*out));
	g_mutex_lock(&f->lock);
	g = g_hash_table_lookup(f->guests, name);
	if (g) {
		*out = g->st;
		g->st.error = NULL;
		g->st.flushes = g->st.failures = 0;
	}
	g_mutex_unlock(&f->lock);
	return g != NULL;
}
