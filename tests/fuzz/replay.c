// SPDX-License-Identifier: GPL-2.0-or-later
/* Plain main for fuzz targets: run every file of the given corpus folders
 * (or files) through LLVMFuzzerTestOneInput once, so each test run replays
 * the corpus without libFuzzer.  TAP output, one line per folder. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	g_autofree char *buf = NULL;
	gsize len;

	if (!g_file_get_contents(path, &buf, &len, NULL))
		return 0;
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	return 1;
}

int main(int argc, char **argv)
{
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		g_autoptr(GDir) d = g_dir_open(argv[i], 0, NULL);
		const char *name;
		int n = 0;

		if (!d) {
			n = run_file(argv[i]);
		} else {
			while ((name = g_dir_read_name(d))) {
				g_autofree char *p = g_build_filename(argv[i], name, NULL);
				n += run_file(p);
			}
		}
		/* reaching here means no input crashed, hung or tripped a sanitizer */
		printf("%s %d - %d inputs from %s ran cleanly\n", n ? "ok" : "not ok", i, n, argv[i]);
	}
	return 0;
}
