// SPDX-License-Identifier: GPL-2.0-or-later
#include "scanner.h"

const char *const vmt_scanner_names[] = {
	[VMT_SCANNER_NONE] = "none",
	[VMT_SCANNER_AUTO] = "auto",
	[VMT_SCANNER_DAMON_VADDR] = "damon-vaddr",
	[VMT_SCANNER_SOFT_DIRTY] = "soft-dirty",
	[VMT_SCANNER_PAGE_IDLE] = "page-idle",
	[VMT_SCANNER_IDLE_PAGES] = "idle-pages",
	NULL,
};

const char *vmt_scanner_name(VmtScanner s)
{
	return (guint)s <= VMT_SCANNER_IDLE_PAGES ? vmt_scanner_names[s] : "unknown";
}
