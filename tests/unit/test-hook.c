// SPDX-License-Identifier: GPL-2.0-or-later
/* The libvirt hook ($VMTIER_HOOK) as libvirt runs it: argv, the domain XML
 * on stdin (made by the real `vmtier define --print-xml` on the captured
 * host trees), exit status and stderr; vmtierd played by a control server on
 * this test's main loop, or by a socket that never answers.  And `vmtier
 * hook install|uninstall|status` on a scratch directory. */
#include <sys/stat.h>
#include "config.h"
#include "ctl.h"
#include "host.h"
#include "size.h"
#include "sysfs.h"
#include "tmpdir.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MIB (1ull << 20)

static const char *hook_bin, *vmtier_bin, *fixtures, *templates;

typedef struct {
	char *dir, *socket, *config;
	VmtCtlServer *server;
	guint64 others;			/* the quota of the other guest vmtierd runs */
	guint64 others_kmem;		/* and its slow-tier part */
	const char *others_dram_nodes;	/* and its node lists (NULL: no key, */
	const char *others_slow_nodes;	/* as an older vmtierd answers) */
	json_object *requests;		/* what the hook sent */
} Fixture;

static json_object *handler(json_object *req, const VmtCtlPeer *peer, gpointer user, GError **error)
{
	Fixture *f = user;
	json_object *reply = json_object_new_object(), *vms, *vm;

	json_object_array_add(f->requests, json_object_get(req));
	if (strcmp(json_object_get_string(json_object_object_get(req, "cmd")), "status") != 0)
		return reply;
	vms = json_object_new_array();
	vm = json_object_new_object();
	json_object_object_add(vm, "name", json_object_new_string("other"));
	json_object_object_add(vm, "quota_bytes", json_object_new_uint64(f->others));
	json_object_object_add(vm, "kmem_bytes", json_object_new_uint64(f->others_kmem));
	if (f->others_dram_nodes)
		json_object_object_add(vm, "dram_nodes", json_object_new_string(f->others_dram_nodes));
	if (f->others_slow_nodes)
		json_object_object_add(vm, "slow_nodes", json_object_new_string(f->others_slow_nodes));
	json_object_array_add(vms, vm);
	/* the guest being started, if vmtierd still has it, does not count twice */
	vm = json_object_new_object();
	json_object_object_add(vm, "name", json_object_new_string("t1"));
	json_object_object_add(vm, "quota_bytes", json_object_new_uint64(64ull << 30));
	json_object_array_add(vms, vm);
	json_object_object_add(reply, "vms", vms);
	return reply;
}

static void write_config(Fixture *f, const char *reserve)
{
	g_autofree char *text = g_strdup_printf("[daemon]\nsocket=%s\nqmp_dir=%s/run/qmp\nstate_dir=%s\n%s%s\n",
						f->socket, f->dir, f->dir, reserve ? "dram_reserve=" : "",
						reserve ? reserve : "");

	g_assert_true(g_file_set_contents(f->config, text, -1, NULL));
}

/* No daemon: a socket nobody listens on; QMP directory in a temporary one
 * (an admitted guest gets it created) rather than this machine's /run. */
static const char *no_daemon_config(void)
{
	static char *path;

	if (!path) {
		g_autofree char *dir = test_tmpdir_new("vmtier-hook-XXXXXX");
		g_autofree char *text = g_strdup_printf("[daemon]\nsocket=%s/none.sock\nqmp_dir=%s/qmp\n"
							"state_dir=%s\n", dir, dir, dir);

		path = g_build_filename(dir, "vmtierd.conf", NULL);
		g_assert_true(g_file_set_contents(path, text, -1, NULL));
	}
	return path;
}

static void setup(Fixture *f, gconstpointer data)
{
	f->dir = test_tmpdir_new("vmtier-hook-XXXXXX");
	f->socket = g_build_filename(f->dir, "vmtierd.sock", NULL);
	f->config = g_build_filename(f->dir, "vmtierd.conf", NULL);
	f->requests = json_object_new_array();
	write_config(f, NULL);
}

static void start_daemon(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	f->server = vmt_ctl_server_new(f->socket, (gid_t)-1, handler, f, &error);
	g_assert_no_error(error);
}

static void teardown(Fixture *f, gconstpointer data)
{
	g_autofree char *qmp = g_build_filename(f->dir, "run", "qmp", NULL);
	g_autofree char *run = g_build_filename(f->dir, "run", NULL);

	g_rmdir(qmp);
	g_rmdir(run);
	g_clear_pointer(&f->server, vmt_ctl_server_free);
	test_tmpdir_remove(f->dir);
	json_object_put(f->requests);
	g_free(f->socket);
	g_free(f->config);
}

typedef struct {
	char *out, *err;
	gboolean done;
} Result;

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Result *r = data;

	g_autoptr(GError) error = NULL;

	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, &r->out, &r->err, &error);
	g_assert_no_error(error);
	r->done = TRUE;
}

/* A captured host tree: a name under $VMTIER_FIXTURES, or a path. */
static char *fixture_root(const char *fixture)
{
	return g_path_is_absolute(fixture) ? g_strdup(fixture) : g_build_filename(fixtures, fixture, NULL);
}

/* Run ARGV (NULL-ended) with INPUT on stdin and the host layer on FIXTURE,
 * serving the fake vmtierd meanwhile; ERR gets stderr, MS how long it took. */
static int run(Fixture *f, const char *fixture, const char *const *argv, const char *input,
	       char **err, gint64 *ms)
{
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autofree char *root = fixture_root(fixture);
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	Result r = { 0 };
	gint64 start = g_get_monotonic_time();

	g_subprocess_launcher_setenv(l, "VMTIER_HOST_ROOT", root, TRUE);
	g_subprocess_launcher_setenv(l, "VMTIER_TEMPLATE_DIR", templates, TRUE);
	g_subprocess_launcher_setenv(l, "VMTIER_CONFIG", f ? f->config : no_daemon_config(), TRUE);
	g_subprocess_launcher_unsetenv(l, "VMTIER_SOCKET");
	g_subprocess_launcher_setenv(l, "LC_ALL", "C", TRUE);
	p = g_subprocess_launcher_spawnv(l, argv, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8_async(p, input ? input : "", NULL, on_done, &r);
	while (!r.done)
		g_main_context_iteration(NULL, TRUE);
	g_subprocess_wait(p, NULL, NULL);
	if (ms)
		*ms = (g_get_monotonic_time() - start) / 1000;
	if (err)
		*err = g_steal_pointer(&r.err);
	g_free(r.out);
	g_free(r.err);
	g_assert_true(g_subprocess_get_if_exited(p));
	return g_subprocess_get_exit_status(p);
}

/* The hook as libvirt calls it: NAME OP SUBOP - with XML on stdin. */
static int hook(Fixture *f, const char *fixture, const char *name, const char *op, const char *subop,
		const char *xml, char **err, gint64 *ms)
{
	const char *argv[] = { hook_bin, name, op, subop, "-", NULL };

	return run(f, fixture, argv, xml, err, ms);
}

/* `vmtier define NAME ARGS... --print-xml` on FIXTURE. */
static char *define_xml(const char *fixture, const char *name, const char *args)
{
	g_autofree char *cmd = g_strdup_printf("%s define %s %s --print-xml", vmtier_bin, name, args);
	g_auto(GStrv) argv = NULL;
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autofree char *root = fixture_root(fixture);
	g_autoptr(GSubprocess) p = NULL;
	char *out = NULL;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
	g_subprocess_launcher_setenv(l, "VMTIER_HOST_ROOT", root, TRUE);
	g_subprocess_launcher_setenv(l, "VMTIER_TEMPLATE_DIR", templates, TRUE);
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, NULL);
	g_assert_nonnull(p);
	g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, NULL));
	g_assert_true(g_subprocess_get_successful(p));
	g_assert_nonnull(strstr(out, "http://vmtier.dev/xmlns/plan/1"));
	return out;
}

static guint64 dram_node_bytes(const char *fixture, int id)
{
	g_autofree char *root = g_build_filename(fixtures, fixture, NULL);
	g_autoptr(VmtHost) host = NULL;

	vmt_sysfs_set_root(root);
	host = vmt_host_load(NULL);
	g_assert_nonnull(host);
	return vmt_host_node(host, id)->total_bytes;
}

static const char plain_xml[] =
	"<domain type='qemu'><name>plain</name><memory unit='MiB'>32</memory>"
	"<metadata><app xmlns='http://example.org/app'/></metadata></domain>";

static void test_not_ours(Fixture *f, gconstpointer data)
{
	const char *ops[][2] = { { "prepare", "begin" }, { "started", "begin" }, { "release", "end" } };

	start_daemon(f);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_autofree char *err = NULL;

		/* on a host where a vmtier guest would be refused */
		g_assert_cmpint(hook(f, "movable", "plain", ops[i][0], ops[i][1], plain_xml, &err, NULL), ==, 0);
		g_assert_cmpstr(err, ==, "");
	}
	g_assert_cmpint(json_object_array_length(f->requests), ==, 0);
}

/* XML that does not parse blocks no guest, unless it names our namespace. */
static void test_garbage(Fixture *f, gconstpointer data)
{
	g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;

	g_assert_cmpint(hook(f, "tiered", "x", "prepare", "begin", "<domain><name>x</na", &e1, NULL), ==, 0);
	g_assert_cmpstr(e1, ==, "");
	g_assert_cmpint(hook(f, "tiered", "x", "prepare", "begin", "", &e2, NULL), ==, 0);
	g_assert_cmpstr(e2, ==, "");
	g_assert_cmpint(hook(f, "tiered", "x", "prepare", "begin",
			     "<domain><metadata><vmtier:plan xmlns:vmtier='http://vmtier.dev/xmlns/plan/1'>",
			     &e3, NULL), ==, 1);
	g_assert_true(g_str_has_prefix(e3, "vmtier: x: refused: its domain XML names vmtier's namespace "
				       "but does not parse ("));
}

/* An unrelated domain whose XML is over 16 MiB (a big <description>) is
 * read to the end and let be: libvirt never meets a closed pipe and the
 * guest starts.  A vmtier one that big is refused, its namespace found
 * even past the first 16 MiB. */
static void test_huge_xml(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) big = g_string_new("<domain><name>big</name><description>");
	g_autofree char *e1 = NULL, *e2 = NULL;

	while (big->len < (17u << 20))
		g_string_append(big, "lorem ipsum dolor sit amet, consectetur adipiscing elit. ");
	g_string_append(big, "</description></domain>");
	g_assert_cmpint(hook(f, "tiered", "big", "prepare", "begin", big->str, &e1, NULL), ==, 0);
	g_assert_cmpstr(e1, ==, "");
	g_string_truncate(big, big->len - strlen("</description></domain>"));
	g_string_append(big, "</description><metadata><vmtier:plan "
			"xmlns:vmtier='http://vmtier.dev/xmlns/plan/1'/></metadata></domain>");
	g_assert_cmpint(hook(f, "tiered", "big", "prepare", "begin", big->str, &e2, NULL), ==, 1);
	g_assert_cmpstr(e2, ==, "vmtier: big: its domain XML is larger than 16777216 bytes; refused\n");
}

static void test_reconnect(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL;

	start_daemon(f);
	/* a running guest on a host it would not be admitted to now */
	g_assert_cmpint(hook(f, "movable", "t1", "reconnect", "begin", xml, &err, NULL), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(json_object_array_length(f->requests), ==, 0);
}

static void test_fits_alone(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL;

	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &err, NULL), ==, 0);
	g_assert_cmpstr(err, ==, "");
}

static void test_movable(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("movable", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL;

	g_assert_cmpint(hook(f, "movable", "t1", "prepare", "begin", xml, &err, NULL), ==, 1);
	g_assert_cmpstr(err, ==, "vmtier: t1: refused: node 2 (pmem, 896 MiB online) is 100% ZONE_MOVABLE "
			"(host check: slow-node-movable; fix: vmtier host online dax0.0 --zone normal "
			"(offlines and re-onlines its 7 blocks into ZONE_NORMAL; stop guests using node 2 "
			"first); host-wide movable:normal becomes 0.3:1)\n");
}

/* The movable fixture with node 2's first BLOCKS memory blocks in
 * ZONE_NORMAL, under DIR/partial; removed by remove_partial. */
static char *partial_movable(const char *dir, guint blocks)
{
	g_autofree char *src = g_build_filename(fixtures, "movable", NULL);
	char *dst = g_build_filename(dir, "partial", NULL);
	g_autofree char *node2 = g_build_filename(dst, "sys/devices/system/node/node2", NULL);
	const char *cp[] = { "cp", "-a", src, dst, NULL };
	g_autoptr(GDir) d = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
				   &status, NULL));
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	d = g_dir_open(node2, 0, NULL);
	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		if (g_str_has_prefix(name, "memory") && g_ascii_isdigit(name[6]))
			g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	g_assert_cmpuint(names->len, >, blocks);
	for (guint i = 0; i < blocks; i++) {
		g_autofree char *zones = g_build_filename(node2, names->pdata[i], "valid_zones", NULL);
		/* through the node's link: the block's own file in the copy */
		g_autofree char *real = g_canonicalize_filename(zones, NULL);

		g_assert_true(g_file_set_contents(real, "Normal\n", -1, NULL));
	}
	return dst;
}

static void remove_partial(const char *path)
{
	const char *rm[] = { "rm", "-rf", path, NULL };

	g_assert_true(g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
				   NULL, NULL));
}

/* host check calls a slow node 4/7 ZONE_MOVABLE an error (slow-node-movable,
 * >= 50%): the hook refuses it too, quoting it (it refused only at 100%) */
static void test_movable_partial(Fixture *f, gconstpointer data)
{
	g_autofree char *root = partial_movable(f->dir, 3);
	g_autofree char *xml = define_xml(root, "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL;

	g_assert_cmpint(hook(f, root, "t1", "prepare", "begin", xml, &err, NULL), ==, 1);
	g_assert_true(g_str_has_prefix(err, "vmtier: t1: refused: node 2 (pmem, 896 MiB online) is 57% "
				       "ZONE_MOVABLE (host check: slow-node-movable; fix: "));
	remove_partial(root);
}

/* `vmtier define NAME ARGS` through libvirt's test driver holding the
 * domains of NODE_XML (a test:/// file: they run), on FIXTURE. */
static int define_in(Fixture *f, const char *fixture, const char *node_xml, const char *name,
		     const char *args, char **err)
{
	g_autofree char *cmd = g_strdup_printf("%s define %s %s -c test://%s", vmtier_bin, name, args,
					       node_xml);
	g_auto(GStrv) argv = NULL;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
	return run(f, fixture, (const char *const *)argv, NULL, err, NULL);
}

/* One admission rule: with every defined guest running, `vmtier define`
 * and the hook (at virsh start) give the same verdict on the same host
 * for every size; define accepts => start accepts.  Before, define used a
 * fixed 256M reserve and no node check, the hook vmtierd.conf's reserve,
 * a 100%-movable rule and no other guest's slow-tier part.  The other
 * guest runs on socket OTHER (DRAM node OTHER, its slow node OTHER + 2),
 * the new one on node 0. */
static void agree(Fixture *f, const char *fixture, const char *reserve, const char *const *sizes,
		  guint *accepted, int other_socket)
{
	g_autofree char *other_args = g_strdup_printf("--dram 200M --pmem 300M --dram-nodes %d",
						      other_socket);
	g_autofree char *other = define_xml(fixture, "other", other_args);
	g_autofree char *other_dram = g_strdup_printf("%d", other_socket);
	g_autofree char *other_slow = g_strdup_printf("%d", other_socket + 2), *pmem_nodes = NULL;
	g_autofree char *node_xml = g_build_filename(f->dir, "node.xml", NULL);
	g_autofree char *text = NULL;
	const char *body = strstr(other, "<domain");

	/* the test driver's file: the other guest, running */
	g_assert_nonnull(body);
	text = g_strdup_printf("<node>%s</node>\n", body);
	g_assert_true(g_file_set_contents(node_xml, text, -1, NULL));
	write_config(f, reserve);
	if (!f->server)
		start_daemon(f);
	f->others = 200 * MIB;
	f->others_kmem = 300 * MIB;
	/* as vmtierd's status has them: the other guest's plan */
	pmem_nodes = g_strdup_printf("<vmtier:pmem_nodes>%s</vmtier:pmem_nodes>", other_slow);
	g_assert_nonnull(strstr(other, pmem_nodes));
	f->others_dram_nodes = other_dram;
	f->others_slow_nodes = other_slow;
	*accepted = 0;
	for (guint i = 0; sizes[i]; i++) {
		g_autofree char *args = g_strdup_printf("%s --dram-nodes 0", sizes[i]);
		g_autofree char *xml = define_xml(fixture, "t1", args);
		g_autofree char *e1 = NULL, *e2 = NULL;
		int def = define_in(f, fixture, node_xml, "t1", args, &e1);
		int start = hook(f, fixture, "t1", "prepare", "begin", xml, &e2, NULL);

		g_test_message("%s: define %d (%s), start %d (%s)", sizes[i], def, g_strstrip(e1), start,
			       g_strstrip(e2));
		g_assert_cmpint(def, ==, start);
		*accepted += def == 0;
	}
	f->others_dram_nodes = f->others_slow_nodes = NULL;
	g_remove(node_xml);
}

static void test_define_agrees(Fixture *f, gconstpointer data)
{
	/* node 0: 969 MiB, node 2: 896 MiB; the other guest 200M + 300M */
	static const char *const sizes[] = {
		"--dram 128M --pmem 128M", "--dram 256M --pmem 128M",	/* fit with 512M reserve */
		"--dram 258M --pmem 128M", "--dram 512M --pmem 128M",	/* only with 256M */
		"--dram 64M --pmem 596M", "--dram 64M --pmem 598M",	/* the slow tier's edge */
		NULL,
	};
	static const char *const small[] = { "--dram 64M --pmem 128M", NULL };
	g_autofree char *root = partial_movable(f->dir, 3);
	guint n;

	agree(f, "tiered", "512M", sizes, &n, 0);
	g_assert_cmpuint(n, ==, 3);
	agree(f, "movable", "512M", small, &n, 0);
	g_assert_cmpuint(n, ==, 0);
	agree(f, root, "512M", small, &n, 0);
	g_assert_cmpuint(n, ==, 0);
	remove_partial(root);
}

/* The other guest on the other socket (DRAM node 1, slow node 3) takes
 * none of node 0's or node 2's memory: define and the hook both admit up
 * to what nodes 0 and 2 hold alone (before, both summed it in and refused
 * every size here). */
static void test_define_agrees_sockets(Fixture *f, gconstpointer data)
{
	/* node 0: 969 MiB, 512M reserved; node 2: 896 MiB */
	static const char *const sizes[] = {
		"--dram 456M --pmem 128M", "--dram 458M --pmem 128M",
		"--dram 64M --pmem 896M", "--dram 64M --pmem 898M",
		NULL,
	};
	guint n;

	agree(f, "tiered", "512M", sizes, &n, 1);
	g_assert_cmpuint(n, ==, 2);
}

static void test_offline(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL;

	g_assert_cmpint(hook(f, "offline", "t1", "prepare", "begin", xml, &err, NULL), ==, 1);
	g_assert_cmpstr(err, ==, "vmtier: t1: refused: slow node 2 is offline or has no memory "
			"online (see 'vmtier host check')\n");
}

static void test_devdax(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("devdax", "d1", "--dram 64M --pmem 128M --dram-nodes 0 "
					  "--pmem-backend devdax:/dev/dax0.0");
	g_autofree char *e1 = NULL, *e2 = NULL;

	g_assert_cmpint(hook(f, "devdax", "d1", "prepare", "begin", xml, &e1, NULL), ==, 0);
	g_assert_cmpstr(e1, ==, "");
	/* the same guest once dax0.0 became a kmem node */
	g_assert_cmpint(hook(f, "tiered", "d1", "prepare", "begin", xml, &e2, NULL), ==, 1);
	g_assert_cmpstr(e2, ==, "vmtier: d1: refused: /dev/dax0.0 is in system-ram mode, not devdax\n");
}

/* Without vmtierd: the guest alone against node 0 and the default reserve. */
static void test_too_big_alone(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "big", "--dram 2G --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL, *cap = vmt_size_format(dram_node_bytes("tiered", 0)), *want = NULL;

	want = g_strdup_printf("vmtier: big: refused: DRAM quota does not fit: 0 B already promised + "
			       "2 GiB asked + 256 MiB reserve > %s on node(s) 0 (vmtierd not "
			       "reachable: checked alone)\n", cap);
	g_assert_cmpint(hook(f, "tiered", "big", "prepare", "begin", xml, &err, NULL), ==, 1);
	g_assert_cmpstr(err, ==, want);
}

/* With vmtierd: its running guests' quotas count; the edge is exact and the
 * reserve is vmtierd's dram_reserve. */
static void test_quota_with_daemon(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 256M --pmem 128M --dram-nodes 0");
	g_autofree char *e1 = NULL, *e2 = NULL, *want = NULL, *o = NULL, *cap = NULL;
	guint64 node0 = dram_node_bytes("tiered", 0);

	g_autofree char *qmp = g_build_filename(f->dir, "run", "qmp", NULL);
	g_autofree char *run = g_build_filename(f->dir, "run", NULL);
	struct stat st;
	mode_t old = umask(077);	/* whatever libvirtd's umask */

	write_config(f, "128M");
	start_daemon(f);
	f->others = node0 - 256 * MIB - 128 * MIB;
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e1, NULL), ==, 0);
	umask(old);
	g_assert_cmpstr(e1, ==, "");
	/* admitted: the directory for QEMU's QMP socket is there, not world-open */
	g_assert_cmpint(stat(qmp, &st), ==, 0);
	g_assert_true(S_ISDIR(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0750);
	/* and QEMU (not root) gets through its parent, made at boot by the hook
	 * when libvirt starts guests before vmtierd */
	g_assert_cmpint(stat(run, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0755);
	g_assert_cmpstr(json_object_to_json_string(json_object_array_get_idx(f->requests, 0)), ==,
			"{ \"cmd\": \"status\" }");
	f->others += 1;
	o = vmt_size_format(f->others);
	cap = vmt_size_format(node0);
	want = g_strdup_printf("vmtier: t1: refused: DRAM quota does not fit: %s already promised + "
			       "256 MiB asked + 128 MiB reserve > %s on node(s) 0\n", o, cap);
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e2, NULL), ==, 1);
	g_assert_cmpstr(e2, ==, want);
}

/* vmtierd's status gives each guest's nodes: a guest on the other socket
 * does not count against this one's; a guest whose nodes the reply does
 * not give (an older vmtierd) or does not parse counts against every
 * node, as before. */
static void test_other_socket(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 256M --pmem 128M --dram-nodes 0");
	const struct {
		const char *dram, *slow;
		int rc;
	} t[] = {
		{ "1", "3", 0 },	/* the other socket */
		{ NULL, NULL, 1 },	/* unknown: counts */
		{ "0", "2", 1 },	/* the same socket */
		{ "0-1", "2-3", 1 },	/* spread over both: counts whole */
		{ "1", "x", 1 },	/* a slow list that does not parse: counts */
	};

	write_config(f, "128M");
	start_daemon(f);
	f->others = 600 * MIB;		/* 600 + 256 + 128 > node 0's 969 MiB */
	f->others_kmem = 800 * MIB;	/* with 128, over node 2's 896 MiB */
	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *err = NULL;

		f->others_dram_nodes = t[i].dram;
		f->others_slow_nodes = t[i].slow;
		g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &err, NULL), ==, t[i].rc);
		g_test_message("%s/%s: %s", t[i].dram, t[i].slow, err);
		if (t[i].rc == 0)
			g_assert_cmpstr(err, ==, "");
		else
			g_assert_true(g_str_has_prefix(err, "vmtier: t1: refused: "));
	}
	/* the slow tier alone: DRAM elsewhere, slow part on node 2 */
	{
		g_autofree char *err = NULL;

		f->others_dram_nodes = "1";
		f->others_slow_nodes = "2";
		g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &err, NULL), ==, 1);
		g_assert_cmpstr(err, ==, "vmtier: t1: refused: slow tier cannot hold the PMEM part: 800 MiB "
				"already placed + 128 MiB asked > 896 MiB on node(s) 2\n");
	}
}

static void test_notify(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	const char *ops[][3] = { { "started", "begin", "started" }, { "stopped", "end", "stopped" },
				 { "release", "end", "stopped" } };

	start_daemon(f);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_autofree char *err = NULL, *want = NULL;

		g_assert_cmpint(hook(f, "tiered", "t1", ops[i][0], ops[i][1], xml, &err, NULL), ==, 0);
		g_assert_cmpstr(err, ==, "");
		want = g_strdup_printf("{ \"cmd\": \"notify\", \"event\": \"%s\", \"name\": \"t1\" }", ops[i][2]);
		g_assert_cmpuint(json_object_array_length(f->requests), ==, i + 1);
		g_assert_cmpstr(json_object_to_json_string(json_object_array_get_idx(f->requests, i)), ==, want);
	}
	/* the other sub-operations of the same operations do nothing */
	g_assert_cmpint(hook(f, "tiered", "t1", "stopped", "begin", xml, NULL, NULL), ==, 0);
	g_assert_cmpint(hook(f, "tiered", "t1", "start", "begin", xml, NULL, NULL), ==, 0);
	g_assert_cmpuint(json_object_array_length(f->requests), ==, 3);
}

static void test_daemon_down(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *err = NULL, *want = NULL;

	want = g_strdup_printf("vmtier: t1: vmtierd is not reachable (cannot reach vmtierd at %s: No such "
			       "file or directory); it learns that t1 started on its next sweep\n", f->socket);
	g_assert_cmpint(hook(f, "tiered", "t1", "started", "begin", xml, &err, NULL), ==, 0);
	g_assert_cmpstr(err, ==, want);
}

/* A daemon that accepts and never answers: a socket that listens. */
static int stalled_daemon(Fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	g_strlcpy(sa.sun_path, f->socket, sizeof sa.sun_path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	return fd;
}

/* A daemon that accepts and never answers holds the hook 2 s, no more; a
 * guest is not admitted meanwhile (the others' quotas are unknown) unless
 * [hook] on_no_answer=admit says to check it alone. */
static void test_daemon_hangs(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	const char *ops[][2] = { { "started", "begin" }, { "prepare", "begin" } };
	int fd = stalled_daemon(f);

	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		g_autofree char *err = NULL, *want = NULL;
		gint64 ms;

		g_assert_cmpint(hook(f, "tiered", "t1", ops[i][0], ops[i][1], xml, &err, &ms), ==, i);
		g_test_message("%s %s took %" G_GINT64_FORMAT " ms", ops[i][0], ops[i][1], ms);
		g_assert_cmpint(ms, >=, 1900);
		g_assert_cmpint(ms, <, 2500);
		if (i == 0) {
			g_assert_nonnull(strstr(err, "did not answer within 2000 ms"));
			continue;
		}
		want = g_strdup_printf("vmtier: t1: refused: vmtierd runs but did not answer (vmtierd at "
				       "%s did not answer within 2000 ms), so the DRAM quotas of its "
				       "guests are unknown ([hook] on_no_answer=admit in vmtierd.conf "
				       "checks a guest alone instead)\n", f->socket);
		g_assert_cmpstr(err, ==, want);
	}
	{
		g_autofree char *err = NULL, *text = NULL, *more = NULL;

		g_assert_true(g_file_get_contents(f->config, &text, NULL, NULL));
		more = g_strconcat(text, "[hook]\non_no_answer=admit\n", NULL);
		g_assert_true(g_file_set_contents(f->config, more, -1, NULL));
		g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &err, NULL), ==, 0);
		g_assert_cmpstr(err, ==, "");	/* admitted alone */
	}
	close(fd);
	g_unlink(f->socket);
}

/* The over-commit a stall allowed: a quota that fits the host alone but
 * not next to vmtierd's guests is refused whether vmtierd answers or not. */
static void test_daemon_hangs_no_overcommit(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 704M --pmem 128M --dram-nodes 0");
	g_autofree char *e1 = NULL, *e2 = NULL;
	guint64 node0 = dram_node_bytes("tiered", 0);
	int fd;

	start_daemon(f);
	f->others = node0 - 704 * MIB - 256 * MIB + 2 * MIB;
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e1, NULL), ==, 1);
	g_assert_nonnull(strstr(e1, "DRAM quota does not fit"));
	g_clear_pointer(&f->server, vmt_ctl_server_free);
	g_unlink(f->socket);
	fd = stalled_daemon(f);
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e2, NULL), ==, 1);
	g_assert_nonnull(strstr(e2, "vmtierd runs but did not answer"));
	close(fd);
	g_unlink(f->socket);
}

/* vmtierd holds its lock but has no socket (yet): it runs, so no guest is
 * admitted on its own; without the lock the guest is checked alone. */
static void test_daemon_lock_held(Fixture *f, gconstpointer data)
{
	g_autofree char *xml = define_xml("tiered", "t1", "--dram 64M --pmem 128M --dram-nodes 0");
	g_autofree char *lock = g_build_filename(f->dir, "vmtierd.lock", NULL);
	g_autofree char *e1 = NULL, *e2 = NULL;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	g_assert_cmpint(flock(fd, LOCK_EX), ==, 0);
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e1, NULL), ==, 1);
	g_assert_nonnull(strstr(e1, "vmtierd runs but did not answer (cannot reach vmtierd at"));
	close(fd);
	g_assert_cmpint(hook(f, "tiered", "t1", "prepare", "begin", xml, &e2, NULL), ==, 0);
	g_assert_cmpstr(e2, ==, "");
}

/* ---- vmtier hook install | uninstall | status ---- */

static int vmtier(Fixture *f, const char *args, char **out)
{
	/* never the machine's own /etc/apparmor.d */
	g_autofree char *cmd = g_strdup_printf("%s hook %s --apparmor-dir %s/aa", vmtier_bin, args,
					       f->dir);
	g_auto(GStrv) argv = NULL;
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
		G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GSubprocess) p = NULL;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
	g_subprocess_launcher_setenv(l, "VMTIER_CONFIG", f->config, TRUE);
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv, NULL);
	g_assert_nonnull(p);
	g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, out, NULL, NULL));
	return g_subprocess_get_exit_status(p);
}

static void test_install(Fixture *f, gconstpointer data)
{
	g_autofree char *link = g_build_filename(f->dir, "50-vmtier", NULL);
	g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *o5 = NULL, *o6 = NULL;
	g_autofree char *args = g_strdup_printf("install --dir %s", f->dir);
	g_autofree char *un = g_strdup_printf("uninstall --dir %s", f->dir);
	g_autofree char *st = g_strdup_printf("status --dir %s", f->dir);
	g_autofree char *target = NULL, *real_hook = realpath(hook_bin, NULL), *err = NULL;

	g_assert_cmpint(vmtier(f, args, &o1), ==, 0);
	target = g_file_read_link(link, NULL);
	g_assert_cmpstr(target, ==, real_hook);
	g_assert_true(g_str_has_prefix(o1, "installed "));
	g_assert_nonnull(strstr(o1, "systemctl reload libvirtd"));
	g_assert_cmpint(vmtier(f, args, &o2), ==, 0);
	g_assert_true(g_str_has_prefix(o2, "already installed: "));
	g_assert_cmpint(vmtier(f, st, &o3), ==, 0);
	g_assert_true(g_str_has_prefix(o3, "hook: "));
	g_assert_nonnull(strstr(o3, ": installed -> "));
	/* libvirt runs the link */
	{
		const char *argv[] = { link, "plain", "prepare", "begin", "-", NULL };
		g_assert_cmpint(run(f, "tiered", argv, plain_xml, &err, NULL), ==, 0);
	}
	g_assert_cmpint(vmtier(f, un, &o4), ==, 0);
	g_assert_false(g_file_test(link, G_FILE_TEST_EXISTS));
	g_assert_cmpint(vmtier(f, st, &o5), ==, 1);
	g_assert_nonnull(strstr(o5, ": not installed\n"));
	g_assert_cmpint(vmtier(f, un, &o6), ==, 0);
	g_assert_true(g_str_has_prefix(o6, "not installed: "));
}

static void test_foreign(Fixture *f, gconstpointer data)
{
	g_autofree char *file = g_build_filename(f->dir, "50-vmtier", NULL), *text = NULL;
	g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *want = NULL;
	g_autofree char *args = g_strdup_printf("install --dir %s", f->dir);
	g_autofree char *un = g_strdup_printf("uninstall --dir %s", f->dir);
	g_autofree char *force = g_strdup_printf("install --force --dir %s", f->dir);

	g_assert_true(g_file_set_contents(file, "#!/bin/sh\nexit 0\n", -1, NULL));
	g_assert_cmpint(vmtier(f, args, &o1), ==, 1);
	want = g_strdup_printf("vmtier hook install: %s exists and is not vmtier's hook (a link to "
			       "vmtier-hook): give --force to replace it\n", file);
	g_assert_cmpstr(o1, ==, want);
	g_assert_cmpint(vmtier(f, un, &o2), ==, 1);
	g_assert_nonnull(strstr(o2, "is not vmtier's hook (a link to vmtier-hook): left alone"));
	g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "#!/bin/sh\nexit 0\n");
	g_assert_cmpint(vmtier(f, force, &o3), ==, 0);
	g_assert_true(g_file_test(file, G_FILE_TEST_IS_SYMLINK));
	g_assert_cmpint(vmtier(f, un, &o4), ==, 0);
	g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
}

static char *aa_path(Fixture *f, const char *rel)
{
	return g_build_filename(f->dir, "aa", rel, NULL);
}

static void aa_write(Fixture *f, const char *rel, const char *text)
{
	g_autofree char *path = aa_path(f, rel), *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *aa_read(Fixture *f, const char *rel)
{
	g_autofree char *path = aa_path(f, rel);
	char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/* Under libvirt-daemon-system's AppArmor profiles (a copy's layout), install
 * lets every guest's QEMU create its QMP socket in the configured directory
 * and libvirtd run the hook, through vmtier's own abstractions included from
 * the site's local/ files; uninstall takes back its lines only. */
static void test_apparmor(Fixture *f, gconstpointer data)
{
	static const char site[] = "# the site's own\n  /srv/images/** r,\n";
	static const char *const rels[] = { "abstractions/libvirt-qemu", "abstractions/vmtier-qemu",
					    "abstractions/vmtier-libvirtd", "local/abstractions/libvirt-qemu",
					    "local/usr.sbin.libvirtd", "local/abstractions", "local",
					    "abstractions", "" };
	g_autofree char *args = g_strdup_printf("install --dir %s", f->dir);
	g_autofree char *un = g_strdup_printf("uninstall --dir %s", f->dir);
	g_autofree char *st = g_strdup_printf("status --dir %s", f->dir);
	g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *o5 = NULL;
	g_autofree char *qemu = NULL, *libvirtd = NULL, *lq = NULL, *ll = NULL, *want = NULL;
	g_autofree char *real_hook = realpath(hook_bin, NULL);

	aa_write(f, "abstractions/libvirt-qemu", "  #include <abstractions/base>\n");
	aa_write(f, "local/usr.sbin.libvirtd", site);
	g_assert_cmpint(vmtier(f, st, &o1), ==, 1);
	g_assert_nonnull(strstr(o1, "apparmor: vmtier-qemu missing, vmtier-libvirtd missing\n"));
	g_assert_cmpint(vmtier(f, args, &o2), ==, 0);
	g_test_message("%s", o2);
	g_assert_nonnull(strstr(o2, "AppArmor: "));
	qemu = aa_read(f, "abstractions/vmtier-qemu");
	want = g_strdup_printf("\"%s/run/qmp/@{profile_name}.qmp\" rw,\n", f->dir);
	g_assert_nonnull(qemu);
	g_assert_nonnull(strstr(qemu, want));
	g_free(want);
	libvirtd = aa_read(f, "abstractions/vmtier-libvirtd");
	want = g_strdup_printf("\"%s\" rmix,\n", real_hook);
	g_assert_nonnull(libvirtd);
	g_assert_nonnull(strstr(libvirtd, want));
	lq = aa_read(f, "local/abstractions/libvirt-qemu");
	g_assert_cmpstr(lq, ==, "include <abstractions/vmtier-qemu>\n");
	ll = aa_read(f, "local/usr.sbin.libvirtd");
	g_free(want);
	want = g_strdup_printf("%sinclude <abstractions/vmtier-libvirtd>\n", site);
	g_assert_cmpstr(ll, ==, want);
	g_assert_cmpint(vmtier(f, args, &o3), ==, 0);
	g_assert_nonnull(strstr(o3, "AppArmor: already allowed"));
	g_assert_cmpint(vmtier(f, st, &o4), ==, 0);
	g_assert_nonnull(strstr(o4, "apparmor: vmtier-qemu included, vmtier-libvirtd included\n"));
	g_assert_cmpint(vmtier(f, un, &o5), ==, 0);
	g_free(ll);
	ll = aa_read(f, "local/usr.sbin.libvirtd");
	g_assert_cmpstr(ll, ==, site);
	g_free(lq);
	lq = aa_read(f, "local/abstractions/libvirt-qemu");
	g_assert_cmpstr(lq, ==, "");
	g_assert_null(aa_read(f, "abstractions/vmtier-qemu"));
	g_assert_null(aa_read(f, "abstractions/vmtier-libvirtd"));
	for (guint i = 0; i < G_N_ELEMENTS(rels); i++) {
		g_autofree char *p = aa_path(f, rels[i]);

		g_remove(p);
	}
}

int main(int argc, char **argv)
{
	/* run with stdin closed, pipe() hands out fd 0 and the hook's stdin
	 * pipe is lost in the child's set-up: the hook reads EOF */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	g_test_init(&argc, &argv, NULL);
	hook_bin = g_getenv("VMTIER_HOOK");
	vmtier_bin = g_getenv("VMTIER");
	fixtures = g_getenv("VMTIER_FIXTURES");
	templates = g_getenv("VMTIER_TEMPLATE_DIR");
	g_assert_nonnull(hook_bin);
	g_assert_nonnull(vmtier_bin);
	g_assert_nonnull(fixtures);
	g_assert_nonnull(templates);
#define T(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
	T("/hook/not-ours", test_not_ours);
	T("/hook/garbage-xml", test_garbage);
	T("/hook/huge-xml", test_huge_xml);
	T("/hook/reconnect", test_reconnect);
	T("/hook/prepare/fits-alone", test_fits_alone);
	T("/hook/prepare/movable", test_movable);
	T("/hook/prepare/movable-partial", test_movable_partial);
	T("/hook/prepare/define-agrees", test_define_agrees);
	T("/hook/prepare/define-agrees-sockets", test_define_agrees_sockets);
	T("/hook/prepare/other-socket", test_other_socket);
	T("/hook/prepare/offline", test_offline);
	T("/hook/prepare/devdax", test_devdax);
	T("/hook/prepare/too-big-alone", test_too_big_alone);
	T("/hook/prepare/quota-with-daemon", test_quota_with_daemon);
	T("/hook/notify", test_notify);
	T("/hook/daemon-down", test_daemon_down);
	T("/hook/daemon-hangs", test_daemon_hangs);
	T("/hook/daemon-hangs-no-overcommit", test_daemon_hangs_no_overcommit);
	T("/hook/daemon-lock-held", test_daemon_lock_held);
	T("/hook/install", test_install);
	T("/hook/install-foreign", test_foreign);
	T("/hook/install-apparmor", test_apparmor);
	return g_test_run();
}
