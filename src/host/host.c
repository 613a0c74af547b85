// SPDX-License-Identifier: GPL-2.0-or-later
/* Load a VmtHost from sysfs and procfs (under the settable root). */
#include <gio/gio.h>

#include "host.h"
#include "nodeset.h"
#include "sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_DIR "/sys/devices/system/node"
#define MEM_DIR "/sys/devices/system/memory"
#define DAX_DIR "/sys/bus/dax/devices"
#define TIER_DIR "/sys/devices/virtual/memory_tiering"
#define DAMON_DIR "/sys/kernel/mm/damon/admin/kdamonds"

static const char *const zone_names[VMT_ZONE_COUNT] = {
	"DMA", "DMA32", "Normal", "Movable", "mixed",
};

const char *vmt_zone_name(VmtZone zone)
{
	return zone < VMT_ZONE_COUNT ? zone_names[zone] : "?";
}

const char *vmt_node_kind_name(VmtNodeKind kind)
{
	switch (kind) {
	case VMT_NODE_DRAM: return "dram";
	case VMT_NODE_PMEM: return "pmem";
	case VMT_NODE_CXL: return "cxl";
	default: return "slow";
	}
}

static void node_free(gpointer p)
{
	VmtNode *n = p;

	g_array_unref(n->cpus);
	g_array_unref(n->distance_nodes);
	g_array_unref(n->distances);
	g_array_unref(n->closest_dram);
	g_free(n);
}

static void dax_free(gpointer p)
{
	VmtDaxDev *d = p;

	g_free(d->name);
	g_free(d->region);
	g_free(d->bus);
	g_free(d->mode);
	g_free(d);
}

void vmt_host_free(VmtHost *host)
{
	if (!host)
		return;
	g_ptr_array_unref(host->nodes);
	g_ptr_array_unref(host->dax);
	g_ptr_array_unref(host->busy_kdamonds);
	g_free(host->auto_online_blocks);
	g_free(host);
}

VmtNode *vmt_host_node(const VmtHost *host, int id)
{
	for (guint i = 0; i < host->nodes->len; i++) {
		VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (n->id == id)
			return n;
	}
	return NULL;
}

VmtDaxDev *vmt_host_dax(const VmtHost *host, const char *name)
{
	for (guint i = 0; i < host->dax->len; i++) {
		VmtDaxDev *d = g_ptr_array_index(host->dax, i);
		if (strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

gboolean vmt_node_is_slow(const VmtNode *node)
{
	return node->kind != VMT_NODE_DRAM;
}

guint64 vmt_node_online_bytes(const VmtNode *node)
{
	guint64 sum = 0;

	for (int z = 0; z < VMT_ZONE_COUNT; z++)
		sum += node->zone_bytes[z];
	return sum;
}

gboolean vmt_host_has_slow_tier(const VmtHost *host)
{
	for (guint i = 0; i < host->nodes->len; i++) {
		VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (vmt_node_is_slow(n) && n->total_bytes > 0)
			return TRUE;
	}
	return FALSE;
}

VmtScanner vmt_host_scanner(const VmtHost *host)
{
	if (host->damon_vaddr && host->kdamonds_running == 0)
		return VMT_SCANNER_DAMON_VADDR;
	if (host->idle_pages)
		return VMT_SCANNER_IDLE_PAGES;
	if (host->page_idle)
		return VMT_SCANNER_PAGE_IDLE;
	if (host->soft_dirty)
		return VMT_SCANNER_SOFT_DIRTY;
	return VMT_SCANNER_NONE;
}

/* Memory block state: TRUE if online, with its zone. */
static gboolean block_zone(guint index, gboolean *exists, VmtZone *zone)
{
	g_autofree char *dir = g_strdup_printf(MEM_DIR "/memory%u", index);
	g_autofree char *state_p = g_strconcat(dir, "/state", NULL);
	g_autofree char *zones_p = g_strconcat(dir, "/valid_zones", NULL);
	g_autofree char *state = vmt_sysfs_read(state_p, NULL);
	g_autofree char *zones = NULL;

	*exists = state != NULL;
	*zone = VMT_ZONE_MIXED;
	if (!state || strcmp(state, "online") != 0)
		return FALSE;
	/* an online block's valid_zones is the zone it is in ("none": several) */
	zones = vmt_sysfs_read(zones_p, NULL);
	for (int z = 0; zones && z < VMT_ZONE_MIXED; z++)
		if (strcmp(zones, zone_names[z]) == 0)
			*zone = (VmtZone)z;
	return TRUE;
}

/* The state of a set of memory blocks. */
typedef struct {
	guint listed, present, online;
	guint per_zone[VMT_ZONE_COUNT];	/* online blocks by zone */
} BlockTally;

static void tally_block(BlockTally *t, guint index)
{
	gboolean exists;
	VmtZone zone;

	t->listed++;
	if (block_zone(index, &exists, &zone)) {
		t->online++;
		t->per_zone[zone]++;
	}
	t->present += exists;
}

static void tally_node(BlockTally *t, int node)
{
	g_autofree char *dir = g_strdup_printf(NODE_DIR "/node%d", node);
	g_autoptr(GPtrArray) blocks = vmt_sysfs_list(dir, "memory");

	for (guint i = 0; i < blocks->len; i++) {
		const char *b = g_ptr_array_index(blocks, i);
		if (g_ascii_isdigit(b[6]))	/* "memoryN", not "memory_..." */
			tally_block(t, (guint)atoi(b + 6));
	}
}

void vmt_host_dax_recount(VmtDaxDev *d)
{
	BlockTally t = { 0 };

	if (d->blocks_by_node)
		tally_node(&t, d->target_node);
	else
		for (guint b = d->first_block; b < d->first_block + d->n_blocks; b++)
			tally_block(&t, b);
	if (d->blocks_by_node)
		d->n_blocks = t.listed;
	d->online_blocks = t.online;
	d->movable_blocks = t.per_zone[VMT_ZONE_MOVABLE];
	d->total_blocks = t.present;
}

static gboolean parse_meminfo(const char *path, guint64 *total, guint64 *free_b, GError **error)
{
	g_autofree char *text = vmt_sysfs_read(path, error);
	g_auto(GStrv) lines = NULL;

	if (!text)
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		guint64 kb;
		char key[32];

		/* "Node 0 MemTotal:        1030720 kB" */
		if (sscanf(*l, "Node %*d %31s %" G_GUINT64_FORMAT, key, &kb) != 2)
			continue;
		if (strcmp(key, "MemTotal:") == 0)
			*total = kb * 1024;
		else if (strcmp(key, "MemFree:") == 0)
			*free_b = kb * 1024;
	}
	return TRUE;
}

static VmtNode *load_node(VmtHost *host, int id, const GArray *online, GError **error)
{
	g_autofree char *dir = g_strdup_printf(NODE_DIR "/node%d", id);
	g_autofree char *cpulist_p = g_strconcat(dir, "/cpulist", NULL);
	g_autofree char *meminfo_p = g_strconcat(dir, "/meminfo", NULL);
	g_autofree char *distance_p = g_strconcat(dir, "/distance", NULL);
	g_autofree char *cpulist = vmt_sysfs_read(cpulist_p, error);
	g_autofree char *dist = NULL;
	g_auto(GStrv) words = NULL;
	BlockTally t = { 0 };
	VmtNode *n;

	if (!cpulist)
		return NULL;
	n = g_new0(VmtNode, 1);
	n->id = id;
	n->memory_tier = -1;
	n->distance_nodes = g_array_copy((GArray *)online);
	n->distances = g_array_new(FALSE, FALSE, sizeof(int));
	n->closest_dram = g_array_new(FALSE, FALSE, sizeof(int));
	n->cpus = vmt_nodeset_parse(cpulist, error);
	if (!n->cpus || !parse_meminfo(meminfo_p, &n->total_bytes, &n->free_bytes, error))
		goto fail;
	dist = vmt_sysfs_read(distance_p, error);
	if (!dist)
		goto fail;
	words = g_strsplit_set(dist, " \t", -1);
	for (char **w = words; *w; w++) {
		int d;
		if (!**w)
			continue;
		d = atoi(*w);
		g_array_append_val(n->distances, d);
	}
	if (n->distances->len != online->len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s has %u distances for %u online nodes", distance_p,
			    n->distances->len, online->len);
		goto fail;
	}
	{	/* HMAT: performance seen from the node's best initiator */
		g_autofree char *lat_p = g_strconcat(dir, "/access0/initiators/read_latency", NULL);
		g_autofree char *bw_p = g_strconcat(dir, "/access0/initiators/read_bandwidth", NULL);
		int v;
		if (vmt_sysfs_read_int(lat_p, &v, NULL) && v > 0)
			n->read_latency_ns = (guint)v;
		if (vmt_sysfs_read_int(bw_p, &v, NULL) && v > 0)
			n->read_bandwidth_mbs = (guint)v;
	}
	tally_node(&t, id);
	n->online_blocks = t.online;
	n->offline_blocks = t.present - t.online;
	for (int z = 0; z < VMT_ZONE_COUNT; z++)
		n->zone_bytes[z] = (guint64)t.per_zone[z] * host->block_size;
	return n;
fail:
	node_free(n);
	return NULL;
}

static void load_tiers(VmtHost *host)
{
	g_autoptr(GPtrArray) tiers = vmt_sysfs_list(TIER_DIR, "memory_tier");

	for (guint i = 0; i < tiers->len; i++) {
		const char *t = g_ptr_array_index(tiers, i);
		g_autofree char *p = g_strdup_printf(TIER_DIR "/%s/nodelist", t);
		g_autofree char *list = vmt_sysfs_read(p, NULL);
		g_autoptr(GArray) ids = list ? vmt_nodeset_parse(list, NULL) : NULL;

		for (guint j = 0; ids && j < ids->len; j++) {
			VmtNode *n = vmt_host_node(host, g_array_index(ids, int, j));
			if (n)
				n->memory_tier = atoi(t + strlen("memory_tier"));
		}
	}
}

static char *path_component(const char *path, const char *prefix)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	char *found = NULL;

	for (char **p = parts; *p; p++)
		if (g_str_has_prefix(*p, prefix) && g_ascii_isdigit((*p)[strlen(prefix)])) {
			g_free(found);
			found = g_strdup(*p);
		}
	return found;
}

static VmtDaxDev *load_dax(VmtHost *host, const char *name)
{
	g_autofree char *link = g_strdup_printf(DAX_DIR "/%s", name);
	g_autofree char *dir = vmt_sysfs_resolve(link);
	g_autofree char *size_p = NULL, *node_p = NULL, *res_p = NULL, *align_p = NULL;
	g_autofree char *drv_p = NULL, *driver = NULL;
	VmtDaxDev *d;
	guint64 bs = host->block_size, end;

	if (!dir)
		return NULL;
	d = g_new0(VmtDaxDev, 1);
	d->name = g_strdup(name);
	d->target_node = -1;
	size_p = g_strconcat(dir, "/size", NULL);
	node_p = g_strconcat(dir, "/target_node", NULL);
	res_p = g_strconcat(dir, "/resource", NULL);
	align_p = g_strconcat(dir, "/align", NULL);
	drv_p = g_strconcat(dir, "/driver", NULL);
	vmt_sysfs_read_u64(size_p, &d->size, NULL);
	vmt_sysfs_read_int(node_p, &d->target_node, NULL);
	/* resource is readable by root only; without it see count_node_blocks */
	d->blocks_known = vmt_sysfs_read_u64(res_p, &d->resource, NULL);
	vmt_sysfs_read_u64(align_p, &d->align, NULL);
	driver = vmt_sysfs_link_name(drv_p);
	d->mode = g_strdup(!driver ? "unbound" :
			   strcmp(driver, "kmem") == 0 ? "system-ram" :
			   strcmp(driver, "device_dax") == 0 ? "devdax" : driver);
	d->region = path_component(dir, "region");
	if (!d->region)
		d->region = g_strdup("");
	d->bus = g_strdup(strstr(dir, "/ndbus") ? "nvdimm" :
			  strstr(dir, "/cxl") || strstr(dir, "ACPI0017") ? "cxl" :
			  strstr(dir, "hmem") ? "hmem" : "other");
	/* kmem hot-adds the memory blocks wholly inside the device's range */
	if (bs && d->size && d->blocks_known) {
		d->first_block = (guint)((d->resource + bs - 1) / bs);
		end = (d->resource + d->size) / bs;
		d->n_blocks = end > d->first_block ? (guint)(end - d->first_block) : 0;
	}
	vmt_host_dax_recount(d);
	return d;
}

/* Without the device's address (not root): a system-ram device that is the
 * only one on its node owns exactly that node's memory blocks. */
static void count_node_blocks(VmtHost *host, VmtDaxDev *d)
{
	if (strcmp(d->mode, "system-ram") != 0) {
		d->blocks_known = TRUE;	/* devdax: no blocks either way */
		return;
	}
	for (guint i = 0; i < host->dax->len; i++) {
		VmtDaxDev *o = g_ptr_array_index(host->dax, i);
		if (o != d && o->target_node == d->target_node && strcmp(o->mode, "system-ram") == 0)
			return;		/* shared node: unknown */
	}
	d->blocks_by_node = d->blocks_known = TRUE;
	vmt_host_dax_recount(d);
}

static void classify_nodes(VmtHost *host)
{
	int top_tier = G_MAXINT;

	for (guint i = 0; i < host->nodes->len; i++) {
		VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (n->cpus->len && n->memory_tier >= 0 && n->memory_tier < top_tier)
			top_tier = n->memory_tier;
	}
	for (guint i = 0; i < host->nodes->len; i++) {
		VmtNode *n = g_ptr_array_index(host->nodes, i);
		VmtDaxDev *owner = NULL;

		for (guint j = 0; j < host->dax->len; j++) {
			VmtDaxDev *d = g_ptr_array_index(host->dax, j);
			if (d->target_node == n->id && strcmp(d->mode, "system-ram") == 0)
				owner = d;
		}
		if (owner)
			n->kind = strcmp(owner->bus, "nvdimm") == 0 ? VMT_NODE_PMEM :
				  strcmp(owner->bus, "cxl") == 0 ? VMT_NODE_CXL : VMT_NODE_SLOW;
		else if (n->cpus->len)
			n->kind = VMT_NODE_DRAM;
		else
			n->kind = n->memory_tier > top_tier ? VMT_NODE_SLOW : VMT_NODE_DRAM;
	}
	/* nearest DRAM node(s) of each slow node, by SLIT distance */
	for (guint i = 0; i < host->nodes->len; i++) {
		VmtNode *n = g_ptr_array_index(host->nodes, i);
		int best = G_MAXINT;

		if (!vmt_node_is_slow(n))
			continue;
		for (int pass = 0; pass < 2; pass++)
			for (guint j = 0; j < n->distance_nodes->len; j++) {
				VmtNode *m = vmt_host_node(host, g_array_index(n->distance_nodes, int, j));
				int d = g_array_index(n->distances, int, j);

				if (!m || vmt_node_is_slow(m))
					continue;
				if (pass == 0 && d < best)
					best = d;
				else if (pass == 1 && d == best)
					g_array_append_val(n->closest_dram, m->id);
			}
	}
}

static gboolean kallsyms_has(const char *text, const char *symbol)
{
	g_autofree char *needle = g_strconcat(" ", symbol, NULL);

	return text && strstr(text, needle);
}

static void load_access_interfaces(VmtHost *host)
{
	g_autoptr(GPtrArray) kds = vmt_sysfs_list(DAMON_DIR, "");
	g_autofree char *avail = NULL, *kallsyms = NULL, *smaps = NULL;

	host->damon_sysfs = vmt_sysfs_exists(DAMON_DIR);
	for (guint i = 0; i < kds->len; i++) {
		const char *k = g_ptr_array_index(kds, i);
		g_autofree char *sp = g_strdup_printf(DAMON_DIR "/%s/state", k);
		g_autofree char *op = g_strdup_printf(DAMON_DIR "/%s/contexts/0/operations", k);
		g_autofree char *ap = g_strdup_printf(DAMON_DIR "/%s/contexts/0/avail_operations", k);
		g_autofree char *state = NULL, *ops = NULL;

		if (!g_ascii_isdigit(k[0]))
			continue;
		state = vmt_sysfs_read(sp, NULL);
		if (!avail)
			avail = vmt_sysfs_read(ap, NULL);
		if (g_strcmp0(state, "on") != 0)
			continue;
		ops = vmt_sysfs_read(op, NULL);
		host->kdamonds_running++;
		g_ptr_array_add(host->busy_kdamonds,
				g_strdup_printf("%s (%s)", k, ops ? ops : "?"));
	}
	/* avail_operations needs a context to exist; else ask kallsyms */
	kallsyms = vmt_sysfs_read("/proc/kallsyms", NULL);
	if (avail) {
		g_auto(GStrv) ops = g_strsplit(avail, "\n", -1);
		host->damon_vaddr = g_strv_contains((const char *const *)ops, "vaddr");
		host->damon_paddr = g_strv_contains((const char *const *)ops, "paddr");
	} else {
		host->damon_vaddr = host->damon_sysfs && kallsyms_has(kallsyms, "damon_va_init");
		host->damon_paddr = host->damon_sysfs && kallsyms_has(kallsyms, "damon_pa_check_accesses");
	}
	/* DAMOS migrate_hot/migrate_cold (6.11+) live in paddr's migrate code */
	host->damos_migrate = host->damon_paddr && kallsyms_has(kallsyms, "damon_pa_migrate_folio_list");
	host->page_idle = vmt_sysfs_exists("/sys/kernel/mm/page_idle/bitmap");
	host->idle_pages = vmt_sysfs_exists("/proc/self/idle_pages");
	/* a kernel with soft-dirty marks new mappings "sd" in VmFlags */
	smaps = vmt_sysfs_read("/proc/self/smaps", NULL);
	if (smaps) {
		const char *v = strstr(smaps, "VmFlags:");
		g_autofree char *line = v ? g_strndup(v, strcspn(v, "\n")) : NULL;
		g_autofree char *padded = line ? g_strconcat(line, " ", NULL) : NULL;
		host->soft_dirty = padded && strstr(padded, " sd ");
	}
}

VmtHost *vmt_host_load(GError **error)
{
	g_autoptr(VmtHost) host = g_new0(VmtHost, 1);
	g_autofree char *online_s = NULL, *demotion = NULL, *bs = NULL;
	g_autoptr(GArray) online = NULL;
	g_autoptr(GPtrArray) devs = NULL;

	host->nodes = g_ptr_array_new_with_free_func(node_free);
	host->dax = g_ptr_array_new_with_free_func(dax_free);
	host->busy_kdamonds = g_ptr_array_new_with_free_func(g_free);
	host->numa_balancing = host->demotion_enabled = -1;

	online_s = vmt_sysfs_read(NODE_DIR "/online", error);
	if (!online_s) {
		g_prefix_error(error, "no NUMA information under %s: ", vmt_sysfs_root());
		return NULL;
	}
	online = vmt_nodeset_parse(online_s, error);
	if (!online)
		return NULL;
	/* block_size_bytes is hex without a 0x prefix */
	bs = vmt_sysfs_read(MEM_DIR "/block_size_bytes", NULL);
	host->block_size = bs ? g_ascii_strtoull(bs, NULL, 16) : 0;
	for (guint i = 0; i < online->len; i++) {
		VmtNode *n = load_node(host, g_array_index(online, int, i), online, error);
		if (!n)
			return NULL;
		g_ptr_array_add(host->nodes, n);
	}
	load_tiers(host);
	devs = vmt_sysfs_list(DAX_DIR, "dax");
	for (guint i = 0; i < devs->len; i++) {
		VmtDaxDev *d = load_dax(host, g_ptr_array_index(devs, i));
		if (d)
			g_ptr_array_add(host->dax, d);
	}
	for (guint i = 0; i < host->dax->len; i++) {
		VmtDaxDev *d = g_ptr_array_index(host->dax, i);
		if (!d->blocks_known)
			count_node_blocks(host, d);
	}
	classify_nodes(host);

	host->auto_online_blocks = vmt_sysfs_read(MEM_DIR "/auto_online_blocks", NULL);
	if (!vmt_sysfs_read_int("/proc/sys/kernel/numa_balancing", &host->numa_balancing, NULL))
		host->numa_balancing = -1;
	demotion = vmt_sysfs_read("/sys/kernel/mm/numa/demotion_enabled", NULL);
	if (demotion)
		host->demotion_enabled = strcmp(demotion, "true") == 0 || strcmp(demotion, "1") == 0;
	host->kmem_driver = vmt_sysfs_exists("/sys/bus/dax/drivers/kmem");
	host->devdax_driver = vmt_sysfs_exists("/sys/bus/dax/drivers/device_dax");
	host->dax_pmem_compat = vmt_sysfs_exists("/sys/module/dax_pmem_compat") ||
				vmt_sysfs_exists("/sys/class/dax");
	load_access_interfaces(host);
	return g_steal_pointer(&host);
}

gboolean vmt_host_apparmor_enabled(void)
{
	g_autofree char *v = vmt_sysfs_read("/sys/module/apparmor/parameters/enabled", NULL);

	return v && g_str_has_prefix(v, "Y");
}
