// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: size strings (vmt_size_parse, as --dram and dram_reserve
 * take them).  A size it accepts must be a non-zero multiple of 2 MiB that
 * formats back without trouble; a refusal must name the text. */
#include "size.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);	/* up to a NUL, as argv is */
	g_autoptr(GError) error = NULL;
	guint64 v = 0;

	if (vmt_size_parse(text, &v, &error)) {
		g_autofree char *shown = vmt_size_format(v);

		if (v == 0 || v % (2u << 20) || !shown)
			abort();
	} else if (!error || !error->message || !*error->message) {
		abort();
	}
	return 0;
}
