// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the /proc and cgroupfs files that vouch for QEMU (its
 * mappings against QMP's RAM map, its memory policy, its start time, its
 * cgroup and memory cgroup).  The input is a range to check (two 64-bit
 * little-endian numbers) and then, cut by 0x1e bytes: /proc/PID/maps,
 * /proc/PID/numa_maps, /proc/PID/stat, /proc/stat, /proc/PID/cgroup, and
 * the cgroup.type, cgroup.controllers and cgroup.procs of the cgroup
 * /machine.slice/vm.scope.  They are written into a host tree of their own
 * (the host layer's settable root) and read by the functions vmtierd
 * uses.  Whatever the files say, a cgroup path given back names a place
 * inside cgroupfs. */
#include "host-proc.h"
#include "sysfs.h"
#include "../unit/tmpdir.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PID 4242
#define CG "/machine.slice/vm.scope"

static const char *const files[] = {
	"proc/4242/maps", "proc/4242/numa_maps", "proc/4242/stat", "proc/stat", "proc/4242/cgroup",
	"sys/fs/cgroup" CG "/cgroup.type", "sys/fs/cgroup" CG "/cgroup.controllers",
	"sys/fs/cgroup" CG "/cgroup.procs",
};

static char *root;

static void remove_root(void)
{
	test_tree_remove(root);
}

static void write_tree(const uint8_t *data, size_t size)
{
	size_t at = 0;

	for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
		g_autofree char *path = g_build_filename(root, files[f], NULL);
		g_autofree char *dir = g_path_get_dirname(path);
		const uint8_t *end = at < size ? memchr(data + at, 0x1e, size - at) : NULL;
		size_t len = at < size ? (end ? (size_t)(end - data) : size) - at : 0;

		g_mkdir_with_parents(dir, 0700);
		g_file_set_contents(path, (const char *)data + at, (gssize)len, NULL);
		at += len + (end ? 1 : 0);
	}
}

/* what a cgroup path must be before anything under it is read */
static void check_cgroup_path(const char *cg)
{
	if (!cg)
		return;
	if (cg[0] != '/' || strstr(cg, "/../") || g_str_has_suffix(cg, "/..") || strstr(cg, "//") ||
	    strchr(cg, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	guint64 start = 0, len = 0;
	g_autoptr(GArray) nodes = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autofree char *seen = NULL, *cg = NULL, *memcg = NULL;
	guint node = 2;

	if (!root) {
		root = g_dir_make_tmp("vmtier-fuzz-proc-XXXXXX", NULL);
		if (!root)
			abort();
		vmt_sysfs_set_root(root);
		atexit(remove_root);
	}
	if (size >= 16) {
		memcpy(&start, data, 8);
		memcpy(&len, data + 8, 8);
		start = GUINT64_FROM_LE(start);
		len = GUINT64_FROM_LE(len);
		data += 16;
		size -= 16;
	}
	write_tree(data, size);
	g_array_append_val(nodes, node);

	(void)vmt_host_proc_check_mapped(PID, start, len, NULL);
	(void)vmt_host_proc_check_range(PID, start, len, "bind", nodes, &seen, NULL);
	(void)vmt_host_proc_alive(PID);
	(void)vmt_host_proc_started_at(vmt_host_proc_start_time(PID));
	(void)vmt_host_proc_same(PID, vmt_host_proc_start_time(PID));
	cg = vmt_host_proc_cgroup(PID, NULL);
	check_cgroup_path(cg);
	memcg = vmt_host_proc_memcg(PID, NULL);
	check_cgroup_path(memcg);
	if (memcg)
		(void)vmt_host_proc_memcg_alone(memcg, PID, NULL);
	return 0;
}
