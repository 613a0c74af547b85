// SPDX-License-Identifier: GPL-2.0-or-later
/* A guest under vmtierd; see guest.h. */
#include "error.h"
#include "guest.h"
#include "host-flush.h"
#include "host-proc.h"
#include "log.h"
#include "nodeset.h"
#include "qmp-memmap.h"
#include "slo.h"

#include <gio/gio.h>
#include <string.h>

#define QMP_TIMEOUT_MS 2000
/* A poll runs on a poll thread and holds no window up, so it can wait
 * longer than attach: at 32 guests on the test host's 2 CPUs, QEMUs
 * starved by the others' vCPUs answered after more than 2 s, and a guest
 * went "unresponsive" (not moved) 108 times in 3 minutes; 7 with 5 s
 * (bench/README.md, "Scale", runs 13-14).  A stopped QEMU is reported 3 s
 * later. */
#define QMP_POLL_TIMEOUT_MS 5000

static int first_node(const char *set)
{
	g_autoptr(GArray) ids = vmt_nodeset_parse(set, NULL);

	return ids && ids->len ? g_array_index(ids, int, 0) : -1;
}

VmtGuest *vmt_guest_new(const VmtDomainInfo *info, const VmtHost *host)
{
	VmtGuest *g = g_new0(VmtGuest, 1);

	g->ref = 1;
	g_mutex_init(&g->lock);
	g->name = g_strdup(info->name);
	g->tenant = g_strdup(info->tenant);
	g->klass = g_strdup(info->klass);
	g->state = VMT_GUEST_ATTACHING;
	g->pid = -1;
	g->quota_bytes = info->dram_bytes;
	g->kmem_bytes = strcmp(info->backend, "kmem") == 0 ? info->pmem_bytes : 0;
	/* the nodes the hook counts those on; unknown (NULL) when the
	 * metadata does not read as a plan */
	if (info->plan) {
		g->dram_nodes = vmt_nodeset_format(info->plan->dram_nodes);
		g->slow_nodes = vmt_nodeset_format(info->plan->pmem_nodes);
	}
	g->fast_node = first_node(info->dram_nodes);
	g->slow_node = first_node(info->pmem_nodes);
	/* device-DAX pages are not in the page allocator and VFIO pins guest
	 * memory: neither can move, so such guests are reported, not tiered */
	g->movable = strcmp(info->backend, "devdax") != 0 && !info->pinned &&
		     g->fast_node >= 0 && g->slow_node >= 0;
	/* by node id: online ids need not be contiguous */
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = host->nodes->pdata[i];

		if (n && n->id >= 0)
			g->n_nodes = MAX(g->n_nodes, (guint)n->id + 1);
	}
	g->fast_nodes = g_new0(gboolean, MAX(1u, g->n_nodes));
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = host->nodes->pdata[i];

		if (n && n->id >= 0)
			g->fast_nodes[n->id] = !vmt_node_is_slow(n);
	}
	return g;
}

VmtGuest *vmt_guest_ref(VmtGuest *g)
{
	g_atomic_int_inc(&g->ref);
	return g;
}

void vmt_guest_unref(VmtGuest *g)
{
	if (!g || !g_atomic_int_dec_and_test(&g->ref))
		return;
	g_free(g->qmp_path);
	g_clear_pointer(&g->klass_def, vmt_class_free);
	g_clear_pointer(&g->engine, vmt_tier_engine_free);
	g_clear_pointer(&g->ranges, g_array_unref);
	g_free(g->freq);
	g_free(g->fast_nodes);
	g_free(g->name);
	g_free(g->tenant);
	g_free(g->klass);
	g_free(g->dram_nodes);
	g_free(g->slow_nodes);
	g_free(g->last_error);
	g_free(g->memcg);
	g_free(g->offload_note);
	g_clear_pointer(&g->vcpu_tids, g_array_unref);
	g_free(g->no_vcpus);
	g_free(g->sensor_note);
	g_mutex_clear(&g->lock);
	g_free(g);
}

static const char *const state_names[] = {
	[VMT_GUEST_ATTACHING] = "attaching",
	[VMT_GUEST_TIERING] = "tiering",
	[VMT_GUEST_REPORT_ONLY] = "report-only",
	[VMT_GUEST_PAUSED] = "paused",
	[VMT_GUEST_UNRESPONSIVE] = "unresponsive",
	[VMT_GUEST_MIGRATING] = "migrating",
	[VMT_GUEST_STOPPING] = "stopping",
	[VMT_GUEST_ERROR] = "error",
};

static const char *const sensor_names[] = {
	[VMT_SENSOR_UNCHECKED] = "unchecked",
	[VMT_SENSOR_RANKING] = "ranking",
	[VMT_SENSOR_BLIND] = "blind",
};

const char *vmt_sensor_name(VmtSensor s)
{
	return (guint)s < G_N_ELEMENTS(sensor_names) ? sensor_names[s] : "unknown";
}

const char *vmt_guest_state_name(VmtGuestState s)
{
	return (guint)s < G_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

/* A change is logged: an operator reading the log (or a bench run whose
 * guests were not all tiering at its end) sees when and why. */
void vmt_guest_set_state(VmtGuest *g, VmtGuestState state, const char *error_or_null)
{
	VmtGuestState was;

	g_mutex_lock(&g->lock);
	was = g->state;
	g->state = state;
	if (error_or_null) {
		g_free(g->last_error);
		g->last_error = g_strdup(error_or_null);
	}
	g_mutex_unlock(&g->lock);
	if (was != state && was != VMT_GUEST_ATTACHING)
		g_message("%s: %s, was %s%s%s", g->name, vmt_guest_state_name(state),
			  vmt_guest_state_name(was), error_or_null ? ": " : "",
			  error_or_null ? error_or_null : "");
}

/* QEMU's RAM map RAMS as ranges the scanners can trust: within PID's
 * mappings, adding up to the domain's RAM (a QEMU that claims more than
 * the domain has would size our arrays and loops), *N_CHUNKS of them. */
static GArray *trusted_ranges(GPtrArray *rams, int pid, guint64 ram_bytes, guint *n_chunks,
			      GError **error)
{
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	guint64 total = 0;

	for (guint i = 0; i < rams->len; i++) {
		const VmtGuestRam *r = rams->pdata[i];
		VmtRange range = { r->hva, r->size };

		if (r->hva == 0 || r->guest_node < 0)
			continue;	/* not boot RAM of a guest node (e.g. an NVDIMM) */
		g_array_append_val(ranges, range);
		total = total > G_MAXUINT64 - r->size ? G_MAXUINT64 : total + r->size;
	}
	if (ranges->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "QEMU (pid %d) reports no guest RAM mapped", pid);
		return NULL;
	}
	if (!vmt_ranges_check(ranges, n_chunks, error)) {
		g_prefix_error(error, "QEMU (pid %d): ", pid);
		return NULL;
	}
	if (total != ram_bytes) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "QEMU (pid %d) reports %" G_GUINT64_FORMAT " bytes of guest RAM, but the "
			    "domain's NUMA cells hold %" G_GUINT64_FORMAT, pid, total, ram_bytes);
		return NULL;
	}
	for (guint i = 0; i < ranges->len; i++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, i);

		if (!vmt_host_proc_check_mapped(pid, r->start, r->len, error))
			return NULL;
	}
	return g_steal_pointer(&ranges);
}

/* The vCPU threads (QMP query-cpus-fast), each checked to be a thread of
 * PID, into M; none known (M->no_vcpus says why) leaves the sensor unable
 * to flush. */
static void vcpu_threads(VmtGuestMap *m, VmtQmpClient *c, int pid)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(json_object) cpus = vmt_qmp_client_execute_sync(c, "query-cpus-fast", NULL,
								   QMP_TIMEOUT_MS, &error);
	g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(int));
	/* QEMU is not trusted to size our loops: no more than it has threads */
	gsize n = cpus && json_object_is_type(cpus, json_type_array) ?
			  json_object_array_length(cpus) : 0;

	for (gsize i = 0; i < n && i < 4096; i++) {
		json_object *o = json_object_array_get_idx(cpus, i), *t;

		if (!json_object_object_get_ex(o, "thread-id", &t) ||
		    !json_object_is_type(t, json_type_int)) {
			g_clear_error(&error);
			g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "query-cpus-fast: vCPU %zu has no thread-id", i);
			break;
		}
		g_array_append_vals(tids, &(int){ json_object_get_int(t) }, 1);
	}
	if (!error && n > 4096)
		g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "query-cpus-fast: %zu vCPUs", n);
	if (!error)
		vmt_host_flush_check_tids(pid, tids, &error);
	if (error)
		m->no_vcpus = g_strdup(error->message);
	else
		m->vcpu_tids = g_steal_pointer(&tids);
}

void vmt_guest_map_free(VmtGuestMap *m)
{
	if (!m)
		return;
	g_clear_pointer(&m->ranges, g_array_unref);
	g_clear_pointer(&m->vcpu_tids, g_array_unref);
	g_free(m->no_vcpus);
	g_free(m->qmp_path);
	g_free(m);
}

/* The peer's cgroup, besides its pid: a pid file libvirt left behind (its
 * QEMU died while libvirtd was down) may name a pid the kernel gave since
 * to another guest's process, which can create this guest's socket. */
static gboolean check_cgroup(const char *name, int pid, int domain_id, GError **error)
{
	g_autofree char *cg = NULL;

	if (domain_id == VMT_GUEST_NO_DOMAIN)
		return TRUE;
	if (domain_id < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "libvirt's domain id for %s is not known", name);
		return FALSE;
	}
	cg = vmt_host_proc_cgroup(pid, error);
	if (!cg || !vmt_domains_check_cgroup(cg, domain_id, error)) {
		g_prefix_error(error, "the QMP socket's peer pid %d is not %s's QEMU: ", pid, name);
		return FALSE;
	}
	return TRUE;
}

VmtGuestMap *vmt_guest_map_query(const char *name, const char *qmp_path, int libvirt_pid,
				  int domain_id, guint64 ram_bytes, GError **error)
{
	g_autoptr(VmtQmpClient) c = NULL;
	g_autoptr(GPtrArray) rams = NULL;
	g_autoptr(VmtGuestMap) m = g_new0(VmtGuestMap, 1);

	/* libvirt writes every QEMU's pid: without it, the socket's peer could
	 * be anyone, claiming another guest's quota */
	if (libvirt_pid <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "libvirt's QEMU pid for %s is not known yet", name);
		return NULL;
	}
	c = vmt_qmp_client_open_sync(qmp_path, QMP_TIMEOUT_MS, error);
	if (!c)
		return NULL;
	m->pid = vmt_qmp_client_peer_pid(c);
	if (m->pid <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%s: cannot tell which process QEMU is", qmp_path);
		return NULL;
	}
	/* before anything it says is believed */
	if (m->pid != libvirt_pid) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "the QMP socket belongs to pid %d, but libvirt's QEMU for %s is pid %d",
			    m->pid, name, libvirt_pid);
		return NULL;
	}
	if (!check_cgroup(name, m->pid, domain_id, error))
		return NULL;
	rams = vmt_qmp_memmap_query(c, QMP_TIMEOUT_MS, error);
	if (!rams)
		return NULL;
	m->ranges = trusted_ranges(rams, m->pid, ram_bytes, &m->n_chunks, error);
	if (!m->ranges) {
		g_prefix_error(error, "%s: ", qmp_path);
		return NULL;
	}
	vcpu_threads(m, c, m->pid);
	m->start_time = vmt_host_proc_start_time(m->pid);
	m->ram_bytes = ram_bytes;
	m->qmp_path = g_strdup(qmp_path);
	return g_steal_pointer(&m);
}

void vmt_guest_attach_map(VmtGuest *g, VmtGuestMap *m, const VmtTierParams *params)
{
	guint n = m->n_chunks;

	g->engine = vmt_tier_engine_new(n, params);
	vmt_tier_engine_set_quota(g->engine, g->quota_bytes);
	g->freq = g_new0(guint16, MAX(1u, n));
	g->state_bytes = vmt_tier_engine_state_bytes(g->engine) + n * sizeof(guint16) + sizeof(*g);
	g->ranges = g_steal_pointer(&m->ranges);
	g->qmp_path = g_steal_pointer(&m->qmp_path);
	g_clear_pointer(&g->vcpu_tids, g_array_unref);
	g_clear_pointer(&g->no_vcpus, g_free);
	g->vcpu_tids = g_steal_pointer(&m->vcpu_tids);
	g->no_vcpus = g_steal_pointer(&m->no_vcpus);
	g->poll_skip = g->poll_backoff = 0;
	g->polled_us = 0;		/* its first window asks QEMU */
	g_mutex_lock(&g->lock);
	g->pid = m->pid;
	g->start_time = m->start_time;
	g->started_ts = vmt_host_proc_started_at(m->start_time);
	if (!g->started_ts)
		g->started_ts = g_get_real_time() / G_USEC_PER_SEC;
	g->ram_bytes = m->ram_bytes;
	g_clear_pointer(&g->last_error, g_free);	/* why it could not attach before */
	g_mutex_unlock(&g->lock);
	vmt_guest_set_state(g, g->movable ? VMT_GUEST_TIERING : VMT_GUEST_REPORT_ONLY, NULL);
}

gboolean vmt_guest_attach(VmtGuest *g, const char *qmp_path, int libvirt_pid, int domain_id,
			  guint64 ram_bytes, const VmtTierParams *params, GError **error)
{
	g_autoptr(VmtGuestMap) m = vmt_guest_map_query(g->name, qmp_path, libvirt_pid, domain_id,
						       ram_bytes, error);

	if (!m)
		return FALSE;
	vmt_guest_attach_map(g, m, params);
	return TRUE;
}

gboolean vmt_guest_poll(VmtGuest *g, GError **error)
{
	/* QEMU's monitor takes one client at a time: connect per poll so that
	 * `vmtier memmap` and operators' tools get their turn */
	g_autoptr(VmtQmpClient) c = vmt_qmp_client_open_sync(g->qmp_path, QMP_POLL_TIMEOUT_MS, error);
	g_autoptr(json_object) st = NULL;
	g_autoptr(json_object) mig = NULL;
	json_object *v;
	const char *status, *mstatus = "none";
	gboolean running, may_move;

	if (!c)
		return FALSE;
	if (vmt_qmp_client_peer_pid(c) != g->pid) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "QEMU pid %d was replaced by pid %d", g->pid, vmt_qmp_client_peer_pid(c));
		return FALSE;
	}
	st = vmt_qmp_client_execute_sync(c, "query-status", NULL, QMP_POLL_TIMEOUT_MS, error);
	if (!st)
		return FALSE;
	status = json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "?";
	mig = vmt_qmp_client_execute_sync(c, "query-migrate", NULL, QMP_POLL_TIMEOUT_MS, error);
	if (!mig)
		return FALSE;
	if (json_object_object_get_ex(mig, "status", &v))
		mstatus = json_object_get_string(v);
	running = strcmp(status, "running") == 0;
	/* a migrating guest's pages are being copied: leave them alone */
	may_move = running && g->movable &&
		   (strcmp(mstatus, "none") == 0 || strcmp(mstatus, "completed") == 0 ||
		    strcmp(mstatus, "failed") == 0 || strcmp(mstatus, "cancelled") == 0);
	g_atomic_int_set(&g->running, running);
	g_atomic_int_set(&g->may_move, may_move);
	if (!g->movable)
		return TRUE;
	if (!running)
		vmt_guest_set_state(g, strcmp(status, "shutdown") == 0 ? VMT_GUEST_STOPPING : VMT_GUEST_PAUSED,
				    NULL);
	else if (!may_move)
		vmt_guest_set_state(g, VMT_GUEST_MIGRATING, NULL);
	else
		vmt_guest_set_state(g, VMT_GUEST_TIERING, NULL);
	return TRUE;
}

void vmt_guest_set_quota(VmtGuest *g, guint64 bytes)
{
	g_mutex_lock(&g->lock);
	g->quota_bytes = bytes;
	g_mutex_unlock(&g->lock);
}

static gboolean place(VmtGuest *g, guint i, GError **error)
{
	guint64 s, len;
	guint fast, resident;

	vmt_ranges_chunk(g->ranges, i, &s, &len);
	if (!vmt_host_move_placement(g->pid, s, len, g->fast_nodes, g->n_nodes, &fast, &resident,
				     error))
		return FALSE;
	vmt_tier_engine_set_placement(g->engine, i, fast, resident);
	return TRUE;
}

/* Placement of a rotating slice of chunks (all of them the first time):
 * pages also move without us (reclaim, compaction, a NUMA balancer). */
static gboolean refresh(VmtGuest *g, GError **error)
{
	guint n = vmt_tier_engine_n_chunks(g->engine);
	/* all of it when the kernel moves pages: its quota steering needs the
	 * DRAM use of now */
	guint k = g->placed && !g->memcg ? MIN(n, MAX(32u, n / 8)) : n;

	/* the cursor moves as chunks are placed: a window cut off (see
	 * host-deadline.h) carries on from there in the next */
	for (guint j = 0; j < k; j++) {
		if (!place(g, g->refresh_cursor, error))
			return FALSE;
		g->refresh_cursor = (g->refresh_cursor + 1) % n;
	}
	g->placed = TRUE;
	return TRUE;
}

/* The window's moves bound for TO, in as few move_pages calls as fit (the
 * plan keeps to the budget); then each chunk's placement as the mover saw
 * its pages end up. */
static gboolean move_to(VmtGuest *g, GArray *moves, VmtTier to, GError **error)
{
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	g_autofree int *where = NULL;
	VmtMoveResult r = { 0 };
	guint64 pages = 0, at = 0;
	gboolean ok;

	for (guint m = 0; m < moves->len; m++) {
		const VmtTierMove *mv = &g_array_index(moves, VmtTierMove, m);
		VmtRange c;

		if (mv->to != to)
			continue;
		vmt_ranges_chunk(g->ranges, mv->chunk, &c.start, &c.len);
		g_array_append_val(ranges, c);
	}
	if (ranges->len == 0)
		return TRUE;
	if (!vmt_guest_alive(g)) {
		g_set_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE, "QEMU (pid %d) is gone", g->pid);
		return FALSE;
	}
	for (guint i = 0; i < ranges->len; i++)
		pages += g_array_index(ranges, VmtRange, i).len / 4096;
	where = g_new(int, MAX(pages, 1));
	ok = vmt_host_move_ranges(g->pid, ranges, to == VMT_TIER_FAST ? g->fast_node : g->slow_node,
				  &r, where, error);
	/* each chunk's placement from where its pages ended up */
	for (guint m = 0, i = 0; ok && m < moves->len; m++) {
		const VmtTierMove *mv = &g_array_index(moves, VmtTierMove, m);
		guint64 n = 0;
		guint fast = 0, resident = 0, before;

		if (mv->to != to)
			continue;
		before = vmt_tier_engine_chunk(g->engine, mv->chunk)->fast_pages;
		n = g_array_index(ranges, VmtRange, i++).len / 4096;
		for (guint64 p = 0; p < n; p++, at++) {
			resident += where[at] >= 0;
			fast += where[at] >= 0 && (guint)where[at] < g->n_nodes &&
				g->fast_nodes[where[at]];
		}
		/* a chunk none of whose pages changed tier did not move (all
		 * already there, or none could): the ping-pong record and the
		 * residency clock go by real moves */
		if (to == VMT_TIER_FAST ? fast > before : fast < before)
			vmt_tier_engine_moved(g->engine, mv->chunk);
		vmt_tier_engine_set_placement(g->engine, mv->chunk, fast, resident);
	}
	/* what moved before a failure counts too */
	g_mutex_lock(&g->lock);
	if (to == VMT_TIER_FAST)
		g->promoted_bytes += r.moved_pages * 4096;
	else
		g->demoted_bytes += r.moved_pages * 4096;
	g->migrations += r.calls;
	g->errors.busy += r.busy;
	g->errors.access += r.access;
	g->errors.nomem += r.nomem;
	g->errors.other += r.other;
	g_mutex_unlock(&g->lock);
	return ok;
}

/* debug: the window's plan, chunk numbers as in the readings' line */
static void log_moves(const VmtGuest *g, GArray *moves)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint m = 0; m < moves->len; m++) {
		const VmtTierMove *mv = &g_array_index(moves, VmtTierMove, m);

		g_string_append_printf(s, " %c%u", mv->to == VMT_TIER_FAST ? '+' : '-', mv->chunk);
	}
	g_debug("%s: moves:%s", g->name, s->str);
}

/* Demotions first: they make the room promotions need within the quota. */
static gboolean carry_out(VmtGuest *g, GArray *moves, GError **error)
{
	if (moves->len > 0 && vmt_log_debug_enabled())
		log_moves(g, moves);
	return move_to(g, moves, VMT_TIER_SLOW, error) && move_to(g, moves, VMT_TIER_FAST, error);
}

/* debug: each chunk's reading, a permille figure per chunk */
static void log_readings(const VmtGuest *g, const guint16 *freq)
{
	g_autoptr(GString) s = g_string_new(NULL);
	guint n = vmt_tier_engine_n_chunks(g->engine);

	for (guint i = 0; i < n; i++)
		g_string_append_printf(s, " %u", freq[i]);
	g_debug("%s: readings:%s", g->name, s->str);
}

/* Windows between two readings of smaps (a walk of the guest's page
 * tables): THP collapse and split change the backing slowly. */
#define HUGE_EVERY 16

/* Worker: how much of the guest's RAM is in huge pages now. */
static void read_huge(VmtGuest *g)
{
	g_autoptr(GError) error = NULL;
	guint64 rss = 0, huge = 0;
	gboolean ok = TRUE;

	for (guint i = 0; ok && i < g->ranges->len; i++) {
		const VmtRange *r = &g_array_index(g->ranges, VmtRange, i);
		guint64 a, b;

		ok = vmt_host_proc_huge_bytes(g->pid, r->start, r->len, &a, &b, &error);
		rss += ok ? a : 0;
		huge += ok ? b : 0;
	}
	if (!ok)
		g_debug("%s: huge pages unknown: %s", g->name, error->message);
	g_mutex_lock(&g->lock);
	g->huge_known = ok;
	g->rss_bytes = rss;
	g->huge_bytes = huge;
	g_mutex_unlock(&g->lock);
}

void vmt_guest_window(VmtGuest *g, const guint16 *freq, guint64 budget_bytes)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) moves = NULL;
	guint64 absent = 0, quota, room, target;
	guint max_moves = 0;
	VmtTierStats st;
	/* as QEMU last answered: a poll thread may answer again meanwhile */
	gboolean running = g_atomic_int_get(&g->running), may_move = g_atomic_int_get(&g->may_move);

	g_mutex_lock(&g->lock);
	quota = g->quota_bytes;
	g_mutex_unlock(&g->lock);
	vmt_tier_engine_set_quota(g->engine, quota);
	if (!refresh(g, &error))
		goto fail;
	/* a paused guest touches nothing: its silence says nothing about heat */
	if (freq && running)
		vmt_tier_engine_observe(g->engine, freq);
	if (freq && running && vmt_log_debug_enabled())
		log_readings(g, freq);
	/* offloaded, the kernel moves; vmtierd only demotes what is over the
	 * quota (see host-damos.h), coldest first, and keeps a margin free for
	 * the kernel's promotions: cold pages in DRAM would otherwise stay for
	 * good when the kernel's own cold scheme cannot tell them apart */
	room = vmt_guest_offload_room(quota);
	target = quota > room ? quota - room : 0;
	if (freq && may_move && (!g->memcg || vmt_tier_engine_fast_bytes(g->engine) > target)) {
		moves = g->memcg ? vmt_tier_engine_plan_excess(g->engine, budget_bytes, target)
				 : vmt_tier_engine_plan(g->engine, budget_bytes);
		if (!carry_out(g, moves, &error))
			goto fail;
	} else if (!freq && may_move && vmt_tier_engine_fast_bytes(g->engine) > quota) {
		/* no reading this window, but the quota is a promise kept
		 * whatever the sensor says (a lowered one, a guest whose
		 * accesses DAMON cannot see): the excess goes, coldest by what
		 * was read before; nothing is promoted blind */
		moves = vmt_tier_engine_plan_excess(g->engine, budget_bytes, quota);
		if (!carry_out(g, moves, &error))
			goto fail;
	}
	vmt_tier_engine_stats(g->engine, &st);
	if (g->huge_age++ % HUGE_EVERY == 0)
		read_huge(g);
	for (guint i = 0; i < vmt_tier_engine_n_chunks(g->engine); i++) {
		const VmtChunk *c = vmt_tier_engine_chunk(g->engine, i);
		guint64 s, len;

		vmt_ranges_chunk(g->ranges, i, &s, &len);
		absent += len - (guint64)c->resident_pages * 4096;
		max_moves = MAX(max_moves, c->moves);
	}
	g_mutex_lock(&g->lock);
	g->stats = st;
	g->absent_bytes = absent;
	g->max_chunk_moves = max_moves;
	if (freq) {
		g->windows++;
		g->windows_attached++;
	}
	g_mutex_unlock(&g->lock);
	return;
fail:
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "%s: window failed: %s",
			 g->name, error->message);
	vmt_guest_set_state(g, g_error_matches(error, VMT_ERROR, VMT_ERROR_GUEST_GONE) ?
				       VMT_GUEST_STOPPING : VMT_GUEST_ERROR, error->message);
}

void vmt_guest_judge_sensor(VmtGuest *g, const char *no_sample, const VmtFlushStats *st,
			    guint window_ms, guint flush_us, guint sample_us)
{
	g_autofree char *why = NULL;
	double exposure;
	guint movable = st ? st->n_vcpus - MIN(st->pinned, st->n_vcpus) : 0;
	guint64 expect = flush_us ? (guint64)window_ms * 1000 / flush_us * movable : 0;

	if (!flush_us)
		why = g_strdup("TLB flushes are off (flush_us=0): pages that stay in a TLB read idle");
	else if (!g->vcpu_tids)
		why = g_strdup_printf("no vCPU threads to flush (%s)",
				      g->no_vcpus ? g->no_vcpus : "not known yet");
	else if (!st || st->n_vcpus == 0)
		why = g_strdup("the TLB flusher has not run for this guest yet");
	else if (movable == 0)
		why = g_strdup_printf("%s pinned to a single CPU: the TLB flush (moving a vCPU "
				      "thread to another CPU) cannot be done, so the hottest pages "
				      "read idle", st->n_vcpus > 1 ? "every vCPU thread is" :
								     "the vCPU thread is");
	else if (st->flushes * 2 < expect)
		why = g_strdup_printf("%" G_GUINT64_FORMAT " TLB flushes this window, %" G_GUINT64_FORMAT
				      " expected%s%s", st->flushes, expect, st->error ? ": " : "",
				      st->error ? st->error : "");
	else if (no_sample)
		why = g_strdup(no_sample);
	g_mutex_lock(&g->lock);
	g->sensor = why ? VMT_SENSOR_BLIND : VMT_SENSOR_RANKING;
	g_free(g->sensor_note);
	g->sensor_note = g_steal_pointer(&why);
	if (!g->sensor_note && st->pinned)
		g->sensor_note = g_strdup_printf("%u of %u vCPU threads pinned to one CPU: their "
						 "accesses are undercounted", st->pinned, st->n_vcpus);
	g->sample_us = sample_us;
	g->flushes += st ? st->flushes : 0;
	/* a vCPU's flushes a window, each in one sample of window/sample_us */
	g->ceiling = movable && window_ms ?
		     (guint)MIN((guint64)VMT_ACCESS_MAX, st->flushes * sample_us / movable / window_ms) : 0;
	g_mutex_unlock(&g->lock);
	/* the same figure unclipped: how the share reads rates from readings */
	exposure = movable && window_ms && !why ?
		   (double)st->flushes * sample_us / movable / window_ms / 1000.0 : 0;
	g_debug("%s: %.3f TLB flushes per %u us sample", g->name, exposure, sample_us);
	if (g->engine)
		vmt_tier_engine_set_exposure(g->engine, exposure);
}

void vmt_guest_sensor_reset(VmtGuest *g)
{
	g_mutex_lock(&g->lock);
	g->sensor = VMT_SENSOR_UNCHECKED;
	g_clear_pointer(&g->sensor_note, g_free);
	g->sample_us = 0;
	g->ceiling = 0;
	g_mutex_unlock(&g->lock);
	if (g->engine)
		vmt_tier_engine_set_exposure(g->engine, 0);
}

/* The access figures mean something unless the sensor says it is blind. */
static gboolean sensor_sees(const VmtGuest *g)
{
	return g->sensor != VMT_SENSOR_BLIND;
}

/* Why the DRAM access share cannot be told (NULL: it can; the lock held).
 * It weighs chunks by rate, read from the share of samples that saw them
 * touched (access-rate.h):
 * - a chunk in a 2 MiB page has one accessed bit, set by the first touch of
 *   any of its 512 pages after a TLB flush: under a guest's real access
 *   rates every hot chunk reads touched in nearly every sample, whatever
 *   its rate, and the share comes out far too low (bench/README.md,
 *   "4 KiB and 2 MiB pages": 0.3 told for 0.62 true).  In 4 KiB pages a
 *   sample reads one random page's bit, a page's rate is 1/512 of its
 *   chunk's, and readings stay in proportion: so the share is only given
 *   for a guest whose RAM is nearly all (90%) in 4 KiB pages;
 * - the hottest chunk at 90% of what flushed samples allow says only "at
 *   least this hot". */
static char *share_unknown_why(const VmtGuest *g)
{
	if (!g->huge_known || !g->rss_bytes)
		return g_strdup("how much of its RAM is in huge pages is not known yet");
	if (!g->stats.access_seen)
		return g_strdup("no chunk read accessed in the last window: no accesses to weigh");
	if (g->huge_bytes * 10 > g->rss_bytes)
		return g_strdup_printf("%.0f%% of its RAM is in 2 MiB pages, whose one accessed "
				       "bit reads a hot chunk touched whatever its rate: the "
				       "access share cannot be told",
				       100.0 * g->huge_bytes / g->rss_bytes);
	if (g->ceiling && g->stats.max_freq * 10 >= g->ceiling * 9)
		return g_strdup_printf("readings saturated (the hottest chunk read %u permille "
				       "of the %u a flushed sample allows): the access share "
				       "cannot be told", g->stats.max_freq, g->ceiling);
	return NULL;
}

static gboolean share_known(const VmtGuest *g)
{
	g_autofree char *why = share_unknown_why(g);

	return sensor_sees(g) && !why;
}

void vmt_guest_offloaded(VmtGuest *g, guint64 promoted, guint64 demoted)
{
	guint64 up, down;

	g_mutex_lock(&g->lock);
	/* below the last reading: the kdamond restarted */
	up = promoted - MIN(promoted, g->damos_promoted);
	down = demoted - MIN(demoted, g->damos_demoted);
	g->promoted_bytes += up;
	g->demoted_bytes += down;
	g->kernel_promoted += up;
	g->kernel_demoted += down;
	g->damos_promoted = promoted;
	g->damos_demoted = demoted;
	g_mutex_unlock(&g->lock);
}

json_object *vmt_guest_to_json(VmtGuest *g)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	g_autofree char *share_why = NULL;
	gboolean measured;

	g_mutex_lock(&g->lock);
	measured = g->windows_attached > 0;
	/* why the share is unknown, once: the share and its note follow it */
	share_why = measured && sensor_sees(g) ? share_unknown_why(g) : NULL;
	json_object_object_add(o, "name", json_object_new_string(g->name));
	json_object_object_add(o, "tenant", json_object_new_string(g->tenant));
	json_object_object_add(o, "class", json_object_new_string(g->klass));
	json_object_object_add(o, "state", json_object_new_string(vmt_guest_state_name(g->state)));
	json_object_object_add(o, "pid", json_object_new_int(g->pid));
	json_object_object_add(o, "quota_bytes", json_object_new_uint64(g->quota_bytes));
	json_object_object_add(o, "kmem_bytes", json_object_new_uint64(g->kmem_bytes));
	json_object_object_add(o, "dram_nodes",
			       g->dram_nodes ? json_object_new_string(g->dram_nodes) : NULL);
	json_object_object_add(o, "slow_nodes",
			       g->slow_nodes ? json_object_new_string(g->slow_nodes) : NULL);
	json_object_object_add(o, "ram_bytes", json_object_new_uint64(g->ram_bytes));
	json_object_object_add(o, "dram_bytes", json_object_new_uint64(g->stats.fast_bytes));
	json_object_object_add(o, "slow_bytes", json_object_new_uint64(g->stats.slow_bytes));
	json_object_object_add(o, "absent_bytes", json_object_new_uint64(g->absent_bytes));
	json_object_object_add(o, "hot_bytes", json_object_new_uint64(g->stats.hot_bytes));
	/* unknown (null) rather than a number the sensor cannot back */
	/* unknown, not 0, until a window measured them since attach */
	json_object_object_add(o, "hot_coverage", measured && sensor_sees(g) ?
			       json_object_new_double(g->stats.hot_coverage) : NULL);
	json_object_object_add(o, "dram_access_share", measured && sensor_sees(g) && !share_why ?
			       json_object_new_double(g->stats.fast_access_share) : NULL);
	if (share_why)
		json_object_object_add(o, "share_note", json_object_new_string(share_why));
	/* what one accessed bit covers: 2 MiB in a huge page, 4 KiB else */
	json_object_object_add(o, "huge_page_share", g->huge_known && g->rss_bytes ?
			       json_object_new_double((double)g->huge_bytes / g->rss_bytes) : NULL);
	json_object_object_add(o, "sensor", json_object_new_string(vmt_sensor_name(g->sensor)));
	json_object_object_add(o, "sensor_note",
			       g->sensor_note ? json_object_new_string(g->sensor_note) : NULL);
	json_object_object_add(o, "sample_us", json_object_new_int((int)g->sample_us));
	json_object_object_add(o, "tlb_flushes", json_object_new_uint64(g->flushes));
	json_object_object_add(o, "scanner", json_object_new_string(vmt_scanner_name(g->scanner)));
	json_object_object_add(o, "mover", json_object_new_string(g->memcg ? "damos" : "vmtierd"));
	json_object_object_add(o, "memcg", g->memcg ? json_object_new_string(g->memcg) : NULL);
	json_object_object_add(o, "offload_note",
			       g->offload_note ? json_object_new_string(g->offload_note) : NULL);
	json_object_object_add(o, "scan_interval_ms", json_object_new_int((int)g->scan_interval_ms));
	json_object_object_add(o, "windows", json_object_new_uint64(g->windows));
	json_object_object_add(o, "promoted_bytes", json_object_new_uint64(g->promoted_bytes));
	json_object_object_add(o, "demoted_bytes", json_object_new_uint64(g->demoted_bytes));
	/* of those, what the kernel's DAMOS schemes moved (offload=damos) */
	json_object_object_add(o, "kernel_promoted_bytes", json_object_new_uint64(g->kernel_promoted));
	json_object_object_add(o, "kernel_demoted_bytes", json_object_new_uint64(g->kernel_demoted));
	json_object_object_add(o, "migrations", json_object_new_uint64(g->migrations));
	/* the most any one chunk moved: the ping-pong record */
	/* vmtierd's memory for this guest: engine, one window's sample, itself */
	json_object_object_add(o, "state_bytes", json_object_new_uint64(g->state_bytes));
	json_object_object_add(o, "max_chunk_moves", json_object_new_int((int)g->max_chunk_moves));
	json_object_object_add(e, "busy", json_object_new_uint64(g->errors.busy));
	json_object_object_add(e, "access", json_object_new_uint64(g->errors.access));
	json_object_object_add(e, "nomem", json_object_new_uint64(g->errors.nomem));
	json_object_object_add(e, "other", json_object_new_uint64(g->errors.other));
	json_object_object_add(o, "move_errors", e);
	json_object_object_add(o, "last_error",
			       g->last_error ? json_object_new_string(g->last_error) : NULL);
	g_mutex_unlock(&g->lock);
	return o;
}

void vmt_guest_account(VmtGuest *g, gint64 now, VmtScanner scanner, VmtHistorySample *s,
		       VmtHistoryTotals *t)
{
	g_mutex_lock(&g->lock);
	/* An interval ends a second after it began at least: the store keeps
	 * one row per VM and second, so a second account in the same second
	 * (the one at stop, right after the timer's) would replace the first
	 * and lose its interval from the history while the totals count it. */
	now = MAX(now, g->acc_ts + 1);
	*s = (VmtHistorySample){
		.ts = now,
		.interval_s = (guint)(now - g->acc_ts),
		.vm = g->name, .tenant = *g->tenant ? g->tenant : "default",
		.klass = *g->klass ? g->klass : NULL, .scanner = vmt_scanner_name(scanner),
		.quota_bytes = g->quota_bytes, .ram_bytes = g->ram_bytes,
		.dram_bytes = g->stats.fast_bytes, .slow_bytes = g->stats.slow_bytes,
		.hot_bytes = g->stats.hot_bytes,
		.dram_access_share = share_known(g) ? CLAMP(g->stats.fast_access_share, 0.0, 1.0) : -1,
		.hot_coverage = sensor_sees(g) ? CLAMP(g->stats.hot_coverage, 0.0, 1.0) : -1,
		.promoted_bytes = g->promoted_bytes - g->acc_promoted,
		.demoted_bytes = g->demoted_bytes - g->acc_demoted,
		.migrations = (guint)(g->migrations - g->acc_migrations),
	};
	g->acc_promoted = g->promoted_bytes;
	g->acc_demoted = g->demoted_bytes;
	g->acc_migrations = g->migrations;
	g->acc_ts = now;
	/* an interval that began in the warm-up after the start is not judged */
	s->slo_grace = g->klass_def && g->klass_def->has_slo &&
		       now - (gint64)s->interval_s < g->started_ts + (gint64)g->klass_def->slo_grace_s;
	s->slo_met = g->klass_def && g->klass_def->has_slo && s->hot_coverage >= 0 && !s->slo_grace ?
		     vmt_slo_judge(s->hot_bytes, s->hot_coverage, g->klass_def->slo_target) : -1;
	vmt_history_totals_add(&g->sums, s);
	*t = g->sums;
	t->promoted_bytes = g->promoted_bytes;
	t->demoted_bytes = g->demoted_bytes;
	t->migrations = g->migrations;
	t->windows = g->windows;
	t->move_errors = g->errors.busy + g->errors.access + g->errors.nomem + g->errors.other;
	g_mutex_unlock(&g->lock);
}

guint64 vmt_guest_offload_room(guint64 quota)
{
	return MAX(2 * VMT_CHUNK_SIZE, quota / 16);
}

gboolean vmt_guest_alive(const VmtGuest *g)
{
	return vmt_host_proc_same(g->pid, g->start_time);
}

gboolean vmt_guest_measured(VmtGuest *g)
{
	gboolean yes;

	g_mutex_lock(&g->lock);
	yes = g->engine && g->windows_attached > 0;
	g_mutex_unlock(&g->lock);
	return yes;
}

void vmt_guest_detach(VmtGuest *g)
{
	g_clear_pointer(&g->engine, vmt_tier_engine_free);
	g_clear_pointer(&g->ranges, g_array_unref);
	g_clear_pointer(&g->freq, g_free);
	g_clear_pointer(&g->qmp_path, g_free);
	g_clear_pointer(&g->memcg, g_free);
	g_clear_pointer(&g->offload_note, g_free);
	g->offload_capped = FALSE;
	g_clear_pointer(&g->vcpu_tids, g_array_unref);
	g_clear_pointer(&g->no_vcpus, g_free);
	g->damos_promoted = g->damos_demoted = 0;
	g->placed = g->armed = FALSE;
	g->refresh_cursor = 0;
	g_mutex_lock(&g->lock);
	g->pid = -1;
	g->start_time = 0;
	g->windows_attached = 0;
	g_mutex_unlock(&g->lock);
}
