// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "config.h"
#include "class.h"
#include "tier-plan.h"

char *vmt_class_dir(void)
{
	const char *d = g_getenv("VMTIER_TEMPLATE_DIR");

	return g_build_filename(d && *d ? d : VMT_TEMPLATEDIR, "classes", NULL);
}

void vmt_class_free(VmtClass *c)
{
	if (!c)
		return;
	g_free(c->name);
	g_free(c);
}

/* KEY as a share in (0, 1], or (0, 1) unless ONE_OK; *PRESENT says whether it is there. */
static gboolean get_share(GKeyFile *kf, const char *path, const char *key, gboolean one_ok,
			  double *out, gboolean *present, GError **error)
{
	g_autoptr(GError) local = NULL;

	*present = g_key_file_has_key(kf, "class", key, NULL);
	if (!*present)
		return TRUE;
	*out = g_key_file_get_double(kf, "class", key, &local);
	if (local) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, local->message);
		return FALSE;
	}
	if (!(*out > 0 && (*out < 1 || (one_ok && *out == 1)))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: %s %g is not between 0 and 1", path, key, *out);
		return FALSE;
	}
	return TRUE;
}

/* MAX keeps what the daemon derives from it (bytes per window) far from
 * overflowing. */
static gboolean get_uint(GKeyFile *kf, const char *path, const char *key, guint max, guint *out,
			 GError **error)
{
	g_autoptr(GError) local = NULL;
	gint64 v;

	if (!g_key_file_has_key(kf, "class", key, NULL))
		return TRUE;
	v = g_key_file_get_int64(kf, "class", key, &local);
	if (local || v <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: %s is not a positive whole number", path, key);
		return FALSE;
	}
	if (v > max) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: %s %" G_GINT64_FORMAT " is over %u", path, key, v, max);
		return FALSE;
	}
	*out = (guint)v;
	return TRUE;
}

VmtClass *vmt_class_load(const char *dir, const char *name, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(VmtClass) c = g_new0(VmtClass, 1);
	g_autofree char *path = NULL;
	gboolean has_share, has_target, has_intervals;

	if (!vmt_tier_plan_check_name(name, NULL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad class name '%s'", name);
		return NULL;
	}
	path = g_strdup_printf("%s/%s.conf", dir, name);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no class '%s' (no %s)", name, path);
		return NULL;
	}
	c->name = g_strdup(name);
	if (!get_share(kf, path, "dram_share", FALSE, &c->dram_share, &has_share, error) ||
	    !get_share(kf, path, "slo_target", TRUE, &c->slo_target, &has_target, error) ||
	    !get_share(kf, path, "slo_intervals", TRUE, &c->slo_intervals, &has_intervals, error) ||
	    !get_uint(kf, path, "scan_interval_s", 86400, &c->scan_interval_s, error) ||
	    !get_uint(kf, path, "max_migrate_mbs", 1000000, &c->max_migrate_mbs, error))
		return NULL;
	/* 0 is a valid grace (none), which get_uint refuses */
	c->slo_grace_s = VMT_CLASS_SLO_GRACE_S;
	if (g_key_file_has_key(kf, "class", "slo_grace_s", NULL)) {
		g_autofree char *v = g_key_file_get_value(kf, "class", "slo_grace_s", NULL);

		if (g_strcmp0(g_strstrip(v), "0") == 0)
			c->slo_grace_s = 0;
		else if (!get_uint(kf, path, "slo_grace_s", 86400, &c->slo_grace_s, error))
			return NULL;
	}
	if (!has_share) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no dram_share", path);
		return NULL;
	}
	if (has_target != has_intervals) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: give both slo_target and slo_intervals, or neither", path);
		return NULL;
	}
	c->has_slo = has_target;
	return g_steal_pointer(&c);
}
