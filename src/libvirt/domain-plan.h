/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "tier-plan.h"

/* Reading back the plan `vmtier define` keeps in a domain's <metadata>
 * from the domain XML libvirt gives its hooks (untrusted: any local user
 * who may define domains writes it). */

typedef enum {
	VMT_DOMAIN_PLAN_NONE,	/* not a vmtier domain */
	VMT_DOMAIN_PLAN_OK,	/* *PLAN */
	VMT_DOMAIN_PLAN_BAD,	/* vmtier's, but unreadable: *ERROR says why */
} VmtDomainPlanRead;

/* The plan in XML (LEN bytes, not NUL-terminated) of domain NAME.  XML
 * that does not parse is vmtier's only when it names vmtier's namespace. */
VmtDomainPlanRead vmt_domain_plan_read(const char *xml, gsize len, const char *name,
				       VmtTierPlan **plan, GError **error);
