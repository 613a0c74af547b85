// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: class files (vmt_class_load on DIR/fuzz.conf holding the
 * bytes).  A class it accepts must hold shares in (0, 1] and an SLO only
 * with both of its keys. */
#include "class.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;

static gboolean share_ok(double v)
{
	return isfinite(v) && v > 0 && v <= 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VmtClass) c = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	if (!dir && !(dir = g_dir_make_tmp("fuzz-class-XXXXXX", NULL)))
		abort();
	path = g_build_filename(dir, "fuzz.conf", NULL);
	if (!g_file_set_contents(path, (const char *)data, (gssize)size, NULL))
		abort();
	c = vmt_class_load(dir, "fuzz", &error);
	if (!c) {
		if (!error || !*error->message)
			abort();
		return 0;
	}
	if ((c->dram_share != 0 && !share_ok(c->dram_share)) ||
	    (c->has_slo && (!share_ok(c->slo_target) || !share_ok(c->slo_intervals))))
		abort();
	return 0;
}
