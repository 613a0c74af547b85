// SPDX-License-Identifier: GPL-2.0-or-later
/* What libvirt's AppArmor confinement (libvirt-daemon-system's defaults)
 * must allow for vmtier, as two abstractions of vmtier's own that the
 * site's local/ files include (the place AppArmor's packaging leaves for
 * additions):
 *   - vmtier-qemu, read by every guest's profile (virt-aa-helper's
 *     libvirt-UUID includes abstractions/libvirt-qemu, which includes
 *     local/abstractions/libvirt-qemu): QEMU creates its QMP socket, the
 *     one named after its own profile;
 *   - vmtier-libvirtd, read by libvirtd's profile (local/usr.sbin.libvirtd):
 *     libvirtd may run vmtier-hook, which is not under /etc/libvirt/hooks
 *     once the link is resolved, as a hook of its own (same profile). */
#include "hook-apparmor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define QEMU_SNIPPET "vmtier-qemu"
#define LIBVIRTD_SNIPPET "vmtier-libvirtd"

typedef struct {
	const char *snippet;	/* abstractions/SNIPPET */
	const char *local;	/* the local/ file that includes it */
} Include;

static const Include includes[] = {
	{ QEMU_SNIPPET, "local/abstractions/libvirt-qemu" },
	{ LIBVIRTD_SNIPPET, "local/usr.sbin.libvirtd" },
};

static char *include_line(const char *snippet)
{
	return g_strdup_printf("include <abstractions/%s>", snippet);
}

/* A path AppArmor reads as itself: quoted, and without its glob and
 * variable characters. */
static gboolean plain_path(const char *what, const char *path, GError **error)
{
	if (path[0] == '/' && !strpbrk(path, "\"*?[]{}^@\\\n") && g_utf8_validate(path, -1, NULL))
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "%s '%s' cannot be named in an AppArmor rule (not absolute, or has one of "
		    "\"*?[]{}^@\\ or a newline)", what, path);
	return FALSE;
}

static gboolean write_file(const char *path, const char *text, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", dir,
			    g_strerror(e));
		return FALSE;
	}
	return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* LOCAL without the line LINE (and *HAD says whether it was there). */
static char *without_line(const char *text, const char *line, gboolean *had)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GString) out = g_string_new(NULL);

	*had = FALSE;
	for (char **l = lines; *l; l++) {
		g_autofree char *t = g_strstrip(g_strdup(*l));

		/* "#include" is AppArmor's older spelling, not a comment */
		if (strcmp(t, line) == 0 || (t[0] == '#' && strcmp(t + 1, line) == 0)) {
			*had = TRUE;
			continue;
		}
		g_string_append(out, *l);
		if (l[1])
			g_string_append_c(out, '\n');
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean has_line(const char *path, const char *line)
{
	g_autofree char *text = NULL, *rest = NULL;
	gboolean had = FALSE;

	if (g_file_get_contents(path, &text, NULL, NULL))
		rest = without_line(text, line, &had);
	return had;
}

gboolean vmt_hook_apparmor_present(const char *adir)
{
	g_autofree char *lq = g_build_filename(adir, "abstractions", "libvirt-qemu", NULL);

	return g_file_test(lq, G_FILE_TEST_EXISTS);
}

gboolean vmt_hook_apparmor_install(const char *adir, const char *hook, const char *qmp_dir,
				   gboolean *changed, GError **error)
{
	g_autofree char *qemu = NULL, *libvirtd = NULL;

	*changed = FALSE;
	if (!plain_path("the hook", hook, error) || !plain_path("the QMP directory", qmp_dir, error))
		return FALSE;
	/* @{profile_name} is the guest's own profile, libvirt-UUID: each QEMU
	 * may create, and remove, its own socket and no other guest's */
	qemu = g_strdup_printf("# vmtier (written by 'vmtier hook install'): a guest's QEMU creates, "
			       "listens on\n# and removes vmtierd's QMP socket %s/libvirt-UUID.qmp, "
			       "named after its\n# own profile, and no other guest's.\n"
			       "  \"%s/\" r,\n  \"%s/@{profile_name}.qmp\" rw,\n", qmp_dir, qmp_dir, qmp_dir);
	libvirtd = g_strdup_printf("# vmtier (written by 'vmtier hook install'): libvirtd runs the "
				   "qemu.d/50-vmtier hook,\n# a link to this program, as its other "
				   "hooks (its own profile).\n  \"%s\" rmix,\n", hook);
	for (guint i = 0; i < G_N_ELEMENTS(includes); i++) {
		g_autofree char *snippet = g_build_filename(adir, "abstractions", includes[i].snippet, NULL);
		g_autofree char *local = g_build_filename(adir, includes[i].local, NULL);
		g_autofree char *line = include_line(includes[i].snippet), *old = NULL, *text = NULL;
		const char *want = strcmp(includes[i].snippet, QEMU_SNIPPET) == 0 ? qemu : libvirtd;

		if (!g_file_get_contents(snippet, &old, NULL, NULL) || strcmp(old, want) != 0) {
			if (!write_file(snippet, want, error))
				return FALSE;
			*changed = TRUE;
		}
		if (has_line(local, line))
			continue;
		if (!g_file_get_contents(local, &text, NULL, NULL))
			text = g_strdup("");
		g_free(old);
		old = g_strdup_printf("%s%s%s\n", text, *text && !g_str_has_suffix(text, "\n") ? "\n" : "",
				      line);
		if (!write_file(local, old, error))
			return FALSE;
		*changed = TRUE;
	}
	return TRUE;
}

gboolean vmt_hook_apparmor_uninstall(const char *adir, gboolean *changed, GError **error)
{
	*changed = FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(includes); i++) {
		g_autofree char *snippet = g_build_filename(adir, "abstractions", includes[i].snippet, NULL);
		g_autofree char *local = g_build_filename(adir, includes[i].local, NULL);
		g_autofree char *line = include_line(includes[i].snippet), *text = NULL, *rest = NULL;
		gboolean had = FALSE;

		/* the include first: a profile that includes a missing file fails to load */
		if (g_file_get_contents(local, &text, NULL, NULL))
			rest = without_line(text, line, &had);
		if (had && !write_file(local, rest, error))
			return FALSE;
		if (unlink(snippet) < 0 && errno != ENOENT) {
			int e = errno;

			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot remove %s: %s",
				    snippet, g_strerror(e));
			return FALSE;
		}
		*changed |= had;
	}
	return TRUE;
}

char *vmt_hook_apparmor_status(const char *adir)
{
	g_autoptr(GString) s = g_string_new(NULL);

	if (!vmt_hook_apparmor_present(adir))
		return g_strdup_printf("no libvirt profiles in %s", adir);
	for (guint i = 0; i < G_N_ELEMENTS(includes); i++) {
		g_autofree char *snippet = g_build_filename(adir, "abstractions", includes[i].snippet, NULL);
		g_autofree char *local = g_build_filename(adir, includes[i].local, NULL);
		g_autofree char *line = include_line(includes[i].snippet);
		gboolean in = has_line(local, line), there = g_file_test(snippet, G_FILE_TEST_EXISTS);

		g_string_append_printf(s, "%s%s %s", i ? ", " : "", includes[i].snippet,
				       in && there ? "included" : there ? "not included" : "missing");
	}
	return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean vmt_hook_apparmor_ready(const char *adir)
{
	g_autofree char *st = vmt_hook_apparmor_status(adir);

	return !vmt_hook_apparmor_present(adir) || (!strstr(st, "missing") && !strstr(st, "not included"));
}
