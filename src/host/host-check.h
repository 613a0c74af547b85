/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"

typedef enum {
	VMT_SEVERITY_INFO,
	VMT_SEVERITY_WARNING,
	VMT_SEVERITY_ERROR,
} VmtSeverity;

/* One finding of `vmtier host check`: what is wrong, why it matters to
 * tiering, and the exact fix.  ids are stable (tests and scripts use them). */
typedef struct {
	char *id;
	VmtSeverity severity;
	char *subject;		/* "node2", "dax0.0", "host" */
	char *what, *why, *fix;
} VmtFinding;

void vmt_finding_free(VmtFinding *f);
const char *vmt_severity_name(VmtSeverity s);

/* All findings for HOST, errors first; an "access-interfaces" info finding
 * is always present. */
GPtrArray *vmt_host_check_run(const VmtHost *host);
VmtSeverity vmt_host_check_worst(const GPtrArray *findings);
