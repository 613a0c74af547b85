/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"

/* Progress of one device: blocks online so far out of its total. */
typedef void (*VmtOnlineProgress)(const char *device, guint done, guint total, gpointer data);

/* Reconfigure DEVICE ("daxX.Y", or "all" for every DAX device) to
 * system-ram with all its memory blocks online in ZONE (VMT_ZONE_NORMAL or
 * VMT_ZONE_MOVABLE), through libdaxctl.  Refuses before changing anything
 * when not root, kmem is missing, auto-onlining would race, or a device is
 * in use.  Devices already in that state are left alone.  Fills DONE with
 * the names of the devices it changed. */
gboolean vmt_host_online_run(const char *device, VmtZone zone, VmtOnlineProgress progress,
			     gpointer data, GPtrArray *done, GError **error);

/* PIDs (as "NAME[PID]") of processes that map or hold /dev/DEVICE open. */
GPtrArray *vmt_host_online_users(const char *device);
