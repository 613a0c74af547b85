/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* Decoder for the seed kernel's /proc/PID/idle_pages records (pure logic):
 * BUF/LEN as read starting at virtual address VA_START.  Adds, for every
 * page (4 KiB or huge) the records report as accessed, its pages to
 * ACCESSED[chunk] and, for every page they cover, to SEEN[chunk], where
 * chunks are those of RANGES (access.h); pages outside RANGES are ignored.
 * *NEXT_VA gets the address after the last decoded record.  Malformed input
 * (an unknown record type, a truncated record) is an error naming the offset. */
gboolean vmt_idle_pages_decode(const guint8 *buf, gsize len, guint64 va_start,
			       const GArray *ranges, guint32 *accessed, guint32 *seen,
			       guint64 *next_va, GError **error);
