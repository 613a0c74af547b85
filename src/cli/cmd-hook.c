// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier hook install | uninstall | status: the libvirt qemu hook
 * (vmtier-hook) as a link DIR/50-vmtier, DIR being libvirt's qemu.d. */
#include <gio/gio.h>

#include "config.h"
#include "cli.h"
#include "ctl.h"
#include "daemon-config.h"
#include "hook-apparmor.h"
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_DIR "/etc/libvirt/hooks/qemu.d"
#define HOOK_FILE "50-vmtier"
#define HOOK_EXE "vmtier-hook"
#define APPARMOR_DIR "/etc/apparmor.d"

static const char description[] =
	"libvirt runs DIR/" HOOK_FILE " (a link to " HOOK_EXE ") around every QEMU guest's\n"
	"start and stop.  For vmtier guests it refuses a start whose DRAM quota no\n"
	"longer fits, or whose slow node is offline or ZONE_MOVABLE only, and tells\n"
	"vmtierd when a guest starts or stops.  libvirt looks for hooks when it\n"
	"starts and reloads: after the first install, run 'systemctl reload libvirtd'\n"
	"(or send it SIGHUP).  The hook reads vmtierd's configuration\n"
	"(" VMT_SYSCONFDIR "/vmtier/vmtierd.conf) for the socket and dram_reserve.\n"
	"'meson install' puts " HOOK_EXE " in " VMT_LIBEXECDIR "; this command links it.\n"
	"\n"
	"Where libvirt's AppArmor profiles are installed (ADIR, default " APPARMOR_DIR "),\n"
	"install also writes ADIR/abstractions/vmtier-qemu (QEMU may create its QMP\n"
	"socket) and vmtier-libvirtd (libvirtd may run the hook), includes them from\n"
	"ADIR/local/abstractions/libvirt-qemu and ADIR/local/usr.sbin.libvirtd, and\n"
	"reloads libvirtd's profile; guests started from then on get the rule.\n"
	"Example: vmtier hook install && systemctl reload libvirtd\n"
	"Exit status: 0 done (status: the hook is in place), 1 failed (status: the hook\n"
	"is missing or broken), 64 bad command line.\n";

typedef enum { HOOK_ABSENT, HOOK_OURS, HOOK_FOREIGN } HookState;

/* vmtier-hook next to this vmtier (a build tree), else the installed one. */
static char *hook_binary(GError **error)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	g_autofree char *near = dir ? g_build_filename(dir, HOOK_EXE, NULL) : NULL;

	if (near && g_file_test(near, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(near, G_FILE_TEST_IS_DIR))
		return g_steal_pointer(&near);
	if (g_file_test(VMT_LIBEXECDIR "/" HOOK_EXE, G_FILE_TEST_IS_EXECUTABLE))
		return g_strdup(VMT_LIBEXECDIR "/" HOOK_EXE);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		    "no executable %s next to %s nor in %s (build it, or meson install)", HOOK_EXE,
		    self ? self : "vmtier", VMT_LIBEXECDIR);
	return NULL;
}

/* Ours: a link to a file named vmtier-hook (this build's or another's). */
static HookState hook_state(const char *path, char **target)
{
	struct stat st;
	g_autofree char *base = NULL;

	*target = NULL;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? HOOK_ABSENT : HOOK_FOREIGN;
	if (!S_ISLNK(st.st_mode))
		return HOOK_FOREIGN;
	*target = g_file_read_link(path, NULL);
	base = *target ? g_path_get_basename(*target) : NULL;
	return g_strcmp0(base, HOOK_EXE) == 0 ? HOOK_OURS : HOOK_FOREIGN;
}

static int fail(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmtier hook %s: %s\n", cmd, msg);
	return VMT_EXIT_FAILURE;
}

/* The QMP directory vmtierd.conf names, as the hook reads it. */
static char *qmp_dir(void)
{
	const char *env = g_getenv("VMTIER_CONFIG");
	g_autoptr(VmtDaemonConfig) cfg =
		vmt_daemon_config_load(env && *env ? env : vmt_daemon_config_default_path(), FALSE, NULL);

	return g_strdup(cfg ? cfg->qmp_dir : VMT_QMPDIR);
}

/* libvirtd's running profile reads its includes when it is loaded again. */
static void reload_libvirtd_profile(const char *adir)
{
	g_autofree char *profile = g_build_filename(adir, "usr.sbin.libvirtd", NULL);
	g_autofree char *out = NULL;
	const char *argv[] = { "apparmor_parser", "-r", profile, NULL };
	int st = -1;

	if (strcmp(adir, APPARMOR_DIR) != 0 || !vmt_host_apparmor_enabled() ||
	    !g_file_test(profile, G_FILE_TEST_EXISTS))
		return;
	if (g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
			 NULL, NULL, NULL, &out, &st, NULL) && g_spawn_check_wait_status(st, NULL))
		printf("reloaded libvirtd's AppArmor profile (%s)\n", profile);
	else
		printf("could not reload libvirtd's AppArmor profile: run 'apparmor_parser -r %s'%s%s\n",
		       profile, out && *out ? ": " : "", out ? g_strstrip(out) : "");
}

static int apparmor_install(const char *adir, const char *bin)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *hook = realpath(bin, NULL), *qmp = qmp_dir();
	gboolean changed;

	if (!vmt_hook_apparmor_present(adir))
		return VMT_EXIT_OK;	/* no AppArmor confinement of libvirt's here */
	if (!vmt_hook_apparmor_install(adir, hook ? hook : bin, qmp, &changed, &error))
		return fail("install", "AppArmor: %s", error->message);
	if (!changed) {
		printf("AppArmor: already allowed (%s)\n", adir);
		return VMT_EXIT_OK;
	}
	printf("AppArmor: %s/abstractions/vmtier-qemu (QEMU's QMP socket in %s) and vmtier-libvirtd "
	       "(the hook) included from %s/local\n", adir, qmp, adir);
	reload_libvirtd_profile(adir);
	return VMT_EXIT_OK;
}

static int install(const char *dir, const char *adir, gboolean force)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bin = hook_binary(&error);
	g_autofree char *path = g_build_filename(dir, HOOK_FILE, NULL);
	g_autofree char *tmp = NULL, *target = NULL;
	HookState st;

	if (!bin)
		return fail("install", "%s", error->message);
	if (g_mkdir_with_parents(dir, 0755) < 0)
		return fail("install", "cannot create %s: %s", dir, g_strerror(errno));
	st = hook_state(path, &target);
	if (st == HOOK_OURS && strcmp(target, bin) == 0) {
		printf("already installed: %s -> %s\n", path, bin);
		return apparmor_install(adir, bin);
	}
	if (st == HOOK_FOREIGN && !force)
		return fail("install", "%s exists and is not vmtier's hook (a link to %s): "
			    "give --force to replace it", path, HOOK_EXE);
	/* a new link renamed over the old file: libvirt never sees none */
	tmp = g_strdup_printf("%s/.%s.%d", dir, HOOK_FILE, (int)getpid());
	unlink(tmp);
	if (symlink(bin, tmp) < 0)
		return fail("install", "cannot create %s: %s", tmp, g_strerror(errno));
	if (rename(tmp, path) < 0) {
		int err = errno;

		unlink(tmp);
		return fail("install", "cannot replace %s: %s", path, g_strerror(err));
	}
	printf("installed %s -> %s\n", path, bin);
	printf("libvirt looks for hooks when it starts or reloads: unless it already ran a qemu "
	       "hook, run 'systemctl reload libvirtd' (or send libvirtd SIGHUP)\n");
	return apparmor_install(adir, bin);
}

static int uninstall(const char *dir, const char *adir)
{
	g_autofree char *path = g_build_filename(dir, HOOK_FILE, NULL);
	g_autofree char *target = NULL;
	g_autoptr(GError) error = NULL;
	gboolean changed = FALSE;

	if (vmt_hook_apparmor_present(adir)) {
		if (!vmt_hook_apparmor_uninstall(adir, &changed, &error))
			return fail("uninstall", "AppArmor: %s", error->message);
		if (changed) {
			printf("AppArmor: vmtier's includes removed from %s/local\n", adir);
			reload_libvirtd_profile(adir);
		}
	}

	switch (hook_state(path, &target)) {
	case HOOK_ABSENT:
		printf("not installed: no %s\n", path);
		return VMT_EXIT_OK;
	case HOOK_FOREIGN:
		return fail("uninstall", "%s is not vmtier's hook (a link to %s): left alone",
			    path, HOOK_EXE);
	case HOOK_OURS:
		break;
	}
	if (unlink(path) < 0)
		return fail("uninstall", "cannot remove %s: %s", path, g_strerror(errno));
	printf("removed %s\n", path);
	return VMT_EXIT_OK;
}

/* What the hook would see: its link, its binary, vmtierd's configuration
 * and socket.  Exit 0 only when the link is ours and leads to a program. */
static int status(const char *dir, const char *adir)
{
	g_autofree char *path = g_build_filename(dir, HOOK_FILE, NULL);
	g_autofree char *target = NULL;
	g_autoptr(GError) error = NULL;
	const char *conf = vmt_daemon_config_client_path();
	g_autoptr(VmtDaemonConfig) cfg = vmt_daemon_config_load(conf, FALSE, &error);
	HookState st = hook_state(path, &target);
	gboolean ok = st == HOOK_OURS && g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) &&
		      vmt_hook_apparmor_ready(adir);
	g_autofree char *aa = vmt_hook_apparmor_status(adir);
	json_object *req = json_object_new_object(), *reply;

	printf("hook: %s: %s%s%s\n", path,
	       st == HOOK_ABSENT ? "not installed" : st == HOOK_FOREIGN ? "not vmtier's" :
	       ok ? "installed" : "broken link", target ? " -> " : "", target ? target : "");
	printf("apparmor: %s\n", aa);
	printf("config: %s%s\n", conf, !cfg ? " (unusable: the hook uses defaults)" :
	       cfg->path ? "" : " (absent: defaults)");
	if (cfg) {
		json_object_object_add(req, "cmd", json_object_new_string("status"));
		reply = vmt_ctl_request(cfg->socket_path, req, 2000, &error);
		printf("vmtierd: %s: %s\n", cfg->socket_path, reply ? "answers" : error->message);
		json_object_put(reply);
	} else {
		printf("config error: %s\n", error->message);
		json_object_put(req);
	}
	return ok ? VMT_EXIT_OK : VMT_EXIT_FAILURE;
}

int vmt_cmd_hook(int argc, char **argv)
{
	g_autofree char *dir = NULL, *adir = NULL;
	gboolean force = FALSE;
	GOptionEntry entries[] = {
		{ "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "libvirt's qemu hook directory (default " HOOK_DIR ")", "DIR" },
		{ "apparmor-dir", 0, 0, G_OPTION_ARG_FILENAME, &adir, "AppArmor's policy directory (default " APPARMOR_DIR ")", "ADIR" },
		{ "force", 0, 0, G_OPTION_ARG_NONE, &force, "install: replace a file that is not vmtier's", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("install|uninstall|status - the libvirt hook");
	const char *sub;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx, description);
	if (!vmt_cli_parse(ctx, "hook", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc != 2) {
		fprintf(stderr, "vmtier hook: give one of install, uninstall, status\n");
		return VMT_EXIT_USAGE;
	}
	sub = argv[1];
	if (force && strcmp(sub, "install") != 0) {
		fprintf(stderr, "vmtier hook %s: --force goes with install\n", sub);
		return VMT_EXIT_USAGE;
	}
	if (!dir)
		dir = g_strdup(HOOK_DIR);
	if (!adir)
		adir = g_strdup(APPARMOR_DIR);
	if (strcmp(sub, "install") == 0)
		return install(dir, adir, force);
	if (strcmp(sub, "uninstall") == 0)
		return uninstall(dir, adir);
	if (strcmp(sub, "status") == 0)
		return status(dir, adir);
	fprintf(stderr, "vmtier hook: unknown subcommand '%s' (install, uninstall, status)\n", sub);
	return VMT_EXIT_USAGE;
}
