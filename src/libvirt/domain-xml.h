/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "plan-meta.h"

typedef struct {
	const char *virt_type;		/* "kvm" or "qemu" */
	const char *kernel, *append;	/* direct kernel boot, or ... */
	const char *disk;		/* ... a disk image */
	const char *qmp_dir;		/* vmtierd's QMP socket goes to QMP_DIR/NAME.qmp */
} VmtDomainOpts;

/* The libvirt domain XML for PLAN, from TEMPLATE_DIR/domain.xml. */
char *vmt_domain_xml_build(const VmtTierPlan *plan, const VmtDomainOpts *opts,
			   const char *template_dir, GError **error);
