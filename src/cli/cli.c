// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "config.h"
#include "cli.h"
#include "class.h"
#include "ctl.h"
#include "daemon-config.h"

#include "nodeset.h"

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

/* vmtierd.conf as the daemon reads it, read once per command (report asks
 * for its history store and its classes); a file that does not read is
 * said once and the defaults used (the daemon would not start with it). */
static const VmtDaemonConfig *shared_config(const char *cmd)
{
	static VmtDaemonConfig *cfg;
	g_autoptr(GError) error = NULL;

	if (cfg)
		return cfg;
	cfg = vmt_daemon_config_load(vmt_daemon_config_client_path(), FALSE, &error);
	if (!cfg) {
		fprintf(stderr, "vmtier %s: warning: %s; using vmtierd's defaults\n", cmd, error->message);
		cfg = vmt_daemon_config_new_default();
	}
	return cfg;
}

char *vmt_cli_shared_path(const char *cmd, const char *given, VmtCliShared what)
{
	const char *env = g_getenv(what == VMT_CLI_SOCKET ? "VMTIER_SOCKET" : "VMTIER_HISTORY_DB");
	const VmtDaemonConfig *cfg;

	if (given)
		return g_strdup(given);
	if (env && *env)
		return g_strdup(env);
	cfg = shared_config(cmd);
	return g_strdup(what == VMT_CLI_SOCKET ? cfg->socket_path : cfg->history_db);
}

char *vmt_cli_class_dir(const char *cmd)
{
	const VmtDaemonConfig *cfg = shared_config(cmd);

	return cfg->class_dir && *cfg->class_dir ? g_strdup(cfg->class_dir) : vmt_class_dir();
}

const char *vmt_cli_template_dir(void)
{
	const char *d = g_getenv("VMTIER_TEMPLATE_DIR");

	return d && *d ? d : VMT_TEMPLATEDIR;
}

gboolean vmt_cli_parse_nodes(const char *opt, const char *text, GArray *into, GError **error)
{
	g_autoptr(GArray) ids = vmt_nodeset_parse(text, error);

	if (!ids || !ids->len) {
		g_clear_error(error);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad %s '%s'", opt, text);
		return FALSE;
	}
	g_array_append_vals(into, ids->data, ids->len);
	return TRUE;
}
