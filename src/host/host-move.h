/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* Moving a process's pages between NUMA nodes with move_pages(2), and
 * asking where they are (host layer). */

typedef struct {
	guint64 moved_pages;	/* now on the destination because of this call */
	guint64 already;	/* were there already */
	guint64 busy;		/* -EBUSY: in use or under I/O; try again later */
	guint64 access;		/* -EACCES/-EPERM: shared with other processes */
	guint64 nomem;		/* -ENOMEM: the destination is full */
	guint64 absent;		/* -EFAULT/-ENOENT: not present (never touched, zero page) */
	guint64 other;		/* any other per-page error */
	guint calls;		/* move_pages calls that moved something */
} VmtMoveResult;

/* Pages of [START, START+LEN) (4 KiB steps) of PID: *FAST those on a node N
 * with FAST_NODES[N] (N < N_NODES), *RESIDENT all present ones. */
gboolean vmt_host_move_placement(int pid, guint64 start, guint64 len, const gboolean *fast_nodes,
				 guint n_nodes, guint *fast, guint *resident, GError **error);

/* Move the present pages of [START, START+LEN) of PID to NODE, in batches,
 * and count every page by where it is afterwards (a THP moves whole: its
 * tail pages report -EBUSY while the head migrates them).  A full
 * destination counts as nomem.  Adds to RES.  Fails only if the process is
 * gone or move_pages itself fails otherwise. */
gboolean vmt_host_move_range(int pid, guint64 start, guint64 len, int node, VmtMoveResult *res,
			     GError **error);
/* The same for RANGES (VmtRange, page-aligned lengths), batched across
 * them: one window's chunks bound for NODE go in as few calls as fit.
 * Where pages are before comes from PID's pagemap (PFNs: needs
 * CAP_SYS_ADMIN, else move_pages' query), where they end up from the move's
 * own status (asking again only about pages it left unsaid or busy).
 * WHERE, when given, gets each of their pages' node afterwards (negative:
 * not present), in order: the placement without asking again. */
gboolean vmt_host_move_ranges(int pid, const GArray *ranges, int node, VmtMoveResult *res,
			      int *where, GError **error);
