// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "host-proc.h"
#include "nodeset.h"
#include "sysfs.h"

#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u
#define BATCH 4096u

static char *expected_policy(const char *policy, const GArray *nodes)
{
	g_autofree char *list = vmt_nodeset_format(nodes);

	if (strcmp(policy, "default") == 0)
		return g_strdup("default");
	if (strcmp(policy, "preferred") == 0)
		return g_strdup_printf("prefer:%s", list);
	return g_strdup_printf("%s:%s", policy, list);	/* bind, interleave */
}

gboolean vmt_host_proc_check_mapped(int pid, guint64 start, guint64 len, GError **error)
{
	g_autofree char *maps_p = g_strdup_printf("/proc/%d/maps", pid);
	g_autofree char *maps = vmt_sysfs_read(maps_p, error);
	g_auto(GStrv) lines = NULL;
	guint64 covered = start, end = start + len;

	if (!maps)
		return FALSE;
	if (end < start) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "range 0x%" PRIx64 "+0x%" PRIx64 " wraps around", start, len);
		return FALSE;
	}
	lines = g_strsplit(maps, "\n", -1);
	for (char **l = lines; *l && covered < end; l++) {
		guint64 lo, hi;
		if (sscanf(*l, "%" SCNx64 "-%" SCNx64, &lo, &hi) != 2 || hi <= covered || lo > covered)
			continue;
		covered = hi;
	}
	if (covered < end) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "pid %d has no mapping at 0x%" PRIx64 " (guest RAM 0x%" PRIx64 "+0x%" PRIx64 ")",
			    pid, covered, start, len);
		return FALSE;
	}
	return TRUE;
}

gboolean vmt_host_proc_check_range(int pid, guint64 start, guint64 len, const char *policy,
				   const GArray *nodes, char **seen, GError **error)
{
	g_autofree char *numa_p = g_strdup_printf("/proc/%d/numa_maps", pid);
	g_autofree char *numa = NULL, *want = expected_policy(policy, nodes);
	g_auto(GStrv) lines = NULL;
	guint64 end = start + len;

	if (!vmt_host_proc_check_mapped(pid, start, len, error))
		return FALSE;
	numa = vmt_sysfs_read(numa_p, error);
	if (!numa)
		return FALSE;
	lines = g_strsplit(numa, "\n", -1);
	for (char **l = lines; *l; l++) {
		guint64 lo;
		char pol[128];
		if (sscanf(*l, "%" SCNx64 " %127s", &lo, pol) != 2 || lo < start || lo >= end)
			continue;
		if (strcmp(pol, want) != 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "pid %d maps guest RAM at 0x%" PRIx64 " with policy %s, but QEMU says %s",
				    pid, lo, pol, want);
			return FALSE;
		}
	}
	if (seen)
		*seen = g_steal_pointer(&want);
	return TRUE;
}

gboolean vmt_host_proc_resident(int pid, guint64 start, guint64 len, GArray *pages,
				guint64 *absent, GError **error)
{
	g_autofree void **addrs = g_new(void *, BATCH);
	g_autofree int *status = g_new(int, BATCH);
	guint64 n = len / PAGE;

	*absent = 0;
	for (guint64 done = 0; done < n;) {
		unsigned long k = (unsigned long)MIN((guint64)BATCH, n - done);

		for (unsigned long i = 0; i < k; i++)
			addrs[i] = (void *)(uintptr_t)(start + (done + i) * PAGE);
		if (move_pages(pid, k, addrs, NULL, status, 0) < 0) {
			int e = errno;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
				    "move_pages(pid %d): %s", pid, g_strerror(e));
			return FALSE;
		}
		for (unsigned long i = 0; i < k; i++) {
			if (status[i] >= 0) {
				if ((guint)status[i] >= pages->len)
					g_array_set_size(pages, (guint)status[i] + 1);
				g_array_index(pages, guint64, status[i])++;
			} else {
				(*absent)++;
			}
		}
		done += k;
	}
	return TRUE;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FILE, fclose)

/* a "Key: N kB" line's bytes, N bounded so that sums cannot wrap */
static gboolean smaps_kb(const char *line, const char *key, guint64 *bytes)
{
	size_t k = strlen(key);
	guint64 kb;

	if (strncmp(line, key, k) != 0 || sscanf(line + k, " %" SCNu64 " kB", &kb) != 1)
		return FALSE;
	*bytes = MIN(kb, G_MAXUINT32) * 1024;
	return TRUE;
}

gboolean vmt_host_proc_huge_bytes(int pid, guint64 start, guint64 len, guint64 *rss,
				  guint64 *huge, GError **error)
{
	g_autofree char *rel = g_strdup_printf("/proc/%d/smaps", pid);
	g_autofree char *path = vmt_sysfs_path(rel);
	g_autoptr(FILE) f = fopen(path, "re");
	char line[512];
	gboolean at_start = TRUE, in = FALSE;
	guint64 end = start + len;

	*rss = *huge = 0;
	if (!f) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", rel,
			    g_strerror(e));
		return FALSE;
	}
	/* line by line: a QEMU may have tens of thousands of mappings */
	while (fgets(line, sizeof(line), f)) {
		gboolean whole = strchr(line, '\n') != NULL;
		guint64 lo, hi, b;

		/* only at a line's start (a long path arrives in pieces) */
		if (at_start && sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &lo, &hi) == 2)
			in = lo >= start && lo < end;
		else if (at_start && in && smaps_kb(line, "Rss:", &b))
			*rss += b;
		else if (at_start && in && (smaps_kb(line, "AnonHugePages:", &b) ||
					    smaps_kb(line, "ShmemPmdMapped:", &b) ||
					    smaps_kb(line, "FilePmdMapped:", &b)))
			*huge += b;
		at_start = whole;
	}
	if (ferror(f)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: read error", rel);
		return FALSE;
	}
	*huge = MIN(*huge, *rss);
	return TRUE;
}

gboolean vmt_host_proc_alive(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *stat = vmt_sysfs_read(path, NULL);
	const char *p = stat ? strrchr(stat, ')') : NULL;

	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	return p && p[1] == ' ' && p[2] && p[2] != 'Z' && p[2] != 'X';
}

guint64 vmt_host_proc_start_time(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *stat = vmt_sysfs_read(path, NULL);
	const char *p = stat ? strrchr(stat, ')') : NULL;
	g_auto(GStrv) f = NULL;

	/* after "pid (comm) ": state is field 3, starttime field 22 */
	if (!p || p[1] != ' ')
		return 0;
	f = g_strsplit(p + 2, " ", 0);
	return g_strv_length(f) > 19 ? g_ascii_strtoull(f[19], NULL, 10) : 0;
}

gint64 vmt_host_proc_started_at(guint64 start_time)
{
	g_autofree char *stat = vmt_sysfs_read("/proc/stat", NULL);
	const char *btime = stat ? strstr(stat, "\nbtime ") : NULL;
	long hz = sysconf(_SC_CLK_TCK);

	char *end = NULL;
	gint64 boot;
	guint64 secs;

	if (!btime || !start_time || hz <= 0)
		return 0;
	boot = g_ascii_strtoll(btime + 7, &end, 10);
	secs = start_time / (guint64)hz;
	/* a file that says otherwise than the kernel would: no time, not an
	 * overflow (found by the proc fuzz target) */
	if (end == btime + 7 || boot < 0 || secs > (guint64)(G_MAXINT64 - boot))
		return 0;
	return boot + (gint64)secs;
}

gboolean vmt_host_proc_same(int pid, guint64 start_time)
{
	return vmt_host_proc_alive(pid) &&
	       (start_time == 0 || vmt_host_proc_start_time(pid) == start_time);
}

#define CGROUP2 "/sys/fs/cgroup"

static char *cgroup_file(const char *cg, const char *name)
{
	g_autofree char *p = g_strdup_printf(CGROUP2 "%s/%s", strcmp(cg, "/") ? cg : "", name);

	return vmt_sysfs_read(p, NULL);
}

/* An absolute path of plain components: no empty, "." or ".." one and no
 * control character, so that what is read under it stays in cgroupfs. */
static gboolean cgroup_path_ok(const char *cg)
{
	g_auto(GStrv) parts = NULL;

	if (cg[0] != '/')
		return FALSE;
	if (strcmp(cg, "/") == 0)
		return TRUE;
	for (const char *c = cg; *c; c++)
		if ((guchar)*c < 0x20 || *c == 0x7f)
			return FALSE;
	parts = g_strsplit(cg + 1, "/", -1);
	for (char **p = parts; *p; p++)
		if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
			return FALSE;
	return TRUE;
}

char *vmt_host_proc_cgroup(int pid, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", pid);
	g_autofree char *text = vmt_sysfs_read(path, error);
	g_autofree char *cg = NULL;
	g_auto(GStrv) lines = NULL;

	if (!text)
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l && !cg; l++)
		if (g_str_has_prefix(*l, "0::"))
			cg = g_strdup(*l + 3);
	if (!cg) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "pid %d is in no cgroup v2 hierarchy (cgroup v1 only?)", pid);
		return NULL;
	}
	if (!cgroup_path_ok(cg)) {
		g_autofree char *shown = g_strescape(cg, NULL);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: not a cgroup path: '%s'", path, shown);
		return NULL;
	}
	return g_steal_pointer(&cg);
}

char *vmt_host_proc_memcg(int pid, GError **error)
{
	g_autofree char *cg = vmt_host_proc_cgroup(pid, error);
	g_autofree char *controllers = NULL;
	g_auto(GStrv) names = NULL;
	gboolean memory = FALSE;

	if (!cg)
		return NULL;
	/* memory is a domain controller: a threaded cgroup's pages are charged
	 * to its threaded subtree's domain (paths are in our cgroup namespace,
	 * the kernel's own when vmtierd runs as a plain service) */
	while (strcmp(cg, "/") != 0) {
		g_autofree char *type = cgroup_file(cg, "cgroup.type");
		char *parent;

		if (!type || strcmp(type, "threaded") != 0)
			break;
		parent = g_path_get_dirname(cg);
		g_free(cg);
		cg = parent;
	}
	if (strcmp(cg, "/") == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "pid %d's memory is charged to the root cgroup, which every process "
			    "shares", pid);
		return NULL;
	}
	/* a cgroup without memory charges its pages to an ancestor's */
	controllers = cgroup_file(cg, "cgroup.controllers");
	names = g_strsplit(controllers ? controllers : "", " ", -1);
	for (char **c = names; *c; c++)
		memory |= strcmp(*c, "memory") == 0;
	if (!memory) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "pid %d's cgroup %s has no memory controller of its own (controllers: "
			    "'%s')", pid, cg, controllers ? controllers : "?");
		return NULL;
	}
	return g_steal_pointer(&cg);
}

/* Processes in CG and the cgroups below it other than PID: the first one
 * found, or 0. */
static int other_process(const char *cg, int pid)
{
	g_autofree char *procs = cgroup_file(cg, "cgroup.procs");
	g_autofree char *dir = g_strdup_printf(CGROUP2 "%s", strcmp(cg, "/") ? cg : "");
	g_autoptr(GPtrArray) kids = vmt_sysfs_list(dir, "");
	g_auto(GStrv) pids = g_strsplit(procs ? procs : "", "\n", -1);

	for (char **p = pids; *p; p++)
		if (**p && atoi(*p) != pid)
			return atoi(*p);
	for (guint i = 0; i < kids->len; i++) {
		g_autofree char *sub = g_strdup_printf("%s/%s", strcmp(cg, "/") ? cg : "",
						       (char *)kids->pdata[i]);
		g_autofree char *probe = cgroup_file(sub, "cgroup.procs");
		int other;

		if (probe && (other = other_process(sub, pid)))
			return other;
	}
	return 0;
}

gboolean vmt_host_proc_memcg_alone(const char *memcg, int pid, GError **error)
{
	int other = other_process(memcg, pid);

	if (!other)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
		    "memory cgroup %s holds pid %d too, not only pid %d", memcg, other, pid);
	return FALSE;
}
