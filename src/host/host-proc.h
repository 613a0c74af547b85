/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* A process's memory as the host sees it (procfs under the sysfs root, and
 * move_pages(2)): used to cross-check QEMU's guest RAM map. */

/* [START, START+LEN) is covered by PID's VMAs (/proc/PID/maps) without a
 * gap: QEMU's RAM is where it says it is. */
gboolean vmt_host_proc_check_mapped(int pid, guint64 start, guint64 len, GError **error);
/* [START, START+LEN) must be covered by PID's VMAs without a gap, and every
 * such VMA's NUMA policy (numa_maps) must be POLICY on NODES as QEMU names
 * them ("default", "bind", "preferred", "interleave").  *SEEN gets the
 * numa_maps policy text (e.g. "bind:2"). */
gboolean vmt_host_proc_check_range(int pid, guint64 start, guint64 len, const char *policy,
				   const GArray *nodes, char **seen, GError **error);

/* Pages of [START, START+LEN) of PID per NUMA node (PAGES[n], guint64,
 * grown as needed) and not present (*ABSENT), via move_pages(2), nodes=NULL. */
gboolean vmt_host_proc_resident(int pid, guint64 start, guint64 len, GArray *pages,
				guint64 *absent, GError **error);

/* Of PID's mappings that start inside [START, START+LEN) (QEMU maps each
 * RAM backend as VMAs of its own), the resident bytes (*RSS) and those
 * mapped by PMD huge pages (*HUGE: AnonHugePages, ShmemPmdMapped,
 * FilePmdMapped), from /proc/PID/smaps.  Its cost is a walk of those
 * mappings' page tables. */
gboolean vmt_host_proc_huge_bytes(int pid, guint64 start, guint64 len, guint64 *rss,
				  guint64 *huge, GError **error);

/* PID exists and is not a zombie (an exited QEMU that libvirt has not
 * reaped yet has no memory left to scan or move). */
gboolean vmt_host_proc_alive(int pid);
/* PID's start time (clock ticks after boot, /proc/PID/stat field 22); 0
 * if it cannot be read. */
guint64 vmt_host_proc_start_time(int pid);
/* That start time as Unix seconds (/proc/stat's btime); 0 if unknown. */
gint64 vmt_host_proc_started_at(guint64 start_time);
/* PID is alive and still the process that started at START_TIME (0: any):
 * a pid the kernel gave to another process since is not it. */
gboolean vmt_host_proc_same(int pid, guint64 start_time);

/* PID's cgroup v2 path as in /proc/PID/cgroup ("0::PATH"). */
char *vmt_host_proc_cgroup(int pid, GError **error);
/* The cgroup v2 path (as in /proc/PID/cgroup, e.g. "/machine.slice/x.scope")
 * whose memory controller PID's memory is charged to: its own cgroup, or in
 * a threaded subtree the subtree's domain.  Fails with
 * G_IO_ERROR_NOT_SUPPORTED when that is the root cgroup, has no memory
 * controller of its own, or PID is not in a cgroup v2 hierarchy: then its
 * pages cannot be told apart from others' by memory cgroup. */
char *vmt_host_proc_memcg(int pid, GError **error);

/* No process but PID in MEMCG (a path as vmt_host_proc_memcg gives) and
 * the cgroups below it: a memcg filter on it takes PID's pages only. */
gboolean vmt_host_proc_memcg_alone(const char *memcg, int pid, GError **error);
