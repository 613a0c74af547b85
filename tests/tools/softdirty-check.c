// SPDX-License-Identifier: GPL-2.0-or-later
/* softdirty-check: vmt_host_softdirty_collect on this process's own memory,
 * on the running kernel, as TAP.  It maps 16 MiB of anonymous memory (no
 * THP, so every 4 KiB page counts alone), scans two ranges of it (the last
 * chunk short), writes chosen pages between scans and checks each chunk's
 * frequency against what it wrote.  Exits 77 when the kernel has no
 * soft-dirty (clear_refs refuses 4, or no page is ever soft-dirty). */
#include <gio/gio.h>

#include "host-scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define PAGE 4096u
#define N_CHUNKS 7u

static guint tap_n, tap_failed;

static void tap(gboolean ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void tap(gboolean ok, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%s %u - %s\n", ok ? "ok" : "not ok", tap_n, msg);
}

static G_GNUC_NORETURN void skip(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(77);
}

static G_GNUC_NORETURN void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

static void collect(const GArray *ranges, guint16 *freq)
{
	g_autoptr(GError) error = NULL;
	gboolean valid = FALSE;

	if (!vmt_host_softdirty_collect(getpid(), ranges, freq, &valid, &error))
		bail(error->message);
	if (!valid)
		bail("vmt_host_softdirty_collect returned an invalid window");
}

static char *show(const guint16 *freq)
{
	GString *s = g_string_new(NULL);

	for (guint c = 0; c < N_CHUNKS; c++)
		g_string_append_printf(s, "%s%u", c ? " " : "", freq[c]);
	return g_string_free(s, FALSE);
}

static guint count(const guint16 *freq, guint16 value)
{
	guint n = 0;

	for (guint c = 0; c < N_CHUNKS; c++)
		n += freq[c] == value;
	return n;
}

/* Writes every STEP-th page of [P, P+LEN) and returns how many. */
static guint write_pages(volatile char *p, guint64 len, guint step)
{
	guint n = 0;

	for (guint64 off = 0; off < len; off += (guint64)step * PAGE, n++)
		p[off]++;
	return n;
}

int main(void)
{
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	guint16 freq[N_CHUNKS];
	guint written[N_CHUNKS] = { 0 }, pages[N_CHUNKS];
	guint64 start[N_CHUNKS], len[N_CHUNKS];
	g_autofree char *first = NULL, *second = NULL, *third = NULL;
	volatile char *base;
	char *map;
	guint64 sum = 0;
	int fd;

	/* ranges: chunks 0-2 at base, chunks 3-6 at base+8M (6 is 1 MiB) */
	map = mmap(NULL, 18 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		bail(g_strerror(errno));
	base = (char *)(((guintptr)map + 2 * MIB - 1) & ~(guintptr)(2 * MIB - 1));
	if (madvise((void *)base, 16 * MIB, MADV_NOHUGEPAGE) != 0)
		bail(g_strerror(errno));
	g_array_append_val(ranges, ((VmtRange){ (guintptr)base, 6 * MIB }));
	g_array_append_val(ranges, ((VmtRange){ (guintptr)base + 8 * MIB, 7 * MIB }));
	g_assert(vmt_ranges_n_chunks(ranges) == N_CHUNKS);
	for (guint c = 0; c < N_CHUNKS; c++) {
		vmt_ranges_chunk(ranges, c, &start[c], &len[c]);
		pages[c] = (guint)(len[c] / PAGE);
	}

	fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		g_autofree char *why = g_strdup_printf("cannot write 4 to /proc/self/clear_refs: %s",
						       g_strerror(errno));
		skip(why);
	}
	close(fd);

	write_pages(base, 16 * MIB, 1);
	collect(ranges, freq);
	first = show(freq);
	printf("# first window (arms): %s\n", first);
	if (count(freq, 0) == N_CHUNKS)
		skip("no page soft-dirty after writing them all: the kernel lacks CONFIG_MEM_SOFT_DIRTY");
	tap(count(freq, 1000) == N_CHUNKS,
	    "the first window counts every page written since the last clear: %s", first);

	written[1] = write_pages((char *)(guintptr)start[1], len[1], 1);
	written[4] = write_pages((char *)(guintptr)start[4], len[4], 1);
	written[5] = write_pages((char *)(guintptr)start[5], PAGE, 1);
	written[6] = write_pages((char *)(guintptr)start[6], len[6], 2);
	write_pages(base + 6 * MIB, 2 * MIB, 1);	/* between the ranges: not ours */
	collect(ranges, freq);
	second = show(freq);
	printf("# second window: %s\n", second);
	for (guint c = 0; c < N_CHUNKS; c++) {
		guint want = written[c] * 1000u / pages[c];
		tap(freq[c] == want, "chunk %u: %u of %u pages written -> %u (got %u)", c, written[c],
		    pages[c], want, freq[c]);
	}

	for (guint64 off = 0; off < 16 * MIB; off += PAGE)
		sum += (guchar)base[off];
	printf("# read every page (sum %" G_GUINT64_FORMAT ")\n", sum);
	collect(ranges, freq);
	third = show(freq);
	tap(count(freq, 0) == N_CHUNKS, "nothing written since the last scan, reads do not count: %s",
	    third);

	printf("1..%u\n", tap_n);
	munmap(map, 18 * MIB);
	return tap_failed ? 1 : 0;
}
