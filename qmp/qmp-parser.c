// SPDX-License-Identifier: GPL-2.0-or-later
#include "qmp-parser.h"

#include <string.h>

G_DEFINE_QUARK(vmt-qmp-error-quark, vmt_qmp_error)

struct VmtQmpParser {
	json_tokener *tok;
	gsize max_message;
	gsize in_message;	/* bytes of the message being parsed so far */
	gboolean broken;
};

VmtQmpParser *vmt_qmp_parser_new(gsize max_message)
{
	VmtQmpParser *p = g_new0(VmtQmpParser, 1);

	p->tok = json_tokener_new();
	p->max_message = max_message;
	return p;
}

void vmt_qmp_parser_free(VmtQmpParser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	g_free(p);
}

static gboolean fail(VmtQmpParser *p, GError **error, const char *what)
{
	p->broken = TRUE;
	g_set_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_PROTOCOL, "QMP protocol error: %s", what);
	return FALSE;
}

gboolean vmt_qmp_parser_feed(VmtQmpParser *p, const char *buf, gsize len,
			     VmtQmpMessageFunc func, gpointer data, GError **error)
{
	if (p->broken)
		return fail(p, error, "stream already failed");
	while (len) {
		json_object *obj;
		enum json_tokener_error jerr;
		gsize used, chunk;

		/* whitespace between messages ("\r\n") is not part of one */
		if (p->in_message == 0) {
			while (len && g_ascii_isspace(*buf))
				buf++, len--;
			if (!len)
				break;
		}
		/* never hand json-c more than the message may still grow by */
		chunk = MIN(len, (gsize)G_MAXINT);
		if (p->in_message + chunk > p->max_message)
			chunk = p->max_message - p->in_message + 1;
		obj = json_tokener_parse_ex(p->tok, buf, (int)chunk);
		jerr = json_tokener_get_error(p->tok);
		used = json_tokener_get_parse_end(p->tok);
		if (jerr == json_tokener_continue) {
			p->in_message += chunk;
			if (p->in_message > p->max_message)
				return fail(p, error, "message larger than the size limit");
			buf += chunk, len -= chunk;
			continue;
		}
		if (jerr != json_tokener_success) {
			g_autofree char *what = g_strdup_printf("invalid JSON (%s)",
				json_tokener_error_desc(jerr));
			json_object_put(obj);
			return fail(p, error, what);
		}
		json_tokener_reset(p->tok);
		p->in_message = 0;
		buf += used, len -= used;
		if (!json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return fail(p, error, "a message is not a JSON object");
		}
		func(obj, data);
	}
	return TRUE;
}

VmtQmpMsgType vmt_qmp_msg_classify(json_object *msg, const char **id)
{
	json_object *v;

	*id = "";
	if (json_object_object_get_ex(msg, "id", &v) && json_object_is_type(v, json_type_string))
		*id = json_object_get_string(v);
	if (json_object_object_get_ex(msg, "return", NULL))
		return VMT_QMP_MSG_RETURN;
	if (json_object_object_get_ex(msg, "error", &v) && json_object_is_type(v, json_type_object))
		return VMT_QMP_MSG_ERROR;
	if (json_object_object_get_ex(msg, "event", &v) && json_object_is_type(v, json_type_string))
		return VMT_QMP_MSG_EVENT;
	if (json_object_object_get_ex(msg, "QMP", &v) && json_object_is_type(v, json_type_object))
		return VMT_QMP_MSG_GREETING;
	return VMT_QMP_MSG_UNKNOWN;
}

GError *vmt_qmp_msg_to_error(json_object *msg)
{
	json_object *err = NULL, *cls = NULL, *desc = NULL;

	json_object_object_get_ex(msg, "error", &err);
	if (err) {
		json_object_object_get_ex(err, "class", &cls);
		json_object_object_get_ex(err, "desc", &desc);
	}
	return g_error_new(VMT_QMP_ERROR, VMT_QMP_ERROR_COMMAND, "%s: %s",
			   cls && json_object_is_type(cls, json_type_string) ?
				json_object_get_string(cls) : "GenericError",
			   desc && json_object_is_type(desc, json_type_string) ?
				json_object_get_string(desc) : "(no description)");
}
