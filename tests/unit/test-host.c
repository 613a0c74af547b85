// SPDX-License-Identifier: GPL-2.0-or-later
/* The host layer on sysfs trees captured from the test host's topologies
 * (tests/fixtures/host, made by tests/host/capture-fixtures). */
#include "host-check.h"
#include "host.h"
#include "nodeset.h"
#include "sysfs.h"

#include <string.h>

static const char *fixtures;

static VmtHost *load(const char *name)
{
	g_autofree char *root = g_build_filename(fixtures, name, NULL);
	g_autoptr(GError) error = NULL;
	VmtHost *host;

	g_assert_true(g_file_test(root, G_FILE_TEST_IS_DIR));
	vmt_sysfs_set_root(root);
	host = vmt_host_load(&error);
	g_assert_no_error(error);
	g_assert_nonnull(host);
	return host;
}

static char *nodes_of(const GArray *a)
{
	return vmt_nodeset_format(a);
}

static void test_tiered(void)
{
	g_autoptr(VmtHost) h = load("tiered");
	VmtNode *n0, *n2, *n3;
	VmtDaxDev *d;
	g_autofree char *c2 = NULL, *c3 = NULL;
	static const int dist0[] = { 10, 21, 17, 28 };

	g_assert_cmpuint(h->nodes->len, ==, 4);
	g_assert_cmpuint(h->block_size, ==, 128u << 20);
	n0 = vmt_host_node(h, 0);
	n2 = vmt_host_node(h, 2);
	n3 = vmt_host_node(h, 3);
	g_assert_cmpint(n0->kind, ==, VMT_NODE_DRAM);
	g_assert_cmpint(vmt_host_node(h, 1)->kind, ==, VMT_NODE_DRAM);
	g_assert_cmpint(n2->kind, ==, VMT_NODE_PMEM);
	g_assert_cmpint(n3->kind, ==, VMT_NODE_PMEM);
	g_assert_cmpuint(n0->cpus->len, ==, 1);
	g_assert_cmpuint(n2->cpus->len, ==, 0);
	g_assert_cmpint(n0->memory_tier, <, n2->memory_tier);
	g_assert_cmpint(n2->memory_tier, ==, n3->memory_tier);
	for (guint i = 0; i < 4; i++)
		g_assert_cmpint(g_array_index(n0->distances, int, i), ==, dist0[i]);
	c2 = nodes_of(n2->closest_dram);
	c3 = nodes_of(n3->closest_dram);
	g_assert_cmpstr(c2, ==, "0");
	g_assert_cmpstr(c3, ==, "1");
	g_assert_cmpuint(n2->zone_bytes[VMT_ZONE_NORMAL], ==, 7 * (128u << 20));
	g_assert_cmpuint(n2->zone_bytes[VMT_ZONE_MOVABLE], ==, 0);
	g_assert_cmpuint(n2->total_bytes, ==, 7 * (128u << 20));
	g_assert_cmpuint(h->dax->len, ==, 2);
	d = vmt_host_dax(h, "dax0.0");
	g_assert_nonnull(d);
	g_assert_cmpstr(d->mode, ==, "system-ram");
	g_assert_cmpstr(d->region, ==, "region0");
	g_assert_cmpstr(d->bus, ==, "nvdimm");
	g_assert_cmpint(d->target_node, ==, 2);
	g_assert_cmpuint(d->n_blocks, ==, 7);
	g_assert_cmpuint(d->online_blocks, ==, 7);
	g_assert_cmpuint(d->movable_blocks, ==, 0);
	g_assert_true(vmt_host_has_slow_tier(h));
	g_assert_true(h->damon_vaddr && h->damon_paddr && h->damos_migrate);
	g_assert_true(h->soft_dirty);
	g_assert_false(h->page_idle);
	g_assert_cmpstr(vmt_scanner_name(vmt_host_scanner(h)), ==, "damon-vaddr");
}

static void test_movable(void)
{
	g_autoptr(VmtHost) h = load("movable");
	VmtNode *n2 = vmt_host_node(h, 2);
	VmtDaxDev *d = vmt_host_dax(h, "dax0.0");

	g_assert_cmpuint(n2->zone_bytes[VMT_ZONE_MOVABLE], ==, 7 * (128u << 20));
	g_assert_cmpuint(n2->zone_bytes[VMT_ZONE_NORMAL], ==, 0);
	g_assert_cmpuint(d->movable_blocks, ==, 7);
}

static void test_offline(void)
{
	g_autoptr(VmtHost) h = load("offline");
	VmtNode *n2 = vmt_host_node(h, 2);
	VmtDaxDev *d = vmt_host_dax(h, "dax0.0");

	g_assert_nonnull(n2);
	g_assert_cmpuint(n2->total_bytes, ==, 0);
	g_assert_cmpuint(n2->offline_blocks, ==, 7);
	g_assert_cmpint(n2->kind, ==, VMT_NODE_PMEM);
	g_assert_cmpuint(d->online_blocks, ==, 0);
	g_assert_cmpuint(d->total_blocks, ==, 7);
	g_assert_false(vmt_host_has_slow_tier(h));
}

static void test_devdax(void)
{
	g_autoptr(VmtHost) h = load("devdax");
	VmtDaxDev *d = vmt_host_dax(h, "dax1.0");

	g_assert_cmpuint(h->nodes->len, ==, 2);	/* nodes 2, 3 are not online */
	g_assert_cmpstr(d->mode, ==, "devdax");
	g_assert_cmpint(d->target_node, ==, 3);
	g_assert_cmpuint(d->total_blocks, ==, 0);
	g_assert_true(h->kmem_driver);
	g_assert_false(vmt_host_has_slow_tier(h));
}

static void test_single_node(void)
{
	g_autoptr(VmtHost) h = load("single-node");
	g_autofree char *cpus = NULL;

	g_assert_cmpuint(h->nodes->len, ==, 1);
	cpus = nodes_of(vmt_host_node(h, 0)->cpus);
	g_assert_cmpstr(cpus, ==, "0-1");
	g_assert_cmpuint(h->dax->len, ==, 0);
	g_assert_false(h->damon_vaddr);
	g_assert_true(h->damon_paddr);
	g_assert_cmpint(h->kdamonds_running, ==, 1);
	g_assert_cmpstr(vmt_scanner_name(vmt_host_scanner(h)), ==, "none");
}

static void test_nonroot(void)
{
	/* captured as nobody: no daxX.Y/resource; the node's blocks stand in */
	g_autoptr(VmtHost) h = load("tiered-nonroot");
	VmtDaxDev *d = vmt_host_dax(h, "dax0.0");
	g_autoptr(GPtrArray) f = vmt_host_check_run(h);

	g_assert_cmpuint(d->resource, ==, 0);
	g_assert_true(d->blocks_known);
	g_assert_cmpuint(d->n_blocks, ==, 7);
	g_assert_cmpuint(d->online_blocks, ==, 7);
	g_assert_cmpuint(d->movable_blocks, ==, 0);
	for (guint i = 0; i < f->len; i++)
		g_assert_cmpstr(((VmtFinding *)g_ptr_array_index(f, i))->id, !=, "offline-blocks");
}

static void test_missing_root(void)
{
	g_autoptr(GError) error = NULL;

	vmt_sysfs_set_root("/nonexistent-vmtier-root");
	g_assert_null(vmt_host_load(&error));
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "/nonexistent-vmtier-root"));
}

/* Every check: a fixture that triggers it and one that does not.  -1: the
 * finding must be absent. */
static const struct {
	const char *fixture, *id, *subject;
	int severity;
} check_table[] = {
	{ "movable", "slow-node-movable", "node2", VMT_SEVERITY_ERROR },
	{ "movable", "slow-node-movable", "node3", VMT_SEVERITY_ERROR },
	{ "tiered", "slow-node-movable", NULL, -1 },
	{ "movable-3to1", "movable-ratio", "host", VMT_SEVERITY_WARNING },
	{ "movable", "movable-ratio", NULL, -1 },
	{ "offline", "offline-blocks", "dax0.0", VMT_SEVERITY_ERROR },
	{ "offline", "offline-blocks", "dax1.0", VMT_SEVERITY_ERROR },
	{ "tiered", "offline-blocks", NULL, -1 },
	{ "devdax-no-kmem", "kmem-missing", "host", VMT_SEVERITY_ERROR },
	{ "devdax", "kmem-missing", NULL, -1 },
	{ "devdax-compat", "dax-pmem-compat", "host", VMT_SEVERITY_ERROR },
	{ "devdax", "dax-pmem-compat", NULL, -1 },
	{ "tiered-kernel-tiering", "auto-online", "host", VMT_SEVERITY_WARNING },
	{ "tiered", "auto-online", NULL, -1 },
	{ "tiered-kernel-tiering", "numa-balancing", "host", VMT_SEVERITY_ERROR },
	{ "tiered", "numa-balancing", "host", VMT_SEVERITY_WARNING },
	{ "tiered-quiet", "numa-balancing", NULL, -1 },
	{ "tiered-kernel-tiering", "demotion", "host", VMT_SEVERITY_WARNING },
	{ "tiered", "demotion", NULL, -1 },
	{ "tiered-damon-busy", "damon-busy", "host", VMT_SEVERITY_WARNING },
	{ "single-node", "damon-busy", "host", VMT_SEVERITY_WARNING },
	{ "tiered", "damon-busy", NULL, -1 },
	{ "single-node", "no-slow-tier", "host", VMT_SEVERITY_ERROR },
	{ "devdax", "no-slow-tier", "host", VMT_SEVERITY_ERROR },
	{ "offline", "no-slow-tier", "host", VMT_SEVERITY_ERROR },
	{ "tiered", "no-slow-tier", NULL, -1 },
	{ "single-node", "no-access-interface", "host", VMT_SEVERITY_ERROR },
	{ "tiered", "no-access-interface", NULL, -1 },
	{ "tiered", "access-interfaces", "host", VMT_SEVERITY_INFO },
};

static void test_check(gconstpointer data)
{
	guint i = GPOINTER_TO_UINT(data);
	g_autoptr(VmtHost) h = load(check_table[i].fixture);
	g_autoptr(GPtrArray) f = vmt_host_check_run(h);
	const VmtFinding *hit = NULL;

	for (guint j = 0; j < f->len; j++) {
		const VmtFinding *x = g_ptr_array_index(f, j);
		if (strcmp(x->id, check_table[i].id) == 0 &&
		    (!check_table[i].subject || strcmp(x->subject, check_table[i].subject) == 0))
			hit = x;
	}
	if (check_table[i].severity < 0) {
		g_assert_null(hit);
		return;
	}
	g_assert_nonnull(hit);
	g_assert_cmpint(hit->severity, ==, check_table[i].severity);
	g_assert_true(*hit->what && *hit->why && *hit->fix);
}

static void test_check_text(void)
{
	g_autoptr(VmtHost) h = load("movable");
	g_autoptr(GPtrArray) f = vmt_host_check_run(h);
	const VmtFinding *first = g_ptr_array_index(f, 0);

	/* errors come first; the movable finding names the share and the fix */
	g_assert_cmpstr(first->id, ==, "slow-node-movable");
	g_assert_nonnull(strstr(first->what, "100% ZONE_MOVABLE"));
	g_assert_nonnull(strstr(first->fix, "vmtier host online dax0.0 --zone normal"));
	g_assert_cmpint(vmt_host_check_worst(f), ==, VMT_SEVERITY_ERROR);
}

static void test_scanner_fallback(void)
{
	g_autoptr(VmtHost) h = load("tiered-damon-busy");

	/* DAMON busy with another user's kdamond: soft-dirty, not DAMON */
	g_assert_cmpstr(vmt_scanner_name(vmt_host_scanner(h)), ==, "soft-dirty");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	fixtures = g_getenv("VMTIER_FIXTURES");
	g_assert_nonnull(fixtures);
	g_test_add_func("/host/tiered", test_tiered);
	g_test_add_func("/host/movable", test_movable);
	g_test_add_func("/host/offline", test_offline);
	g_test_add_func("/host/devdax", test_devdax);
	g_test_add_func("/host/single-node", test_single_node);
	g_test_add_func("/host/missing-root", test_missing_root);
	g_test_add_func("/host/nonroot", test_nonroot);
	for (guint i = 0; i < G_N_ELEMENTS(check_table); i++) {
		g_autofree char *path = g_strdup_printf("/check/%s/%s/%s/%s", check_table[i].id,
			check_table[i].fixture, check_table[i].subject ? check_table[i].subject : "any",
			check_table[i].severity < 0 ? "absent" : "present");
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_check);
	}
	g_test_add_func("/check/text", test_check_text);
	g_test_add_func("/check/scanner-fallback", test_scanner_fallback);
	return g_test_run();
}
