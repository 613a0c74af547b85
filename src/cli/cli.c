// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.h"

#include <stdio.h>

gboolean vmt_cli_parse(GOptionContext *ctx, const char *cmd, int *argc,
		       char ***argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *name = g_strdup_printf("vmtier %s", cmd);

	/* --help's usage line names the whole command, not argv[0] alone */
	if (!g_get_prgname())
		g_set_prgname(name);
	if (g_option_context_parse(ctx, argc, argv, &error))
		return TRUE;
	fprintf(stderr, "vmtier %s: %s\n", cmd, error->message);
	return FALSE;
}

static char *global_uri;

void vmt_cli_set_uri(const char *uri)
{
	g_free(global_uri);
	global_uri = g_strdup(uri);
}

const char *vmt_cli_uri(const char *given)
{
	const char *env = g_getenv("LIBVIRT_DEFAULT_URI");

	if (given)
		return given;
	if (global_uri)
		return global_uri;
	return env && *env ? env : "qemu:///system";
}
