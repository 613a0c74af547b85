// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier host online --persist: daxctl's boot-time configuration, on a
 * sysfs tree shaped as drivers/nvdimm makes it (the dax device's parent,
 * the nd_dax device, has the uuid daxctl matches). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "host-check.h"
#include "host-persist.h"
#include "sysfs.h"

#define UUID0 "ed93e918-e165-49d8-921d-383d7b9660c5"
#define CONF "/etc/daxctl.conf.d/vmtier.conf"

static char *root;

static void put(const char *rel, const char *text)
{
	g_autofree char *p = g_build_filename(root, rel, NULL), *d = g_path_get_dirname(p);

	g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
	g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

/* daxN.0 in region N; WITH_UUID: its namespace has a label UUID */
static void add_dax(guint n, const char *uuid)
{
	g_autofree char *dev = g_strdup_printf("sys/devices/ndbus0/region%u/dax%u.0/dax%u.0", n, n, n);
	g_autofree char *uuid_p = g_strdup_printf("sys/devices/ndbus0/region%u/dax%u.0/uuid", n, n);
	g_autofree char *size = g_strdup_printf("%s/size", dev);
	g_autofree char *link = g_strdup_printf("%s/sys/bus/dax/devices/dax%u.0", root, n);
	g_autofree char *target = g_strdup_printf("../../../%s", dev + strlen("sys/"));
	g_autofree char *links = g_build_filename(root, "sys/bus/dax/devices", NULL);

	put(size, "268435456\n");
	if (uuid)
		put(uuid_p, uuid);
	g_assert_cmpint(g_mkdir_with_parents(links, 0755), ==, 0);
	g_assert_cmpint(symlink(target, link), ==, 0);
}

static char *conf_text(void)
{
	g_autofree char *p = g_build_filename(root, CONF, NULL);
	char *text = NULL;

	g_file_get_contents(p, &text, NULL, NULL);
	return text;
}

static guint count(const char *hay, const char *needle)
{
	guint n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void setup(void)
{
	root = g_dir_make_tmp("vmtier-persist-XXXXXX", NULL);
	vmt_sysfs_set_root(root);
	add_dax(0, UUID0 "\n");
	add_dax(1, NULL);	/* label-less */
}

static void teardown(void)
{
	g_autofree char *argv0 = g_strdup_printf("rm -rf '%s'", root);

	g_assert_true(g_spawn_command_line_sync(argv0, NULL, NULL, NULL, NULL));
	g_clear_pointer(&root, g_free);
}

static GPtrArray *devs(const char *a)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(v, g_strdup(a));
	return v;
}

static void test_write_lookup(void)
{
	g_autoptr(GPtrArray) d0 = devs("dax0.0");
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL, *text = NULL, *text2 = NULL;
	g_auto(VmtDaxBoot) before = { 0 }, after = { 0 }, moved = { 0 };

	setup();
	vmt_host_persist_lookup("dax0.0", &before);
	g_assert_cmpstr(before.uuid, ==, UUID0);
	g_assert_null(before.config);

	path = vmt_host_persist_write(d0, VMT_ZONE_NORMAL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(path, ==, CONF);
	text = conf_text();
	g_assert_nonnull(strstr(text, "[reconfigure-device vmtier-dax0.0]"));
	g_assert_nonnull(strstr(text, "nvdimm.uuid=" UUID0));
	g_assert_nonnull(strstr(text, "movable=false"));
	vmt_host_persist_lookup("dax0.0", &after);
	g_assert_cmpstr(after.config, ==, CONF);
	g_assert_true(after.system_ram && after.online && !after.movable);

	/* again, movable: one section for the namespace, replaced */
	g_clear_pointer(&path, g_free);
	path = vmt_host_persist_write(d0, VMT_ZONE_MOVABLE, &error);
	g_assert_no_error(error);
	text2 = conf_text();
	g_assert_cmpuint(count(text2, UUID0), ==, 1);
	vmt_host_persist_lookup("dax0.0", &moved);
	g_assert_true(moved.movable);
	teardown();
}

static void test_refused(void)
{
	const char *bad[] = { "dax1.0", "dax7.0", "../../etc", "dax0.0/../dax1.0" };
	g_autofree char *p = NULL;

	setup();
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GPtrArray) d = devs(bad[i]);
		g_autoptr(GError) error = NULL;

		g_assert_false(vmt_host_persist_check(d, VMT_ZONE_NORMAL, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error->message, bad[i]));
		g_assert_null(vmt_host_persist_write(d, VMT_ZONE_NORMAL, NULL));
	}
	/* another file already names the namespace: refused, that file named */
	put("etc/daxctl.conf.d/site.conf", "# the site's\n[reconfigure-device ours]\n"
	    "nvdimm.uuid = " UUID0 "\nmode = system-ram\n");
	{
		g_autoptr(GPtrArray) d = devs("dax0.0");
		g_autoptr(GError) error = NULL;
		g_auto(VmtDaxBoot) b = { 0 };

		g_assert_null(vmt_host_persist_write(d, VMT_ZONE_NORMAL, &error));
		g_assert_nonnull(strstr(error->message, "site.conf"));
		/* and daxctl's defaults read from it: online, movable */
		vmt_host_persist_lookup("dax0.0", &b);
		g_assert_cmpstr(b.config, ==, "/etc/daxctl.conf.d/site.conf");
		g_assert_true(b.system_ram && b.online && b.movable);
	}
	p = g_build_filename(root, CONF, NULL);
	g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));	/* nothing half-done */
	teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/persist/write-lookup", test_write_lookup);
	g_test_add_func("/persist/refused", test_refused);
	return g_test_run();
}
