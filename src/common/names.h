/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Names from users (tenants, VMs, classes) end up on terminals, in logs,
 * libvirt's XML, JSON, CSV and HTML: they are checked where they come in
 * and escaped wherever they go out to a terminal or a log. */
typedef enum {
	/* 1-128 characters (not bytes) of UTF-8, none of them a control or
	 * format character (U+202E and the other bidi controls are format
	 * characters), a line or paragraph separator, unassigned or private */
	VMT_NAME_TENANT,
	/* VM and class names: 1-64 of A-Z a-z 0-9 _ . -, not starting with . or
	 * - (they also name sockets and files) */
	VMT_NAME_ID,
} VmtNameKind;

#define VMT_NAME_TENANT_MAX 128
#define VMT_NAME_ID_MAX 64

/* FALSE with a one-line error naming WHAT ("--tenant") and the value,
 * escaped, and the first character that is not allowed. */
gboolean vmt_name_check(VmtNameKind kind, const char *what, const char *name, GError **error);

/* NAME as one line of plain text for a terminal or a log: characters that
 * are not printable (see VMT_NAME_TENANT) as \uXXXX, bytes that are not
 * UTF-8 as \xNN, a backslash doubled.  NULL gives "(null)". */
char *vmt_name_escape(const char *name);
