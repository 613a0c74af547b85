// SPDX-License-Identifier: GPL-2.0-or-later
#include "qmp-memmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void vmt_guest_ram_free(VmtGuestRam *r)
{
	if (!r)
		return;
	g_free(r->memdev);
	g_free(r->policy);
	g_array_unref(r->host_nodes);
	g_array_unref(r->ranges);
	g_free(r);
}

static VmtGuestRam *find(GPtrArray *rams, const char *memdev)
{
	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = g_ptr_array_index(rams, i);
		if (strcmp(r->memdev, memdev) == 0)
			return r;
	}
	return NULL;
}

/* "SOURCE: WHAT" as a protocol error: QEMU answered something we cannot use. */
static gboolean bad(GError **error, const char *source, const char *what)
{
	g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL, "%s: %s", source, what);
	return FALSE;
}

GPtrArray *vmt_qmp_memmap_from_memdevs(json_object *md, GError **error)
{
	g_autoptr(GPtrArray) rams = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_ram_free);

	if (!json_object_is_type(md, json_type_array)) {
		bad(error, "query-memdev", "not an array");
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(md); i++) {
		json_object *o = json_object_array_get_idx(md, i), *id, *size, *pol, *hn;
		VmtGuestRam *r;

		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_string) ||
		    !json_object_object_get_ex(o, "size", &size) || !json_object_is_type(size, json_type_int) ||
		    !json_object_object_get_ex(o, "policy", &pol) || !json_object_is_type(pol, json_type_string)) {
			bad(error, "query-memdev", "entry without id, size or policy");
			return NULL;
		}
		r = g_new0(VmtGuestRam, 1);
		r->memdev = g_strdup(json_object_get_string(id));
		r->size = json_object_get_uint64(size);
		r->policy = g_strdup(json_object_get_string(pol));
		r->guest_node = -1;
		r->host_nodes = g_array_new(FALSE, FALSE, sizeof(int));
		r->ranges = g_array_new(FALSE, FALSE, sizeof(VmtGuestRange));
		if (json_object_object_get_ex(o, "host-nodes", &hn) && json_object_is_type(hn, json_type_array))
			for (size_t j = 0; j < json_object_array_length(hn); j++) {
				int n = json_object_get_int(json_object_array_get_idx(hn, j));
				g_array_append_val(r->host_nodes, n);
			}
		g_ptr_array_add(rams, r);
	}
	return g_steal_pointer(&rams);
}

gboolean vmt_qmp_memmap_add_mtree(GPtrArray *rams, const char *text, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gboolean in_memory = FALSE, seen_memory = FALSE;

	for (char **l = lines; *l; l++) {
		char type[32], name[256];
		guint64 start, end, offset = 0;
		int prio, n;

		g_strchomp(*l);
		if (g_str_has_prefix(*l, "FlatView #")) {
			in_memory = FALSE;	/* a new view; its AS lines follow */
			continue;
		}
		if (g_str_has_prefix(*l, " AS \"memory\"")) {
			in_memory = seen_memory = TRUE;
			continue;
		}
		if (!in_memory)
			continue;
		/* "  0000000004000000-0000000009ffffff (prio 0, ram): m1 @0000000000000000" */
		n = sscanf(*l, " %" SCNx64 "-%" SCNx64 " (prio %d, %31[^)]): %255s @%" SCNx64,
			   &start, &end, &prio, type, name, &offset);
		if (n < 5 || end < start || end - start == G_MAXUINT64)
			continue;
		if (strcmp(type, "ram") != 0 && strcmp(type, "rom") != 0)
			continue;
		VmtGuestRam *r = find(rams, name);
		if (!r)
			continue;
		VmtGuestRange add = { start, end - start + 1, n == 6 ? offset : 0 };
		if (add.size > r->size || add.offset > r->size - add.size) {	/* no wrap */
			g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL,
				    "info mtree: %s range 0x%" PRIx64 "+0x%" PRIx64 " exceeds its size",
				    name, add.gpa, add.size);
			return FALSE;
		}
		if (r->ranges->len) {
			VmtGuestRange *last = &g_array_index(r->ranges, VmtGuestRange, r->ranges->len - 1);
			if (last->gpa + last->size == add.gpa && last->offset + last->size == add.offset) {
				last->size += add.size;	/* BIOS shadow pieces etc. */
				continue;
			}
		}
		g_array_append_val(r->ranges, add);
	}
	if (!seen_memory)
		return bad(error, "info mtree -f", "no FlatView for address space \"memory\"");
	return TRUE;
}

static gint by_first_gpa(gconstpointer a, gconstpointer b)
{
	const VmtGuestRam *x = *(VmtGuestRam *const *)a, *y = *(VmtGuestRam *const *)b;
	guint64 gx = x->ranges->len ? g_array_index(x->ranges, VmtGuestRange, 0).gpa : G_MAXUINT64;
	guint64 gy = y->ranges->len ? g_array_index(y->ranges, VmtGuestRange, 0).gpa : G_MAXUINT64;

	return gx < gy ? -1 : gx > gy;
}

/* QEMU lays the nodes' memdevs out in node order, so the k-th node with
 * memory owns the k-th backend by guest-physical address; sizes must agree. */
gboolean vmt_qmp_memmap_add_numa(GPtrArray *rams, const char *text, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GArray) sizes = g_array_new(FALSE, TRUE, sizeof(guint64));
	g_autoptr(GPtrArray) mapped = g_ptr_array_new();
	guint nodes = 0, k = 0;

	if (sscanf(text, "%u nodes", &nodes) != 1)
		return bad(error, "info numa", "no node count");
	if (nodes > 1024)	/* QEMU's MAX_NODES is 128 */
		return bad(error, "info numa", "implausible node count");
	g_array_set_size(sizes, nodes);
	for (char **l = lines; *l; l++) {
		guint id;
		guint64 mb;
		if (sscanf(*l, "node %u size: %" SCNu64 " MB", &id, &mb) == 2 && id < nodes)
			g_array_index(sizes, guint64, id) = mb << 20;
		else if (sscanf(*l, "node %u plugged: %" SCNu64 " MB", &id, &mb) == 2 && id < nodes)
			g_array_index(sizes, guint64, id) -= mb << 20;	/* DIMMs are not boot RAM */
	}
	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = g_ptr_array_index(rams, i);
		if (r->ranges->len)
			g_ptr_array_add(mapped, r);
	}
	g_ptr_array_sort(mapped, by_first_gpa);
	if (nodes == 0) {	/* no -numa: one implicit node */
		if (mapped->len == 1)
			((VmtGuestRam *)g_ptr_array_index(mapped, 0))->guest_node = 0;
		return TRUE;
	}
	for (guint n = 0; n < nodes; n++) {
		guint64 want = g_array_index(sizes, guint64, n);
		VmtGuestRam *r;

		if (!want)
			continue;
		if (k >= mapped->len) {
			g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL,
				    "guest node %u has %" G_GUINT64_FORMAT " MiB but no memory backend is left for it",
				    n, want >> 20);
			return FALSE;
		}
		r = g_ptr_array_index(mapped, k++);
		if (r->size != want) {
			g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL,
				    "guest node %u has %" G_GUINT64_FORMAT " MiB but backend %s, next in "
				    "guest-physical order, has %" G_GUINT64_FORMAT " MiB: cannot tell "
				    "which backend is node %u's RAM", n, want >> 20, r->memdev,
				    r->size >> 20, n);
			return FALSE;
		}
		r->guest_node = (int)n;
	}
	return TRUE;
}

gboolean vmt_qmp_memmap_parse_gpa2hva(const char *text, guint64 *hva, GError **error)
{
	const char *is = strstr(text, ") is 0x");

	if (!g_str_has_prefix(text, "Host virtual address for ") || !is ||
	    sscanf(is, ") is 0x%" SCNx64, hva) != 1) {
		g_autofree char *line = g_strndup(text, strcspn(text, "\r\n"));
		return bad(error, "gpa2hva", line);
	}
	return TRUE;
}

GPtrArray *vmt_qmp_memmap_query(VmtQmpClient *c, guint timeout_ms, GError **error)
{
	g_autoptr(GPtrArray) rams = NULL;
	g_autofree char *mtree = NULL, *numa = NULL;
	json_object *md = vmt_qmp_client_execute_sync(c, "query-memdev", NULL, timeout_ms, error);

	if (!md)
		return NULL;
	rams = vmt_qmp_memmap_from_memdevs(md, error);
	json_object_put(md);
	if (!rams)
		return NULL;
	mtree = vmt_qmp_client_hmp_sync(c, "info mtree -f", timeout_ms, error);
	if (!mtree || !vmt_qmp_memmap_add_mtree(rams, mtree, error))
		return NULL;
	numa = vmt_qmp_client_hmp_sync(c, "info numa", timeout_ms, error);
	if (!numa || !vmt_qmp_memmap_add_numa(rams, numa, error))
		return NULL;
	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = g_ptr_array_index(rams, i);
		VmtGuestRange *first;
		g_autofree char *cmd = NULL, *out = NULL;
		guint64 hva;

		if (!r->ranges->len)
			continue;
		first = &g_array_index(r->ranges, VmtGuestRange, 0);
		cmd = g_strdup_printf("gpa2hva 0x%" PRIx64, first->gpa);
		out = vmt_qmp_client_hmp_sync(c, cmd, timeout_ms, error);
		if (!out || !vmt_qmp_memmap_parse_gpa2hva(out, &hva, error))
			return NULL;
		r->hva = hva - first->offset;
	}
	g_ptr_array_sort(rams, by_first_gpa);
	return g_steal_pointer(&rams);
}

json_object *vmt_qmp_memmap_to_json(GPtrArray *rams)
{
	json_object *a = json_object_new_array();

	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = g_ptr_array_index(rams, i);
		json_object *o = json_object_new_object(), *hn = json_object_new_array();
		json_object *rg = json_object_new_array();
		g_autofree char *hva = g_strdup_printf("0x%" PRIx64, r->hva);

		json_object_object_add(o, "memdev", json_object_new_string(r->memdev));
		json_object_object_add(o, "guest_node", r->guest_node >= 0 ? json_object_new_int(r->guest_node) : NULL);
		json_object_object_add(o, "size_bytes", json_object_new_uint64(r->size));
		json_object_object_add(o, "policy", json_object_new_string(r->policy));
		for (guint j = 0; j < r->host_nodes->len; j++)
			json_object_array_add(hn, json_object_new_int(g_array_index(r->host_nodes, int, j)));
		json_object_object_add(o, "host_nodes", hn);
		json_object_object_add(o, "hva", r->hva ? json_object_new_string(hva) : NULL);
		for (guint j = 0; j < r->ranges->len; j++) {
			VmtGuestRange *x = &g_array_index(r->ranges, VmtGuestRange, j);
			json_object *e = json_object_new_object();
			json_object_object_add(e, "gpa", json_object_new_uint64(x->gpa));
			json_object_object_add(e, "size_bytes", json_object_new_uint64(x->size));
			json_object_object_add(e, "offset", json_object_new_uint64(x->offset));
			json_object_array_add(rg, e);
		}
		json_object_object_add(o, "ranges", rg);
		json_object_array_add(a, o);
	}
	return a;
}
