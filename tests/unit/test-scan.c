// SPDX-License-Identifier: GPL-2.0-or-later
/* The bitmap page-access scanners (host-scan.h) on a crafted /proc and /sys
 * tree, and the idle_pages decoder (idle-pages.h) on buffers built here in
 * the seed RFC's encoding. */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "error.h"
#include "host-pagemap.h"
#include "host-scan.h"
#include "idle-pages.h"
#include "sysfs.h"
#include "tmpdir.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define PID 4242
#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define PAGE G_GUINT64_CONSTANT(4096)

/* ---- the tree ---- */

typedef struct {
	char *root;
	GArray *ranges;
	guint n;		/* chunks */
	guint32 *hits, *pages;	/* what the test put in each chunk */
} Tree;

static char *tree_file(Tree *t, const char *rel)
{
	g_autofree char *p = g_build_filename(t->root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(p);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	return g_steal_pointer(&p);
}

static void put_u64(Tree *t, const char *rel, guint64 index, guint64 value)
{
	g_autofree char *p = tree_file(t, rel);
	int fd = open(p, O_RDWR | O_CREAT, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pwrite(fd, &value, 8, (off_t)(index * 8)), ==, 8);
	close(fd);
}

static guint64 get_u64(Tree *t, const char *rel, guint64 index)
{
	g_autofree char *p = tree_file(t, rel);
	guint64 v = 0;
	int fd = open(p, O_RDONLY);

	g_assert_cmpint(fd, >=, 0);
	if (pread(fd, &v, 8, (off_t)(index * 8)) != 8)
		v = 0;
	close(fd);
	return v;
}

static void put_bytes(Tree *t, const char *rel, guint64 off, const GByteArray *b)
{
	g_autofree char *p = tree_file(t, rel);
	int fd = open(p, O_RDWR | O_CREAT, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pwrite(fd, b->data, b->len, (off_t)off), ==, (gssize)b->len);
	close(fd);
}

static void tree_setup(Tree *t, gconstpointer data)
{
	t->root = g_dir_make_tmp("vmtier-scan-XXXXXX", NULL);
	g_assert_nonnull(t->root);
	vmt_sysfs_set_root(t->root);
	g_free(tree_file(t, "proc/4242/.dir"));
	t->ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
}

static void tree_teardown(Tree *t, gconstpointer data)
{
	test_tree_remove(t->root);
	g_free(t->root);
	g_array_unref(t->ranges);
	g_free(t->hits);
	g_free(t->pages);
}

static void add_range(Tree *t, guint64 start, guint64 len)
{
	g_array_append_val(t->ranges, ((VmtRange){ start, len }));
	t->n = vmt_ranges_n_chunks(t->ranges);
	t->hits = g_renew(guint32, t->hits, t->n);
	t->pages = g_renew(guint32, t->pages, t->n);
	for (guint c = 0; c < t->n; c++) {
		guint64 s, l;
		g_assert_true(vmt_ranges_chunk(t->ranges, c, &s, &l));
		t->hits[c] = 0;
		t->pages[c] = (guint32)(l / PAGE);
	}
}

/* Every chunk's frequency is its hits over its pages (the denominator), in
 * permille. */
static void assert_freq(Tree *t, const guint16 *freq)
{
	for (guint c = 0; c < t->n; c++) {
		if (t->hits[c] || freq[c])
			g_test_message("chunk %u: %u of %u -> %u", c, t->hits[c], t->pages[c], freq[c]);
		g_assert_cmpuint(freq[c], ==, (guint64)t->hits[c] * 1000 / t->pages[c]);
	}
}

/* pagemap entries for N pages from VA, every STEP-th; counted as hits when
 * HIT.  The pfn grows from PFN (0: keep 0). */
static void map_pages(Tree *t, guint64 va, guint n, guint step, guint64 flags, guint64 pfn,
		      gboolean hit)
{
	for (guint i = 0; i < n; i += step) {
		guint64 a = va + i * PAGE;
		gint64 c = vmt_ranges_find(t->ranges, a);

		put_u64(t, "proc/4242/pagemap", a / PAGE, flags | (pfn ? pfn + i : 0));
		if (hit && c >= 0)
			t->hits[c]++;
	}
}

typedef gboolean (*Collect)(int pid, const GArray *ranges, guint16 *freq, gboolean *valid,
			   GError **error);

/* COLLECT on the tree succeeds with a valid window whose frequencies match
 * the tree's hits. */
static void collect_ok(Collect collect, Tree *t, guint16 *freq)
{
	g_autoptr(GError) error = NULL;
	gboolean valid = FALSE;

	g_assert_true(collect(PID, t->ranges, freq, &valid, &error));
	g_assert_no_error(error);
	g_assert_true(valid);
	assert_freq(t, freq);
}

/* COLLECT on the tree fails with CODE (G_IO_ERROR; -1: the guest gone)
 * and a message holding NEEDLE. */
static void collect_fails(Collect collect, int pid, Tree *t, gint code, const char *needle)
{
	g_autofree guint16 *freq = g_new0(guint16, t->n);
	g_autoptr(GError) error = NULL;
	gboolean valid = FALSE;

	g_assert_false(collect(pid, t->ranges, freq, &valid, &error));
	if (code < 0)
		g_assert_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE);
	else
		g_assert_error(error, G_IO_ERROR, code);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, needle));
	g_assert_false(valid);
}

/* ---- soft-dirty ---- */

#define PRESENT VMT_PM_PRESENT
#define SD VMT_PM_SOFT_DIRTY

static void test_softdirty(Tree *t, gconstpointer data)
{
	guint16 freq[136];
	g_autofree char *cleared = NULL, *clear_refs = tree_file(t, "proc/4242/clear_refs");
	guint64 r2 = 0xC0000000;

	add_range(t, 0x40000000, 6 * MIB);	/* chunks 0-2 */
	add_range(t, 0x80000000, 5 * MIB);	/* 3-5, 5 is 1 MiB */
	add_range(t, r2, 130 * 2 * MIB);	/* 6-135: more than a read batch */
	g_assert_cmpuint(t->n, ==, 136);
	/* the whole pagemap exists, absent pages read 0 */
	put_u64(t, "proc/4242/pagemap", (r2 + 130 * 2 * MIB) / PAGE, 0);
	g_assert_true(g_file_set_contents(clear_refs, "", 0, NULL));

	map_pages(t, 0x40000000, 100, 1, PRESENT | SD | VMT_PM_EXCLUSIVE, 0x1000, TRUE);
	map_pages(t, 0x40000000 + 100 * PAGE, 100, 1, PRESENT, 0x2000, FALSE);
	/* a hole in a VMA made since the last clear is soft-dirty, not written */
	map_pages(t, 0x40000000 + 400 * PAGE, 5, 1, SD, 0, FALSE);
	map_pages(t, 0x40200000, 512, 1, PRESENT | SD | VMT_PM_FILE, 0x3000, TRUE);
	map_pages(t, 0x40400000, 10, 1, VMT_PM_SWAP | SD, 0, FALSE);
	/* right outside range 0 */
	map_pages(t, 0x40000000 - PAGE, 1, 1, PRESENT | SD, 0x4000, FALSE);
	map_pages(t, 0x40600000, 1, 1, PRESENT | SD, 0x4001, FALSE);
	map_pages(t, 0x80200000, 512, 2, PRESENT | SD, 0x5000, TRUE);
	map_pages(t, 0x80400000, 256, 2, PRESENT | SD, 0x6000, TRUE);	/* short chunk */
	map_pages(t, r2 + 63 * 2 * MIB, 512, 1, PRESENT | SD, 0x7000, TRUE);	/* batch edge */
	map_pages(t, r2 + 64 * 2 * MIB, 1, 1, PRESENT | SD, 0x8000, TRUE);
	map_pages(t, r2 + 129 * 2 * MIB + 511 * PAGE, 1, 1, PRESENT | SD, 0x9000, TRUE);

	collect_ok(vmt_host_softdirty_collect, t, freq);
	g_assert_cmpuint(freq[1], ==, 1000);
	g_assert_cmpuint(freq[2], ==, 0);
	g_assert_cmpuint(freq[5], ==, 500);
	g_assert_true(g_file_get_contents(clear_refs, &cleared, NULL, NULL));
	g_assert_cmpstr(cleared, ==, "4");
}

static void test_softdirty_errors(Tree *t, gconstpointer data)
{
	g_autofree char *clear_refs = NULL;

	add_range(t, 0x40000000, 4 * MIB);
	collect_fails(vmt_host_softdirty_collect, 4343, t, -1, "4343");
	collect_fails(vmt_host_softdirty_collect, PID, t, G_IO_ERROR_NOT_SUPPORTED, "pagemap");
	/* a pagemap that ends inside the ranges: the process lost its mm */
	map_pages(t, 0x40000000, 1, 1, PRESENT | SD, 0x1000, TRUE);
	collect_fails(vmt_host_softdirty_collect, PID, t, G_IO_ERROR_INVALID_DATA, "0x40001000");
	put_u64(t, "proc/4242/pagemap", (0x40000000 + 4 * MIB) / PAGE - 1, 0);
	clear_refs = tree_file(t, "proc/4242/clear_refs");
	g_assert_true(g_file_set_contents(clear_refs, "", 0, NULL));
	g_assert_cmpint(g_chmod(clear_refs, 0444), ==, 0);
	if (geteuid() == 0) {
		g_test_skip("running as root: file modes cannot deny access");
		return;
	}
	collect_fails(vmt_host_softdirty_collect, PID, t, G_IO_ERROR_PERMISSION_DENIED, "clear_refs");
}

/* ---- page_idle ---- */

#define KPF_LRU (G_GUINT64_CONSTANT(1) << 5)
#define KPF_HEAD (G_GUINT64_CONSTANT(1) << 15)
#define KPF_TAIL (G_GUINT64_CONSTANT(1) << 16)
#define KPF_THP (G_GUINT64_CONSTANT(1) << 22)
#define KPF_ZERO_PAGE (G_GUINT64_CONSTANT(1) << 24)
#define BITMAP "sys/kernel/mm/page_idle/bitmap"
#define MAX_PFN 0x60000

static void set_idle(Tree *t, guint64 pfn)
{
	guint64 w = get_u64(t, BITMAP, pfn / 64);

	put_u64(t, BITMAP, pfn / 64, w | G_GUINT64_CONSTANT(1) << (pfn % 64));
}

/* A PMD-sized folio at HEAD: head flags and 511 tails. */
static void thp(Tree *t, guint64 head)
{
	put_u64(t, "proc/kpageflags", head, KPF_HEAD | KPF_THP | KPF_LRU);
	for (guint i = 1; i < 512; i++)
		put_u64(t, "proc/kpageflags", head + i, KPF_TAIL | KPF_THP);
}

static void test_pageidle(Tree *t, gconstpointer data)
{
	g_autoptr(GHashTable) armed = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autofree gint64 *keys = g_new(gint64, 2048);
	guint n_armed = 0;
	guint16 freq[6];

#define ARM(pfn) (keys[n_armed] = (gint64)(pfn), g_hash_table_add(armed, &keys[n_armed++]))
	add_range(t, 0x40000000, 8 * MIB);	/* chunks 0-3 */
	add_range(t, 0x80000000, 1 * MIB);	/* 4: 256 pages */
	add_range(t, 0x90000000, 2 * MIB);	/* 5: nothing mapped */
	put_u64(t, "proc/4242/pagemap", (0x90000000 + 2 * MIB) / PAGE, 0);
	put_u64(t, BITMAP, MAX_PFN / 64, 0);
	put_u64(t, "proc/kpageflags", MAX_PFN, 0);

	/* chunk 0: scattered 4 KiB pages, three in four idle */
	for (guint i = 0; i < 512; i++) {
		guint64 pfn = 0x10000 + 3 * i;
		put_u64(t, "proc/4242/pagemap", 0x40000000 / PAGE + i, PRESENT | pfn);
		put_u64(t, "proc/kpageflags", pfn, KPF_LRU);
		if (i % 4)
			set_idle(t, pfn);
		else
			t->hits[0]++;
		ARM(pfn);
	}
	/* chunk 1: a THP whose head is not idle; chunk 2: the next one, idle.
	 * Tail bits read 0 in the kernel: only the head's bit counts. */
	thp(t, 0x20000);
	thp(t, 0x20200);
	map_pages(t, 0x40200000, 512, 1, PRESENT, 0x20000, TRUE);
	map_pages(t, 0x40400000, 512, 1, PRESENT, 0x20200, FALSE);
	set_idle(t, 0x20200);
	ARM(0x20000);
	ARM(0x20200);
	/* chunk 3: the second half of an idle THP whose head is not mapped
	 * here, then the first half of a THP in use */
	thp(t, 0x30000);
	thp(t, 0x40000);
	set_idle(t, 0x30000);
	map_pages(t, 0x40600000, 256, 1, PRESENT, 0x30100, FALSE);
	map_pages(t, 0x40600000 + 256 * PAGE, 256, 1, PRESENT, 0x40000, TRUE);
	ARM(0x30000);
	ARM(0x40000);
	/* chunk 4: 100 pages in use, 50 on the zero page (untracked), the rest absent */
	for (guint i = 0; i < 100; i++) {
		guint64 pfn = 0x50000 + 2 * i;
		put_u64(t, "proc/4242/pagemap", 0x80000000 / PAGE + i, PRESENT | pfn);
		put_u64(t, "proc/kpageflags", pfn, KPF_LRU);
		t->hits[4]++;
		ARM(pfn);
	}
	put_u64(t, "proc/kpageflags", 0x5ffff, KPF_ZERO_PAGE);
	for (guint i = 100; i < 150; i++)
		put_u64(t, "proc/4242/pagemap", 0x80000000 / PAGE + i, PRESENT | 0x5ffff);
#undef ARM

	collect_ok(vmt_host_pageidle_collect, t, freq);
	g_assert_cmpuint(freq[1], ==, 1000);
	g_assert_cmpuint(freq[2], ==, 0);
	g_assert_cmpuint(freq[3], ==, 500);
	/* re-armed: exactly the tracked pages (folio heads) carry idle bits */
	for (guint64 w = 0; w <= MAX_PFN / 64; w++) {
		guint64 bits = get_u64(t, BITMAP, w);
		for (guint b = 0; b < 64; b++) {
			gint64 pfn = (gint64)(w * 64 + b);
			gboolean idle = (bits >> b) & 1;
			if (idle != g_hash_table_contains(armed, &pfn))
				g_error("pfn 0x%" G_GINT64_MODIFIER "x: idle bit %d after re-arm", pfn, idle);
		}
	}
}

static void test_pageidle_errors(Tree *t, gconstpointer data)
{
	add_range(t, 0x40000000, 2 * MIB);
	collect_fails(vmt_host_pageidle_collect, PID, t, G_IO_ERROR_NOT_SUPPORTED,
		      "CONFIG_IDLE_PAGE_TRACKING");
	put_u64(t, BITMAP, 0, 0);
	put_u64(t, "proc/kpageflags", 0, 0);
	collect_fails(vmt_host_pageidle_collect, 4343, t, -1, "4343");
	/* without CAP_SYS_ADMIN pagemap says present, pfn 0 */
	map_pages(t, 0x40000000, 512, 1, PRESENT, 0, FALSE);
	collect_fails(vmt_host_pageidle_collect, PID, t, G_IO_ERROR_PERMISSION_DENIED, "CAP_SYS_ADMIN");
}

/* ---- idle_pages: records as ept_idle.h defines them ---- */

enum { PTE_ACCESSED, PMD_ACCESSED, PUD_PRESENT, PTE_DIRTY, PMD_DIRTY, PTE_IDLE, PMD_IDLE,
       PMD_IDLE_PTES, PTE_HOLE, PMD_HOLE, PIP_CMD };
static const guint shifts[] = { 12, 21, 30, 12, 21, 12, 21, 21, 12, 21 };

static void set_hva(GByteArray *b, guint64 va)
{
	guint8 rec[9] = { PIP_CMD << 4 };

	for (guint i = 0; i < 8; i++)
		rec[8 - i] = (guint8)(va >> (8 * i));
	g_byte_array_append(b, rec, 9);
}

/* N pages of TYPE, in records of at most 15 */
static void pages(GByteArray *b, guint type, guint n)
{
	for (; n; n -= MIN(n, 15)) {
		guint8 rec = (guint8)(type << 4 | MIN(n, 15));
		g_byte_array_append(b, &rec, 1);
	}
}

typedef struct {
	GArray *ranges;
	guint n;
	guint32 acc[64], seen[64];
} Decode;

static Decode *decoder(const guint64 *r, guint n_ranges)
{
	Decode *d = g_new0(Decode, 1);

	d->ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	for (guint i = 0; i < n_ranges; i++)
		g_array_append_val(d->ranges, ((VmtRange){ r[2 * i], r[2 * i + 1] }));
	d->n = vmt_ranges_n_chunks(d->ranges);
	g_assert_cmpuint(d->n, <=, 64);
	return d;
}

static void decoder_free(Decode *d)
{
	g_array_unref(d->ranges);
	g_free(d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Decode, decoder_free)

static guint64 decode_ok(Decode *d, const GByteArray *b, guint64 va_start)
{
	g_autoptr(GError) error = NULL;
	guint64 next = 0;

	g_assert_true(vmt_idle_pages_decode(b->data, b->len, va_start, d->ranges, d->acc, d->seen,
					    &next, &error));
	g_assert_no_error(error);
	return next;
}

static void assert_counts(const Decode *d, const guint32 *acc, const guint32 *seen)
{
	for (guint c = 0; c < d->n; c++) {
		g_test_message("chunk %u: accessed %u seen %u", c, d->acc[c], d->seen[c]);
		g_assert_cmpuint(d->acc[c], ==, acc[c]);
		g_assert_cmpuint(d->seen[c], ==, seen[c]);
	}
}

static void test_decode_types(void)
{
	static const guint64 r[] = { 0x40000000, 5 * MIB };
	g_autoptr(Decode) d = decoder(r, 1);
	g_autoptr(GByteArray) b = g_byte_array_new();
	const guint32 acc[] = { 23, 0, 256 }, seen[] = { 33, 512, 256 };
	guint32 acc2[3], seen2[3];

	/* before any address record the cursor is where the read began */
	pages(b, PTE_ACCESSED, 20);
	pages(b, PTE_IDLE, 10);
	pages(b, PTE_HOLE, 12);
	pages(b, PTE_DIRTY, 3);
	set_hva(b, 0x40200000);
	pages(b, PMD_IDLE_PTES, 1);
	/* a huge page covers the 2 MiB holding the cursor */
	set_hva(b, 0x40480000);
	pages(b, PMD_ACCESSED, 1);
	pages(b, PMD_HOLE, 2);
	g_assert_cmphex(decode_ok(d, b, 0x40000000), ==, 0x40a00000);
	assert_counts(d, acc, seen);
	/* counts add up over calls */
	g_assert_cmphex(decode_ok(d, b, 0x40000000), ==, 0x40a00000);
	for (guint c = 0; c < 3; c++)
		acc2[c] = 2 * acc[c], seen2[c] = 2 * seen[c];
	assert_counts(d, acc2, seen2);
}

static void test_decode_huge(void)
{
	/* chunks from an unaligned start: 2 MiB pages straddle them */
	static const guint64 r1[] = { 0x40100000, 5 * MIB };
	/* a 1 GiB page over two ranges with a gap, and one range beyond it */
	static const guint64 r2[] = { 0x40000000 + 10 * MIB, 4 * MIB, 0x40000000 + 100 * MIB, 3 * MIB,
				      0x80000000, 2 * MIB };
	g_autoptr(Decode) d1 = decoder(r1, 1);
	g_autoptr(Decode) d2 = decoder(r2, 3);
	g_autoptr(GByteArray) b = g_byte_array_new();
	const guint32 want1[] = { 512, 512, 256 }, want2[] = { 512, 512, 512, 256, 0 };

	set_hva(b, 0x40000000);
	pages(b, PMD_ACCESSED, 2);
	pages(b, PMD_DIRTY, 1);
	g_assert_cmphex(decode_ok(d1, b, 0), ==, 0x40600000);
	assert_counts(d1, want1, want1);

	g_byte_array_set_size(b, 0);
	set_hva(b, 0x40000000 + 5 * MIB);
	pages(b, PUD_PRESENT, 1);
	g_assert_cmphex(decode_ok(d2, b, 0), ==, 0x80000000);
	assert_counts(d2, want2, want2);
}

/* Random pages over 16 MiB encoded the way the kernel's eic_add_page does
 * (runs of one type up to 15, an address record after every skipped hole),
 * decoded in two reads split at a record: counts match the pages. */
typedef struct {
	GByteArray *b;
	GArray *starts;		/* offsets of records */
	guint64 next;
	guint last;		/* type of the last record */
} Encoder;

static void encode(Encoder *e, guint64 addr, guint type)
{
	guint64 size = G_GUINT64_CONSTANT(1) << shifts[type];

	if (!e->b->len || addr != e->next) {
		if (type == PTE_HOLE || type == PMD_HOLE)
			return;
		g_array_append_val(e->starts, e->b->len);
		set_hva(e->b, addr);
	} else if (e->last == type && (e->b->data[e->b->len - 1] & 0xf) < 15) {
		e->b->data[e->b->len - 1]++;
		e->next = addr + size;
		return;
	}
	g_array_append_val(e->starts, e->b->len);
	pages(e->b, type, 1);
	e->last = type;
	e->next = addr + size;
}

static void test_decode_model(void)
{
	const guint64 base = G_GUINT64_CONSTANT(0x7f0000000000);
	const guint64 r[] = { base + MIB, 5 * MIB, base + 8 * MIB, 6 * MIB + 512 * 1024 };
	static const guint pmd_types[] = { PMD_ACCESSED, PMD_DIRTY, PMD_IDLE, PMD_IDLE_PTES, PMD_HOLE };
	static const guint pte_types[] = { PTE_ACCESSED, PTE_DIRTY, PTE_IDLE, PTE_HOLE };
	g_autoptr(Decode) d = decoder(r, 2);
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(guint));
	Encoder e = { b, starts, 0, 0 };
	guint32 acc[64] = { 0 }, seen[64] = { 0 };
	guint split;
	guint64 next;

	for (guint64 pmd = base; pmd < base + 16 * MIB; pmd += 2 * MIB) {
		gboolean huge = g_test_rand_int_range(0, 3) == 0;

		for (guint i = 0; i < (huge ? 1u : 512u); i++) {
			guint type = huge ? pmd_types[g_test_rand_int_range(0, 5)]
					  : pte_types[g_test_rand_int_range(0, 4)];
			guint64 va = pmd + i * PAGE;

			encode(&e, va, type);
			for (guint64 p = va; p < va + (G_GUINT64_CONSTANT(1) << shifts[type]); p += PAGE) {
				gint64 c = vmt_ranges_find(d->ranges, p);
				if (c < 0 || type == PTE_HOLE || type == PMD_HOLE)
					continue;
				seen[c]++;
				if (type == PMD_ACCESSED || type == PMD_DIRTY || type == PTE_ACCESSED ||
				    type == PTE_DIRTY)
					acc[c]++;
			}
		}
	}
	split = g_array_index(starts, guint, g_test_rand_int_range(0, (gint32)starts->len));
	{
		g_autoptr(GByteArray) head = g_byte_array_new();
		g_autoptr(GByteArray) tail = g_byte_array_new();
		g_byte_array_append(head, b->data, split);
		g_byte_array_append(tail, b->data + split, b->len - split);
		next = decode_ok(d, head, base);
		next = decode_ok(d, tail, next);
	}
	g_assert_cmphex(next, ==, e.next);
	assert_counts(d, acc, seen);
}

static void decode_fails(const guint8 *buf, gsize len, const char *where)
{
	static const guint64 r[] = { 0x40000000, 2 * MIB };
	g_autoptr(Decode) d = decoder(r, 1);
	g_autoptr(GError) error = NULL;
	guint64 next = 0;

	g_assert_false(vmt_idle_pages_decode(buf, len, 0x40000000, d->ranges, d->acc, d->seen, &next,
					     &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, where));
}

static void test_decode_errors(void)
{
	static const guint8 truncated[] = { 0x01, 0xa0, 0, 0, 0, 0x40 };
	static const guint8 unknown[] = { 0x01, 0x52, 0xb1 };
	static const guint8 unknown_cmd[] = { 0x0f, 0x0f, 0x0f, 0xa3 };
	static const guint8 no_pages[] = { 0x00 };
	static const guint8 wraps[] = { 0xa0, 0xff, 0xff, 0xff, 0xff, 0xc0, 0, 0, 0, 0x22 };
	static const guint64 r[] = { 0x40000000, 2 * MIB };
	g_autoptr(Decode) d = decoder(r, 1);
	g_autoptr(GError) error = NULL;
	guint64 next = 0;

	decode_fails(truncated, sizeof(truncated), "offset 1 truncated");
	decode_fails(unknown, sizeof(unknown), "0xb1 at offset 2");
	decode_fails(unknown_cmd, sizeof(unknown_cmd), "0xa3 at offset 3");
	decode_fails(no_pages, sizeof(no_pages), "0x00 at offset 0");
	decode_fails(wraps, sizeof(wraps), "offset 9 runs past the end");
	g_assert_true(vmt_idle_pages_decode(NULL, 0, 0x1234000, d->ranges, d->acc, d->seen, &next,
					    &error));
	g_assert_cmphex(next, ==, 0x1234000);
}

/* ---- idle_pages on the tree: the stream of range k at file offset start_k ---- */

#define IDLE_PAGES "proc/4242/idle_pages"

/* What follows a range's records in a read that asks for more: holes past
 * the range, as the kernel reports them after a mapped page. */
static void hole_filler(GByteArray *b)
{
	for (guint i = 0; i < 256; i++)
		pages(b, PTE_HOLE, 15);
}

static void test_idlepages(Tree *t, gconstpointer data)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	guint16 freq[5];

	add_range(t, 0x40000000, 6 * MIB);	/* chunks 0-2 */
	add_range(t, 0x50000000, 3 * MIB);	/* 3, and 4 of 256 pages */

	set_hva(b, 0x40000000);
	pages(b, PMD_ACCESSED, 1);
	pages(b, PTE_ACCESSED, 100);
	pages(b, PTE_IDLE, 402);
	pages(b, PTE_HOLE, 10);	/* not seen: chunk 1 is 100 of 502 */
	pages(b, PMD_IDLE, 1);
	hole_filler(b);
	put_bytes(t, IDLE_PAGES, 0x40000000, b);
	t->hits[0] = 512;
	t->hits[1] = 100;
	t->pages[1] = 502;	/* holes are not seen: the denominator is seen pages */
	/* range 1 takes several reads: one record per page */
	g_byte_array_set_size(b, 0);
	set_hva(b, 0x50000000);
	for (guint i = 0; i < 512; i++)
		pages(b, i % 2 ? PTE_IDLE : PTE_DIRTY, 1);
	pages(b, PTE_ACCESSED, 64);
	pages(b, PTE_IDLE, 192);
	hole_filler(b);
	put_bytes(t, IDLE_PAGES, 0x50000000, b);
	t->hits[3] = 256;
	t->hits[4] = 64;

	collect_ok(vmt_host_idlepages_collect, t, freq);
	g_assert_cmpuint(freq[0], ==, 1000);
	g_assert_cmpuint(freq[2], ==, 0);
}

static void test_idlepages_errors(Tree *t, gconstpointer data)
{
	g_autoptr(GByteArray) b = g_byte_array_new();

	add_range(t, 0x40000000, 2 * MIB);
	collect_fails(vmt_host_idlepages_collect, PID, t, G_IO_ERROR_NOT_SUPPORTED,
		      "/proc/PID/idle_pages (\"PMEM NUMA node and hotness accounting/migration\", patch 17)");
	collect_fails(vmt_host_idlepages_collect, 4343, t, -1, "4343");
	set_hva(b, 0x40000000);
	pages(b, PTE_ACCESSED, 30);
	g_byte_array_append(b, (const guint8 *)"\xc1", 1);
	put_bytes(t, IDLE_PAGES, 0x40000000, b);
	collect_fails(vmt_host_idlepages_collect, PID, t, G_IO_ERROR_INVALID_DATA,
		      "0xc1 at offset 11");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define TREE_TEST(path, fn) g_test_add(path, Tree, NULL, tree_setup, fn, tree_teardown)
	TREE_TEST("/scan/softdirty", test_softdirty);
	TREE_TEST("/scan/softdirty-errors", test_softdirty_errors);
	TREE_TEST("/scan/pageidle", test_pageidle);
	TREE_TEST("/scan/pageidle-errors", test_pageidle_errors);
	TREE_TEST("/scan/idlepages", test_idlepages);
	TREE_TEST("/scan/idlepages-errors", test_idlepages_errors);
	g_test_add_func("/scan/decode/types", test_decode_types);
	g_test_add_func("/scan/decode/huge", test_decode_huge);
	g_test_add_func("/scan/decode/model", test_decode_model);
	g_test_add_func("/scan/decode/errors", test_decode_errors);
	return g_test_run();
}
