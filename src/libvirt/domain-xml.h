/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "plan-meta.h"

typedef struct {
	const char *virt_type;		/* "kvm" or "qemu" */
	const char *kernel, *append;	/* direct kernel boot, or ... */
	const char *disk;		/* ... a disk image */
	const char *uuid;		/* libvirt's UUID of the domain (lower case) */
	const char *qmp_dir;		/* vmtierd's QMP socket: QMP_DIR/libvirt-UUID.qmp */
} VmtDomainOpts;

/* The libvirt domain XML for PLAN, from TEMPLATE_DIR/domain.xml. */
char *vmt_domain_xml_build(const VmtTierPlan *plan, const VmtDomainOpts *opts,
			   const char *template_dir, GError **error);

/* The pieces of it `vmtier adopt` puts into a domain made elsewhere. */
#define VMT_QEMU_XMLNS "http://libvirt.org/schemas/domain/qemu/1.0"
/* <memory> and a <memnode> per cell under <numatune> NT: both tiers in the
 * global nodeset, cell 0 on the DRAM nodes, cell 1 on the slow ones. */
void vmt_domain_xml_numatune(xmlNodePtr nt, const VmtTierPlan *p);
/* Cells 0 (DRAM, every vCPU) and 1 (slow) under <cpu><numa> NUMA, with the
 * host's distance and, where it reports them, HMAT figures. */
void vmt_domain_xml_cells(xmlNodePtr numa, const VmtTierPlan *p);
/* vmtierd's QMP socket of the domain with UUID: QMP_DIR/libvirt-UUID.qmp,
 * the name of its AppArmor profile; and as -qmp's argument. */
char *vmt_domain_xml_qmp_path(const char *qmp_dir, const char *uuid);
char *vmt_domain_xml_qmp_arg(const char *qmp_dir, const char *uuid);
/* UUID is a UUID (with dashes; callers write it in lower case, as libvirt
 * does: the AppArmor profile's name); WHAT names it in the error. */
gboolean vmt_domain_xml_uuid_check(const char *what, const char *uuid, GError **error);
/* <qemu:commandline> of the domain element ROOT (created when CREATE). */
xmlNodePtr vmt_domain_xml_qemu_commandline(xmlNodePtr root, gboolean create);
/* -qmp vmtierd's socket appended to ROOT's <qemu:commandline>. */
void vmt_domain_xml_add_qmp(xmlNodePtr root, const char *qmp_dir, const char *uuid);
