// SPDX-License-Identifier: GPL-2.0-or-later
/* Names from users (src/common/names.c): checked where they come in
 * (vmtier define --tenant, the domain XML), escaped where they go out to a
 * terminal (vmtier list on a libvirt test driver with a crafted domain). */
#include <gio/gio.h>

#include "names.h"

#include <glib/gstdio.h>

#include <string.h>
#include <sys/wait.h>

static const char *vmtier_bin, *fixtures;

static void test_check(void)
{
	static const struct {
		VmtNameKind kind;
		const char *name, *error;	/* NULL: accepted */
	} cases[] = {
		{ VMT_NAME_TENANT, "acme", NULL },
		{ VMT_NAME_TENANT, "Müller & Söhne, 株式会社", NULL },
		{ VMT_NAME_TENANT, "", "bad --tenant '': it has 0 characters" },
		{ VMT_NAME_TENANT, "a\x1b[31mred", "bad --tenant 'a\\u001b[31mred': U+001B is not allowed" },
		{ VMT_NAME_TENANT, "evil\xe2\x80\xaetxt.exe", "bad --tenant 'evil\\u202etxt.exe': U+202E is not allowed" },
		{ VMT_NAME_TENANT, "csi\xc2\x9b" "2J", "bad --tenant 'csi\\u009b2J': U+009B is not allowed" },
		{ VMT_NAME_TENANT, "zero\xe2\x80\x8bwidth", "bad --tenant 'zero\\u200bwidth': U+200B" },
		{ VMT_NAME_TENANT, "line\nbreak", "bad --tenant 'line\\u000abreak': U+000A" },
		{ VMT_NAME_TENANT, "not \xff utf8", "bad --tenant 'not \\xff utf8': it is not UTF-8" },
		{ VMT_NAME_ID, "vm-1.a_b", NULL },
		{ VMT_NAME_ID, ".hidden", "bad --tenant '.hidden': it starts with '.'" },
		{ VMT_NAME_ID, "caf\xc3\xa9", "bad --tenant 'café': U+00E9 is not allowed" },
		{ VMT_NAME_ID, "a/b", "bad --tenant 'a/b': U+002F is not allowed" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gboolean ok = vmt_name_check(cases[i].kind, "--tenant", cases[i].name, &error);

		g_test_message("case %u", i);
		g_assert_cmpint(ok, ==, cases[i].error == NULL);
		if (cases[i].error) {
			g_assert_true(g_str_has_prefix(error->message, cases[i].error));
			g_assert_null(strchr(error->message, '\n'));
		}
	}
}

/* 128 characters, not bytes: 128 two-byte letters pass, 129 do not. */
static void test_length_in_characters(void)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 128; i++)
		g_string_append(s, "é");
	g_assert_true(vmt_name_check(VMT_NAME_TENANT, "--tenant", s->str, NULL));
	g_string_append(s, "é");
	g_assert_false(vmt_name_check(VMT_NAME_TENANT, "--tenant", s->str, &error));
	g_assert_nonnull(strstr(error->message, "it has 129 characters"));
	g_clear_error(&error);
	g_assert_true(vmt_name_check(VMT_NAME_ID, "name", "0123456789012345678901234567890123456789012345678901234567890123", NULL));
	g_assert_false(vmt_name_check(VMT_NAME_ID, "name", "01234567890123456789012345678901234567890123456789012345678901234", NULL));
}

static void test_escape(void)
{
	static const char *const cases[][2] = {
		{ "plain name", "plain name" },
		{ "a\x1b]0;title\x07", "a\\u001b]0;title\\u0007" },
		{ "evil\xe2\x80\xaetxt", "evil\\u202etxt" },
		{ "csi\xc2\x9b" "2J", "csi\\u009b2J" },
		{ "back\\slash", "back\\\\slash" },
		{ "bad \xff\xfe", "bad \\xff\\xfe" },
		{ "Söhne 株式会社", "Söhne 株式会社" },
		{ "forged\nvmtierd: line", "forged\\u000avmtierd: line" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *e = vmt_name_escape(cases[i][0]);
		g_assert_cmpstr(e, ==, cases[i][1]);
	}
	{
		g_autofree char *e = vmt_name_escape(NULL);
		g_assert_cmpstr(e, ==, "(null)");
	}
}

/* Runs vmtier ARGV... with the tiered host fixture; returns its exit status. */
static int run(char **out, char **err, const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = g_get_environ();
	g_autofree char *root = g_build_filename(fixtures, "tiered", NULL);
	g_autoptr(GError) error = NULL;
	int status;

	g_ptr_array_add(argv, (char *)vmtier_bin);
	for (; *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	env = g_environ_setenv(env, "VMTIER_HOST_ROOT", root, TRUE);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err,
				   &status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define DEFINE(...) ((const char *const[]){ "define", "t1", "--dram", "64M", "--pmem", "64M", \
	"--virt-type", "qemu", "--print-xml", __VA_ARGS__, NULL })

static void test_define(void)
{
	g_autoptr(GString) long_tenant = g_string_new(NULL);
	char *out = NULL, *err = NULL;

	/* 128 characters of two bytes each: a tenant the old byte count refused */
	for (guint i = 0; i < 128; i++)
		g_string_append(long_tenant, "ü");
	g_assert_cmpint(run(&out, &err, DEFINE("--tenant", long_tenant->str)), ==, 0);
	g_assert_nonnull(strstr(out, long_tenant->str));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a bidi override, an escape and a control character that XML 1.0 cannot hold */
	g_assert_cmpint(run(&out, &err, DEFINE("--tenant", "acme\xe2\x80\xaegpj.exe")), ==, 64);
	g_assert_cmpstr(err, ==, "vmtier define: bad --tenant 'acme\\u202egpj.exe': U+202E is not allowed; "
			"use 1-128 printable characters of UTF-8\n");
	g_assert_cmpstr(out, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run(&out, &err, DEFINE("--tenant", "a\x01z")), ==, 64);
	g_assert_null(strchr(err, '\x01'));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	/* a kernel path with a control character: refused (a bad command line), not written as &#1; */
	g_assert_cmpint(run(&out, &err, DEFINE("--kernel", "/opt/a\x01.elf")), ==, 64);
	g_assert_cmpstr(err, ==, "vmtier define: bad --kernel '/opt/a\\u0001.elf': control characters and "
			"bytes that are not UTF-8 cannot go into libvirt's XML\n");
	g_assert_cmpstr(out, ==, "");
	g_free(out);
	g_free(err);
}

/* A domain anyone with libvirt access could have edited: its tenant holds
 * a C1 CSI (U+009B, valid in XML) and a bidi override. */
static void test_list(void)
{
	g_autofree char *dir = g_dir_make_tmp("vmtier-names-XXXXXX", NULL);
	g_autofree char *node = g_build_filename(dir, "node.xml", NULL);
	g_autofree char *uri = g_strdup_printf("test://%s", node);
	g_autofree char *out = NULL, *err = NULL;
	const char *xml =
		"<node><domain type='test'><name>evil\xe2\x80\xae" "exe.txt</name><memory>65536</memory>"
		"<os><type>hvm</type></os><metadata>"
		"<vmtier:plan xmlns:vmtier='http://vmtier.dev/xmlns/plan/1'>"
		"<vmtier:tenant>acme\xc2\x9b" "2J</vmtier:tenant><vmtier:class>budget\xc2\x9b</vmtier:class>"
		"<vmtier:dram_bytes>67108864</vmtier:dram_bytes><vmtier:pmem_bytes>67108864</vmtier:pmem_bytes>"
		"<vmtier:backend>kmem</vmtier:backend><vmtier:pmem_policy>closest</vmtier:pmem_policy>"
		"<vmtier:dram_nodes>0</vmtier:dram_nodes><vmtier:pmem_nodes>2</vmtier:pmem_nodes>"
		"</vmtier:plan></metadata><devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev></devices>"
		"</domain></node>";

	g_assert_true(g_file_set_contents(node, xml, -1, NULL));
	g_assert_cmpint(run(&out, &err, (const char *const[]){ "list", "-c", uri, NULL }), ==, 0);
	g_test_message("%s%s", out, err);
	g_assert_null(strstr(out, "\xc2\x9b"));
	g_assert_null(strstr(out, "\xe2\x80\xae"));
	g_assert_nonnull(strstr(out, "evil\\u202eexe.txt"));
	g_assert_nonnull(strstr(out, "acme\\u009b2J"));
	g_assert_nonnull(strstr(out, "budget\\u009b"));
	g_assert_null(strstr(err, "\xe2\x80\xae"));
	g_unlink(node);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vmtier_bin = g_getenv("VMTIER");
	fixtures = g_getenv("VMTIER_FIXTURES");
	g_assert_nonnull(vmtier_bin);
	g_assert_nonnull(fixtures);
	g_test_add_func("/names/check", test_check);
	g_test_add_func("/names/length-in-characters", test_length_in_characters);
	g_test_add_func("/names/escape", test_escape);
	g_test_add_func("/names/define", test_define);
	g_test_add_func("/names/list", test_list);
	return g_test_run();
}
