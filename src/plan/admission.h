/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "tier-plan.h"

/* Admission, the one rule `vmtier define`, vmtierd's `set` and the libvirt
 * hook apply (docs/architecture.md, "Admission"):
 *
 * - the guests that count are the defined ones: a quota is promised when
 *   the guest is defined (the hook, which may not call libvirt, sees the
 *   running ones, a subset: define accepts => start accepts);
 * - where they count: a counted guest's DRAM quota counts against this
 *   guest's DRAM nodes when its DRAM node set overlaps them, its kmem part
 *   against this guest's slow nodes when its slow node set overlaps them,
 *   so guests on disjoint sockets do not add up.  Conservative: a guest
 *   spread over {0,1} counts whole against a plan on {0}.  A counted guest
 *   whose node sets are unknown counts against every node;
 * - DRAM: what counts + this guest's quota + vmtierd.conf's dram_reserve
 *   fit the memory of this guest's DRAM nodes;
 * - slow tier (kmem): what counts + this guest's kmem part fit its slow
 *   nodes (a devdax guest has its device to itself, checked at define);
 * - the nodes: its DRAM nodes are online DRAM, its slow nodes online slow
 *   memory, and `vmtier host check` has no error about any of them.
 *
 * Never an over-commit: memory on a node is only taken by guests bound to
 * it.  With every admitted guest checked so, no set S of nodes is promised
 * more than it has: if S holds this guest's nodes N, the guests in S that
 * overlap N fit N (this check) and the rest fit S minus N (earlier ones). */

typedef struct _VmtAdmission VmtAdmission;

VmtAdmission *vmt_admission_new(guint64 reserve);
void vmt_admission_free(VmtAdmission *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtAdmission, vmt_admission_free)

/* A guest that counts: its DRAM quota, bound to DRAM_NODES, and, when KMEM,
 * its slow-tier part, bound to SLOW_NODES.  A guest of the plan's own name
 * is skipped when checking (it does not count twice).  NULL or empty node
 * sets are unknown (a domain whose metadata does not read, an older
 * vmtierd's status): that part counts against every node, the safe side. */
void vmt_admission_count(VmtAdmission *a, const char *name, guint64 dram_bytes,
			 const GArray *dram_nodes, guint64 pmem_bytes, const GArray *slow_nodes,
			 gboolean kmem);
guint64 vmt_admission_reserve(const VmtAdmission *a);

/* Whether plan P fits on HOST beside the counted guests; the error names
 * the node or the sums. */
gboolean vmt_admission_check(const VmtAdmission *a, const VmtTierPlan *p, const VmtHost *host,
			     GError **error);
