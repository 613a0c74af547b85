/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* vmtier's own errors: what a caller acts on (a guest's QEMU exited, a
 * guest refused) rather than which system call failed.  Errors from the
 * system keep G_IO_ERROR and friends. */
#define VMT_ERROR (vmt_error_quark())
GQuark vmt_error_quark(void);

typedef enum {
	VMT_ERROR_GUEST_GONE,	/* the guest's QEMU process exited (or its thread did) */
	VMT_ERROR_NO_ROOM,	/* admission: a quota does not fit the host */
	VMT_ERROR_HOST,		/* admission: a node or device of the plan is unusable */
	VMT_ERROR_METADATA,	/* vmtier's <plan> metadata on a domain does not read */
} VmtError;
