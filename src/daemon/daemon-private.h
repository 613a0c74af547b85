/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* vmtierd's internals shared by daemon.c (life, discovery, windows,
 * accounting), daemon-ctl.c (control-socket requests) and
 * daemon-offload.c (offload=damos). */
#include "daemon.h"
#include "ctl.h"
#include "history.h"
#include "host.h"
#include "guest.h"
#include "host-damon.h"
#include "host-flush.h"

#include <libvirt/libvirt.h>

/* daemon-check.c: the control socket's group (-1 for none) */
gboolean vmt_daemon_socket_gid(const char *name, gid_t *gid, GError **error);

/* Where a window's time goes: DAMON's collect (and DAMOS's restart), the
 * QMP polls of guests in their first window (the rest run on poll
 * threads, off the window), the guests' own steps (sample, rank, move),
 * DAMOS's steering */
typedef enum {
	VMT_PHASE_SCAN,
	VMT_PHASE_POLL,
	VMT_PHASE_GUESTS,
	VMT_PHASE_OFFLOAD,
	VMT_PHASES
} VmtWindowPhase;

struct VmtDaemon {
	VmtDaemonConfig *cfg;
	VmtHost *host;
	virConnectPtr conn;
	gboolean conn_lost_logged;
	int events_id;			/* lifecycle callback on conn, -1: none */
	GHashTable *guests;		/* name -> VmtGuest* */
	VmtCtlServer *ctl;
	VmtDamon *damon;		/* scanning (fvaddr) */
	VmtDamon *damos;		/* offload=damos (paddr, host-damos.h) */
	VmtFlusher *flusher;		/* TLB flushes for DAMON's guests, or NULL */
	guint sample_us;		/* DAMON's sample interval now (adapts) */
	guint sample_floor_us;		/* ... never below: what kdamond kept up with */
	guint starved_windows;		/* in a row, no sample at the longest interval */
	char *offload_note;		/* why offload=damos is not in use */
	guint damos_n;			/* guests in DAMOS's schemes now */
	GPtrArray *damos_guests;	/* VmtGuest refs, as DAMOS was started
					 * (the window worker's only) */
	VmtScanner scanner;		/* in use */
	VmtBitmapCollect collect;		/* NULL for DAMON */
	char *scanner_note;		/* why not the preferred one */
	gboolean damon_dirty;		/* targets or interval changed */
	gboolean window_running;
	gboolean setting;		/* a `set` is being recorded (daemon-ctl.c) */
	GThreadPool *polls;		/* QMP polls after a guest's first window
					 * (PollJob, daemon.c) */
	guint attaching;		/* attach tasks running or queued */
	GQueue attach_queue;		/* GTask*: the queued ones, in order */
	gboolean listing, list_again;	/* libvirt's list is being read; read it
					 * again after (an event came) */
	GSourceFunc oneshot_done;	/* --oneshot: called after one pass */
	gpointer oneshot_data;
	guint oneshot_stage;
	GCancellable *cancel;
	guint window_source, discover_source, discover_idle, account_source;
	VmtHistory *history;		/* NULL: could not open; see the log.  The
					 * account writer's; the main thread only
					 * reads a found guest's totals */
	gint64 pruned_ts;		/* last history prune, s */
	GThreadPool *account_pool;	/* the account writer (daemon-account.c) */
	GMutex account_lock;
	GCond account_done;
	guint account_pending;		/* jobs read, not yet written */
	guint interval_ms;		/* the window now (DAMON's aggregation) */
	guint want_interval_ms;		/* what the engines ask for */
	char *pid_dir;			/* libvirt's QEMU pid files */
	int lock_fd;			/* flock'd: one vmtierd per state_dir */
	char *damon_set;		/* "name:pid:chunks " of DAMON's targets, or
					 * "name:pid:memcg " of DAMOS's guests */
	gint64 started_us;
	gint64 started_ts;		/* Unix s, for the metrics */
	guint64 windows_done;		/* scan windows since start, and */
	guint64 windows_accounted;	/* windows_done at the last account */
	gint64 windows_us, last_window_us;	/* their time (the metrics) */
	gint64 last_phase_us[VMT_PHASES];	/* the last window's, by phase, */
	gint64 phases_us[VMT_PHASES];		/* ... and all windows' */
};

/* Look for started and stopped guests soon, on the main loop. */
void vmt_daemon_discover_soon(VmtDaemon *d);
/* The control socket's handler (ctl.h); USER is the daemon. */
json_object *vmt_daemon_ctl_request(json_object *req, const VmtCtlPeer *peer, gpointer user,
				    GError **error);

/* One scan window's work, handed to the worker thread (daemon.c). */
typedef struct {
	VmtDaemon *d;
	GPtrArray *guests;		/* VmtGuest*, refs */
	GPtrArray *gone;		/* of them, QEMU gone (the main thread drops them) */
	GArray *budgets;		/* guint64 per guest */
	gboolean restart_damon;
	gboolean collected;		/* DAMON's collect waited out its interval */
	gboolean starved;		/* ... and no running guest had a sample */
	guint damon_regions;		/* DAMON's update: regions returned */
	guint damon_tries;		/* ... in how many updates */
	guint64 damon_update_us;	/* ... and how long they took */
	guint flush_us;			/* the flusher's period (0: no flushes) */
	guint interval_ms;
	guint guest_ms;			/* each guest's time limit (host-deadline.h) */
	guint sample_us;
	gint64 poll_us;			/* ask a quiet guest's QEMU this often
					 * (libvirt's events tell the rest); 0:
					 * every window */
	VmtTierParams params;		/* as configured now (SIGHUP) */
	char *damon_error;
	gboolean damon_lost;		/* someone else took DAMON over */
	guint damos_n;			/* offloaded guests, as DAMOS was started */
	gboolean damos_failed;		/* its start failed: vmtierd moves them */
	gint64 start_us;		/* monotonic, when it was handed over */
	gint64 phase_us[VMT_PHASES];
} VmtWindow;

/* Accounting (daemon-account.c): every measured guest's interval (and a
 * leaving guest's last one) is read on the main thread; the history's rows,
 * its pruning and the metrics file are written in that order by a thread
 * of their own (SQLite's commits and the file's write, all guests', held
 * the main loop 200-1180 ms at 32 guests on the test host).  open opens the
 * history and starts the writer; wait waits for what is queued; close
 * writes what is queued and closes the history. */
void vmt_daemon_account_open(VmtDaemon *d);
void vmt_daemon_account(VmtDaemon *d);
void vmt_daemon_account_guest(VmtDaemon *d, VmtGuest *g);
void vmt_daemon_account_wait(VmtDaemon *d);
void vmt_daemon_account_close(VmtDaemon *d);

/* The main loop's busy time (daemon-loop.c): vmtierd's callbacks on the
 * main loop say when they start (vmt_daemon_loop_ran); from one poll to
 * the next, the time is theirs in turn ("other": GLib's and libvirt's own
 * dispatch before the first).  One over VMT_LOOP_STALL_US is logged, at
 * most once in 10 s: every control request waited that long. */
#define VMT_LOOP_STALL_US 200000
typedef struct {
	gint64 worst_us;
	const char *worst_what;		/* a static string */
	guint stalls;
} VmtLoopStats;
void vmt_daemon_loop_watch(void);
void vmt_daemon_loop_unwatch(void);
void vmt_daemon_loop_ran(const char *what);
void vmt_daemon_loop_stats(VmtLoopStats *s, gboolean reset);

/* offload=damos (daemon-offload.c): claim the kdamonds at start (or say
 * why not); per guest, whether the kernel may move its pages (main
 * thread); per window, on the worker: (re)start, steer, and hand the
 * guests back to vmtierd's mover when DAMOS would not start (main). */
void vmt_daemon_offload_choose(VmtDaemon *d);
void vmt_daemon_offload_guest(VmtDaemon *d, VmtGuest *g);
void vmt_daemon_offload_start(VmtWindow *w);
void vmt_daemon_offload_steer(VmtWindow *w);
void vmt_daemon_offload_fallback(VmtWindow *w);
