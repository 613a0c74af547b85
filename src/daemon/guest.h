/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "class.h"
#include "domains.h"
#include "history.h"
#include "host.h"
#include "host-flush.h"
#include "host-move.h"
#include "qmp-client.h"
#include "tier-engine.h"

/* One running vmtier guest as vmtierd tiers it.  An attach task learns its
 * QMP pid and RAM map off the main loop, the main thread installs them;
 * the window worker thread polls its run state, measures placement, feeds
 * the engine and moves pages.  The main thread never waits on QEMU.  LOCK
 * guards what both touch: counters, stats, state texts and the pending
 * quota. */

/* Whether the scanner's figures for a guest can be trusted (the names are
 * status's JSON). */
typedef enum {
	VMT_SENSOR_UNCHECKED,		/* no window judged yet, or not DAMON */
	VMT_SENSOR_RANKING,
	VMT_SENSOR_BLIND,		/* sensor_note says why; access figures unknown */
} VmtSensor;

const char *vmt_sensor_name(VmtSensor s);

/* What status says a guest is doing (its names are status's JSON). */
typedef enum {
	VMT_GUEST_ATTACHING,
	VMT_GUEST_TIERING,
	VMT_GUEST_REPORT_ONLY,		/* devdax or pinned: measured, never moved */
	VMT_GUEST_PAUSED,
	VMT_GUEST_UNRESPONSIVE,		/* its QMP poll went unanswered */
	VMT_GUEST_MIGRATING,
	VMT_GUEST_STOPPING,
	VMT_GUEST_ERROR,
} VmtGuestState;

const char *vmt_guest_state_name(VmtGuestState s);

typedef struct {
	gint ref;
	GMutex lock;
	char *name, *tenant, *klass;
	VmtGuestState state;
	char *last_error;
	int pid;
	guint64 start_time;		/* of that pid: a reused pid is not QEMU */
	int fast_node, slow_node;	/* where promotions / demotions go */
	gboolean movable;		/* FALSE: devdax or pinned; report only */
	/* QEMU's last answer (atomics: a poll thread writes them while the
	 * window reads them) */
	gint may_move;			/* running and not migrating */
	gint running;			/* QEMU's run state is "running" */
	guint64 quota_bytes, ram_bytes;
	guint64 kmem_bytes;		/* its plan's part on shared slow nodes (admission) */
	char *dram_nodes, *slow_nodes;	/* its plan's node lists (admission); NULL: unknown */
	guint64 max_migrate_bps;
	GArray *ranges;			/* VmtRange */
	VmtTierEngine *engine;
	guint16 *freq;
	gboolean *fast_nodes;		/* by host node id */
	guint n_nodes;
	guint refresh_cursor;
	gboolean placed;		/* full placement done once */
	gboolean armed;			/* a bitmap scanner has reset the bits once */
	char *qmp_path;
	gboolean attaching;		/* an attach task runs (main thread's) */
	/* the poll's own (daemon.c): one poll at a time, the window's first
	 * or the one poll thread's job (POLLING) */
	guint poll_skip;		/* windows not to poll QEMU, and */
	guint poll_backoff;		/* polls unanswered in a row */
	gint64 polled_us;		/* monotonic, the last answered poll */
	gint poll_due;			/* atomic: a lifecycle event came since */
	gint poll_result;		/* atomic: the last poll's outcome, 0: none yet */
	gint polling;			/* atomic: a poll thread has its job */
	VmtClass *klass_def;		/* NULL: class file missing */
	/* accounting, totals since first seen (restored from history) */
	guint64 promoted_bytes, demoted_bytes, migrations, windows;
	guint64 windows_attached;	/* windows measured since this attach */
	VmtMoveResult errors;
	/* the totals at the last history interval, for per-interval deltas */
	guint64 acc_promoted, acc_demoted, acc_migrations;
	gint64 acc_ts;
	/* the SLO counts and the report's sums (vmt_history_totals_add;
	 * its move counts are the fields above) */
	VmtHistoryTotals sums;
	gint64 started_ts;		/* QEMU's start (Unix s): the SLO's grace
					 * runs from it */
	VmtTierStats stats;
	guint64 absent_bytes;
	guint max_chunk_moves;
	guint64 state_bytes;
	guint scan_interval_ms;
	VmtScanner scanner;
	/* offload=damos: the memory cgroup the kernel's schemes filter on
	 * (NULL: vmtierd moves this guest's pages), why it is not offloaded,
	 * the kernel's applied bytes at the last reading, and all it moved
	 * (a part of promoted_bytes/demoted_bytes: vmtierd demotes what the
	 * kernel lands over the quota) */
	char *memcg, *offload_note;
	gboolean offload_capped;	/* the note is offload_max_guests': retried */
	guint64 damos_promoted, damos_demoted;
	guint64 kernel_promoted, kernel_demoted;
	/* the vCPU threads (int tids, checked against /proc at attach), or
	 * NULL and why not: the TLB flusher needs them (host-flush.h) */
	GArray *vcpu_tids;
	char *no_vcpus;
	VmtSensor sensor;
	char *sensor_note;
	guint sample_us;		/* DAMON's sample interval now */
	/* the highest frequency a flushed sample can give (permille: the
	 * share of samples with a flush in them); 0: no such bound */
	guint ceiling;
	guint64 flushes;		/* TLB flushes, since attach */
	/* its RAM's resident bytes and those in PMD huge pages (smaps, read
	 * every few windows): one accessed bit covers 2 MiB there, 4 KiB
	 * elsewhere, which decides what readings can say (guest.c) */
	guint64 rss_bytes, huge_bytes;
	gboolean huge_known;
	guint huge_age;			/* windows since read (the worker's) */
} VmtGuest;

VmtGuest *vmt_guest_new(const VmtDomainInfo *info, const VmtHost *host);
VmtGuest *vmt_guest_ref(VmtGuest *g);
void vmt_guest_unref(VmtGuest *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtGuest, vmt_guest_unref)

void vmt_guest_set_state(VmtGuest *g, VmtGuestState state, const char *error_or_null);

/* What attaching learns from QEMU, before anything of a guest changes. */
typedef struct {
	int pid;
	guint64 start_time;
	GArray *ranges;			/* VmtRange, checked */
	guint n_chunks;
	guint64 ram_bytes;
	char *qmp_path;
	GArray *vcpu_tids;		/* int, checked against /proc; NULL: */
	char *no_vcpus;			/* why not */
} VmtGuestMap;

void vmt_guest_map_free(VmtGuestMap *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtGuestMap, vmt_guest_map_free)

/* DOMAIN_ID for a QEMU that no libvirt started (unit tests only): its
 * cgroup is not checked. */
#define VMT_GUEST_NO_DOMAIN G_MININT

/* Any thread (it waits on QEMU): connect to guest NAME's QMP socket
 * QMP_PATH and learn its pid and RAM map.  The peer must be LIBVIRT_PID
 * (unknown, <= 0: refused), in the machine cgroup of the running domain
 * with libvirt id DOMAIN_ID (unknown, < 0: refused), and its RAM backends,
 * all within its mappings, must add up to RAM_BYTES, the domain's: QEMU may
 * be hostile, and every QEMU may create any guest's socket. */
VmtGuestMap *vmt_guest_map_query(const char *name, const char *qmp_path, int libvirt_pid,
				  int domain_id, guint64 ram_bytes, GError **error);
/* Main thread, G in no window: attach G to what M says (M's ranges and
 * path are taken) and build its engine. */
void vmt_guest_attach_map(VmtGuest *g, VmtGuestMap *m, const VmtTierParams *params);
/* Both at once (tests). */
gboolean vmt_guest_attach(VmtGuest *g, const char *qmp_path, int libvirt_pid, int domain_id,
			  guint64 ram_bytes, const VmtTierParams *params, GError **error);
/* A poll thread or the window worker: query QEMU's run and migration
 * state; sets running and may_move.  An error means QEMU is gone, or its
 * monitor is busy or hung (VMT_QMP_ERROR_TIMEOUT). */
gboolean vmt_guest_poll(VmtGuest *g, GError **error);

/* Worker: one window.  FREQ NULL: no valid sample this window (placement
 * is still measured).  BUDGET_BYTES bounds the bytes moved. */
void vmt_guest_window(VmtGuest *g, const guint16 *freq, guint64 budget_bytes);

void vmt_guest_set_quota(VmtGuest *g, guint64 bytes);
/* Worker, DAMON scanner: can this window's sample rank?  NO_SAMPLE: why
 * DAMON gave none (NULL: it did); ST: the flusher's counts for G this
 * window (NULL: none kept); FLUSH_US 0: flushes are off.  Sets sensor, sensor_note (blind when the
 * flushes could not be done, were too few, or there was no sample). */
void vmt_guest_judge_sensor(VmtGuest *g, const char *no_sample, const VmtFlushStats *st,
			    guint window_ms, guint flush_us, guint sample_us);
/* Main thread, G in no window: the scanner changed from DAMON to a
 * bitmap one, whose sensor is not judged: unchecked again. */
void vmt_guest_sensor_reset(VmtGuest *g);
/* Worker, offloaded guests: the kernel's bytes moved for G since its
 * schemes started (they restart at 0 with the kdamond). */
void vmt_guest_offloaded(VmtGuest *g, guint64 promoted, guint64 demoted);
/* {"name", ..., see ctl.h and cmd-status.c}; takes the lock. */
json_object *vmt_guest_to_json(VmtGuest *g);

/* One accounting interval ending at NOW (a second after the last one's
 * end, at the earliest): the history row (S; names are borrowed from G)
 * and running totals (T), and start the next interval. */
void vmt_guest_account(VmtGuest *g, gint64 now, VmtScanner scanner, VmtHistorySample *s,
		       VmtHistoryTotals *t);

/* At least one window measured since attach (not counting restored totals). */
gboolean vmt_guest_measured(VmtGuest *g);

/* Offloaded guests: the DRAM vmtierd keeps free below QUOTA for the
 * kernel's promotions. */
guint64 vmt_guest_offload_room(guint64 quota);

/* G's QEMU still runs: its pid is alive and not reused since attach. */
gboolean vmt_guest_alive(const VmtGuest *g);

/* Undo an attach (main thread, no window running with G). */
void vmt_guest_detach(VmtGuest *g);
