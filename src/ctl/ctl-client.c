// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's control socket: the synchronous client with a hard deadline
 * (see ctl.h), and the socket helpers the server shares. */
#include "config.h"
#include "ctl.h"
#include "ctl-sock.h"

#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REPLY (16u << 20)		/* a status reply of many guests stays far below */
#define READ_CHUNK 4096

gboolean vmt_ctl_errno_error(GError **error, int err, const char *what, const char *path)
{
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s %s: %s", what, path,
		    g_strerror(err));
	return FALSE;
}

int vmt_ctl_unix_socket(const char *path, struct sockaddr_un *sa, GError **error)
{
	int fd;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
			    "socket path too long (at most %zu bytes): %s", sizeof sa->sun_path - 1, path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		vmt_ctl_errno_error(error, errno, "cannot create a socket for", path);
	return fd;
}

int vmt_ctl_connect(const char *path, gint64 deadline, GError **error)
{
	struct sockaddr_un sa;
	int fd = vmt_ctl_unix_socket(path, &sa, error);

	if (fd < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		if (err == EAGAIN && g_get_monotonic_time() < deadline) {
			g_usleep(10000);
			continue;
		}
		close(fd);
		if (err == EAGAIN)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
				    "cannot reach vmtierd at %s: too many connections waiting", path);
		else
			vmt_ctl_errno_error(error, err, "cannot reach vmtierd at", path);
		return -1;
	}
	return fd;
}

/* Wait for EVENTS on FD until DEADLINE (monotonic µs). */
static gboolean wait_fd(int fd, short events, gint64 deadline, const char *path,
			guint timeout_ms, GError **error)
{
	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
				    "vmtierd at %s did not answer within %u ms", path, timeout_ms);
			return FALSE;
		}
		r = poll(&p, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
		if (r > 0)
			return TRUE;
		if (r < 0 && errno != EINTR)
			return vmt_ctl_errno_error(error, errno, "cannot wait for", path);
	}
}

/* FALSE only on timeout or a local failure: a peer that hung up may still
 * have queued its reply (say, why it refused), so that is read next. */
static gboolean send_line(int fd, const char *buf, gsize len, gint64 deadline,
			  const char *path, guint timeout_ms, GError **error)
{
	while (len) {
		gssize n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n >= 0) {
			buf += n, len -= (gsize)n;
		} else if (errno == EPIPE || errno == ECONNRESET) {
			return TRUE;
		} else if (errno == EAGAIN) {
			if (!wait_fd(fd, POLLOUT, deadline, path, timeout_ms, error))
				return FALSE;
		} else if (errno != EINTR) {
			return vmt_ctl_errno_error(error, errno, "cannot send to", path);
		}
	}
	return TRUE;
}

static json_object *read_reply(int fd, gint64 deadline, const char *path, guint timeout_ms,
			       GError **error)
{
	g_autoptr(GByteArray) in = g_byte_array_new();
	enum json_tokener_error jerr;
	json_object *reply;
	char buf[READ_CHUNK];

	while (!in->len || !memchr(in->data, '\n', in->len)) {
		gssize n;

		if (in->len > MAX_REPLY) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
				    "reply from %s larger than %u bytes", path, MAX_REPLY);
			return NULL;
		}
		if (!wait_fd(fd, POLLIN, deadline, path, timeout_ms, error))
			return NULL;
		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno != ECONNRESET) {
			vmt_ctl_errno_error(error, errno, "cannot read from", path);
			return NULL;
		}
		if (n <= 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
				    "vmtierd at %s closed the connection without a reply", path);
			return NULL;
		}
		g_byte_array_append(in, (const guint8 *)buf, (guint)n);
	}
	*(guint8 *)memchr(in->data, '\n', in->len) = '\0';
	reply = json_tokener_parse_verbose((const char *)in->data, &jerr);
	if (!json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "invalid reply from %s: %s", path, jerr != json_tokener_success ?
			    json_tokener_error_desc(jerr) : "not a JSON object");
		return NULL;
	}
	return reply;
}

/* A reply with "ok": false becomes its error message. */
static json_object *check_ok(json_object *reply, const char *path, GError **error)
{
	json_object *ok, *msg = NULL;

	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_is_type(ok, json_type_boolean)) {
		json_object_put(reply);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "invalid reply from %s: no \"ok\" member", path);
		return NULL;
	}
	if (json_object_get_boolean(ok))
		return reply;
	json_object_object_get_ex(reply, "error", &msg);
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    json_object_is_type(msg, json_type_string) ? json_object_get_string(msg) :
			    "vmtierd refused the request without saying why");
	json_object_put(reply);
	return NULL;
}

json_object *vmt_ctl_request(const char *path, json_object *request, guint timeout_ms,
			     GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	g_autofree char *line = g_strconcat(json_object_to_json_string_ext(request,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), "\n", NULL);
	json_object *reply = NULL;
	int fd;

	json_object_put(request);
	fd = vmt_ctl_connect(path, deadline, error);
	if (fd < 0)
		return NULL;
	if (send_line(fd, line, strlen(line), deadline, path, timeout_ms, error))
		reply = read_reply(fd, deadline, path, timeout_ms, error);
	close(fd);
	return reply ? check_ok(reply, path, error) : NULL;
}

const char *vmt_ctl_default_path(void)
{
	const char *p = g_getenv("VMTIER_SOCKET");

	return p && *p ? p : VMT_RUNSTATEDIR "/vmtierd.sock";
}
