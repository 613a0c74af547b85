// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier define | undefine | list: tiered libvirt guests. */
#include <gio/gio.h>

#include "config.h"
#include "cli.h"
#include "daemon-config.h"
#include "domain-xml.h"
#include "domains.h"
#include "host.h"
#include "names.h"
#include "nodeset.h"
#include "size.h"
#include "tier-plan.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


static int fail(const char *cmd, GError *error)
{
	fprintf(stderr, "vmtier %s: %s\n", cmd, error->message);
	return VMT_EXIT_FAILURE;
}

/* A plan the command line asked for that cannot be (no --pmem, a bad node
 * list, class or kernel path) is a usage error; the host saying no is not. */
static int fail_plan(GError *error)
{
	fail("define", error);
	return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? VMT_EXIT_USAGE
									   : VMT_EXIT_FAILURE;
}

int vmt_cmd_define(int argc, char **argv)
{
	g_autofree char *dram = NULL, *pmem = NULL, *klass = NULL, *tenant = NULL, *backend = NULL;
	g_autofree char *policy = NULL, *pmem_nodes = NULL, *dram_nodes = NULL, *kernel = NULL;
	g_autofree char *append = NULL, *disk = NULL, *uri = NULL, *virt_type = NULL, *uuid = NULL;
	gboolean print_xml = FALSE;
	int vcpus = 1;
	GOptionEntry entries[] = {
		{ "dram", 0, 0, G_OPTION_ARG_STRING, &dram, "DRAM quota (guest node 0)", "SIZE" },
		{ "pmem", 0, 0, G_OPTION_ARG_STRING, &pmem, "Slow memory (guest node 1)", "SIZE" },
		{ "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs (default 1)", "N" },
		{ "class", 0, 0, G_OPTION_ARG_STRING, &klass, "VM class (xml-templates/classes)", "NAME" },
		{ "tenant", 0, 0, G_OPTION_ARG_FILENAME, &tenant, "Tenant (default: default)", "NAME" },
		{ "pmem-backend", 0, 0, G_OPTION_ARG_STRING, &backend, "kmem (default) or devdax:/dev/daxX.Y", "B" },
		{ "pmem-policy", 0, 0, G_OPTION_ARG_STRING, &policy, "closest (default), all, preferred", "P" },
		{ "pmem-nodes", 0, 0, G_OPTION_ARG_STRING, &pmem_nodes, "Slow nodes to use (overrides the policy)", "LIST" },
		{ "dram-nodes", 0, 0, G_OPTION_ARG_STRING, &dram_nodes, "DRAM nodes to use", "LIST" },
		{ "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Boot this kernel", "FILE" },
		{ "append", 0, 0, G_OPTION_ARG_STRING, &append, "Kernel command line", "STR" },
		{ "disk", 0, 0, G_OPTION_ARG_FILENAME, &disk, "Boot this qcow2 disk", "FILE" },
		{ "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid, "The domain's UUID (default: a random one)", "UUID" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (default: vmtier -c, $LIBVIRT_DEFAULT_URI, qemu:///system)", "URI" },
		{ "virt-type", 0, 0, G_OPTION_ARG_STRING, &virt_type, "kvm or qemu (default: kvm if /dev/kvm works)", "T" },
		{ "print-xml", 0, 0, G_OPTION_ARG_NONE, &print_xml, "Print the XML, define nothing", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("NAME - define a tiered guest in libvirt");
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) plan = vmt_tier_plan_new();
	g_autoptr(VmtHost) host = NULL;
	g_autofree char *xml = NULL;
	VmtDomainOpts opts = { 0 };

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Sizes are binary (512M, 16G = 16GiB), multiples of 2 MiB; 16GB is refused.\n"
		"Without --dram, --class gives the quota from its dram_share of the memory.\n"
		"Example: vmtier define web1 --dram 2G --pmem 14G --tenant acme\n"
		"Exit status: 0 defined, 1 libvirt, the host or admission refused (nothing is\n"
		"defined), 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "define", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc != 2) {
		fprintf(stderr, "vmtier define: give one domain NAME\n");
		return VMT_EXIT_USAGE;
	}
	if (!vmt_tier_plan_check_name(argv[1], &error) ||
	    (dram && !vmt_size_parse(dram, &plan->dram_bytes, &error)) ||
	    (pmem && !vmt_size_parse(pmem, &plan->pmem_bytes, &error)) ||
	    (policy && !vmt_tier_plan_parse_policy(policy, &plan->policy, &error)) ||
	    (pmem_nodes && !vmt_cli_parse_nodes("--pmem-nodes", pmem_nodes, plan->pmem_nodes, &error)) ||
	    (dram_nodes && !vmt_cli_parse_nodes("--dram-nodes", dram_nodes, plan->dram_nodes, &error)))
		return fprintf(stderr, "vmtier define: %s\n", error->message), VMT_EXIT_USAGE;
	if (vcpus < 1 || vcpus > 255) {
		fprintf(stderr, "vmtier define: bad --vcpus %d (1-255)\n", vcpus);
		return VMT_EXIT_USAGE;
	}
	if (uuid && !vmt_domain_xml_uuid_check("--uuid", uuid, &error))
		return fprintf(stderr, "vmtier define: %s\n", error->message), VMT_EXIT_USAGE;
	if (uuid) {	/* libvirt's spelling: the AppArmor profile's name */
		char *low = g_ascii_strdown(uuid, -1);

		g_free(uuid);
		uuid = low;
	} else {	/* chosen here: the QMP socket's name needs it */
		uuid = g_uuid_string_random();
	}
	if (virt_type && strcmp(virt_type, "kvm") != 0 && strcmp(virt_type, "qemu") != 0) {
		fprintf(stderr, "vmtier define: bad --virt-type '%s' (kvm or qemu)\n", virt_type);
		return VMT_EXIT_USAGE;
	}
	if ((kernel && disk) || (append && !kernel)) {
		fprintf(stderr, "vmtier define: use --kernel [--append] or --disk\n");
		return VMT_EXIT_USAGE;
	}
	if (backend && g_str_has_prefix(backend, "devdax:")) {
		const char *dev = backend + strlen("devdax:");
		unsigned a, b;
		char tail;
		if (sscanf(dev, "/dev/dax%u.%u%c", &a, &b, &tail) != 2) {
			fprintf(stderr, "vmtier define: bad --pmem-backend '%s' (devdax:/dev/daxX.Y)\n", backend);
			return VMT_EXIT_USAGE;
		}
		plan->backend = VMT_BACKEND_DEVDAX;
		plan->devdax = g_strdup(dev + strlen("/dev/"));
	} else if (backend && strcmp(backend, "kmem") != 0) {
		fprintf(stderr, "vmtier define: bad --pmem-backend '%s' (kmem or devdax:/dev/daxX.Y)\n", backend);
		return VMT_EXIT_USAGE;
	}
	plan->name = g_strdup(argv[1]);
	plan->print_only = print_xml;
	plan->vcpus = (guint)vcpus;
	if (tenant && !vmt_name_check(VMT_NAME_TENANT, "--tenant", tenant, &error))
		return fprintf(stderr, "vmtier define: %s\n", error->message), VMT_EXIT_USAGE;
	if (tenant) {
		g_free(plan->tenant);
		plan->tenant = g_strdup(tenant);
	}
	if (klass) {
		g_autofree char *dir = vmt_cli_class_dir("define");
		if (!vmt_tier_plan_apply_class(plan, dir, klass, &error)) {
			/* a class vmtierd does not have is a bad --class, as in adopt */
			fail("define", error);
			return VMT_EXIT_USAGE;
		}
	}
	host = vmt_host_load(&error);
	if (!host)
		return fail("define", error);
	if (!vmt_tier_plan_resolve(plan, host, &error))
		return fail_plan(error);
	opts.virt_type = virt_type ? virt_type : access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
	opts.kernel = kernel;
	opts.append = append;
	opts.disk = disk;
	opts.uuid = uuid;
	opts.qmp_dir = VMT_QMPDIR;
	xml = vmt_domain_xml_build(plan, &opts, vmt_cli_template_dir(), &error);
	if (!xml)
		return fail_plan(error);
	if (print_xml) {
		fputs(xml, stdout);
		return VMT_EXIT_OK;
	}
	{
		/* vmtierd's dram_reserve: the hook and vmtier set keep the same */
		g_autoptr(VmtDaemonConfig) cfg = vmt_daemon_config_load(vmt_daemon_config_client_path(),
									FALSE, &error);
		g_autoptr(VmtAdmission) adm = NULL;
		g_autoptr(GPtrArray) doms = NULL;
		virConnectPtr conn;
		gboolean ok;

		if (!cfg)
			return fail("define", error);
		conn = vmt_domains_connect(vmt_cli_uri(uri), &error);
		if (!conn)
			return fail("define", error);
		doms = vmt_domains_list(conn, &error);
		ok = doms != NULL;
		for (guint i = 0; ok && i < doms->len; i++) {
			VmtDomainInfo *d = g_ptr_array_index(doms, i);
			if (strcmp(d->name, plan->name) == 0) {
				g_set_error(&error, G_IO_ERROR, G_IO_ERROR_EXISTS,
					    "'%s' is already defined", plan->name);
				ok = FALSE;
			}
			if (ok && plan->devdax && strcmp(d->devdax, plan->devdax) == 0) {
				/* two guests on one device would share its memory */
				g_set_error(&error, G_IO_ERROR, G_IO_ERROR_BUSY,
					    "/dev/%s is already the slow memory of '%s'", plan->devdax, d->name);
				ok = FALSE;
			}
		}
		adm = ok ? vmt_domains_admission(doms, cfg->dram_reserve_bytes) : NULL;
		ok = ok && vmt_admission_check(adm, plan, host, &error) &&
		     vmt_domains_define(conn, xml, &error);
		virConnectClose(conn);
		if (!ok)
			return fail("define", error);
	}
	{
		g_autofree char *d = vmt_size_format(plan->dram_bytes), *p = vmt_size_format(plan->pmem_bytes);
		g_autofree char *dn = vmt_nodeset_format(plan->dram_nodes), *pn = vmt_nodeset_format(plan->pmem_nodes);
		printf("defined %s: %s DRAM on node %s, %s %s%s%s\n", plan->name, d, dn, p,
		       plan->devdax ? "on /dev/" : "slow memory on node ",
		       plan->devdax ? plan->devdax : pn,
		       plan->pmem_nodes->len > 1 ? " (nearest first)" : "");
	}
	return VMT_EXIT_OK;
}

int vmt_cmd_undefine(int argc, char **argv)
{
	g_autofree char *uri = NULL;
	GOptionEntry entries[] = {
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI", "URI" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("NAME - remove a stopped vmtier guest");
	g_autoptr(GError) error = NULL;
	virConnectPtr conn;
	gboolean ok;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Example: vmtier undefine web1\n"
		"Exit status: 0 removed, 1 not a stopped vmtier guest or libvirt failed,\n"
		"64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "undefine", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc != 2 || !vmt_tier_plan_check_name(argv[1], &error)) {
		fprintf(stderr, "vmtier undefine: %s\n", error ? error->message : "give one domain NAME");
		return VMT_EXIT_USAGE;
	}
	conn = vmt_domains_connect(vmt_cli_uri(uri), &error);
	if (!conn)
		return fail("undefine", error);
	ok = vmt_domains_undefine(conn, argv[1], &error);
	virConnectClose(conn);
	if (!ok)
		return fail("undefine", error);
	printf("undefined %s\n", argv[1]);
	return VMT_EXIT_OK;
}

int vmt_cmd_list(int argc, char **argv)
{
	g_autofree char *uri = NULL;
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI", "URI" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- list vmtier-managed guests");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) doms = NULL;
	virConnectPtr conn;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Sizes are binary (GiB) in the table, bytes in JSON.\n"
		"Example: vmtier list --json\n"
		"Exit status: 0 listed, 1 libvirt failed, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "list", &argc, &argv))
		return VMT_EXIT_USAGE;
	conn = vmt_domains_connect(vmt_cli_uri(uri), &error);
	if (!conn)
		return fail("list", error);
	doms = vmt_domains_list(conn, &error);
	virConnectClose(conn);
	if (!doms)
		return fail("list", error);
	for (guint i = 0; i < doms->len; i++) {
		VmtDomainInfo *d = g_ptr_array_index(doms, i);
		g_autofree char *name = vmt_name_escape(d->name);

		if (d->pinned)
			fprintf(stderr, "vmtier list: warning: %s has host devices (VFIO): its memory is "
				"pinned and cannot be moved between tiers\n", name);
	}
	if (json) {
		json_object *a = json_object_new_array();
		for (guint i = 0; i < doms->len; i++) {
			VmtDomainInfo *d = g_ptr_array_index(doms, i);
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(d->name));
			json_object_object_add(o, "state", json_object_new_string(d->state));
			json_object_object_add(o, "tenant", json_object_new_string(d->tenant));
			json_object_object_add(o, "class", json_object_new_string(d->klass));
			json_object_object_add(o, "dram_bytes", json_object_new_uint64(d->dram_bytes));
			json_object_object_add(o, "pmem_bytes", json_object_new_uint64(d->pmem_bytes));
			json_object_object_add(o, "backend", json_object_new_string(d->backend));
			json_object_object_add(o, "pmem_policy", json_object_new_string(d->policy));
			json_object_object_add(o, "dram_nodes", json_object_new_string(d->dram_nodes));
			json_object_object_add(o, "pmem_nodes", json_object_new_string(d->pmem_nodes));
			json_object_object_add(o, "pinned", json_object_new_boolean(d->pinned));
			json_object_array_add(a, o);
		}
		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
		return VMT_EXIT_OK;
	}
	printf("%-16s %-9s %-12s %-9s %9s %9s %-7s %s\n", "NAME", "STATE", "TENANT", "CLASS", "DRAM",
	       "PMEM", "BACKEND", "NODES");
	for (guint i = 0; i < doms->len; i++) {
		VmtDomainInfo *d = g_ptr_array_index(doms, i);
		g_autofree char *dr = vmt_size_format(d->dram_bytes), *pm = vmt_size_format(d->pmem_bytes);
		/* all of it comes from domain XML anyone with libvirt access can edit:
		 * no escape sequences or bidi overrides reach the terminal */
		g_autofree char *name = vmt_name_escape(d->name), *state = vmt_name_escape(d->state);
		g_autofree char *tenant = vmt_name_escape(d->tenant);
		g_autofree char *klass = vmt_name_escape(*d->klass ? d->klass : "-");
		g_autofree char *backend = vmt_name_escape(d->backend), *dn = vmt_name_escape(d->dram_nodes);
		g_autofree char *pn = vmt_name_escape(*d->pmem_nodes ? d->pmem_nodes : "-");

		printf("%-16s %-9s %-12s %-9s %9s %9s %-7s %s+%s\n", name, state, tenant, klass, dr, pm,
		       backend, dn, pn);
	}
	return VMT_EXIT_OK;
}
