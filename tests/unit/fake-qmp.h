/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json.h>

/* A QEMU monitor played by a thread of the test: it greets, then answers
 * each command with the lines recorded for its key ("execute\tcommand-line"),
 * an id "rec-N" in them replaced by the command's; unknown commands get
 * CommandNotFound.  Its peer pid is the test's own. */

enum {
	SRV_SPLIT = 1,		/* write everything one byte at a time */
	SRV_CLOSE_ON_STATUS = 2,/* hang up on query-status */
	SRV_NO_REPLY_STOP = 4,	/* never answer stop */
	SRV_GARBAGE_ON_STATUS = 8,
	SRV_BURST_ON_STOP = 16,	/* answer stop with events + reply + event in one write */
};

typedef struct {
	char *path;
	int lfd;
	guint mode;
	int connections;	/* how many to serve, one after another */
	GHashTable *replies;	/* key -> GPtrArray of lines, each ending in \r\n */
	char *greeting;
	GThread *thread;
	GPtrArray *log;		/* keys of the commands received; read after stop */
	void (*hook)(const char *key, gpointer data);	/* before each reply, or NULL */
	gpointer hook_data;
} Server;

char *fake_qmp_key(json_object *cmd);
/* An empty reply table for server_start. */
GHashTable *fake_qmp_replies_new(void);
/* Answer EXECUTE (with COMMAND_LINE for human-monitor-command, else NULL)
 * with {"return": RETURN_JSON, "id": ...}. */
void fake_qmp_reply(GHashTable *replies, const char *execute, const char *command_line,
		    const char *return_json);
/* Serve CONNECTIONS connections with REPLIES (taken) after GREETING. */
Server *fake_qmp_start(guint mode, int connections, const char *greeting, GHashTable *replies);
/* The same, calling HOOK(key, DATA) on the server's thread before it
 * answers each command: what the guest does meanwhile. */
Server *fake_qmp_start_hooked(guint mode, int connections, const char *greeting,
			      GHashTable *replies, void (*hook)(const char *key, gpointer data),
			      gpointer data);
void fake_qmp_stop(Server *s);

/* A QEMU 7.2 whose RAM backends m0, m1, ... (RAMS[i]: SIZE bytes at the
 * test's address HVA) are guest nodes 0, 1, ... laid out one after another
 * from guest-physical 0, as attach asks (query-memdev, info mtree, info
 * numa, gpa2hva); CONNECTIONS and HOOK as above. */
typedef struct {
	guint64 size, hva;
} FakeQmpRam;

Server *fake_qmp_qemu(const FakeQmpRam *rams, guint n, int connections,
		      void (*hook)(const char *key, gpointer data), gpointer data);
