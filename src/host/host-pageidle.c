// SPDX-License-Identifier: GPL-2.0-or-later
/* page_idle scanner (Documentation/admin-guide/mm/idle_page_tracking.rst).
 *
 * The kernel keeps one idle flag per folio, on its head page: a tail page's
 * bit always reads 0 and writing it does nothing.  So every present page is
 * judged by its folio's head, found through /proc/kpageflags, and pages
 * idle tracking cannot see (not on an LRU list: the zero page, hugetlbfs)
 * count as not accessed and are not re-armed. */
#include <gio/gio.h>

#include "host-pagemap.h"
#include "host-scan.h"
#include "sysfs.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_LRU (G_GUINT64_CONSTANT(1) << 5)
#define KPF_COMPOUND_HEAD (G_GUINT64_CONSTANT(1) << 15)
#define KPF_COMPOUND_TAIL (G_GUINT64_CONSTANT(1) << 16)
/* a PMD-sized folio (THP) has 511 tails: its head is at most that far back */
#define MAX_TAILS 511u
/* words read around wanted ones rather than issuing another pread */
#define READ_GAP 64u
#define MAX_SPAN 4096u

static const char flags_path[] = "/proc/kpageflags";
static const char bitmap_path[] = "/sys/kernel/mm/page_idle/bitmap";

typedef struct {
	int pid, flags_fd, bitmap_fd;
	guint16 *freq;
	GArray *keys, *vals, *span;	/* guint64 scratch */
	guint64 state[VMT_CHUNK_PAGES];	/* pfn holding each page's idle flag, 0: none */
} PageIdle;

static gint cmp_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

static void sort_unique(GArray *a)
{
	guint n = 0;

	g_array_sort(a, cmp_u64);
	for (guint i = 0; i < a->len; i++)
		if (!n || g_array_index(a, guint64, i) != g_array_index(a, guint64, n - 1))
			g_array_index(a, guint64, n++) = g_array_index(a, guint64, i);
	g_array_set_size(a, n);
}

static guint64 *lookup(const PageIdle *s, guint64 key)
{
	guint64 *k = bsearch(&key, s->keys->data, s->keys->len, sizeof(guint64), cmp_u64);

	return k ? &g_array_index(s->vals, guint64, k - (guint64 *)(void *)s->keys->data) : NULL;
}

/* VALS[i] = 64-bit word number KEYS[i] of FD (sorted, unique keys), reading
 * runs of nearby words at once; words past the end of the file read 0. */
static gboolean read_words(PageIdle *s, int fd, const char *path, GError **error)
{
	g_array_set_size(s->vals, s->keys->len);
	for (guint a = 0, b; a < s->keys->len; a = b) {
		guint64 first = g_array_index(s->keys, guint64, a), n;
		gsize got;

		for (b = a + 1; b < s->keys->len; b++) {
			guint64 k = g_array_index(s->keys, guint64, b);
			if (k - g_array_index(s->keys, guint64, b - 1) > READ_GAP ||
			    k - first >= MAX_SPAN)
				break;
		}
		n = g_array_index(s->keys, guint64, b - 1) - first + 1;
		g_array_set_size(s->span, (guint)n);
		if (!vmt_host_pagemap_pread(fd, s->span->data, n * 8, first * 8, &got, path, 0, error))
			return FALSE;
		memset(s->span->data + got, 0, n * 8 - got);
		for (guint i = a; i < b; i++)
			g_array_index(s->vals, guint64, i) =
				g_array_index(s->span, guint64, g_array_index(s->keys, guint64, i) - first);
	}
	return TRUE;
}

/* The head of the folio holding tail page PFN, searched in the kpageflags
 * before it; 0 when there is none within reach (a gigantic hugetlb page). */
static gboolean find_head(PageIdle *s, guint64 pfn, guint64 *head, guint64 *head_flags,
			  GError **error)
{
	guint64 lo = pfn > MAX_TAILS ? pfn - MAX_TAILS : 0;
	guint64 words[MAX_TAILS];
	gsize got;

	*head = 0;
	if (!vmt_host_pagemap_pread(s->flags_fd, words, (pfn - lo) * 8, lo * 8, &got, flags_path, 0,
				    error))
		return FALSE;
	for (guint64 p = lo + got / 8; p-- > lo;) {
		guint64 f = words[p - lo];
		if (f & KPF_COMPOUND_TAIL)
			continue;
		if (f & KPF_COMPOUND_HEAD) {
			*head = p;
			*head_flags = f;
		}
		break;
	}
	return TRUE;
}

/* Fills s->state for the N entries; page I is judged by the folio head
 * that pfn s->state[I] is (0: absent or untracked). */
static gboolean resolve_heads(PageIdle *s, const guint64 *entries, guint n, GError **error)
{
	guint64 prev = 0, cur = 0, cur_flags = 0;

	g_array_set_size(s->keys, 0);
	for (guint i = 0; i < n; i++) {
		guint64 pfn = entries[i] & VMT_PM_PFN_MASK;

		if (!(entries[i] & VMT_PM_PRESENT))
			continue;
		if (!pfn) {
			g_autofree char *rel = g_strdup_printf("/proc/%d/pagemap", s->pid);
			g_autofree char *p = vmt_sysfs_path(rel);

			g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
				    "%s hides page frame numbers: page_idle needs CAP_SYS_ADMIN", p);
			return FALSE;
		}
		g_array_append_val(s->keys, pfn);
	}
	sort_unique(s->keys);
	if (!read_words(s, s->flags_fd, flags_path, error))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		guint64 pfn = entries[i] & VMT_PM_PFN_MASK, f, head = pfn, hf;

		s->state[i] = 0;
		if (!(entries[i] & VMT_PM_PRESENT)) {
			prev = cur = 0;
			continue;
		}
		f = hf = *lookup(s, pfn);
		/* a tail right after a page of its folio shares that page's head */
		if ((f & KPF_COMPOUND_TAIL) && cur && prev + 1 == pfn) {
			head = cur;
			hf = cur_flags;
		} else if ((f & KPF_COMPOUND_TAIL) && !find_head(s, pfn, &head, &hf, error)) {
			return FALSE;
		}
		cur = (f & (KPF_COMPOUND_HEAD | KPF_COMPOUND_TAIL)) ? head : 0;
		cur_flags = hf;
		prev = pfn;
		if (head && (hf & KPF_LRU))
			s->state[i] = head;
	}
	return TRUE;
}

/* Sets the idle bit of every tracked head: only whole runs of words that
 * hold one (a 0 bit written is no change in the kernel, but need not be
 * written at all). */
static gboolean rearm(PageIdle *s, guint n, GError **error)
{
	if (s->vals->len)
		memset(s->vals->data, 0, (gsize)s->vals->len * 8);
	for (guint i = 0; i < n; i++)
		if (s->state[i])
			*lookup(s, s->state[i] / 64) |= G_GUINT64_CONSTANT(1) << (s->state[i] % 64);
	for (guint a = 0, b; a < s->keys->len; a = b) {
		guint64 first = g_array_index(s->keys, guint64, a);

		for (b = a + 1; b < s->keys->len && g_array_index(s->keys, guint64, b) == first + (b - a);
		     b++)
			;
		if (!vmt_host_pagemap_pwrite(s->bitmap_fd, &g_array_index(s->vals, guint64, a),
					     (gsize)(b - a) * 8, first * 8, bitmap_path, 0, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean scan_chunk(guint chunk, guint64 va, const guint64 *entries, guint n,
			   gpointer data, GError **error)
{
	PageIdle *s = data;
	guint accessed = 0;

	if (!resolve_heads(s, entries, n, error))
		return FALSE;
	g_array_set_size(s->keys, 0);
	for (guint i = 0; i < n; i++)
		if (s->state[i]) {
			guint64 w = s->state[i] / 64;
			g_array_append_val(s->keys, w);
		}
	sort_unique(s->keys);
	if (!read_words(s, s->bitmap_fd, bitmap_path, error))
		return FALSE;
	for (guint i = 0; i < n; i++)
		if (s->state[i] && !((*lookup(s, s->state[i] / 64) >> (s->state[i] % 64)) & 1))
			accessed++;
	s->freq[chunk] = vmt_host_pagemap_permille(accessed, n);
	return rearm(s, n, error);
}

gboolean vmt_host_pageidle_collect(int pid, const GArray *ranges, guint16 *freq,
				   gboolean *valid, GError **error)
{
	PageIdle *s = g_new0(PageIdle, 1);
	gboolean ok = FALSE;

	s->pid = pid;
	s->freq = freq;
	s->keys = g_array_new(FALSE, FALSE, sizeof(guint64));
	s->vals = g_array_new(FALSE, FALSE, sizeof(guint64));
	s->span = g_array_new(FALSE, FALSE, sizeof(guint64));
	s->flags_fd = -1;
	s->bitmap_fd = vmt_host_pagemap_open(bitmap_path, O_RDWR, 0,
					     "the kernel lacks CONFIG_IDLE_PAGE_TRACKING", error);
	if (s->bitmap_fd >= 0)
		s->flags_fd = vmt_host_pagemap_open(flags_path, O_RDONLY, 0,
						    "the kernel lacks CONFIG_PROC_PAGE_MONITOR", error);
	if (s->flags_fd >= 0)
		ok = vmt_host_pagemap_walk(pid, ranges, scan_chunk, s, error);
	if (s->flags_fd >= 0)
		close(s->flags_fd);
	if (s->bitmap_fd >= 0)
		close(s->bitmap_fd);
	g_array_unref(s->keys);
	g_array_unref(s->vals);
	g_array_unref(s->span);
	g_free(s);
	if (ok)
		*valid = TRUE;
	return ok;
}
