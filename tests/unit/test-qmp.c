// SPDX-License-Identifier: GPL-2.0-or-later
/* qmp/: the stream parser and the client, on QMP traffic recorded from the
 * real QEMU 7.2 here (tests/qmp/recorded, made by tests/qmp/record-all.sh).
 * The client talks to a thread that replays QEMU's recorded bytes. */
#include "fake-qmp.h"
#include "qmp-client.h"
#include "qmp-memmap.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *transcript;
static gsize transcript_len;
static char **commands;

/* ---- parser ---- */

static void put_json(gpointer obj)
{
	json_object_put(obj);
}

typedef struct {
	GPtrArray *msgs;
} Collect;

static void collect(json_object *msg, gpointer data)
{
	g_ptr_array_add(((Collect *)data)->msgs, msg);
}

static GPtrArray *parse_in_chunks(const char *buf, gsize len, gsize chunk, GError **error)
{
	g_autoptr(VmtQmpParser) p = vmt_qmp_parser_new(64 << 20);	/* the client default */
	Collect c = { g_ptr_array_new_with_free_func(put_json) };

	for (gsize off = 0; off < len; off += chunk)
		if (!vmt_qmp_parser_feed(p, buf + off, MIN(chunk, len - off), collect, &c, error)) {
			g_ptr_array_unref(c.msgs);
			return NULL;
		}
	return c.msgs;
}

static json_object *by_id(GPtrArray *m, const char *want)
{
	for (guint i = 0; i < m->len; i++) {
		const char *id;
		vmt_qmp_msg_classify(m->pdata[i], &id);
		if (strcmp(id, want) == 0)
			return m->pdata[i];
	}
	return NULL;
}

static void check_session(GPtrArray *m)
{
	const char *id, *events[3];
	guint n = 0;
	GError *e;

	g_assert_cmpuint(m->len, ==, 16);
	g_assert_cmpint(vmt_qmp_msg_classify(m->pdata[0], &id), ==, VMT_QMP_MSG_GREETING);
	g_assert_cmpint(vmt_qmp_msg_classify(by_id(m, "rec-0"), &id), ==, VMT_QMP_MSG_RETURN);
	g_assert_cmpint(vmt_qmp_msg_classify(by_id(m, "rec-7"), &id), ==, VMT_QMP_MSG_ERROR);
	e = vmt_qmp_msg_to_error(by_id(m, "rec-7"));
	g_assert_cmpstr(e->message, ==, "CommandNotFound: The command query-frobnicate has not been found");
	g_error_free(e);
	for (guint i = 0; i < m->len; i++)
		if (vmt_qmp_msg_classify(m->pdata[i], &id) == VMT_QMP_MSG_EVENT) {
			json_object *ev;
			g_assert_cmpuint(n, <, 3);
			json_object_object_get_ex(m->pdata[i], "event", &ev);
			events[n++] = json_object_get_string(ev);
		}
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(events[0], ==, "STOP");
	g_assert_cmpstr(events[1], ==, "RESUME");
	g_assert_cmpstr(events[2], ==, "SHUTDOWN");
}

static void test_parse_whole(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) m = parse_in_chunks(transcript, transcript_len, transcript_len, &error);

	g_assert_no_error(error);
	check_session(m);
}

static void test_parse_bytewise(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) m = parse_in_chunks(transcript, transcript_len, 1, &error);

	g_assert_no_error(error);
	check_session(m);
}

static void test_parse_chunks(void)
{
	for (gsize chunk = 2; chunk < 700; chunk += 37) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) m = parse_in_chunks(transcript, transcript_len, chunk, &error);
		g_assert_no_error(error);
		check_session(m);
	}
}

static void expect_protocol_error(const char *input, gsize limit, const char *what)
{
	g_autoptr(VmtQmpParser) p = vmt_qmp_parser_new(limit);
	g_autoptr(GError) error = NULL;
	Collect c = { g_ptr_array_new_with_free_func(put_json) };

	g_assert_false(vmt_qmp_parser_feed(p, input, strlen(input), collect, &c, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, what));
	g_clear_error(&error);
	/* a failed stream stays failed */
	g_assert_false(vmt_qmp_parser_feed(p, "{}", 2, collect, &c, &error));
	g_ptr_array_unref(c.msgs);
}

static void test_parse_bad(void)
{
	expect_protocol_error("{\"return\": oops}\r\n", 1024, "invalid JSON");
	expect_protocol_error("[1, 2]\r\n", 1024, "not a JSON object");
	expect_protocol_error("\"text\"\r\n", 1024, "not a JSON object");
	expect_protocol_error("{\"return\": \"0123456789012345678901234567890123456789\"}", 32, "size limit");
	/* nesting deeper than json-c allows is refused, not a crash */
	{
		g_autoptr(GString) deep = g_string_new(NULL);
		for (int i = 0; i < 10000; i++)
			g_string_append(deep, "{\"a\":");
		expect_protocol_error(deep->str, 1 << 20, "invalid JSON");
	}
}

static void test_parse_limit_exact(void)
{
	const char *msg = "{\"return\": {}}";
	g_autoptr(VmtQmpParser) p = vmt_qmp_parser_new(strlen(msg));
	g_autoptr(GError) error = NULL;
	Collect c = { g_ptr_array_new_with_free_func(put_json) };

	/* a message of exactly the limit passes, also when split */
	g_assert_true(vmt_qmp_parser_feed(p, msg, 5, collect, &c, &error));
	g_assert_true(vmt_qmp_parser_feed(p, msg + 5, strlen(msg) - 5, collect, &c, &error));
	g_assert_true(vmt_qmp_parser_feed(p, "\r\n", 2, collect, &c, &error));
	g_assert_cmpuint(c.msgs->len, ==, 1);
	g_ptr_array_unref(c.msgs);
}

static void test_parse_large(void)
{
	/* an 8 MiB reply (large 'info mtree' or query-* output) in 64 KiB reads */
	g_autoptr(GString) big = g_string_new("{\"return\": \"");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) m = NULL;

	for (int i = 0; i < (8 << 20) / 16; i++)
		g_string_append(big, "0123456789abcdef");
	g_string_append(big, "\", \"id\": \"x\"}\r\n{\"event\": \"STOP\"}\r\n");
	m = parse_in_chunks(big->str, big->len, 65536, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(m->len, ==, 2);
}

/* ---- a replaying server ---- */

static GHashTable *build_replies(char **greeting)
{
	g_auto(GStrv) lines = g_strsplit(transcript, "\r\n", -1);
	GPtrArray *bucket = g_ptr_array_new_with_free_func(g_free);

	GHashTable *replies = fake_qmp_replies_new();

	*greeting = g_strconcat(lines[0], "\r\n", NULL);
	for (char **l = lines + 1; *l && **l; l++) {
		json_object *m = json_tokener_parse(*l), *id;
		g_ptr_array_add(bucket, g_strconcat(*l, "\r\n", NULL));
		if (m && json_object_object_get_ex(m, "id", &id)) {
			int n = atoi(json_object_get_string(id) + 4);
			json_object *cmd = json_tokener_parse(commands[n]);
			g_hash_table_insert(replies, fake_qmp_key(cmd), bucket);
			json_object_put(cmd);
			bucket = g_ptr_array_new_with_free_func(g_free);
		}
		json_object_put(m);
	}
	g_ptr_array_unref(bucket);
	return replies;
}

static Server *server_start(guint mode, int connections)
{
	g_autofree char *greeting = NULL;
	GHashTable *replies = build_replies(&greeting);

	return fake_qmp_start(mode, connections, greeting, replies);
}

static void server_stop(Server *s)
{
	fake_qmp_stop(s);
}

/* ---- client, async ---- */

typedef struct {
	gboolean done;
	GAsyncResult *res;
	GPtrArray *events;
	int closed;
	char *closed_msg;
} Wait;

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Wait *w = data;

	w->res = g_object_ref(res);
	w->done = TRUE;
}

static gboolean on_guard(gpointer data)
{
	g_error("test timed out");
	return G_SOURCE_REMOVE;
}

static void run_until(gboolean *flag)
{
	guint g = g_timeout_add_seconds(10, on_guard, NULL);

	while (!*flag)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(g);
}

static void connect_ok(VmtQmpClient *c)
{
	Wait w = { 0 };
	g_autoptr(GError) error = NULL;

	vmt_qmp_client_connect_async(c, 5000, NULL, on_done, &w);
	run_until(&w.done);
	g_assert_true(vmt_qmp_client_connect_finish(c, w.res, &error));
	g_assert_no_error(error);
	g_object_unref(w.res);
	g_assert_true(vmt_qmp_client_is_ready(c));
}

static json_object *exec(VmtQmpClient *c, const char *cmd, guint timeout_ms, GError **error)
{
	Wait w = { 0 };
	json_object *r;

	vmt_qmp_client_execute_async(c, cmd, NULL, timeout_ms, NULL, on_done, &w);
	run_until(&w.done);
	r = vmt_qmp_client_execute_finish(c, w.res, error);
	g_object_unref(w.res);
	return r;
}

static void on_event(VmtQmpClient *c, const char *event, json_object *data, gpointer user)
{
	g_ptr_array_add(((Wait *)user)->events, g_strdup(event));
}

static void on_closed(VmtQmpClient *c, const GError *error, gpointer user)
{
	Wait *w = user;

	w->closed++;
	g_free(w->closed_msg);
	w->closed_msg = g_strdup(error->message);
}

static void run_session(guint mode)
{
	Server *s = server_start(mode, 1);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;
	Wait ev = { .events = g_ptr_array_new_with_free_func(g_free) };
	json_object *r, *v, *q;

	vmt_qmp_client_add_event_func(c, NULL, on_event, &ev);
	connect_ok(c);
	q = vmt_qmp_client_greeting(c);
	g_assert_true(json_object_object_get_ex(q, "version", &v));
	g_assert_true(json_object_object_get_ex(v, "qemu", &v));
	g_assert_true(json_object_object_get_ex(v, "major", &v));
	g_assert_cmpint(json_object_get_int(v), ==, 7);

	r = exec(c, "query-status", 2000, &error);
	g_assert_no_error(error);
	g_assert_true(json_object_object_get_ex(r, "status", &v));
	g_assert_cmpstr(json_object_get_string(v), ==, "running");
	json_object_put(r);

	r = exec(c, "query-frobnicate", 2000, &error);
	g_assert_null(r);
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_COMMAND);
	g_assert_cmpstr(error->message, ==, "CommandNotFound: The command query-frobnicate has not been found");
	g_clear_error(&error);

	json_object_put(exec(c, "stop", 2000, &error));
	g_assert_no_error(error);
	json_object_put(exec(c, "cont", 2000, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(ev.events->len, ==, 2);
	g_assert_cmpstr(ev.events->pdata[0], ==, "STOP");
	g_assert_cmpstr(ev.events->pdata[1], ==, "RESUME");
	vmt_qmp_client_close(c);
	g_ptr_array_unref(ev.events);
	server_stop(s);
}

static void test_client_session(void)
{
	run_session(0);
}

static void test_client_split(void)
{
	run_session(SRV_SPLIT);
}

static void test_client_closed_mid_command(void)
{
	Server *s = server_start(SRV_CLOSE_ON_STATUS, 1);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;
	Wait w = { 0 };

	vmt_qmp_client_set_closed_func(c, on_closed, &w);
	connect_ok(c);
	g_assert_null(exec(c, "query-status", 5000, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_nonnull(strstr(error->message, "closed by QEMU"));
	g_assert_cmpint(w.closed, ==, 1);
	g_assert_false(vmt_qmp_client_is_ready(c));
	g_clear_error(&error);
	/* commands on a closed client fail at once */
	g_assert_null(exec(c, "query-status", 0, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_free(w.closed_msg);
	server_stop(s);
}

static void test_client_timeout(void)
{
	Server *s = server_start(SRV_NO_REPLY_STOP, 1);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;
	json_object *r;

	connect_ok(c);
	g_assert_null(exec(c, "stop", 200, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_TIMEOUT);
	g_clear_error(&error);
	/* the connection still works after a timeout */
	r = exec(c, "query-status", 2000, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r);
	json_object_put(r);
	vmt_qmp_client_close(c);
	server_stop(s);
}

static void test_client_garbage(void)
{
	Server *s = server_start(SRV_GARBAGE_ON_STATUS, 1);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;
	Wait w = { 0 };

	vmt_qmp_client_set_closed_func(c, on_closed, &w);
	connect_ok(c);
	g_assert_null(exec(c, "query-status", 2000, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_nonnull(strstr(error->message, "protocol error"));
	g_assert_cmpint(w.closed, ==, 1);
	g_free(w.closed_msg);
	server_stop(s);
}

static void test_client_reconnect(void)
{
	Server *s = server_start(SRV_CLOSE_ON_STATUS, 2);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;
	Wait w = { 0 };

	vmt_qmp_client_set_closed_func(c, on_closed, &w);
	vmt_qmp_client_set_reconnect(c, TRUE, 400);
	connect_ok(c);
	g_assert_null(exec(c, "query-status", 2000, &error));	/* server hangs up */
	g_clear_error(&error);
	while (!vmt_qmp_client_is_ready(c))
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(w.closed, ==, 1);
	json_object_put(exec(c, "cont", 2000, &error));	/* second connection works */
	g_assert_no_error(error);
	vmt_qmp_client_close(c);
	g_free(w.closed_msg);
	server_stop(s);
}

static void test_client_no_socket(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(vmt_qmp_client_open_sync("/nonexistent/vmt.qmp", 1000, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_nonnull(strstr(error->message, "/nonexistent/vmt.qmp"));
}

static void test_client_sync(void)
{
	Server *s = server_start(0, 1);
	g_autoptr(GError) error = NULL;
	VmtQmpClient *c = vmt_qmp_client_open_sync(s->path, 2000, &error);
	g_autofree char *text = NULL;
	json_object *r;

	g_assert_no_error(error);
	r = vmt_qmp_client_execute_sync(c, "query-memdev", NULL, 2000, &error);
	g_assert_no_error(error);
	g_assert_true(json_object_is_type(r, json_type_array));
	g_assert_cmpuint(json_object_array_length(r), ==, 2);
	json_object_put(r);
	text = vmt_qmp_client_hmp_sync(c, "gpa2hva 0x4000000", 2000, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(text, "Host virtual address for 0x4000000 (m1) is 0x"));
	vmt_qmp_client_unref(c);
	server_stop(s);
}

/* a reply far beyond what the commands need is refused before json-c
 * spends ~50x its size on it; one of 900 KiB still passes */
static void test_client_reply_limit(void)
{
	g_autofree char *greeting = NULL;
	GHashTable *replies = build_replies(&greeting);
	g_autofree char *huge = g_strnfill(2u << 20, 'x'), *big = g_strnfill(900u << 10, 'y');
	g_autofree char *huge_j = g_strdup_printf("\"%s\"", huge), *big_j = g_strdup_printf("\"%s\"", big);
	g_autoptr(GError) error = NULL;
	VmtQmpClient *c;
	Server *s;
	char *text;

	fake_qmp_reply(replies, "human-monitor-command", "info mtree -f", huge_j);
	fake_qmp_reply(replies, "human-monitor-command", "info numa", big_j);
	s = fake_qmp_start(0, 1, greeting, replies);
	c = vmt_qmp_client_open_sync(s->path, 5000, &error);
	g_assert_no_error(error);
	text = vmt_qmp_client_hmp_sync(c, "info numa", 5000, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(text), ==, 900u << 10);
	g_free(text);
	g_assert_null(vmt_qmp_client_hmp_sync(c, "info mtree -f", 5000, &error));
	g_assert_nonnull(error);
	g_test_message("2 MiB reply: %s", error->message);
	g_assert_nonnull(strstr(error->message, "size limit"));
	vmt_qmp_client_unref(c);
	fake_qmp_stop(s);
}

/* ---- memory map from recorded replies ---- */

static json_object *reply_of(GPtrArray *m, const char *id)
{
	json_object *r;

	g_assert_true(json_object_object_get_ex(by_id(m, id), "return", &r));
	return r;
}

static void test_memmap_recorded(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) m = parse_in_chunks(transcript, transcript_len, transcript_len, &error);
	g_autoptr(GPtrArray) rams = vmt_qmp_memmap_from_memdevs(reply_of(m, "rec-2"), &error);
	g_autofree char *golden_p = g_build_filename(g_getenv("VMTIER_GOLDEN"), "session.memmap.json", NULL);
	g_autofree char *golden = NULL;
	VmtGuestRam *m1;
	guint64 hva;
	json_object *j;
	const char *text;

	g_assert_no_error(error);
	g_assert_true(vmt_qmp_memmap_add_mtree(rams, json_object_get_string(reply_of(m, "rec-3")), &error));
	g_assert_true(vmt_qmp_memmap_add_numa(rams, json_object_get_string(reply_of(m, "rec-5")), &error));
	g_assert_true(vmt_qmp_memmap_parse_gpa2hva(json_object_get_string(reply_of(m, "rec-4")), &hva, &error));
	g_assert_no_error(error);
	m1 = g_ptr_array_index(rams, 0);
	g_assert_cmpstr(m1->memdev, ==, "m1");
	m1->hva = hva;		/* rec-4 asked for m1's first GPA, offset 0 */
	j = vmt_qmp_memmap_to_json(rams);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
	if (g_getenv("VMTIER_REGENERATE"))
		g_assert_true(g_file_set_contents(golden_p, text, -1, NULL));
	g_assert_true(g_file_get_contents(golden_p, &golden, NULL, NULL));
	g_assert_cmpstr(text, ==, golden);
	json_object_put(j);
}

static void test_memmap_errors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) m = parse_in_chunks(transcript, transcript_len, transcript_len, &error);
	g_autoptr(GPtrArray) rams = vmt_qmp_memmap_from_memdevs(reply_of(m, "rec-2"), &error);
	guint64 hva;

	/* gpa2hva answers an unmapped address with a *successful* reply */
	g_assert_false(vmt_qmp_memmap_parse_gpa2hva(json_object_get_string(reply_of(m, "rec-6")), &hva, &error));
	g_assert_cmpstr(error->message, ==, "gpa2hva: No memory is mapped at address 0xfffffffff0");
	g_clear_error(&error);
	g_assert_false(vmt_qmp_memmap_add_mtree(rams, "FlatView #0\n AS \"I/O\", root: io\n", &error));
	g_assert_nonnull(strstr(error->message, "no FlatView for address space \"memory\""));
	g_clear_error(&error);
	g_assert_true(vmt_qmp_memmap_add_mtree(rams, json_object_get_string(reply_of(m, "rec-3")), &error));
	/* node sizes that do not match the backends are an error, not a guess */
	g_assert_false(vmt_qmp_memmap_add_numa(rams, "2 nodes\nnode 0 size: 96 MB\nnode 1 size: 64 MB\n", &error));
	g_assert_nonnull(strstr(error->message, "cannot tell which backend is node 0's RAM"));
	g_clear_error(&error);
	/* hostile answers: an offset that would wrap, an absurd node count */
	g_assert_false(vmt_qmp_memmap_add_mtree(rams, "FlatView #0\n AS \"memory\", root: system\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): m0 @fffffffffffff000\n", &error));
	g_assert_nonnull(strstr(error->message, "exceeds its size"));
	g_clear_error(&error);
	g_assert_false(vmt_qmp_memmap_add_numa(rams, "4000000000 nodes\n", &error));
	g_assert_nonnull(strstr(error->message, "implausible node count"));
	g_clear_error(&error);
	{
		json_object *notarray = json_object_new_string("x");
		g_assert_null(vmt_qmp_memmap_from_memdevs(notarray, &error));
		json_object_put(notarray);
	}
}

/* ---- callbacks that close or drop the client (run under ASan) ---- */

static void close_on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Wait *w = data;

	w->res = g_object_ref(res);
	w->done = TRUE;
	vmt_qmp_client_close(w->events->pdata[0]);	/* the client */
}

static void close_on_event(VmtQmpClient *c, const char *event, json_object *data, gpointer user)
{
	vmt_qmp_client_close(c);
}

static void run_reentrant(guint mode, const char *cmd, guint timeout_ms, gboolean close_in_event)
{
	Server *s = server_start(mode, 1);
	VmtQmpClient *c = vmt_qmp_client_new(s->path);
	Wait w = { .events = g_ptr_array_new() };
	guint polls = 0;

	g_ptr_array_add(w.events, c);	/* close_on_done finds the client here */
	connect_ok(c);
	if (close_in_event)
		vmt_qmp_client_add_event_func(c, NULL, close_on_event, &w);
	vmt_qmp_client_execute_async(c, cmd, NULL, timeout_ms, NULL,
				     close_in_event ? on_done : close_on_done, &w);
	run_until(&w.done);
	while (polls++ < 20)		/* let anything left over run */
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(vmt_qmp_client_is_ready(c));
	g_object_unref(w.res);
	vmt_qmp_client_unref(c);
	g_ptr_array_unref(w.events);
	server_stop(s);
}

static void test_close_in_timeout_callback(void)
{
	run_reentrant(SRV_NO_REPLY_STOP, "stop", 100, FALSE);
}

static void test_close_in_reply_callback(void)
{
	/* the reply arrives with an event behind it in the same read */
	run_reentrant(SRV_BURST_ON_STOP, "stop", 0, FALSE);
}

static void test_close_in_event_handler(void)
{
	/* two more events and the reply follow in the same read */
	run_reentrant(SRV_BURST_ON_STOP, "stop", 0, TRUE);
}

static void unref_on_closed(VmtQmpClient *c, const GError *e, gpointer user)
{
	*(gboolean *)user = TRUE;
	vmt_qmp_client_unref(c);	/* the owner lets go when told it closed */
}

static void test_unref_in_closed_handler(void)
{
	Server *s = server_start(SRV_CLOSE_ON_STATUS, 1);
	VmtQmpClient *c = vmt_qmp_client_new(s->path);
	gboolean closed = FALSE;

	vmt_qmp_client_set_closed_func(c, unref_on_closed, &closed);
	connect_ok(c);
	vmt_qmp_client_execute_async(c, "query-status", NULL, 0, NULL, NULL, NULL);
	run_until(&closed);
	server_stop(s);
}

static guint second_sub;
static int second_calls;

static void remove_second(VmtQmpClient *c, const char *ev, json_object *d, gpointer user)
{
	vmt_qmp_client_remove_event_func(c, second_sub);
}

static void count_second(VmtQmpClient *c, const char *ev, json_object *d, gpointer user)
{
	second_calls++;
}

static void test_handler_removes_another(void)
{
	Server *s = server_start(SRV_BURST_ON_STOP, 1);
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_new(s->path);
	g_autoptr(GError) error = NULL;

	connect_ok(c);
	vmt_qmp_client_add_event_func(c, NULL, remove_second, NULL);
	second_sub = vmt_qmp_client_add_event_func(c, NULL, count_second, NULL);
	json_object_put(exec(c, "stop", 2000, &error));
	g_assert_no_error(error);
	g_assert_cmpint(second_calls, ==, 0);
	vmt_qmp_client_close(c);
	server_stop(s);
}

int main(int argc, char **argv)
{
	g_autofree char *path = NULL, *cmds = NULL;
	const char *dir;

	g_test_init(&argc, &argv, NULL);
	dir = g_getenv("VMTIER_QMP_RECORDED");
	g_assert_nonnull(dir);
	path = g_build_filename(dir, "session.qmp", NULL);
	g_assert_true(g_file_get_contents(path, &transcript, &transcript_len, NULL));
	g_free(path);
	path = g_build_filename(dir, "session.qmp.commands", NULL);
	g_assert_true(g_file_get_contents(path, &cmds, NULL, NULL));
	commands = g_strsplit(cmds, "\n", -1);

	g_test_add_func("/qmp/parser/whole", test_parse_whole);
	g_test_add_func("/qmp/parser/bytewise", test_parse_bytewise);
	g_test_add_func("/qmp/parser/chunks", test_parse_chunks);
	g_test_add_func("/qmp/parser/bad-input", test_parse_bad);
	g_test_add_func("/qmp/parser/limit-exact", test_parse_limit_exact);
	g_test_add_func("/qmp/parser/large", test_parse_large);
	g_test_add_func("/qmp/client/session", test_client_session);
	g_test_add_func("/qmp/client/split-writes", test_client_split);
	g_test_add_func("/qmp/client/closed-mid-command", test_client_closed_mid_command);
	g_test_add_func("/qmp/client/timeout", test_client_timeout);
	g_test_add_func("/qmp/client/garbage", test_client_garbage);
	g_test_add_func("/qmp/client/reconnect", test_client_reconnect);
	g_test_add_func("/qmp/client/no-socket", test_client_no_socket);
	g_test_add_func("/qmp/client/sync", test_client_sync);
	g_test_add_func("/qmp/client/reply-limit", test_client_reply_limit);
	g_test_add_func("/qmp/reentrant/close-in-timeout-callback", test_close_in_timeout_callback);
	g_test_add_func("/qmp/reentrant/close-in-reply-callback", test_close_in_reply_callback);
	g_test_add_func("/qmp/reentrant/close-in-event-handler", test_close_in_event_handler);
	g_test_add_func("/qmp/reentrant/unref-in-closed-handler", test_unref_in_closed_handler);
	g_test_add_func("/qmp/reentrant/handler-removes-another", test_handler_removes_another);
	g_test_add_func("/qmp/memmap/recorded", test_memmap_recorded);
	g_test_add_func("/qmp/memmap/errors", test_memmap_errors);
	int rc = g_test_run();
	g_strfreev(commands);
	g_free(transcript);
	return rc;
}
