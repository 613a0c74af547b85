// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.h"

#include <stdio.h>

gboolean vmt_cli_parse(GOptionContext *ctx, const char *cmd, int *argc,
		       char ***argv)
{
	g_autoptr(GError) error = NULL;

	if (g_option_context_parse(ctx, argc, argv, &error))
		return TRUE;
	fprintf(stderr, "vmtier %s: %s\n", cmd, error->message);
	return FALSE;
}
