// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure logic: node/CPU lists and size formatting. */
#include "log.h"
#include "nodeset.h"
#include "size.h"

#include <string.h>

static void test_nodeset_parse(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "0", "0" }, { "0-3", "0-3" }, { "0,2-3", "0,2-3" }, { "3,1,2,0", "0-3" },
		{ "", "" }, { "0-1,1-2", "0-2" }, { " 5\n", "5" }, { "0,2,4-6,8", "0,2,4-6,8" },
	};
	static const char *const bad[] = { "x", "1-", "-1", "3-1", "1,,2", "1 2", "99999999", "0-65536" };

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GArray) a = vmt_nodeset_parse(ok[i].in, &error);
		g_autofree char *s = NULL;

		g_assert_no_error(error);
		s = vmt_nodeset_format(a);
		g_assert_cmpstr(s, ==, ok[i].out);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_null(vmt_nodeset_parse(bad[i], &error));
		g_assert_nonnull(g_strstr_len(error->message, -1, bad[i]));
	}
}

/* hostile metadata: overlapping huge ranges cost linear time, ids past
 * any real host and overlong text are refused */
static void test_nodeset_hostile(void)
{
	g_autoptr(GString) big = g_string_new(NULL);
	g_autoptr(GString) dup = g_string_new(NULL);
	g_autoptr(GString) odd = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) a = NULL;
	g_autofree char *s = NULL;

	for (int i = 0; i < 8; i++) {
		g_string_append_printf(big, "%s0-65535", i ? "," : "");
		g_string_append_printf(dup, "%s0-8191", i ? "," : "");
	}
	g_assert_null(vmt_nodeset_parse(big->str, &error));
	g_assert_cmpstr(error->message, ==, "bad node or CPU list '0-65535,0-65535,0-65535,0-65535,"
			"0-65535,0-65535,0-65535,0-65535' (ids 0-8191)");
	g_clear_error(&error);
	for (int i = 0; i < 1000; i++)
		g_string_append(dup, ",0-8191");
	a = vmt_nodeset_parse(dup->str, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(a->len, ==, 8192);
	s = vmt_nodeset_format(a);
	g_assert_cmpstr(s, ==, "0-8191");
	g_clear_pointer(&a, g_array_unref);
	/* the longest real list, every other id, fits */
	for (int i = 1; i < 8192; i += 2)
		g_string_append_printf(odd, "%s%d", i > 1 ? "," : "", i);
	a = vmt_nodeset_parse(odd->str, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(a->len, ==, 4096);
	g_string_append(dup, ",0-8191,0-8191,0-8191,0-8191,0-8191");
	while (dup->len <= 32768)
		g_string_append(dup, ",0-8191");
	g_assert_null(vmt_nodeset_parse(dup->str, &error));
	g_assert_nonnull(strstr(error->message, "characters (at most 32768)"));
}

static void test_nodeset_contains(void)
{
	g_autoptr(GArray) a = vmt_nodeset_parse("1,3-4", NULL);

	g_assert_true(vmt_nodeset_contains(a, 3));
	g_assert_false(vmt_nodeset_contains(a, 2));
}

static void test_nodeset_overlaps(void)
{
	g_autoptr(GArray) a = vmt_nodeset_parse("1,3-4", NULL), b = vmt_nodeset_parse("0,2,4", NULL);
	g_autoptr(GArray) c = vmt_nodeset_parse("0,2", NULL), none = vmt_nodeset_parse("", NULL);

	g_assert_true(vmt_nodeset_overlaps(a, b));
	g_assert_true(vmt_nodeset_overlaps(b, a));
	g_assert_false(vmt_nodeset_overlaps(a, c));
	g_assert_false(vmt_nodeset_overlaps(a, none));
	g_assert_false(vmt_nodeset_overlaps(none, a));
}

static void test_size_format(void)
{
	static const struct { guint64 in; const char *out; } t[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1 KiB" }, { 1536, "1.5 KiB" },
		{ 896ull << 20, "896 MiB" }, { 1022ull << 20, "1022 MiB" },
		{ (3ull << 30) + (800ull << 20), "3.8 GiB" }, { 16ull << 40, "16 TiB" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *s = vmt_size_format(t[i].in);
		g_assert_cmpstr(s, ==, t[i].out);
	}
}

static void test_size_parse(void)
{
	static const struct { const char *in; guint64 out; } ok[] = {
		{ "16G", 16ull << 30 }, { "16GiB", 16ull << 30 }, { "512M", 512ull << 20 },
		{ "1T", 1ull << 40 }, { "2048K", 2ull << 20 }, { "112g", 112ull << 30 }, { "4MiB", 4ull << 20 },
		{ "1P", 1ull << 50 },
	};
	static const struct { const char *in, *why; } bad[] = {
		{ "0G", "zero" }, { "-4G", "negative" }, { "1024", "no unit" }, { "abc", "not a number" },
		{ "16X", "unknown unit" }, { "16Gb!", "unknown unit" }, { "1M", "not a multiple of 2 MiB" },
		{ "3K", "not a multiple of 2 MiB" }, { "99999999999999999999G", "too large" },
		{ "17179869184G", "too large" }, { "", "not a number" },
		{ "1.5G", "fractions are not accepted: write a whole number of a smaller unit" }, { "2,5T", "fractions" },
		{ "2P", "too large (at most 1P)" }, { "1025T", "too large" },
		/* 10^9 bytes for libvirt: refused rather than read another way */
		{ "16GB", "GB is ambiguous (libvirt reads powers of 10): write G or GiB" },
		{ "4mb", "MB is ambiguous" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		guint64 v = 0;
		g_assert_true(vmt_size_parse(ok[i].in, &v, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(v, ==, ok[i].out);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *want = g_strdup_printf("bad size '%s': ", bad[i].in);
		guint64 v = 0;
		g_assert_false(vmt_size_parse(bad[i].in, &v, &error));
		g_assert_true(g_str_has_prefix(error->message, want));
		g_assert_nonnull(strstr(error->message, bad[i].why));
	}
}

/* A log line is one line: a name with a newline or an escape sequence
 * (from libvirt, a tenant) neither forges a line nor drives a terminal. */
static void test_log_one_line(void)
{
	if (g_test_subprocess()) {
		vmt_log_setup("vmtierd", FALSE);
		g_message("%s: found", "vm1\nvmtierd[1]: notice: forged\x1b[2J");
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stderr("vmtierd[*]: notice: vm1\\u000avmtierd[1]: notice: forged\\u001b[2J: found\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nodeset/parse", test_nodeset_parse);
	g_test_add_func("/nodeset/contains", test_nodeset_contains);
	g_test_add_func("/nodeset/overlaps", test_nodeset_overlaps);
	g_test_add_func("/nodeset/hostile", test_nodeset_hostile);
	g_test_add_func("/size/format", test_size_format);
	g_test_add_func("/size/parse", test_size_parse);
	g_test_add_func("/log/one-line", test_log_one_line);
	return g_test_run();
}
