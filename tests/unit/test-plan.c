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

	/* on the same nodes (unknown sets count everywhere: /plan/admission/unknown-nodes) */
	vmt_admission_count(a, "other", dram, p->dram_nodes, pmem, p->pmem_nodes, TRUE);
	/* the guest itself, as vmtierd may still list it: not counted twice */
	vmt_admission_count(a, p->name, G_MAXUINT64, NULL, G_MAXUINT64, NULL, TRUE);
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

/* The tiered fixture (two sockets: DRAM 0 and PMEM 2 near each other, DRAM
 * 1 and PMEM 3) trimmed to room for 12 guests of 16 MiB DRAM + 16 MiB PMEM
 * a socket: 192 MiB + RESERVE on each DRAM node, 192 MiB on each PMEM one. */
#define RESERVE (64ull << 20)
static VmtHost *two_sockets(void)
{
	VmtHost *h = load("tiered");

	for (int id = 0; id < 4; id++)
		vmt_host_node(h, id)->total_bytes = (12 * 16ull << 20) + (id < 2 ? RESERVE : 0);
	return h;
}

/* A 16 MiB + 16 MiB guest NAME on DRAM node SOCKET and PMEM node SOCKET + 2. */
static VmtTierPlan *small_on(const char *name, int socket)
{
	VmtTierPlan *p = plan(16, 16, VMT_PMEM_CLOSEST);
	int slow = socket + 2;

	g_free(p->name);
	p->name = g_strdup(name);
	g_array_append_val(p->dram_nodes, socket);
	g_array_append_val(p->pmem_nodes, slow);
	return p;
}

static void count_plan(VmtAdmission *a, const VmtTierPlan *p)
{
	vmt_admission_count(a, p->name, p->dram_bytes, p->dram_nodes, p->pmem_bytes, p->pmem_nodes,
			    TRUE);
}

/* scale's run 1 (bench/README.md): with guests on both sockets, define
 * refused the 25th at half the host, every guest's slow part summed
 * against one socket's PMEM node.  Guests on disjoint sockets do not add
 * up: each is admitted while its socket has room, then refused naming
 * that socket's node. */
static void test_admission_two_sockets(void)
{
	g_autoptr(VmtHost) h = two_sockets();
	g_autoptr(VmtAdmission) a = vmt_admission_new(RESERVE);
	g_autoptr(VmtAdmission) slack = vmt_admission_new(0);	/* DRAM has room: PMEM binds */
	g_autoptr(VmtAdmission) eleven = vmt_admission_new(RESERVE);
	g_autoptr(GError) error = NULL;

	/* defined one after another, alternating sockets, as bench/run does */
	for (int i = 0; i < 24; i++) {
		g_autofree char *name = g_strdup_printf("g%02d", i);
		g_autoptr(VmtTierPlan) p = small_on(name, i % 2);

		g_assert_true(vmt_admission_check(a, p, h, &error));
		g_assert_no_error(error);
		count_plan(a, p);
		count_plan(slack, p);
		if (i != 23)
			count_plan(eleven, p);	/* g23 (socket 1) undefined */
	}
	for (int socket = 0; socket < 2; socket++) {
		g_autoptr(VmtTierPlan) p = small_on("g24", socket);
		g_autofree char *dram = g_strdup_printf("DRAM quota does not fit: 192 MiB already promised "
							"+ 16 MiB asked + 64 MiB reserve > 256 MiB on "
							"node(s) %d", socket);
		g_autofree char *slow = g_strdup_printf("slow tier cannot hold the PMEM part: 192 MiB "
							"already placed + 16 MiB asked > 192 MiB on "
							"node(s) %d", socket + 2);

		g_assert_false(vmt_admission_check(a, p, h, &error));
		g_assert_cmpstr(error->message, ==, dram);
		g_clear_error(&error);
		g_assert_false(vmt_admission_check(slack, p, h, &error));
		g_assert_cmpstr(error->message, ==, slow);
		g_clear_error(&error);
		/* socket 1 has room for one again */
		g_assert_cmpint(vmt_admission_check(eleven, p, h, &error), ==, socket == 1);
		if (socket == 0)
			g_assert_cmpstr(error->message, ==, dram);
		g_clear_error(&error);
	}
}

/* A guest spread over both sockets counts whole against a plan on either
 * (conservative: part of it may live on the other), one on the other
 * socket does not, and a plan over both counts everything on either. */
static void test_admission_overlap(void)
{
	g_autoptr(VmtHost) h = two_sockets();
	g_autoptr(VmtAdmission) a = vmt_admission_new(RESERVE);
	g_autoptr(VmtTierPlan) wide = plan(128, 128, VMT_PMEM_CLOSEST), both = plan(0, 0, VMT_PMEM_ALL);
	g_autoptr(VmtTierPlan) far = small_on("far", 1), on0 = small_on("on0", 0);
	g_autoptr(GError) error = NULL;
	int ids[] = { 0, 1 }, slow[] = { 2, 3 };

	g_free(wide->name);
	wide->name = g_strdup("wide");
	g_array_append_vals(wide->dram_nodes, ids, 2);
	g_array_append_vals(wide->pmem_nodes, slow, 2);
	count_plan(a, wide);
	far->dram_bytes = far->pmem_bytes = 64ull << 20;
	count_plan(a, far);
	/* node 0: 128 (wide, whole) + 64 + 64 reserve of 256; PMEM 128 + 64 of 192 */
	on0->dram_bytes = on0->pmem_bytes = 64ull << 20;
	g_assert_true(vmt_admission_check(a, on0, h, &error));
	g_assert_no_error(error);
	on0->dram_bytes += 2 << 20;
	g_assert_false(vmt_admission_check(a, on0, h, &error));
	g_assert_cmpstr(error->message, ==, "DRAM quota does not fit: 128 MiB already promised + "
			"66 MiB asked + 64 MiB reserve > 256 MiB on node(s) 0");
	g_clear_error(&error);
	/* a plan over both sockets: 512 MiB of DRAM and 384 of PMEM, both counted */
	g_array_append_vals(both->dram_nodes, ids, 2);
	g_array_append_vals(both->pmem_nodes, slow, 2);
	both->dram_bytes = (512 - 64 - 192) << 20;
	both->pmem_bytes = (384 - 192) << 20;
	g_assert_true(vmt_admission_check(a, both, h, &error));
	g_assert_no_error(error);
	both->dram_bytes += 2 << 20;
	g_assert_false(vmt_admission_check(a, both, h, &error));
	g_assert_cmpstr(error->message, ==, "DRAM quota does not fit: 192 MiB already promised + "
			"258 MiB asked + 64 MiB reserve > 512 MiB on node(s) 0-1");
	g_clear_error(&error);
	both->dram_bytes -= 2 << 20;
	both->pmem_bytes += 2 << 20;
	g_assert_false(vmt_admission_check(a, both, h, &error));
	g_assert_cmpstr(error->message, ==, "slow tier cannot hold the PMEM part: 192 MiB already "
			"placed + 194 MiB asked > 384 MiB on node(s) 2-3");
}

/* A counted guest whose nodes are unknown (metadata that does not read,
 * an older vmtierd's status) counts against every node, as before; the
 * same guest with its nodes known does not count on the other socket. */
static void test_admission_unknown_nodes(void)
{
	g_autoptr(VmtHost) h = two_sockets();
	g_autoptr(VmtAdmission) known = vmt_admission_new(RESERVE), a = vmt_admission_new(RESERVE);
	g_autoptr(VmtTierPlan) on0 = small_on("on0", 0), on1 = small_on("on1", 1);
	g_autoptr(GArray) none = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GError) error = NULL;

	on0->dram_bytes = 180ull << 20;
	on0->pmem_bytes = 100ull << 20;
	count_plan(known, on0);
	g_assert_true(vmt_admission_check(known, on1, h, &error));
	g_assert_no_error(error);
	vmt_admission_count(a, "old", 180ull << 20, NULL, 100ull << 20, NULL, TRUE);
	g_assert_false(vmt_admission_check(a, on1, h, &error));
	g_assert_cmpstr(error->message, ==, "DRAM quota does not fit: 180 MiB already promised + "
			"16 MiB asked + 64 MiB reserve > 256 MiB on node(s) 1");
	g_clear_error(&error);
	/* an empty set is unknown too, not nowhere */
	vmt_admission_count(known, "empty", 0, none, 90ull << 20, none, TRUE);
	on1->dram_bytes = 2 << 20;
	on1->pmem_bytes = 104ull << 20;
	g_assert_false(vmt_admission_check(known, on1, h, &error));
	g_assert_cmpstr(error->message, ==, "slow tier cannot hold the PMEM part: 90 MiB already "
			"placed + 104 MiB asked > 192 MiB on node(s) 3");
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
	g_test_add_func("/plan/admission/two-sockets", test_admission_two_sockets);
	g_test_add_func("/plan/admission/overlap", test_admission_overlap);
	g_test_add_func("/plan/admission/unknown-nodes", test_admission_unknown_nodes);
	g_test_add_func("/plan/names", test_names);
	return g_test_run();
}
