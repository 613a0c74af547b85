/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "qmp-parser.h"

#include <gio/gio.h>

/* An asynchronous QMP client on the thread-default GMainContext of its
 * creator.  Connect, and it reads the greeting and negotiates
 * qmp_capabilities; commands get ids and their replies go to the callback
 * that sent them; events go to subscribers; QEMU's error replies become
 * GErrors (VMT_QMP_ERROR_COMMAND, "Class: desc").  A closed socket fails
 * every pending command with VMT_QMP_ERROR_CLOSED. */

typedef struct VmtQmpClient VmtQmpClient;

/* EVENT is the event name; DATA its "data" member or NULL (borrowed). */
typedef void (*VmtQmpEventFunc)(VmtQmpClient *c, const char *event, json_object *data, gpointer user);
/* The connection closed (ERROR says why); with reconnect on, it retries. */
typedef void (*VmtQmpClosedFunc)(VmtQmpClient *c, const GError *error, gpointer user);

VmtQmpClient *vmt_qmp_client_new(const char *socket_path);
VmtQmpClient *vmt_qmp_client_ref(VmtQmpClient *c);
void vmt_qmp_client_unref(VmtQmpClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtQmpClient, vmt_qmp_client_unref)

/* The largest message taken from QEMU (default 1 MiB); a larger one closes
 * the connection and fails what is pending. */
void vmt_qmp_client_set_max_message(VmtQmpClient *c, gsize bytes);
/* Reconnect after a close, waiting 100 ms and doubling up to MAX_MS. */
void vmt_qmp_client_set_reconnect(VmtQmpClient *c, gboolean on, guint max_ms);
void vmt_qmp_client_set_closed_func(VmtQmpClient *c, VmtQmpClosedFunc f, gpointer user);
/* NAME NULL: every event.  Returns an id for remove. */
guint vmt_qmp_client_add_event_func(VmtQmpClient *c, const char *name, VmtQmpEventFunc f,
				    gpointer user);
void vmt_qmp_client_remove_event_func(VmtQmpClient *c, guint id);
gboolean vmt_qmp_client_is_ready(VmtQmpClient *c);
/* The greeting's "QMP" object (borrowed), once connected. */
json_object *vmt_qmp_client_greeting(VmtQmpClient *c);

void vmt_qmp_client_connect_async(VmtQmpClient *c, guint timeout_ms, GCancellable *cancel,
				  GAsyncReadyCallback cb, gpointer user);
gboolean vmt_qmp_client_connect_finish(VmtQmpClient *c, GAsyncResult *res, GError **error);
void vmt_qmp_client_close(VmtQmpClient *c);

/* Send CMD with ARGS (taken; may be NULL).  0 timeout: none. */
void vmt_qmp_client_execute_async(VmtQmpClient *c, const char *cmd, json_object *args,
				  guint timeout_ms, GCancellable *cancel,
				  GAsyncReadyCallback cb, gpointer user);
/* The "return" value (a new reference) or NULL with an error. */
json_object *vmt_qmp_client_execute_finish(VmtQmpClient *c, GAsyncResult *res, GError **error);

/* Synchronous use for the CLI, on the same code: a client with a private
 * main context that the calls below iterate until done. */
VmtQmpClient *vmt_qmp_client_open_sync(const char *socket_path, guint timeout_ms, GError **error);
json_object *vmt_qmp_client_execute_sync(VmtQmpClient *c, const char *cmd, json_object *args,
					 guint timeout_ms, GError **error);
/* "human-monitor-command": the HMP output text. */
char *vmt_qmp_client_hmp_sync(VmtQmpClient *c, const char *command_line, guint timeout_ms,
			      GError **error);

/* The pid of the process at the other end of the socket (QEMU), from the
 * socket's peer credentials; -1 when not connected or unknown. */
int vmt_qmp_client_peer_pid(VmtQmpClient *c);
