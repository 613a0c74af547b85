/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libxml/tree.h>

#include "tier-plan.h"

/* `vmtier adopt`: what a domain made elsewhere (virt-install, virt-manager)
 * lacks for vmtier to tier it, and the edit that adds it.  Pure: the domain
 * XML in, problems or edited XML out; the CLI talks to libvirt. */

typedef struct {
	char *element;		/* "numatune/memnode cellid='1'" */
	char *found, *needed;	/* needed "": FOUND says it all */
	gboolean fixable;	/* by adopt --fix; else the operator's to change */
} VmtAdoptProblem;

void vmt_adopt_problem_free(VmtAdoptProblem *pr);
/* "ELEMENT: found FOUND, needs NEEDED" (or "ELEMENT: FOUND"), one line. */
char *vmt_adopt_problem_line(const VmtAdoptProblem *pr);

/* Checks the domain XML DOC for a tiered guest with plan P's DRAM quota
 * (P: dram_bytes, tenant and class set; dram_nodes and pmem_nodes as the
 * operator gave them, or empty).  Fills the rest of P: the name, vCPUs,
 * the slow part (the domain's RAM beyond the quota) and the nodes (the
 * domain's own where they are right on HOST, else those `vmtier define`
 * would choose).  Returns the VmtAdoptProblem list (empty: nothing is
 * missing), or NULL with ERROR when the domain cannot be tiered here. */
GPtrArray *vmt_domain_adopt_check(xmlDocPtr doc, VmtTierPlan *p, const VmtHost *host,
				  const char *qmp_dir, GError **error);

/* Rewrites DOC (checked, with fixable problems only) to P's layout: NUMA
 * cells, <numatune> and vmtierd's QMP socket.  Devices, CPU model, machine
 * type and the rest stay as they are. */
void vmt_domain_adopt_fix(xmlDocPtr doc, const VmtTierPlan *p, const char *qmp_dir);
