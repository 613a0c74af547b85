// SPDX-License-Identifier: GPL-2.0-or-later
/* move_pages(2) wrappers; see host-move.h. */
#include "host-deadline.h"
#include "host-move.h"

#include <errno.h>
#include <gio/gio.h>
#include <numaif.h>
#include <limits.h>
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

		if (!vmt_host_deadline_check(error))
			return FALSE;
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

#define NOT_TRIED INT_MIN		/* status the kernel did not fill in */

/* Where a page that did not end up on NODE stands: its move status, or
 * busy when the kernel stopped before trying it (a positive return) */
static void tally_failed(VmtMoveResult *res, int st)
{
	switch (st) {
	case NOT_TRIED: case -EBUSY: res->busy++; break;
	case -EACCES: case -EPERM: res->access++; break;
	case -ENOMEM: res->nomem++; break;
	case -EFAULT: case -ENOENT: res->absent++; break;
	default: res->other++;
	}
}

/* The next page of RANGES (their whole 4 KiB pages, in order); *CUR and
 * *OFF say where the walk is.  Called no more often than they have pages. */
static guint64 next_page(const GArray *ranges, guint *cur, guint64 *off)
{
	const VmtRange *r;
	guint64 a;

	while ((r = &g_array_index(ranges, VmtRange, *cur))->len / PAGE <= *off / PAGE) {
		(*cur)++;
		*off = 0;
	}
	a = r->start + *off;
	*off += PAGE;
	return a;
}

gboolean vmt_host_move_ranges(int pid, const GArray *ranges, int node, VmtMoveResult *res,
			      int *where, GError **error)
{
	g_autofree void **addrs = g_new(void *, BATCH);
	g_autofree int *nodes = g_new(int, BATCH);
	g_autofree int *status = g_new(int, BATCH);
	g_autofree int *now = g_new(int, BATCH);
	g_autofree guint64 *idx = g_new(guint64, BATCH);
	guint64 pages = 0, off = 0;
	guint cur = 0;

	for (guint i = 0; i < ranges->len; i++)
		pages += g_array_index(ranges, VmtRange, i).len / PAGE;
	for (guint64 done = 0; done < pages;) {
		unsigned long k = (unsigned long)MIN((guint64)BATCH, pages - done), m = 0;
		guint64 moved_before = res->moved_pages;
		long r;

		if (!vmt_host_deadline_check(error))
			return FALSE;
		for (unsigned long i = 0; i < k; i++)
			addrs[i] = (void *)(uintptr_t)next_page(ranges, &cur, &off);
		done += k;
		/* skip what is absent or already there, so the counts are honest */
		if (!call_move_pages(pid, k, addrs, NULL, now, error))
			return FALSE;
		for (unsigned long i = 0; i < k; i++) {
			if (where)
				where[done - k + i] = now[i];
			if (now[i] == node) {
				res->already++;
			} else if (now[i] < 0) {
				res->absent++;
			} else {
				idx[m] = done - k + i;
				addrs[m++] = addrs[i];
			}
		}
		if (m == 0)
			continue;
		for (unsigned long i = 0; i < m; i++) {
			nodes[i] = node;
			status[i] = NOT_TRIED;
		}
		r = move_pages(pid, m, addrs, nodes, status, MPOL_MF_MOVE);
		if (r < 0 && errno == ENOMEM) {
			/* the destination is full: nothing of this batch moved */
			for (unsigned long i = 0; i < m; i++)
				status[i] = -ENOMEM;
		} else if (r < 0) {
			int e = errno;

			g_set_error(error, G_IO_ERROR,
				    e == ESRCH ? G_IO_ERROR_NOT_FOUND : g_io_error_from_errno(e),
				    "move_pages(pid %d): %s", pid, g_strerror(e));
			return FALSE;
		}
		/* judge every page by where it is now: THP tails report -EBUSY
		 * while their head moves them, and after a partial failure
		 * (r > 0) the kernel leaves later statuses unwritten */
		if (!call_move_pages(pid, m, addrs, NULL, now, error))
			return FALSE;
		for (unsigned long i = 0; i < m; i++) {
			if (where)
				where[idx[i]] = now[i];
			if (now[i] == node)
				res->moved_pages++;
			else
				tally_failed(res, status[i] == node ? NOT_TRIED : status[i]);
		}
		if (res->moved_pages > moved_before)
			res->calls++;
	}
	return TRUE;
}

gboolean vmt_host_move_range(int pid, guint64 start, guint64 len, int node, VmtMoveResult *res,
			     GError **error)
{
	g_autoptr(GArray) one = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	VmtRange r = { start, len };

	if (len == 0)
		return TRUE;
	g_array_append_val(one, r);
	return vmt_host_move_ranges(pid, one, node, res, NULL, error);
}
