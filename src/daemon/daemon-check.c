// SPDX-License-Identifier: GPL-2.0-or-later
/* What vmtierd refuses to start with beyond vmtierd.conf's own syntax: a
 * class file that does not read, a socket group that does not exist.
 * `vmtierd --check-config` (the unit's ExecStartPre) and the start share
 * it, so a configuration the check passes is one the daemon starts with. */
#include <gio/gio.h>

#include "class.h"
#include "daemon.h"
#include "daemon-private.h"

#include <grp.h>
#include <string.h>

char *vmt_daemon_class_dir(const VmtDaemonConfig *cfg)
{
	return *cfg->class_dir ? g_strdup(cfg->class_dir) : vmt_class_dir();
}

gboolean vmt_daemon_socket_gid(const char *name, gid_t *gid, GError **error)
{
	struct group *gr;

	*gid = (gid_t)-1;
	if (!*name)
		return TRUE;
	gr = getgrnam(name);
	if (!gr) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "socket_group: no group '%s'", name);
		return FALSE;
	}
	*gid = gr->gr_gid;
	return TRUE;
}

gboolean vmt_daemon_config_check(const VmtDaemonConfig *cfg, int *n_classes, GError **error)
{
	g_autofree char *dir = vmt_daemon_class_dir(cfg);
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) d = NULL;
	const char *file;
	gid_t gid;

	const char *conf = cfg->path ? cfg->path : vmt_daemon_config_default_path();

	*n_classes = -1;
	if (!vmt_daemon_socket_gid(cfg->socket_group, &gid, error)) {
		g_prefix_error(error, "%s: [daemon] ", conf);
		return FALSE;
	}
	d = g_dir_open(dir, 0, &local);
	if (!d) {
		/* the built-in default may be absent (an uninstalled build):
		 * then no guest has a class to read; a named one must exist */
		if (!*cfg->class_dir && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: [daemon] class_dir: %s", conf,
			    local->message);
		return FALSE;
	}
	*n_classes = 0;
	while ((file = g_dir_read_name(d))) {
		g_autofree char *name = NULL;
		g_autoptr(VmtClass) c = NULL;

		if (!g_str_has_suffix(file, ".conf"))
			continue;
		name = g_strndup(file, strlen(file) - strlen(".conf"));
		if (!(c = vmt_class_load(dir, name, error))) {
			/* its errors name the file, but for a name no class can have */
			if (!strstr((*error)->message, dir))
				g_prefix_error(error, "%s/%s: ", dir, file);
			return FALSE;
		}
		(*n_classes)++;
	}
	return TRUE;
}
