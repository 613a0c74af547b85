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

#include <gio/gio.h>
#include <errno.h>
#include <string.h>

#define SIZE_ALIGN (2ull << 20)

static gboolean size_error(GError **error, const char *text, const char *why)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad size '%s': %s", text, why);
	return FALSE;
}

gboolean vmt_size_parse(const char *text, guint64 *out, GError **error)
{
	static const char units[] = "KMGTP";
	const char *p = text, *u;
	guint64 v;
	int shift;
	char *end;

	if (!g_ascii_isdigit(*p))
		return size_error(error, text, *p == '-' ? "negative" : "not a number with a unit (e.g. 16G)");
	errno = 0;
	v = g_ascii_strtoull(p, &end, 10);
	if (errno == ERANGE)
		return size_error(error, text, "too large");
	if (!*end)
		return size_error(error, text, "no unit (use K, M, G, T or P, binary)");
	/* 1.5G: a whole number of a smaller unit says the same exactly */
	if (*end == '.' || *end == ',')
		return size_error(error, text, "fractions are not accepted: write a whole number "
				  "of a smaller unit (1536M, not 1.5G)");
	u = strchr(units, g_ascii_toupper(*end));
	if (!u)
		return size_error(error, text, "unknown unit");
	end++;
	/* libvirt and virsh read GB as 10^9 bytes and G, GiB as 2^30: "16GB"
	 * would mean something else here than there, so it means nothing */
	if (strcmp(end, "B") == 0 || strcmp(end, "b") == 0) {
		g_autofree char *why = g_strdup_printf("%cB is ambiguous (libvirt reads powers of 10): "
						       "write %c or %ciB", g_ascii_toupper(end[-1]),
						       g_ascii_toupper(end[-1]), g_ascii_toupper(end[-1]));
		return size_error(error, text, why);
	}
	if (strcmp(end, "iB") != 0 && *end)
		return size_error(error, text, "unknown unit");
	shift = 10 * (int)(u - units + 1);
	if (v == 0)
		return size_error(error, text, "zero");
	/* 1 PiB is far beyond any host; the cap keeps sums of sizes from wrapping */
	if (v > ((1ull << 50) >> shift))
		return size_error(error, text, "too large (at most 1P)");
	v <<= shift;
	if (v % SIZE_ALIGN)
		return size_error(error, text, "not a multiple of 2 MiB");
	*out = v;
	return TRUE;
}
