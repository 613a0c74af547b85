// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket (src/ctl/ctl.c): a real server on a main loop in a thread,
 * in a temporary directory, and the real client. */
#include "ctl.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LINE (64 * 1024)

typedef struct {
	char *dir, *path;
	gid_t group;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	GMutex lock;
	GCond cond;
	gboolean started;
	guint idle_ms;			/* 0: the server's default */
	GError *error;
	VmtCtlServer *server;
	GQueue later;			/* VmtCtlPending*: "later"s not answered */
} Fixture;

/* "echo": the request and the peer back; "fail": an error; "later": a
 * reply deferred (as vmtierd's set while libvirt answers) until the
 * next "release", which answers the oldest "later" first; "count": how
 * many are owed. */
static json_object *handler(json_object *req, const VmtCtlPeer *peer, gpointer user, GError **error)
{
	Fixture *f = user;
	json_object *cmd = NULL, *o;

	json_object_object_get_ex(req, "cmd", &cmd);
	if (strcmp(json_object_get_string(cmd), "fail") == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no VM named 'ghost'");
		return NULL;
	}
	if (strcmp(json_object_get_string(cmd), "later") == 0) {
		g_queue_push_tail(&f->later, vmt_ctl_server_defer(f->server));
		return NULL;
	}
	if (strcmp(json_object_get_string(cmd), "count") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "later", json_object_new_int((int)g_queue_get_length(&f->later)));
		return o;
	}
	if (strcmp(json_object_get_string(cmd), "release") == 0 && !g_queue_is_empty(&f->later)) {
		o = json_object_new_object();
		json_object_object_add(o, "later", json_object_new_boolean(TRUE));
		vmt_ctl_pending_done(g_queue_pop_head(&f->later), o, NULL);
	}
	o = json_object_new_object();
	json_object_object_add(o, "echo", json_object_get(req));
	json_object_object_add(o, "pid", json_object_new_int(peer->pid));
	json_object_object_add(o, "uid", json_object_new_int64(peer->uid));
	json_object_object_add(o, "gid", json_object_new_int64(peer->gid));
	return o;
}

static gpointer server_thread(gpointer data)
{
	Fixture *f = data;
	VmtCtlServer *s;

	g_main_context_push_thread_default(f->ctx);
	s = vmt_ctl_server_new(f->path, f->group, handler, f, &f->error);
	f->server = s;
	if (s && f->idle_ms)
		vmt_ctl_server_set_idle_timeout(s, f->idle_ms);
	g_mutex_lock(&f->lock);
	f->started = TRUE;
	g_cond_signal(&f->cond);
	g_mutex_unlock(&f->lock);
	if (s)
		g_main_loop_run(f->loop);
	vmt_ctl_server_free(s);
	g_main_context_pop_thread_default(f->ctx);
	return NULL;
}

static void server_start(Fixture *f, gid_t group)
{
	f->group = group;
	f->started = FALSE;
	f->ctx = g_main_context_new();
	f->loop = g_main_loop_new(f->ctx, FALSE);
	f->thread = g_thread_new("ctl-server", server_thread, f);
	g_mutex_lock(&f->lock);
	while (!f->started)
		g_cond_wait(&f->cond, &f->lock);
	g_mutex_unlock(&f->lock);
	g_assert_no_error(f->error);
}

static gboolean quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void server_stop(Fixture *f)
{
	GSource *quit;

	if (!f->thread)
		return;
	/* from inside the loop: a quit before it runs would be lost */
	quit = g_idle_source_new();
	g_source_set_callback(quit, quit_loop, f->loop, NULL);
	g_source_attach(quit, f->ctx);
	g_source_unref(quit);
	g_thread_join(f->thread);
	f->thread = NULL;
	g_main_loop_unref(f->loop);
	g_main_context_unref(f->ctx);
}

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_mutex_init(&f->lock);
	g_cond_init(&f->cond);
	f->dir = g_dir_make_tmp("vmtier-ctl-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "vmtierd.sock", NULL);
	if (!data)
		server_start(f, (gid_t)-1);
}

static void teardown(Fixture *f, gconstpointer data)
{
	server_stop(f);
	g_unlink(f->path);
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	g_clear_error(&f->error);
	g_free(f->path);
	g_free(f->dir);
	g_mutex_clear(&f->lock);
	g_cond_clear(&f->cond);
}

static json_object *request(Fixture *f, const char *json, GError **error)
{
	return vmt_ctl_request(f->path, json_tokener_parse(json), 5000, error);
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

/* ---- a raw connection, for several lines and bad input ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
	return fd;
}

static void raw_send(int fd, const char *s)
{
	gsize len = strlen(s);

	while (len) {
		gssize n = send(fd, s, len, MSG_NOSIGNAL);

		g_assert_cmpint(n, >, 0);
		s += n, len -= (gsize)n;
	}
}

/* The next reply line, parsed; NULL at end of stream. */
static json_object *raw_reply(int fd)
{
	g_autoptr(GString) line = g_string_new(NULL);
	char ch;
	gssize n;

	while ((n = recv(fd, &ch, 1, 0)) == 1 && ch != '\n')
		g_string_append_c(line, ch);
	g_assert_cmpint(n, >=, 0);	/* not the 5 s receive timeout */
	if (n == 0) {
		g_assert_cmpuint(line->len, ==, 0);
		return NULL;
	}
	return json_tokener_parse(line->str);
}

static gboolean reply_ok(json_object *o)
{
	json_object *ok = NULL;

	g_assert_true(json_object_object_get_ex(o, "ok", &ok));
	return json_object_get_boolean(ok);
}

/* ---- tests ---- */

static void test_request_reply(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	json_object *r = request(f, "{\"cmd\":\"echo\",\"name\":\"vm-1\"}", &error), *echo;

	g_assert_no_error(error);
	g_assert_nonnull(r);
	g_assert_true(reply_ok(r));
	/* "ok" comes first, then what the handler put there */
	g_assert_true(g_str_has_prefix(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
				       "{\"ok\":true,\"echo\":"));
	g_assert_true(json_object_object_get_ex(r, "echo", &echo));
	g_assert_cmpstr(get_str(echo, "name"), ==, "vm-1");
	/* SO_PEERCRED saw this process */
	g_assert_cmpint(atoi(get_str(r, "pid")), ==, getpid());
	g_assert_cmpuint(strtoul(get_str(r, "uid"), NULL, 10), ==, getuid());
	g_assert_cmpuint(strtoul(get_str(r, "gid"), NULL, 10), ==, getgid());
	json_object_put(r);
}

static void test_several_requests(Fixture *f, gconstpointer data)
{
	int fd = raw_connect(f->path);
	json_object *r;

	/* two in one write, a third split over two writes */
	raw_send(fd, "{\"cmd\":\"echo\",\"n\":1}\n{\"cmd\":\"echo\",\"n\":2}\n{\"cmd\":");
	g_usleep(50000);	/* so the server reads the first part alone */
	raw_send(fd, "\"echo\",\"n\":3}\n");
	for (int i = 1; i <= 3; i++) {
		json_object *echo;

		r = raw_reply(fd);
		g_assert_nonnull(r);
		g_assert_true(reply_ok(r));
		g_assert_true(json_object_object_get_ex(r, "echo", &echo));
		g_assert_cmpint(atoi(get_str(echo, "n")), ==, i);
		json_object_put(r);
	}
	/* a last one without its newline, then end of input: answered, then hung up */
	raw_send(fd, "{\"cmd\":\"echo\",\"n\":4}");
	g_assert_cmpint(shutdown(fd, SHUT_WR), ==, 0);
	r = raw_reply(fd);
	g_assert_nonnull(r);
	g_assert_true(reply_ok(r));
	json_object_put(r);
	g_assert_null(raw_reply(fd));
	close(fd);
}

#define FLOOD 2000

static gpointer flood(gpointer data)
{
	GString *all = g_string_new(NULL);

	for (int i = 0; i < FLOOD; i++)
		g_string_append_printf(all, "{\"cmd\":\"echo\",\"n\":%d}\n", i);
	raw_send(GPOINTER_TO_INT(data), all->str);
	g_string_free(all, TRUE);
	return NULL;
}

/* Far more requests than the socket buffers hold replies for, sent before
 * any reply is read: every one is answered, in order. */
static void test_pipelined(Fixture *f, gconstpointer data)
{
	int fd = raw_connect(f->path);
	GThread *sender = g_thread_new("flood", flood, GINT_TO_POINTER(fd));

	g_usleep(200000);	/* let the sender fill both directions */
	for (int i = 0; i < FLOOD; i++) {
		json_object *r = raw_reply(fd), *echo;

		g_assert_nonnull(r);
		g_assert_true(json_object_object_get_ex(r, "echo", &echo));
		g_assert_cmpint(atoi(get_str(echo, "n")), ==, i);
		json_object_put(r);
	}
	g_thread_join(sender);
	close(fd);
}

static void test_malformed(Fixture *f, gconstpointer data)
{
	static const char *const bad[] = { "{\"cmd\":", "nonsense", "{\"cmd\":\"echo\"} 42",
					   "[1,2]", "{\"name\":\"x\"}", "{\"cmd\":7}" };
	int fd = raw_connect(f->path);
	json_object *r;

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *line = g_strconcat(bad[i], "\n", NULL);

		raw_send(fd, line);
		r = raw_reply(fd);
		g_assert_nonnull(r);
		g_assert_false(reply_ok(r));
		g_test_message("%s -> %s", bad[i], get_str(r, "error"));
		g_assert_true(i < 3 ? g_str_has_prefix(get_str(r, "error"), "invalid JSON request: ") :
			      strstr(get_str(r, "error"), "\"cmd\"") != NULL);
		json_object_put(r);
	}
	/* the connection is still good */
	raw_send(fd, "{\"cmd\":\"echo\"}\n");
	r = raw_reply(fd);
	g_assert_true(reply_ok(r));
	json_object_put(r);
	close(fd);
}

/* A line of LEN bytes (without the newline) that is a valid request. */
static char *line_of(gsize len)
{
	const char *head = "{\"cmd\":\"echo\",\"pad\":\"", *tail = "\"}\n";
	gsize pad = len - strlen(head) - 2;
	char *line = g_malloc(len + 2);

	strcpy(line, head);
	memset(line + strlen(head), 'x', pad);
	strcpy(line + strlen(head) + pad, tail);
	return line;
}

static void test_line_limit(Fixture *f, gconstpointer data)
{
	g_autofree char *at_limit = line_of(MAX_LINE), *over = line_of(MAX_LINE + 1);
	int fd = raw_connect(f->path);
	json_object *r;

	raw_send(fd, at_limit);
	r = raw_reply(fd);
	g_assert_true(reply_ok(r));
	json_object_put(r);

	raw_send(fd, over);
	r = raw_reply(fd);
	g_assert_false(reply_ok(r));
	g_assert_cmpstr(get_str(r, "error"), ==, "request line longer than 65536 bytes");
	json_object_put(r);
	g_assert_null(raw_reply(fd));	/* and then hung up */
	close(fd);
}

/* Without a newline the server cannot wait for the end: it refuses once
 * the limit is passed, and the client reads why. */
static void test_line_limit_client(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *pad = g_strnfill(3 * MAX_LINE, 'x');
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("echo"));
	json_object_object_add(req, "pad", json_object_new_string(pad));
	g_assert_null(vmt_ctl_request(f->path, req, 5000, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, "request line longer than 65536 bytes");
}

static void test_handler_error(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int fd = raw_connect(f->path);
	json_object *r;

	g_assert_null(request(f, "{\"cmd\":\"fail\"}", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, "no VM named 'ghost'");
	/* on the wire */
	raw_send(fd, "{\"cmd\":\"fail\"}\n");
	r = raw_reply(fd);
	g_assert_cmpstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), ==,
			"{\"ok\":false,\"error\":\"no VM named 'ghost'\"}");
	json_object_put(r);
	close(fd);
}

/* the "later"s the server holds (its "count") */
static gint later_count(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	json_object *r = request(f, "{\"cmd\":\"count\"}", &error), *v = NULL;
	gint n;

	g_assert_no_error(error);
	g_assert_true(json_object_object_get_ex(r, "later", &v));
	n = json_object_get_int(v);
	json_object_put(r);
	return n;
}

static void wait_later(Fixture *f, gint n)
{
	for (guint i = 0; later_count(f) != n; i++) {
		g_assert_cmpuint(i, <, 500);
		g_usleep(10000);
	}
}

static void release(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	json_object *r = request(f, "{\"cmd\":\"release\"}", &error);

	g_assert_no_error(error);
	g_assert_true(reply_ok(r));
	json_object_put(r);
}

/* A deferred reply holds up its own client only: another client is
 * answered meanwhile, the waiting one's next request is answered after it,
 * and a client gone before its reply costs nothing. */
static void test_deferred(Fixture *f, gconstpointer data)
{
	int a = raw_connect(f->path), gone = raw_connect(f->path);
	struct pollfd pfd = { .fd = a, .events = POLLIN };
	json_object *r;

	raw_send(gone, "{\"cmd\":\"later\"}\n");
	wait_later(f, 1);
	close(gone);
	release(f);
	raw_send(a, "{\"cmd\":\"later\"}\n{\"cmd\":\"echo\"}\n");
	wait_later(f, 1);	/* others answered while A's reply is owed */
	g_assert_cmpint(poll(&pfd, 1, 200), ==, 0);
	release(f);
	r = raw_reply(a);
	g_assert_true(reply_ok(r));
	g_assert_true(json_object_object_get_ex(r, "later", NULL));
	json_object_put(r);
	r = raw_reply(a);
	g_assert_true(reply_ok(r));
	g_assert_cmpstr(get_str(json_object_object_get(r, "echo"), "cmd"), ==, "echo");
	json_object_put(r);
	close(a);
}

static void test_socket_mode(Fixture *f, gconstpointer data)
{
	struct stat st;
	/* root may give the file any group; another user only its own */
	gid_t group = getuid() == 0 ? 4242 : getgid();

	g_assert_cmpint(stat(f->path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpuint(st.st_uid, ==, geteuid());

	server_stop(f);
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));	/* free unlinks it */
	server_start(f, group);
	g_assert_cmpint(stat(f->path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0660);
	g_assert_cmpuint(st.st_gid, ==, group);
}

static void test_stale_socket(Fixture *f, gconstpointer data)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	g_autoptr(GError) error = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	VmtCtlServer *second;

	/* a crashed daemon's file: bound, nobody listening */
	g_strlcpy(sa.sun_path, f->path, sizeof sa.sun_path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	close(fd);
	server_start(f, (gid_t)-1);
	json_object_put(request(f, "{\"cmd\":\"echo\"}", &error));
	g_assert_no_error(error);

	/* a live one is not taken over */
	second = vmt_ctl_server_new(f->path, (gid_t)-1, handler, NULL, &error);
	g_assert_null(second);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
	g_assert_nonnull(strstr(error->message, f->path));
	g_clear_error(&error);
	server_stop(f);

	/* nor is a file that is not a socket */
	g_assert_true(g_file_set_contents(f->path, "keep me", -1, NULL));
	second = vmt_ctl_server_new(f->path, (gid_t)-1, handler, NULL, &error);
	g_assert_null(second);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	g_assert_true(g_file_test(f->path, G_FILE_TEST_IS_REGULAR));
}

static void test_peer_allowed(void)
{
	gid_t none = (gid_t)-1, other = 4242;
	VmtCtlPeer root = { 1, 0, 0 }, me = { 1, geteuid(), getegid() };
	VmtCtlPeer stranger = { 1, 4000001, 4000001 }, in_gid = { 1, 4000001, other };
	struct group *gr;

	g_assert_true(vmt_ctl_peer_allowed(&root, none));
	g_assert_true(vmt_ctl_peer_allowed(&root, other));
	g_assert_true(vmt_ctl_peer_allowed(&me, none));
	g_assert_false(vmt_ctl_peer_allowed(&stranger, none));
	g_assert_false(vmt_ctl_peer_allowed(&stranger, other));
	g_assert_false(vmt_ctl_peer_allowed(&in_gid, none));	/* no group: root only */
	g_assert_true(vmt_ctl_peer_allowed(&in_gid, other));	/* the peer's own gid */

	/* membership through a supplementary group from the group file: a user
	 * other than root and us, whose primary group is another */
	setgrent();
	while ((gr = getgrent())) {
		struct passwd *pw = gr->gr_mem[0] ? getpwnam(gr->gr_mem[0]) : NULL;
		VmtCtlPeer member;

		if (!pw || pw->pw_uid == 0 || pw->pw_uid == geteuid() || pw->pw_gid == gr->gr_gid)
			continue;
		member = (VmtCtlPeer){ 1, pw->pw_uid, pw->pw_gid };
		g_test_message("%s has supplementary group %s", pw->pw_name, gr->gr_name);
		g_assert_true(vmt_ctl_peer_allowed(&member, gr->gr_gid));
		g_assert_false(vmt_ctl_peer_allowed(&member, none));
		g_assert_false(vmt_ctl_peer_allowed(&member, other));
		break;
	}
	if (!gr)
		g_test_skip("no user here with a supplementary group to check membership with");
	endgrent();
}

typedef struct {
	int listener;
	gsize got;
} Mute;

/* Accept, read the request, never answer; stop when the client hangs up. */
static gpointer mute_server(gpointer data)
{
	Mute *m = data;
	int fd = accept(m->listener, NULL, NULL);
	char buf[256];
	gssize n;

	g_assert_cmpint(fd, >=, 0);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		m->got += (gsize)n;
	close(fd);
	return NULL;
}

static void test_client_timeout(Fixture *f, gconstpointer data)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	g_autoptr(GError) error = NULL;
	Mute m = { socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) };
	GThread *t;
	gint64 start, ms;

	g_strlcpy(sa.sun_path, f->path, sizeof sa.sun_path);
	g_assert_cmpint(bind(m.listener, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(listen(m.listener, 1), ==, 0);
	t = g_thread_new("mute", mute_server, &m);
	start = g_get_monotonic_time();
	g_assert_null(vmt_ctl_request(f->path, json_tokener_parse("{\"cmd\":\"status\"}"), 300, &error));
	ms = (g_get_monotonic_time() - start) / 1000;
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
	g_assert_nonnull(strstr(error->message, f->path));
	g_test_message("gave up after %" G_GINT64_FORMAT " ms: %s", ms, error->message);
	g_assert_cmpint(ms, >=, 300);
	g_assert_cmpint(ms, <, 300 + 500);
	g_thread_join(t);
	g_assert_cmpuint(m.got, ==, strlen("{\"cmd\":\"status\"}\n"));
	close(m.listener);
}

static void test_missing_socket(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(request(f, "{\"cmd\":\"status\"}", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_true(g_str_has_prefix(error->message, "cannot reach vmtierd at "));
	g_assert_nonnull(strstr(error->message, f->path));
}

static void test_default_path(void)
{
	g_setenv("VMTIER_SOCKET", "/tmp/elsewhere.sock", TRUE);
	g_assert_cmpstr(vmt_ctl_default_path(), ==, "/tmp/elsewhere.sock");
	g_unsetenv("VMTIER_SOCKET");
	g_assert_true(g_str_has_suffix(vmt_ctl_default_path(), "/vmtierd.sock"));
	g_assert_true(g_path_is_absolute(vmt_ctl_default_path()));
}

/* A notify whose name holds a newline would forge a line in vmtierd's log:
 * refused before the handler sees it. */
static void test_forged_name(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	json_object *o = request(f, "{\"cmd\":\"notify\",\"event\":\"started\","
				 "\"name\":\"vm1 (from pid 1)\\nvmtierd: Message: hook: root stopped\"}", &error);

	g_assert_null(o);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, "bad name 'vm1 (from pid 1)\\u000avmtierd: "));
	g_assert_null(strchr(error->message, '\n'));
}

/* A client that says nothing, or sends half a line and stops, is dropped
 * after the idle limit (it held one of the 32 slots for good before). */
static void test_idle_timeout(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int silent, slow;
	json_object *o;

	f->idle_ms = 200;
	server_start(f, (gid_t)-1);
	silent = raw_connect(f->path);
	slow = raw_connect(f->path);
	raw_send(slow, "{\"cmd\":");
	g_assert_null(raw_reply(silent));	/* end of stream, well before the 5 s receive timeout */
	g_assert_null(raw_reply(slow));
	close(silent);
	close(slow);
	/* a client that asks gets its answers */
	o = request(f, "{\"cmd\":\"echo\"}", &error);
	g_assert_no_error(error);
	json_object_put(o);
}

/* Connects to PATH, sends one request and reads its reply: 1 answered, 0
 * refused, -1 failed; the connection stays open in *FD.  Only system calls
 * and the stack: it runs in a forked child of this threaded process. */
static int slot_try(const char *path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"cmd\":\"echo\"}\n";
	char buf[512];
	size_t len = 0;

	int r;

	*fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
	if (*fd < 0)
		return -1;
	/* a signal may interrupt any of these: retried, not a failure */
	while ((r = connect(*fd, (struct sockaddr *)&sa, sizeof sa)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	while ((r = (int)write(*fd, req, sizeof req - 1)) < 0 && errno == EINTR)
		;
	if (r != (ssize_t)(sizeof req - 1))
		return -1;
	while (len < sizeof buf - 1) {
		ssize_t n = read(*fd, buf + len, sizeof buf - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	return strstr(buf, "\"ok\":true") ? 1 : strstr(buf, "too many control connections") ? 0 : -1;
}

/* Group members get 28 of the 32 connections; root still gets the other 4. */
static void test_root_slots(Fixture *f, gconstpointer data)
{
	const gid_t nobody = 65534;
	int to_parent[2], to_child[2], got = 0, status, fds[40], n;
	pid_t child;

	if (getuid() != 0) {
		g_test_skip("needs root, to connect as another user");
		return;
	}
	f->idle_ms = 600000;
	server_start(f, nobody);
	g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
	g_assert_cmpint(pipe(to_parent), ==, 0);
	g_assert_cmpint(pipe(to_child), ==, 0);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		int fd, count = 0, r;
		char go;

		close(to_parent[0]);
		close(to_child[1]);	/* so a parent that fails and exits ends this read */
		if (setgroups(0, NULL) < 0 || setgid(nobody) < 0 || setuid(nobody) < 0)
			_exit(2);
		while ((r = slot_try(f->path, &fd)) == 1 && count < 40)
			count++;
		if (r < 0)	/* -1000 - slots held: where it failed, for the log */
			count = -1000 - count;
		if (write(to_parent[1], &count, sizeof count) != sizeof count)
			_exit(3);
		(void)!read(to_child[0], &go, 1);	/* hold the connections until told */
		_exit(0);
	}
	close(to_parent[1]);
	close(to_child[0]);
	g_assert_cmpint(read(to_parent[0], &got, sizeof got), ==, sizeof got);
	g_assert_cmpint(got, ==, 28);
	/* root: the 4 kept slots, then no more */
	for (n = 0; n < 4; n++)
		g_assert_cmpint(slot_try(f->path, &fds[n]), ==, 1);
	g_assert_cmpint(slot_try(f->path, &fds[n]), ==, 0);
	for (int i = 0; i <= n; i++)
		close(fds[i]);
	g_assert_cmpint(write(to_child[1], "x", 1), ==, 1);
	g_assert_cmpint(waitpid(child, &status, 0), ==, child);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to_parent[0]);
	close(to_child[1]);
}

/* The socket's group and mode are set where nobody else can reach it and
 * the file is then renamed into place: nothing changes the mode or owner
 * of whatever PATH names (a chown by path followed a swapped-in link). */
static void test_no_chmod_by_path(Fixture *f, gconstpointer data)
{
	gid_t group = getuid() == 0 ? 4242 : getgid();
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	gboolean moved_in = FALSE, attrib = FALSE, created = FALSE;
	struct stat st;
	gssize len;

	g_assert_cmpint(in, >=, 0);
	g_assert_cmpint(inotify_add_watch(in, f->dir, IN_ATTRIB | IN_CREATE | IN_MOVED_TO), >=, 0);
	server_start(f, group);
	while ((len = read(in, buf, sizeof buf)) > 0)
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->len && strcmp(ev->name, "vmtierd.sock") == 0) {
				moved_in |= (ev->mask & IN_MOVED_TO) != 0;
				attrib |= (ev->mask & IN_ATTRIB) != 0;
				created |= (ev->mask & IN_CREATE) != 0;
			}
			p += sizeof *ev + ev->len;
		}
	close(in);
	g_assert_true(moved_in);
	g_assert_false(created);
	g_assert_false(attrib);
	g_assert_cmpint(stat(f->path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0660);
	g_assert_cmpuint(st.st_gid, ==, group);
	/* and the private directory is gone */
	{
		g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
		const char *name;
		guint n = 0;

		while ((name = g_dir_read_name(d)))
			n++;
		g_assert_cmpuint(n, ==, 1);
	}
}

static void test_request_parse(void)
{
	static const struct {
		const char *line, *error;
	} cases[] = {
		{ "{\"cmd\":\"status\"}", NULL },
		{ "{\"cmd\":\"status\",\"name\":\"vm-1\"}", NULL },
		{ "{\"cmd\":\"status\",\"name\":\"a\\nb\"}", "bad name 'a\\u000ab': U+000A is not allowed" },
		{ "{\"cmd\":\"notify\",\"event\":\"\\u001b[2J\",\"name\":\"v\"}", "bad event '\\u001b[2J'" },
		{ "{\"cmd\":\"status\",\"name\":7}", "\"name\" is not a string" },
		{ "{\"cmd\":1}", "a request is a JSON object with a \"cmd\" string" },
		{ "[\"cmd\"]", "a request is a JSON object with a \"cmd\" string" },
		{ "{\"cmd\":\"x\"} {}", "invalid JSON request: " },
		{ "{\"cmd\":", "invalid JSON request: unexpected end of line" },
		{ "", "invalid JSON request: " },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		json_object *o = vmt_ctl_request_parse(cases[i].line, strlen(cases[i].line), &error);

		g_test_message("%s", cases[i].line);
		if (!cases[i].error) {
			g_assert_no_error(error);
			g_assert_nonnull(o);
			json_object_put(o);
		} else {
			g_assert_null(o);
			g_assert_nonnull(error);
			g_assert_true(g_str_has_prefix(error->message, cases[i].error));
		}
	}
	{
		g_autofree char *big = g_strnfill(MAX_LINE + 1, ' ');
		g_autoptr(GError) error = NULL;

		g_assert_null(vmt_ctl_request_parse(big, MAX_LINE + 1, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
	}
}

int main(int argc, char **argv)
{
	static const int no_server = 1;

	g_test_init(&argc, &argv, NULL);
	/* first: it sets the environment, which is only safe before any thread */
	g_test_add_func("/ctl/default-path", test_default_path);
#define ADD(name, fn, server) g_test_add("/ctl/" name, Fixture, server, setup, fn, teardown)
	ADD("request-reply", test_request_reply, NULL);
	ADD("several-requests", test_several_requests, NULL);
	ADD("pipelined", test_pipelined, NULL);
	ADD("malformed", test_malformed, NULL);
	ADD("line-limit", test_line_limit, NULL);
	ADD("line-limit-client", test_line_limit_client, NULL);
	ADD("handler-error", test_handler_error, NULL);
	ADD("deferred", test_deferred, NULL);
	ADD("socket-mode", test_socket_mode, NULL);
	ADD("stale-socket", test_stale_socket, &no_server);
	ADD("client-timeout", test_client_timeout, &no_server);
	ADD("missing-socket", test_missing_socket, &no_server);
	ADD("forged-name", test_forged_name, NULL);
	ADD("idle-timeout", test_idle_timeout, &no_server);
	ADD("root-slots", test_root_slots, &no_server);
	ADD("no-chmod-by-path", test_no_chmod_by_path, &no_server);
#undef ADD
	g_test_add_func("/ctl/peer-allowed", test_peer_allowed);
	g_test_add_func("/ctl/request-parse", test_request_parse);
	return g_test_run();
}
