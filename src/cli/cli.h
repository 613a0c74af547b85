/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Exit codes of the vmtier CLI (documented in README.md and --help). */
enum {
	VMT_EXIT_OK = 0,
	VMT_EXIT_FAILURE = 1,	/* the operation failed */
	VMT_EXIT_FINDINGS = 2,	/* a check found errors */
	VMT_EXIT_USAGE = 64,	/* bad command line */
};

/* One entry of the command table: `vmtier NAME ARGS...`.  argv[0] is the
 * command name; the function reports its own errors and returns an exit
 * code from the enum above. */
typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} VmtCommand;

int vmt_cmd_version(int argc, char **argv);
int vmt_cmd_host(int argc, char **argv);
int vmt_cmd_memmap(int argc, char **argv);
int vmt_cmd_define(int argc, char **argv);
int vmt_cmd_undefine(int argc, char **argv);
int vmt_cmd_list(int argc, char **argv);
int vmt_cmd_report(int argc, char **argv);
int vmt_cmd_status(int argc, char **argv);
int vmt_cmd_set(int argc, char **argv);
int vmt_cmd_hook(int argc, char **argv);
int vmt_cmd_adopt(int argc, char **argv);

/* Parse a command's options; on error print "vmtier CMD: MSG" and return
 * FALSE.  Owns nothing of the caller's. */
gboolean vmt_cli_parse(GOptionContext *ctx, const char *cmd, int *argc,
		       char ***argv);

/* The libvirt URI a command connects to: its own -c, else vmtier's global
 * `vmtier -c URI COMMAND`, else $LIBVIRT_DEFAULT_URI, else qemu:///system
 * (virsh's order). */
void vmt_cli_set_uri(const char *uri);
const char *vmt_cli_uri(const char *given);

/* A path vmtier shares with vmtierd: the command's own option (GIVEN),
 * else its environment variable ($VMTIER_SOCKET, $VMTIER_HISTORY_DB), else
 * what vmtierd.conf says ($VMTIER_CONFIG or the default file), else
 * vmtierd's default. */
typedef enum { VMT_CLI_SOCKET, VMT_CLI_HISTORY_DB } VmtCliShared;
char *vmt_cli_shared_path(const char *cmd, const char *given, VmtCliShared what);

/* xml-templates/: $VMTIER_TEMPLATE_DIR, else the installed one. */
const char *vmt_cli_template_dir(void);
/* --OPT's node list TEXT appended to INTO; an empty or bad list is refused
 * (G_IO_ERROR_INVALID_ARGUMENT naming OPT and TEXT). */
gboolean vmt_cli_parse_nodes(const char *opt, const char *text, GArray *into, GError **error);
