// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier: the command-line front end.  A command table in the style of
 * daxctl: `vmtier [--version|--help] COMMAND [ARGS]`. */
#include "config.h"
#include "cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static int cmd_help(int argc, char **argv);

static const VmtCommand commands[] = {
	{ "define", vmt_cmd_define, "Define a tiered guest in libvirt (DRAM + slow memory)" },
	{ "adopt", vmt_cmd_adopt, "Check a domain made elsewhere for tiering; --fix adds what is missing" },
	{ "undefine", vmt_cmd_undefine, "Remove a stopped vmtier guest" },
	{ "list", vmt_cmd_list, "List vmtier-managed guests" },
	{ "host", vmt_cmd_host, "Show the host's memory tiers; host check, host online" },
	{ "status", vmt_cmd_status, "Show what vmtierd is doing: per-guest tiers, hot set, moves" },
	{ "set", vmt_cmd_set, "Change a running guest's DRAM quota in vmtierd" },
	{ "report", vmt_cmd_report, "SLA report per tenant from vmtierd's history" },
	{ "hook", vmt_cmd_hook, "Install or remove the libvirt hook (admission, start/stop to vmtierd)" },
	{ "memmap", vmt_cmd_memmap, "Show a running guest's RAM map and page placement" },
	{ "version", vmt_cmd_version, "Print vmtier's version" },
	{ "help", cmd_help, "Show this help, or a command's help" },
};

static const VmtCommand *find_command(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vmtier [--version] [--help] [-c URI] COMMAND [ARGS]\n\n"
		   "Memory tiering for QEMU/KVM guests: DRAM for hot pages, "
		   "slow memory for the rest.\n\nCommands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'vmtier help COMMAND' (or 'vmtier COMMAND --help') for a command's\n"
		   "options, units, an example and its exit status; man vmtier.\n"
		   "Exit status: 0 ok, 1 failure, 2 a check found errors, "
		   "64 bad command line.\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] != '-') {
		const VmtCommand *c = find_command(argv[1]);
		g_autoptr(GPtrArray) args = g_ptr_array_new();

		if (!c) {
			fprintf(stderr, "vmtier help: unknown command '%s' (see 'vmtier --help')\n", argv[1]);
			return VMT_EXIT_USAGE;
		}
		/* `vmtier help host online` is `vmtier host online --help` */
		for (int i = 1; i < argc; i++)
			g_ptr_array_add(args, argv[i]);
		g_ptr_array_add(args, (char *)"--help");
		g_ptr_array_add(args, NULL);
		return c->fn((int)args->len - 1, (char **)args->pdata);
	}
	usage(stdout);
	return VMT_EXIT_OK;
}

int main(int argc, char **argv)
{
	const VmtCommand *c;

	setlocale(LC_ALL, "");
	/* global options before the command, as virsh takes them */
	while (argc >= 2 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--connect") == 0 ||
			     g_str_has_prefix(argv[1], "--connect="))) {
		const char *eq = strchr(argv[1], '=');
		const char *uri = eq ? eq + 1 : argv[2];
		int step = eq ? 1 : 2;

		if (!uri || !*uri) {
			fprintf(stderr, "vmtier: %s needs a libvirt URI\n", argv[1]);
			return VMT_EXIT_USAGE;
		}
		vmt_cli_set_uri(uri);
		argc -= step;
		argv += step;
	}
	if (argc < 2) {
		usage(stderr);
		return VMT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0) {
		puts(VMT_VERSION);
		return VMT_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return VMT_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "vmtier: unknown command '%s' (see 'vmtier --help')\n",
			argv[1]);
		return VMT_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
