// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier memmap (NAME | --qmp SOCKET --pid PID) [--json]: a running guest's
 * RAM map from QMP, cross-checked against the QEMU process, with where its
 * pages are now. */
#include "config.h"
#include "cli.h"
#include "domain-xml.h"
#include "domains.h"
#include "host-proc.h"
#include "qmp-memmap.h"
#include "size.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define QMP_TIMEOUT_MS 10000

static gboolean valid_name(const char *name)
{
	if (!*name || *name == '.' || strlen(name) > 64)
		return FALSE;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("_.-", *p))
			return FALSE;
	return TRUE;
}

static char *resident_text(const GArray *pages, guint64 absent)
{
	GString *s = g_string_new(NULL);

	for (guint n = 0; n < pages->len; n++)
		if (g_array_index(pages, guint64, n))
			g_string_append_printf(s, "node%u=%" G_GUINT64_FORMAT " ", n, g_array_index(pages, guint64, n));
	g_string_append_printf(s, "absent=%" G_GUINT64_FORMAT, absent);
	return g_string_free(s, FALSE);
}

/* [{"node": N, "pages": P}, ...] for the nodes that hold pages */
static json_object *pages_json(const GArray *pages)
{
	json_object *a = json_object_new_array();

	for (guint n = 0; n < pages->len; n++) {
		json_object *e;
		if (!g_array_index(pages, guint64, n))
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_int((int)n));
		json_object_object_add(e, "pages", json_object_new_uint64(g_array_index(pages, guint64, n)));
		json_object_array_add(a, e);
	}
	return a;
}

static int memmap_run(const char *qmp, int pid, gboolean json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_open_sync(qmp, QMP_TIMEOUT_MS, &error);
	g_autoptr(GPtrArray) rams = NULL;
	json_object *out = NULL, *arr = NULL;
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
	VmtGuestRam *failed = NULL;

	if (!c) {
		fprintf(stderr, "vmtier memmap: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	rams = vmt_qmp_memmap_query(c, QMP_TIMEOUT_MS, &error);
	if (!rams) {
		fprintf(stderr, "vmtier memmap: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	if (json) {
		out = json_object_new_object();
		json_object_object_add(out, "pid", json_object_new_int(pid));
		json_object_object_add(out, "qmp", json_object_new_string(qmp));
		arr = vmt_qmp_memmap_to_json(rams);
	} else {
		g_ptr_array_add(rows, g_strdup_printf("%-10s %-4s %-23s %9s %-29s %-11s %s", "MEMDEV",
			"NODE", "GUEST-PHYSICAL", "SIZE", "QEMU VIRTUAL", "POLICY", "RESIDENT PAGES"));
	}
	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = failed = g_ptr_array_index(rams, i);
		g_autoptr(GArray) pages = g_array_new(FALSE, TRUE, sizeof(guint64));
		g_autofree char *seen = NULL, *res = NULL, *size = vmt_size_format(r->size);
		g_autofree char *node = r->guest_node >= 0 ? g_strdup_printf("%d", r->guest_node) : g_strdup("-");
		g_autoptr(GString) gpa = g_string_new(NULL);
		guint64 absent = 0;

		if (!r->hva)
			continue;	/* not mapped into the guest (e.g. unused backend) */
		if (!vmt_host_proc_check_range(pid, r->hva, r->size, r->policy, r->host_nodes, &seen, &error) ||
		    !vmt_host_proc_resident(pid, r->hva, r->size, pages, &absent, &error)) {
			goto fail;
		}
		if (json) {
			json_object *o = json_object_array_get_idx(arr, i);
			json_object_object_add(o, "numa_maps_policy", json_object_new_string(seen));
			json_object_object_add(o, "resident_pages", pages_json(pages));
			json_object_object_add(o, "absent_pages", json_object_new_uint64(absent));
			/* and per guest-physical range (a backend may be split, e.g. by the 4G hole) */
			for (guint j = 0; j < r->ranges->len; j++) {
				VmtGuestRange *x = &g_array_index(r->ranges, VmtGuestRange, j);
				json_object *rj = json_object_array_get_idx(json_object_object_get(o, "ranges"), j);
				g_autoptr(GArray) rp = g_array_new(FALSE, TRUE, sizeof(guint64));
				guint64 rabs = 0;

				if (!vmt_host_proc_resident(pid, r->hva + x->offset, x->size, rp, &rabs, &error))
					goto fail;
				json_object_object_add(rj, "resident_pages", pages_json(rp));
				json_object_object_add(rj, "absent_pages", json_object_new_uint64(rabs));
			}
			continue;
		}
		for (guint j = 0; j < r->ranges->len; j++) {
			VmtGuestRange *x = &g_array_index(r->ranges, VmtGuestRange, j);
			g_string_append_printf(gpa, "%s0x%" PRIx64 "-0x%" PRIx64, j ? "," : "", x->gpa, x->gpa + x->size);
		}
		res = resident_text(pages, absent);
		g_ptr_array_add(rows, g_strdup_printf("%-10s %-4s %-23s %9s 0x%-12" PRIx64 "-0x%-12" PRIx64
			" %-11s %s", r->memdev, node, gpa->str, size, r->hva, r->hva + r->size, seen, res));
	}
	/* all checks passed: now print (no half table on an error) */
	for (guint i = 0; i < rows->len; i++)
		puts(g_ptr_array_index(rows, i));
	if (json) {
		json_object_object_add(out, "ram", arr);
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	}
	return VMT_EXIT_OK;
fail:
	fprintf(stderr, "vmtier memmap: %s: %s\n", failed->memdev, error->message);
	json_object_put(out);
	json_object_put(arr);
	return VMT_EXIT_FAILURE;
}

int vmt_cmd_memmap(int argc, char **argv)
{
	gboolean json = FALSE;
	g_autofree char *qmp = NULL, *pidfile_text = NULL, *uri = NULL;
	int pid = 0;
	GOptionEntry entries[] = {
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (for NAME's UUID)", "URI" },
		{ "qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp, "QEMU's QMP socket", "SOCKET" },
		{ "pid", 0, 0, G_OPTION_ARG_INT, &pid, "QEMU's process id", "PID" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("(NAME | --qmp SOCKET --pid PID) - a guest's RAM map");

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"NAME is a vmtier-managed libvirt domain: its QMP socket is\n"
		VMT_QMPDIR "/libvirt-UUID.qmp (its libvirt UUID) and its pid is read from\n"
		"/run/libvirt/qemu/NAME.pid.  Resident pages are\n"
		"counted in 4 KiB pages per host node; sizes are binary (MiB, GiB).\n"
		"Example: vmtier memmap web1 --json\n"
		"Exit status: 0 printed, 1 not running, QMP failed or QEMU's answer does not\n"
		"match its process, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "memmap", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc == 2 && !qmp && !pid) {
		g_autofree char *pidfile = NULL, *uuid = NULL;
		g_autoptr(GError) error = NULL;
		virConnectPtr conn;

		if (!valid_name(argv[1])) {
			fprintf(stderr, "vmtier memmap: bad domain name '%s'\n", argv[1]);
			return VMT_EXIT_USAGE;
		}
		conn = vmt_domains_connect(vmt_cli_uri(uri), &error);
		uuid = conn ? vmt_domains_uuid(conn, argv[1], &error) : NULL;
		if (conn)
			virConnectClose(conn);
		if (!uuid) {
			fprintf(stderr, "vmtier memmap: %s\n", error->message);
			return VMT_EXIT_FAILURE;
		}
		qmp = vmt_domain_xml_qmp_path(VMT_QMPDIR, uuid);
		pidfile = g_strdup_printf("/run/libvirt/qemu/%s.pid", argv[1]);
		if (!g_file_get_contents(pidfile, &pidfile_text, NULL, NULL) ||
		    (pid = atoi(pidfile_text)) <= 0) {
			fprintf(stderr, "vmtier memmap: domain '%s' is not running (no %s)\n", argv[1], pidfile);
			return VMT_EXIT_FAILURE;
		}
	} else if (argc != 1 || !qmp || pid <= 0) {
		fprintf(stderr, "vmtier memmap: give a domain NAME, or both --qmp SOCKET and --pid PID\n");
		return VMT_EXIT_USAGE;
	}
	return memmap_run(qmp, pid, json);
}
