/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "tier-plan.h"

/* Admission, the one rule `vmtier define`, vmtierd's `set` and the libvirt
 * hook apply (docs/architecture.md, "Admission"):
 *
 * - the guests that count are the defined ones: a quota is promised when
 *   the guest is defined (the hook, which may not call libvirt, sees the
 *   running ones, a subset: define accepts => start accepts);
 * - DRAM: their quotas + this guest's + vmtierd.conf's dram_reserve fit the
 *   memory of this guest's DRAM nodes;
 * - slow tier (kmem): their kmem parts + this guest's fit its slow nodes (a
 *   devdax guest has its device to itself, checked at define);
 * - the nodes: its DRAM nodes are online DRAM, its slow nodes online slow
 *   memory, and `vmtier host check` has no error about any of them. */

typedef struct _VmtAdmission VmtAdmission;

VmtAdmission *vmt_admission_new(guint64 reserve);
void vmt_admission_free(VmtAdmission *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtAdmission, vmt_admission_free)

/* A guest that counts: its DRAM quota and, when KMEM, its slow-tier part.
 * A guest of the plan's own name is skipped when checking (it does not
 * count twice). */
void vmt_admission_count(VmtAdmission *a, const char *name, guint64 dram_bytes, guint64 pmem_bytes,
			 gboolean kmem);
guint64 vmt_admission_reserve(const VmtAdmission *a);

/* Whether plan P fits on HOST beside the counted guests; the error names
 * the node or the sums. */
gboolean vmt_admission_check(const VmtAdmission *a, const VmtTierPlan *p, const VmtHost *host,
			     GError **error);
