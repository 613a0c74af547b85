/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Socket helpers shared by the control server (ctl.c) and client
 * (ctl-client.c); not for other users. */
#include <glib.h>
#include <sys/un.h>

/* Set ERROR to "WHAT PATH: strerror(ERR)" with the matching GIOErrorEnum;
 * returns FALSE. */
gboolean vmt_ctl_errno_error(GError **error, int err, const char *what, const char *path);
/* A nonblocking Unix stream socket, and the address of PATH in SA; -1 with
 * ERROR. */
int vmt_ctl_unix_socket(const char *path, struct sockaddr_un *sa, GError **error);
/* A socket connected to PATH; a full backlog (EAGAIN) is retried until
 * DEADLINE (monotonic µs), then G_IO_ERROR_TIMED_OUT.  -1 with ERROR. */
int vmt_ctl_connect(const char *path, gint64 deadline, GError **error);
