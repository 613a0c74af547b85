/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "scanner.h"
#include "tier-engine.h"

/* Who moves the guests' pages (the names are vmtierd.conf's and status's). */
typedef enum {
	VMT_OFFLOAD_NONE,	/* vmtierd's own mover */
	VMT_OFFLOAD_DAMOS,	/* the kernel's DAMOS, per guest (host-damos.h) */
} VmtOffload;

const char *vmt_offload_name(VmtOffload o);

/* vmtierd's configuration: a GKeyFile (default VMT_SYSCONFDIR/vmtier/
 * vmtierd.conf; data/vmtierd.conf documents every key and its default).
 * A missing default file means defaults; a missing file given with
 * --config, an unknown key, or a bad value is an error naming it. */
typedef struct {
	char *path;			/* the file read, NULL if none */
	/* [daemon] */
	char *socket_path, *socket_group, *qmp_dir, *history_db, *metrics_file;
	char *libvirt_uri, *class_dir, *state_dir;
	VmtScanner scanner;		/* auto .. idle-pages: not none */
	VmtOffload offload;
	guint offload_max_guests;	/* offloaded at once; the rest moved by vmtierd */
	guint scan_interval_ms, min_interval_ms, max_interval_ms, sample_us;
	guint guest_window_ms;		/* one guest's scan and moves, per window */
	guint min_sample_us, flush_us;
	guint flush_cpu_pct;	/* the flusher's CPU bound, percent of one CPU */
	guint max_migrate_mbs;		/* all guests together; 0: no limit */
	guint vm_migrate_mbs;		/* per guest when its class sets none */
	guint account_interval_s, discover_interval_s;
	guint poll_interval_s;		/* QMP run-state poll with libvirt's events */
	guint history_days;		/* rows older are pruned; 0: kept for good */
	guint64 dram_reserve_bytes;	/* never promised to guests (vmtier set) */
	/* [policy] */
	VmtTierParams params;
	/* [hook] */
	char *hook_on_no_answer;	/* refuse, admit: vmtierd runs but is silent */
} VmtDaemonConfig;

VmtDaemonConfig *vmt_daemon_config_load(const char *path, gboolean must_exist, GError **error);
/* Every key at its default, as with no file. */
VmtDaemonConfig *vmt_daemon_config_new_default(void);
void vmt_daemon_config_free(VmtDaemonConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtDaemonConfig, vmt_daemon_config_free)
const char *vmt_daemon_config_default_path(void);
/* The file vmtierd's clients (vmtier define, the hook) read for what they
 * share with it, such as dram_reserve: $VMTIER_CONFIG, else the default. */
const char *vmt_daemon_config_client_path(void);
