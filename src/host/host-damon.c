// SPDX-License-Identifier: GPL-2.0-or-later
/* DAMON sysfs as vmtierd's scanner; see host-damon.h. */
#include "host-damon-private.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN VMT_DAMON_ADMIN
#define KD VMT_DAMON_KD
#define CTX VMT_DAMON_CTX

typedef struct {
	guint n_chunks;
	guint region_chunks;	/* chunks per DAMON region */
	GArray *ranges;		/* VmtRange, a copy */
} Target;

static void target_clear(gpointer p)
{
	Target *t = p;

	g_clear_pointer(&t->ranges, g_array_unref);
}

/* Tries at a write DAMON's sysfs refuses as busy, a millisecond apart. */
#define BUSY_TRIES 200

gboolean vmt_host_damon_write(const char *path, const char *value, GError **error)
{
	g_autoptr(GError) local = NULL;

	/* DAMON's sysfs only try-locks (mm/damon/sysfs.c state_store), and the
	 * kdamond takes the same lock briefly after every sample: a write that
	 * meets it fails EBUSY for nothing but bad timing (seen once a window
	 * asked for several updates).  Not someone else's DAMON, which
	 * vmtierd tells by its marker (G_IO_ERROR_BUSY), so a busy that
	 * stays is a plain failure. */
	for (guint i = 0; i < BUSY_TRIES; i++) {
		g_clear_error(&local);
		if (vmt_sysfs_write(path, value, &local))
			return TRUE;
		if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_BUSY))
			break;
		g_usleep(1000);
	}
	g_set_error(error, G_IO_ERROR, g_error_matches(local, G_IO_ERROR, G_IO_ERROR_BUSY) ?
		    G_IO_ERROR_FAILED : local->code, "%s", local->message);
	return FALSE;
}

gboolean vmt_host_damon_writef(const char *path, GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *v = NULL;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return vmt_host_damon_write(path, v, error);
}

/* short names for this file's many writes */
#define wr vmt_host_damon_write
#define wrf vmt_host_damon_writef

static char *state_of(guint i)
{
	g_autofree char *p = g_strdup_printf(VMT_DAMON_KDS "/%u/state", i);

	return vmt_sysfs_read(p, NULL);
}

static char *state(void)
{
	return state_of(0);
}

/* kdamond I's thread, when it runs.  The kernel answers EBUSY while
 * anyone holds DAMON's sysfs lock, a kdamond's own callbacks too
 * (mm/damon/sysfs.c pid_show's trylock): right after a start, the new
 * kdamond's first ones.  Read as "not running", mark() left a kdamond
 * just started out of the marker, and the next check took it for someone
 * else's (libvirt-tiering-group, 2026-12-07): so retry, for up to 1 s. */
static int running_pid_of(guint i)
{
	g_autofree char *p = g_strdup_printf(VMT_DAMON_KDS "/%u/pid", i);
	int pid = -1;

	for (guint tries = 0; tries < 500; tries++) {
		g_autoptr(GError) error = NULL;

		if (vmt_sysfs_read_int(p, &pid, &error))
			return pid;
		/* (GLib has no code of its own for EBUSY) */
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_FAILED))
			break;
		g_usleep(2000);
	}
	return -1;
}

static guint nr_kdamonds(void)
{
	guint64 n = 0;

	return vmt_sysfs_read_u64(VMT_DAMON_KDS "/nr_kdamonds", &n, NULL) ? (guint)n : 0;
}

/* The marker says what vmtierd left in DAMON sysfs: the number of
 * kdamonds (two numbers while it changes that), "nr N" a line each, and
 * the thread of every kdamond it turned on, "kdamond PID" a line each.
 * A marker from before the counts were recorded has no "nr" line. */
static gboolean marker_has_pid(const char *mark, int pid)
{
	g_autofree char *line = g_strdup_printf("kdamond %d\n", pid);

	return mark && strstr(mark, line);
}

static gboolean marker_has_nr(const char *mark, guint nr)
{
	g_autofree char *line = g_strdup_printf("\nnr %u\n", nr);

	return mark && (!strstr(mark, "\nnr ") || strstr(mark, line));
}

static void mark(VmtDamon *d, guint also_nr)
{
	g_autoptr(GString) m = g_string_new("vmtierd\n");

	g_string_append_printf(m, "nr %u\n", d->nr);
	if (also_nr != d->nr)
		g_string_append_printf(m, "nr %u\n", also_nr);
	for (guint k = 0, n = nr_kdamonds(); k < n; k++)
		if (running_pid_of(k) > 0)
			g_string_append_printf(m, "kdamond %d\n", running_pid_of(k));
	g_file_set_contents(d->marker, m->str, -1, NULL);
}

/* Still what vmtierd left: nobody turned ours off and set up their own
 * since (which takes rewriting nr_kdamonds: the kernel refuses that while
 * any kdamond runs). */
static gboolean owned(VmtDamon *d, GError **error)
{
	g_autofree char *m = NULL;
	guint n = nr_kdamonds();

	g_file_get_contents(d->marker, &m, NULL, NULL);
	if (n != d->nr) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "DAMON was taken over by someone else (%u kdamond(s), vmtierd left %u); "
			    "vmtier leaves it alone", n, d->nr);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		int pid = running_pid_of(i);

		if (pid > 0 && !marker_has_pid(m, pid)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "DAMON was taken over by someone else (kdamond %u, pid %d, not one "
				    "vmtierd started); vmtier leaves it alone", i, pid);
			return FALSE;
		}
	}
	return TRUE;
}

guint vmt_host_damon_leftover(VmtDamon *d)
{
	return d->leftover;
}

gboolean vmt_host_damon_running(VmtDamon *d)
{
	g_autofree char *s = state();

	return s && strcmp(s, "on") == 0;
}

gboolean vmt_host_damon_turn_off(VmtDamon *d, GError **error)
{
	if (!owned(d, error))
		return FALSE;
	/* neither the scanner's targets nor the offloaded guests are DAMON's now */
	g_array_set_size(d->targets, 0);
	d->damos_guests = 0;
	for (guint i = 0; i < d->nr; i++) {
		g_autofree char *s = state_of(i);
		g_autofree char *p = g_strdup_printf(VMT_DAMON_KDS "/%u/state", i);

		if (s && strcmp(s, "on") == 0 && !wr(p, "off", error))
			return FALSE;
	}
	return TRUE;
}

gboolean vmt_host_damon_set_nr(VmtDamon *d, guint n, GError **error)
{
	/* both counts while it changes: a crash in between leaves ours known */
	mark(d, n);
	if (!wrf(ADMIN "/kdamonds/nr_kdamonds", error, "%u", n))
		return FALSE;
	d->nr = n;
	mark(d, n);
	return TRUE;
}

gboolean vmt_host_damon_turn_on(VmtDamon *d, guint i, GError **error)
{
	g_autofree char *p = g_strdup_printf(VMT_DAMON_KDS "/%u/state", i);

	if (!wr(p, "on", error)) {
		g_prefix_error(error, "starting DAMON (kdamond %u): ", i);
		return FALSE;
	}
	mark(d, d->nr);
	return TRUE;
}

VmtDamon *vmt_host_damon_claim(const char *marker_path, const char *ops, GError **error)
{
	guint64 n = 0;
	g_autoptr(GError) local = NULL;
	g_autofree char *mark = NULL;
	VmtDamon *d;

	if (!vmt_sysfs_exists(ADMIN "/kdamonds/nr_kdamonds")) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "DAMON sysfs (%s) is not available", ADMIN);
		return NULL;
	}
	if (!vmt_sysfs_read_u64(ADMIN "/kdamonds/nr_kdamonds", &n, error))
		return NULL;
	g_file_get_contents(marker_path, &mark, NULL, NULL);
	if (n > 0 && !mark) {
		g_autofree char *s = state();

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "DAMON is in use by someone else (%" G_GUINT64_FORMAT
			    " kdamond(s), kdamond 0 %s); vmtier leaves it alone", n, s ? s : "?");
		return NULL;
	}
	/* the kdamonds are not as we left them: someone rewrote them */
	if (n > 0 && !marker_has_nr(mark, (guint)n)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "DAMON is in use by someone else (%" G_GUINT64_FORMAT " kdamond(s), not "
			    "as vmtierd left them); vmtier leaves it alone", n);
		return NULL;
	}
	/* the marker names the kdamond threads we started: a running kdamond
	 * with another pid was started by someone else after we went away */
	for (guint i = 0; i < n; i++) {
		int pid = running_pid_of(i);

		if (pid > 0 && !marker_has_pid(mark, pid)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "DAMON is in use by someone else (kdamond %u, pid %d, not one "
				    "vmtierd started); vmtier leaves it alone", i, pid);
			return NULL;
		}
	}
	/* the marker first: a crash from here on leaves a kdamond we know (an
	 * earlier run's marker already names ours) */
	if (!mark && !g_file_set_contents(marker_path, "vmtierd\nnr 0\n", -1, &local)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", local->message);
		return NULL;
	}
	d = g_new0(VmtDamon, 1);
	d->marker = g_strdup(marker_path);
	d->nr = (guint)n;
	for (guint i = 0; i < n; i++)
		d->leftover += running_pid_of(i) > 0;
	d->targets = g_array_new(FALSE, TRUE, sizeof(Target));
	g_array_set_clear_func(d->targets, target_clear);
	/* ours from an earlier run (or none): start from a clean kdamond */
	if (!vmt_host_damon_turn_off(d, error) || !vmt_host_damon_set_nr(d, 0, error) ||
	    !vmt_host_damon_set_nr(d, 1, error) || !wr(KD "/contexts/nr_contexts", "1", error)) {
		vmt_host_damon_release(d);
		return NULL;
	}
	if (!wr(CTX "/operations", ops, error)) {
		g_prefix_error(error, "DAMON lacks '%s' monitoring: ", ops);
		vmt_host_damon_release(d);
		return NULL;
	}
	return d;
}

void vmt_host_damon_release(VmtDamon *d)
{
	if (!d)
		return;
	/* keep the marker unless the kdamond is really gone: a kdamond we
	 * leave behind must stay recognisably ours; one taken over is not
	 * ours to turn off, and the marker must not claim it */
	if (!owned(d, NULL) ||
	    (vmt_host_damon_turn_off(d, NULL) && vmt_host_damon_set_nr(d, 0, NULL)))
		g_unlink(d->marker);
	g_free(d->marker);
	g_array_unref(d->targets);
	g_free(d);
}

/* T's DAMON regions: each range cut into pieces of region_chunks chunks, so
 * no region spans the gap between two ranges.  Returns how many; fills
 * OUT (VmtRange) when given. */
static guint target_regions(const Target *t, GArray *out)
{
	guint64 step = (guint64)t->region_chunks * VMT_CHUNK_SIZE;
	guint n = 0;

	for (guint k = 0; k < t->ranges->len; k++) {
		const VmtRange *r = &g_array_index(t->ranges, VmtRange, k);

		for (guint64 off = 0; off < r->len; off += step, n++) {
			VmtRange piece = { r->start + off, MIN(step, r->len - off) };

			if (out)
				g_array_append_val(out, piece);
		}
	}
	return n;
}

static gint by_start(gconstpointer a, gconstpointer b)
{
	const VmtRange *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

gboolean vmt_host_damon_write_regions(const char *target, const GArray *ranges, GError **error)
{
	g_autofree char *nr = g_strdup_printf("%s/regions/nr_regions", target);

	if (!wrf(nr, error, "%u", ranges->len))
		return FALSE;
	for (guint r = 0; r < ranges->len; r++) {
		const VmtRange *g = &g_array_index(ranges, VmtRange, r);
		g_autofree char *fs = g_strdup_printf("%s/regions/%u/start", target, r);
		g_autofree char *fe = g_strdup_printf("%s/regions/%u/end", target, r);

		if (!wrf(fs, error, "%" G_GUINT64_FORMAT, g->start) ||
		    !wrf(fe, error, "%" G_GUINT64_FORMAT, g->start + g->len))
			return FALSE;
	}
	return TRUE;
}

static gboolean write_target(guint i, const Target *t, int pid, GError **error)
{
	g_autofree char *dir = g_strdup_printf(CTX "/targets/%u", i);
	g_autofree char *p = g_strdup_printf("%s/pid_target", dir);
	g_autoptr(GArray) regs = g_array_new(FALSE, FALSE, sizeof(VmtRange));

	target_regions(t, regs);
	/* DAMON wants regions in address order; QEMU maps backends anywhere */
	g_array_sort(regs, by_start);
	return wrf(p, error, "%d", pid) && vmt_host_damon_write_regions(dir, regs, error);
}

static gboolean write_scheme(guint i, GError **error)
{
	g_autofree char *s = g_strdup_printf(CTX "/schemes/%u", i);
	struct {
		const char *file, *value;
	} kv[] = {
		{ "action", "stat" },
		/* the defaults match nothing: open every bound explicitly */
		{ "access_pattern/sz/min", "0" },
		{ "access_pattern/sz/max", "18446744073709551615" },
		{ "access_pattern/nr_accesses/min", "0" },
		{ "access_pattern/nr_accesses/max", "4294967295" },
		{ "access_pattern/age/min", "0" },
		{ "access_pattern/age/max", "4294967295" },
		{ "filters/nr_filters", "1" },
		{ "filters/0/type", "target" },
		{ "filters/0/matching", "N" },	/* filter out what is not target I */
	};

	for (guint k = 0; k < G_N_ELEMENTS(kv); k++) {
		g_autofree char *p = g_strdup_printf("%s/%s", s, kv[k].file);

		if (!wr(p, kv[k].value, error))
			return FALSE;
	}
	g_autofree char *idx = g_strdup_printf("%s/filters/0/damon_target_idx", s);
	return wrf(idx, error, "%u", i);
}

gboolean vmt_host_damon_start(VmtDamon *d, const VmtDamonTarget *targets, guint n,
			      guint sample_us, guint aggr_us, GError **error)
{
	guint regions = 0, region_chunks = 1;

	if (!vmt_host_damon_turn_off(d, error))
		return FALSE;
	if (n == 0)
		return TRUE;
	for (guint i = 0; i < n; i++) {
		Target t = { 0 };

		t.ranges = g_array_copy((GArray *)targets[i].ranges);
		t.n_chunks = vmt_ranges_n_chunks(t.ranges);
		region_chunks = MAX(region_chunks, (t.n_chunks + VMT_DAMON_MAX_REGIONS - 1) /
							   VMT_DAMON_MAX_REGIONS);
		g_array_append_val(d->targets, t);
	}
	/* one region size for all: DAMON merges regions below total/min_nr_regions,
	 * so a smaller guest's finer regions would not stay as given */
	for (guint i = 0; i < n; i++) {
		Target *t = &g_array_index(d->targets, Target, i);

		t->region_chunks = region_chunks;
		regions += target_regions(t, NULL);
	}
	d->max_accesses = MAX(1u, aggr_us / MAX(1u, sample_us));
	if (!wrf(CTX "/targets/nr_targets", error, "%u", n) ||
	    !wrf(CTX "/schemes/nr_schemes", error, "%u", n) ||
	    !wrf(CTX "/monitoring_attrs/intervals/sample_us", error, "%u", sample_us) ||
	    !wrf(CTX "/monitoring_attrs/intervals/aggr_us", error, "%u", aggr_us) ||
	    /* regions stay as given: never fewer (no merging), no room to split */
	    !wrf(CTX "/monitoring_attrs/nr_regions/min", error, "%u", MAX(3u, regions)) ||
	    !wrf(CTX "/monitoring_attrs/nr_regions/max", error, "%u", MAX(3u, regions)))
		return FALSE;
	for (guint i = 0; i < n; i++)
		if (!write_target(i, &g_array_index(d->targets, Target, i), targets[i].pid, error) ||
		    !write_scheme(i, error))
			return FALSE;
	return vmt_host_damon_turn_on(d, 0, error);
}

static gboolean read_region(const char *dir, guint64 *start, guint64 *end, guint64 *nr)
{
	const char *names[] = { "start", "end", "nr_accesses" };
	guint64 *out[] = { start, end, nr };

	for (guint k = 0; k < 3; k++) {
		g_autofree char *p = g_strdup_printf("%s/%s", dir, names[k]);

		if (!vmt_sysfs_read_u64(p, out[k], NULL))
			return FALSE;
	}
	return TRUE;
}

/* The bytes the last update found the N schemes tried: 0 when it ended
 * without an aggregation (every region of a target matches its scheme). */
static guint64 tried_bytes(guint n)
{
	guint64 sum = 0;

	for (guint i = 0; i < n; i++) {
		g_autofree char *p = g_strdup_printf(CTX "/schemes/%u/tried_regions/total_bytes", i);
		guint64 b = 0;

		if (!vmt_sysfs_read_u64(p, &b, NULL))
			return 1;	/* no such file: read the regions to know */
		sum += b;
	}
	return sum;
}

gboolean vmt_host_damon_collect(VmtDamon *d, guint16 *const *freqs, const guint *n_chunks, guint n,
				GError **error)
{
	/* the caller's guests must be the targets DAMON was started with */
	gboolean same = n == d->targets->len;
	gint64 t0;

	for (guint i = 0; same && i < n; i++)
		same = n_chunks[i] == g_array_index(d->targets, Target, i).n_chunks;
	if (!same) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "DAMON was started for other guests than these %u", n);
		return FALSE;
	}
	if (!owned(d, error))
		return FALSE;
	d->last_regions = 0;
	t0 = g_get_monotonic_time();
	for (d->last_tries = 1;; d->last_tries++) {
		if (!wr(KD "/state", "update_schemes_tried_regions", error)) {
			g_prefix_error(error, "DAMON (kdamond %s): ",
				       vmt_host_damon_running(d) ? "on" : "stopped");
			return FALSE;
		}
		/* The kernel ends an update that saw no aggregation after two
		 * aggregation intervals of the clock (mm/damon/sysfs-schemes.c,
		 * upd_timeout_jiffies), but counts an aggregation in samples:
		 * a kdamond whose samples take longer than the interval between
		 * them (a busy host, many regions) times out empty whenever the
		 * update began early in an aggregation, and vmtierd's next one
		 * begins right after the last.  Asking again at once runs the
		 * updates on back to back until the aggregation ends: the wait
		 * is one aggregation, as meant, not a window lost. */
		if (tried_bytes(d->targets->len) > 0 || d->last_tries == VMT_DAMON_UPDATE_TRIES)
			break;
	}
	d->last_update_us = (guint64)(g_get_monotonic_time() - t0);
	for (guint i = 0; i < d->targets->len; i++) {
		const Target *t = &g_array_index(d->targets, Target, i);
		g_autofree char *dir = g_strdup_printf(CTX "/schemes/%u/tried_regions", i);
		g_autoptr(GPtrArray) regs = vmt_sysfs_list(dir, "");

		memset(freqs[i], 0, t->n_chunks * sizeof(guint16));
		for (guint r = 0; r < regs->len; r++) {
			const char *name = regs->pdata[r];
			g_autofree char *rd = NULL;
			guint64 s, e, nr, f;

			if (!g_ascii_isdigit(name[0]))
				continue;
			rd = g_strdup_printf("%s/%s", dir, name);
			if (!read_region(rd, &s, &e, &nr) || e <= s)
				continue;
			d->last_regions++;
			f = MIN(nr, d->max_accesses) * VMT_ACCESS_MAX / d->max_accesses;
			/* every chunk the region covers gets its frequency */
			for (guint64 a = s; a < e;) {
				gint64 c = vmt_ranges_find(t->ranges, a);

				if (c >= 0)
					freqs[i][c] = (guint16)MAX(freqs[i][c], f);
				a = (a & ~(VMT_CHUNK_SIZE - 1)) + VMT_CHUNK_SIZE;
			}
		}
	}
	return TRUE;
}

void vmt_host_damon_last_update(VmtDamon *d, guint *regions, guint *tries, guint64 *us)
{
	*regions = d->last_regions;
	*tries = d->last_tries;
	*us = d->last_update_us;
}
