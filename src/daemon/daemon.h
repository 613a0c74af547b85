/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon-config.h"

#include <gio/gio.h>

/* vmtierd's state and main-loop work: discovering vmtier guests through
 * libvirt (lifecycle events plus a periodic sweep, so a missed event or a
 * libvirtd restart only delays things), attaching to their QMP sockets,
 * running scan windows on a worker thread, and answering the control
 * socket. */
typedef struct VmtDaemon VmtDaemon;

/* What vmtierd does not start with although vmtierd.conf parses: a class
 * file of the class directory that does not read (the error names it), a
 * socket_group that is no group.  Reads files only: `vmtierd
 * --check-config` runs it.  *N_CLASSES: the class files read, -1 when the
 * default class directory does not exist (a named class_dir must). */
gboolean vmt_daemon_config_check(const VmtDaemonConfig *cfg, int *n_classes, GError **error);
/* Where the guests' classes are: class_dir, else vmt_class_dir(). */
char *vmt_daemon_class_dir(const VmtDaemonConfig *cfg);

VmtDaemon *vmt_daemon_new(VmtDaemonConfig *cfg, GError **error);	/* takes CFG */
/* --oneshot (call before start): one discover and the attaches it starts,
 * one window, one account, then DONE(DATA) on the main loop. */
void vmt_daemon_set_oneshot(VmtDaemon *d, GSourceFunc done, gpointer data);
/* Start the sources on the default main context. */
gboolean vmt_daemon_start(VmtDaemon *d, GError **error);
/* SIGHUP: reread the configuration file (policy and limits; the socket,
 * scanner and paths keep their values until restart). */
gboolean vmt_daemon_reload(VmtDaemon *d, GError **error);
/* Tests only (vmtierd never calls them, so nothing outside a test binary
 * can): the directory of libvirt's QEMU pid files, NAME.pid (default
 * /run/libvirt/qemu), which an attach checks the QMP peer against; and a
 * bitmap scanner (host-scan.h's signature) reported as SCANNER in place of
 * the configured one.  Call before start. */
typedef gboolean (*VmtBitmapCollect)(int pid, const GArray *ranges, guint16 *freq, gboolean *valid,
				     GError **error);
void vmt_daemon_set_pid_dir(VmtDaemon *d, const char *dir);
void vmt_daemon_set_collect(VmtDaemon *d, VmtScanner scanner, VmtBitmapCollect collect);
/* Wait for a running window, stop DAMON, close everything. */
void vmt_daemon_free(VmtDaemon *d);
