/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Route GLib's structured log to journald when stderr is the journal, else
 * to stderr as "PROG: LEVEL: message".  debug enables G_LOG_LEVEL_DEBUG. */
void vmt_log_setup(const char *prog, gboolean debug);

/* Whether debug messages are written: a caller that builds a long debug
 * line (a window's readings) skips the work when they are not. */
gboolean vmt_log_debug_enabled(void);
