/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-c/json.h>
#include <gio/gio.h>
#include <sys/types.h>

/* vmtierd's control socket: a Unix stream socket speaking JSON lines.
 * A request is one JSON object with a "cmd" member, on one line; the reply is
 * one JSON object on one line: {"ok": true, ...} or {"ok": false, "error":
 * "one-line message"}.  A client may send several requests on a connection.
 *
 * Access: the socket file is mode 0600 (root only) or, with a group, 0660
 * owned root:GROUP; on top of that every connection's peer credentials
 * (SO_PEERCRED) are checked: uid 0, or (with a group) a peer whose primary or
 * supplementary groups include GROUP.  Others get an error reply and are
 * disconnected.  Lines over 64 KiB are refused.  A client has
 * VMT_CTL_IDLE_MS from connecting, and from each request, to send its next
 * request, else it is disconnected; at most 32 clients at once, the last 4
 * of those slots for root only.
 *
 * Commands the daemon answers (see vmtierd.c for the reply members):
 *   {"cmd":"status"} or {"cmd":"status","name":"VM"}
 *   {"cmd":"set","name":"VM","dram_bytes":N}
 *   {"cmd":"notify","event":"started"|"stopped","name":"VM"}   (the hook) */

typedef struct {
	pid_t pid;
	uid_t uid;
	gid_t gid;
} VmtCtlPeer;

/* The server's access rule for a peer: uid 0 or the server's own euid (the
 * same thing for a root daemon; lets an unprivileged test or development
 * daemon talk to its own user), else, when GROUP is not (gid_t)-1, a peer
 * whose gid is GROUP or whose user (from its passwd entry, getgrouplist())
 * belongs to GROUP.  Exposed for tests. */
gboolean vmt_ctl_peer_allowed(const VmtCtlPeer *p, gid_t group);

/* Handle REQUEST (borrowed) from PEER: return the reply (new object; the
 * server adds "ok": true unless the handler set "ok"), or NULL with ERROR,
 * which becomes {"ok": false, "error": message}. */
typedef json_object *(*VmtCtlHandler)(json_object *request, const VmtCtlPeer *peer,
				      gpointer user, GError **error);

typedef struct VmtCtlServer VmtCtlServer;

/* Listen on PATH (a stale socket file is replaced; its directory must
 * exist), on the thread-default main context.  GROUP: (gid_t)-1 for root
 * only. */
VmtCtlServer *vmt_ctl_server_new(const char *path, gid_t group, VmtCtlHandler handler,
				 gpointer user, GError **error);
#define VMT_CTL_IDLE_MS 10000
/* The idle limit (tests shorten it). */
void vmt_ctl_server_set_idle_timeout(VmtCtlServer *s, guint ms);

/* One request line (without its newline) as the server reads it: a JSON
 * object with a "cmd" string, whose "cmd", "name" and "event", when there,
 * are strings of printable characters (vmt_name_check's tenant rule: no
 * newline to forge a log line with), or NULL with an error that says what
 * is wrong.  Exposed for tests and fuzzing. */
json_object *vmt_ctl_request_parse(const char *line, gsize len, GError **error);

/* Within the handler: answer the request being handled later, from the
 * server's main context, with vmt_ctl_pending_done (exactly once, before
 * the server is freed); the handler then returns NULL without an error.
 * Meanwhile that client's further requests wait, and it has no idle limit. */
typedef struct VmtCtlPending VmtCtlPending;
VmtCtlPending *vmt_ctl_server_defer(VmtCtlServer *s);
/* The deferred reply: REPLY (taken; "ok": true added as for the handler's)
 * or, when NULL, ERROR's message; nothing if the client has gone.  Frees P. */
void vmt_ctl_pending_done(VmtCtlPending *p, json_object *reply, const GError *error);

/* Stop listening, drop clients, unlink the socket file. */
void vmt_ctl_server_free(VmtCtlServer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtCtlServer, vmt_ctl_server_free)

/* Client: connect to PATH, send REQUEST (taken), wait at most TIMEOUT_MS in
 * all (connect, write, read) and return the reply object.  A reply with
 * "ok": false becomes an error with its message.  Never blocks longer than
 * the timeout, even if the daemon accepted and then hangs. */
json_object *vmt_ctl_request(const char *path, json_object *request, guint timeout_ms,
			     GError **error);

/* The default socket path: $VMTIER_SOCKET, else VMT_RUNSTATEDIR/vmtierd.sock. */
const char *vmt_ctl_default_path(void);
