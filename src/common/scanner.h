/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* The page-access scanners vmtierd samples guests with; the names are
 * vmtierd.conf's, status's and the history's. */
typedef enum {
	VMT_SCANNER_NONE,	/* none usable: guests are reported, not tiered */
	VMT_SCANNER_AUTO,	/* vmtierd.conf only: the best the host has */
	VMT_SCANNER_DAMON_VADDR,
	VMT_SCANNER_SOFT_DIRTY,
	VMT_SCANNER_PAGE_IDLE,
	VMT_SCANNER_IDLE_PAGES,
} VmtScanner;

/* NULL-ended, in the enum's order */
extern const char *const vmt_scanner_names[];

const char *vmt_scanner_name(VmtScanner s);
