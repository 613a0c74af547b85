// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"
#include "cli.h"

#include <json-c/json.h>
#include <stdio.h>

int vmt_cmd_version(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- print vmtier's version");

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx, "Example: vmtier version --json\n"
					 "Exit status: 0, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "version", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc > 1) {
		fprintf(stderr, "vmtier version: unexpected argument '%s'\n", argv[1]);
		return VMT_EXIT_USAGE;
	}
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_string(VMT_VERSION));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		puts(VMT_VERSION);
	}
	return VMT_EXIT_OK;
}
