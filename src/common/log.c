// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"
#include "names.h"

#include <stdio.h>
#include <unistd.h>

static const char *log_prog = "vmtier";
static gboolean log_debug;

static const char *level_name(GLogLevelFlags level)
{
	switch (level & G_LOG_LEVEL_MASK) {
	case G_LOG_LEVEL_ERROR: return "fatal";
	case G_LOG_LEVEL_CRITICAL: return "critical";
	case G_LOG_LEVEL_WARNING: return "warning";
	case G_LOG_LEVEL_MESSAGE: return "notice";
	case G_LOG_LEVEL_INFO: return "info";
	default: return "debug";
	}
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields,
			       gsize n_fields, gpointer data)
{
	const char *msg = NULL;

	if ((level & G_LOG_LEVEL_DEBUG) && !log_debug)
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)))
		return g_log_writer_journald(level, fields, n_fields, data);
	for (gsize i = 0; i < n_fields; i++)
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			msg = fields[i].value;
	/* one line each: a name (from libvirt, a tenant, QEMU) with a newline
	 * or an escape sequence must not forge a line or drive a terminal */
	g_autofree char *line = vmt_name_escape(msg ? msg : "");
	fprintf(stderr, "%s[%d]: %s: %s\n", log_prog, (int)getpid(), level_name(level), line);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

void vmt_log_setup(const char *prog, gboolean debug)
{
	log_prog = prog;
	log_debug = debug;
	g_log_set_writer_func(writer, NULL, NULL);
}

gboolean vmt_log_debug_enabled(void)
{
	return log_debug;
}
