/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"

/* How a DAX device comes back after a reboot.  Nothing in the kernel
 * remembers that a devdax namespace was turned into system-ram, nor in which
 * zone its blocks went online: daxctl does it again at boot (its udev rule
 * runs `daxctl -C` on every new dax device) from the [reconfigure-device]
 * sections of /etc/daxctl.conf.d (files ending .conf), matched by the NVDIMM namespace's
 * dax UUID (the info block's, not the label's).  vmtier writes its own
 * file there, vmtier.conf. */

typedef struct {
	char *uuid;		/* the nd_dax device's; NULL: daxctl cannot name it */
	char *config;		/* the file whose section matches it, or NULL */
	gboolean system_ram;	/* that section's mode is system-ram ... */
	gboolean online;	/* ... onlines its blocks ... */
	gboolean movable;	/* ... into ZONE_MOVABLE (daxctl's default) */
} VmtDaxBoot;

void vmt_dax_boot_clear(VmtDaxBoot *b);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmtDaxBoot, vmt_dax_boot_clear)

/* What daxctl will do with DEVICE ("daxX.Y") at the next boot. */
void vmt_host_persist_lookup(const char *device, VmtDaxBoot *out);

/* Make every device of DEVICES come back at boot as system-ram, online in
 * ZONE (normal or movable): write their sections into vmtier.conf in
 * daxctl's configuration directory, replacing earlier ones for the same
 * UUIDs, atomically.  Refuses, changing nothing, when a device has no
 * dax UUID or another file already has a section for it.  Returns the
 * file written. */
char *vmt_host_persist_write(GPtrArray *devices, VmtZone zone, GError **error);
/* Whether vmt_host_persist_write would succeed, writing nothing. */
gboolean vmt_host_persist_check(GPtrArray *devices, VmtZone zone, GError **error);
