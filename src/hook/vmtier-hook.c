// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier-hook: libvirt's qemu hook, linked into /etc/libvirt/hooks/qemu.d/
 * by `vmtier hook install`.  libvirt runs it as
 *
 *   HOOK DOMAIN OPERATION SUB-OPERATION EXTRA   (the domain XML on stdin)
 *
 * and waits for it while it holds the domain, so the hook never calls libvirt
 * (that would deadlock) and waits for vmtierd at most HOOK_TIMEOUT_MS:
 *
 *   prepare begin             admission: a vmtier guest that no longer fits
 *                             is refused (exit 1; the reason, one line on
 *                             stderr, is in libvirt's error); so is any
 *                             guest while vmtierd runs but does not answer
 *                             ([hook] on_no_answer), while one checked alone
 *                             when vmtierd does not run
 *   started begin             tell vmtierd, which then tiers the guest at once
 *   stopped end, release end  tell vmtierd, which closes the guest's accounting
 *   anything else             exit 0 (reconnect too: refusing would kill a
 *                             running guest)
 *
 * Only domains with vmtier's <metadata> (VMT_XMLNS) are acted on.  XML that
 * does not parse blocks nothing unless it names vmtier's namespace.  vmtierd's
 * configuration (VMTIER_CONFIG, else its default path: libvirt passes hooks
 * no environment of ours) gives the socket and the DRAM reserve. */
#define G_LOG_DOMAIN "vmtier-hook"
#include <gio/gio.h>

#include "config.h"
#include "ctl.h"
#include "daemon-config.h"
#include "admission.h"
#include "error.h"
#include "domain-plan.h"
#include "nodeset.h"
#include "plan-meta.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_TIMEOUT_MS 2000		/* all the hook waits for vmtierd */
#define MAX_XML (16u << 20)

typedef struct {
	char *socket, *qmp_dir, *state_dir;
	guint64 reserve;
	gboolean admit_unanswered;	/* [hook] on_no_answer=admit */
} HookConfig;

static void hook_config_clear(HookConfig *c)
{
	g_free(c->socket);
	g_free(c->qmp_dir);
	g_free(c->state_dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HookConfig, hook_config_clear)

/* Everything goes to the journal when there is one; what libvirt should
 * show (refusals, a daemon that did not answer) also goes to stderr, which
 * libvirt puts into its error message or its log.  Details (info) stay out
 * of stderr so a refusal is the one line libvirt shows. */
static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
			       gpointer data)
{
	if (level & G_LOG_LEVEL_DEBUG)
		return G_LOG_WRITER_HANDLED;
	g_log_writer_journald(level, fields, n_fields, data);
	if (level & G_LOG_LEVEL_INFO)
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n_fields; i++)
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			fprintf(stderr, "vmtier: %s\n", (const char *)fields[i].value);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

static void config_load(HookConfig *c)
{
	const char *path = vmt_daemon_config_client_path();
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtDaemonConfig) cfg = vmt_daemon_config_load(path, FALSE, &error);

	if (!cfg) {
		g_info("%s; using vmtierd's defaults", error->message);
		c->socket = g_strdup(vmt_ctl_default_path());
		c->qmp_dir = g_strdup(VMT_QMPDIR);
		c->state_dir = g_strdup(VMT_RUNSTATEDIR);
		c->reserve = 256ull << 20;	/* vmtierd's and vmtier define's default */
		return;
	}
	c->socket = g_strdup(cfg->socket_path);
	c->qmp_dir = g_strdup(cfg->qmp_dir);
	c->state_dir = g_strdup(cfg->state_dir);
	c->reserve = cfg->dram_reserve_bytes;
	c->admit_unanswered = strcmp(cfg->hook_on_no_answer, "admit") == 0;
}

/* The domain XML on stdin, read to the end whatever its size (libvirt
 * must never meet a closed pipe for an unrelated domain), kept up to
 * MAX_XML.  *TOO_LARGE: there was more; *OURS_TOO: then, whether vmtier's
 * namespace appeared anywhere in it (looked for across reads). */
static GByteArray *read_stdin(gboolean *too_large, gboolean *ours_too, GError **error)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	const gsize ns = strlen(VMT_XMLNS);
	guint8 buf[64 + 65536];
	gsize keep = 0;		/* the last read's tail, in front of the next */

	G_STATIC_ASSERT(sizeof(VMT_XMLNS) < 64);
	*too_large = *ours_too = FALSE;
	for (;;) {
		gssize n = read(STDIN_FILENO, buf + keep, sizeof buf - keep);
		gsize have;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
				    "cannot read the domain XML on stdin: %s", g_strerror(errno));
			return NULL;
		}
		if (n == 0)
			return g_steal_pointer(&in);
		have = keep + (gsize)n;
		if (!*too_large && in->len + (gsize)n <= MAX_XML) {
			g_byte_array_append(in, buf + keep, (guint)n);
		} else {
			if (!*too_large)
				*ours_too = memmem(in->data, in->len, VMT_XMLNS, ns) != NULL;
			*too_large = TRUE;
			/* with the tail kept: a namespace cut between two reads */
			*ours_too = *ours_too || memmem(buf, have, VMT_XMLNS, ns) != NULL;
		}
		keep = MIN(have, ns - 1);
		memmove(buf, buf + have - keep, keep);
	}
}

/* VM's node list KEY ("0-1"), or NULL when unknown: absent (a vmtierd
 * older than the key), null (metadata that did not read) or bad.  Unknown
 * counts against every node (admission.h): the safe side. */
static GArray *vm_nodes(json_object *vm, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(vm, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return vmt_nodeset_parse(json_object_get_string(v), NULL);
}

/* The guests vmtierd runs, counted into ADM (their DRAM quotas and, on
 * kmem, their slow-tier parts, each on its nodes): the defined guests the
 * hook can see without calling libvirt. */
static gboolean daemon_committed(const HookConfig *c, VmtAdmission *adm, GError **error)
{
	json_object *req = json_object_new_object(), *reply, *vms;

	json_object_object_add(req, "cmd", json_object_new_string("status"));
	reply = vmt_ctl_request(c->socket, req, HOOK_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	if (!json_object_object_get_ex(reply, "vms", &vms) || !json_object_is_type(vms, json_type_array)) {
		json_object_put(reply);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "vmtierd's status reply has no \"vms\" list");
		return FALSE;
	}
	for (gsize i = 0; i < json_object_array_length(vms); i++) {
		json_object *vm = json_object_array_get_idx(vms, i), *n = NULL, *q, *k;
		g_autoptr(GArray) dram_nodes = NULL, slow_nodes = NULL;

		if (!json_object_object_get_ex(vm, "quota_bytes", &q))
			continue;
		json_object_object_get_ex(vm, "name", &n);
		dram_nodes = vm_nodes(vm, "dram_nodes");
		slow_nodes = vm_nodes(vm, "slow_nodes");
		vmt_admission_count(adm, n ? json_object_get_string(n) : NULL, json_object_get_uint64(q),
				    dram_nodes, json_object_object_get_ex(vm, "kmem_bytes", &k) ?
				    json_object_get_uint64(k) : 0, slow_nodes, TRUE);
	}
	json_object_put(reply);
	return TRUE;
}

/* vmtierd runs although status failed with WHY: it took the connection, or
 * it holds its state directory's lock (probed with a shared lock, let go at
 * once; vmtierd retries its own briefly). */
static gboolean daemon_running(const HookConfig *c, const GError *why)
{
	g_autofree char *lock = g_build_filename(c->state_dir, "vmtierd.lock", NULL);
	gboolean held;
	int fd;

	if (!g_error_matches(why, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
	    !g_error_matches(why, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return TRUE;
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* QEMU creates libvirt-UUID.qmp in the QMP directory itself, as libvirt's
 * QEMU user: that user owns the directory, mode 0750, so only it (and root)
 * can put sockets there, and AppArmor only the one named after its own
 * profile.  libvirt's QEMU state directory is owned by that user
 * (user/group in qemu.conf), so it says who.  Missing parents are made
 * 0755 (tmpfiles.d makes /run/vmtier so at boot too): at boot libvirt
 * starts guests before vmtierd, and QEMU must get through them. */
static gboolean prepare_qmp_dir(const char *dir, GError **error)
{
	g_autofree char *parent = g_path_get_dirname(dir);
	gboolean made = !g_file_test(parent, G_FILE_TEST_IS_DIR);
	struct stat st, qemu;

	if (g_mkdir_with_parents(parent, 0755) < 0 || (made && chmod(parent, 0755) < 0) ||
	    g_mkdir_with_parents(dir, 0750) < 0 || stat(dir, &st) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", dir,
			    g_strerror(e));
		return FALSE;
	}
	/* whatever libvirtd's umask */
	if (chmod(dir, 0750) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "chmod %s: %s", dir, g_strerror(e));
		return FALSE;
	}
	if (stat("/var/lib/libvirt/qemu", &qemu) < 0)
		return TRUE;	/* no libvirt QEMU state here: nothing to hand over */
	if ((st.st_uid != qemu.st_uid || st.st_gid != qemu.st_gid) &&
	    chown(dir, qemu.st_uid, qemu.st_gid) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
			    "cannot give %s to QEMU's user (uid %u): %s", dir, (unsigned)qemu.st_uid,
			    g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

static int prepare(const char *name, const VmtTierPlan *p, const HookConfig *c)
{
	g_autoptr(GError) error = NULL, derr = NULL;
	g_autoptr(VmtHost) host = vmt_host_load(&error);
	g_autoptr(VmtAdmission) adm = vmt_admission_new(c->reserve);
	gboolean alone = FALSE;

	if (host && !daemon_committed(c, adm, &derr)) {
		/* the DRAM its guests hold is unknown: admitting on this guest
		 * alone could over-commit */
		if (daemon_running(c, derr) && !c->admit_unanswered) {
			g_warning("%s: refused: vmtierd runs but did not answer (%s), so the DRAM "
				  "quotas of its guests are unknown ([hook] on_no_answer=admit in "
				  "vmtierd.conf checks a guest alone instead)", name, derr->message);
			return 1;
		}
		g_info("%s: %s; checking %s alone against the host", name, derr->message, name);
		alone = TRUE;	/* nothing was counted */
	}
	if (host && vmt_admission_check(adm, p, host, &error) &&
	    prepare_qmp_dir(c->qmp_dir, &error)) {
		g_info("%s: admitted", name);
		return 0;
	}
	g_warning("%s: refused: %s%s", name, error->message,
		  alone && g_error_matches(error, VMT_ERROR, VMT_ERROR_NO_ROOM) ?
		  " (vmtierd not reachable: checked alone)" : "");
	return 1;
}

static void notify(const char *name, const char *event, const HookConfig *c)
{
	g_autoptr(GError) error = NULL;
	json_object *req = json_object_new_object(), *reply;

	json_object_object_add(req, "cmd", json_object_new_string("notify"));
	json_object_object_add(req, "event", json_object_new_string(event));
	json_object_object_add(req, "name", json_object_new_string(name));
	reply = vmt_ctl_request(c->socket, req, HOOK_TIMEOUT_MS, &error);
	if (reply)
		g_info("%s: told vmtierd: %s", name, event);
	else
		g_message("%s: vmtierd is not reachable (%s); it learns that %s %s on its next sweep",
			  name, error->message, name, event);
	json_object_put(reply);
}

int main(int argc, char **argv)
{
	g_auto(HookConfig) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) xml = NULL;
	const char *name, *op;
	gboolean is_prepare, is_started, is_stopped, too_large, ours;
	g_autoptr(VmtTierPlan) plan = NULL;
	int rc = 0;

	setlocale(LC_ALL, "");
	g_set_prgname("vmtier-hook");
	g_log_set_writer_func(writer, NULL, NULL);
	if (argc < 4) {
		fprintf(stderr, "usage: vmtier-hook DOMAIN OPERATION SUB-OPERATION [EXTRA] "
				"(run by libvirt, with the domain XML on stdin)\n");
		return 64;
	}
	name = argv[1], op = argv[2];
	is_prepare = strcmp(op, "prepare") == 0 && strcmp(argv[3], "begin") == 0;
	is_started = strcmp(op, "started") == 0 && strcmp(argv[3], "begin") == 0;
	is_stopped = (strcmp(op, "stopped") == 0 || strcmp(op, "release") == 0) &&
		     strcmp(argv[3], "end") == 0;
	xml = read_stdin(&too_large, &ours, &error);
	/* other operations: nothing to do, but the XML is still read, so that
	 * whoever writes it never meets a closed pipe */
	if (!is_prepare && !is_started && !is_stopped)
		return 0;
	if (!xml) {
		g_warning("%s: %s%s", name, error->message, is_prepare ? "; refused" : "");
		return is_prepare;
	}
	if (too_large) {
		if (!ours)
			return 0;	/* someone else's domain: not ours to judge */
		g_warning("%s: its domain XML is larger than %u bytes%s", name, MAX_XML,
			  is_prepare ? "; refused" : "");
		return is_prepare;
	}
	switch (vmt_domain_plan_read((const char *)xml->data, xml->len, name, &plan, &error)) {
	case VMT_DOMAIN_PLAN_NONE:
		return 0;	/* not a vmtier guest */
	case VMT_DOMAIN_PLAN_BAD:
		/* ours, but admission cannot tell what it asks for */
		if (is_prepare) {
			g_warning("%s: refused: %s", name, error->message);
			return 1;
		}
		break;
	case VMT_DOMAIN_PLAN_OK:
		break;
	}
	config_load(&c);
	if (is_prepare)
		rc = prepare(name, plan, &c);
	else
		notify(name, is_started ? "started" : "stopped", &c);
	return rc;
}
