// SPDX-License-Identifier: GPL-2.0-or-later
#include "size.h"

char *vmt_size_format(guint64 bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	guint u = 0;

	while (v >= 1024 && u + 1 < G_N_ELEMENTS(units))
		v /= 1024, u++;
	if (u == 0 || v >= 100 || v == (guint64)v)
		return g_strdup_printf("%.0f %s", v, units[u]);
	return g_strdup_printf("%.1f %s", v, units[u]);
}
