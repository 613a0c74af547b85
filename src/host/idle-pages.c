// SPDX-License-Identifier: GPL-2.0-or-later
/* Decoder for /proc/PID/idle_pages of the RFC "PMEM NUMA node and hotness
 * accounting/migration" (v2, patches 15-17, ept_idle.h).
 *
 * The file is a byte stream of records read from the file position, a
 * virtual address.  A record byte holds a page type in its high nibble and
 * a count (1-15) of consecutive pages of that type in its low nibble; the
 * pages follow one another from a cursor.  The command byte 0xA0
 * (PIP_CMD_SET_HVA) is followed by a big-endian 64-bit address that moves
 * the cursor: the kernel writes it before the first record of every buffer
 * it fills and wherever it skipped unmapped space.  A huge-page record
 * covers the 2 MiB or 1 GiB page holding the cursor ("align kernel/user
 * vision of cursor position").  Holes cover no pages: they only move the
 * cursor (a leading hole is not even reported), so they are never "seen". */
#include <gio/gio.h>

#include "idle-pages.h"

enum {
	PTE_ACCESSED,	/* 4 KiB page */
	PMD_ACCESSED,	/* 2 MiB page */
	PUD_PRESENT,	/* 1 GiB page */
	PTE_DIRTY,
	PMD_DIRTY,
	PTE_IDLE,
	PMD_IDLE,
	PMD_IDLE_PTES,	/* a page table whose 512 PTEs are all idle */
	PTE_HOLE,
	PMD_HOLE,
	PIP_CMD,
};

#define PIP_CMD_SET_HVA (PIP_CMD << 4)
#define SET_HVA_LEN 9

static const struct {
	guint8 shift;
	gboolean present, accessed;
} types[PIP_CMD] = {
	[PTE_ACCESSED] = { 12, TRUE, TRUE },
	[PMD_ACCESSED] = { 21, TRUE, TRUE },
	/* the walk does not test a 1 GiB page's accessed bit: the RFC's own
	 * daemon counts it as accessed, and so do we */
	[PUD_PRESENT] = { 30, TRUE, TRUE },
	/* dirty implies accessed */
	[PTE_DIRTY] = { 12, TRUE, TRUE },
	[PMD_DIRTY] = { 21, TRUE, TRUE },
	[PTE_IDLE] = { 12, TRUE, FALSE },
	[PMD_IDLE] = { 21, TRUE, FALSE },
	[PMD_IDLE_PTES] = { 21, TRUE, FALSE },
	[PTE_HOLE] = { 12, FALSE, FALSE },
	[PMD_HOLE] = { 21, FALSE, FALSE },
};

/* Adds the 4 KiB pages of [START, END) that fall in RANGES to their chunks. */
static void add_pages(const GArray *ranges, guint64 start, guint64 end, gboolean accessed,
		      guint32 *acc, guint32 *seen)
{
	guint base = 0;

	for (guint k = 0; k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);
		guint64 lo = MAX(start, r->start), hi = MIN(end, r->start + r->len);

		for (guint64 a = lo, b; a < hi; a = b) {
			guint64 off = a - r->start;
			guint c = base + (guint)(off >> VMT_CHUNK_SHIFT);
			guint32 pages;

			b = MIN(hi, r->start + (off | (VMT_CHUNK_SIZE - 1)) + 1);
			pages = (guint32)((b - a) >> 12);
			seen[c] += pages;
			if (accessed)
				acc[c] += pages;
		}
		base += (guint)((r->len + VMT_CHUNK_SIZE - 1) >> VMT_CHUNK_SHIFT);
	}
}

gboolean vmt_idle_pages_decode(const guint8 *buf, gsize len, guint64 va_start,
			       const GArray *ranges, guint32 *accessed, guint32 *seen,
			       guint64 *next_va, GError **error)
{
	guint64 va = va_start;

	for (gsize off = 0; off < len;) {
		guint8 b = buf[off];
		guint type = b >> 4, n = b & 0xf;
		guint64 size, start;

		if (b == PIP_CMD_SET_HVA) {
			if (len - off < SET_HVA_LEN) {
				g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
					    "idle_pages: address record at offset %" G_GSIZE_FORMAT
					    " truncated (%" G_GSIZE_FORMAT " of %d bytes)",
					    off, len - off, SET_HVA_LEN);
				return FALSE;
			}
			va = 0;
			for (guint i = 1; i < SET_HVA_LEN; i++)
				va = va << 8 | buf[off + i];
			off += SET_HVA_LEN;
			continue;
		}
		if (type >= PIP_CMD || n == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "idle_pages: unknown record 0x%02x at offset %" G_GSIZE_FORMAT,
				    b, off);
			return FALSE;
		}
		size = G_GUINT64_CONSTANT(1) << types[type].shift;
		start = va & ~(size - 1);
		if (start + n * size <= start) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "idle_pages: record 0x%02x at offset %" G_GSIZE_FORMAT
				    " runs past the end of the address space", b, off);
			return FALSE;
		}
		if (types[type].present)
			add_pages(ranges, start, start + n * size, types[type].accessed, accessed, seen);
		va = start + n * size;
		off++;
	}
	*next_va = va;
	return TRUE;
}
