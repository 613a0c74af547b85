/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* A VM class as sold: xml-templates/classes/NAME.conf, group [class]. */
typedef struct {
	char *name;
	double dram_share;	/* of the VM's memory, when no DRAM quota is given */
	/* The promise: at least slo_target of the hot memory (up to the DRAM
	 * quota) served from DRAM in at least slo_intervals of the intervals.
	 * A class without these keys promises nothing (has_slo FALSE). */
	gboolean has_slo;
	double slo_target, slo_intervals;
	guint scan_interval_s, max_migrate_mbs;	/* 0: not set, the daemon's default */
	/* Warm-up: intervals that begin less than this after the guest's start
	 * (vmtierd's attach) are not judged, while the hot set comes into DRAM
	 * (the promise is about a warmed-up guest).  Unset: the default. */
	guint slo_grace_s;
} VmtClass;

#define VMT_CLASS_SLO_GRACE_S 300

/* DIR/NAME.conf.  Errors name the file and the bad key or value. */
VmtClass *vmt_class_load(const char *dir, const char *name, GError **error);
void vmt_class_free(VmtClass *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtClass, vmt_class_free)

/* Where classes live: $VMTIER_TEMPLATE_DIR/classes, else the installed
 * templates' classes directory. */
char *vmt_class_dir(void);
