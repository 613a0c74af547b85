/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* What every page-access scanner produces and the tiering engine consumes:
 * one access frequency per 2 MiB chunk of a guest's RAM, per scan window.
 *
 * A guest's RAM is a list of host-virtual ranges in QEMU (one per memory
 * backend).  Chunks number those ranges in order: range 0's chunks first,
 * each range cut into 2 MiB pieces from its start (a last piece may be
 * shorter).  QEMU maps RAM 2 MiB-aligned, so a chunk is a THP candidate. */

#define VMT_CHUNK_SHIFT 21
#define VMT_CHUNK_SIZE (G_GUINT64_CONSTANT(1) << VMT_CHUNK_SHIFT)
#define VMT_CHUNK_PAGES (VMT_CHUNK_SIZE / 4096)
/* Access frequency unit: permille of the window's samples that found the
 * chunk accessed (DAMON), or of its pages found accessed/written (bitmaps). */
#define VMT_ACCESS_MAX 1000

typedef struct {
	guint64 start, len;	/* host virtual addresses in the QEMU process */
} VmtRange;

/* At most this many ranges (memory backends) and chunks (256 TiB): the
 * ranges come from QEMU, which may lie. */
#define VMT_RANGES_MAX 64u
#define VMT_RANGES_MAX_CHUNKS (G_GUINT64_CONSTANT(1) << 27)

/* Chunks in R (a last partial one counts), without overflow. */
guint64 vmt_range_n_chunks(const VmtRange *r);
/* RANGES (VmtRange) are usable: at most VMT_RANGES_MAX, none empty, none
 * wrapping past 2^64, none overlapping, at most VMT_RANGES_MAX_CHUNKS
 * chunks in all (*N_CHUNKS, may be NULL).  Everything that sizes a
 * per-chunk array or walks chunks goes by this count. */
gboolean vmt_ranges_check(const GArray *ranges, guint *n_chunks, GError **error);
/* Chunks in RANGES as vmt_ranges_check counts them; 0 if it fails. */
guint vmt_ranges_n_chunks(const GArray *ranges);
/* Host virtual address and length of chunk I; FALSE if I is out of range. */
gboolean vmt_ranges_chunk(const GArray *ranges, guint i, guint64 *start, guint64 *len);
/* Chunk holding ADDR, or -1. */
gint64 vmt_ranges_find(const GArray *ranges, guint64 addr);
