// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's control socket: the JSON-lines server on the thread-default main
 * context (see ctl.h); the client is in ctl-client.c. */
#include "ctl.h"
#include "ctl-sock.h"
#include "names.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_LINE (64u * 1024)		/* a request line, without its newline */
#define MAX_CLIENTS 32
/* of those, kept for root (and the daemon's own user): group members that
 * fill the others cannot lock the hook or an operator out */
#define ROOT_CLIENTS 4
#define READ_CHUNK 4096

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_tokener, json_tokener_free)

struct VmtCtlServer {
	char *path;
	dev_t dev;			/* the socket file we made, so free unlinks only it */
	ino_t ino;
	gid_t group;
	GMainContext *ctx;
	GSocket *sock;
	GSource *src;
	VmtCtlHandler handler;
	gpointer user;
	GList *clients;
	guint idle_ms;
	gpointer handling;		/* Client* whose request the handler has */
	guint64 next_id;
};

/* a deferred request's client, found again by id: it may be gone */
struct VmtCtlPending {
	VmtCtlServer *s;
	guint64 id;
};

typedef struct {
	VmtCtlServer *s;
	GSocket *sock;
	GSource *src;
	GIOCondition watching;
	VmtCtlPeer peer;
	GSource *idle;			/* drops a client that sends no request */
	GByteArray *in;
	GString *out;
	gsize out_done;
	gboolean eof;			/* the peer sent all it will */
	gboolean closing;		/* disconnect once OUT is sent */
	guint64 id;
	gboolean waiting;		/* its request's reply was deferred */
} Client;

/* ---- access ---- */

static gboolean user_in_group(uid_t uid, gid_t group)
{
	g_autofree char *buf = NULL;
	g_autofree gid_t *groups = NULL;
	struct passwd pw, *found = NULL;
	gsize size = 16384;
	int n = 64;

	for (;;) {
		int rc;

		buf = g_realloc(buf, size);
		rc = getpwuid_r(uid, &pw, buf, size, &found);
		if (rc != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	if (!found)
		return FALSE;
	for (;;) {
		int want = n;

		groups = g_renew(gid_t, groups, want);
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) >= 0)
			break;
		if (n <= want)		/* no bigger size asked for: give up */
			return FALSE;
	}
	for (int i = 0; i < n; i++)
		if (groups[i] == group)
			return TRUE;
	return FALSE;
}

gboolean vmt_ctl_peer_allowed(const VmtCtlPeer *p, gid_t group)
{
	if (p->uid == 0 || p->uid == geteuid())
		return TRUE;
	if (group == (gid_t)-1)
		return FALSE;
	return p->gid == group || user_in_group(p->uid, group);
}

/* ---- server: one connection ---- */

static void drop_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_clear_pointer(src, g_source_unref);
	}
}

static void client_free(Client *c)
{
	c->s->clients = g_list_remove(c->s->clients, c);
	drop_source(&c->src);
	drop_source(&c->idle);
	g_socket_close(c->sock, NULL);
	g_object_unref(c->sock);
	g_byte_array_unref(c->in);
	g_string_free(c->out, TRUE);
	g_free(c);
}

static void queue_reply(Client *c, json_object *reply)
{
	g_string_append(c->out, json_object_to_json_string_ext(reply,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	g_string_append_c(c->out, '\n');
	json_object_put(reply);
}

static void queue_error(Client *c, const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(FALSE));
	json_object_object_add(o, "error", json_object_new_string(message));
	queue_reply(c, o);
}

/* The reply with "ok": true first, unless the handler set "ok" itself. */
static json_object *with_ok(json_object *reply)
{
	json_object *o;

	if (json_object_object_get_ex(reply, "ok", NULL))
		return reply;
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(TRUE));
	json_object_object_foreach(reply, key, val)
		json_object_object_add(o, key, json_object_get(val));
	json_object_put(reply);
	return o;
}

/* Request members that name things; each must be printable text. */
static const char *const name_members[] = { "cmd", "name", "event" };

json_object *vmt_ctl_request_parse(const char *line, gsize len, GError **error)
{
	g_autoptr(json_tokener) tok = NULL;
	json_object *req, *cmd;
	enum json_tokener_error jerr;

	if (len > MAX_LINE) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
			    "request line longer than %u bytes", MAX_LINE);
		return NULL;
	}
	tok = json_tokener_new();
	req = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len)
		jerr = json_tokener_error_parse_unexpected;
	if (jerr != json_tokener_success) {
		json_object_put(req);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "invalid JSON request: %s",
			    jerr == json_tokener_continue ? "unexpected end of line" :
			    json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		json_object_put(req);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "a request is a JSON object with a \"cmd\" string");
		return NULL;
	}
	/* names go into vmtierd's log and replies: a newline in one would forge
	 * a log line, an escape sequence would drive the terminal reading it */
	for (guint i = 0; i < G_N_ELEMENTS(name_members); i++) {
		json_object *v;

		if (!json_object_object_get_ex(req, name_members[i], &v))
			continue;
		if (!json_object_is_type(v, json_type_string)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "\"%s\" is not a string",
				    name_members[i]);
			json_object_put(req);
			return NULL;
		}
		if (!vmt_name_check(VMT_NAME_TENANT, name_members[i], json_object_get_string(v), error)) {
			json_object_put(req);
			return NULL;
		}
	}
	return req;
}

static void idle_restart(Client *c);

static void handle_line(Client *c, const char *line, gsize len)
{
	g_autoptr(GError) error = NULL;
	json_object *req, *reply;

	while (len && g_ascii_isspace(line[len - 1]))
		len--;
	if (!len)
		return;
	idle_restart(c);	/* a request came: the client has another idle period */
	req = vmt_ctl_request_parse(line, len, &error);
	if (!req) {
		queue_error(c, error->message);
		return;
	}
	c->s->handling = c;
	reply = c->s->handler(req, &c->peer, c->s->user, &error);
	c->s->handling = NULL;
	json_object_put(req);
	if (!reply && c->waiting && !error) {
		/* no idle limit while the daemon owes the reply */
		drop_source(&c->idle);
		return;
	}
	c->waiting = FALSE;
	if (!reply) {
		queue_error(c, error ? error->message : "the request failed (no reason given)");
		return;
	}
	queue_reply(c, with_ok(reply));
}

/* Handle buffered lines until one queues a reply; FALSE: none did. */
static gboolean handle_input(Client *c)
{
	while (!c->closing && !c->out->len && !c->waiting) {
		guint8 *nl = c->in->len ? memchr(c->in->data, '\n', c->in->len) : NULL;
		gsize len = nl ? (gsize)(nl - c->in->data) : c->in->len;

		if (len > MAX_LINE) {
			g_autofree char *msg = g_strdup_printf("request line longer than %u bytes", MAX_LINE);
			queue_error(c, msg);
			c->closing = TRUE;
			break;
		}
		if (!nl)
			break;
		handle_line(c, (const char *)c->in->data, len);
		g_byte_array_remove_range(c->in, 0, (guint)len + 1);
	}
	return c->out->len > 0;
}

static gboolean on_client_io(GSocket *sock, GIOCondition cond, gpointer data);

/* A client that connects and says nothing, sends a line a byte at a time,
 * or sends and never reads its reply holds a slot: it gets IDLE_MS from its
 * connection or its last request to send the next one. */
static gboolean on_client_idle(gpointer data)
{
	Client *c = data;

	g_clear_pointer(&c->idle, g_source_unref);	/* removed by returning REMOVE */
	client_free(c);
	return G_SOURCE_REMOVE;
}

static void idle_restart(Client *c)
{
	drop_source(&c->idle);
	c->idle = g_timeout_source_new(c->s->idle_ms);
	g_source_set_callback(c->idle, on_client_idle, c, NULL);
	g_source_attach(c->idle, c->s->ctx);
}

static void client_watch(Client *c, GIOCondition cond)
{
	if (c->src && c->watching == cond)
		return;
	drop_source(&c->src);
	c->watching = cond;
	c->src = g_socket_create_source(c->sock, cond, NULL);
	g_source_set_callback(c->src, G_SOURCE_FUNC(on_client_io), c, NULL);
	g_source_attach(c->src, c->s->ctx);
}

/* Answer buffered requests one at a time, each reply sent before the next
 * request is handled, then wait for the next thing to do.  FALSE: C is gone.
 * A client that sends and never reads so holds one reply queued here, not
 * one per request. */
static gboolean client_step(Client *c)
{
	do {
		while (c->out_done < c->out->len) {
			g_autoptr(GError) error = NULL;
			gssize n = g_socket_send(c->sock, c->out->str + c->out_done,
						 c->out->len - c->out_done, NULL, &error);

			if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
				client_watch(c, G_IO_OUT);
				return TRUE;
			}
			if (n < 0) {
				client_free(c);
				return FALSE;
			}
			c->out_done += (gsize)n;
		}
		g_string_truncate(c->out, 0);
		c->out_done = 0;
	} while (!c->closing && handle_input(c));
	/* its reply deferred: nothing read meanwhile (vmt_ctl_pending_done
	 * steps it again), and an end of input waits for the reply */
	if (c->waiting) {
		drop_source(&c->src);
		return TRUE;
	}
	if (c->closing || c->eof) {
		client_free(c);
		return FALSE;
	}
	client_watch(c, G_IO_IN);
	return TRUE;
}

static gboolean on_client_io(GSocket *sock, GIOCondition cond, gpointer data)
{
	Client *c = data;

	if (c->watching == G_IO_IN) {
		g_autoptr(GError) error = NULL;
		guint8 buf[READ_CHUNK];
		gssize n = g_socket_receive(c->sock, (char *)buf, sizeof buf, NULL, &error);

		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return G_SOURCE_CONTINUE;
		if (n < 0) {
			client_free(c);
			return G_SOURCE_REMOVE;
		}
		g_byte_array_append(c->in, buf, (guint)n);
		c->eof = n == 0;
		if (c->eof && c->in->len)	/* a last request without its newline */
			g_byte_array_append(c->in, (const guint8 *)"\n", 1);
	}
	return client_step(c) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean peer_credentials(GSocket *sock, VmtCtlPeer *peer)
{
	struct ucred uc;
	socklen_t len = sizeof uc;

	if (getsockopt(g_socket_get_fd(sock), SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return FALSE;
	*peer = (VmtCtlPeer){ .pid = uc.pid, .uid = uc.uid, .gid = uc.gid };
	return TRUE;
}

static gboolean on_accept(GSocket *listener, GIOCondition cond, gpointer data);

static void listen_with(VmtCtlServer *s, GSource *src, GSourceFunc f)
{
	drop_source(&s->src);
	s->src = src;
	g_source_set_callback(src, f, s, NULL);
	g_source_attach(src, s->ctx);
}

static gboolean on_accept_again(gpointer data)
{
	VmtCtlServer *s = data;

	listen_with(s, g_socket_create_source(s->sock, G_IO_IN, NULL), G_SOURCE_FUNC(on_accept));
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(GSocket *listener, GIOCondition cond, gpointer data)
{
	VmtCtlServer *s = data;
	g_autoptr(GError) error = NULL;
	GSocket *sock = g_socket_accept(s->sock, NULL, &error);
	Client *c;

	if (!sock) {
		/* out of file descriptors, say: the listener stays readable, so
		 * pause rather than spin */
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			listen_with(s, g_timeout_source_new(100), on_accept_again);
		return G_SOURCE_CONTINUE;
	}
	g_socket_set_blocking(sock, FALSE);
	c = g_new0(Client, 1);
	c->s = s;
	c->id = ++s->next_id;
	c->sock = sock;
	c->in = g_byte_array_new();
	c->out = g_string_new(NULL);
	s->clients = g_list_prepend(s->clients, c);
	idle_restart(c);
	if (!peer_credentials(sock, &c->peer)) {
		queue_error(c, "cannot read the peer's credentials");
		c->closing = TRUE;
	} else if (!vmt_ctl_peer_allowed(&c->peer, s->group)) {
		g_autofree char *msg = g_strdup_printf("permission denied: uid %u is neither root "
			"nor in the control group", (unsigned)c->peer.uid);
		queue_error(c, msg);
		c->closing = TRUE;
	} else if (g_list_length(s->clients) >
		   (c->peer.uid == 0 || c->peer.uid == geteuid() ? MAX_CLIENTS : MAX_CLIENTS - ROOT_CLIENTS)) {
		queue_error(c, "too many control connections");
		c->closing = TRUE;
	}
	client_step(c);
	return G_SOURCE_CONTINUE;
}

VmtCtlPending *vmt_ctl_server_defer(VmtCtlServer *s)
{
	Client *c = s->handling;
	VmtCtlPending *p;

	g_return_val_if_fail(c && !c->waiting, NULL);
	c->waiting = TRUE;
	p = g_new(VmtCtlPending, 1);
	p->s = s;
	p->id = c->id;
	return p;
}

void vmt_ctl_pending_done(VmtCtlPending *p, json_object *reply, const GError *error)
{
	Client *c = NULL;

	for (GList *l = p->s->clients; l && !c; l = l->next)
		if (((Client *)l->data)->id == p->id)
			c = l->data;
	if (c) {
		c->waiting = FALSE;
		if (reply)
			queue_reply(c, with_ok(g_steal_pointer(&reply)));
		else
			queue_error(c, error ? error->message : "the request failed (no reason given)");
		idle_restart(c);
		client_step(c);
	}
	json_object_put(reply);
	g_free(p);
}

/* ---- server: the socket ---- */

/* A socket file nobody listens on is left over from a crash: remove it.
 * Anything else at PATH is kept and refused. */
static gboolean remove_stale(const char *path, GError **error)
{
	g_autoptr(GError) local = NULL;
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? TRUE : vmt_ctl_errno_error(error, errno, "cannot stat", path);
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists and is not a socket", path);
		return FALSE;
	}
	fd = vmt_ctl_connect(path, 0, &local);
	if (fd >= 0 || g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		if (fd >= 0)
			close(fd);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
			    "another process is listening on %s", path);
		return FALSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return vmt_ctl_errno_error(error, errno, "cannot remove stale socket", path);
	return TRUE;
}

/* The socket is bound in a fresh 0700 directory beside PATH, under umask
 * 0177 so it is 0600 from its first moment; given its group and 0660 there,
 * where nobody else can swap it for a link to another file; then renamed
 * onto PATH.  So chown and chmod never act through a name someone else
 * could change (issue 12: the socket's chown/chmod by path). */
static int bind_private(const char *path, gid_t group, struct stat *st, GError **error)
{
	g_autofree char *parent = g_path_get_dirname(path);
	g_autofree char *dir = g_build_filename(parent, ".vmtXXXXXX", NULL);
	g_autofree char *tmp = NULL;
	struct sockaddr_un sa;
	int fd = -1, rc, err;
	mode_t old;

	if (!g_mkdtemp_full(dir, 0700))
		return vmt_ctl_errno_error(error, errno, "cannot make a private directory in", parent), -1;
	tmp = g_build_filename(dir, "s", NULL);
	fd = vmt_ctl_unix_socket(tmp, &sa, error);
	if (fd < 0)
		goto fail_dir;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	err = errno;
	umask(old);
	if (rc < 0) {
		vmt_ctl_errno_error(error, err, "cannot bind", path);
		goto fail_dir;
	}
	if ((group != (gid_t)-1 && (chown(tmp, (uid_t)-1, group) < 0 || chmod(tmp, 0660) < 0)) ||
	    stat(tmp, st) < 0 || listen(fd, 16) < 0 || rename(tmp, path) < 0) {
		vmt_ctl_errno_error(error, errno, "cannot set up", path);
		unlink(tmp);
		goto fail_dir;
	}
	rmdir(dir);
	return fd;
fail_dir:
	if (fd >= 0)
		close(fd);
	rmdir(dir);
	return -1;
}

VmtCtlServer *vmt_ctl_server_new(const char *path, gid_t group, VmtCtlHandler handler,
				 gpointer user, GError **error)
{
	VmtCtlServer *s;
	GSocket *sock;
	struct stat st;
	int fd;

	if (!remove_stale(path, error))
		return NULL;
	fd = bind_private(path, group, &st, error);
	if (fd < 0)
		return NULL;
	sock = g_socket_new_from_fd(fd, error);
	if (!sock) {
		unlink(path);
		close(fd);
		return NULL;
	}
	s = g_new0(VmtCtlServer, 1);
	s->path = g_strdup(path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->group = group;
	s->handler = handler;
	s->user = user;
	s->idle_ms = VMT_CTL_IDLE_MS;
	s->sock = sock;
	s->ctx = g_main_context_ref_thread_default();
	g_socket_set_blocking(sock, FALSE);
	on_accept_again(s);
	return s;
}

void vmt_ctl_server_set_idle_timeout(VmtCtlServer *s, guint ms)
{
	s->idle_ms = MAX(ms, 1u);
}

void vmt_ctl_server_free(VmtCtlServer *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		client_free(s->clients->data);
	drop_source(&s->src);
	g_socket_close(s->sock, NULL);
	g_object_unref(s->sock);
	/* a newer daemon may have replaced the file: remove only ours */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	g_main_context_unref(s->ctx);
	g_free(s->path);
	g_free(s);
}
