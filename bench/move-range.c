// SPDX-License-Identifier: GPL-2.0-or-later
/* move-range PID START LENGTH NODE: move the present pages of
 * [START, START+LENGTH) of PID to NODE with vmtierd's mover
 * (vmt_host_move_range) and print its counts.  The quality benchmark puts
 * a guest's slow cell on the slow node with it when no memory policy may
 * (the kernel's NUMA balancing skips VMAs that have one). */
#include <gio/gio.h>

#include "host-move.h"

#include <stdio.h>
#include <stdlib.h>

/* a whole number in decimal or 0x-hex, in [LO, HI] */
static gboolean num(const char *s, guint64 lo, guint64 hi, guint64 *out)
{
	char *end;

	*out = g_ascii_strtoull(s, &end, 0);
	return *s && !*end && *out >= lo && *out <= hi;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	VmtMoveResult res = { 0 };
	guint64 start, len, pid, node;

	if (argc != 5 || !num(argv[1], 1, G_MAXINT, &pid) || !num(argv[2], 0, G_MAXUINT64, &start) ||
	    !num(argv[3], 1, G_MAXUINT64, &len) || !num(argv[4], 0, 63, &node)) {
		fprintf(stderr, "usage: move-range PID START LENGTH NODE\n");
		return 64;
	}
	if (!vmt_host_move_range((int)pid, start, len, (int)node, &res, &error)) {
		fprintf(stderr, "move-range: %s\n", error->message);
		return 1;
	}
	printf("moved=%" G_GUINT64_FORMAT " already=%" G_GUINT64_FORMAT " busy=%" G_GUINT64_FORMAT
	       " nomem=%" G_GUINT64_FORMAT " absent=%" G_GUINT64_FORMAT " other=%" G_GUINT64_FORMAT "\n",
	       res.moved_pages, res.already, res.busy, res.nomem, res.absent, res.other + res.access);
	return 0;
}
