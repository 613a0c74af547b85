/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* "896 MiB", "1.8 GiB", "512 KiB", "0 B": binary units, for people. */
char *vmt_size_format(guint64 bytes);

/* "16G", "512M", "16GiB", "1T": binary units, required.  Refuses (error
 * naming the text) zero, negative, overflowing, unit-less, garbage, and
 * sizes that are not a multiple of 2 MiB. */
gboolean vmt_size_parse(const char *text, guint64 *out, GError **error);
