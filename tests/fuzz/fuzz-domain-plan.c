// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the domain XML libvirt hands vmtier-hook on stdin, read for
 * vmtier's plan (vmt_domain_plan_read).  Any local user allowed to define
 * domains writes it and the hook runs as root while libvirt waits.  A plan
 * read must be whole (sizes, nodes, a backend); a refusal must say why. */
#include "domain-plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VmtTierPlan) plan = NULL;
	g_autoptr(GError) error = NULL;

	switch (vmt_domain_plan_read((const char *)data, size, "fuzz", &plan, &error)) {
	case VMT_DOMAIN_PLAN_NONE:
		if (plan || error)
			abort();
		break;
	case VMT_DOMAIN_PLAN_OK:
		if (!plan || error || plan->dram_bytes == 0 || plan->dram_nodes->len == 0 ||
		    (plan->backend == VMT_BACKEND_KMEM && plan->pmem_nodes->len == 0) ||
		    (plan->backend == VMT_BACKEND_DEVDAX && (!plan->devdax || !*plan->devdax)))
			abort();
		break;
	case VMT_DOMAIN_PLAN_BAD:
		if (plan || !error || !error->message || !*error->message)
			abort();
		break;
	}
	return 0;
}
