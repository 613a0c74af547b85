// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "admission.h"
#include "domains.h"
#include "plan-meta.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static void quiet(void *data, virErrorPtr err)
{
	/* libvirt prints errors itself by default; we report them once */
}

static gboolean virt_error(GError **error, const char *what)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, virGetLastErrorMessage());
	return FALSE;
}

void vmt_domain_info_free(VmtDomainInfo *d)
{
	if (!d)
		return;
	g_free(d->name);
	g_free(d->tenant);
	g_free(d->klass);
	g_free(d->backend);
	g_free(d->devdax);
	g_free(d->uuid);
	g_free(d->policy);
	g_free(d->dram_nodes);
	g_free(d->pmem_nodes);
	g_free(d->state);
	g_free(d->plan_error);
	vmt_tier_plan_free(d->plan);
	g_free(d);
}

virConnectPtr vmt_domains_connect(const char *uri, GError **error)
{
	virConnectPtr c;

	virSetErrorFunc(NULL, quiet);
	c = virConnectOpen(uri);
	if (!c)
		virt_error(error, "cannot connect to libvirt");
	return c;
}

static xmlNodePtr element(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static const char *state_name(int s)
{
	switch (s) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "shutting-down";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "suspended";
	case VIR_DOMAIN_SHUTOFF: return "shut-off";
	default: return "unknown";
	}
}

/* Guest RAM in the running domain's NUMA cells (libvirt has aligned them
 * by now), 0 if unknown: what QEMU's RAM backends must add up to. */
static guint64 cells_bytes(virDomainPtr dom)
{
	char *xml = virDomainGetXMLDesc(dom, 0);
	xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET) : NULL;
	xmlNodePtr n = doc ? xmlDocGetRootElement(doc) : NULL;
	guint64 sum = 0;
	gboolean ok = TRUE;

	free(xml);
	n = element(element(n, "cpu"), "numa");
	for (xmlNodePtr c = n ? n->children : NULL; c && ok; c = c->next) {
		xmlChar *mem, *unit;
		guint64 kib = 0;

		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "cell") != 0)
			continue;
		mem = xmlGetProp(c, BAD_CAST "memory");
		unit = xmlGetProp(c, BAD_CAST "unit");
		/* libvirt writes the live XML in KiB */
		ok = mem && (!unit || strcmp((const char *)unit, "KiB") == 0) &&
		     g_ascii_string_to_unsigned((const char *)mem, 10, 0, G_MAXUINT64 >> 12, &kib,
						NULL);
		sum += kib << 10;
		ok = ok && sum >= (kib << 10);
		xmlFree(mem);
		xmlFree(unit);
	}
	if (doc)
		xmlFreeDoc(doc);
	return ok ? sum : 0;
}

gboolean vmt_domains_check_cgroup(const char *cgroup, int id, GError **error)
{
	g_autofree char *scope = g_strdup_printf("machine-qemu\\x2d%d\\x2d", id);
	g_autofree char *own = g_strdup_printf("qemu-%d-", id);
	g_auto(GStrv) parts = g_strsplit(cgroup, "/", -1);

	for (char **p = parts; id >= 0 && *p; p++) {
		if ((g_str_has_prefix(*p, scope) && g_str_has_suffix(*p, ".scope")) ||
		    (g_str_has_prefix(*p, own) && g_str_has_suffix(*p, ".libvirt-qemu")))
			return TRUE;
		/* below a unit, cgroups are that unit's to name (delegation) */
		if (g_str_has_suffix(*p, ".service") || g_str_has_suffix(*p, ".scope"))
			break;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
		    "cgroup %s is not libvirt's machine cgroup of domain id %d", cgroup, id);
	return FALSE;
}

/* DOM's UUID as libvirt writes it (lower case: its profile's name); NULL
 * when libvirt cannot say. */
static char *uuid_of(virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN] = "";

	return virDomainGetUUIDString(dom, uuid) < 0 ? NULL : g_strdup(uuid);
}

static VmtDomainInfo *info_of(virDomainPtr dom)
{
	char *md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VMT_XMLNS, 0);
	xmlDocPtr doc;
	xmlNodePtr plan;
	VmtDomainInfo *d;
	g_autofree char *dram = NULL, *pmem = NULL;
	g_autoptr(GError) bad = NULL;
	int state = 0, reason;

	if (!md)
		return NULL;	/* not ours */
	doc = xmlReadMemory(md, (int)strlen(md), NULL, NULL, XML_PARSE_NONET);
	free(md);
	if (!doc)
		return NULL;
	plan = xmlDocGetRootElement(doc);
	d = g_new0(VmtDomainInfo, 1);
	d->name = g_strdup(virDomainGetName(dom));
	d->uuid = uuid_of(dom);
	if (!d->uuid)
		d->uuid = g_strdup("");	/* its QMP socket will not be found */
	d->tenant = vmt_plan_meta_field(plan, "tenant");
	d->klass = vmt_plan_meta_field(plan, "class");
	d->backend = vmt_plan_meta_field(plan, "backend");
	d->devdax = vmt_plan_meta_field(plan, "devdax");
	d->policy = vmt_plan_meta_field(plan, "pmem_policy");
	d->dram_nodes = vmt_plan_meta_field(plan, "dram_nodes");
	d->pmem_nodes = vmt_plan_meta_field(plan, "pmem_nodes");
	d->plan = vmt_plan_meta_read(plan, d->name, &bad);
	d->plan_error = bad ? g_strdup(bad->message) : NULL;
	/* what there is to list even when the plan does not read */
	dram = vmt_plan_meta_field(plan, "dram_bytes");
	pmem = vmt_plan_meta_field(plan, "pmem_bytes");
	d->dram_bytes = d->plan ? d->plan->dram_bytes : g_ascii_strtoull(dram, NULL, 10);
	d->pmem_bytes = d->plan ? d->plan->pmem_bytes : g_ascii_strtoull(pmem, NULL, 10);
	{	/* VFIO pins all guest memory: such pages never move */
		char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
		d->pinned = xml && (strstr(xml, "<hostdev") || strstr(xml, "type='hostdev'"));
		free(xml);
	}
	virDomainGetState(dom, &state, &reason, 0);
	d->state = g_strdup(state_name(state));
	d->id = virDomainGetID(dom) == (unsigned int)-1 ? -1 : (int)virDomainGetID(dom);
	if (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED)
		d->ram_bytes = cells_bytes(dom);
	xmlFreeDoc(doc);
	return d;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp((*(VmtDomainInfo *const *)a)->name, (*(VmtDomainInfo *const *)b)->name);
}

GPtrArray *vmt_domains_list(virConnectPtr conn, GError **error)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(conn, &doms, 0);
	GPtrArray *out;

	if (n < 0) {
		virt_error(error, "listing domains");
		return NULL;
	}
	out = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_domain_info_free);
	for (int i = 0; i < n; i++) {
		VmtDomainInfo *d = info_of(doms[i]);
		if (d)
			g_ptr_array_add(out, d);
		virDomainFree(doms[i]);
	}
	free(doms);
	g_ptr_array_sort(out, by_name);
	return out;
}

gboolean vmt_domains_define(virConnectPtr conn, const char *xml, GError **error)
{
	virDomainPtr dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);

	if (!dom)
		return virt_error(error, "libvirt refused the domain");
	virDomainFree(dom);
	return TRUE;
}

char *vmt_domains_uuid(virConnectPtr conn, const char *name, GError **error)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	char *uuid;

	if (!dom) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no domain '%s'", name);
		return NULL;
	}
	uuid = uuid_of(dom);
	virDomainFree(dom);
	if (!uuid)
		virt_error(error, "reading the domain's UUID");
	return uuid;
}

gboolean vmt_domains_undefine(virConnectPtr conn, const char *name, GError **error)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	VmtDomainInfo *d;
	gboolean ok;

	if (!dom) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no domain '%s'", name);
		return FALSE;
	}
	d = info_of(dom);
	if (!d) {
		virDomainFree(dom);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "'%s' is not a vmtier-managed domain", name);
		return FALSE;
	}
	if (virDomainIsActive(dom) == 1) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "'%s' is %s: stop it first (virsh destroy %s)", name, d->state, name);
		ok = FALSE;
	} else {
		ok = virDomainUndefine(dom) == 0 || virt_error(error, "undefine");
	}
	vmt_domain_info_free(d);
	virDomainFree(dom);
	return ok;
}

gboolean vmt_domains_set_dram(virConnectPtr conn, const char *name, guint64 bytes, GError **error)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	char *md = NULL;
	g_autofree char *edited = NULL;
	gboolean ok = FALSE;
	unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;

	if (!dom) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no domain '%s'", name);
		return FALSE;
	}
	md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VMT_XMLNS, 0);
	if (!md) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "'%s' is not a vmtier-managed domain", name);
		goto out;
	}
	edited = vmt_plan_meta_set_dram(md, bytes, error);
	if (!edited)
		goto out;
	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	ok = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, edited, VMT_XMLNS_PREFIX, VMT_XMLNS,
				  flags) == 0 || virt_error(error, "set metadata");
out:
	free(md);
	virDomainFree(dom);
	return ok;
}

gboolean vmt_domains_set_plan(virConnectPtr conn, const char *name, const VmtTierPlan *p,
			      GError **error)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	g_autofree char *md = vmt_plan_meta_format(p, FALSE);
	unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
	gboolean ok;

	if (!dom) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no domain '%s'", name);
		return FALSE;
	}
	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	ok = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, md, VMT_XMLNS_PREFIX, VMT_XMLNS,
				  flags) == 0 || virt_error(error, "set metadata");
	virDomainFree(dom);
	return ok;
}

VmtAdmission *vmt_domains_admission(const GPtrArray *doms, guint64 reserve)
{
	VmtAdmission *a = vmt_admission_new(reserve);

	for (guint i = 0; i < doms->len; i++) {
		const VmtDomainInfo *d = doms->pdata[i];

		/* the node sets of its metadata's plan; metadata that does not
		 * read as a plan (no node lists, edited by hand) gives none, and
		 * its sizes then count against every node */
		vmt_admission_count(a, d->name, d->dram_bytes, d->plan ? d->plan->dram_nodes : NULL,
				    d->pmem_bytes, d->plan ? d->plan->pmem_nodes : NULL,
				    strcmp(d->backend, "kmem") == 0);
	}
	return a;
}
