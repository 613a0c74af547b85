// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "admission.h"
#include "error.h"
#include "host-check.h"
#include "nodeset.h"
#include "size.h"

#include <string.h>

typedef struct {
	char *name;
	guint64 dram_bytes, kmem_bytes;
	GArray *dram_nodes, *slow_nodes;	/* NULL: unknown, counts everywhere */
} Counted;

struct _VmtAdmission {
	GArray *guests;		/* Counted */
	guint64 reserve;
};

static void counted_clear(Counted *c)
{
	g_free(c->name);
	g_clear_pointer(&c->dram_nodes, g_array_unref);
	g_clear_pointer(&c->slow_nodes, g_array_unref);
}

/* A copy of IDS, or NULL when unknown: an empty set would count nowhere,
 * which only a guest on no node could claim. */
static GArray *known(const GArray *ids)
{
	GArray *copy;

	if (!ids || !ids->len)
		return NULL;
	copy = g_array_sized_new(FALSE, FALSE, sizeof(int), ids->len);
	g_array_append_vals(copy, ids->data, ids->len);
	return copy;
}

VmtAdmission *vmt_admission_new(guint64 reserve)
{
	VmtAdmission *a = g_new0(VmtAdmission, 1);

	a->guests = g_array_new(FALSE, FALSE, sizeof(Counted));
	g_array_set_clear_func(a->guests, (GDestroyNotify)counted_clear);
	a->reserve = reserve;
	return a;
}

void vmt_admission_free(VmtAdmission *a)
{
	if (!a)
		return;
	g_array_unref(a->guests);
	g_free(a);
}

void vmt_admission_count(VmtAdmission *a, const char *name, guint64 dram_bytes,
			 const GArray *dram_nodes, guint64 pmem_bytes, const GArray *slow_nodes,
			 gboolean kmem)
{
	Counted c = { g_strdup(name), dram_bytes, kmem ? pmem_bytes : 0, known(dram_nodes),
		      known(slow_nodes) };

	g_array_append_val(a->guests, c);
}

guint64 vmt_admission_reserve(const VmtAdmission *a)
{
	return a->reserve;
}

static guint64 add_sat(guint64 a, guint64 b)
{
	return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

/* `vmtier host check`'s worst finding about node ID, if it is an error:
 * the hook, define and set refuse on what host check calls an error. */
static gboolean node_findings(const GPtrArray *findings, int id, GError **error)
{
	g_autofree char *subject = g_strdup_printf("node%d", id);

	for (guint i = 0; i < findings->len; i++) {
		const VmtFinding *f = g_ptr_array_index(findings, i);

		if (f->severity == VMT_SEVERITY_ERROR && strcmp(f->subject, subject) == 0) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_HOST,
				    "%s (host check: %s; fix: %s)", f->what, f->id, f->fix);
			return FALSE;
		}
	}
	return TRUE;
}

/* The nodes or device P binds the guest to are there and usable; their
 * memory in *DRAM_CAP and *SLOW_CAP (G_MAXUINT64: not a shared node). */
static gboolean check_nodes(const VmtTierPlan *p, const VmtHost *host, guint64 *dram_cap,
			    guint64 *slow_cap, GError **error)
{
	g_autoptr(GPtrArray) findings = vmt_host_check_run(host);

	*dram_cap = 0;
	*slow_cap = G_MAXUINT64;
	for (guint i = 0; i < p->dram_nodes->len; i++) {
		int id = g_array_index(p->dram_nodes, int, i);
		const VmtNode *n = vmt_host_node(host, id);

		if (!n || vmt_node_is_slow(n) || !n->total_bytes) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_HOST,
				    "DRAM node %d is not an online DRAM node on this host", id);
			return FALSE;
		}
		if (!node_findings(findings, id, error))
			return FALSE;
		*dram_cap = add_sat(*dram_cap, n->total_bytes);
	}
	if (p->devdax) {
		const VmtDaxDev *d = vmt_host_dax(host, p->devdax);

		if (!d || strcmp(d->mode, "devdax") != 0) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_HOST,
				    "/dev/%s %s%s%s", p->devdax, d ? "is in " : "does not exist",
				    d ? d->mode : "", d ? " mode, not devdax" : "");
			return FALSE;
		}
		return TRUE;
	}
	if (p->backend != VMT_BACKEND_KMEM)
		return TRUE;
	*slow_cap = 0;
	for (guint i = 0; i < p->pmem_nodes->len; i++) {
		int id = g_array_index(p->pmem_nodes, int, i);
		const VmtNode *n = vmt_host_node(host, id);

		if (!n || !vmt_node_is_slow(n) || !n->total_bytes) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_HOST,
				    "slow node %d is offline or has no memory online (see 'vmtier host check')",
				    id);
			return FALSE;
		}
		if (!node_findings(findings, id, error))
			return FALSE;
		*slow_cap = add_sat(*slow_cap, n->total_bytes);
	}
	return TRUE;
}

gboolean vmt_admission_check(const VmtAdmission *a, const VmtTierPlan *p, const VmtHost *host,
			     GError **error)
{
	guint64 dram_cap, slow_cap, dram = 0, slow = 0;

	if (!check_nodes(p, host, &dram_cap, &slow_cap, error))
		return FALSE;
	for (guint i = 0; i < a->guests->len; i++) {
		const Counted *c = &g_array_index(a->guests, Counted, i);

		if (g_strcmp0(c->name, p->name) == 0)
			continue;
		/* on nodes of its own, it takes none of this guest's memory */
		if (!c->dram_nodes || vmt_nodeset_overlaps(c->dram_nodes, p->dram_nodes))
			dram = add_sat(dram, c->dram_bytes);
		if (!c->slow_nodes || vmt_nodeset_overlaps(c->slow_nodes, p->pmem_nodes))
			slow = add_sat(slow, c->kmem_bytes);
	}
	/* compare by subtraction: no sum can wrap */
	if (p->dram_bytes > dram_cap || a->reserve > dram_cap - p->dram_bytes ||
	    dram > dram_cap - p->dram_bytes - a->reserve) {
		g_autofree char *c = vmt_size_format(dram), *w = vmt_size_format(p->dram_bytes);
		g_autofree char *r = vmt_size_format(a->reserve), *cap = vmt_size_format(dram_cap);
		g_autofree char *nodes = vmt_nodeset_format(p->dram_nodes);

		g_set_error(error, VMT_ERROR, VMT_ERROR_NO_ROOM,
			    "DRAM quota does not fit: %s already promised + %s asked + %s reserve > %s on node(s) %s",
			    c, w, r, cap, nodes);
		return FALSE;
	}
	if (slow_cap != G_MAXUINT64 && (p->pmem_bytes > slow_cap || slow > slow_cap - p->pmem_bytes)) {
		g_autofree char *c = vmt_size_format(slow), *w = vmt_size_format(p->pmem_bytes);
		g_autofree char *cap = vmt_size_format(slow_cap);
		g_autofree char *nodes = vmt_nodeset_format(p->pmem_nodes);

		g_set_error(error, VMT_ERROR, VMT_ERROR_NO_ROOM,
			    "slow tier cannot hold the PMEM part: %s already placed + %s asked > %s on node(s) %s",
			    c, w, cap, nodes);
		return FALSE;
	}
	return TRUE;
}
