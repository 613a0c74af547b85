// SPDX-License-Identifier: GPL-2.0-or-later
/* move_pages(2) wrappers; see host-move.h. */
#include "host-move.h"

#include <errno.h>
#include <gio/gio.h>
#include <numaif.h>
#include <stdint.h>

#define PAGE 4096u
#define BATCH 4096u	/* pages per move_pages call: 16 MiB */

static gboolean call_move_pages(int pid, unsigned long n, void **addrs, const int *nodes,
				int *status, GError **error)
{
	long r = move_pages(pid, n, addrs, nodes, status, MPOL_MF_MOVE);

	if (r < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, e == ESRCH ? G_IO_ERROR_NOT_FOUND : g_io_error_from_errno(e),
			    "move_pages(pid %d): %s", pid, g_strerror(e));
		return FALSE;
	}
	/* r > 0: pages that could not be moved; their status says why */
	return TRUE;
}

gboolean vmt_host_move_placement(int pid, guint64 start, guint64 len, const gboolean *fast_nodes,
				 guint n_nodes, guint *fast, guint *resident, GError **error)
{
	g_autofree void **addrs = g_new(void *, BATCH);
	g_autofree int *status = g_new(int, BATCH);
	guint64 pages = len / PAGE;

	*fast = *resident = 0;
	for (guint64 done = 0; done < pages;) {
		unsigned long k = (unsigned long)MIN((guint64)BATCH, pages - done);

		for (unsigned long i = 0; i < k; i++)
			addrs[i] = (void *)(uintptr_t)(start + (done + i) * PAGE);
		if (!call_move_pages(pid, k, addrs, NULL, status, error))
			return FALSE;
		for (unsigned long i = 0; i < k; i++) {
			if (status[i] < 0)
				continue;
			(*resident)++;
			if ((guint)status[i] < n_nodes && fast_nodes[status[i]])
				(*fast)++;
		}
		done += k;
	}
	return TRUE;
}

static void tally(VmtMoveResult *res, int st, int node)
{
	switch (st) {
	case -EBUSY: res->busy++; break;
	case -EACCES: case -EPERM: res->access++; break;
	case -ENOMEM: res->nomem++; break;
	case -EFAULT: case -ENOENT: res->absent++; break;
	default:
		if (st == node)
			res->moved_pages++;
		else
			res->other++;
	}
}

gboolean vmt_host_move_range(int pid, guint64 start, guint64 len, int node, VmtMoveResult *res,
			     GError **error)
{
	g_autofree void **addrs = g_new(void *, BATCH);
	g_autofree void **busy = g_new(void *, BATCH);
	g_autofree int *nodes = g_new(int, BATCH);
	g_autofree int *status = g_new(int, BATCH);
	g_autofree int *before = g_new(int, BATCH);
	guint64 pages = len / PAGE;

	for (guint64 done = 0; done < pages;) {
		unsigned long k = (unsigned long)MIN((guint64)BATCH, pages - done), m = 0, nb = 0;
		guint64 moved_before = res->moved_pages;

		for (unsigned long i = 0; i < k; i++)
			addrs[i] = (void *)(uintptr_t)(start + (done + i) * PAGE);
		done += k;
		/* skip what is absent or already there, so the counts are honest */
		if (!call_move_pages(pid, k, addrs, NULL, before, error))
			return FALSE;
		for (unsigned long i = 0; i < k; i++) {
			if (before[i] == node)
				res->already++;
			else if (before[i] < 0)
				res->absent++;
			else
				addrs[m++] = addrs[i];
		}
		if (m == 0)
			continue;
		for (unsigned long i = 0; i < m; i++)
			nodes[i] = node;
		if (!call_move_pages(pid, m, addrs, nodes, status, error))
			return FALSE;
		for (unsigned long i = 0; i < m; i++) {
			if (status[i] == -EBUSY)
				busy[nb++] = addrs[i];
			else
				tally(res, status[i], node);
		}
		/* THP tails and pages busy for a moment: judge by where they are now */
		if (nb && call_move_pages(pid, nb, busy, NULL, status, error)) {
			for (unsigned long i = 0; i < nb; i++)
				tally(res, status[i] == node ? node : -EBUSY, node);
		} else if (nb) {
			return FALSE;
		}
		if (res->moved_pages > moved_before)
			res->calls++;
	}
	return TRUE;
}
