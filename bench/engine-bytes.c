// SPDX-License-Identifier: GPL-2.0-or-later
/* engine-bytes: the tiering engine's state (vmt_tier_engine_state_bytes)
 * for guests of 1 GiB and 1 TiB, per GiB of guest RAM. */
#include <glib.h>

#include "tier-engine.h"

#include <stdio.h>

int main(void)
{
	static const guint gib[] = { 1, 1024 };

	for (guint i = 0; i < G_N_ELEMENTS(gib); i++) {
		g_autoptr(VmtTierEngine) e =
			vmt_tier_engine_new((guint)(((guint64)gib[i] << 30) / VMT_CHUNK_SIZE), NULL);

		printf("guest_gib=%u engine_state_bytes=%zu per_gib=%.1f\n", gib[i],
		       vmt_tier_engine_state_bytes(e), (double)vmt_tier_engine_state_bytes(e) / gib[i]);
	}
	return 0;
}
