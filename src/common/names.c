// SPDX-License-Identifier: GPL-2.0-or-later
/* Checking and escaping names that come from users; see names.h. */
#include <gio/gio.h>

#include "names.h"

#include <string.h>

/* What a terminal or a reader could be fooled by: control characters (ESC
 * sequences, CSI U+009B), format characters (bidi overrides such as U+202E,
 * zero-width ones), line breaks that are not \n, and code points with no
 * meaning yet. */
static gboolean printable(gunichar u)
{
	switch (g_unichar_type(u)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
	case G_UNICODE_UNASSIGNED:
	case G_UNICODE_SURROGATE:
	case G_UNICODE_PRIVATE_USE:
		return FALSE;
	default:
		return TRUE;
	}
}

static void escape_char(GString *out, gunichar u)
{
	if (u <= 0xffff)
		g_string_append_printf(out, "\\u%04x", u);
	else
		g_string_append_printf(out, "\\U%08x", u);
}

char *vmt_name_escape(const char *name)
{
	GString *out;
	const char *p, *end;

	if (!name)
		return g_strdup("(null)");
	out = g_string_sized_new(strlen(name));
	end = name + strlen(name);
	for (p = name; p < end;) {
		gunichar u = g_utf8_get_char_validated(p, end - p);

		if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02x", (guchar)*p++);
			continue;
		}
		if (u == '\\')
			g_string_append(out, "\\\\");
		else if (!printable(u))
			escape_char(out, u);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	return g_string_free(out, FALSE);
}

static gboolean id_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

gboolean vmt_name_check(VmtNameKind kind, const char *what, const char *name, GError **error)
{
	g_autofree char *shown = NULL;
	g_autofree char *why = NULL;
	const char *rule = kind == VMT_NAME_TENANT ? "1-128 printable characters of UTF-8"
						   : "1-64 of A-Z a-z 0-9 _ . - (not starting with . or -)";
	glong n;

	if (!g_utf8_validate(name, -1, NULL)) {
		why = g_strdup("it is not UTF-8");
	} else if ((n = g_utf8_strlen(name, -1)) < 1 ||
		   n > (kind == VMT_NAME_TENANT ? VMT_NAME_TENANT_MAX : VMT_NAME_ID_MAX)) {
		why = g_strdup_printf("it has %ld characters", n);
	} else if (kind == VMT_NAME_ID && (name[0] == '.' || name[0] == '-')) {
		why = g_strdup_printf("it starts with '%c'", name[0]);
	} else {
		for (const char *p = name; *p && !why; p = g_utf8_next_char(p)) {
			gunichar u = g_utf8_get_char(p);

			if (kind == VMT_NAME_TENANT ? !printable(u) : (u > 0x7f || !id_char((char)u)))
				why = g_strdup_printf("U+%04X is not allowed", u);
		}
	}
	if (!why)
		return TRUE;
	if (strlen(name) > 200)
		shown = g_strdup("(too long to show)");
	else
		shown = vmt_name_escape(name);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad %s '%s': %s; use %s", what,
		    shown, why, rule);
	return FALSE;
}
