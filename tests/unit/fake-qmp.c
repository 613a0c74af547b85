// SPDX-License-Identifier: GPL-2.0-or-later
/* A QEMU monitor played by a thread of the test (see fake-qmp.h). */
#include "fake-qmp.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char *fake_qmp_key(json_object *cmd)
{
	json_object *ex = NULL, *args = NULL, *cl = NULL;

	json_object_object_get_ex(cmd, "execute", &ex);
	json_object_object_get_ex(cmd, "arguments", &args);
	if (args)
		json_object_object_get_ex(args, "command-line", &cl);
	return g_strdup_printf("%s\t%s", ex ? json_object_get_string(ex) : "",
			       cl ? json_object_get_string(cl) : "");
}

GHashTable *fake_qmp_replies_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				     (GDestroyNotify)g_ptr_array_unref);
}

void fake_qmp_reply(GHashTable *replies, const char *execute, const char *command_line,
		    const char *return_json)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(lines, g_strdup_printf("{\"return\": %s, \"id\": \"rec-0\"}\r\n",
					       return_json));
	g_hash_table_insert(replies, g_strdup_printf("%s\t%s", execute,
						     command_line ? command_line : ""), lines);
}

static void srv_write(Server *s, int fd, const char *text)
{
	gsize len = strlen(text);

	for (gsize off = 0; off < len;) {
		/* no SIGPIPE when the client hung up on a reply it refused */
		ssize_t n = send(fd, text + off, s->mode & SRV_SPLIT ? 1 : len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += (gsize)n;
	}
}

static gpointer server_thread(gpointer data)
{
	Server *s = data;

	for (int conn = 0; conn < s->connections; conn++) {
		int fd = accept(s->lfd, NULL, NULL);
		g_autoptr(GString) in = g_string_new(NULL);
		gboolean open = TRUE;
		char buf[4096];

		if (fd < 0)
			break;
		srv_write(s, fd, s->greeting);
		while (open) {
			char *nl;
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n <= 0)
				break;
			g_string_append_len(in, buf, n);
			while (open && (nl = strchr(in->str, '\n'))) {
				g_autofree char *line = g_strndup(in->str, (gsize)(nl - in->str));
				json_object *cmd = json_tokener_parse(line), *idv = NULL;
				g_autofree char *key = cmd ? fake_qmp_key(cmd) : g_strdup("");
				const char *id;
				GPtrArray *reply;

				g_string_erase(in, 0, nl - in->str + 1);
				g_ptr_array_add(s->log, g_strdup(key));
				if (s->hook)
					s->hook(key, s->hook_data);
				json_object_object_get_ex(cmd, "id", &idv);
				id = idv ? json_object_get_string(idv) : "";
				if (g_str_has_prefix(key, "query-status\t") && (s->mode & SRV_CLOSE_ON_STATUS)) {
					open = FALSE;
				} else if (g_str_has_prefix(key, "query-status\t") && (s->mode & SRV_GARBAGE_ON_STATUS)) {
					srv_write(s, fd, "{\"return\": oops}\r\n");
				} else if (g_str_has_prefix(key, "stop\t") && (s->mode & SRV_BURST_ON_STOP)) {
					g_autofree char *b = g_strdup_printf("{\"event\": \"A\"}\r\n{\"event\": \"B\"}\r\n"
						"{\"return\": {}, \"id\": \"%s\"}\r\n{\"event\": \"C\"}\r\n", id);
					srv_write(s, fd, b);
				} else if (g_str_has_prefix(key, "stop\t") && (s->mode & SRV_NO_REPLY_STOP)) {
					/* silence */
				} else if ((reply = g_hash_table_lookup(s->replies, key))) {
					for (guint i = 0; i < reply->len; i++) {
						g_autofree char *r = g_strdup(reply->pdata[i]);
						char *at = strstr(r, "\"rec-");
						if (at) {	/* "rec-N" -> the client's id */
							char *end = strchr(at + 1, '"');
							g_autofree char *head = g_strndup(r, (gsize)(at - r));
							char *swapped = g_strdup_printf("%s\"%s%s", head, id, end);
							g_free(r);
							r = swapped;
						}
						srv_write(s, fd, r);
					}
				} else {
					g_autofree char *e = g_strdup_printf("{\"id\": \"%s\", \"error\": {\"class\": "
						"\"CommandNotFound\", \"desc\": \"no recording\"}}\r\n", id);
					srv_write(s, fd, e);
				}
				json_object_put(cmd);
			}
		}
		close(fd);
	}
	return NULL;
}

Server *fake_qmp_start(guint mode, int connections, const char *greeting, GHashTable *replies)
{
	return fake_qmp_start_hooked(mode, connections, greeting, replies, NULL, NULL);
}

Server *fake_qmp_start_hooked(guint mode, int connections, const char *greeting,
			      GHashTable *replies, void (*hook)(const char *key, gpointer data),
			      gpointer data)
{
	Server *s = g_new0(Server, 1);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_autofree char *dir = g_dir_make_tmp("vmt-qmp-XXXXXX", NULL);

	s->path = g_build_filename(dir, "qmp", NULL);
	s->mode = mode;
	s->connections = connections;
	s->replies = replies;
	s->log = g_ptr_array_new_with_free_func(g_free);
	s->greeting = g_strdup(greeting);
	s->hook = hook;
	s->hook_data = data;
	g_strlcpy(addr.sun_path, s->path, sizeof(addr.sun_path));
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_cmpint(bind(s->lfd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(s->lfd, 4), ==, 0);
	s->thread = g_thread_new("fake-qemu", server_thread, s);
	return s;
}

void fake_qmp_stop(Server *s)
{
	g_autofree char *dir = g_path_get_dirname(s->path);

	shutdown(s->lfd, SHUT_RDWR);
	g_thread_join(s->thread);
	close(s->lfd);
	unlink(s->path);
	rmdir(dir);
	g_hash_table_unref(s->replies);
	g_ptr_array_unref(s->log);
	g_free(s->greeting);
	g_free(s->path);
	g_free(s);
}


static void hmp_reply(GHashTable *r, const char *cmd, const char *text)
{
	json_object *s = json_object_new_string(text);

	fake_qmp_reply(r, "human-monitor-command", cmd, json_object_to_json_string(s));
	json_object_put(s);
}

Server *fake_qmp_qemu(const FakeQmpRam *b, guint n, int connections,
		      void (*hook)(const char *key, gpointer data), gpointer data)
{
	GHashTable *r = fake_qmp_replies_new();
	g_autoptr(GString) md = g_string_new("[");
	g_autoptr(GString) mtree = g_string_new("FlatView #0\n AS \"memory\", root: system\n");
	g_autoptr(GString) numa = g_string_new(NULL);
	guint64 gpa = 0;

	g_string_append_printf(numa, "%u nodes\n", n);
	for (guint i = 0; i < n; i++) {
		g_autofree char *cmd = g_strdup_printf("gpa2hva 0x%" PRIx64, gpa);
		g_autofree char *out = g_strdup_printf("Host virtual address for 0x%" PRIx64 " (m%u) is "
						       "0x%" PRIx64 "\r\n", gpa, i, b[i].hva);

		g_string_append_printf(md, "%s{\"id\": \"m%u\", \"size\": %" G_GUINT64_FORMAT ", "
				       "\"policy\": \"default\", \"host-nodes\": []}", i ? ", " : "",
				       i, b[i].size);
		g_string_append_printf(mtree, "  %016" PRIx64 "-%016" PRIx64 " (prio 0, ram): m%u\n",
				       gpa, gpa + b[i].size - 1, i);
		g_string_append_printf(numa, "node %u size: %" G_GUINT64_FORMAT " MB\n", i,
				       b[i].size >> 20);
		hmp_reply(r, cmd, out);
		gpa += b[i].size;
	}
	g_string_append(md, "]");
	fake_qmp_reply(r, "qmp_capabilities", NULL, "{}");
	fake_qmp_reply(r, "query-memdev", NULL, md->str);
	hmp_reply(r, "info mtree -f", mtree->str);
	hmp_reply(r, "info numa", numa->str);
	/* what the window asks: running, not migrating */
	fake_qmp_reply(r, "query-status", NULL, "{\"status\": \"running\", \"running\": true}");
	fake_qmp_reply(r, "query-migrate", NULL, "{}");
	return fake_qmp_start_hooked(0, connections,
				     "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
				     "\"major\": 7}, \"package\": \"\"}, \"capabilities\": []}}\r\n", r,
				     hook, data);
}
