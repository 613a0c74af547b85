// SPDX-License-Identifier: GPL-2.0-or-later
/* Tier plans on captured hosts: PMEM node policies (memkind's rules),
 * class-derived quotas, and admission arithmetic. */
#include <gio/gio.h>

#include "admission.h"
#include "host.h"
#include "nodeset.h"
#include "sysfs.h"
#include "tier-plan.h"

#include <string.h>

static const char *fixtures, *classes;

static VmtHost *load(const char *name)
{
	g_autofree char *root = g_build_filename(fixtures, name, NULL);
	VmtHost *h;

	vmt_sysfs_set_root(root);
	h = vmt_host_load(NULL);
	g_assert_nonnull(h);
	return h;
}

static VmtTierPlan *plan(guint64 dram_mib, guint64 pmem_mib, VmtPmemPolicy policy)
{
	VmtTierPlan *p = vmt_tier_plan_new();

	p->name = g_strdup("t");
	p->dram_bytes = dram_mib << 20;
	p->pmem_bytes = pmem_mib << 20;
	p->policy = policy;
	return p;
}

static char *nodes(GArray *a)
{
	return vmt_nodeset_format(a);
}

static void test_policies(void)
{
	g_autoptr(VmtHost) h = load("tiered");
	g_autoptr(VmtTierPlan) c = plan(64, 64, VMT_PMEM_CLOSEST);
	g_autoptr(VmtTierPlan) a = plan(64, 64, VMT_PMEM_ALL);
	g_autoptr(VmtTierPlan) p = plan(64, 64, VMT_PMEM_PREFERRED);
	g_autoptr(VmtTierPlan) one = plan(64, 64, VMT_PMEM_PREFERRED);
	g_autoptr(GError) error = NULL;
	g_autofree char *cn = NULL, *an = NULL, *on = NULL;
	int n1 = 1;

	g_assert_true(vmt_tier_plan_resolve(c, h, &error));
	g_assert_true(vmt_tier_plan_resolve(a, h, &error));
	g_assert_true(vmt_tier_plan_resolve(p, h, &error));
	g_array_append_val(one->dram_nodes, n1);
	g_assert_true(vmt_tier_plan_resolve(one, h, &error));
	cn = nodes(c->pmem_nodes);
	an = nodes(a->pmem_nodes);
	on = nodes(one->pmem_nodes);
	g_assert_cmpstr(cn, ==, "2");		/* nearest to DRAM node 0 */
	g_assert_cmpstr(an, ==, "2-3");
	g_assert_cmpint(g_array_index(p->pmem_nodes, int, 0), ==, 2);	/* nearest first */
	g_assert_cmpint(g_array_index(one->pmem_nodes, int, 0), ==, 3);	/* from node 1: 3 first */
	g_assert_cmpstr(on, ==, "3,2");
	g_assert_cmpint(c->distance, ==, 17);
	g_assert_cmpuint(c->pmem_latency_ns, ==, 300);
}

static void test_closest_tie(void)
{
	g_autoptr(VmtHost) h = load("tiered");
	g_autoptr(VmtTierPlan) c = plan(64, 64, VMT_PMEM_CLOSEST);
	g_autoptr(GError) error = NULL;
	VmtNode *n0 = vmt_host_node(h, 0);

	/* make node 3 as near to node 0 as node 2: memkind refuses to guess */
	g_array_index(n0->distances, int, 3) = 17;
	g_assert_false(vmt_tier_plan_resolve(c, h, &error));
	g_assert_cmpstr(error->message, ==, "slow nodes 2 and 3 are equally near DRAM node 0 "
			"(distance 17): choose one with --pmem-nodes");
}

static void test_class(void)
{
	static const struct { const char *cls; guint64 pmem_mib, want_dram_mib; } t[] = {
		{ "budget", 112 << 10, 16 << 10 },	/* 112G slow -> 16G DRAM (1/8 of 128G) */
		{ "standard", 96, 32 },
		{ "premium", 64, 64 },
		{ "budget", 10, 2 },		/* 1.43 MiB rounds up to 2 MiB */
	};

	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autoptr(VmtTierPlan) p = plan(0, t[i].pmem_mib, VMT_PMEM_CLOSEST);
		g_autoptr(GError) error = NULL;

		g_assert_true(vmt_tier_plan_apply_class(p, classes, t[i].cls, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(p->dram_bytes, ==, t[i].want_dram_mib << 20);
		g_assert_cmpstr(p->klass, ==, t[i].cls);
	}
	{	/* an explicit --dram wins over the class's share */
		g_autoptr(VmtTierPlan) p = plan(48, 64, VMT_PMEM_CLOSEST);
		g_assert_true(vmt_tier_plan_apply_class(p, classes, "budget", NULL));
		g_assert_cmpuint(p->dram_bytes, ==, 48u << 20);
	}
}

/* admission with one other guest holding DRAM and (kmem) PMEM */
static gboolean admit(const VmtTierPlan *p, const VmtHost *h, guint64 dram, guint64 pmem,
		      guint64 reserve, GError **error)
{
	g_autoptr(VmtAdmission) a = vmt_admission_new(reserve);

	vmt_admission_count(a, "other", dram, pmem, TRUE);
	/* the guest itself, as vmtierd may still list it: not counted twice */
	vmt_admission_count(a, p->name, G_MAXUINT64, G_MAXUINT64, TRUE);
	return vmt_admission_check(a, p, h, error);
}

static void test_admission(void)
{
	g_autoptr(VmtHost) h = load("tiered");
	g_autoptr(VmtTierPlan) p = plan(128, 128, VMT_PMEM_CLOSEST);
	g_autoptr(GError) error = NULL;
	guint64 cap = vmt_host_node(h, 0)->total_bytes;	/* 969 MiB */

	g_assert_true(vmt_tier_plan_resolve(p, h, &error));
	/* exactly full fits; one 2 MiB more does not */
	g_assert_true(admit(p, h, cap - (128u << 20) - (256u << 20), 0, 256u << 20, &error));
	g_assert_false(admit(p, h, cap - (126u << 20) - (256u << 20), 0, 256u << 20, &error));
	g_assert_nonnull(strstr(error->message, "DRAM quota does not fit: "));
	g_assert_nonnull(strstr(error->message, "+ 128 MiB asked + 256 MiB reserve > 969 MiB on node(s) 0"));
	g_clear_error(&error);
	g_clear_error(&error);
	/* huge numbers are refused, not wrapped into a pass */
	g_assert_false(admit(p, h, G_MAXUINT64 - (100u << 20), 0, 0, &error));
	g_clear_error(&error);
	g_assert_false(admit(p, h, 0, 0, G_MAXUINT64, &error));
	g_clear_error(&error);
	g_assert_false(admit(p, h, 0, 800u << 20, 0, &error));
	g_assert_cmpstr(error->message, ==, "slow tier cannot hold the PMEM part: 800 MiB already "
			"placed + 128 MiB asked > 896 MiB on node(s) 2");
}

/* a migrated guest's metadata, or an offlined node: vmtier set builds its
 * plan from the metadata as is (daemon-ctl.c), so admit must not trust it */
static void test_admission_missing_node(void)
{
	g_autoptr(VmtHost) h = load("tiered");
	g_autoptr(VmtTierPlan) p = plan(128, 128, VMT_PMEM_CLOSEST);
	g_autoptr(GError) error = NULL;
	int seven = 7, nine = 9;

	g_array_append_val(p->dram_nodes, seven);
	g_assert_false(admit(p, h, 0, 0, 0, &error));
	g_assert_cmpstr(error->message, ==, "DRAM node 7 is not an online DRAM node on this host");
	g_clear_error(&error);
	g_array_index(p->dram_nodes, int, 0) = 0;
	g_array_append_val(p->pmem_nodes, nine);
	g_assert_false(admit(p, h, 0, 0, 0, &error));
	g_assert_cmpstr(error->message, ==,
			"slow node 9 is offline or has no memory online (see 'vmtier host check')");
}

static void test_names(void)
{
	static const char *const ok[] = { "vm1", "budget-01", "a.b_c", "X" };
	static const char *const bad[] = { "", "a</name>", "a\"b", "../x", ".hidden", "-x", "a b",
					   "vm\xc3\xbc", "a/b", "a'b" };
	g_autofree char *long_name = g_strnfill(65, 'v');

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++)
		g_assert_true(vmt_tier_plan_check_name(ok[i], NULL));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(vmt_tier_plan_check_name(bad[i], NULL));
	g_assert_false(vmt_tier_plan_check_name(long_name, NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	fixtures = g_getenv("VMTIER_FIXTURES");
	classes = g_getenv("VMTIER_CLASSES");
	g_assert_nonnull(fixtures);
	g_assert_nonnull(classes);
	g_test_add_func("/plan/policies", test_policies);
	g_test_add_func("/plan/closest-tie", test_closest_tie);
	g_test_add_func("/plan/class", test_class);
	g_test_add_func("/plan/admission", test_admission);
	g_test_add_func("/plan/admission-missing-node", test_admission_missing_node);
	g_test_add_func("/plan/names", test_names);
	return g_test_run();
}
