// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier adopt: bring a domain made elsewhere (virt-install, virt-manager)
 * under vmtier.  Its layout is checked against what `vmtier define` builds;
 * --fix adds what is missing.  The domain changes in one define (layout and
 * metadata together) or not at all. */
#include <gio/gio.h>

#include "config.h"
#include "cli.h"
#include "daemon-config.h"
#include "domain-adopt.h"
#include "domains.h"
#include "names.h"
#include "nodeset.h"
#include "plan-meta.h"
#include "size.h"

#include <json-c/json.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	char *dram, *tenant, *klass, *dram_nodes, *pmem_nodes, *xml_file, *uri;
	gboolean fix, json;
} Opts;

static int fail(GError *error)
{
	fprintf(stderr, "vmtier adopt: %s\n", error->message);
	return VMT_EXIT_FAILURE;
}

/* The plan the command line asks for; the domain and the host fill the rest. */
static VmtTierPlan *plan_from(const Opts *o, GError **error)
{
	g_autoptr(VmtTierPlan) p = vmt_tier_plan_new();

	if (!vmt_size_parse(o->dram, &p->dram_bytes, error) ||
	    (o->tenant && !vmt_name_check(VMT_NAME_TENANT, "--tenant", o->tenant, error)) ||
	    (o->dram_nodes && !vmt_cli_parse_nodes("--dram-nodes", o->dram_nodes, p->dram_nodes, error)) ||
	    (o->pmem_nodes && !vmt_cli_parse_nodes("--pmem-nodes", o->pmem_nodes, p->pmem_nodes, error)))
		return NULL;
	if (o->tenant) {
		g_free(p->tenant);
		p->tenant = g_strdup(o->tenant);
	}
	if (o->klass) {
		g_autofree char *dir = g_build_filename(vmt_cli_template_dir(), "classes", NULL);

		if (!vmt_tier_plan_apply_class(p, dir, o->klass, error))
			return NULL;
	}
	return g_steal_pointer(&p);
}

/* The command line's plan again, with the name, nodes and policy WANT
 * settled on: to check another XML of the same domain against. */
static VmtTierPlan *plan_again(const Opts *o, const VmtTierPlan *want, GError **error)
{
	VmtTierPlan *p = plan_from(o, error);

	if (!p)
		return NULL;
	p->name = g_strdup(want->name);
	p->policy = want->policy;
	g_array_set_size(p->dram_nodes, 0);
	g_array_set_size(p->pmem_nodes, 0);
	g_array_append_vals(p->dram_nodes, want->dram_nodes->data, want->dram_nodes->len);
	g_array_append_vals(p->pmem_nodes, want->pmem_nodes->data, want->pmem_nodes->len);
	return p;
}

static xmlDocPtr parse_xml(const char *xml, const char *what, GError **error)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
				      XML_PARSE_NOWARNING);

	if (!doc)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not XML", what);
	return doc;
}

static char *dump(xmlDocPtr doc)
{
	xmlChar *buf = NULL;
	int len = 0;
	char *out;

	xmlDocDumpFormatMemoryEnc(doc, &buf, &len, "UTF-8", 1);
	out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	return out;
}

static guint count_unfixable(const GPtrArray *problems)
{
	guint n = 0;

	for (guint i = 0; i < problems->len; i++)
		n += !((VmtAdoptProblem *)problems->pdata[i])->fixable;
	return n;
}

static char *plan_summary(const VmtTierPlan *p)
{
	g_autofree char *d = vmt_size_format(p->dram_bytes), *s = vmt_size_format(p->pmem_bytes);
	g_autofree char *dn = vmt_nodeset_format(p->dram_nodes), *pn = vmt_nodeset_format(p->pmem_nodes);

	return g_strdup_printf("%s DRAM on node %s, %s slow memory on node %s", d, dn, s, pn);
}

static void print_json(const VmtTierPlan *p, const GPtrArray *problems, gboolean adopted,
		       gboolean fixed)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *pl;
	g_autofree char *dn = vmt_nodeset_format(p->dram_nodes), *pn = vmt_nodeset_format(p->pmem_nodes);

	for (guint i = 0; i < problems->len; i++) {
		const VmtAdoptProblem *pr = problems->pdata[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "element", json_object_new_string(pr->element));
		json_object_object_add(j, "found", json_object_new_string(pr->found));
		json_object_object_add(j, "needed", json_object_new_string(pr->needed));
		json_object_object_add(j, "fixable", json_object_new_boolean(pr->fixable));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "problems", a);
	json_object_object_add(o, "fixed", json_object_new_boolean(fixed));
	json_object_object_add(o, "adopted", json_object_new_boolean(adopted));
	pl = json_object_new_object();
	json_object_object_add(pl, "tenant", json_object_new_string(p->tenant));
	json_object_object_add(pl, "class", p->klass ? json_object_new_string(p->klass) : NULL);
	json_object_object_add(pl, "dram_bytes", json_object_new_uint64(p->dram_bytes));
	json_object_object_add(pl, "pmem_bytes", json_object_new_uint64(p->pmem_bytes));
	json_object_object_add(pl, "pmem_policy", json_object_new_string(vmt_tier_plan_policy_name(p->policy)));
	json_object_object_add(pl, "dram_nodes", json_object_new_string(dn));
	json_object_object_add(pl, "pmem_nodes", json_object_new_string(pn));
	json_object_object_add(o, "plan", pl);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_problems(FILE *f, const VmtTierPlan *p, const GPtrArray *problems)
{
	g_autofree char *sum = plan_summary(p), *name = vmt_name_escape(p->name);

	fprintf(f, "%s: %u problem%s for vmtier (%s):\n", name, problems->len,
		problems->len == 1 ? "" : "s", sum);
	for (guint i = 0; i < problems->len; i++) {
		const VmtAdoptProblem *pr = problems->pdata[i];
		g_autofree char *line = vmt_adopt_problem_line(pr);

		fprintf(f, "  %s%s\n", line, pr->fixable ? "" : " [not fixed by --fix]");
	}
}

/* Admission against the counted guests ADM: a problem --fix cannot solve. */
static void admit(const VmtAdmission *adm, const VmtTierPlan *p, const VmtHost *host,
		  GPtrArray *problems)
{
	g_autoptr(GError) error = NULL;
	VmtAdoptProblem *pr;

	if (vmt_admission_check(adm, p, host, &error))
		return;
	pr = g_new0(VmtAdoptProblem, 1);
	pr->element = g_strdup("admission");
	pr->found = g_strdup(error->message);
	pr->needed = g_strdup("");
	g_ptr_array_add(problems, pr);
}

/* The domain XML to check: the file's, or libvirt's persistent definition
 * (with its secrets: it is defined again as it is). */
static char *domain_xml(const Opts *o, const char *name, virConnectPtr conn, gboolean *running,
			GError **error)
{
	virDomainPtr dom;
	char *x, *out;

	*running = FALSE;
	if (o->xml_file) {
		g_autofree char *text = NULL;

		return g_file_get_contents(o->xml_file, &text, NULL, error) ? g_steal_pointer(&text) : NULL;
	}
	dom = virDomainLookupByName(conn, name);
	if (!dom) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no domain '%s'", name);
		return NULL;
	}
	if (virDomainIsPersistent(dom) != 1) {
		virDomainFree(dom);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "'%s' is transient: define it first (virsh dumpxml, virsh define)", name);
		return NULL;
	}
	*running = virDomainIsActive(dom) == 1;
	x = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	virDomainFree(dom);
	if (!x) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "reading '%s': %s", name,
			    virGetLastErrorMessage());
		return NULL;
	}
	out = g_strdup(x);
	free(x);
	return out;
}

/* A running domain's live layout must be right too before vmtierd takes
 * it: the definition applies only from its next start. */
static gboolean live_ok(virConnectPtr conn, const Opts *o, const VmtTierPlan *want,
			const VmtHost *host, GError **error)
{
	virDomainPtr dom = virDomainLookupByName(conn, want->name);
	char *x = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	g_autofree char *live = x ? g_strdup(x) : NULL;
	g_autoptr(VmtTierPlan) p = NULL;
	g_autoptr(GPtrArray) problems = NULL;
	xmlDocPtr doc;

	free(x);
	if (dom)
		virDomainFree(dom);
	if (!live) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "reading '%s': %s", want->name,
			    virGetLastErrorMessage());
		return FALSE;
	}
	p = plan_again(o, want, error);
	doc = p ? parse_xml(live, "libvirt's live XML", error) : NULL;
	problems = doc ? vmt_domain_adopt_check(doc, p, host, VMT_QMPDIR, error) : NULL;
	if (doc)
		xmlFreeDoc(doc);
	if (problems && problems->len)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "'%s' runs with an older layout than its definition: restart it, then "
			    "run vmtier adopt again (nothing was changed)", want->name);
	return problems && !problems->len;
}

static int adopt(const Opts *o, const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtTierPlan) plan = plan_from(o, &error);
	g_autoptr(VmtHost) host = NULL;
	g_autoptr(VmtDaemonConfig) cfg = NULL;
	g_autoptr(VmtAdmission) adm = NULL;
	g_autoptr(GPtrArray) problems = NULL;
	g_autofree char *xml = NULL;
	virConnectPtr conn = NULL;
	xmlDocPtr doc = NULL;
	gboolean running = FALSE, ok = FALSE, fixed = FALSE;
	int rc = VMT_EXIT_FAILURE;

	if (!plan) {
		/* a bad size, tenant, node list or class */
		fprintf(stderr, "vmtier adopt: %s\n", error->message);
		return VMT_EXIT_USAGE;
	}
	plan->name = g_strdup(name);
	host = vmt_host_load(&error);
	cfg = host ? vmt_daemon_config_load(vmt_daemon_config_client_path(), FALSE, &error) : NULL;
	if (!cfg)
		return fail(error);
	if (!o->xml_file) {
		g_autoptr(GPtrArray) doms = NULL;

		conn = vmt_domains_connect(vmt_cli_uri(o->uri), &error);
		doms = conn ? vmt_domains_list(conn, &error) : NULL;
		if (!doms)
			goto out;
		adm = vmt_domains_admission(doms, cfg->dram_reserve_bytes);
	} else {
		/* a file: no other guest is known to count */
		adm = vmt_admission_new(cfg->dram_reserve_bytes);
	}
	xml = domain_xml(o, name, conn, &running, &error);
	doc = xml ? parse_xml(xml, o->xml_file ? o->xml_file : "libvirt's XML", &error) : NULL;
	problems = doc ? vmt_domain_adopt_check(doc, plan, host, VMT_QMPDIR, &error) : NULL;
	if (!problems)
		goto out;
	admit(adm, plan, host, problems);
	if (problems->len && (!o->fix || count_unfixable(problems))) {
		if (o->json)
			print_json(plan, problems, FALSE, FALSE);
		else
			print_problems(stdout, plan, problems);
		if (!o->json && !count_unfixable(problems))
			printf("vmtier adopt %s --fix adds them (nothing was changed)\n", plan->name);
		else if (!o->json && o->fix)
			fprintf(stderr, "vmtier adopt: --fix leaves the problems marked [not fixed by --fix] "
					"to the domain's owner: nothing was changed\n");
		rc = o->fix ? VMT_EXIT_FAILURE : VMT_EXIT_FINDINGS;
		goto done;
	}
	if (problems->len && running) {
		g_set_error(&error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "'%s' is running: a new NUMA layout takes effect only when QEMU starts again; "
			    "shut it down, then run vmtier adopt --fix again (nothing was changed)", plan->name);
		goto out;
	}
	if (problems->len) {
		g_autoptr(VmtTierPlan) again = plan_again(o, plan, &error);
		g_autoptr(GPtrArray) left = NULL;

		vmt_domain_adopt_fix(doc, plan, VMT_QMPDIR);
		/* what was fixed checks clean, or nothing is defined */
		left = !again ? NULL : vmt_domain_adopt_check(doc, again, host, VMT_QMPDIR, &error);
		if (!left || left->len) {
			if (left) {
				g_autofree char *line = vmt_adopt_problem_line(left->pdata[0]);

				g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED,
					    "the fixed XML still has %u problem(s), a bug (%s): nothing was changed",
					    left->len, line);
			}
			goto out;
		}
		fixed = TRUE;
	}
	if (o->xml_file) {
		g_autofree char *text = NULL;

		if (o->fix) {
			vmt_plan_meta_replace(doc, plan);
			text = dump(doc);
			fputs(text, stdout);
		} else if (o->json) {
			print_json(plan, problems, FALSE, FALSE);
		} else {
			g_autofree char *sum = plan_summary(plan), *n = vmt_name_escape(plan->name);

			printf("%s: nothing missing for vmtier (%s)\n", n, sum);
		}
		rc = VMT_EXIT_OK;
		goto done;
	}
	if (running && !live_ok(conn, o, plan, host, &error))
		goto out;
	if (fixed) {
		g_autofree char *text = NULL;

		vmt_plan_meta_replace(doc, plan);
		text = dump(doc);
		ok = vmt_domains_define(conn, text, &error);
	} else {
		ok = vmt_domains_set_plan(conn, plan->name, plan, &error);
	}
	if (!ok)
		goto out;
	if (o->json) {
		print_json(plan, problems, TRUE, fixed);
	} else {
		g_autofree char *sum = plan_summary(plan), *n = vmt_name_escape(plan->name);

		if (fixed)
			print_problems(stdout, plan, problems);
		printf("adopted %s: %s%s\n", n, sum,
		       fixed ? "; its definition now has what was missing" : "");
	}
	rc = VMT_EXIT_OK;
	goto done;
out:
	rc = fail(error);
done:
	if (doc)
		xmlFreeDoc(doc);
	if (conn)
		virConnectClose(conn);
	return rc;
}

int vmt_cmd_adopt(int argc, char **argv)
{
	Opts o = { 0 };
	GOptionEntry entries[] = {
		{ "dram", 0, 0, G_OPTION_ARG_STRING, &o.dram, "DRAM quota: guest cell 0 (required)", "SIZE" },
		{ "tenant", 0, 0, G_OPTION_ARG_FILENAME, &o.tenant, "Tenant (default: default)", "NAME" },
		{ "class", 0, 0, G_OPTION_ARG_STRING, &o.klass, "VM class (xml-templates/classes)", "NAME" },
		{ "dram-nodes", 0, 0, G_OPTION_ARG_STRING, &o.dram_nodes, "DRAM nodes (default: the domain's, else as define picks)", "LIST" },
		{ "pmem-nodes", 0, 0, G_OPTION_ARG_STRING, &o.pmem_nodes, "Slow nodes (default: the domain's, else as define picks)", "LIST" },
		{ "fix", 0, 0, G_OPTION_ARG_NONE, &o.fix, "Add what is missing to the domain (stopped) and adopt it", NULL },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Print JSON", NULL },
		{ "xml", 0, 0, G_OPTION_ARG_FILENAME, &o.xml_file, "Check this domain XML file instead; with --fix print it fixed", "FILE" },
		{ "connect", 'c', 0, G_OPTION_ARG_STRING, &o.uri, "libvirt URI", "URI" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("NAME --dram SIZE - bring a domain made elsewhere under vmtier");
	g_autoptr(GError) error = NULL;
	int rc;

	g_option_context_set_description(ctx,
		"Checks the domain's NUMA layout as vmtier define builds it: cell 0 the DRAM\n"
		"quota, cell 1 the rest of its RAM on slow memory, <numatune> binding them\n"
		"with both tiers in the global nodeset, movable memory, vmtierd's QMP socket;\n"
		"and admission.  Prints one line per problem (element, found, needed).  With\n"
		"nothing missing (or --fix, on a stopped domain), writes vmtier's metadata.\n\n"
		"Example: vmtier adopt web1 --dram 1GiB --tenant acme --fix\n\n"
		"Exit status: 0 adopted (or, with --xml, nothing missing), 1 failure (or\n"
		"problems --fix does not fix), 2 problems found (without --fix), 64 usage.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!vmt_cli_parse(ctx, "adopt", &argc, &argv)) {
		rc = VMT_EXIT_USAGE;
	} else if (argc > 2 || (argc < 2 && !o.xml_file) || !o.dram) {
		fprintf(stderr, "vmtier adopt: give one domain NAME (or --xml FILE) and --dram SIZE\n");
		rc = VMT_EXIT_USAGE;
	} else if (o.xml_file && o.fix && o.json) {
		fprintf(stderr, "vmtier adopt: --xml with --fix prints XML, not --json\n");
		rc = VMT_EXIT_USAGE;
	} else if (argc == 2 && !vmt_tier_plan_check_name(argv[1], &error)) {
		fprintf(stderr, "vmtier adopt: %s\n", error->message);
		rc = VMT_EXIT_USAGE;
	} else {
		rc = adopt(&o, argc == 2 ? argv[1] : NULL);
	}
	g_free(o.dram);
	g_free(o.tenant);
	g_free(o.klass);
	g_free(o.dram_nodes);
	g_free(o.pmem_nodes);
	g_free(o.xml_file);
	g_free(o.uri);
	return rc;
}
