// SPDX-License-Identifier: GPL-2.0-or-later
/* engine-replay NAME QUOTA_CHUNKS [FAST_CHUNK...] < vmtierd.log: the
 * readings a `vmtierd --debug` log has for guest NAME, window by window,
 * through the tiering engine (default policy, every plan carried out at
 * once, a budget that never binds): the moves each window plans and where
 * the chunks that read over 50 stand after them (F in DRAM, s slow).  The
 * chunks listed start three-quarters in DRAM (a guest's low memory).  What
 * a change of the engine would have done in a run that was measured, and
 * beside the log's own "moves:" lines, what vmtierd did. */
#include <glib.h>

#include "tier-engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNKS 65536

static void window(VmtTierEngine *e, const guint16 *freq, guint n, guint w)
{
	g_autoptr(GArray) plan = NULL;

	vmt_tier_engine_observe(e, freq);
	plan = vmt_tier_engine_plan(e, (guint64)n * VMT_CHUNK_SIZE);
	printf("%3u moves:", w);
	for (guint j = 0; j < plan->len; j++) {
		const VmtTierMove *m = &g_array_index(plan, VmtTierMove, j);
		guint res = vmt_tier_engine_chunk(e, m->chunk)->resident_pages;

		printf(" %c%u", m->to == VMT_TIER_FAST ? '+' : '-', m->chunk);
		vmt_tier_engine_set_placement(e, m->chunk, m->to == VMT_TIER_FAST ? res : 0, res);
		vmt_tier_engine_moved(e, m->chunk);
	}
	printf("  | hot:");
	for (guint i = 0; i < n; i++)
		if (freq[i] > 50)
			printf(" %u%c", i, vmt_tier_engine_chunk(e, i)->fast_pages ? 'F' : 's');
	printf("\n");
}

int main(int argc, char **argv)
{
	g_autofree char *key = NULL;
	g_autofree guint16 *freq = g_new0(guint16, MAX_CHUNKS);
	VmtTierEngine *e = NULL;
	char *line = NULL;
	size_t cap = 0;
	guint quota, w = 0, n = 0;

	if (argc < 3 || (quota = (guint)strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: engine-replay NAME QUOTA_CHUNKS [FAST_CHUNK...] < vmtierd.log\n");
		return 2;
	}
	key = g_strdup_printf(" %s: readings:", argv[1]);
	while (getline(&line, &cap, stdin) > 0) {
		char *p = strstr(line, key), *end;
		guint k = 0;

		if (!p)
			continue;
		for (p += strlen(key); ; k++, p = end) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (k == MAX_CHUNKS) {
				fprintf(stderr, "engine-replay: more than %u chunks\n", MAX_CHUNKS);
				return 1;
			}
			freq[k] = (guint16)MIN(v, VMT_ACCESS_MAX);
		}
		if (!e) {
			n = k;
			e = vmt_tier_engine_new(n, NULL);
			vmt_tier_engine_set_quota(e, (guint64)quota * VMT_CHUNK_SIZE);
			for (guint i = 0; i < n; i++)
				vmt_tier_engine_set_placement(e, i, 0, VMT_CHUNK_PAGES);
			for (int a = 3; a < argc; a++) {
				guint c = (guint)strtoul(argv[a], NULL, 10);

				if (c < n)
					vmt_tier_engine_set_placement(e, c, VMT_CHUNK_PAGES * 3 / 4,
								      VMT_CHUNK_PAGES);
			}
		} else if (k != n) {
			fprintf(stderr, "engine-replay: window %u has %u readings, the first had %u\n",
				w + 1, k, n);
			return 1;
		}
		window(e, freq, n, ++w);
	}
	free(line);
	if (!e) {
		fprintf(stderr, "engine-replay: no \"%s: readings:\" line on standard input\n", argv[1]);
		return 1;
	}
	vmt_tier_engine_free(e);
	return 0;
}
