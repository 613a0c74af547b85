// SPDX-License-Identifier: GPL-2.0-or-later
/* The tier plan in a domain XML's vmtier <metadata>; see domain-plan.h. */
#include <gio/gio.h>

#include "domain-plan.h"
#include "domain-xml.h"
#include "nodeset.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

/* vmtier's <plan> in the domain's <metadata>, or NULL: not ours. */
static xmlNodePtr find_plan(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	for (xmlNodePtr md = root ? root->children : NULL; md; md = md->next) {
		if (md->type != XML_ELEMENT_NODE || strcmp((const char *)md->name, "metadata") != 0)
			continue;
		for (xmlNodePtr p = md->children; p; p = p->next)
			if (p->type == XML_ELEMENT_NODE && p->ns &&
			    strcmp((const char *)p->ns->href, VMT_XMLNS) == 0)
				return p;
	}
	return NULL;
}

static char *field(xmlNodePtr plan, const char *name)
{
	for (xmlNodePtr n = plan->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
			xmlChar *t = xmlNodeGetContent(n);
			char *s = g_strstrip(g_strdup((const char *)t));

			xmlFree(t);
			return s;
		}
	return g_strdup("");
}

static gboolean field_u64(xmlNodePtr plan, const char *name, guint64 min, guint64 *out,
			  GError **error)
{
	g_autofree char *text = field(plan, name);

	if (g_ascii_string_to_unsigned(text, 10, min, G_MAXUINT64, out, NULL))
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		    "bad <%s> '%s' in vmtier's metadata", name, text);
	return FALSE;
}

static gboolean field_nodes(xmlNodePtr plan, const char *name, GArray *into, GError **error)
{
	g_autofree char *text = field(plan, name);
	g_autoptr(GArray) ids = vmt_nodeset_parse(text, NULL);

	if (!ids || !ids->len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "bad <%s> '%s' in vmtier's metadata", name, text);
		return FALSE;
	}
	g_array_append_vals(into, ids->data, ids->len);
	return TRUE;
}

static VmtTierPlan *plan_from_xml(const char *name, xmlNodePtr plan, GError **error)
{
	g_autoptr(VmtTierPlan) p = vmt_tier_plan_new();

	p->name = g_strdup(name);
	g_free(p->backend);
	p->backend = field(plan, "backend");
	if (!field_u64(plan, "dram_bytes", 1, &p->dram_bytes, error) ||
	    !field_u64(plan, "pmem_bytes", 0, &p->pmem_bytes, error) ||
	    !field_nodes(plan, "dram_nodes", p->dram_nodes, error))
		return NULL;
	if (strcmp(p->backend, "devdax") == 0) {
		p->devdax = field(plan, "devdax");
		if (!*p->devdax) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "vmtier's metadata has backend devdax but no <devdax>");
			return NULL;
		}
	} else if (strcmp(p->backend, "kmem") == 0) {
		if (!field_nodes(plan, "pmem_nodes", p->pmem_nodes, error))
			return NULL;
	} else {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "bad <backend> '%s' in vmtier's metadata (kmem or devdax)", p->backend);
		return NULL;
	}
	return g_steal_pointer(&p);
}

VmtDomainPlanRead vmt_domain_plan_read(const char *xml, gsize len, const char *name,
				       VmtTierPlan **plan, GError **error)
{
	xmlDocPtr doc;
	xmlNodePtr el;

	*plan = NULL;
	if (len > G_MAXINT)
		len = 0;	/* the caller caps it far below; parse nothing */
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		g_autofree char *why = NULL;

		if (!memmem(xml, len, VMT_XMLNS, strlen(VMT_XMLNS)))
			return VMT_DOMAIN_PLAN_NONE;
		/* ours, judging by the text: what it asks for is unknown */
		why = g_strstrip(g_strdup(e && e->message ? e->message : "unknown error"));
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "its domain XML names vmtier's namespace but does not parse (%s)", why);
		return VMT_DOMAIN_PLAN_BAD;
	}
	el = find_plan(doc);
	if (el)
		*plan = plan_from_xml(name, el, error);
	xmlFreeDoc(doc);
	if (!el)
		return VMT_DOMAIN_PLAN_NONE;
	return *plan ? VMT_DOMAIN_PLAN_OK : VMT_DOMAIN_PLAN_BAD;
}
