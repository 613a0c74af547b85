// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier host [--json] | host check [--json] | host online DEVICE|all ... */
#include "cli.h"
#include "host-check.h"
#include "host-online.h"
#include "host-persist.h"
#include "host.h"
#include "nodeset.h"
#include "size.h"
#include "sysfs.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static json_object *int_array(const GArray *a)
{
	json_object *j = json_object_new_array();

	for (guint i = 0; i < a->len; i++)
		json_object_array_add(j, json_object_new_int(g_array_index(a, int, i)));
	return j;
}

static json_object *node_json(const VmtNode *n)
{
	json_object *o = json_object_new_object(), *zones = json_object_new_object();
	json_object *dist = json_object_new_array();
	g_autofree char *cpus = vmt_nodeset_format(n->cpus);

	json_object_object_add(o, "id", json_object_new_int(n->id));
	json_object_object_add(o, "kind", json_object_new_string(vmt_node_kind_name(n->kind)));
	json_object_object_add(o, "slow", json_object_new_boolean(vmt_node_is_slow(n)));
	json_object_object_add(o, "cpus", json_object_new_string(cpus));
	json_object_object_add(o, "total_bytes", json_object_new_uint64(n->total_bytes));
	json_object_object_add(o, "free_bytes", json_object_new_uint64(n->free_bytes));
	json_object_object_add(o, "memory_tier", n->memory_tier >= 0 ?
			       json_object_new_int(n->memory_tier) : NULL);
	for (int z = 0; z < VMT_ZONE_COUNT; z++) {
		g_autofree char *key = g_ascii_strdown(vmt_zone_name(z), -1);
		json_object_object_add(zones, key, json_object_new_uint64(n->zone_bytes[z]));
	}
	json_object_object_add(o, "zone_bytes", zones);
	json_object_object_add(o, "online_blocks", json_object_new_int((int)n->online_blocks));
	json_object_object_add(o, "offline_blocks", json_object_new_int((int)n->offline_blocks));
	for (guint i = 0; i < n->distances->len; i++) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "node", json_object_new_int(g_array_index(n->distance_nodes, int, i)));
		json_object_object_add(d, "distance", json_object_new_int(g_array_index(n->distances, int, i)));
		json_object_array_add(dist, d);
	}
	json_object_object_add(o, "distances", dist);
	json_object_object_add(o, "closest_dram_nodes", int_array(n->closest_dram));
	json_object_object_add(o, "read_latency_ns", n->read_latency_ns ?
			       json_object_new_int((int)n->read_latency_ns) : NULL);
	json_object_object_add(o, "read_bandwidth_mbs", n->read_bandwidth_mbs ?
			       json_object_new_int((int)n->read_bandwidth_mbs) : NULL);
	return o;
}

static json_object *dax_json(const VmtDaxDev *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "region", json_object_new_string(d->region));
	json_object_object_add(o, "bus", json_object_new_string(d->bus));
	json_object_object_add(o, "mode", json_object_new_string(d->mode));
	json_object_object_add(o, "size_bytes", json_object_new_uint64(d->size));
	json_object_object_add(o, "target_node", json_object_new_int(d->target_node));
	/* null: unknown (not root, and the node has several devices) */
	json_object_object_add(o, "online_blocks", d->blocks_known ? json_object_new_int((int)d->online_blocks) : NULL);
	json_object_object_add(o, "total_blocks", d->blocks_known ? json_object_new_int((int)d->n_blocks) : NULL);
	json_object_object_add(o, "movable", d->blocks_known ? json_object_new_boolean(d->movable_blocks > 0) : NULL);
	return o;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static char *zones_text(const VmtNode *n)
{
	guint64 online = vmt_node_online_bytes(n);
	GString *s = g_string_new(NULL);

	for (int z = VMT_ZONE_COUNT - 1; z >= 0; z--)
		if (n->zone_bytes[z])
			g_string_append_printf(s, "%s%s %.0f%%", s->len ? " " : "", vmt_zone_name(z),
					       100.0 * (double)n->zone_bytes[z] / (double)online);
	if (n->offline_blocks)
		g_string_append_printf(s, "%s%u blocks offline", s->len ? ", " : "", n->offline_blocks);
	if (!s->len)
		g_string_append(s, "-");
	return g_string_free(s, FALSE);
}

static void print_table(const VmtHost *host)
{
	printf("%-4s %-5s %-5s %10s %10s %5s  %-22s %-8s %s\n", "NODE", "KIND", "CPUS",
	       "TOTAL", "FREE", "TIER", "ZONES", "NEAREST", "DISTANCES");
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		g_autofree char *cpus = vmt_nodeset_format(n->cpus);
		g_autofree char *total = vmt_size_format(n->total_bytes);
		g_autofree char *free_s = vmt_size_format(n->free_bytes);
		g_autofree char *zones = zones_text(n);
		g_autofree char *near = vmt_node_is_slow(n) ? vmt_nodeset_format(n->closest_dram) : g_strdup("-");
		g_autofree char *tier = n->memory_tier >= 0 ? g_strdup_printf("%d", n->memory_tier) : g_strdup("-");
		GString *dist = g_string_new(NULL);

		for (guint j = 0; j < n->distances->len; j++)
			g_string_append_printf(dist, "%s%d", j ? " " : "", g_array_index(n->distances, int, j));
		printf("%-4d %-5s %-5s %10s %10s %5s  %-22s %-8s %s\n", n->id,
		       vmt_node_kind_name(n->kind), *cpus ? cpus : "-", total, free_s, tier, zones,
		       *near ? near : "-", dist->str);
		g_string_free(dist, TRUE);
	}
	if (host->dax->len) {
		printf("\n%-8s %-8s %-7s %-10s %10s %4s %7s %s\n", "DAX", "REGION", "BUS", "MODE",
		       "SIZE", "NODE", "BLOCKS", "ZONE");
		for (guint i = 0; i < host->dax->len; i++) {
			const VmtDaxDev *d = g_ptr_array_index(host->dax, i);
			g_autofree char *size = vmt_size_format(d->size);
			g_autofree char *blocks = strcmp(d->mode, "system-ram") != 0 ? g_strdup("-") :
				!d->blocks_known ? g_strdup("?") :
				g_strdup_printf("%u/%u", d->online_blocks, d->n_blocks);
			const char *zone = !d->online_blocks ? "-" :
					   d->movable_blocks == d->online_blocks ? "movable" :
					   d->movable_blocks ? "mixed" : "normal";
			printf("%-8s %-8s %-7s %-10s %10s %4d %7s %s\n", d->name,
			       *d->region ? d->region : "-", d->bus, d->mode, size, d->target_node,
			       blocks, zone);
		}
	}
	if (!vmt_host_has_slow_tier(host))
		printf("\nNo slow memory online on this host, so there is nothing to tier "
		       "(see 'vmtier host check').\n");
}

/* Some of sysfs is root-only (daxX.Y/resource, DAMON's admin tree). */
static void warn_if_partial(const char *cmd)
{
	if (geteuid() != 0 && strcmp(vmt_sysfs_root(), "/") == 0)
		fprintf(stderr, "vmtier %s: not root: DAMON and some DAX details are hidden, "
			"results may be incomplete\n", cmd);
}

static int host_show(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[check|online] - show the host's memory tiers");
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtHost) host = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Subcommands:\n  check    diagnose the known traps of tiered hosts\n"
		"  online   turn DAX devices into NUMA nodes in a chosen zone\n\n"
		"Sizes are binary (MiB, GiB) in the table, bytes in JSON.\n"
		"Example: vmtier host --json\n"
		"Exit status: 0 shown, 1 the host could not be read, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "host", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc > 1) {
		fprintf(stderr, "vmtier host: unknown subcommand '%s' (check, online)\n", argv[1]);
		return VMT_EXIT_USAGE;
	}
	host = vmt_host_load(&error);
	if (!host) {
		fprintf(stderr, "vmtier host: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	warn_if_partial("host");
	if (json) {
		json_object *o = json_object_new_object(), *nodes = json_object_new_array();
		json_object *dax = json_object_new_array();

		for (guint i = 0; i < host->nodes->len; i++)
			json_object_array_add(nodes, node_json(g_ptr_array_index(host->nodes, i)));
		for (guint i = 0; i < host->dax->len; i++)
			json_object_array_add(dax, dax_json(g_ptr_array_index(host->dax, i)));
		json_object_object_add(o, "nodes", nodes);
		json_object_object_add(o, "dax_devices", dax);
		json_object_object_add(o, "block_size_bytes", json_object_new_uint64(host->block_size));
		json_object_object_add(o, "slow_tier", json_object_new_boolean(vmt_host_has_slow_tier(host)));
		print_json(o);
	} else {
		print_table(host);
	}
	return VMT_EXIT_OK;
}

static int host_check(int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array of findings", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- diagnose the host's memory tiers");
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtHost) host = NULL;
	g_autoptr(GPtrArray) findings = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"One finding per line: severity, id, subject, what, why, fix.\n"
		"Example: vmtier host check --json\n"
		"Exit status: 0 no errors (warnings allowed), 1 the host could not be read,\n"
		"2 errors found, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "host check", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc > 1) {
		fprintf(stderr, "vmtier host check: unexpected argument '%s'\n", argv[1]);
		return VMT_EXIT_USAGE;
	}
	host = vmt_host_load(&error);
	if (!host) {
		fprintf(stderr, "vmtier host check: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	warn_if_partial("host check");
	findings = vmt_host_check_run(host);
	if (json) {
		json_object *a = json_object_new_array();
		for (guint i = 0; i < findings->len; i++) {
			const VmtFinding *f = g_ptr_array_index(findings, i);
			json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_string(f->id));
			json_object_object_add(o, "severity", json_object_new_string(vmt_severity_name(f->severity)));
			json_object_object_add(o, "subject", json_object_new_string(f->subject));
			json_object_object_add(o, "what", json_object_new_string(f->what));
			json_object_object_add(o, "why", json_object_new_string(f->why));
			json_object_object_add(o, "fix", json_object_new_string(f->fix));
			json_object_array_add(a, o);
		}
		print_json(a);
	} else {
		for (guint i = 0; i < findings->len; i++) {
			const VmtFinding *f = g_ptr_array_index(findings, i);
			printf("%-7s %-19s %-7s %s. Why: %s. Fix: %s.\n", vmt_severity_name(f->severity),
			       f->id, f->subject, f->what, f->why, f->fix);
		}
	}
	return vmt_host_check_worst(findings) == VMT_SEVERITY_ERROR ? VMT_EXIT_FINDINGS : VMT_EXIT_OK;
}

static void on_progress(const char *device, guint done, guint total, gpointer data)
{
	fprintf(stderr, "\r%s: %u/%u memory blocks online", device, done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* The devices --persist names: DEVICE, or for "all" every DAX device. */
static GPtrArray *persist_devices(const char *device, GError **error)
{
	g_autoptr(VmtHost) host = NULL;
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	if (strcmp(device, "all") != 0) {
		g_ptr_array_add(out, g_strdup(device));
		return out;
	}
	if (!(host = vmt_host_load(error))) {
		g_ptr_array_unref(out);
		return NULL;
	}
	for (guint i = 0; i < host->dax->len; i++)
		g_ptr_array_add(out, g_strdup(((VmtDaxDev *)host->dax->pdata[i])->name));
	return out;
}

static int host_online(int argc, char **argv)
{
	gboolean no_progress = FALSE, persist = FALSE;
	g_autofree char *zone_s = NULL, *conf = NULL;
	g_autoptr(GPtrArray) devices = NULL;
	GOptionEntry entries[] = {
		{ "zone", 'z', 0, G_OPTION_ARG_STRING, &zone_s, "normal (default) or movable", "ZONE" },
		{ "no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress, "Do not show progress", NULL },
		{ "persist", 0, 0, G_OPTION_ARG_NONE, &persist,
		  "Also after every reboot (daxctl's /etc/daxctl.conf.d/vmtier.conf)", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("DEVICE|all - make DAX devices NUMA nodes");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
	VmtZone zone = VMT_ZONE_NORMAL;
	gboolean progress;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Switches DAX devices to system-ram (kmem) and onlines their memory blocks\n"
		"into the zone asked for, through libdaxctl.  ZONE_NORMAL is the default:\n"
		"ZONE_MOVABLE memory cannot hold kernel allocations, so a guest that spills\n"
		"onto it can be OOM-killed with memory free (see 'vmtier host check').\n"
		"\n"
		"Nothing in the kernel remembers this across a reboot: with --persist,\n"
		"vmtier writes daxctl's boot-time configuration (a [reconfigure-device]\n"
		"section per device, by its NVDIMM dax UUID, in\n"
		"/etc/daxctl.conf.d/vmtier.conf), which daxctl's udev rule applies to each\n"
		"DAX device at boot.  Devices without one are refused before\n"
		"anything changes.\n"
		"Example: vmtier host online all --zone normal --persist\n"
		"Exit status: 0 online (and written for boot with --persist), 1 failed (the\n"
		"devices done before the error are named), 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "host online", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc != 2) {
		fprintf(stderr, "vmtier host online: %s\n", argc < 2 ? "name a DAX device (daxX.Y) or 'all'"
			: "one DEVICE or 'all' only");
		return VMT_EXIT_USAGE;
	}
	if (zone_s && strcmp(zone_s, "movable") == 0) {
		zone = VMT_ZONE_MOVABLE;
	} else if (zone_s && strcmp(zone_s, "normal") != 0) {
		fprintf(stderr, "vmtier host online: bad zone '%s' (normal or movable)\n", zone_s);
		return VMT_EXIT_USAGE;
	} else if (!zone_s) {
		fprintf(stderr, "vmtier host online: zone normal (default): ZONE_MOVABLE cannot hold "
			"kernel allocations, so guests spilling onto it can be OOM-killed\n");
	}
	if (persist) {
		/* refused before anything changes */
		devices = persist_devices(argv[1], &error);
		if (!devices || !vmt_host_persist_check(devices, zone, &error)) {
			fprintf(stderr, "vmtier host online: --persist: %s\n", error->message);
			return VMT_EXIT_FAILURE;
		}
	}
	progress = !no_progress && isatty(STDERR_FILENO);
	if (!vmt_host_online_run(argv[1], zone, progress ? on_progress : NULL, NULL, done, &error)) {
		if (done->len)
			fprintf(stderr, "vmtier host online: done before the error: %s\n",
				(char *)g_ptr_array_index(done, 0));
		fprintf(stderr, "vmtier host online: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	if (!done->len)
		printf("nothing to do: already online in ZONE_%s\n", zone == VMT_ZONE_NORMAL ? "NORMAL" : "MOVABLE");
	for (guint i = 0; i < done->len; i++)
		printf("%s: system-ram, all memory blocks online in ZONE_%s\n",
		       (char *)g_ptr_array_index(done, i), zone == VMT_ZONE_NORMAL ? "NORMAL" : "MOVABLE");
	if (!persist)
		return VMT_EXIT_OK;
	if (!(conf = vmt_host_persist_write(devices, zone, &error))) {
		fprintf(stderr, "vmtier host online: online now, but not after a reboot: %s\n",
			error->message);
		return VMT_EXIT_FAILURE;
	}
	for (guint i = 0; i < devices->len; i++)
		printf("%s: after a reboot too (daxctl, %s)\n", (char *)devices->pdata[i], conf);
	return VMT_EXIT_OK;
}

int vmt_cmd_host(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return host_check(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "online") == 0)
		return host_online(argc - 1, argv + 1);
	return host_show(argc, argv);
}
