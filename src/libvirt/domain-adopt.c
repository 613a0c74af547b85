// SPDX-License-Identifier: GPL-2.0-or-later
/* What `vmtier define` builds, checked in (and added to) a domain made
 * elsewhere: two guest NUMA cells (0 the DRAM quota with every vCPU, 1 the
 * slow part), <numatune> binding cell 0 to DRAM nodes and cell 1 to slow
 * nodes with both tiers in the global nodeset (cpuset.mems must allow
 * vmtierd's moves), movable memory, and vmtierd's QMP socket. */
#include <gio/gio.h>

#include "domain-adopt.h"
#include "domain-xml.h"
#include "names.h"
#include "nodeset.h"
#include "size.h"

#include <string.h>

#define ALIGN_2M_MASK ((2ull << 20) - 1)

void vmt_adopt_problem_free(VmtAdoptProblem *pr)
{
	if (!pr)
		return;
	g_free(pr->element);
	g_free(pr->found);
	g_free(pr->needed);
	g_free(pr);
}

char *vmt_adopt_problem_line(const VmtAdoptProblem *pr)
{
	if (!*pr->needed)
		return g_strdup_printf("%s: %s", pr->element, pr->found);
	return g_strdup_printf("%s: found %s, needs %s", pr->element, pr->found, pr->needed);
}

static void problem(GPtrArray *out, gboolean fixable, const char *element, char *found, char *needed)
{
	VmtAdoptProblem *pr = g_new0(VmtAdoptProblem, 1);

	pr->element = g_strdup(element);
	pr->found = found;
	pr->needed = needed;
	pr->fixable = fixable;
	g_ptr_array_add(out, pr);
}

static gboolean named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/* An attribute's value, escaped for a terminal ("" when absent). */
static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? vmt_name_escape((const char *)v) : g_strdup("");

	xmlFree(v);
	return s;
}

static char *text(xmlNodePtr n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *s = g_strstrip(g_strdup(v ? (const char *)v : ""));

	xmlFree(v);
	return s;
}

/* libvirt's memory units (virScaleInteger): KiB when none, K/KiB binary,
 * KB decimal, letters in either case. */
static gboolean memory_bytes(xmlNodePtr n, const char *value, guint64 *out)
{
	static const struct { const char *unit; guint64 scale; } units[] = {
		{ "b", 1 }, { "bytes", 1 },
		{ "k", 1ull << 10 }, { "KiB", 1ull << 10 }, { "KB", 1000 },
		{ "M", 1ull << 20 }, { "MiB", 1ull << 20 }, { "MB", 1000000 },
		{ "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { "GB", 1000000000 },
		{ "T", 1ull << 40 }, { "TiB", 1ull << 40 }, { "TB", 1000000000000ull },
	};
	g_autofree char *unit = prop(n, "unit");
	guint64 scale = 0, v;

	if (!*unit)
		scale = 1024;
	for (guint i = 0; i < G_N_ELEMENTS(units) && !scale; i++)
		if (g_ascii_strcasecmp(unit, units[i].unit) == 0)
			scale = units[i].scale;
	if (!scale || !g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64 / scale, &v, NULL))
		return FALSE;
	*out = v * scale;
	return TRUE;
}

static GPtrArray *cells_of(xmlNodePtr root)
{
	GPtrArray *cells = g_ptr_array_new();
	xmlNodePtr numa = child(child(root, "cpu"), "numa");

	for (xmlNodePtr n = numa ? numa->children : NULL; n; n = n->next)
		if (named(n, "cell"))
			g_ptr_array_add(cells, n);
	return cells;
}

static xmlNodePtr memnode(xmlNodePtr nt, int cell)
{
	g_autofree char *want = g_strdup_printf("%d", cell);

	for (xmlNodePtr n = nt ? nt->children : NULL; n; n = n->next) {
		g_autofree char *id = prop(n, "cellid");

		if (named(n, "memnode") && strcmp(id, want) == 0)
			return n;
	}
	return NULL;
}

static GArray *nodeset_of(xmlNodePtr n)
{
	g_autofree char *s = prop(n, "nodeset");

	return *s ? vmt_nodeset_parse(s, NULL) : NULL;
}

/* The nodes IDS are all DRAM (or all slow) nodes with memory on HOST. */
static gboolean nodes_are(const GArray *ids, gboolean slow, const VmtHost *host)
{
	for (guint i = 0; ids && i < ids->len; i++) {
		const VmtNode *n = vmt_host_node(host, g_array_index(ids, int, i));

		if (!n || vmt_node_is_slow(n) != slow || !n->total_bytes)
			return FALSE;
	}
	return ids && ids->len;
}

static gboolean same_nodes(const GArray *a, const GArray *b)
{
	return a && b && a->len == b->len && memcmp(a->data, b->data, a->len * sizeof(int)) == 0;
}

static gboolean holds(const GArray *set, const GArray *ids)
{
	for (guint i = 0; set && i < ids->len; i++)
		if (!vmt_nodeset_contains(set, g_array_index(ids, int, i)))
			return FALSE;
	return set != NULL;
}

static char *found_attrs(xmlNodePtr n, const char *a1, const char *a2)
{
	g_autofree char *v1 = prop(n, a1), *v2 = prop(n, a2);

	if (!n)
		return g_strdup("none");
	return g_strdup_printf("%s='%s' %s='%s'", a1, v1, a2, v2);
}

/* The domain's own node choices, where right for HOST, into P; its
 * operator's --dram-nodes/--pmem-nodes come first. */
static void take_nodes(xmlNodePtr nt, VmtTierPlan *p, const VmtHost *host)
{
	g_autoptr(GArray) dn = nodeset_of(memnode(nt, 0)), pn = nodeset_of(memnode(nt, 1));
	g_autofree char *mode = prop(memnode(nt, 1), "mode");

	if (!p->dram_nodes->len && nodes_are(dn, FALSE, host))
		g_array_append_vals(p->dram_nodes, dn->data, dn->len);
	if (!p->pmem_nodes->len && nodes_are(pn, TRUE, host)) {
		g_array_append_vals(p->pmem_nodes, pn->data, pn->len);
		p->policy = strcmp(mode, "preferred") == 0 ? VMT_PMEM_PREFERRED
			    : pn->len > 1 ? VMT_PMEM_ALL : VMT_PMEM_CLOSEST;
	}
}

static void check_numatune(xmlNodePtr root, const VmtTierPlan *p, GPtrArray *out)
{
	xmlNodePtr nt = child(root, "numatune"), gl = child(nt, "memory");
	g_autoptr(GArray) all = g_array_copy(p->dram_nodes);
	g_autoptr(GArray) have = nodeset_of(gl);
	g_autofree char *alln = NULL, *dn = vmt_nodeset_format(p->dram_nodes), *pn = NULL;
	g_autofree char *gmode = prop(gl, "mode"), *gplace = prop(gl, "placement");
	g_autofree char *m0 = prop(memnode(nt, 0), "mode"), *m1 = prop(memnode(nt, 1), "mode");
	g_autoptr(GArray) n0 = nodeset_of(memnode(nt, 0)), n1 = nodeset_of(memnode(nt, 1));
	g_autoptr(GArray) want1 = g_array_new(FALSE, FALSE, sizeof(int));
	const char *mode1;

	g_array_append_vals(all, p->pmem_nodes->data, p->pmem_nodes->len);
	vmt_nodeset_normalize(all);
	alln = vmt_nodeset_format(all);
	if (!gl || (*gmode && strcmp(gmode, "strict") != 0) || strcmp(gplace, "auto") == 0 ||
	    !holds(have, all))
		problem(out, TRUE, "numatune/memory",
			!gl ? g_strdup("none") : *gplace ? found_attrs(gl, "mode", "placement")
							 : found_attrs(gl, "mode", "nodeset"),
			g_strdup_printf("mode='strict' nodeset='%s' (both tiers: vmtierd moves pages "
					"between them)", alln));
	if (strcmp(m0, "strict") != 0 || !same_nodes(n0, p->dram_nodes))
		problem(out, TRUE, "numatune/memnode cellid='0'", found_attrs(memnode(nt, 0), "mode", "nodeset"),
			g_strdup_printf("mode='strict' nodeset='%s' (DRAM)", dn));
	/* as vmtier define binds it; the operator's strict or interleave over
	 * the same slow nodes is as good */
	if (p->policy == VMT_PMEM_PREFERRED) {
		g_array_append_val(want1, g_array_index(p->pmem_nodes, int, 0));
		mode1 = "preferred";
	} else {
		g_array_append_vals(want1, p->pmem_nodes->data, p->pmem_nodes->len);
		vmt_nodeset_normalize(want1);
		mode1 = p->pmem_nodes->len > 1 ? "interleave" : "strict";
	}
	pn = vmt_nodeset_format(want1);
	if (!same_nodes(n1, want1) || !(strcmp(m1, "strict") == 0 || strcmp(m1, "interleave") == 0 ||
					 strcmp(m1, mode1) == 0))
		problem(out, TRUE, "numatune/memnode cellid='1'", found_attrs(memnode(nt, 1), "mode", "nodeset"),
			g_strdup_printf("mode='%s' nodeset='%s' (slow memory)", mode1, pn));
}

static void check_cells(GPtrArray *cells, const VmtTierPlan *p, GPtrArray *out)
{
	g_autofree char *d = vmt_size_format(p->dram_bytes), *s = vmt_size_format(p->pmem_bytes);

	if (cells->len == 0) {
		problem(out, TRUE, "cpu/numa", g_strdup("no NUMA cells"),
			g_strdup_printf("cell 0 of %s (the DRAM quota, the vCPUs) and cell 1 of %s "
					"(slow memory)", d, s));
		return;
	}
	if (cells->len != 2) {
		problem(out, FALSE, "cpu/numa", g_strdup_printf("%u cells", cells->len),
			g_strdup("2 (cell 0 DRAM, cell 1 slow memory)"));
		return;
	}
	for (guint c = 0; c < 2; c++) {
		g_autofree char *mem = prop(cells->pdata[c], "memory"), *unit = prop(cells->pdata[c], "unit");
		g_autofree char *element = g_strdup_printf("cpu/numa/cell id='%u' memory", c);
		guint64 want = c ? p->pmem_bytes : p->dram_bytes, have = 0;

		if (!memory_bytes(cells->pdata[c], mem, &have) || have != want) {
			g_autofree char *h = vmt_size_format(have), *w = vmt_size_format(want);

			problem(out, TRUE, element,
				have ? g_strdup(h) : g_strdup_printf("'%s' unit '%s'", mem, unit),
				g_strdup_printf("%s (%s)", w, c ? "the rest: slow memory" : "the DRAM quota"));
		}
	}
}

static void check_devices(xmlNodePtr root, GPtrArray *out)
{
	xmlNodePtr mb = child(root, "memoryBacking"), devs = child(root, "devices");

	if (child(mb, "hugepages"))
		problem(out, FALSE, "memoryBacking/hugepages", g_strdup("present"),
			g_strdup("none (vmtierd moves normal and transparent huge pages; "
				 "hugetlbfs pools are per node)"));
	for (xmlNodePtr n = devs ? devs->children : NULL; n; n = n->next) {
		g_autofree char *model = prop(n, "model"), *type = prop(n, "type");

		if (named(n, "memory"))
			problem(out, FALSE, "devices/memory", g_strdup_printf("model='%s'", model),
				g_strdup("none (vmtier tiers the RAM of the two NUMA cells only)"));
		if (named(n, "hostdev") || (named(n, "interface") && strcmp(type, "hostdev") == 0))
			problem(out, FALSE, named(n, "hostdev") ? "devices/hostdev" : "devices/interface type='hostdev'",
				g_strdup("a host device (VFIO)"),
				g_strdup("none (VFIO pins all guest memory: no page can move)"));
	}
}

/* A <qemu:arg>'s value as it is ("" when none). */
static char *arg_value(xmlNodePtr arg)
{
	xmlChar *raw = arg ? xmlGetProp(arg, BAD_CAST "value") : NULL;
	char *v = g_strdup(raw ? (const char *)raw : "");

	xmlFree(raw);
	return v;
}

/* The <qemu:arg> after a -qmp on ROOT's <qemu:commandline> whose socket
 * is in QMP_DIR (vmtier's); NULL: none. */
static xmlNodePtr vmtier_qmp(xmlNodePtr root, const char *qmp_dir)
{
	xmlNodePtr cl = vmt_domain_xml_qemu_commandline(root, FALSE);
	g_autofree char *ours = g_strdup_printf("unix:%s/", qmp_dir);
	gboolean prev_qmp = FALSE;

	for (xmlNodePtr n = cl ? cl->children : NULL; n; n = n->next) {
		g_autofree char *v = NULL;

		if (!named(n, "arg"))
			continue;
		v = arg_value(n);
		if (prev_qmp && g_str_has_prefix(v, ours))
			return n;
		prev_qmp = strcmp(v, "-qmp") == 0;
	}
	return NULL;
}

/* The domain's <uuid>, which names its QMP socket; libvirt writes one into
 * every definition. */
static char *domain_uuid(xmlNodePtr root, GError **error)
{
	xmlNodePtr u = child(root, "uuid");
	g_autofree char *t = u ? text(u) : NULL;

	if (!u) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "the domain has no <uuid> (vmtierd's QMP socket is named after it): "
			    "adopt it once libvirt has defined it");
		return NULL;
	}
	if (!vmt_domain_xml_uuid_check("<uuid>", t, error))
		return NULL;
	return g_ascii_strdown(t, -1);	/* libvirt's spelling, the profile's */
}

/* The domain's name, vCPUs and RAM (its cells' when it has them) into P. */
static gboolean read_domain(xmlNodePtr root, GPtrArray *cells, VmtTierPlan *p, guint64 *ram,
			    GError **error)
{
	g_autofree char *name = text(child(root, "name")), *vcpu = text(child(root, "vcpu"));
	g_autofree char *mem = text(child(root, "memory"));
	guint64 v = 1;

	if (!vmt_tier_plan_check_name(name, error))
		return FALSE;
	if (p->name && strcmp(p->name, name) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "the XML is of domain '%s', not '%s'", name, p->name);
		return FALSE;
	}
	g_free(p->name);
	p->name = g_steal_pointer(&name);
	if (*vcpu && !g_ascii_string_to_unsigned(vcpu, 10, 1, 4096, &v, NULL)) {
		g_autofree char *shown = vmt_name_escape(vcpu);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad <vcpu> '%s'", shown);
		return FALSE;
	}
	p->vcpus = (guint)v;
	*ram = 0;
	for (guint c = 0; c < cells->len; c++) {
		g_autofree char *cm = prop(cells->pdata[c], "memory");
		guint64 b;

		if (!memory_bytes(cells->pdata[c], cm, &b) || b > G_MAXUINT64 - *ram) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "bad <cell> memory '%s' in cell %u", cm, c);
			return FALSE;
		}
		*ram += b;
	}
	if (!cells->len && !memory_bytes(child(root, "memory"), mem, ram)) {
		g_autofree char *shown = vmt_name_escape(mem);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad <memory> '%s'", shown);
		return FALSE;
	}
	return TRUE;
}

GPtrArray *vmt_domain_adopt_check(xmlDocPtr doc, VmtTierPlan *p, const VmtHost *host,
				  const char *qmp_dir, GError **error)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_adopt_problem_free);
	g_autoptr(GPtrArray) cells = NULL;
	g_autofree char *type = NULL, *qmp = NULL, *uuid = NULL;
	guint64 ram;

	if (!root || !named(root, "domain")) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a libvirt domain's XML");
		return NULL;
	}
	cells = cells_of(root);
	if (!read_domain(root, cells, p, &ram, error) || !(uuid = domain_uuid(root, error)))
		return NULL;
	if (p->dram_bytes >= ram) {
		g_autofree char *d = vmt_size_format(p->dram_bytes), *r = vmt_size_format(ram);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "--dram %s: needs less than %s's %s of RAM (the rest is its slow memory)",
			    d, p->name, r);
		return NULL;
	}
	p->pmem_bytes = ram - p->dram_bytes;
	p->backend = VMT_BACKEND_KMEM;
	take_nodes(child(root, "numatune"), p, host);
	if (!vmt_tier_plan_resolve(p, host, error))
		return NULL;
	type = prop(root, "type");
	if (strcmp(type, "kvm") != 0 && strcmp(type, "qemu") != 0)
		problem(out, FALSE, "domain type", g_strdup_printf("'%s'", type), g_strdup("'kvm' or 'qemu'"));
	if (ram & ALIGN_2M_MASK) {
		g_autofree char *r = vmt_size_format(ram);

		problem(out, FALSE, "memory", g_strdup_printf("%s (%" G_GUINT64_FORMAT " bytes)", r, ram),
			g_strdup("a multiple of 2 MiB (vmtierd moves 2 MiB chunks)"));
	}
	check_cells(cells, p, out);
	check_numatune(root, p, out);
	check_devices(root, out);
	qmp = vmt_domain_xml_qmp_arg(qmp_dir, uuid);
	{
		g_autofree char *had = arg_value(vmtier_qmp(root, qmp_dir));
		g_autofree char *shown = vmt_name_escape(had);	/* for a terminal */

		if (!*had)
			problem(out, TRUE, "qemu:commandline", g_strdup("no -qmp socket of vmtierd's"),
				g_strdup_printf("-qmp %s", qmp));
		else if (strcmp(had, qmp) != 0)	/* another guest's, or before sockets had UUIDs */
			problem(out, TRUE, "qemu:commandline", g_strdup_printf("-qmp %s", shown),
				g_strdup_printf("-qmp %s (named after its uuid)", qmp));
	}
	return g_steal_pointer(&out);
}

void vmt_domain_adopt_fix(xmlDocPtr doc, const VmtTierPlan *p, const char *qmp_dir)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), cpu, numa, nt;
	g_autoptr(GPtrArray) cells = cells_of(root);
	g_autofree char *uuid = domain_uuid(root, NULL);
	xmlNodePtr had = vmtier_qmp(root, qmp_dir);

	g_return_if_fail(uuid);	/* checked by vmt_domain_adopt_check */

	cpu = child(root, "cpu");
	if (!cpu)
		cpu = xmlNewChild(root, NULL, BAD_CAST "cpu", NULL);
	numa = child(cpu, "numa");
	if (!numa)
		numa = xmlNewChild(cpu, NULL, BAD_CAST "numa", NULL);
	if (!cells->len) {
		vmt_domain_xml_cells(numa, p);
	} else {
		for (guint c = 0; c < cells->len && c < 2; c++) {
			g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT,
							      (c ? p->pmem_bytes : p->dram_bytes) >> 10);

			xmlSetProp(cells->pdata[c], BAD_CAST "memory", BAD_CAST kib);
			xmlSetProp(cells->pdata[c], BAD_CAST "unit", BAD_CAST "KiB");
		}
	}
	/* the cells are vmtier's now: so are their bindings */
	nt = child(root, "numatune");
	if (!nt)
		nt = xmlNewChild(root, NULL, BAD_CAST "numatune", NULL);
	for (xmlNodePtr n = nt->children, next; n; n = next) {
		next = n->next;
		if (named(n, "memory") || named(n, "memnode")) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
	vmt_domain_xml_numatune(nt, p);
	if (had) {
		g_autofree char *qmp = vmt_domain_xml_qmp_arg(qmp_dir, uuid);

		xmlSetProp(had, BAD_CAST "value", BAD_CAST qmp);
	} else {
		vmt_domain_xml_add_qmp(root, qmp_dir, uuid);
	}
}
