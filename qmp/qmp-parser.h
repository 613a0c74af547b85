/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>

/* json_object with one owner: g_autoptr(json_object) drops it. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* Incremental reader of a QMP stream: bytes in, whole JSON objects out.
 * A message may arrive split over many reads and several may arrive in one;
 * one message larger than the size limit, invalid JSON, or a value that is
 * not an object is a protocol error (the stream cannot be trusted after). */

#define VMT_QMP_ERROR (vmt_qmp_error_quark())
GQuark vmt_qmp_error_quark(void);

typedef enum {
	VMT_QMP_ERROR_PROTOCOL,		/* bad bytes on the wire */
	VMT_QMP_ERROR_COMMAND,		/* QEMU's {"error": ...}; message is "Class: desc" */
	VMT_QMP_ERROR_CLOSED,		/* the connection went away */
	VMT_QMP_ERROR_TIMEOUT,
} VmtQmpErrorCode;

typedef struct VmtQmpParser VmtQmpParser;

/* Called for each complete message; takes ownership of MSG. */
typedef void (*VmtQmpMessageFunc)(json_object *msg, gpointer data);

VmtQmpParser *vmt_qmp_parser_new(gsize max_message);
void vmt_qmp_parser_free(VmtQmpParser *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtQmpParser, vmt_qmp_parser_free)

/* Feed LEN bytes; calls FUNC for every message completed.  FALSE with a
 * VMT_QMP_ERROR_PROTOCOL error on bad input (the parser is then unusable). */
gboolean vmt_qmp_parser_feed(VmtQmpParser *p, const char *buf, gsize len,
			     VmtQmpMessageFunc func, gpointer data, GError **error);

typedef enum {
	VMT_QMP_MSG_GREETING,	/* {"QMP": {...}} */
	VMT_QMP_MSG_RETURN,	/* {"return": any, "id": ...} */
	VMT_QMP_MSG_ERROR,	/* {"error": {"class", "desc"}, "id": ...} */
	VMT_QMP_MSG_EVENT,	/* {"event": "NAME", "data": {...}} */
	VMT_QMP_MSG_UNKNOWN,
} VmtQmpMsgType;

/* Kind of MSG; *ID is its "id" as a string ("" if none; borrowed). */
VmtQmpMsgType vmt_qmp_msg_classify(json_object *msg, const char **id);
/* For an error reply: a GError "CLASS: desc" (CLASS "GenericError" if absent). */
GError *vmt_qmp_msg_to_error(json_object *msg);
