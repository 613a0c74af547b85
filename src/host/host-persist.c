// SPDX-License-Identifier: GPL-2.0-or-later
/* daxctl's boot-time configuration for vmtier's DAX devices (host-persist.h). */
#include "host-persist.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <errno.h>
#include <string.h>

#define CONF_DIR "/etc/daxctl.conf.d"
#define CONF_FILE "vmtier.conf"
#define SECTION "reconfigure-device "

void vmt_dax_boot_clear(VmtDaxBoot *b)
{
	g_clear_pointer(&b->uuid, g_free);
	g_clear_pointer(&b->config, g_free);
}

/* The UUID daxctl matches nvdimm.uuid against: ndctl_dax_get_uuid() of the
 * nd_dax device that is DEVICE's parent, its "uuid" attribute
 * (drivers/nvdimm/pfn_devs.c), written in the namespace's info block.
 * Label-less devdax, CXL and HMEM devices have none. */
static char *dax_uuid(const char *device)
{
	g_autofree char *link = g_strdup_printf("/sys/bus/dax/devices/%s", device);
	g_autofree char *dir = vmt_sysfs_resolve(link);
	g_autofree char *parent = NULL, *uuid_p = NULL;
	char *uuid;

	if (!dir || !strstr(dir, "/ndbus"))
		return NULL;
	parent = g_path_get_dirname(dir);
	uuid_p = g_strconcat(parent, "/uuid", NULL);
	uuid = vmt_sysfs_read(uuid_p, NULL);
	if (uuid && (!g_uuid_string_is_valid(uuid) ||
		     strcmp(uuid, "00000000-0000-0000-0000-000000000000") == 0))
		g_clear_pointer(&uuid, g_free);
	return uuid;
}

static gboolean get_bool(GKeyFile *kf, const char *group, const char *key, gboolean dflt)
{
	g_autoptr(GError) error = NULL;
	gboolean v = g_key_file_get_boolean(kf, group, key, &error);

	return error ? dflt : v;
}

/* The section of FILE naming UUID, if any. */
static char *find_section(GKeyFile *kf, const char *uuid)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (guint i = 0; groups && groups[i]; i++) {
		g_autofree char *u = NULL;

		if (!g_str_has_prefix(groups[i], SECTION))
			continue;
		u = g_key_file_get_string(kf, groups[i], "nvdimm.uuid", NULL);
		if (u && g_ascii_strcasecmp(g_strstrip(u), uuid) == 0)
			return g_strdup(groups[i]);
	}
	return NULL;
}

static GKeyFile *load_conf(const char *path)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL))
		return NULL;
	return g_steal_pointer(&kf);
}

/* Files daxctl reads, in its order (sorted names), as root-relative paths. */
static GPtrArray *conf_files(void)
{
	g_autoptr(GPtrArray) names = vmt_sysfs_list(CONF_DIR, "");
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; names && i < names->len; i++)
		if (g_str_has_suffix(names->pdata[i], ".conf"))
			g_ptr_array_add(out, g_strdup_printf(CONF_DIR "/%s", (char *)names->pdata[i]));
	return out;
}

void vmt_host_persist_lookup(const char *device, VmtDaxBoot *out)
{
	g_autoptr(GPtrArray) files = NULL;

	memset(out, 0, sizeof(*out));
	out->uuid = dax_uuid(device);
	if (!out->uuid)
		return;
	files = conf_files();
	for (guint i = 0; i < files->len; i++) {
		g_autofree char *path = vmt_sysfs_path(files->pdata[i]);
		g_autoptr(GKeyFile) kf = load_conf(path);
		g_autofree char *group = kf ? find_section(kf, out->uuid) : NULL;
		g_autofree char *mode = NULL;

		if (!group)
			continue;
		mode = g_key_file_get_string(kf, group, "mode", NULL);
		out->config = g_strdup(files->pdata[i]);
		/* daxctl's defaults: system-ram, online, movable */
		out->system_ram = !mode || strcmp(g_strstrip(mode), "system-ram") == 0;
		out->online = get_bool(kf, group, "online", TRUE);
		out->movable = get_bool(kf, group, "movable", TRUE);
		return;
	}
}

static char *persist(GPtrArray *devices, VmtZone zone, gboolean write, GError **error)
{
	g_autofree char *rel = g_strdup(CONF_DIR "/" CONF_FILE);
	g_autofree char *path = vmt_sysfs_path(rel), *dir = vmt_sysfs_path(CONF_DIR);
	g_autoptr(GKeyFile) kf = load_conf(path);
	g_autofree char *data = NULL;
	gsize len;

	if (!kf) {
		kf = g_key_file_new();
		g_key_file_set_comment(kf, NULL, NULL,
				       " Written by vmtier host online --persist: at boot, daxctl's udev\n"
				       " rule makes these devices system-ram, online, in the zone chosen.",
				       NULL);
	}
	for (guint i = 0; i < devices->len; i++) {
		const char *dev = devices->pdata[i];
		g_auto(VmtDaxBoot) boot = { 0 };
		g_autofree char *group = NULL, *old = NULL;

		g_autofree char *link = g_strdup_printf("/sys/bus/dax/devices/%s", dev);

		if (!g_regex_match_simple("^dax[0-9]+\\.[0-9]+$", dev, 0, 0) || !vmt_sysfs_exists(link)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no DAX device '%s'", dev);
			return NULL;
		}
		vmt_host_persist_lookup(dev, &boot);
		if (!boot.uuid) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
				    "%s has no NVDIMM dax UUID (a label-less, CXL or HMEM device): "
				    "daxctl's boot-time configuration cannot name it", dev);
			return NULL;
		}
		if (boot.config && strcmp(boot.config, rel) != 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
				    "%s (uuid %s) is already configured in %s: edit that file "
				    "(mode = system-ram, online = true, movable = %s)",
				    dev, boot.uuid, boot.config, zone == VMT_ZONE_MOVABLE ? "true" : "false");
			return NULL;
		}
		/* one section per uuid, named after the device that has it now */
		while ((old = find_section(kf, boot.uuid))) {
			g_key_file_remove_group(kf, old, NULL);
			g_clear_pointer(&old, g_free);
		}
		group = g_strdup_printf(SECTION "vmtier-%s", dev);
		g_key_file_set_string(kf, group, "nvdimm.uuid", boot.uuid);
		g_key_file_set_string(kf, group, "mode", "system-ram");
		g_key_file_set_string(kf, group, "online", "true");
		g_key_file_set_string(kf, group, "movable", zone == VMT_ZONE_MOVABLE ? "true" : "false");
	}
	if (!write)
		return g_steal_pointer(&rel);
	data = g_key_file_to_data(kf, &len, NULL);
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s",
			    CONF_DIR, g_strerror(errno));
		return NULL;
	}
	if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
				      error))
		return NULL;
	return g_steal_pointer(&rel);
}

char *vmt_host_persist_write(GPtrArray *devices, VmtZone zone, GError **error)
{
	return persist(devices, zone, TRUE, error);
}

gboolean vmt_host_persist_check(GPtrArray *devices, VmtZone zone, GError **error)
{
	g_autofree char *path = persist(devices, zone, FALSE, error);

	return path != NULL;
}
