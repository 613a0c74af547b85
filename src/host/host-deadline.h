/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* The calling thread's time limit for the host layer's long loops (pagemap
 * walks, move_pages batches, idle_pages reads): vmtierd's window worker
 * gives each guest MS milliseconds of it per window, so one guest that
 * takes too long is cut off and the others still get theirs.  0: none. */
void vmt_host_deadline_set(guint ms);
/* FALSE, with G_IO_ERROR_TIMED_OUT, once the calling thread's limit passed. */
gboolean vmt_host_deadline_check(GError **error);
