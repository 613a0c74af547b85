// SPDX-License-Identifier: GPL-2.0-or-later
/* move_pages(2) wrappers; see host-move.h. */
#include "host-deadline.h"
#include "error.h"
#include "host-move.h"
#include "host-pagemap.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <numaif.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u
#define BATCH 4096u	/* pages per move_pages call: 16 MiB */
#define NODES "/sys/devices/system/node"
#define BLOCK_SIZE "/sys/devices/system/memory/block_size_bytes"

/* move_pages(2) failed with E: ESRCH is the guest gone */
static void move_error(GError **error, int pid, int e)
{
	if (e == ESRCH)
		g_set_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE, "move_pages(pid %d): %s", pid,
			    g_strerror(e));
	else
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "move_pages(pid %d): %s", pid,
			    g_strerror(e));
}

static gboolean call_move_pages(int pid, unsigned long n, void **addrs, const int *nodes,
				int *status, GError **error)
{
	long r = move_pages(pid, n, addrs, nodes, status, MPOL_MF_MOVE);

	if (r < 0) {
		int e = errno;

		move_error(error, pid, e);
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
#define UNSURE (INT_MIN + 1)		/* pagemap cannot say: ask move_pages */

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

/* A present page's node from its PFN, without move_pages' query (which
 * takes the mmap lock and walks the page tables once per page: as costly as
 * moving a THP's worth of them): which node each memory block is on, read
 * once from sysfs and again when a PFN falls in a block not seen before
 * (memory onlined since). */
G_LOCK_DEFINE_STATIC(blocks);
static guint64 block_pages;		/* pages per memory block; 0: not read */
static GArray *block_node;		/* int per block index: its node, -1 none */

static void blocks_load(void)
{
	g_autoptr(GPtrArray) nodes = vmt_sysfs_list(NODES, "node");
	g_autofree char *bs = vmt_sysfs_read(BLOCK_SIZE, NULL);
	guint64 size = bs ? g_ascii_strtoull(bs, NULL, 16) : 0;	/* hex without 0x */

	if (!block_node)
		block_node = g_array_new(FALSE, FALSE, sizeof(int));
	g_array_set_size(block_node, 0);
	block_pages = size / PAGE;
	for (guint n = 0; block_pages && n < nodes->len; n++) {
		const char *id = (const char *)nodes->pdata[n] + strlen("node");
		g_autofree char *dir = g_strdup_printf(NODES "/%s", (const char *)nodes->pdata[n]);
		g_autoptr(GPtrArray) mem = NULL;

		if (!*id || strspn(id, "0123456789") != strlen(id))
			continue;
		mem = vmt_sysfs_list(dir, "memory");
		for (guint k = 0; k < mem->len; k++) {
			const char *idx = (const char *)mem->pdata[k] + strlen("memory");
			guint64 b;
			int none = -1, node = atoi(id);

			if (!*idx || strspn(idx, "0123456789") != strlen(idx))
				continue;
			b = g_ascii_strtoull(idx, NULL, 10);
			if (b >= 1u << 24)	/* 2 PiB of 128 MiB blocks: not a block */
				continue;
			while (block_node->len <= b)
				g_array_append_val(block_node, none);
			g_array_index(block_node, int, b) = node;
		}
	}
}

/* The node of each of ADDRS[0..N) of PID as its pagemap tells: a node,
 * -ENOENT (not mapped: nothing to move), or UNSURE (swapped, being
 * migrated, shared or the zero page, no PFN without CAP_SYS_ADMIN, a block
 * not known): those move_pages has to be asked about. */
static gboolean pagemap_nodes(int fd, const char *path, int pid, void **addrs, unsigned long n,
			      guint64 *entries, int *out, GError **error)
{
	gboolean reloaded = FALSE;

	for (unsigned long i = 0, j; i < n; i = j) {
		guint64 a = (guint64)(uintptr_t)addrs[i];
		gsize got;

		/* one read per run of consecutive pages */
		for (j = i + 1; j < n && (guint64)(uintptr_t)addrs[j] == a + (j - i) * PAGE; j++)
			;
		if (!vmt_host_pagemap_pread(fd, entries, (j - i) * sizeof(guint64),
					    a / PAGE * sizeof(guint64), &got, path, pid, error))
			return FALSE;
		for (unsigned long k = i; k < j; k++)
			out[k] = UNSURE;
		G_LOCK(blocks);
		for (unsigned long k = i; k < i + got / sizeof(guint64); k++) {
			guint64 e = entries[k - i], pfn = e & VMT_PM_PFN_MASK, b;

			if (!(e & (VMT_PM_PRESENT | VMT_PM_SWAP))) {
				out[k] = -ENOENT;
				continue;
			}
			if (!(e & VMT_PM_PRESENT) || !(e & VMT_PM_EXCLUSIVE) || pfn == 0)
				continue;
			if (!block_pages || ((b = pfn / block_pages) >= block_node->len ||
					     g_array_index(block_node, int, b) < 0)) {
				if (reloaded)
					continue;
				blocks_load();
				reloaded = TRUE;
				if (!block_pages || (b = pfn / block_pages) >= block_node->len)
					continue;
			}
			out[k] = g_array_index(block_node, int, b);
		}
		G_UNLOCK(blocks);
	}
	return TRUE;
}

/* move_pages' query for the pages of ADDRS whose OUT is UNSURE */
static gboolean query_unsure(int pid, void **addrs, unsigned long n, int *out, void **q,
			     int *st, GError **error)
{
	unsigned long m = 0;

	for (unsigned long i = 0; i < n; i++)
		if (out[i] == UNSURE)
			q[m++] = addrs[i];
	if (m == 0)
		return TRUE;
	if (!call_move_pages(pid, m, q, NULL, st, error))
		return FALSE;
	for (unsigned long i = 0, k = 0; i < n; i++)
		if (out[i] == UNSURE)
			out[i] = st[k++];
	return TRUE;
}

gboolean vmt_host_move_ranges(int pid, const GArray *ranges, int node, VmtMoveResult *res,
			      int *where, GError **error)
{
	g_autofree void **addrs = g_new(void *, BATCH);
	g_autofree void **q = g_new(void *, BATCH);
	g_autofree int *nodes = g_new(int, BATCH);
	g_autofree int *status = g_new(int, BATCH);
	g_autofree int *now = g_new(int, BATCH);
	g_autofree int *st = g_new(int, BATCH);
	g_autofree guint64 *idx = g_new(guint64, BATCH);
	g_autofree guint64 *entries = g_new(guint64, BATCH);
	g_autofree char *path = g_strdup_printf("/proc/%d/pagemap", pid);
	guint64 pages = 0, off = 0;
	guint cur = 0;
	int fd;

	for (guint i = 0; i < ranges->len; i++)
		pages += g_array_index(ranges, VmtRange, i).len / PAGE;
	if (pages == 0)
		return TRUE;
	if ((fd = vmt_host_pagemap_open(path, O_RDONLY, pid, "no pagemap", error)) < 0)
		return FALSE;
	for (guint64 done = 0; done < pages;) {
		unsigned long k = (unsigned long)MIN((guint64)BATCH, pages - done), m = 0;
		guint64 moved_before = res->moved_pages;
		long r;

		if (!vmt_host_deadline_check(error))
			return FALSE;
		for (unsigned long i = 0; i < k; i++)
			addrs[i] = (void *)(uintptr_t)next_page(ranges, &cur, &off);
		done += k;
		/* skip what is absent or already there, so the counts are honest:
		 * where pages are before, from pagemap and what it cannot say
		 * from move_pages' query */
		if (!pagemap_nodes(fd, path, pid, addrs, k, entries, now, error) ||
		    !query_unsure(pid, addrs, k, now, q, st, error)) {
			close(fd);
			return FALSE;
		}
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
		if (r < 0 && errno != ENOMEM) {
			int e = errno;

			move_error(error, pid, e);
			close(fd);
			return FALSE;
		}
		/* the status says where each page ended up, but for pages the
		 * kernel did not get to (it stops at a partial failure, and a
		 * full destination fails the call) and -EBUSY, which is also
		 * what a THP's tail page reports while its head moves it:
		 * those are asked about again */
		for (unsigned long i = 0; i < m; i++) {
			if (r < 0 && status[i] == NOT_TRIED)
				status[i] = -ENOMEM;
			now[i] = status[i] == node ? node
				 : status[i] == NOT_TRIED || status[i] == -EBUSY || status[i] == -ENOMEM
				 ? UNSURE : status[i];
		}
		if (!query_unsure(pid, addrs, m, now, q, st, error)) {
			close(fd);
			return FALSE;
		}
		for (unsigned long i = 0; i < m; i++) {
			/* a page refused (-EACCES, ...) is where it was */
			if (where && (now[i] >= 0 || now[i] == -ENOENT || now[i] == -EFAULT))
				where[idx[i]] = now[i];
			if (now[i] == node)
				res->moved_pages++;
			else
				tally_failed(res, status[i] == node ? NOT_TRIED : status[i]);
		}
		if (res->moved_pages > moved_before)
			res->calls++;
	}
	close(fd);
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
