# Sourced by libvirt tests inside the test host: a private libvirtd set up as
# Debian's libvirt-daemon-system sets it up on an operator's host (without
# systemd and dbus): QEMU confined by AppArmor (virt-aa-helper's per-domain
# profiles), QEMU running as libvirt-qemu, cgroups v2 with libvirt's default
# controllers (memory and cpuset among them), virtlogd for QEMU's output.
# vmtier's AppArmor additions are those of `vmtier hook install`.
#
# VMTIER_LIBVIRT_MODE=root gives the old unconfined set-up (QEMU as root, no
# security driver, no cgroups): a test that sets it says why.
# The test host's /etc and /run are its own (tmpfs overlay), so this config
# touches nothing outside it.
# libvirt's AppArmor profiles loaded into the test host's kernel, with
# vmtier's additions as `vmtier hook install` makes them (VMTIER_BIN, or
# $vmtier, is the vmtier to run).  Its link goes to a directory libvirt
# does not read: these tests run without the hook (test-hook.sh installs it).
libvirtd_apparmor() {
	local aa=/etc/apparmor.d out vmtier_bin=${VMTIER_BIN:-${vmtier:-}}
	mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] ||
		{ echo "AppArmor is not enabled in the test host's kernel"; return 1; }
	[ -f $aa/usr.sbin.libvirtd ] && [ -f $aa/abstractions/libvirt-qemu ] ||
		{ echo "libvirt's AppArmor profiles are missing (install libvirt-daemon-system, apparmor)"; return 1; }
	[ -x "$vmtier_bin" ] || { echo "libvirtd_start: no vmtier to run (set \$vmtier)"; return 1; }
	out=$("$vmtier_bin" hook install --dir "$(mktemp -d /tmp/hooks-unused.XXXXXX)") ||
		{ echo "vmtier hook install: $out"; return 1; }
	# only tests read the guests' debug console (-debugcon file:), kept in
	# /tmp/vmtier-guests (the 9p output folder refuses libvirt-qemu)
	grep -q vmtier-guests $aa/local/abstractions/libvirt-qemu || cat >>$aa/local/abstractions/libvirt-qemu <<'AA'
  /tmp/vmtier-guests/*.log rw,
AA
	mkdir -p /tmp/vmtier-guests && chmod 1777 /tmp/vmtier-guests
	apparmor_parser -r -W $aa/usr.lib.libvirt.virt-aa-helper || return 1
	grep -q "reloaded libvirtd's AppArmor profile" <<<"$out" || apparmor_parser -r -W $aa/usr.sbin.libvirtd
}

libvirtd_start() {
	local mode=${VMTIER_LIBVIRT_MODE:-stock}
	# the package that creates these (libvirt-daemon-system) may be missing
	getent passwd libvirt-qemu >/dev/null ||
		echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd
	getent group libvirt-qemu >/dev/null || echo 'libvirt-qemu:x:64055:' >>/etc/group
	getent group kvm >/dev/null || echo 'kvm:x:64056:' >>/etc/group
	mkdir -p /etc/libvirt /run/vmtier/qmp /var/lib/libvirt/qemu /var/cache/libvirt /var/log/libvirt/qemu
	if [ "$mode" = root ]; then
		cat >/etc/libvirt/qemu.conf <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
CONF
	else
		# libvirt-daemon-system's qemu.conf sets nothing: these are its defaults
		echo '# stock: libvirt-daemon-system defaults' >/etc/libvirt/qemu.conf
		# as the hook's prepare (and the package's tmpfiles.d) leave them
		chown libvirt-qemu:libvirt-qemu /var/lib/libvirt/qemu /run/vmtier/qmp
		chmod 0750 /run/vmtier/qmp
		# (a second libvirtd on the same kernel: $apparmor_loaded)
		[ -n "${apparmor_loaded:-}" ] || libvirtd_apparmor || return 1
		# its socket, not its process: a second libvirtd in a mount
		# namespace of its own (test-fleet.sh) needs a virtlogd of its own
		[ -S /run/libvirt/virtlogd-sock ] || virtlogd --daemon || return 1
	fi
	cat >/etc/libvirt/libvirtd.conf <<'CONF'
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
	# QEMU's capabilities as an earlier test host's libvirtd probed them
	# (tests/testbed/run keeps them): libvirt checks and reprobes stale ones
	local caps=/var/cache/libvirt/qemu/capabilities
	if [ -d /testbed/libvirt-caps ]; then
		mkdir -p $caps && cp /testbed/libvirt-caps/*.xml $caps/ 2>/dev/null || true
	fi
	libvirtd --daemon --pid-file /run/libvirtd.pid || return 1
	for _ in $(seq 300); do
		virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then
		echo "libvirtd did not come up:"; tail -20 /var/log/libvirt/libvirtd.log
		return 1
	fi
	[ -d /testbed/libvirt-caps ] && { cp $caps/*.xml /testbed/libvirt-caps/ 2>/dev/null || true; }
	[ "$mode" = root ] && return 0
	# say so if the stock set-up did not take
	virsh -c qemu:///system capabilities | grep -q '<model>apparmor</model>' ||
		{ echo "libvirtd runs without its AppArmor security driver"; return 1; }
}
