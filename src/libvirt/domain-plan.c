// SPDX-License-Identifier: GPL-2.0-or-later
/* The tier plan in a domain XML's vmtier <metadata>; see domain-plan.h.
 * The hook's parse (libxml2, then plan-meta), which the fuzz target drives. */
#include <gio/gio.h>

#include "domain-plan.h"
#include "plan-meta.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

VmtDomainPlanRead vmt_domain_plan_read(const char *xml, gsize len, const char *name,
				       VmtTierPlan **plan, GError **error)
{
	g_autofree char *text = g_strndup(len ? xml : "", len);
	xmlDocPtr doc;
	xmlNodePtr el;
	VmtDomainPlanRead r;

	*plan = NULL;
	if (len > G_MAXINT)
		len = G_MAXINT;
	doc = xmlReadMemory(text, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		/* ours only when it names vmtier's namespace */
		const xmlError *e = xmlGetLastError();
		g_autofree char *why = NULL;

		if (!strstr(text, VMT_XMLNS))
			return VMT_DOMAIN_PLAN_NONE;
		why = g_strstrip(g_strdup(e && e->message ? e->message : "unknown error"));
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "its domain XML names vmtier's namespace but does not parse (%s)", why);
		return VMT_DOMAIN_PLAN_BAD;
	}
	el = vmt_plan_meta_find(doc);
	if (!el)
		r = VMT_DOMAIN_PLAN_NONE;
	else
		r = (*plan = vmt_plan_meta_read(el, name, error)) ? VMT_DOMAIN_PLAN_OK
								   : VMT_DOMAIN_PLAN_BAD;
	xmlFreeDoc(doc);
	return r;
}
