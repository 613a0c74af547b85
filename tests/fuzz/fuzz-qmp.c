// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: bytes from a QMP socket through the parser and the message
 * classifier.  The first byte picks the read size, the second the size
 * limit, so split reads and limits are explored too. */
#include "qmp-parser.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_msg(json_object *msg, gpointer user)
{
	const char *id;

	if (vmt_qmp_msg_classify(msg, &id) == VMT_QMP_MSG_ERROR)
		g_error_free(vmt_qmp_msg_to_error(msg));
	(*(guint *)user)++;
	json_object_put(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VmtQmpParser *p;
	gsize chunk, limit;
	guint n = 0;

	if (size < 2)
		return 0;
	chunk = (gsize)(data[0] % 64) + 1;
	limit = data[1] ? (gsize)data[1] * 64 : 1 << 20;
	data += 2, size -= 2;
	p = vmt_qmp_parser_new(limit);
	for (gsize off = 0; off < size; off += chunk)
		if (!vmt_qmp_parser_feed(p, (const char *)data + off, MIN(chunk, size - off),
					 on_msg, &n, NULL))
			break;
	vmt_qmp_parser_free(p);
	return 0;
}
