/* Runs the age community test kit (CCTV, shared/testdata/age-testkit)
 * through the public decryption API, and the deterministic re-encoding
 * checks of the kit's README (step 8). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>

#include "gitseal/age.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

struct vector {
	char name[256];
	char expect[32];
	char payload[65];
	uint8_t file_key[64];
	size_t file_key_len;
	bool armored, compressed, has_payload;
	struct age_identity_list ids;
	size_t n_x25519, n_hybrid, n_pass;
	struct gs_buf body;
};

static const char *kit_dir(void)
{
	static char dir[4096];
	const char *shared = getenv("GITSEAL_SHARED");

	snprintf(dir, sizeof(dir), "%s/testdata/age-testkit", shared ? shared : "../shared");
	return dir;
}

static int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	return sodium_hex2bin(out, cap, hex, strlen(hex), NULL, n, NULL);
}

static void inflate_body(struct gs_buf *body)
{
	struct gs_buf out;
	z_stream zs;
	uint8_t chunk[65536];
	int zret;

	gs_buf_init(&out, false);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit(&zs), Z_OK);
	zs.next_in = body->data;
	zs.avail_in = (uInt)body->len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zret = inflate(&zs, Z_NO_FLUSH);
		assert_true(zret == Z_OK || zret == Z_STREAM_END);
		assert_int_equal(gs_buf_append(&out, chunk, sizeof(chunk) - zs.avail_out), 0);
	} while (zret != Z_STREAM_END);
	inflateEnd(&zs);
	gs_buf_release(body);
	*body = out;
}

static void vector_load(struct vector *v, const char *name)
{
	char path[4400], *meta, *sep, *line, *next, *val;
	struct gs_buf raw;
	size_t meta_len;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", kit_dir(), name);
	gs_buf_init(&raw, false);
	assert_int_equal(gs_read_file(path, &raw, 64 << 20), 0);
	sep = memmem(raw.data, raw.len, "\n\n", 2);
	assert_non_null(sep);
	meta_len = (size_t)(sep - (char *)raw.data) + 1;
	gs_buf_init(&v->body, false);
	assert_int_equal(gs_buf_append(&v->body, sep + 2, raw.len - meta_len - 1), 0);
	meta = strndup((char *)raw.data, meta_len);
	assert_non_null(meta);
	for (line = meta; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		val = strstr(line, ": ");
		assert_non_null(val);
		*val = '\0';
		val += 2;
		if (strcmp(line, "expect") == 0) {
			snprintf(v->expect, sizeof(v->expect), "%s", val);
		} else if (strcmp(line, "payload") == 0) {
			snprintf(v->payload, sizeof(v->payload), "%s", val);
			v->has_payload = true;
		} else if (strcmp(line, "file key") == 0) {
			if (hex_decode(val, v->file_key, sizeof(v->file_key), &v->file_key_len) != 0)
				fail_msg("%s: bad file key '%s'", name, val);
		} else if (strcmp(line, "armored") == 0) {
			v->armored = strcmp(val, "yes") == 0;
		} else if (strcmp(line, "compressed") == 0) {
			assert_string_equal(val, "zlib");
			v->compressed = true;
		} else if (strcmp(line, "identity") == 0) {
			assert_int_equal(age_identity_list_add_text(&v->ids, val, strlen(val), name), 0);
			if (strncmp(val, "AGE-SECRET-KEY-PQ-1", 19) == 0)
				v->n_hybrid++;
			else
				v->n_x25519++;
		} else if (strcmp(line, "passphrase") == 0) {
			assert_int_equal(age_identity_list_add_passphrase(&v->ids, val, strlen(val)), 0);
			v->n_pass++;
		} else if (strcmp(line, "comment") != 0) {
			fail_msg("%s: unknown metadata key '%s'", name, line);
		}
	}
	free(meta);
	gs_buf_release(&raw);
	if (v->compressed)
		inflate_body(&v->body);
}

static void vector_release(struct vector *v)
{
	age_identity_list_release(&v->ids);
	gs_buf_release(&v->body);
}

static const char *category(int err)
{
	switch (err) {
	case 0:
		return "success";
	case GS_ERR_AGE_ARMOR:
		return "armor failure";
	case GS_ERR_AGE_HEADER:
		return "header failure";
	case GS_ERR_AGE_NO_MATCH:
		return "no match";
	case GS_ERR_AGE_HMAC:
		return "HMAC failure";
	case GS_ERR_AGE_PAYLOAD:
		return "payload failure";
	default:
		return "other error";
	}
}

static void sha256_hex(const struct gs_buf *b, char hex[65])
{
	uint8_t h[32];

	crypto_hash_sha256(h, b->data ? b->data : (const uint8_t *)"", b->len);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

static int run_decrypt(struct vector *v, enum age_armor_mode mode, struct gs_buf *released)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, v->body.data, v->body.len);
	struct gs_writer w = gs_writer_to_buf(released);

	return age_decrypt_mode(&v->ids, &r, &w, mode);
}

/* Returns the dearmored (or raw) age file bytes. */
static void dearmor(struct vector *v, struct gs_buf *out)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, v->body.data, v->body.len), ar_r;
	struct age_bufin in;
	struct age_armor_reader ar;
	uint8_t chunk[4096];
	size_t got;

	gs_buf_init(out, false);
	if (!v->armored) {
		assert_int_equal(gs_buf_append(out, v->body.data, v->body.len), 0);
		return;
	}
	assert_int_equal(age_bufin_init(&in, &r, 65536), 0);
	age_armor_reader_init(&ar, &in);
	ar_r = age_armor_reader_as_reader(&ar);
	do {
		assert_int_equal(ar_r.read(ar_r.ctx, chunk, sizeof(chunk), &got), 0);
		assert_int_equal(gs_buf_append(out, chunk, got), 0);
	} while (got);
	age_bufin_release(&in);
}

/* Parses the header of file; returns its length in *hdr_len. */
static int parse_header(const struct gs_buf *file, struct age_header *h, size_t *hdr_len)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, file->data, file->len);
	struct age_bufin in;
	int ret;

	assert_int_equal(age_bufin_init(&in, &r, 65536), 0);
	ret = age_header_parse(&in, h);
	*hdr_len = src.pos - (in.len - in.pos);
	age_bufin_release(&in);
	return ret;
}

static void check_header_reencode(struct vector *v)
{
	struct age_header h;
	struct gs_buf out;
	size_t hdr_len;

	assert_int_equal(parse_header(&v->body, &h, &hdr_len), 0);
	gs_buf_init(&out, false);
	assert_int_equal(age_header_write(&h, &out), 0);
	assert_int_equal(out.len, hdr_len);
	assert_memory_equal(out.data, v->body.data, hdr_len);
	gs_buf_release(&out);
	age_header_release(&h);
}

static void check_stream_reencrypt(struct vector *v, const struct gs_buf *plaintext)
{
	struct gs_buf file, ct;
	struct age_header h;
	struct gs_mem_source src;
	struct gs_reader r;
	struct gs_writer w;
	size_t hdr_len;

	assert_int_equal(v->file_key_len, AGE_FILE_KEY_SIZE);
	dearmor(v, &file);
	assert_int_equal(parse_header(&file, &h, &hdr_len), 0);
	age_header_release(&h);
	assert_true(file.len >= hdr_len + AGE_NONCE_SIZE);
	gs_buf_init(&ct, false);
	r = gs_reader_from_mem(&src, plaintext->data, plaintext->len);
	w = gs_writer_to_buf(&ct);
	assert_int_equal(age_stream_encrypt(v->file_key, file.data + hdr_len, &r, &w), 0);
	assert_int_equal(ct.len, file.len - hdr_len - AGE_NONCE_SIZE);
	assert_memory_equal(ct.data, file.data + hdr_len + AGE_NONCE_SIZE, ct.len);
	gs_buf_release(&ct);
	gs_buf_release(&file);
}

static void check_armor_rewrite(struct vector *v)
{
	struct gs_buf file, out, want;
	struct age_armor_writer aw;
	struct gs_writer w = gs_writer_to_buf(&out), aww;
	size_t i, start = 0, end;

	dearmor(v, &file);
	gs_buf_init(&out, false);
	assert_int_equal(age_armor_writer_init(&aw, &w), 0);
	aww = age_armor_writer_as_writer(&aw);
	assert_int_equal(aww.write(aww.ctx, file.data, file.len), 0);
	assert_int_equal(age_armor_writer_finish(&aw), 0);
	age_armor_writer_release(&aw);
	gs_buf_init(&want, false);
	for (i = 0; i < v->body.len; i++)
		if (!(v->body.data[i] == '\r' && i + 1 < v->body.len && v->body.data[i + 1] == '\n'))
			assert_int_equal(gs_buf_append(&want, &v->body.data[i], 1), 0);
	end = want.len;
	while (start < end && strchr(" \t\r\n", want.data[start]))
		start++;
	while (end > start && strchr(" \t\r\n", want.data[end - 1]))
		end--;
	assert_int_equal(out.len, end - start + 1);
	assert_memory_equal(out.data, want.data + start, end - start);
	assert_int_equal(out.data[out.len - 1], '\n');
	gs_buf_release(&want);
	gs_buf_release(&out);
	gs_buf_release(&file);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_testkit(void **state)
{
	DIR *d = opendir(kit_dir());
	struct dirent *e;
	char **names = NULL, hex[65];
	size_t n = 0, i, ran = 0, hybrid = 0, failures = 0, reencoded = 0;

	(void)state;
	if (!d) {
		print_message("skipped: %s is absent (no ../shared)\n", kit_dir());
		skip();
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		assert_non_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	assert_int_equal(n, 143);
	for (i = 0; i < n; i++) {
		struct vector v;
		struct gs_buf released, auto_released;
		int ret, auto_ret;
		const char *got;

		vector_load(&v, names[i]);
		ran++;
		hybrid += v.n_hybrid > 0;
		gs_buf_init(&released, false);
		ret = run_decrypt(&v, v.armored ? AGE_ARMOR_YES : AGE_ARMOR_NO, &released);
		got = category(ret);
		if (strcmp(got, v.expect) != 0) {
			print_error("%s: expected '%s', got '%s' (%s)\n", v.name, v.expect, got,
				    ret ? gs_error_message() : "no error");
			failures++;
		} else if (ret == 0 || ret == GS_ERR_AGE_PAYLOAD) {
			assert_true(v.has_payload);
			sha256_hex(&released, hex);
			if (strcmp(hex, v.payload) != 0) {
				print_error("%s: released %zu bytes with the wrong hash\n", v.name, released.len);
				failures++;
			}
		} else if (released.len != 0) {
			print_error("%s: released %zu bytes on %s\n", v.name, released.len, got);
			failures++;
		}
		/* Automatic armor detection agrees (what the CLI uses) */
		gs_buf_init(&auto_released, false);
		auto_ret = run_decrypt(&v, AGE_ARMOR_AUTO, &auto_released);
		if (auto_ret != ret || auto_released.len != released.len) {
			print_error("%s: auto-detection gives '%s'\n", v.name, category(auto_ret));
			failures++;
		}
		gs_buf_release(&auto_released);
		if (!failures && strcmp(v.expect, "success") == 0) {
			check_stream_reencrypt(&v, &released);
			reencoded++;
		}
		if (!v.armored && strcmp(v.expect, "header failure") != 0)
			check_header_reencode(&v);
		if (v.armored && strcmp(v.expect, "armor failure") != 0)
			check_armor_rewrite(&v);
		gs_buf_release(&released);
		vector_release(&v);
		free(names[i]);
	}
	free(names);
	print_message("age testkit: %zu ran (%zu with hybrid identities), %zu failed, "
		      "%zu stream re-encryptions\n", ran, hybrid, failures, reencoded);
	assert_int_equal(failures, 0);
	assert_int_equal(ran, 143);
	assert_int_equal(hybrid, 19);
	assert_int_equal(reencoded, 26);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_testkit),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
