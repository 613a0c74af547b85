// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: vmtierd.conf (vmt_daemon_config_load on a file holding the
 * bytes).  A file it accepts must keep every value in its documented range. */
#include "daemon-config.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VmtDaemonConfig) c = NULL;
	g_autoptr(GError) error = NULL;

	if (!path) {
		g_autofree char *dir = g_dir_make_tmp("fuzz-config-XXXXXX", NULL);
		if (!dir)
			abort();
		path = g_build_filename(dir, "vmtierd.conf", NULL);
	}
	if (!g_file_set_contents(path, (const char *)data, (gssize)size, NULL))
		abort();
	c = vmt_daemon_config_load(path, TRUE, &error);
	if (!c) {
		if (!error || !*error->message)
			abort();
		return 0;
	}
	if (!c->socket_path || !c->qmp_dir || (guint)c->offload > VMT_OFFLOAD_DAMOS ||
	    c->scanner < VMT_SCANNER_AUTO || c->scanner > VMT_SCANNER_IDLE_PAGES ||
	    c->min_interval_ms < 50 || c->max_interval_ms > 600000 ||
	    c->account_interval_s < 1 || c->account_interval_s > 86400 ||
	    c->params.decay_pct > 99 || c->params.promote_windows < 1)
		abort();
	return 0;
}
