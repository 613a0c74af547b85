// SPDX-License-Identifier: GPL-2.0-or-later
#include "qmp-client.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#define READ_CHUNK 65536
/* The replies we ask for (query-memdev, info mtree -f, info numa) are tens
 * of KiB for real guests (7 KiB recorded in tests/qmp/recorded); parsing
 * costs ~50x a message's size, so a hostile QEMU's limit is kept low. */
#define DEFAULT_MAX_MESSAGE (1u << 20)

/* Async I/O callbacks hold a Guard, not the client: closing clears
 * guard->c, so a completion that races a close never touches it. */
typedef struct {
	gint ref;
	VmtQmpClient *c;
} Guard;

typedef struct {
	guint id;
	char *name;
	VmtQmpEventFunc f;
	gpointer user;
} EventSub;

typedef struct {
	VmtQmpClient *c;
	char *id;
	GTask *task;
	GSource *timeout;
} Pending;

struct VmtQmpClient {
	gint ref;
	char *path;
	GMainContext *ctx;
	Guard *guard;
	GSocketConnection *conn;
	GCancellable *io_cancel;
	gboolean own_ctx;	/* the private context of a sync client */
	VmtQmpParser *parser;
	VmtQmpParser *dead_parser;	/* closed while feeding: freed after */
	gboolean feeding;
	gsize max_message;
	char *buf;
	json_object *greeting;
	gboolean ready, closing;
	GTask *connect_task;
	GSource *connect_timeout;
	GHashTable *pending;		/* id -> Pending */
	guint next_id;
	GQueue writes;			/* GBytes */
	gboolean writing;
	GList *subs;
	guint next_sub;
	VmtQmpClosedFunc closed_f;
	gpointer closed_user;
	gboolean reconnect;
	guint backoff_ms, max_backoff_ms;
	GSource *reconnect_src;
};

static Guard *guard_ref(Guard *g)
{
	g_atomic_int_inc(&g->ref);
	return g;
}

static void guard_unref(Guard *g)
{
	if (g_atomic_int_dec_and_test(&g->ref))
		g_free(g);
}

static void pending_free(gpointer p)
{
	Pending *pd = p;

	if (pd->timeout) {
		g_source_destroy(pd->timeout);
		g_source_unref(pd->timeout);
	}
	if (pd->task)
		g_object_unref(pd->task);
	g_free(pd->id);
	g_free(pd);
}

VmtQmpClient *vmt_qmp_client_new(const char *socket_path)
{
	VmtQmpClient *c = g_new0(VmtQmpClient, 1);

	c->ref = 1;
	c->path = g_strdup(socket_path);
	c->ctx = g_main_context_ref_thread_default();
	c->max_message = DEFAULT_MAX_MESSAGE;
	c->buf = g_malloc(READ_CHUNK);
	c->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pending_free);
	g_queue_init(&c->writes);
	c->max_backoff_ms = 5000;
	return c;
}

VmtQmpClient *vmt_qmp_client_ref(VmtQmpClient *c)
{
	g_atomic_int_inc(&c->ref);
	return c;
}

static GSource *add_timeout(VmtQmpClient *c, guint ms, GSourceFunc f, gpointer data)
{
	GSource *s = g_timeout_source_new(ms);

	g_source_set_callback(s, f, data, NULL);
	g_source_attach(s, c->ctx);
	return s;
}

static void drop_source(GSource **s)
{
	if (*s) {
		g_source_destroy(*s);
		g_source_unref(*s);
		*s = NULL;
	}
}

static void disconnect(VmtQmpClient *c, const GError *why);
static void disconnect_locked(VmtQmpClient *c, const GError *why);

void vmt_qmp_client_unref(VmtQmpClient *c)
{
	if (!c || !g_atomic_int_dec_and_test(&c->ref))
		return;
	c->reconnect = FALSE;
	c->ref = 1;		/* callbacks run by the teardown may ref/unref */
	disconnect_locked(c, NULL);
	c->ref = 0;
	drop_source(&c->reconnect_src);
	/* a sync client's private context: let the cancelled reads and writes
	 * finish there (they hold the stream); a shared context runs them
	 * itself, and iterating it here would re-enter its other sources */
	while (c->own_ctx && g_main_context_acquire(c->ctx)) {
		gboolean more = g_main_context_iteration(c->ctx, FALSE);

		g_main_context_release(c->ctx);
		if (!more)
			break;
	}
	g_hash_table_unref(c->pending);
	for (GList *l = c->subs; l; l = l->next) {
		EventSub *s = l->data;
		g_free(s->name);
		g_free(s);
	}
	g_list_free(c->subs);
	g_clear_pointer(&c->dead_parser, vmt_qmp_parser_free);
	g_main_context_unref(c->ctx);
	g_free(c->buf);
	g_free(c->path);
	g_free(c);
}

void vmt_qmp_client_set_max_message(VmtQmpClient *c, gsize bytes)
{
	c->max_message = bytes;
}

void vmt_qmp_client_set_reconnect(VmtQmpClient *c, gboolean on, guint max_ms)
{
	c->reconnect = on;
	c->max_backoff_ms = max_ms ? max_ms : 5000;
}

void vmt_qmp_client_set_closed_func(VmtQmpClient *c, VmtQmpClosedFunc f, gpointer user)
{
	c->closed_f = f;
	c->closed_user = user;
}

guint vmt_qmp_client_add_event_func(VmtQmpClient *c, const char *name, VmtQmpEventFunc f,
				    gpointer user)
{
	EventSub *s = g_new0(EventSub, 1);

	s->id = ++c->next_sub;
	s->name = g_strdup(name);
	s->f = f;
	s->user = user;
	c->subs = g_list_append(c->subs, s);
	return s->id;
}

void vmt_qmp_client_remove_event_func(VmtQmpClient *c, guint id)
{
	for (GList *l = c->subs; l; l = l->next) {
		EventSub *s = l->data;
		if (s->id == id) {
			c->subs = g_list_delete_link(c->subs, l);
			g_free(s->name);
			g_free(s);
			return;
		}
	}
}

gboolean vmt_qmp_client_is_ready(VmtQmpClient *c)
{
	return c->ready;
}

json_object *vmt_qmp_client_greeting(VmtQmpClient *c)
{
	return c->greeting;
}

/* ---- writing ---- */

typedef struct {
	Guard *guard;
	GBytes *bytes;		/* kept alive until the write completes */
} WriteOp;

static void write_next(VmtQmpClient *c);

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	WriteOp *op = data;
	g_autoptr(GError) error = NULL;
	gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, &error);
	VmtQmpClient *c = op->guard->c;

	guard_unref(op->guard);
	g_bytes_unref(op->bytes);
	g_free(op);
	if (!c)
		return;
	c->writing = FALSE;
	if (!ok) {
		disconnect(c, error);
		return;
	}
	write_next(c);
}

static void write_next(VmtQmpClient *c)
{
	WriteOp *op;

	if (c->writing || !c->conn || g_queue_is_empty(&c->writes))
		return;
	op = g_new0(WriteOp, 1);
	op->guard = guard_ref(c->guard);
	op->bytes = g_queue_pop_head(&c->writes);
	c->writing = TRUE;
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(c->conn)),
					g_bytes_get_data(op->bytes, NULL),
					g_bytes_get_size(op->bytes), G_PRIORITY_DEFAULT,
					c->io_cancel, on_written, op);
}

static void send_json(VmtQmpClient *c, json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	g_autofree char *line = g_strconcat(s, "\r\n", NULL);
	gsize n = strlen(line);

	g_queue_push_tail(&c->writes, g_bytes_new_take(g_steal_pointer(&line), n));
	write_next(c);
}

/* ---- commands ---- */

/* Take PD out of the table, then complete its task: the task's callback may
 * close or unref the client, so nothing of it is used afterwards. */
static GTask *take_pending(VmtQmpClient *c, Pending *pd)
{
	GTask *t = g_steal_pointer(&pd->task);

	g_hash_table_steal(c->pending, pd->id);
	pending_free(pd);
	return t;
}

static gboolean on_command_timeout(gpointer data)
{
	Pending *pd = data;
	VmtQmpClient *c = vmt_qmp_client_ref(pd->c);
	GTask *task;

	g_source_unref(pd->timeout);
	pd->timeout = NULL;
	task = take_pending(c, pd);	/* a late reply is ignored */
	g_task_return_new_error(task, VMT_QMP_ERROR, VMT_QMP_ERROR_TIMEOUT,
				"QMP command timed out (%s)", (char *)g_task_get_task_data(task));
	g_object_unref(task);
	vmt_qmp_client_unref(c);
	return G_SOURCE_REMOVE;
}

static void start_command(VmtQmpClient *c, const char *cmd, json_object *args, guint timeout_ms,
			  GTask *task)
{
	json_object *msg = json_object_new_object();
	Pending *pd = g_new0(Pending, 1);

	pd->c = c;
	pd->id = g_strdup_printf("vmt-%u", ++c->next_id);
	pd->task = task;
	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", args);
	json_object_object_add(msg, "id", json_object_new_string(pd->id));
	if (timeout_ms)
		pd->timeout = add_timeout(c, timeout_ms, on_command_timeout, pd);
	g_hash_table_insert(c->pending, pd->id, pd);
	send_json(c, msg);
	json_object_put(msg);
}

void vmt_qmp_client_execute_async(VmtQmpClient *c, const char *cmd, json_object *args,
				  guint timeout_ms, GCancellable *cancel,
				  GAsyncReadyCallback cb, gpointer user)
{
	GTask *task = g_task_new(NULL, cancel, cb, user);

	g_task_set_task_data(task, g_strdup(cmd), g_free);
	if (!c->ready) {
		json_object_put(args);
		g_task_return_new_error(task, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED,
					"QMP is not connected (%s)", c->path);
		g_object_unref(task);
		return;
	}
	start_command(c, cmd, args, timeout_ms, task);
}

json_object *vmt_qmp_client_execute_finish(VmtQmpClient *c, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- reading ---- */

static void put_json(gpointer obj)
{
	json_object_put(obj);
}

static void finish_connect(VmtQmpClient *c, GError *error)
{
	GTask *t = g_steal_pointer(&c->connect_task);

	drop_source(&c->connect_timeout);
	if (!t) {
		g_clear_error(&error);
		return;
	}
	if (error)
		g_task_return_error(t, error);
	else
		g_task_return_boolean(t, TRUE);
	g_object_unref(t);
}

static void dispatch_event(VmtQmpClient *c, json_object *msg)
{
	json_object *ev, *d = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
	const char *name;

	json_object_object_get_ex(msg, "event", &ev);
	json_object_object_get_ex(msg, "data", &d);
	name = json_object_get_string(ev);
	/* handlers may add or remove subscriptions: walk a snapshot of ids */
	for (GList *l = c->subs; l; l = l->next)
		g_array_append_val(ids, ((EventSub *)l->data)->id);
	for (guint i = 0; i < ids->len && c->conn; i++)
		for (GList *l = c->subs; l; l = l->next) {
			EventSub *s = l->data;
			if (s->id != g_array_index(ids, guint, i))
				continue;
			if (!s->name || strcmp(s->name, name) == 0)
				s->f(c, name, d, s->user);
			break;
		}
}

static void on_message(json_object *msg, gpointer data)
{
	VmtQmpClient *c = data;
	const char *id;
	VmtQmpMsgType type = vmt_qmp_msg_classify(msg, &id);
	Pending *pd;
	GTask *task;

	if (!c->conn) {		/* closed by an earlier message's callback */
		json_object_put(msg);
		return;
	}
	switch (type) {
	case VMT_QMP_MSG_GREETING:
		if (!c->greeting) {
			json_object *q;
			json_object_object_get_ex(msg, "QMP", &q);
			c->greeting = json_object_get(q);
			start_command(c, "qmp_capabilities", NULL, 0, NULL);
		}
		break;
	case VMT_QMP_MSG_RETURN:
	case VMT_QMP_MSG_ERROR:
		pd = g_hash_table_lookup(c->pending, id);
		if (!pd)
			break;		/* timed out already, or not ours */
		task = take_pending(c, pd);
		if (!task) {		/* our qmp_capabilities */
			if (type == VMT_QMP_MSG_RETURN) {
				c->ready = TRUE;
				c->backoff_ms = 0;
				finish_connect(c, NULL);
			} else {
				GError *e = vmt_qmp_msg_to_error(msg);
				g_prefix_error(&e, "qmp_capabilities: ");
				finish_connect(c, e);
			}
		} else if (type == VMT_QMP_MSG_RETURN) {
			json_object *r;
			json_object_object_get_ex(msg, "return", &r);
			g_task_return_pointer(task, json_object_get(r), put_json);
			g_object_unref(task);
		} else {
			g_task_return_error(task, vmt_qmp_msg_to_error(msg));
			g_object_unref(task);
		}
		break;
	case VMT_QMP_MSG_EVENT:
		dispatch_event(c, msg);
		break;
	default:
		break;
	}
	json_object_put(msg);
}

static void read_next(VmtQmpClient *c);

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	Guard *g = data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &error);
	VmtQmpClient *c = g->c;
	VmtQmpParser *parser;

	if (!c) {
		guard_unref(g);
		return;
	}
	/* handlers run from here may close the client or drop its last ref */
	vmt_qmp_client_ref(c);
	if (n < 0) {
		disconnect(c, error);
	} else if (n == 0) {
		g_autoptr(GError) eof = g_error_new(VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED,
						     "QMP connection closed by QEMU (%s)", c->path);
		disconnect(c, eof);
	} else {
		parser = c->parser;
		c->feeding = TRUE;
		if (!vmt_qmp_parser_feed(parser, c->buf, (gsize)n, on_message, c, &error) &&
		    c->parser == parser)
			disconnect(c, error);
		c->feeding = FALSE;
		g_clear_pointer(&c->dead_parser, vmt_qmp_parser_free);
		if (c->conn && c->guard == g)
			read_next(c);
	}
	guard_unref(g);
	vmt_qmp_client_unref(c);
}

static void read_next(VmtQmpClient *c)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)), c->buf,
				  READ_CHUNK, G_PRIORITY_DEFAULT, c->io_cancel, on_read,
				  guard_ref(c->guard));
}

/* ---- connecting ---- */

static void start_connect(VmtQmpClient *c);

static gboolean on_reconnect(gpointer data)
{
	VmtQmpClient *c = data;

	drop_source(&c->reconnect_src);
	start_connect(c);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(VmtQmpClient *c)
{
	c->backoff_ms = c->backoff_ms ? MIN(c->backoff_ms * 2, c->max_backoff_ms) : 100;
	drop_source(&c->reconnect_src);
	c->reconnect_src = add_timeout(c, c->backoff_ms, on_reconnect, c);
}

/* Close the connection, failing everything pending with WHY (NULL: the
 * user closed).  Idempotent.  Callbacks it runs may drop the caller's last
 * reference, so it holds one of its own. */
static void disconnect(VmtQmpClient *c, const GError *why)
{
	vmt_qmp_client_ref(c);
	disconnect_locked(c, why);
	vmt_qmp_client_unref(c);
}

static void disconnect_locked(VmtQmpClient *c, const GError *why)
{
	g_autoptr(GError) closed = NULL;
	GHashTableIter it;
	gpointer v;
	gboolean was_connected = c->conn != NULL || c->connect_task != NULL;

	if (c->closing)
		return;
	c->closing = TRUE;
	if (c->guard) {
		c->guard->c = NULL;
		guard_unref(c->guard);
		c->guard = NULL;
	}
	if (c->io_cancel)
		g_cancellable_cancel(c->io_cancel);
	g_clear_object(&c->io_cancel);
	/* close the socket itself: g_io_stream_close refuses while a read is
	 * pending, and a sync client's context may never run its callback */
	if (c->conn) {
		g_socket_close(g_socket_connection_get_socket(c->conn), NULL);
		g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
	}
	g_clear_object(&c->conn);
	if (c->feeding)		/* the parser is mid-loop: free it after */
		c->dead_parser = g_steal_pointer(&c->parser);
	else
		g_clear_pointer(&c->parser, vmt_qmp_parser_free);
	g_clear_pointer(&c->greeting, json_object_put);
	while (!g_queue_is_empty(&c->writes))
		g_bytes_unref(g_queue_pop_head(&c->writes));
	c->writing = FALSE;
	c->ready = FALSE;
	closed = why ? g_error_new(VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED, "%s", why->message)
		     : g_error_new(VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED, "QMP connection closed");
	finish_connect(c, g_error_copy(closed));
	/* empty the table before any callback runs: they may re-enter */
	{
		g_autoptr(GPtrArray) tasks = g_ptr_array_new();
		g_hash_table_iter_init(&it, c->pending);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			Pending *pd = v;
			if (pd->task)
				g_ptr_array_add(tasks, g_steal_pointer(&pd->task));
			g_hash_table_iter_remove(&it);
		}
		for (guint i = 0; i < tasks->len; i++) {
			g_task_return_error(tasks->pdata[i], g_error_copy(closed));
			g_object_unref(tasks->pdata[i]);
		}
	}
	c->closing = FALSE;
	if (was_connected && why && c->closed_f)
		c->closed_f(c, closed, c->closed_user);
	if (why && c->reconnect)
		schedule_reconnect(c);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	Guard *g = data;
	g_autoptr(GError) error = NULL;
	GSocketConnection *conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &error);
	VmtQmpClient *c = g->c;

	guard_unref(g);
	if (!c) {
		g_clear_object(&conn);
		return;
	}
	if (!conn) {
		g_prefix_error(&error, "cannot connect to QMP socket %s: ", c->path);
		disconnect(c, error);
		return;
	}
	c->conn = conn;
	read_next(c);
}

static void start_connect(VmtQmpClient *c)
{
	g_autoptr(GSocketClient) sc = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(c->path);

	c->guard = g_new0(Guard, 1);
	c->guard->ref = 1;
	c->guard->c = c;
	c->io_cancel = g_cancellable_new();
	c->parser = vmt_qmp_parser_new(c->max_message);
	g_socket_client_connect_async(sc, G_SOCKET_CONNECTABLE(addr), c->io_cancel, on_connected,
				      guard_ref(c->guard));
}

static gboolean on_connect_timeout(gpointer data)
{
	VmtQmpClient *c = data;
	g_autoptr(GError) e = g_error_new(VMT_QMP_ERROR, VMT_QMP_ERROR_TIMEOUT,
					  "no QMP greeting from %s in time", c->path);

	g_source_unref(c->connect_timeout);
	c->connect_timeout = NULL;
	disconnect(c, e);
	return G_SOURCE_REMOVE;
}

void vmt_qmp_client_connect_async(VmtQmpClient *c, guint timeout_ms, GCancellable *cancel,
				  GAsyncReadyCallback cb, gpointer user)
{
	GTask *task = g_task_new(NULL, cancel, cb, user);

	if (c->ready || c->connect_task) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY, "already connected");
		g_object_unref(task);
		return;
	}
	drop_source(&c->reconnect_src);
	c->connect_task = task;
	if (timeout_ms)
		c->connect_timeout = add_timeout(c, timeout_ms, on_connect_timeout, c);
	if (!c->guard)		/* else a reconnect is under way: it completes us */
		start_connect(c);
}

gboolean vmt_qmp_client_connect_finish(VmtQmpClient *c, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

void vmt_qmp_client_close(VmtQmpClient *c)
{
	c->reconnect = FALSE;
	drop_source(&c->reconnect_src);
	disconnect(c, NULL);
}

/* ---- synchronous helpers ---- */

typedef struct {
	GAsyncResult *res;
} SyncWait;

static void on_sync_done(GObject *src, GAsyncResult *res, gpointer data)
{
	((SyncWait *)data)->res = g_object_ref(res);
}

static GAsyncResult *sync_wait(VmtQmpClient *c, SyncWait *w)
{
	while (!w->res)
		g_main_context_iteration(c->ctx, TRUE);
	return w->res;
}

VmtQmpClient *vmt_qmp_client_open_sync(const char *socket_path, guint timeout_ms, GError **error)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	VmtQmpClient *c;
	SyncWait w = { 0 };
	gboolean ok;

	g_main_context_push_thread_default(ctx);
	c = vmt_qmp_client_new(socket_path);
	c->own_ctx = TRUE;
	vmt_qmp_client_connect_async(c, timeout_ms, NULL, on_sync_done, &w);
	ok = vmt_qmp_client_connect_finish(c, sync_wait(c, &w), error);
	g_object_unref(w.res);
	g_main_context_pop_thread_default(ctx);
	if (!ok) {
		vmt_qmp_client_unref(c);
		return NULL;
	}
	return c;
}

json_object *vmt_qmp_client_execute_sync(VmtQmpClient *c, const char *cmd, json_object *args,
					 guint timeout_ms, GError **error)
{
	SyncWait w = { 0 };
	json_object *r;

	g_main_context_push_thread_default(c->ctx);
	vmt_qmp_client_execute_async(c, cmd, args, timeout_ms, NULL, on_sync_done, &w);
	r = vmt_qmp_client_execute_finish(c, sync_wait(c, &w), error);
	g_object_unref(w.res);
	g_main_context_pop_thread_default(c->ctx);
	return r;
}

char *vmt_qmp_client_hmp_sync(VmtQmpClient *c, const char *command_line, guint timeout_ms,
			      GError **error)
{
	json_object *args = json_object_new_object();
	json_object *r;
	char *text;

	json_object_object_add(args, "command-line", json_object_new_string(command_line));
	r = vmt_qmp_client_execute_sync(c, "human-monitor-command", args, timeout_ms, error);
	if (!r)
		return NULL;
	if (!json_object_is_type(r, json_type_string)) {
		json_object_put(r);
		g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL,
			    "human-monitor-command returned a non-string");
		return NULL;
	}
	text = g_strdup(json_object_get_string(r));
	json_object_put(r);
	return text;
}

int vmt_qmp_client_peer_pid(VmtQmpClient *c)
{
	g_autoptr(GCredentials) cred = NULL;
	pid_t pid;

	if (!c->conn)
		return -1;
	cred = g_socket_get_credentials(g_socket_connection_get_socket(c->conn), NULL);
	if (!cred)
		return -1;
	pid = g_credentials_get_unix_pid(cred, NULL);
	return pid > 0 ? (int)pid : -1;
}
