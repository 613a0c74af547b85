// SPDX-License-Identifier: GPL-2.0-or-later
/* `vmtier host check`: the known traps of tiered hosts, from a VmtHost.
 * Pure logic: the host was loaded before (see host.c). */
#include "host-check.h"
#include "host-persist.h"
#include "nodeset.h"
#include "size.h"

#include <string.h>

/* The kernel keeps metadata for movable memory in the other zones; beyond
 * about this many movable bytes per normal byte it runs short. */
#define MOVABLE_PER_NORMAL 3.0

void vmt_finding_free(VmtFinding *f)
{
	if (!f)
		return;
	g_free(f->id);
	g_free(f->subject);
	g_free(f->what);
	g_free(f->why);
	g_free(f->fix);
	g_free(f);
}

const char *vmt_severity_name(VmtSeverity s)
{
	return s == VMT_SEVERITY_ERROR ? "error" : s == VMT_SEVERITY_WARNING ? "warning" : "info";
}

static void add(GPtrArray *out, const char *id, VmtSeverity sev, const char *subject,
		char *what, char *why, char *fix)
{
	VmtFinding *f = g_new0(VmtFinding, 1);

	f->id = g_strdup(id);
	f->severity = sev;
	f->subject = g_strdup(subject);
	f->what = what;
	f->why = why;
	f->fix = fix;
	g_ptr_array_add(out, f);
}

static const VmtDaxDev *node_owner(const VmtHost *host, int node)
{
	for (guint i = 0; i < host->dax->len; i++) {
		const VmtDaxDev *d = g_ptr_array_index(host->dax, i);
		if (d->target_node == node && strcmp(d->mode, "system-ram") == 0)
			return d;
	}
	return NULL;
}

static void zone_totals(const VmtHost *host, guint64 *movable, guint64 *other)
{
	*movable = *other = 0;
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		*movable += n->zone_bytes[VMT_ZONE_MOVABLE];
		*other += vmt_node_online_bytes(n) - n->zone_bytes[VMT_ZONE_MOVABLE];
	}
}

static double ratio(guint64 movable, guint64 other)
{
	return other ? (double)movable / (double)other : movable ? G_MAXDOUBLE : 0;
}

static void check_movable(const VmtHost *host, GPtrArray *out)
{
	guint64 movable, other;

	zone_totals(host, &movable, &other);
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		guint64 online = vmt_node_online_bytes(n), mv = n->zone_bytes[VMT_ZONE_MOVABLE];
		const VmtDaxDev *owner;
		g_autofree char *subject = NULL, *size = NULL;
		char *fix;

		if (!vmt_node_is_slow(n) || online == 0 || mv * 2 < online)
			continue;
		owner = node_owner(host, n->id);
		subject = g_strdup_printf("node%d", n->id);
		size = vmt_size_format(online);
		if (owner)
			fix = g_strdup_printf("vmtier host online %s --zone normal (offlines and re-onlines "
					      "its %u blocks into ZONE_NORMAL; stop guests using node %d "
					      "first); host-wide movable:normal becomes %.1f:1",
					      owner->name, owner->online_blocks, n->id,
					      ratio(movable - mv, other + mv));
		else
			fix = g_strdup_printf("online node %d's memory blocks with online_kernel "
					      "instead of online_movable (or drop movable_node/kernelcore= "
					      "from the kernel command line)", n->id);
		add(out, "slow-node-movable", VMT_SEVERITY_ERROR, subject,
		    g_strdup_printf("node %d (%s, %s online) is %.0f%% ZONE_MOVABLE",
				    n->id, vmt_node_kind_name(n->kind), size,
				    100.0 * (double)mv / (double)online),
		    g_strdup_printf("kernel allocations (page tables, KVM's EPT/NPT tables, slab) "
				    "cannot use ZONE_MOVABLE and follow the VM's memory policy, so a VM "
				    "that prefers DRAM and spills onto node %d runs out of ZONE_NORMAL "
				    "and is OOM-killed while node %d still has free memory; host-wide "
				    "movable:normal is %.1f:1 (keep it under about %.0f:1)",
				    n->id, n->id, ratio(movable, other), MOVABLE_PER_NORMAL),
		    fix);
	}
	if (ratio(movable, other) > MOVABLE_PER_NORMAL) {
		g_autofree char *m = vmt_size_format(movable), *o = vmt_size_format(other);
		add(out, "movable-ratio", VMT_SEVERITY_WARNING, "host",
		    g_strdup_printf("host-wide movable:normal is %.1f:1 (%s ZONE_MOVABLE, %s other zones)",
				    ratio(movable, other), m, o),
		    g_strdup_printf("struct pages, page tables and other kernel memory for movable "
				    "memory must come from the other zones; beyond about %.0f:1 the "
				    "kernel runs short of them under load", MOVABLE_PER_NORMAL),
		    g_strdup("online slow memory into ZONE_NORMAL: vmtier host online DEVICE --zone normal"));
	}
}

static void check_dax(const VmtHost *host, GPtrArray *out)
{
	g_autoptr(GString) devdax = g_string_new(NULL);

	for (guint i = 0; i < host->dax->len; i++) {
		const VmtDaxDev *d = g_ptr_array_index(host->dax, i);

		if (strcmp(d->mode, "devdax") == 0)
			g_string_append_printf(devdax, "%s%s", devdax->len ? ", " : "", d->name);
		if (strcmp(d->mode, "system-ram") != 0 || d->online_blocks >= d->n_blocks)
			continue;
		add(out, "offline-blocks", VMT_SEVERITY_ERROR, d->name,
		    g_strdup_printf("%s is in system-ram mode but only %u of its %u memory blocks "
				    "are online (node %d)", d->name, d->online_blocks, d->n_blocks,
				    d->target_node),
		    g_strdup_printf("kmem hot-added the device but nothing onlined its blocks (an old "
				    "daxctl, or auto-onlining off), so node %d has no usable memory: "
				    "the 0-size node", d->target_node),
		    g_strdup_printf("vmtier host online %s", d->name));
	}
	if (devdax->len && !host->kmem_driver)
		add(out, "kmem-missing", VMT_SEVERITY_ERROR, "host",
		    g_strdup_printf("devdax devices exist (%s) but the kmem driver is not loaded",
				    devdax->str),
		    g_strdup("without kmem a DAX device cannot become a NUMA node (system-ram "
			     "mode), so there is no slow tier to place guest memory on"),
		    g_strdup("modprobe kmem, then vmtier host online all"));
	if (host->dax_pmem_compat)
		add(out, "dax-pmem-compat", VMT_SEVERITY_ERROR, "host",
		    g_strdup("dax_pmem_compat is loaded (DAX devices use the old /sys/class/dax model)"),
		    g_strdup("the compat model cannot rebind devices to kmem, so "
			     "reconfiguring to system-ram fails"),
		    g_strdup("daxctl migrate-device-model, then reboot"));
	if (host->dax->len && host->auto_online_blocks &&
	    strcmp(host->auto_online_blocks, "offline") != 0)
		add(out, "auto-online", VMT_SEVERITY_WARNING, "host",
		    g_strdup_printf("memory auto-onlining is '%s' while DAX devices exist",
				    host->auto_online_blocks),
		    g_strdup("the kernel onlines hot-added blocks itself, into a zone of its "
			     "choosing, racing daxctl and vmtier host online"),
		    g_strdup("echo offline > /sys/devices/system/memory/auto_online_blocks "
			     "(at boot: memhp_default_state=offline)"));
}

/* A slow node that is right now but will not be after a reboot: daxctl's
 * boot-time configuration must name its dax UUID (host-persist.h).  Devices
 * daxctl cannot name (no dax UUID) are not judged. */
static void check_persistent(const VmtHost *host, GPtrArray *out)
{
	for (guint i = 0; i < host->dax->len; i++) {
		const VmtDaxDev *d = g_ptr_array_index(host->dax, i);
		g_auto(VmtDaxBoot) boot = { 0 };
		gboolean movable = d->movable_blocks > 0 && d->movable_blocks == d->online_blocks;
		const char *zone = movable ? "movable" : "normal";
		char *what;

		if (strcmp(d->mode, "system-ram") != 0 || !d->online_blocks || !d->blocks_known)
			continue;
		vmt_host_persist_lookup(d->name, &boot);
		if (!boot.uuid)
			continue;
		if (!boot.config)
			what = g_strdup_printf("%s (node %d) is online in ZONE_%s now, but no daxctl "
					       "configuration names its uuid %s: after a reboot it "
					       "comes back in devdax mode, and node %d with no memory",
					       d->name, d->target_node, movable ? "MOVABLE" : "NORMAL",
					       boot.uuid, d->target_node);
		else if (!boot.system_ram || !boot.online || boot.movable != movable)
			what = g_strdup_printf("%s (node %d) is online in ZONE_%s now, but %s brings it "
					       "back %s after a reboot", d->name, d->target_node,
					       movable ? "MOVABLE" : "NORMAL", boot.config,
					       !boot.system_ram ? "in devdax mode" :
					       !boot.online ? "offline" :
					       boot.movable ? "in ZONE_MOVABLE" : "in ZONE_NORMAL");
		else
			continue;
		add(out, "not-persistent", VMT_SEVERITY_WARNING, d->name, what,
		    g_strdup("nothing in the kernel remembers how a DAX device was onlined: daxctl "
			     "redoes it at boot from /etc/daxctl.conf.d"),
		    g_strdup_printf("vmtier host online %s --zone %s --persist", d->name, zone));
	}
}

static void check_kernel_tiering(const VmtHost *host, GPtrArray *out)
{
	int nb = host->numa_balancing;

	if (nb > 0 && (nb & 2))
		add(out, "numa-balancing", VMT_SEVERITY_ERROR, "host",
		    g_strdup_printf("kernel.numa_balancing is %d (memory tiering mode)", nb),
		    g_strdup("the kernel promotes other processes' hot pages into DRAM, taking "
			     "DRAM the VMs' quotas count on (it never promotes a vmtier guest's: "
			     "NUMA balancing skips memory bound with mbind, as theirs is)"),
		    g_strdup("sysctl -w kernel.numa_balancing=0"));
	else if (nb > 0)
		add(out, "numa-balancing", VMT_SEVERITY_WARNING, "host",
		    g_strdup_printf("kernel.numa_balancing is %d (automatic NUMA balancing)", nb),
		    g_strdup("NUMA balancing migrates guest pages toward the CPUs that touch "
			     "them, undoing vmtierd's placement"),
		    g_strdup("sysctl -w kernel.numa_balancing=0"));
	if (host->demotion_enabled == 1)
		add(out, "demotion", VMT_SEVERITY_WARNING, "host",
		    g_strdup("kernel demotion is enabled (/sys/kernel/mm/numa/demotion_enabled)"),
		    g_strdup("reclaim demotes DRAM pages to the slow tier whatever the VM's quota"),
		    g_strdup("echo false > /sys/kernel/mm/numa/demotion_enabled"));
}

static void check_access(const VmtHost *host, GPtrArray *out)
{
	VmtScanner best = vmt_host_scanner(host);
	const char *scanner = vmt_scanner_name(best);

	if (host->kdamonds_running) {
		g_autoptr(GString) list = g_string_new(NULL);

		for (guint i = 0; i < host->busy_kdamonds->len; i++)
			g_string_append_printf(list, "%s%s", i ? ", " : "",
					       (char *)g_ptr_array_index(host->busy_kdamonds, i));
		add(out, "damon-busy", VMT_SEVERITY_WARNING, "host",
		    g_strdup_printf("DAMON sysfs is busy: kdamond %s running, not vmtier's", list->str),
		    g_strdup("vmtier never reconfigures a kdamond it did not create, and DAMON's "
			     "sysfs cannot add a kdamond while another runs"),
		    best == VMT_SCANNER_NONE ?
		    g_strdup("stop the other DAMON user: vmtierd has no other interface to fall back to here") :
		    g_strdup_printf("none needed: vmtierd falls back to %s; stop the other DAMON "
				    "user to let it use DAMON vaddr", scanner));
	}
	if (best == VMT_SCANNER_NONE)
		add(out, "no-access-interface", VMT_SEVERITY_ERROR, "host",
		    g_strdup("no usable page-access interface (DAMON vaddr, page_idle, soft-dirty)"),
		    g_strdup("vmtierd cannot tell hot guest pages from cold ones"),
		    g_strdup("run a kernel with CONFIG_DAMON_VADDR and CONFIG_DAMON_SYSFS "
			     "(Debian's 6.12 has them), or CONFIG_IDLE_PAGE_TRACKING"));
	if (host->damos_migrate)
		add(out, "damos-offload", VMT_SEVERITY_INFO, "host",
		    g_strdup("the kernel can move pages itself: DAMOS migrate_hot/migrate_cold on "
			     "physical memory"),
		    g_strdup("vmtierd can offload the moves to it and steer its quotas to each "
			     "guest's DRAM quota; each guest needs a memory cgroup of its own"),
		    g_strdup("optional: offload=damos in vmtierd.conf, with libvirt's memory cgroup "
			     "controller on (cgroup_controllers in qemu.conf)"));
	add(out, "access-interfaces", VMT_SEVERITY_INFO, "host",
	    g_strdup_printf("page-access interfaces: DAMON vaddr %s, DAMON paddr %s, DAMOS "
			    "migrate_hot/cold %s, page_idle %s, soft-dirty %s, idle_pages %s",
			    host->damon_vaddr ? "yes" : "no", host->damon_paddr ? "yes" : "no",
			    host->damos_migrate ? "yes" : "no", host->page_idle ? "yes" : "no",
			    host->soft_dirty ? "yes" : "no", host->idle_pages ? "yes" : "no"),
	    g_strdup("vmtierd samples each guest's accessed bits through one of these and "
		     "promotes with move_pages itself: the kernel's hint faults cannot, because "
		     "NUMA balancing skips a guest's bound memory"),
	    best == VMT_SCANNER_NONE ? g_strdup("see no-access-interface")
					 : g_strdup_printf("none needed: vmtierd will use %s", scanner));
}

static void check_tiers(const VmtHost *host, GPtrArray *out)
{
	g_autoptr(GArray) empty = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *empty_s = NULL;
	gboolean devdax = FALSE;
	guint dram = 0;

	if (vmt_host_has_slow_tier(host))
		return;
	for (guint i = 0; i < host->dax->len; i++)
		devdax |= strcmp(((VmtDaxDev *)g_ptr_array_index(host->dax, i))->mode, "devdax") == 0;
	for (guint i = 0; i < host->nodes->len; i++) {
		const VmtNode *n = g_ptr_array_index(host->nodes, i);
		if (!vmt_node_is_slow(n))
			dram++;
		else
			g_array_append_val(empty, n->id);
	}
	empty_s = vmt_nodeset_format(empty);
	add(out, "no-slow-tier", VMT_SEVERITY_ERROR, "host",
	    *empty_s ? g_strdup_printf("no slow memory online: %u DRAM node(s), and slow node(s) "
				       "%s have no memory online", dram, empty_s)
		     : g_strdup_printf("no slow-memory NUMA node: all %u node(s) are DRAM", dram),
	    g_strdup("tiering keeps cold guest memory on a slow node (KMEM DAX PMEM, CXL); "
		     "without one there is nothing to tier on this host"),
	    g_strdup(*empty_s ? "online their memory: vmtier host online all"
		     : devdax ? "vmtier host online all (turns the devdax devices into NUMA nodes)"
		     : "install PMEM or CXL memory and online it as a NUMA node "
		       "(ndctl create-namespace --mode=devdax, then vmtier host online)"));
}

static gint by_severity(gconstpointer a, gconstpointer b)
{
	const VmtFinding *x = *(VmtFinding *const *)a, *y = *(VmtFinding *const *)b;

	return (int)y->severity - (int)x->severity;
}

GPtrArray *vmt_host_check_run(const VmtHost *host)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_finding_free);

	check_tiers(host, out);
	check_movable(host, out);
	check_dax(host, out);
	check_persistent(host, out);
	check_kernel_tiering(host, out);
	check_access(host, out);
	/* GLib's sort is stable: errors, then warnings, then info, each in check order */
	g_ptr_array_sort(out, by_severity);
	return out;
}

VmtSeverity vmt_host_check_worst(const GPtrArray *findings)
{
	VmtSeverity worst = VMT_SEVERITY_INFO;

	for (guint i = 0; i < findings->len; i++) {
		const VmtFinding *f = g_ptr_array_index((GPtrArray *)findings, i);
		if (f->severity > worst)
			worst = f->severity;
	}
	return worst;
}
