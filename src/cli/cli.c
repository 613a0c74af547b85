// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.h"
#include "ctl.h"
#include "daemon-config.h"

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

/* vmtierd.conf as the daemon reads it; a file that does not read is said
 * once and the defaults used (the daemon would not start with it). */
static VmtDaemonConfig *shared_config(const char *cmd)
{
	g_autoptr(GError) error = NULL;
	VmtDaemonConfig *cfg = vmt_daemon_config_load(vmt_daemon_config_client_path(), FALSE, &error);

	if (cfg)
		return cfg;
	fprintf(stderr, "vmtier %s: warning: %s; using vmtierd's defaults\n", cmd, error->message);
	return vmt_daemon_config_new_default();
}

char *vmt_cli_shared_path(const char *cmd, const char *given, VmtCliShared what)
{
	const char *env = g_getenv(what == VMT_CLI_SOCKET ? "VMTIER_SOCKET" : "VMTIER_HISTORY_DB");
	g_autoptr(VmtDaemonConfig) cfg = NULL;

	if (given)
		return g_strdup(given);
	if (env && *env)
		return g_strdup(env);
	cfg = shared_config(cmd);
	return g_strdup(what == VMT_CLI_SOCKET ? cfg->socket_path : cfg->history_db);
}
