#!/bin/bash
# Runs inside the test host (through capture-fixtures): capture the
# topology's tree, then variants made with the real knobs of that kernel.
set -eu
here=$(dirname "$0")
o=$VMTIER_OUT
case "$VMTIER_TOPOLOGY" in
tiered)
	bash "$here/capture.sh" "$o/tiered"
	# what a non-root user can read (daxX.Y/resource is root-only)
	nr=$(mktemp -d) && chmod 777 "$nr"	# the share itself is root-only
	setpriv --reuid=65534 --regid=65534 --clear-groups bash "$here/capture.sh" "$nr/t"
	cp -a "$nr/t" "$o/tiered-nonroot"
	# the kernel's own tiering switched on, auto-onlining racing daxctl
	echo 2 >/proc/sys/kernel/numa_balancing
	echo true >/sys/kernel/mm/numa/demotion_enabled
	echo online >/sys/devices/system/memory/auto_online_blocks
	bash "$here/capture.sh" "$o/tiered-kernel-tiering"
	echo 0 >/proc/sys/kernel/numa_balancing
	echo false >/sys/kernel/mm/numa/demotion_enabled
	echo offline >/sys/devices/system/memory/auto_online_blocks
	bash "$here/capture.sh" "$o/tiered-quiet"
	# another user's kdamond running (paddr, as on the outer machine)
	k=/sys/kernel/mm/damon/admin/kdamonds
	echo 1 >$k/nr_kdamonds; echo 1 >$k/0/contexts/nr_contexts
	echo paddr >$k/0/contexts/0/operations
	echo on >$k/0/state
	bash "$here/capture.sh" "$o/tiered-damon-busy"
	echo off >$k/0/state; echo 0 >$k/nr_kdamonds ;;
tiered-movable) bash "$here/capture.sh" "$o/${VMTIER_CAPTURE:-movable}" ;;
offline) bash "$here/capture.sh" "$o/offline" ;;
devdax)
	bash "$here/capture.sh" "$o/devdax"
	busybox rmmod kmem   # no kmod on these machines
	bash "$here/capture.sh" "$o/devdax-no-kmem" ;;
esac
