/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* Page-access scanners that read per-page bitmaps of a process (procfs and
 * sysfs under the sysfs root, see sysfs.h; host layer).  Each fills
 * FREQ[vmt_ranges_n_chunks(RANGES)] with permille (access.h) of each chunk's
 * pages seen accessed (or written) since the previous call, then re-arms for
 * the next window.  They keep no state, so *VALID is always TRUE: the first
 * call after a (pid, ranges) change counts everything since the process
 * started (soft-dirty) or since the bits were last reset by anyone
 * (page_idle, idle_pages), and the caller must discard that window.  DAMON
 * vaddr lives in host-damon.h. */

/* soft-dirty: pagemap bit 55 says "written since clear_refs 4".  Write-only
 * evidence: reads are invisible.  A chunk's frequency is its present
 * soft-dirty pages over all its pages, present or not.  Re-arms by writing
 * "4" to /proc/PID/clear_refs (which clears the bit for the whole process). */
gboolean vmt_host_softdirty_collect(int pid, const GArray *ranges, guint16 *freq,
				    gboolean *valid, GError **error);

/* page_idle (CONFIG_IDLE_PAGE_TRACKING): PFNs from /proc/PID/pagemap (bits
 * 0-54, present bit 63; needs CAP_SYS_ADMIN), idle bits from
 * /sys/kernel/mm/page_idle/bitmap (one bit per PFN, 64-bit words).  A page
 * still idle was not accessed; re-arms by setting the idle bit of every
 * present page of the ranges.  The kernel keeps one flag per folio, so a
 * huge page's pages go by its head (found in /proc/kpageflags); pages idle
 * tracking cannot see (off the LRU: the zero page, hugetlbfs) count as not
 * accessed.  The denominator is all the chunk's pages. */
gboolean vmt_host_pageidle_collect(int pid, const GArray *ranges, guint16 *freq,
				   gboolean *valid, GError **error);

/* The seed kernel's /proc/PID/idle_pages (RFC "PMEM NUMA node and hotness
 * accounting/migration", patch 17): read for the ranges and decoded with
 * idle-pages.h; re-arms by the read itself as that patch does.  The
 * denominator is the pages the records report (holes are not pages). */
gboolean vmt_host_idlepages_collect(int pid, const GArray *ranges, guint16 *freq,
				    gboolean *valid, GError **error);
