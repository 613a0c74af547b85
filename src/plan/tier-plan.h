/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"

/* What `vmtier define` sells: a guest with DRAM_BYTES on DRAM node(s) and
 * PMEM_BYTES on slow node(s), chosen on a given host. */

typedef enum {
	VMT_PMEM_CLOSEST,	/* the slow node nearest the DRAM node (memkind DAX_KMEM) */
	VMT_PMEM_ALL,		/* every slow node (DAX_KMEM_ALL) */
	VMT_PMEM_PREFERRED,	/* nearest first, then by distance (DAX_KMEM_PREFERRED) */
} VmtPmemPolicy;

/* Where the guest's slow part lives; the names are the metadata's and
 * `vmtier list`'s. */
typedef enum {
	VMT_BACKEND_KMEM,	/* anonymous memory bound to slow NUMA nodes (moves) */
	VMT_BACKEND_DEVDAX,	/* an NVDIMM on a /dev/daxX.Y of its own (static) */
} VmtBackend;

const char *vmt_backend_name(VmtBackend b);
/* FALSE: TEXT is neither name */
gboolean vmt_backend_parse(const char *text, VmtBackend *out);

typedef struct {
	char *name, *tenant, *klass;
	guint64 dram_bytes, pmem_bytes;
	guint vcpus;
	VmtBackend backend;
	char *devdax;		/* "dax0.0" for the devdax backend */
	VmtPmemPolicy policy;
	GArray *dram_nodes;	/* int; chosen by resolve when empty */
	GArray *pmem_nodes;	/* int; for preferred: nearest first */
	/* --print-xml: node lists given are taken as they are, so XML can be
	 * prepared for a host whose slow memory is not online yet */
	gboolean print_only;
	/* filled by resolve, for the guest's <distances> and HMAT */
	int distance;
	guint dram_latency_ns, pmem_latency_ns, dram_bw_mbs, pmem_bw_mbs;
} VmtTierPlan;

VmtTierPlan *vmt_tier_plan_new(void);
void vmt_tier_plan_free(VmtTierPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtTierPlan, vmt_tier_plan_free)

const char *vmt_tier_plan_policy_name(VmtPmemPolicy p);
gboolean vmt_tier_plan_parse_policy(const char *text, VmtPmemPolicy *out, GError **error);
/* Domain names: 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-' (they
 * also name sockets and files). */
gboolean vmt_tier_plan_check_name(const char *name, GError **error);

/* DIR/NAME.conf: fills the plan's class and, if dram_bytes is 0, derives it
 * from the class's dram_share and pmem_bytes (rounded up to 2 MiB). */
gboolean vmt_tier_plan_apply_class(VmtTierPlan *p, const char *dir, const char *name, GError **error);

/* Pick and check nodes on HOST.  Needs a slow node with memory (for kmem)
 * or the named devdax device (for devdax). */
gboolean vmt_tier_plan_resolve(VmtTierPlan *p, const VmtHost *host, GError **error);
