// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "error.h"
#include "nodeset.h"
#include "plan-meta.h"

#include <libxml/parser.h>
#include <string.h>

static gboolean is_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr vmt_plan_meta_find(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	for (xmlNodePtr md = root ? root->children : NULL; md; md = md->next) {
		if (!is_element(md, "metadata"))
			continue;
		for (xmlNodePtr p = md->children; p; p = p->next)
			if (p->type == XML_ELEMENT_NODE && p->ns &&
			    strcmp((const char *)p->ns->href, VMT_XMLNS) == 0)
				return p;
	}
	return NULL;
}

static xmlNodePtr element(xmlNodePtr plan, const char *name)
{
	for (xmlNodePtr n = plan->children; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

char *vmt_plan_meta_field(xmlNodePtr plan, const char *name)
{
	xmlNodePtr n = element(plan, name);
	xmlChar *t;
	char *s;

	if (!n)
		return g_strdup("");
	t = xmlNodeGetContent(n);
	s = g_strstrip(g_strdup(t ? (const char *)t : ""));
	xmlFree(t);
	return s;
}

static gboolean bad(GError **error, const char *name, const char *text)
{
	g_autofree char *shown = g_strescape(text, NULL);

	g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA, "bad <%s> '%s' in vmtier's metadata",
		    name, strlen(shown) > 80 ? "(too long)" : shown);
	return FALSE;
}

static gboolean field_u64(xmlNodePtr plan, const char *name, guint64 min, guint64 *out,
			  GError **error)
{
	g_autofree char *text = vmt_plan_meta_field(plan, name);

	return g_ascii_string_to_unsigned(text, 10, min, G_MAXUINT64, out, NULL) ||
	       bad(error, name, text);
}

static gboolean field_nodes(xmlNodePtr plan, const char *name, GArray *into, GError **error)
{
	g_autofree char *text = vmt_plan_meta_field(plan, name);
	g_autoptr(GArray) ids = vmt_nodeset_parse(text, NULL);

	if (!ids || !ids->len)
		return bad(error, name, text);
	g_array_append_vals(into, ids->data, ids->len);
	return TRUE;
}

VmtTierPlan *vmt_plan_meta_read(xmlNodePtr plan, const char *name, GError **error)
{
	g_autoptr(VmtTierPlan) p = vmt_tier_plan_new();
	g_autofree char *policy = vmt_plan_meta_field(plan, "pmem_policy");
	g_autofree char *klass = vmt_plan_meta_field(plan, "class");
	g_autofree char *backend = vmt_plan_meta_field(plan, "backend");

	p->name = g_strdup(name);
	g_free(p->tenant);
	p->tenant = vmt_plan_meta_field(plan, "tenant");
	p->klass = *klass ? g_steal_pointer(&klass) : NULL;
	if (*policy && !vmt_tier_plan_parse_policy(policy, &p->policy, NULL)) {
		bad(error, "pmem_policy", policy);
		return NULL;
	}
	if (!field_u64(plan, "dram_bytes", 1, &p->dram_bytes, error) ||
	    !field_u64(plan, "pmem_bytes", 0, &p->pmem_bytes, error) ||
	    !field_nodes(plan, "dram_nodes", p->dram_nodes, error))
		return NULL;
	if (!vmt_backend_parse(backend, &p->backend)) {
		g_autofree char *shown = g_strescape(backend, NULL);

		g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA,
			    "bad <backend> '%s' in vmtier's metadata (kmem or devdax)",
			    strlen(shown) > 80 ? "(too long)" : shown);
		return NULL;
	}
	if (p->backend == VMT_BACKEND_DEVDAX) {
		p->devdax = vmt_plan_meta_field(plan, "devdax");
		if (!*p->devdax) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA,
				    "vmtier's metadata has backend devdax but no <devdax>");
			return NULL;
		}
	} else if (!field_nodes(plan, "pmem_nodes", p->pmem_nodes, error)) {
		return NULL;
	}
	return g_steal_pointer(&p);
}

static xmlDocPtr parse(const char *xml, GError **error)
{
	xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
					    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
			    : NULL;

	if (!doc)
		g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA,
			    "vmtier's metadata is not XML");
	return doc;
}

VmtTierPlan *vmt_plan_meta_parse(const char *xml, const char *name, GError **error)
{
	xmlDocPtr doc = parse(xml, error);
	VmtTierPlan *p;

	if (!doc)
		return NULL;
	p = vmt_plan_meta_read(xmlDocGetRootElement(doc), name, error);
	xmlFreeDoc(doc);
	return p;
}

void vmt_plan_meta_write(xmlNodePtr md, const VmtTierPlan *p)
{
	xmlNodePtr plan = xmlNewChild(md, NULL, BAD_CAST "plan", NULL);
	xmlNsPtr ns = xmlNewNs(plan, BAD_CAST VMT_XMLNS, BAD_CAST VMT_XMLNS_PREFIX);
	g_autofree char *dram = g_strdup_printf("%" G_GUINT64_FORMAT, p->dram_bytes);
	g_autofree char *pmem = g_strdup_printf("%" G_GUINT64_FORMAT, p->pmem_bytes);
	g_autofree char *dn = vmt_nodeset_format(p->dram_nodes);
	g_autofree char *pn = vmt_nodeset_format(p->pmem_nodes);

	xmlSetNs(plan, ns);
	xmlNewTextChild(plan, ns, BAD_CAST "tenant", BAD_CAST p->tenant);
	if (p->klass)
		xmlNewTextChild(plan, ns, BAD_CAST "class", BAD_CAST p->klass);
	xmlNewTextChild(plan, ns, BAD_CAST "dram_bytes", BAD_CAST dram);
	xmlNewTextChild(plan, ns, BAD_CAST "pmem_bytes", BAD_CAST pmem);
	xmlNewTextChild(plan, ns, BAD_CAST "backend", BAD_CAST vmt_backend_name(p->backend));
	if (p->devdax)
		xmlNewTextChild(plan, ns, BAD_CAST "devdax", BAD_CAST p->devdax);
	xmlNewTextChild(plan, ns, BAD_CAST "pmem_policy", BAD_CAST vmt_tier_plan_policy_name(p->policy));
	xmlNewTextChild(plan, ns, BAD_CAST "dram_nodes", BAD_CAST dn);
	if (p->pmem_nodes->len)
		xmlNewTextChild(plan, ns, BAD_CAST "pmem_nodes", BAD_CAST pn);
}

char *vmt_plan_meta_set_dram(const char *xml, guint64 bytes, GError **error)
{
	xmlDocPtr doc = parse(xml, error);
	xmlNodePtr n;
	xmlBufferPtr buf;
	char *out;

	if (!doc)
		return NULL;
	n = element(xmlDocGetRootElement(doc), "dram_bytes");
	if (!n) {
		xmlFreeDoc(doc);
		g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA,
			    "vmtier's metadata has no <dram_bytes>");
		return NULL;
	}
	{
		g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, bytes);

		xmlNodeSetContent(n, BAD_CAST v);
	}
	buf = xmlBufferCreate();
	xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0);
	out = g_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return out;
}

void vmt_plan_meta_replace(xmlDocPtr doc, const VmtTierPlan *p)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), old, md = NULL;

	while ((old = vmt_plan_meta_find(doc))) {
		xmlUnlinkNode(old);
		xmlFreeNode(old);
	}
	for (xmlNodePtr n = root->children; n && !md; n = n->next)
		if (is_element(n, "metadata"))
			md = n;
	if (!md)
		md = xmlNewChild(root, NULL, BAD_CAST "metadata", NULL);
	vmt_plan_meta_write(md, p);
}

char *vmt_plan_meta_format(const VmtTierPlan *p, gboolean ns)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr md = xmlNewNode(NULL, BAD_CAST "metadata");
	xmlBufferPtr buf = xmlBufferCreate();
	char *out;

	xmlDocSetRootElement(doc, md);
	vmt_plan_meta_write(md, p);
	/* libvirt declares the namespace itself (with the prefix it is given)
	 * and refuses an element that already declares it */
	if (!ns) {
		for (xmlNodePtr n = md->children; n; n = n == md->children ? n->children : n->next)
			xmlSetNs(n, NULL);
		xmlFreeNsList(md->children->nsDef);
		md->children->nsDef = NULL;
	}
	xmlNodeDump(buf, doc, md->children, 0, 1);
	out = g_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return out;
}
