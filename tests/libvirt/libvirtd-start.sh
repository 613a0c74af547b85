# Sourced by libvirt tests inside the test host: a private libvirtd, as root,
# for TCG guests, without dbus and by default without cgroups;
# VMTIER_LIBVIRT_CGROUPS='"memory"' gives each guest a memory cgroup of its
# own (the offload=damos tests need one).
# The test host's /etc and /run are its own (tmpfs overlay), so this config
# touches nothing outside it.
libvirtd_start() {
	# libvirt resolves its default qemu user before reading qemu.conf; the
	# package that creates it (libvirt-daemon-system) is not installed
	getent passwd libvirt-qemu >/dev/null ||
		echo 'libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd
	getent group libvirt-qemu >/dev/null || echo 'libvirt-qemu:x:64055:' >>/etc/group
	getent group kvm >/dev/null || echo 'kvm:x:64056:' >>/etc/group
	mkdir -p /etc/libvirt /run/vmtier/qmp /var/lib/libvirt/qemu /var/cache/libvirt /var/log/libvirt
	cat >/etc/libvirt/qemu.conf <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ${VMTIER_LIBVIRT_CGROUPS:-} ]
stdio_handler = "file"
CONF
	cat >/etc/libvirt/libvirtd.conf <<'CONF'
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
	libvirtd --daemon --pid-file /run/libvirtd.pid || return 1
	for _ in $(seq 100); do
		virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "libvirtd did not come up:"; tail -20 /var/log/libvirt/libvirtd.log
	return 1
}
