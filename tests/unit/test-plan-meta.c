// SPDX-License-Identifier: GPL-2.0-or-later
/* <vmtier:plan> metadata (libvirt/plan-meta): what each golden file in
 * $VMTIER_GOLDEN reads as, that writing the plan read gives the same text
 * back, the quota edit vmtier set makes, and the one-line errors for
 * metadata someone edited badly.  VMTIER_GOLDEN_UPDATE=1 rewrites them. */
#include <gio/gio.h>

#include "error.h"
#include "nodeset.h"
#include "plan-meta.h"

#include <libxml/parser.h>
#include <string.h>

static const char *golden;

static char *golden_path(const char *name)
{
	return g_build_filename(golden, name, NULL);
}

/* FILE's text, or TEXT written there when updating */
static void check_golden(const char *file, const char *text)
{
	g_autofree char *path = golden_path(file);
	g_autofree char *want = NULL;

	if (g_getenv("VMTIER_GOLDEN_UPDATE")) {
		g_assert_true(g_file_set_contents(path, text, -1, NULL));
		return;
	}
	g_assert_true(g_file_get_contents(path, &want, NULL, NULL));
	g_assert_cmpstr(text, ==, want);
}

/* P written as a <plan> element, indented, with a newline */
static char *written(const VmtTierPlan *p)
{
	g_autofree char *text = vmt_plan_meta_format(p, TRUE);

	return g_strdup_printf("%s\n", text);
}

static VmtTierPlan *read_golden(const char *file, GError **error)
{
	g_autofree char *path = golden_path(file);
	g_autofree char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return vmt_plan_meta_parse(text, "g1", error);
}

static void test_kmem(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) p = read_golden("kmem.xml", &error);
	g_autofree char *dn = NULL, *pn = NULL, *again = NULL;

	g_assert_no_error(error);
	dn = vmt_nodeset_format(p->dram_nodes);
	pn = vmt_nodeset_format(p->pmem_nodes);
	g_assert_cmpstr(p->name, ==, "g1");
	g_assert_cmpstr(p->tenant, ==, "acme");
	g_assert_cmpstr(p->klass, ==, "standard");
	g_assert_cmpuint(p->dram_bytes, ==, 268435456);
	g_assert_cmpuint(p->pmem_bytes, ==, 805306368);
	g_assert_cmpint(p->backend, ==, VMT_BACKEND_KMEM);
	g_assert_null(p->devdax);
	g_assert_cmpint(p->policy, ==, VMT_PMEM_PREFERRED);
	g_assert_cmpstr(dn, ==, "0");
	g_assert_cmpstr(pn, ==, "2-3");
	again = written(p);
	check_golden("kmem.xml", again);
}

/* the text vmt_domains_set_plan gives virDomainSetMetadata: without a
 * namespace declaration (libvirt adds its own and refuses a second: "failed
 * to create a new XML namespace"), and it reads back as the same plan */
static void test_format(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) p = read_golden("kmem.xml", &error);
	g_autofree char *text = NULL, *dn = NULL;
	g_autoptr(VmtTierPlan) back = NULL;

	g_assert_no_error(error);
	text = vmt_plan_meta_format(p, FALSE);
	g_assert_null(strstr(text, "xmlns"));
	g_assert_true(g_str_has_prefix(text, "<plan>"));
	back = vmt_plan_meta_parse(text, "g1", &error);
	g_assert_no_error(error);
	dn = vmt_nodeset_format(back->pmem_nodes);
	g_assert_cmpstr(back->tenant, ==, "acme");
	g_assert_cmpstr(back->klass, ==, "standard");
	g_assert_cmpuint(back->dram_bytes, ==, p->dram_bytes);
	g_assert_cmpuint(back->pmem_bytes, ==, p->pmem_bytes);
	g_assert_cmpint(back->policy, ==, p->policy);
	g_assert_cmpstr(dn, ==, "2-3");
}

static void test_devdax(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) p = read_golden("devdax.xml", &error);
	g_autofree char *again = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(p->backend, ==, VMT_BACKEND_DEVDAX);
	g_assert_cmpstr(p->devdax, ==, "dax0.0");
	g_assert_null(p->klass);
	g_assert_cmpuint(p->pmem_nodes->len, ==, 0);
	again = written(p);
	check_golden("devdax.xml", again);
}

/* vmt_domains_set_dram's edit: the quota changes, nothing else */
static void test_set_dram(void)
{
	g_autofree char *path = golden_path("kmem.xml"), *text = NULL, *edited = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) p = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	edited = vmt_plan_meta_set_dram(text, 512ull << 20, &error);
	g_assert_no_error(error);
	check_golden("kmem-set-dram.xml", edited);
	p = vmt_plan_meta_parse(edited, "g1", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(p->dram_bytes, ==, 512ull << 20);
	g_assert_cmpuint(p->pmem_bytes, ==, 805306368);
	g_assert_null(vmt_plan_meta_set_dram("<plan/>", 1, &error));
	g_assert_error(error, VMT_ERROR, VMT_ERROR_METADATA);
}

/* kmem.xml with FIELD's text replaced by VALUE (NULL: FIELD removed) */
static char *edited(const char *field, const char *value)
{
	g_autofree char *path = golden_path("kmem.xml"), *text = NULL;
	g_autofree char *open = g_strdup_printf("<vmtier:%s>", field);
	g_autofree char *close = g_strdup_printf("</vmtier:%s>", field);
	const char *a, *b;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	a = strstr(text, open);
	b = a ? strstr(a, close) : NULL;
	g_assert_nonnull(b);
	if (!value)
		return g_strdup_printf("%.*s%s", (int)(a - text), text, b + strlen(close));
	return g_strdup_printf("%.*s%s%s%s", (int)(a - text), text, open, value, b);
}

static void test_bad(void)
{
	static const struct {
		const char *field, *value, *message;
	} t[] = {
		{ "dram_bytes", "0", "bad <dram_bytes> '0' in vmtier's metadata" },
		{ "dram_bytes", "-1", "bad <dram_bytes> '-1' in vmtier's metadata" },
		{ "dram_bytes", "18446744073709551616", "bad <dram_bytes> '18446744073709551616' in vmtier's metadata" },
		{ "dram_bytes", NULL, "bad <dram_bytes> '' in vmtier's metadata" },
		{ "pmem_bytes", "1e9", "bad <pmem_bytes> '1e9' in vmtier's metadata" },
		{ "dram_nodes", "0-", "bad <dram_nodes> '0-' in vmtier's metadata" },
		{ "pmem_nodes", NULL, "bad <pmem_nodes> '' in vmtier's metadata" },
		{ "backend", "none", "bad <backend> 'none' in vmtier's metadata (kmem or devdax)" },
		{ "pmem_policy", "near\test", "bad <pmem_policy> 'near\\test' in vmtier's metadata" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *xml = edited(t[i].field, t[i].value);
		g_autoptr(GError) error = NULL;

		g_assert_null(vmt_plan_meta_parse(xml, "g1", &error));
		g_assert_error(error, VMT_ERROR, VMT_ERROR_METADATA);
		g_assert_cmpstr(error->message, ==, t[i].message);
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_null(vmt_plan_meta_parse("<plan", "g1", &error));
		g_assert_error(error, VMT_ERROR, VMT_ERROR_METADATA);
	}
}

/* the hook finds vmtier's <plan> by namespace among other metadata */
static void test_find(void)
{
	static const char xml[] =
		"<domain><name>g1</name><metadata><app xmlns='http://example.org/app'><plan/></app>"
		"<vmtier:plan xmlns:vmtier='" VMT_XMLNS "'><vmtier:dram_bytes>2097152"
		"</vmtier:dram_bytes></vmtier:plan></metadata></domain>";
	xmlDocPtr doc = xmlReadMemory(xml, sizeof xml - 1, NULL, NULL, XML_PARSE_NONET);
	xmlNodePtr plan = vmt_plan_meta_find(doc);
	g_autofree char *dram = NULL;

	g_assert_nonnull(plan);
	dram = vmt_plan_meta_field(plan, "dram_bytes");
	g_assert_cmpstr(dram, ==, "2097152");
	xmlFreeDoc(doc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	golden = g_getenv("VMTIER_GOLDEN");
	g_assert_nonnull(golden);
	g_test_add_func("/plan-meta/kmem", test_kmem);
	g_test_add_func("/plan-meta/format", test_format);
	g_test_add_func("/plan-meta/devdax", test_devdax);
	g_test_add_func("/plan-meta/set-dram", test_set_dram);
	g_test_add_func("/plan-meta/bad", test_bad);
	g_test_add_func("/plan-meta/find", test_find);
	return g_test_run();
}
