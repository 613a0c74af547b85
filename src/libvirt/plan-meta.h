/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libxml/tree.h>

#include "tier-plan.h"

/* vmtier's <plan> in a domain's <metadata>: the one place it is read,
 * written and edited.  Anyone with libvirt access can edit it, so reading
 * checks every field. */

#define VMT_XMLNS "http://vmtier.dev/xmlns/plan/1"
#define VMT_XMLNS_PREFIX "vmtier"

/* vmtier's <plan> in the <metadata> of the domain XML DOC, or NULL: not ours. */
xmlNodePtr vmt_plan_meta_find(xmlDocPtr doc);
/* A field's text, stripped; "" when absent (for listing what is there). */
char *vmt_plan_meta_field(xmlNodePtr plan, const char *name);
/* The plan of domain NAME recorded in PLAN; an error names the bad field. */
VmtTierPlan *vmt_plan_meta_read(xmlNodePtr plan, const char *name, GError **error);
/* The same from the <plan> element's text (libvirt's virDomainGetMetadata). */
VmtTierPlan *vmt_plan_meta_parse(const char *xml, const char *name, GError **error);
/* P as a <plan> element under METADATA. */
void vmt_plan_meta_write(xmlNodePtr metadata, const VmtTierPlan *p);
/* P as the only vmtier <plan> of the domain XML DOC (its <metadata> made if
 * there is none). */
void vmt_plan_meta_replace(xmlDocPtr doc, const VmtTierPlan *p);
/* P as a <plan> element's text, indented: with NS as in a domain's XML,
 * without for libvirt's virDomainSetMetadata (which adds its own and
 * refuses a second). */
char *vmt_plan_meta_format(const VmtTierPlan *p, gboolean ns);
/* XML, a <plan> element's text, with its DRAM quota set to BYTES. */
char *vmt_plan_meta_set_dram(const char *xml, guint64 bytes, GError **error);
