// SPDX-License-Identifier: GPL-2.0-or-later
/* A per-thread time limit for the host layer; see host-deadline.h. */
#include <gio/gio.h>

#include "host-deadline.h"

static _Thread_local gint64 until_us;
static _Thread_local guint limit_ms;

void vmt_host_deadline_set(guint ms)
{
	limit_ms = ms;
	until_us = ms ? g_get_monotonic_time() + (gint64)ms * 1000 : 0;
}

gboolean vmt_host_deadline_check(GError **error)
{
	if (!until_us || g_get_monotonic_time() < until_us)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		    "cut off after its %u ms for this window", limit_ms);
	return FALSE;
}
