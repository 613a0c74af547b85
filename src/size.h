/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* "896 MiB", "1.8 GiB", "512 KiB", "0 B": binary units, for people. */
char *vmt_size_format(guint64 bytes);
