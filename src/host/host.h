/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "scanner.h"

/* What a host's memory looks like: NUMA nodes with their tier, kind, zones
 * and distances; DAX devices; the kernel knobs and page-access interfaces
 * that matter to tiering.  Loaded from sysfs/procfs (see sysfs.h). */

typedef enum {
	VMT_ZONE_DMA,
	VMT_ZONE_DMA32,
	VMT_ZONE_NORMAL,
	VMT_ZONE_MOVABLE,
	VMT_ZONE_MIXED,		/* an online block spanning zones ("none") */
	VMT_ZONE_COUNT
} VmtZone;

typedef enum {
	VMT_NODE_DRAM,
	VMT_NODE_PMEM,		/* KMEM DAX on an NVDIMM region */
	VMT_NODE_CXL,		/* KMEM DAX on a CXL region */
	VMT_NODE_SLOW,		/* other CPU-less node in a lower memory tier */
} VmtNodeKind;

typedef struct {
	int id;
	GArray *cpus;			/* int */
	guint64 total_bytes, free_bytes;
	int memory_tier;		/* memory_tierN's N, -1 if in none */
	VmtNodeKind kind;
	GArray *distance_nodes;		/* int: online node ids ... */
	GArray *distances;		/* int: ... and the SLIT distance to each */
	guint64 zone_bytes[VMT_ZONE_COUNT];	/* online memory per zone */
	guint online_blocks, offline_blocks;
	GArray *closest_dram;		/* int: nearest DRAM node(s), slow nodes */
	guint read_latency_ns;		/* HMAT, from the best initiator; 0: unknown */
	guint read_bandwidth_mbs;
} VmtNode;

typedef struct {
	char *name;			/* "dax0.0" */
	char *region;			/* "region0", or "" */
	char *bus;			/* "nvdimm", "cxl", "hmem", "other" */
	char *mode;			/* "system-ram", "devdax", "unbound" */
	guint64 size, resource, align;
	int target_node;
	guint first_block, n_blocks;	/* memory blocks its range covers */
	guint online_blocks, total_blocks;	/* of those, present/online */
	guint movable_blocks;		/* online in ZONE_MOVABLE */
	gboolean blocks_known;		/* FALSE: resource unreadable (not root)
					 * and the node has other devices */
	gboolean blocks_by_node;	/* counted from the target node's blocks */
} VmtDaxDev;

typedef struct {
	GPtrArray *nodes;		/* VmtNode*, by id */
	GPtrArray *dax;			/* VmtDaxDev*, by name */
	guint64 block_size;
	char *auto_online_blocks;	/* NULL if unknown */
	int numa_balancing;		/* -1 if unknown */
	int demotion_enabled;		/* -1 if unknown */
	gboolean kmem_driver, devdax_driver, dax_pmem_compat;
	gboolean damon_sysfs, damon_vaddr, damon_paddr, damos_migrate;
	int kdamonds_running;
	GPtrArray *busy_kdamonds;	/* char*: "0 (paddr)" */
	gboolean page_idle, soft_dirty, idle_pages;
} VmtHost;

VmtHost *vmt_host_load(GError **error);
/* The running kernel enforces AppArmor (/sys/module/apparmor). */
gboolean vmt_host_apparmor_enabled(void);
void vmt_host_free(VmtHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtHost, vmt_host_free)

const char *vmt_zone_name(VmtZone zone);
const char *vmt_node_kind_name(VmtNodeKind kind);
VmtNode *vmt_host_node(const VmtHost *host, int id);
VmtDaxDev *vmt_host_dax(const VmtHost *host, const char *name);
/* Count D's memory blocks again from sysfs (they change while onlining),
 * without reloading the rest of the host. */
void vmt_host_dax_recount(VmtDaxDev *d);
gboolean vmt_node_is_slow(const VmtNode *node);
guint64 vmt_node_online_bytes(const VmtNode *node);
gboolean vmt_host_has_slow_tier(const VmtHost *host);
/* The page-access scanner vmtierd would use here: "damon-vaddr",
 * "idle-pages", "page-idle", "soft-dirty" or "none". */
VmtScanner vmt_host_scanner(const VmtHost *host);
