// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "class.h"
#include "size.h"
#include "tier-plan.h"

#include <string.h>

#define ALIGN_2M(x) (((x) + (2ull << 20) - 1) & ~((2ull << 20) - 1))

VmtTierPlan *vmt_tier_plan_new(void)
{
	VmtTierPlan *p = g_new0(VmtTierPlan, 1);

	p->vcpus = 1;
	p->tenant = g_strdup("default");
	p->dram_nodes = g_array_new(FALSE, FALSE, sizeof(int));
	p->pmem_nodes = g_array_new(FALSE, FALSE, sizeof(int));
	return p;
}

void vmt_tier_plan_free(VmtTierPlan *p)
{
	if (!p)
		return;
	g_free(p->name);
	g_free(p->tenant);
	g_free(p->klass);
	g_free(p->devdax);
	g_array_unref(p->dram_nodes);
	g_array_unref(p->pmem_nodes);
	g_free(p);
}

static const char *const backend_names[] = { "kmem", "devdax" };

const char *vmt_backend_name(VmtBackend b)
{
	return (guint)b < G_N_ELEMENTS(backend_names) ? backend_names[b] : "unknown";
}

gboolean vmt_backend_parse(const char *text, VmtBackend *out)
{
	for (guint i = 0; i < G_N_ELEMENTS(backend_names); i++)
		if (strcmp(text, backend_names[i]) == 0) {
			*out = (VmtBackend)i;
			return TRUE;
		}
	return FALSE;
}

static const char *const policy_names[] = { "closest", "all", "preferred" };

const char *vmt_tier_plan_policy_name(VmtPmemPolicy p)
{
	return policy_names[p];
}

gboolean vmt_tier_plan_parse_policy(const char *text, VmtPmemPolicy *out, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++)
		if (strcmp(text, policy_names[i]) == 0) {
			*out = (VmtPmemPolicy)i;
			return TRUE;
		}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "bad --pmem-policy '%s' (closest, all or preferred)", text);
	return FALSE;
}

gboolean vmt_tier_plan_check_name(const char *name, GError **error)
{
	gsize n = strlen(name);
	gboolean ok = n >= 1 && n <= 64 && name[0] != '.' && name[0] != '-';

	for (const char *c = name; ok && *c; c++)
		ok = g_ascii_isalnum(*c) || *c == '_' || *c == '.' || *c == '-';
	if (!ok) {
		g_autofree char *shown = g_strescape(name, NULL);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "bad name '%s': use 1-64 of A-Z a-z 0-9 _ . - (not starting with . or -)",
			    n > 80 ? "(too long)" : shown);
	}
	return ok;
}

gboolean vmt_tier_plan_apply_class(VmtTierPlan *p, const char *dir, const char *name, GError **error)
{
	g_autoptr(VmtClass) c = vmt_class_load(dir, name, error);
	double share;

	if (!c)
		return FALSE;
	share = c->dram_share;
	g_free(p->klass);
	p->klass = g_strdup(name);
	if (!p->dram_bytes) {
		if (!p->pmem_bytes) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "give --pmem (or --dram) with --class %s", name);
			return FALSE;
		}
		double want = (double)p->pmem_bytes * share / (1 - share);
		guint64 d = (guint64)want;

		p->dram_bytes = ALIGN_2M(d + ((double)d < want));	/* round up, no libm */
	}
	return TRUE;
}

static int node_distance(const VmtNode *from, int to)
{
	for (guint i = 0; i < from->distance_nodes->len; i++)
		if (g_array_index(from->distance_nodes, int, i) == to)
			return g_array_index(from->distances, int, i);
	return G_MAXINT;
}

static gboolean usable_slow(const VmtNode *n)
{
	return n && vmt_node_is_slow(n) && n->total_bytes > 0;
}

static gint by_distance_from(gconstpointer a, gconstpointer b, gpointer from)
{
	int da = node_distance(from, *(const int *)a), db = node_distance(from, *(const int *)b);

	return da != db ? (da < db ? -1 : 1) : *(const int *)a - *(const int *)b;
}

static gboolean pick_dram(VmtTierPlan *p, const VmtHost *host, GError **error)
{
	const VmtNode *best = NULL;

	for (guint i = 0; i < p->dram_nodes->len; i++) {
		const VmtNode *n = vmt_host_node(host, g_array_index(p->dram_nodes, int, i));
		if (!n || vmt_node_is_slow(n)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "--dram-nodes: node %d is not an online DRAM node",
				    g_array_index(p->dram_nodes, int, i));
			return FALSE;
		}
	}
	if (p->dram_nodes->len)
		return TRUE;
	/* the DRAM node with CPUs and the most free memory */
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (!vmt_node_is_slow(n) && n->cpus->len && (!best || n->free_bytes > best->free_bytes))
			best = n;
	}
	if (!best) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no DRAM node with CPUs on this host");
		return FALSE;
	}
	g_array_append_val(p->dram_nodes, best->id);
	return TRUE;
}

static gboolean pick_pmem(VmtTierPlan *p, const VmtHost *host, GError **error)
{
	const VmtNode *dram = vmt_host_node(host, g_array_index(p->dram_nodes, int, 0));
	g_autoptr(GArray) slow = g_array_new(FALSE, FALSE, sizeof(int));

	if (p->print_only && p->pmem_nodes->len && !vmt_host_has_slow_tier(host))
		return TRUE;	/* nothing to check them against */
	for (guint i = 0; i < p->pmem_nodes->len; i++)
		if (!usable_slow(vmt_host_node(host, g_array_index(p->pmem_nodes, int, i)))) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "--pmem-nodes: node %d is not a slow-memory node with memory online",
				    g_array_index(p->pmem_nodes, int, i));
			return FALSE;
		}
	if (p->pmem_nodes->len) {
		g_array_sort_with_data(p->pmem_nodes, by_distance_from, (gpointer)dram);
		return TRUE;
	}
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (usable_slow(n))
			g_array_append_val(slow, n->id);
	}
	if (!slow->len) {
		const VmtDaxDev *dd = NULL;
		for (guint i = 0; i < host->dax->len && !dd; i++)
			if (strcmp(((VmtDaxDev *)g_ptr_array_index(host->dax, i))->mode, "devdax") == 0)
				dd = g_ptr_array_index(host->dax, i);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "this host has no slow-memory node with memory online (see 'vmtier host check')%s%s%s",
			    dd ? "; or use --pmem-backend devdax:/dev/" : "", dd ? dd->name : "",
			    p->print_only ? "; give --pmem-nodes to print XML for it anyway" : "");
		return FALSE;
	}
	g_array_sort_with_data(slow, by_distance_from, (gpointer)dram);
	if (p->policy == VMT_PMEM_CLOSEST) {
		int a = g_array_index(slow, int, 0);
		if (slow->len > 1 && node_distance(dram, a) == node_distance(dram, g_array_index(slow, int, 1))) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "slow nodes %d and %d are equally near DRAM node %d (distance %d): "
				    "choose one with --pmem-nodes", a, g_array_index(slow, int, 1),
				    dram->id, node_distance(dram, a));
			return FALSE;
		}
		g_array_append_val(p->pmem_nodes, a);
	} else {
		/* all and preferred: every slow node, nearest first */
		g_array_append_vals(p->pmem_nodes, slow->data, slow->len);
	}
	return TRUE;
}

gboolean vmt_tier_plan_resolve(VmtTierPlan *p, const VmtHost *host, GError **error)
{
	const VmtNode *dram, *pmem;

	if (!p->dram_bytes || !p->pmem_bytes) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "give both --dram and --pmem (or --class with one of them)");
		return FALSE;
	}
	if (!pick_dram(p, host, error))
		return FALSE;
	dram = vmt_host_node(host, g_array_index(p->dram_nodes, int, 0));
	if (p->backend == VMT_BACKEND_DEVDAX) {
		const VmtDaxDev *d = vmt_host_dax(host, p->devdax);
		if (!d) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "no DAX device /dev/%s on this host", p->devdax);
			return FALSE;
		}
		if (strcmp(d->mode, "devdax") != 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "/dev/%s is in %s mode, not devdax", p->devdax, d->mode);
			return FALSE;
		}
		if (d->size < p->pmem_bytes) {
			g_autofree char *have = vmt_size_format(d->size), *want = vmt_size_format(p->pmem_bytes);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
				    "/dev/%s has %s, less than --pmem %s", p->devdax, have, want);
			return FALSE;
		}
		p->distance = 17;	/* unknown for a device the guest owns; like a near PMEM */
		p->dram_latency_ns = dram->read_latency_ns;
		p->dram_bw_mbs = dram->read_bandwidth_mbs;
		return TRUE;
	}
	if (!pick_pmem(p, host, error))
		return FALSE;
	pmem = vmt_host_node(host, g_array_index(p->pmem_nodes, int, 0));
	if (!pmem) {	/* print-only, node not online: no host figures to copy */
		p->distance = 20;
		p->dram_latency_ns = p->pmem_latency_ns = 0;
		return TRUE;
	}
	p->distance = node_distance(dram, pmem->id);
	p->dram_latency_ns = dram->read_latency_ns;
	p->dram_bw_mbs = dram->read_bandwidth_mbs;
	p->pmem_latency_ns = pmem->read_latency_ns;
	p->pmem_bw_mbs = pmem->read_bandwidth_mbs;
	return TRUE;
}
