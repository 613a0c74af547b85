// SPDX-License-Identifier: GPL-2.0-or-later
/* `vmtier host online`: DAX devices to system-ram, blocks into a zone, with
 * libdaxctl.  Everything that can refuse is checked for every selected
 * device first, so a refusal changes nothing. */
#include <gio/gio.h>

#include "host-online.h"
#include "sysfs.h"

#include <daxctl/libdaxctl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	struct daxctl_memory *mem;
	VmtZone zone;
	int rc;
	gboolean finished;
	GMutex lock;
} OnlineJob;

GPtrArray *vmt_host_online_users(const char *device)
{
	g_autoptr(GPtrArray) pids = vmt_sysfs_list("/proc", "");
	g_autofree char *dev = g_strconcat("/dev/", device, NULL);
	GPtrArray *users = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < pids->len; i++) {
		const char *pid = g_ptr_array_index(pids, i);
		g_autofree char *maps_p = NULL, *maps = NULL, *comm_p = NULL, *comm = NULL;
		g_autofree char *fd_dir = NULL;
		g_autoptr(GPtrArray) fds = NULL;
		gboolean uses = FALSE;

		if (!g_ascii_isdigit(pid[0]))
			continue;
		maps_p = g_strdup_printf("/proc/%s/maps", pid);
		maps = vmt_sysfs_read(maps_p, NULL);
		uses = maps && strstr(maps, dev);
		fd_dir = g_strdup_printf("/proc/%s/fd", pid);
		fds = vmt_sysfs_list(fd_dir, "");
		for (guint j = 0; !uses && j < fds->len; j++) {
			g_autofree char *fp = g_strdup_printf("%s/%s", fd_dir, (char *)g_ptr_array_index(fds, j));
			g_autofree char *abs = vmt_sysfs_path(fp);
			g_autofree char *target = g_file_read_link(abs, NULL);
			uses = g_strcmp0(target, dev) == 0;
		}
		if (!uses)
			continue;
		comm_p = g_strdup_printf("/proc/%s/comm", pid);
		comm = vmt_sysfs_read(comm_p, NULL);
		g_ptr_array_add(users, g_strdup_printf("%s[%s]", comm ? comm : "?", pid));
	}
	return users;
}

static gpointer online_thread(gpointer data)
{
	OnlineJob *job = data;
	int rc = job->zone == VMT_ZONE_NORMAL ? daxctl_memory_online_no_movable(job->mem)
					      : daxctl_memory_online(job->mem);

	g_mutex_lock(&job->lock);
	job->rc = rc;
	job->finished = TRUE;
	g_mutex_unlock(&job->lock);
	return NULL;
}

/* Blocks of D online now, and how many of them in ZONE: a recount of the
 * device's own blocks, polled while onlining. */
static guint count_online(const VmtDaxDev *d, VmtZone zone, guint *in_zone)
{
	VmtDaxDev now = *d;	/* shallow: the recount touches only counters */

	vmt_host_dax_recount(&now);
	*in_zone = zone == VMT_ZONE_MOVABLE ? now.movable_blocks : now.online_blocks - now.movable_blocks;
	return now.online_blocks;
}

/* Online MEM's blocks into ZONE in a worker thread, reporting progress. */
static int online_with_progress(const VmtDaxDev *d, struct daxctl_memory *mem, VmtZone zone,
				VmtOnlineProgress progress, gpointer data)
{
	OnlineJob job = { .mem = mem, .zone = zone };
	GThread *t;
	gboolean finished = FALSE;

	g_mutex_init(&job.lock);
	t = g_thread_new("vmt-online", online_thread, &job);
	while (!finished) {
		guint in_zone;
		if (progress)
			progress(d->name, count_online(d, zone, &in_zone), d->n_blocks, data);
		g_usleep(100 * 1000);
		g_mutex_lock(&job.lock);
		finished = job.finished;
		g_mutex_unlock(&job.lock);
	}
	g_thread_join(t);
	g_mutex_clear(&job.lock);
	return job.rc;
}

static struct daxctl_dev *find_dev(struct daxctl_ctx *ctx, const char *name)
{
	struct daxctl_region *region;
	struct daxctl_dev *dev;

	daxctl_region_foreach(ctx, region)
		daxctl_dev_foreach(region, dev)
			if (strcmp(daxctl_dev_get_devname(dev), name) == 0)
				return dev;
	return NULL;
}

static gboolean in_state(const VmtDaxDev *d, VmtZone zone)
{
	return strcmp(d->mode, "system-ram") == 0 && d->n_blocks &&
	       d->online_blocks == d->n_blocks &&
	       d->movable_blocks == (zone == VMT_ZONE_MOVABLE ? d->n_blocks : 0);
}

static gboolean preflight(const VmtHost *host, GPtrArray *todo, GError **error)
{
	gboolean need_enable = FALSE;

	for (guint i = 0; i < todo->len; i++) {
		const VmtDaxDev *d = g_ptr_array_index(todo, i);
		g_autoptr(GPtrArray) users = vmt_host_online_users(d->name);

		if (strcmp(d->mode, "system-ram") != 0)
			need_enable = TRUE;
		if (users->len) {
			g_ptr_array_add(users, NULL);	/* for g_strjoinv */
			g_autofree char *list = g_strjoinv(", ", (char **)users->pdata);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "%s is in use by %s: stop it first", d->name, list);
			return FALSE;
		}
	}
	if (need_enable && !host->kmem_driver) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "the kmem driver is not loaded: run 'modprobe kmem' first");
		return FALSE;
	}
	if (need_enable && host->auto_online_blocks &&
	    strcmp(host->auto_online_blocks, "offline") != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "memory auto-onlining is '%s': the kernel would online the blocks "
			    "itself, racing this command; run 'echo offline > "
			    "/sys/devices/system/memory/auto_online_blocks' first",
			    host->auto_online_blocks);
		return FALSE;
	}
	return TRUE;
}

/* After a failure past the switch to system-ram: take the memory offline
 * and give the device back to device_dax, so it is as it was. */
static void rollback(struct daxctl_dev *dev, struct daxctl_memory *mem, GError **error)
{
	gboolean ok = (!mem || daxctl_memory_offline(mem) >= 0) &&
		      daxctl_dev_disable(dev) >= 0 && daxctl_dev_enable_devdax(dev) >= 0;

	if (error && *error) {
		char *m = g_strdup_printf("%s; %s", (*error)->message,
			ok ? "the device was put back in devdax mode"
			   : "putting it back in devdax mode failed too: it is left in system-ram mode");
		g_free((*error)->message);
		(*error)->message = m;
	}
}

static gboolean online_one(struct daxctl_ctx *ctx, const VmtDaxDev *d, VmtZone zone,
			   VmtOnlineProgress progress, gpointer data, GError **error)
{
	struct daxctl_dev *dev = find_dev(ctx, d->name);
	struct daxctl_memory *mem;
	gboolean switched = FALSE;
	guint in_zone;
	int rc;

	if (!dev) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "libdaxctl does not see %s", d->name);
		return FALSE;
	}
	if (strcmp(d->mode, "system-ram") != 0) {
		if (daxctl_dev_is_enabled(dev) && (rc = daxctl_dev_disable(dev)) < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc),
				    "cannot disable %s: %s", d->name, g_strerror(-rc));
			return FALSE;
		}
		rc = daxctl_dev_enable_ram(dev);
		if (rc < 0) {
			int rc2 = daxctl_dev_enable_devdax(dev);	/* put it back */
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc),
				    "cannot switch %s to system-ram: %s%s", d->name, g_strerror(-rc),
				    rc2 < 0 ? " (and it could not be re-enabled as devdax)" : "");
			return FALSE;
		}
		switched = TRUE;
	}
	mem = daxctl_dev_get_memory(dev);
	if (!mem) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%s has no memory blocks after switching to system-ram", d->name);
		if (switched)
			rollback(dev, NULL, error);
		return FALSE;
	}
	/* blocks online in the other zone have to go offline first */
	if (d->online_blocks && !in_state(d, zone)) {
		rc = daxctl_memory_offline(mem);
		if (rc < 0) {
			/* restore what was offlined, in the zone it was in */
			VmtZone was = d->movable_blocks ? VMT_ZONE_MOVABLE : VMT_ZONE_NORMAL;
			int rc2 = online_with_progress(d, mem, was, NULL, NULL);
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc),
				    "cannot offline %s's memory to move it to ZONE_%s: %s (its pages "
				    "could not be migrated away; stop guests using node %d)%s",
				    d->name, zone == VMT_ZONE_NORMAL ? "NORMAL" : "MOVABLE",
				    g_strerror(-rc), d->target_node,
				    rc2 < 0 ? "; restoring the offlined blocks failed too" : "");
			return FALSE;
		}
	}
	rc = online_with_progress(d, mem, zone, progress, data);
	if (rc < 0 || count_online(d, zone, &in_zone) != d->n_blocks || in_zone != d->n_blocks) {
		if (rc < 0)
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc),
				    "onlining %s's memory: %s", d->name, g_strerror(-rc));
		else
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "%s: only %u of %u blocks are online in ZONE_%s afterwards", d->name,
				    in_zone, d->n_blocks, zone == VMT_ZONE_NORMAL ? "NORMAL" : "MOVABLE");
		if (switched)
			rollback(dev, mem, error);
		return FALSE;
	}
	if (progress)
		progress(d->name, d->n_blocks, d->n_blocks, data);
	return TRUE;
}

gboolean vmt_host_online_run(const char *device, VmtZone zone, VmtOnlineProgress progress,
			     gpointer data, GPtrArray *done, GError **error)
{
	g_autoptr(VmtHost) host = vmt_host_load(error);
	g_autoptr(GPtrArray) todo = g_ptr_array_new();
	struct daxctl_ctx *ctx = NULL;
	gboolean ok = TRUE;
	int rc;

	if (!host)
		return FALSE;
	g_return_val_if_fail(zone == VMT_ZONE_NORMAL || zone == VMT_ZONE_MOVABLE, FALSE);
	if (strcmp(device, "all") == 0) {
		for (guint i = 0; i < host->dax->len; i++)
			g_ptr_array_add(todo, g_ptr_array_index(host->dax, i));
		if (!todo->len) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no DAX devices on this host");
			return FALSE;
		}
	} else {
		VmtDaxDev *d = vmt_host_dax(host, device);
		if (!d) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				    "no DAX device '%s' (see 'vmtier host')", device);
			return FALSE;
		}
		g_ptr_array_add(todo, d);
	}
	for (guint i = 0; i < todo->len;) {
		if (in_state(g_ptr_array_index(todo, i), zone))
			g_ptr_array_remove_index(todo, i);
		else
			i++;
	}
	if (!todo->len)
		return TRUE;
	if (geteuid() != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "insufficient privilege: onlining memory needs root");
		return FALSE;
	}
	if (!preflight(host, todo, error))
		return FALSE;
	rc = daxctl_new(&ctx);
	if (rc < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc),
			    "libdaxctl: %s", g_strerror(-rc));
		return FALSE;
	}
	for (guint i = 0; ok && i < todo->len; i++) {
		const VmtDaxDev *d = g_ptr_array_index(todo, i);
		ok = online_one(ctx, d, zone, progress, data, error);
		if (ok && done)
			g_ptr_array_add(done, g_strdup(d->name));
	}
	daxctl_unref(ctx);
	return ok;
}
