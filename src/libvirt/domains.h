/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "admission.h"

/* vmtier-managed libvirt domains: those with vmtier's <metadata>. */

typedef struct {
	char *name, *tenant, *klass, *backend, *policy, *dram_nodes, *pmem_nodes, *state;
	char *devdax;		/* "dax0.0" for the devdax backend, else "" */
	char *uuid;		/* libvirt's, lower case: names its QMP socket ("" unknown) */
	guint64 dram_bytes, pmem_bytes;	/* the plan; dram_bytes is the quota */
	guint64 ram_bytes;	/* running: RAM in its NUMA cells (0: unknown) */
	gboolean pinned;	/* has host devices (VFIO): its memory is pinned */
	int id;			/* libvirt's id while it runs, else -1 */
	VmtTierPlan *plan;	/* its metadata read as a plan; NULL: see plan_error */
	char *plan_error;
} VmtDomainInfo;

void vmt_domain_info_free(VmtDomainInfo *d);

/* CGROUP (a cgroup v2 path, as in /proc/PID/cgroup) is in, or below, the
 * machine cgroup libvirt's QEMU driver gives the running domain with id ID:
 * "machine-qemu\x2dID\x2d....scope" under systemd (machined), else
 * "qemu-ID-....libvirt-qemu" (libvirt's own cgroups), and not below another
 * systemd unit (whose owner may name cgroups as it likes).  Domain ids are
 * unique among one libvirtd's running domains, so another domain's QEMU
 * fails. */
gboolean vmt_domains_check_cgroup(const char *cgroup, int id, GError **error);

virConnectPtr vmt_domains_connect(const char *uri, GError **error);
/* VmtDomainInfo* of every vmtier-managed domain, by name. */
GPtrArray *vmt_domains_list(virConnectPtr conn, GError **error);
/* Define XML, validated by libvirt against its schema. */
gboolean vmt_domains_define(virConnectPtr conn, const char *xml, GError **error);
/* Undefine a stopped vmtier-managed domain. */
gboolean vmt_domains_undefine(virConnectPtr conn, const char *name, GError **error);
/* Domain NAME's UUID as libvirt writes it (names its QMP socket). */
char *vmt_domains_uuid(virConnectPtr conn, const char *name, GError **error);
/* Record a new DRAM quota in a vmtier domain's metadata (persistent, and
 * live when it runs). */
gboolean vmt_domains_set_dram(virConnectPtr conn, const char *name, guint64 bytes, GError **error);
/* Write plan P as domain NAME's vmtier metadata (persistent, and live when
 * it runs), replacing any. */
gboolean vmt_domains_set_plan(virConnectPtr conn, const char *name, const VmtTierPlan *p,
			      GError **error);
/* Admission (admission.h) with every domain of DOMS (vmt_domains_list:
 * every vmtier domain libvirt has defined) counted on its plan's nodes, as
 * define, adopt and set do. */
VmtAdmission *vmt_domains_admission(const GPtrArray *doms, guint64 reserve);
