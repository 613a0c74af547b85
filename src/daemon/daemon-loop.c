// SPDX-License-Identifier: GPL-2.0-or-later
/* The main loop's busy time (daemon-private.h): vmtierd answers its
 * control socket there, so whatever runs long on it delays every client. */
#define G_LOG_DOMAIN "vmtierd"
#include "daemon-private.h"

#include <string.h>

/* One main loop a process: GLib's poll function takes no user data. */
static struct {
	GPollFunc poll;			/* the one wrapped, NULL: not watching */
	gint64 woke_us;			/* poll returned: the loop's work began */
	const char *what;		/* vmtierd's callback running, if any */
	gint64 what_us;			/* ... since */
	gint64 logged_us;		/* the last stall logged */
	guint unlogged;			/* stalls since, not logged */
	VmtLoopStats stats;
} loop;

/* WHAT (or the loop's own dispatch, NULL) has run since SINCE */
static void done(gint64 since, gint64 now)
{
	gint64 us = now - since;
	const char *what = loop.what ? loop.what : "other";

	loop.what = NULL;
	if (us > loop.stats.worst_us) {
		loop.stats.worst_us = us;
		loop.stats.worst_what = what;
	}
	if (us < VMT_LOOP_STALL_US)
		return;
	loop.stats.stalls++;
	/* at most one line in 10 s: a stall every window would flood */
	if (loop.logged_us && now - loop.logged_us < 10 * G_USEC_PER_SEC) {
		loop.unlogged++;
		return;
	}
	if (loop.unlogged)
		g_message("main loop: %s took %" G_GINT64_FORMAT " ms, control requests waited "
			  "(%u more such since the last report)", what, us / 1000, loop.unlogged);
	else
		g_message("main loop: %s took %" G_GINT64_FORMAT " ms, control requests waited",
			  what, us / 1000);
	loop.logged_us = now;
	loop.unlogged = 0;
}

void vmt_daemon_loop_ran(const char *what)
{
	gint64 now = g_get_monotonic_time();

	if (!loop.poll)
		return;
	/* what ran before it since the poll (or the last callback) */
	done(loop.what ? loop.what_us : loop.woke_us, now);
	loop.what = what;
	loop.what_us = now;
}

static gint timed_poll(GPollFD *fds, guint n, gint timeout)
{
	gint r;

	if (loop.woke_us)
		done(loop.what ? loop.what_us : loop.woke_us, g_get_monotonic_time());
	r = loop.poll(fds, n, timeout);
	loop.woke_us = g_get_monotonic_time();
	return r;
}

void vmt_daemon_loop_watch(void)
{
	GMainContext *ctx = g_main_context_default();

	if (loop.poll)
		return;
	memset(&loop, 0, sizeof(loop));
	loop.poll = g_main_context_get_poll_func(ctx);
	g_main_context_set_poll_func(ctx, timed_poll);
}

void vmt_daemon_loop_unwatch(void)
{
	if (!loop.poll)
		return;
	g_main_context_set_poll_func(g_main_context_default(), loop.poll);
	loop.poll = NULL;
}

void vmt_daemon_loop_stats(VmtLoopStats *s, gboolean reset)
{
	*s = loop.stats;
	if (reset)
		memset(&loop.stats, 0, sizeof(loop.stats));
}
