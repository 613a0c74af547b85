// SPDX-License-Identifier: GPL-2.0-or-later
/* The mover's batching across ranges, on this process's own memory and the
 * real move_pages(2): every page of the ranges is accounted exactly once,
 * whatever the ranges' sizes (empty, partial pages, more than one batch).
 * The machine may have one node: moving to node 0 finds present pages
 * already there and untouched ones absent. */
#include "error.h"
#include "host-move.h"
#include "host-proc.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u

static void test_ranges(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	/* 5000 pages, more than one 4096-page batch; every third one touched */
	guint64 len = 5000 * (guint64)PAGE, touched = 0, expect = 0;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VmtMoveResult res = { 0 };
	g_autofree int *where = NULL;
	struct {
		guint64 off, len;
	} parts[] = {
		{ 0, 3000 * PAGE },
		{ 3000 * PAGE, 0 },		/* empty */
		{ 3000 * PAGE, PAGE + 100 },	/* one whole page */
		{ 3001 * PAGE, 100 },		/* none */
		{ 3001 * PAGE, 1999 * PAGE },
	};

	g_assert_true(p != MAP_FAILED);
	g_assert_cmpint(madvise(p, len, MADV_NOHUGEPAGE), ==, 0);
	for (guint64 i = 0; i < 5000; i += 3, touched++)
		p[i * PAGE] = 1;
	for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
		VmtRange r = { (guintptr)p + parts[i].off, parts[i].len };

		g_array_append_val(ranges, r);
		expect += parts[i].len / PAGE;
	}
	g_assert_cmpuint(expect, ==, 5000);
	where = g_new(int, 5000);
	g_assert_true(vmt_host_move_ranges(getpid(), ranges, 0, &res, where, &error));
	g_assert_no_error(error);
	/* node 0 exists everywhere; a present page elsewhere is moved */
	g_assert_cmpuint(res.already + res.moved_pages, ==, touched);
	g_assert_cmpuint(res.absent, ==, 5000 - touched);
	g_assert_cmpuint(res.busy + res.access + res.nomem + res.other, ==, 0);
	/* where each page is, in order: the touched ones on node 0 */
	for (guint i = 0; i < 5000; i++)
		g_assert_cmpint(where[i], ==, i % 3 == 0 ? 0 : -ENOENT);
	munmap(p, len);
}

/* The mover reads where pages are from pagemap's PFNs; a page only read
 * maps the shared zero page, which pagemap shows present (on node 0 here)
 * but move_pages cannot move: it must count as absent, not as already
 * there.  A page shared with a child (not exclusive) is asked about too. */
static void test_zero_and_shared(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	guint64 len = 64 * (guint64)PAGE;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VmtMoveResult res = { 0 };
	VmtRange r = { (guintptr)p, len };
	int where[64], fds[2];
	pid_t child;
	char c;

	g_assert_true(p != MAP_FAILED);
	g_assert_cmpint(madvise((void *)p, len, MADV_NOHUGEPAGE), ==, 0);
	/* 0-15 written, 16-31 read (the zero page), 32-47 written then
	 * shared with a child by fork, 48-63 untouched */
	for (guint i = 0; i < 16; i++)
		p[i * PAGE] = 1;
	for (guint i = 16; i < 32; i++)
		c = p[i * PAGE];
	(void)c;
	for (guint i = 32; i < 48; i++)
		p[i * PAGE] = 1;
	g_assert_cmpint(pipe(fds), ==, 0);
	child = fork();
	if (child == 0) {
		char b;

		close(fds[1]);
		while (read(fds[0], &b, 1) < 0)
			;
		_exit(0);
	}
	close(fds[0]);
	/* the parent writes 0-15 again: still its own, exclusive pages */
	for (guint i = 0; i < 16; i++)
		p[i * PAGE] = 2;
	g_array_append_val(ranges, r);
	g_assert_true(vmt_host_move_ranges(getpid(), ranges, 0, &res, where, &error));
	g_assert_no_error(error);
	close(fds[1]);
	g_assert_cmpint(waitpid(child, NULL, 0), ==, child);
	g_assert_cmpuint(res.already + res.moved_pages, ==, 32);
	g_assert_cmpuint(res.absent, ==, 32);
	g_assert_cmpuint(res.busy + res.access + res.nomem + res.other, ==, 0);
	for (guint i = 0; i < 64; i++)
		g_assert_cmpint(where[i], ==, i < 16 || (i >= 32 && i < 48) ? 0 : i < 32 ? -EFAULT : -ENOENT);
	munmap((void *)p, len);
}

static void test_gone(void)
{
	g_autoptr(GError) error = NULL;
	VmtMoveResult res = { 0 };
	static char page[PAGE] __attribute__((aligned(PAGE)));
	GPid pid;
	const char *argv[] = { "true", NULL };

	/* a pid that existed and is gone: the error says not found */
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
				    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
				    NULL));
	g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
	page[0] = 1;
	g_assert_false(vmt_host_move_range(pid, (guintptr)page, PAGE, 0, &res, &error));
	g_assert_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE);
}

/* A pid is only the same process while its start time is: vmtierd must
 * not take a reused pid for its QEMU. */
static void test_same_process(void)
{
	guint64 st = vmt_host_proc_start_time(getpid());
	GPid pid;
	const char *argv[] = { "true", NULL };

	g_assert_cmpuint(st, >, 0);
	g_assert_true(vmt_host_proc_same(getpid(), st));
	g_assert_true(vmt_host_proc_same(getpid(), 0));
	g_assert_false(vmt_host_proc_same(getpid(), st + 1));
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
				    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
				    NULL));
	g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
	g_assert_false(vmt_host_proc_same(pid, 0));
	g_assert_cmpuint(vmt_host_proc_start_time(pid), ==, 0);
}

/* How much of QEMU's RAM is in huge pages, from smaps: only the mappings
 * that start in the range count, a long path arrives in pieces without
 * confusing the parser, and huge never exceeds resident. */
static void test_huge_bytes(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("vmt-smaps-XXXXXX", &error);
	g_autofree char *procdir = NULL, *dir = NULL, *file = NULL, *longpath = g_strnfill(511 - 55, 'x');
	g_autofree char *smaps = g_strdup_printf(
		"7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
		"Rss:                4096 kB\n"
		"AnonHugePages:      2048 kB\n"
		"7f0000400000-7f0000800000 rw-s 00000000 00:01 5 /memfd:%sRss: 9 kB\n"
		"Rss:                2048 kB\n"
		"ShmemPmdMapped:     4096 kB\n"
		"7f1000000000-7f1000200000 rw-p 00000000 00:00 0 \n"
		"Rss:                2048 kB\n"
		"AnonHugePages:      2048 kB\n", longpath);
	guint64 rss, huge;
	/* 8 MiB of this process's own, in 4 KiB pages */
	gsize len = 8u << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	g_assert_no_error(error);
	procdir = g_build_filename(root, "proc", NULL);
	dir = g_build_filename(procdir, "4242", NULL);
	file = g_build_filename(dir, "smaps", NULL);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(file, smaps, -1, &error));
	vmt_sysfs_set_root(root);
	g_assert_true(vmt_host_proc_huge_bytes(4242, 0x7f0000000000, 8u << 20, &rss, &huge, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rss, ==, 6144u << 10);
	g_assert_cmpuint(huge, ==, 6144u << 10);	/* 2048 + 4096, capped at rss */
	g_assert_false(vmt_host_proc_huge_bytes(4243, 0, 1, &rss, &huge, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_clear_error(&error);
	vmt_sysfs_set_root("/");
	g_assert_cmpint(unlink(file), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
	g_assert_cmpint(rmdir(procdir), ==, 0);
	g_assert_cmpint(rmdir(root), ==, 0);

	g_assert_true(p != MAP_FAILED);
	g_assert_cmpint(madvise(p, len, MADV_NOHUGEPAGE), ==, 0);
	memset(p, 1, len);
	g_assert_true(vmt_host_proc_huge_bytes(getpid(), (guintptr)p, len, &rss, &huge, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rss, ==, len);
	g_assert_cmpuint(huge, ==, 0);
	munmap(p, len);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/move/ranges", test_ranges);
	g_test_add_func("/move/zero-and-shared", test_zero_and_shared);
	g_test_add_func("/move/gone", test_gone);
	g_test_add_func("/proc/same-process", test_same_process);
	g_test_add_func("/proc/huge-bytes", test_huge_bytes);
	return g_test_run();
}
