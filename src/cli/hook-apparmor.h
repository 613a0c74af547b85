/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

/* vmtier's additions to libvirt's AppArmor profiles under ADIR (normally
 * /etc/apparmor.d): abstractions/vmtier-qemu (QEMU's QMP socket in QMP_DIR)
 * and abstractions/vmtier-libvirtd (libvirtd runs HOOK, a real path),
 * included from the site's local/abstractions/libvirt-qemu and
 * local/usr.sbin.libvirtd. */

/* libvirt's AppArmor profiles are installed under ADIR. */
gboolean vmt_hook_apparmor_present(const char *adir);
/* Write both abstractions and include them; *CHANGED when a file changed. */
gboolean vmt_hook_apparmor_install(const char *adir, const char *hook, const char *qmp_dir,
				   gboolean *changed, GError **error);
/* Remove the includes and the abstractions; *CHANGED when an include was there. */
gboolean vmt_hook_apparmor_uninstall(const char *adir, gboolean *changed, GError **error);
/* One line for `vmtier hook status`. */
char *vmt_hook_apparmor_status(const char *adir);
/* Nothing missing (or no libvirt profiles at all). */
gboolean vmt_hook_apparmor_ready(const char *adir);
