// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: control-socket requests.  The bytes are what a client sends:
 * split into lines as the server splits them, each line through the
 * server's parser (vmt_ctl_request_parse).  A request it accepts must be an
 * object with a "cmd" string, and its "name", escaped for a log, one line
 * of printable text; a refusal must say why in one line. */
#include "ctl.h"
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		gsize len = (gsize)((nl ? nl : end) - p);
		g_autoptr(GError) error = NULL;
		json_object *req = vmt_ctl_request_parse(p, len, &error), *cmd;

		if (req) {
			json_object *name;

			if (!json_object_is_type(req, json_type_object) ||
			    !json_object_object_get_ex(req, "cmd", &cmd) ||
			    !json_object_is_type(cmd, json_type_string))
				abort();
			if (json_object_object_get_ex(req, "name", &name) &&
			    json_object_is_type(name, json_type_string)) {
				g_autofree char *shown = vmt_name_escape(json_object_get_string(name));

				for (const char *c = shown; *c; c++)
					if ((guchar)*c < 0x20 || *c == 0x7f)
						abort();
			}
			json_object_put(req);
		} else if (!error || !*error->message || strchr(error->message, '\n')) {
			abort();
		}
		p += len + 1;
	}
	return 0;
}
