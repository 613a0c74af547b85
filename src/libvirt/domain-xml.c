// SPDX-License-Identifier: GPL-2.0-or-later
/* Fill xml-templates/domain.xml for a tier plan.  All text goes through
 * libxml2's tree API, so names, tenants and paths are always escaped. */
#include <gio/gio.h>

#include "domain-xml.h"
#include "names.h"
#include "nodeset.h"

#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

	if (text)
		xmlNodeAddContent(n, BAD_CAST text);	/* escapes */
	return n;
}

static void attr(xmlNodePtr n, const char *name, const char *value)
{
	xmlSetProp(n, BAD_CAST name, BAD_CAST value);	/* escapes */
}

static void attr_u64(xmlNodePtr n, const char *name, guint64 v)
{
	g_autofree char *s = g_strdup_printf("%" G_GUINT64_FORMAT, v);
	attr(n, name, s);
}

static void set_text(xmlNodePtr n, const char *text)
{
	xmlNodeSetContent(n, NULL);
	xmlNodeAddContent(n, BAD_CAST text);
}

void vmt_domain_xml_numatune(xmlNodePtr nt, const VmtTierPlan *p)
{
	gboolean kmem = p->backend == VMT_BACKEND_KMEM;
	g_autoptr(GArray) all = g_array_copy(p->dram_nodes);
	g_autofree char *dn = vmt_nodeset_format(p->dram_nodes), *pn = NULL, *alln = NULL;
	xmlNodePtr m;

	/* the global nodeset holds both tiers: cpuset.mems must allow
	 * vmtierd's move_pages between them */
	if (kmem)
		g_array_append_vals(all, p->pmem_nodes->data, p->pmem_nodes->len);
	vmt_nodeset_normalize(all);
	alln = vmt_nodeset_format(all);
	m = add(nt, "memory", NULL);
	attr(m, "mode", "strict");
	attr(m, "nodeset", alln);
	m = add(nt, "memnode", NULL);
	attr(m, "cellid", "0");
	attr(m, "mode", "strict");
	attr(m, "nodeset", dn);
	if (!kmem)
		return;
	m = add(nt, "memnode", NULL);
	attr(m, "cellid", "1");
	if (p->policy == VMT_PMEM_PREFERRED) {
		/* libvirt's preferred takes one node; the kernel falls back by distance */
		pn = g_strdup_printf("%d", g_array_index(p->pmem_nodes, int, 0));
		attr(m, "mode", "preferred");
	} else {
		pn = vmt_nodeset_format(p->pmem_nodes);
		attr(m, "mode", p->pmem_nodes->len > 1 ? "interleave" : "strict");
	}
	attr(m, "nodeset", pn);
}

void vmt_domain_xml_cells(xmlNodePtr numa, const VmtTierPlan *p)
{
	gboolean kmem = p->backend == VMT_BACKEND_KMEM;
	g_autofree char *cpus = p->vcpus > 1 ? g_strdup_printf("0-%u", p->vcpus - 1) : g_strdup("0");
	g_autofree char *dist = g_strdup_printf("%d", p->distance);
	xmlNodePtr cell, d, s, ic;
	/* devdax: libvirt wants memory in every cell; node 1's real memory is
	 * the NVDIMM, so its cell gets a token 2 MiB */
	guint64 cell_kib[2] = { p->dram_bytes >> 10, kmem ? p->pmem_bytes >> 10 : 2048 };

	for (int c = 0; c < 2; c++) {
		cell = add(numa, "cell", NULL);
		attr(cell, "id", c ? "1" : "0");
		if (c == 0)
			attr(cell, "cpus", cpus);
		attr_u64(cell, "memory", cell_kib[c]);
		attr(cell, "unit", "KiB");
		d = add(cell, "distances", NULL);
		for (int o = 0; o < 2; o++) {
			s = add(d, "sibling", NULL);
			attr(s, "id", o ? "1" : "0");
			attr(s, "value", o == c ? "10" : dist);
		}
	}
	if (!kmem || !p->dram_latency_ns || !p->pmem_latency_ns)
		return;	/* HMAT only where the host reports it */
	ic = add(numa, "interconnects", NULL);
	for (int t = 0; t < 2; t++) {
		xmlNodePtr l = add(ic, "latency", NULL);
		g_autofree char *v = g_strdup_printf("%u", t ? p->pmem_latency_ns : p->dram_latency_ns);
		attr(l, "initiator", "0");
		attr(l, "target", t ? "1" : "0");
		attr(l, "type", "access");
		attr(l, "value", v);
	}
	for (int t = 0; t < 2; t++) {
		guint mbs = t ? p->pmem_bw_mbs : p->dram_bw_mbs;
		xmlNodePtr b;
		if (!mbs)
			continue;
		b = add(ic, "bandwidth", NULL);
		attr(b, "initiator", "0");
		attr(b, "target", t ? "1" : "0");
		attr(b, "type", "access");
		attr_u64(b, "value", (guint64)mbs * 1024);
		attr(b, "unit", "KiB");
	}
}

/* Named after the domain's AppArmor profile (virt-aa-helper's
 * libvirt-UUID), so vmtier-qemu's one rule @{profile_name}.qmp lets each
 * QEMU create its own socket and no other guest's. */
char *vmt_domain_xml_qmp_path(const char *qmp_dir, const char *uuid)
{
	return g_strdup_printf("%s/libvirt-%s.qmp", qmp_dir, uuid);
}

char *vmt_domain_xml_qmp_arg(const char *qmp_dir, const char *uuid)
{
	g_autofree char *path = vmt_domain_xml_qmp_path(qmp_dir, uuid);

	return g_strdup_printf("unix:%s,server=on,wait=off", path);
}

gboolean vmt_domain_xml_uuid_check(const char *what, const char *uuid, GError **error)
{
	g_autofree char *shown = NULL;

	if (g_uuid_string_is_valid(uuid))
		return TRUE;
	shown = vmt_name_escape(uuid);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "bad %s '%s': not a UUID (like 3f2a6c1e-8d4b-4e2a-9c1d-5b7e0a9f4c21)", what, shown);
	return FALSE;
}

xmlNodePtr vmt_domain_xml_qemu_commandline(xmlNodePtr root, gboolean create)
{
	for (xmlNodePtr n = root->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns &&
		    strcmp((const char *)n->ns->href, VMT_QEMU_XMLNS) == 0 &&
		    strcmp((const char *)n->name, "commandline") == 0)
			return n;
	if (!create)
		return NULL;
	{
		xmlNsPtr qns = xmlSearchNsByHref(root->doc, root, BAD_CAST VMT_QEMU_XMLNS);

		/* libvirt wants the qemu namespace declared on <domain> */
		if (!qns)
			qns = xmlNewNs(root, BAD_CAST VMT_QEMU_XMLNS, BAD_CAST "qemu");
		return xmlNewChild(root, qns, BAD_CAST "commandline", NULL);
	}
}

void vmt_domain_xml_add_qmp(xmlNodePtr root, const char *qmp_dir, const char *uuid)
{
	xmlNodePtr cl = vmt_domain_xml_qemu_commandline(root, TRUE);
	g_autofree char *qmp = vmt_domain_xml_qmp_arg(qmp_dir, uuid);
	xmlNodePtr a;

	a = xmlNewChild(cl, cl->ns, BAD_CAST "arg", NULL);
	attr(a, "value", "-qmp");
	a = xmlNewChild(cl, cl->ns, BAD_CAST "arg", NULL);
	attr(a, "value", qmp);
}

/* XML 1.0 cannot hold most control characters, not even escaped: a text
 * with one would give a document libvirt refuses or reads back wrong. */
static gboolean xml_text_ok(const char *what, const char *text, GError **error)
{
	g_autofree char *shown = NULL;

	if (!text)
		return TRUE;
	if (g_utf8_validate(text, -1, NULL)) {
		const char *c = text;

		while (*c && ((guchar)*c >= 0x20 || *c == '\t' || *c == '\n' || *c == '\r'))
			c++;
		if (!*c)
			return TRUE;
	}
	shown = vmt_name_escape(text);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "bad %s '%s': control characters and bytes that are not UTF-8 cannot go into "
		    "libvirt's XML", what, shown);
	return FALSE;
}

/* Everything a user gave that goes into the XML. */
static gboolean check_texts(const VmtTierPlan *p, const VmtDomainOpts *o, GError **error)
{
	return vmt_name_check(VMT_NAME_ID, "name", p->name, error) &&
	       (!p->tenant || vmt_name_check(VMT_NAME_TENANT, "tenant", p->tenant, error)) &&
	       (!p->klass || vmt_name_check(VMT_NAME_ID, "class", p->klass, error)) &&
	       xml_text_ok("--kernel", o->kernel, error) && xml_text_ok("--append", o->append, error) &&
	       xml_text_ok("--disk", o->disk, error) && xml_text_ok("QMP directory", o->qmp_dir, error) &&
	       vmt_domain_xml_uuid_check("--uuid", o->uuid, error);
}

char *vmt_domain_xml_build(const VmtTierPlan *p, const VmtDomainOpts *o, const char *template_dir,
			   GError **error)
{
	g_autofree char *path = g_build_filename(template_dir, "domain.xml", NULL);
	g_autofree char *total = g_strdup_printf("%" G_GUINT64_FORMAT, (p->dram_bytes + p->pmem_bytes) >> 10);
	g_autofree char *vcpus = g_strdup_printf("%u", p->vcpus);
	gboolean kmem = p->backend == VMT_BACKEND_KMEM;
	xmlDocPtr doc;
	xmlNodePtr root, os, devs;
	xmlChar *buf = NULL;
	int len = 0;
	char *out;

	if (!check_texts(p, o, error))
		return NULL;
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (!doc) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot read template %s", path);
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	attr(root, "type", o->virt_type);
	set_text(child(root, "name"), p->name);
	xmlAddNextSibling(child(root, "name"), xmlNewNode(NULL, BAD_CAST "uuid"));
	set_text(child(root, "uuid"), o->uuid);
	vmt_plan_meta_write(child(root, "metadata"), p);
	set_text(child(root, "memory"), total);
	set_text(child(root, "vcpu"), vcpus);
	vmt_domain_xml_numatune(child(root, "numatune"), p);
	os = child(root, "os");
	devs = child(root, "devices");
	if (o->kernel) {
		add(os, "kernel", o->kernel);
		if (o->append)
			add(os, "cmdline", o->append);
	} else if (o->disk) {
		xmlNodePtr d = add(devs, "disk", NULL), e;
		attr(d, "type", "file");
		attr(d, "device", "disk");
		e = add(d, "driver", NULL);
		attr(e, "name", "qemu");
		attr(e, "type", "qcow2");
		attr(add(d, "source", NULL), "file", o->disk);
		e = add(d, "target", NULL);
		attr(e, "dev", "vda");
		attr(e, "bus", "virtio");
	}
	vmt_domain_xml_cells(child(child(root, "cpu"), "numa"), p);
	if (!kmem) {
		/* the slow part is an NVDIMM on the DAX device, in guest node 1 */
		g_autofree char *dev = g_strdup_printf("/dev/%s", p->devdax);
		xmlNodePtr m = add(devs, "memory", NULL), src, tgt, lab, sz;
		attr(m, "model", "nvdimm");
		attr(m, "access", "shared");
		src = add(m, "source", NULL);
		add(src, "path", dev);
		sz = add(src, "alignsize", "2");
		attr(sz, "unit", "MiB");
		add(src, "pmem", NULL);
		tgt = add(m, "target", NULL);
		{
			g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT, (p->pmem_bytes >> 10) + 128);
			sz = add(tgt, "size", kib);
			attr(sz, "unit", "KiB");
		}
		add(tgt, "node", "1");
		lab = add(tgt, "label", NULL);
		sz = add(lab, "size", "128");
		attr(sz, "unit", "KiB");
		/* NVDIMMs need <maxMemory> slots */
		{
			g_autofree char *maxm = g_strdup_printf("%" G_GUINT64_FORMAT,
				(guint64)(((p->dram_bytes + p->pmem_bytes) >> 10) + 4096 + 128));
			xmlNodePtr mm = xmlNewNode(NULL, BAD_CAST "maxMemory");
			xmlNodeAddContent(mm, BAD_CAST maxm);
			attr(mm, "slots", "2");
			attr(mm, "unit", "KiB");
			xmlAddPrevSibling(child(root, "memory"), mm);
		}
	}
	vmt_domain_xml_add_qmp(root, o->qmp_dir, o->uuid);

	/* drop the template's comment */
	for (xmlNodePtr n = doc->children; n;) {
		xmlNodePtr next = n->next;
		if (n->type == XML_COMMENT_NODE) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
		n = next;
	}
	xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
	out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	xmlFreeDoc(doc);
	return out;
}
