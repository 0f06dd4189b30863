/* age keys, key files, SSH keys, round trips, armor and tampering. SSH
 * test keys are generated with ssh-keygen into a temporary directory; the
 * age CLI, when installed, checks interoperability. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/age.h"
#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

#define KIT_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
#define KIT_RECIPIENT "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"

static char tmpdir[] = "/tmp/gitseal-age-test-XXXXXX";
static bool have_age_cli;

__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void read_text(const char *name, struct gs_buf *b)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	gs_buf_init(b, false);
	assert_int_equal(gs_read_file(path, b, 1 << 20), 0);
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	if (system("command -v ssh-keygen >/dev/null") != 0)
		return -1;
	/* TEST keys, generated fresh for this run. */
	{
		char cmd[2048];

		snprintf(cmd, sizeof(cmd),
			 "cd %s && ssh-keygen -q -t ed25519 -N '' -C test-ed -f test_ed25519 && "
			 "ssh-keygen -q -t rsa -b 2048 -N '' -C test-rsa -f test_rsa && "
			 "ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C test-rsa-pem -f test_rsa_pem && "
			 "ssh-keygen -q -t rsa -b 2048 -m PKCS8 -N '' -C test-rsa-p8 -f test_rsa_p8 && "
			 "ssh-keygen -q -t rsa -b 1024 -N '' -C test-small -f test_rsa_1024 && "
			 "ssh-keygen -q -t ecdsa -N '' -C test-ecdsa -f test_ecdsa && "
			 "ssh-keygen -q -t ed25519 -N 'secret' -C test-enc -f test_ed25519_enc && "
			 /* the keys above protected with each cipher: the public keys stay */
			 "for c in aes128-ctr aes192-ctr aes256-ctr aes128-cbc aes192-cbc aes256-cbc "
			 "aes128-gcm@openssh.com aes256-gcm@openssh.com chacha20-poly1305@openssh.com; do "
			 "cp test_ed25519 test_ed25519_$c && "
			 "ssh-keygen -q -p -a 2 -P '' -N 'secret' -Z $c -f test_ed25519_$c >/dev/null || exit 1; done && "
			 "cp test_rsa test_rsa_enc && ssh-keygen -q -p -a 2 -P '' -N 'secret' -f test_rsa_enc >/dev/null && "
			 /* PEM keys, legacy (Proc-Type) and PKCS#8, their public keys beside them */
			 "for m in PEM PKCS8; do cp test_rsa_pem test_rsa_$m && cp test_rsa_pem.pub test_rsa_$m.pub && "
			 "ssh-keygen -q -p -m $m -P '' -N 'secret' -f test_rsa_$m >/dev/null || exit 1; done && "
			 "openssl rsa -in test_rsa_pem -traditional -des3 -passout pass:secret -out test_rsa_des3 2>/dev/null && "
			 "cp test_rsa_pem.pub test_rsa_des3.pub",
			 tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	have_age_cli = system("command -v age >/dev/null && command -v age-keygen >/dev/null") == 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct age_recipient *recipient(const char *text)
{
	struct age_recipient *r = NULL;

	if (age_recipient_parse(text, &r) != 0)
		fail_msg("cannot parse recipient: %s", gs_error_message());
	return r;
}

/* The public key line of a .pub file without the comment. */
static void pub_line(const char *name, char *out, size_t cap)
{
	struct gs_buf b;
	char *sp;

	read_text(name, &b);
	snprintf(out, cap, "%s", (char *)b.data);
	out[strcspn(out, "\n")] = '\0';
	sp = strchr(out, ' ');
	assert_non_null(sp);
	sp = strchr(sp + 1, ' ');
	if (sp)
		*sp = '\0';
	gs_buf_release(&b);
}

static void load_identities(const char *name, struct age_identity_list *l)
{
	struct gs_buf b;

	read_text(name, &b);
	if (age_identity_list_add_file_text(l, (char *)b.data, b.len, name) != 0)
		fail_msg("%s: %s", name, gs_error_message());
	gs_buf_release(&b);
}

static void test_bech32(void **state)
{
	struct age_identity_list l = { 0 };
	struct age_recipient *r = NULL;
	char buf[128], bad[128];
	uint8_t data[64];
	char hrp[32];
	size_t n;

	(void)state;
	assert_int_equal(age_identity_list_add_text(&l, KIT_IDENTITY, strlen(KIT_IDENTITY), "kit"), 0);
	assert_int_equal(age_identity_recipient_string(l.items[0], buf, sizeof(buf)), 0);
	assert_string_equal(buf, KIT_RECIPIENT);
	assert_int_equal(strlen(buf), AGE_X25519_RECIPIENT_LEN);
	assert_int_equal(age_identity_encode(l.items[0], buf, sizeof(buf)), 0);
	assert_string_equal(buf, KIT_IDENTITY);
	assert_int_equal(strlen(buf), AGE_X25519_IDENTITY_LEN);
	/* Too small an output buffer is refused. */
	assert_int_not_equal(age_identity_encode(l.items[0], buf, AGE_X25519_IDENTITY_LEN), 0);
	age_identity_list_release(&l);

	assert_int_equal(age_bech32_decode(KIT_RECIPIENT, hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	assert_string_equal(hrp, "age");
	assert_int_equal(n, 32);
	assert_int_equal(age_bech32_encode("age", data, n, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, KIT_RECIPIENT);

	/* Wrong case: an upper-case recipient, a lower-case identity, mixed case. */
	snprintf(bad, sizeof(bad), "%s", KIT_RECIPIENT);
	for (n = 0; bad[n]; n++)
		bad[n] = (char)(bad[n] >= 'a' && bad[n] <= 'z' ? bad[n] - 32 : bad[n]);
	assert_int_equal(age_recipient_parse(bad, &r), GS_ERR_PARSE);
	assert_null(r);
	snprintf(bad, sizeof(bad), "%s", KIT_IDENTITY);
	for (n = 0; bad[n]; n++)
		bad[n] = (char)(bad[n] >= 'A' && bad[n] <= 'Z' ? bad[n] + 32 : bad[n]);
	assert_int_equal(age_identity_list_add_text(&l, bad, strlen(bad), "lower"), GS_ERR_PARSE);
	assert_int_equal(l.count, 0);
	snprintf(bad, sizeof(bad), "%s", KIT_RECIPIENT);
	bad[10] = (char)(bad[10] - 32);
	assert_int_not_equal(age_bech32_decode(bad, hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	/* A bad checksum: change one data character. */
	snprintf(bad, sizeof(bad), "%s", KIT_RECIPIENT);
	bad[20] = bad[20] == 'q' ? 'p' : 'q';
	assert_int_not_equal(age_bech32_decode(bad, hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	assert_int_equal(age_recipient_parse(bad, &r), GS_ERR_PARSE);
	/* Truncated, and characters outside the alphabet. */
	snprintf(bad, sizeof(bad), "%s", KIT_RECIPIENT);
	bad[strlen(bad) - 1] = '\0';
	assert_int_not_equal(age_bech32_decode(bad, hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	assert_int_not_equal(age_bech32_decode("age1bbbbbbbb", hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	assert_int_not_equal(age_bech32_decode("noseparator", hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	/* BIP-173 test vector with a long HRP. */
	assert_int_equal(age_bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, sizeof(hrp),
					   data, sizeof(data), &n), 0);
	assert_string_equal(hrp, "abcdef");
	assert_int_equal(age_bech32_decode("A12UEL5L", hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	assert_string_equal(hrp, "a");
	assert_int_equal(n, 0);
}

static void test_generate(void **state)
{
	struct age_identity *id = NULL;
	struct age_identity_list l = { 0 };
	char *enc = gs_secure_alloc(AGE_X25519_IDENTITY_LEN + 1);
	char rec1[128], rec2[128];

	(void)state;
	assert_int_equal(age_identity_generate(&id), 0);
	assert_int_equal(age_identity_encode(id, enc, AGE_X25519_IDENTITY_LEN + 1), 0);
	assert_int_equal(strncmp(enc, "AGE-SECRET-KEY-1", 16), 0);
	assert_int_equal(age_identity_recipient_string(id, rec1, sizeof(rec1)), 0);
	assert_int_equal(age_identity_list_add_text(&l, enc, strlen(enc), "gen"), 0);
	assert_int_equal(age_identity_recipient_string(l.items[0], rec2, sizeof(rec2)), 0);
	assert_string_equal(rec1, rec2);
	if (have_age_cli) {
		struct gs_buf out;

		write_file("gen.key", (const uint8_t *)enc, strlen(enc));
		sh("age-keygen -y %s/gen.key > %s/gen.pub", tmpdir, tmpdir);
		read_text("gen.pub", &out);
		assert_int_equal(strncmp((char *)out.data, rec1, strlen(rec1)), 0);
		gs_buf_release(&out);
	}
	age_identity_free(id);
	age_identity_list_release(&l);
	gs_secure_free(enc);
}

static void test_identity_file(void **state)
{
	static const char good[] = "# created: 2026-01-02T15:04:05Z\r\n"
				   "# public key: " KIT_RECIPIENT "\r\n"
				   "\r\n" KIT_IDENTITY "\r\n"
				   "#another\n" KIT_IDENTITY;
	static const char bad_line3[] = "# c\n\nnot-a-key\n" KIT_IDENTITY "\n";
	static const char spaces[] = KIT_IDENTITY "\n   \n";
	static const char trailing_space[] = KIT_IDENTITY " \n";
	struct age_identity_list l = { 0 };

	(void)state;
	assert_int_equal(age_identity_list_add_text(&l, good, strlen(good), "good.txt"), 0);
	assert_int_equal(l.count, 2);
	age_identity_list_release(&l);

	assert_int_equal(age_identity_list_add_text(&l, bad_line3, strlen(bad_line3), "keys.txt"),
			 GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'keys.txt': line 3: not a valid identity");
	age_identity_list_release(&l);

	assert_int_equal(age_identity_list_add_text(&l, spaces, strlen(spaces), "k"), GS_ERR_PARSE);
	assert_non_null(strstr(gs_error_message(), "line 2"));
	age_identity_list_release(&l);
	assert_int_equal(age_identity_list_add_text(&l, trailing_space, strlen(trailing_space), "k"),
			 GS_ERR_PARSE);
	/* The secret is never echoed. */
	assert_null(strstr(gs_error_message(), "AGE-SECRET"));
	age_identity_list_release(&l);

	assert_int_equal(age_identity_list_add_text(&l, "# only\n\n", 8, "empty"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'empty': no identities found");
	/* a plugin identity is skipped (test_age_pq checks the warning) */
	assert_int_equal(age_identity_list_add_text(&l, "AGE-PLUGIN-YUBIKEY-1QQQ\n", 24, "p"), 0);
	assert_int_equal(age_identity_list_add_text(&l, "age-encryption.org/v1\n", 22, "e"), GS_ERR_KEY);
	assert_int_equal(l.count, 0);
}

static void test_recipient_parsing(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_recipient *r = NULL;
	char line[4096], file[8192];

	(void)state;
	r = recipient(KIT_RECIPIENT);
	age_recipient_free(r);
	assert_int_equal(age_recipient_parse("age1", &r), GS_ERR_PARSE);
	assert_int_equal(age_recipient_parse("", &r), GS_ERR_PARSE);
	assert_int_equal(age_recipient_parse("garbage", &r), GS_ERR_PARSE);
	assert_int_equal(age_recipient_parse(KIT_IDENTITY, &r), GS_ERR_PARSE);
	assert_int_equal(age_recipient_parse(KIT_RECIPIENT " ", &r), GS_ERR_PARSE);
	assert_null(r);

	pub_line("test_ed25519.pub", line, sizeof(line));
	r = recipient(line);
	age_recipient_free(r);
	/* With its comment, as in authorized_keys. */
	snprintf(file, sizeof(file), "%s test-ed", line);
	r = recipient(file);
	age_recipient_free(r);
	/* A corrupted key blob. */
	line[20] = line[20] == 'A' ? 'B' : 'A';
	assert_int_not_equal(age_recipient_parse(line, &r), 0);
	pub_line("test_rsa.pub", line, sizeof(line));
	r = recipient(line);
	age_recipient_free(r);
	pub_line("test_rsa_1024.pub", line, sizeof(line));
	assert_int_equal(age_recipient_parse(line, &r), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "too small"));
	pub_line("test_ecdsa.pub", line, sizeof(line));
	assert_int_equal(age_recipient_parse(line, &r), GS_ERR_KEY);
	/* The type word must match the blob. */
	pub_line("test_ed25519.pub", line, sizeof(line));
	snprintf(file, sizeof(file), "ssh-rsa %s", strchr(line, ' ') + 1);
	assert_int_not_equal(age_recipient_parse(file, &r), 0);

	/* Recipients file: comments, CRLF, an ECDSA key skipped. */
	pub_line("test_ecdsa.pub", line, sizeof(line));
	snprintf(file, sizeof(file), "# team\r\n%s\r\n\r\n%s\n", KIT_RECIPIENT, line);
	pub_line("test_ed25519.pub", line, sizeof(line));
	strcat(file, line);
	strcat(file, " me@host\n");
	assert_int_equal(age_recipient_list_add_file_text(&rl, file, strlen(file), "team.txt"), 0);
	assert_int_equal(rl.count, 2);
	age_recipient_list_release(&rl);
	snprintf(file, sizeof(file), "%s\n# x\nbogus\n", KIT_RECIPIENT);
	assert_int_equal(age_recipient_list_add_file_text(&rl, file, strlen(file), "r.txt"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'r.txt': line 3: unknown recipient type");
	age_recipient_list_release(&rl);
	assert_int_equal(age_recipient_list_add_file_text(&rl, "#\n", 2, "r.txt"), GS_ERR_PARSE);
	assert_int_equal(rl.count, 0);
}

static void test_ssh_identities(void **state)
{
	static const char *const keys[] = { "test_ed25519", "test_rsa", "test_rsa_pem", "test_rsa_p8" };
	struct age_identity_list l = { 0 };
	struct gs_buf b;
	char pub[4096], got[4096], name[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		load_identities(keys[i], &l);
		assert_int_equal(l.count, 1);
		snprintf(name, sizeof(name), "%s.pub", keys[i]);
		pub_line(name, pub, sizeof(pub));
		assert_int_equal(age_identity_recipient_string(l.items[0], got, sizeof(got)), 0);
		assert_string_equal(got, pub);
		age_identity_list_release(&l);
	}
	/* read without its passphrase: the public key is in the clear */
	load_identities("test_ed25519_enc", &l);
	assert_int_equal(l.count, 1);
	assert_non_null(l.items[0]->locked);
	pub_line("test_ed25519_enc.pub", pub, sizeof(pub));
	assert_int_equal(age_identity_recipient_string(l.items[0], got, sizeof(got)), 0);
	assert_string_equal(got, pub);
	age_identity_list_release(&l);
	read_text("test_rsa_1024", &b);
	assert_int_equal(age_identity_list_add_text(&l, (char *)b.data, b.len, "small"), GS_ERR_KEY);
	gs_buf_release(&b);
	/* A truncated OpenSSH key. */
	read_text("test_ed25519", &b);
	b.data[b.len / 2] = '\0';
	assert_int_not_equal(age_identity_list_add_text(&l, (char *)b.data, b.len / 2, "cut"), 0);
	gs_buf_release(&b);
	assert_int_equal(l.count, 0);
}

static void fill_pattern(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 8));
}

/* Encrypts len bytes, checks the size law of spec §6, decrypts with ids. */
static void round_trip(const struct age_recipient_list *rl, const struct age_identity_list *ids, size_t len,
		       bool armor)
{
	uint8_t *pt = malloc(len ? len : 1);
	struct gs_buf ct, out;
	size_t chunks;

	assert_non_null(pt);
	fill_pattern(pt, len);
	assert_int_equal(age_encrypt_mem(rl, armor, pt, len, &ct), 0);
	if (!armor) {
		struct gs_mem_source src;
		struct gs_reader r = gs_reader_from_mem(&src, ct.data, ct.len);
		struct age_bufin in;
		struct age_header h;

		assert_int_equal(age_bufin_init(&in, &r, 65536), 0);
		assert_int_equal(age_header_parse(&in, &h), 0);
		assert_int_equal(h.count, rl->count);
		chunks = len == 0 ? 1 : (len + AGE_CHUNK_SIZE - 1) / AGE_CHUNK_SIZE;
		/* No empty final chunk unless the plaintext is empty. */
		assert_int_equal(ct.len - (src.pos - (in.len - in.pos)),
				 AGE_NONCE_SIZE + len + chunks * AGE_TAG_SIZE);
		age_header_release(&h);
		age_bufin_release(&in);
	} else {
		assert_int_equal(memcmp(ct.data, AGE_ARMOR_BEGIN "\n", strlen(AGE_ARMOR_BEGIN) + 1), 0);
		assert_true(age_looks_like_age(ct.data, ct.len));
	}
	if (age_decrypt_mem(ids, ct.data, ct.len, &out) != 0)
		fail_msg("decrypt of %zu bytes failed: %s", len, gs_error_message());
	assert_true(out.secure);
	assert_int_equal(out.len, len);
	if (len)
		assert_memory_equal(out.data, pt, len);
	gs_buf_release(&out);
	gs_buf_release(&ct);
	free(pt);
}

static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 200000 };

static void test_round_trip_x25519(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids[3] = { { 0 } }, all = { 0 };
	struct age_identity *id;
	char rec[128];
	size_t i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		assert_int_equal(age_identity_generate(&id), 0);
		assert_int_equal(age_identity_recipient_string(id, rec, sizeof(rec)), 0);
		assert_int_equal(age_recipient_list_add(&rl, recipient(rec)), 0);
		assert_int_equal(age_identity_list_add(&ids[k], id), 0);
	}
	/* One recipient. */
	{
		struct age_recipient_list one = { rl.items, 1 };

		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			round_trip(&one, &ids[0], sizes[i], false);
	}
	/* Several: each identity alone opens the file. */
	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			round_trip(&rl, &ids[k], sizes[i], i % 2 == 0);
	/* An unrelated identity does not. */
	{
		struct gs_buf ct, out;
		const uint8_t msg[] = "hello";

		assert_int_equal(age_identity_generate(&id), 0);
		assert_int_equal(age_identity_list_add(&all, id), 0);
		assert_int_equal(age_encrypt_mem(&rl, false, msg, 5, &ct), 0);
		assert_int_equal(age_decrypt_mem(&all, ct.data, ct.len, &out), GS_ERR_AGE_NO_MATCH);
		assert_string_equal(gs_error_message(), "no identity matched any of the recipients");
		assert_int_equal(out.len, 0);
		gs_buf_release(&ct);
	}
	age_identity_list_release(&all);
	for (k = 0; k < 3; k++)
		age_identity_list_release(&ids[k]);
	age_recipient_list_release(&rl);
}

static void test_round_trip_scrypt(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 }, wrong = { 0 };
	struct age_recipient *r;
	struct gs_buf ct, out;
	size_t i;

	(void)state;
	assert_int_equal(age_recipient_scrypt("correct horse", 13, 10, &r), 0);
	assert_int_equal(age_recipient_list_add(&rl, r), 0);
	assert_int_equal(age_identity_list_add_passphrase(&ids, "correct horse", 13), 0);
	assert_int_equal(age_identity_list_add_passphrase(&wrong, "correct horsf", 13), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(&rl, &ids, sizes[i], i == 1);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), 0);
	assert_true(age_is_passphrase_file(ct.data, ct.len));
	assert_int_equal(strncmp((char *)ct.data, "age-encryption.org/v1\n-> scrypt ", 32), 0);
	assert_non_null(memmem(ct.data, 100, " 10\n", 4));
	assert_int_equal(age_decrypt_mem(&wrong, ct.data, ct.len, &out), GS_ERR_AGE_NO_MATCH);
	gs_buf_release(&ct);
	/* An scrypt recipient must be alone. */
	assert_int_equal(age_recipient_list_add(&rl, recipient(KIT_RECIPIENT)), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), GS_ERR_USAGE);
	assert_int_equal(age_recipient_scrypt("", 0, 10, &r), GS_ERR_KEY);
	assert_int_equal(age_recipient_scrypt("p", 1, 23, &r), GS_ERR_USAGE);
	age_identity_list_release(&ids);
	age_identity_list_release(&wrong);
	age_recipient_list_release(&rl);
}

static void test_scrypt_work_factor(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(age_scrypt_parse_log_n("18", &n), 0);
	assert_int_equal(n, 18);
	assert_int_equal(age_scrypt_parse_log_n("1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_not_equal(age_scrypt_parse_log_n("", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("0", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("010", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("+10", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("-10", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("0xa", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("10a", &n), 0);
	assert_int_not_equal(age_scrypt_parse_log_n("99999999999999999999999", &n), 0);
}

static void round_trip_ssh(const char *key)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 }, other = { 0 };
	char pub[4096], name[64];
	struct gs_buf ct, out;
	size_t i;

	snprintf(name, sizeof(name), "%s.pub", key);
	pub_line(name, pub, sizeof(pub));
	assert_int_equal(age_recipient_list_add(&rl, recipient(pub)), 0);
	load_identities(key, &ids);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(&rl, &ids, sizes[i], i == 2);
	/* Another SSH key of the same type is not a match. */
	load_identities(strcmp(key, "test_ed25519") == 0 ? "test_rsa" : "test_ed25519", &other);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), 0);
	assert_int_equal(age_decrypt_mem(&other, ct.data, ct.len, &out), GS_ERR_AGE_NO_MATCH);
	if (have_age_cli) {
		/* The age CLI opens ours, and we open its. */
		write_file("ours.age", ct.data, ct.len);
		sh("age -d -i %s/%s -o %s/ours.out %s/ours.age", tmpdir, key, tmpdir, tmpdir);
		read_text("ours.out", &out);
		assert_int_equal(out.len, 1);
		assert_int_equal(out.data[0], 'x');
		gs_buf_release(&out);
		sh("printf 'from the age cli' | age -R %s/%s.pub -o %s/theirs.age", tmpdir, key, tmpdir);
		gs_buf_release(&ct);
		read_text("theirs.age", &ct);
		assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), 0);
		assert_int_equal(out.len, 16);
		assert_memory_equal(out.data, "from the age cli", 16);
		gs_buf_release(&out);
	}
	gs_buf_release(&ct);
	age_identity_list_release(&ids);
	age_identity_list_release(&other);
	age_recipient_list_release(&rl);
}

static const char *test_passphrase;
static int passphrase_asked;

static int give_passphrase(const char *key_name, struct gs_buf *out)
{
	(void)key_name;
	passphrase_asked++;
	return gs_buf_append_str(out, test_passphrase);
}

static int refuse_passphrase(const char *key_name, struct gs_buf *out)
{
	(void)out;
	passphrase_asked++;
	return GS_FAIL(GS_ERR_KEY, "'%s': asked for a passphrase", key_name);
}

/* Encrypts "x" for rl, decrypts it with ids, twice (the second time
 * without a question), releases both; the first decryption's result. */
static int round_trip_x(struct age_recipient_list *rl, struct age_identity_list *ids)
{
	struct gs_buf ct, out;
	int ret;

	assert_int_equal(age_encrypt_mem(rl, false, (const uint8_t *)"x", 1, &ct), 0);
	ret = age_decrypt_mem(ids, ct.data, ct.len, &out);
	if (ret == 0) {
		assert_int_equal(out.len, 1);
		assert_int_equal(out.data[0], 'x');
		/* decrypted once: the second file does not ask again */
		gs_buf_release(&out);
		assert_int_equal(age_decrypt_mem(ids, ct.data, ct.len, &out), 0);
		gs_buf_release(&out);
	}
	gs_buf_release(&ct);
	age_identity_list_release(ids);
	age_recipient_list_release(rl);
	return ret;
}

/* Encrypts "x" to the .pub of public and decrypts it with the identity
 * file key; the result code. */
static int open_with(const char *public, const char *key)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 };
	char pub[4096], name[128];

	snprintf(name, sizeof(name), "%s.pub", public);
	pub_line(name, pub, sizeof(pub));
	assert_int_equal(age_recipient_list_add(&rl, recipient(pub)), 0);
	load_identities(key, &ids);
	return round_trip_x(&rl, &ids);
}

/* Passphrase-protected OpenSSH keys made by ssh-keygen with each cipher
 * (bcrypt_pbkdf, the ciphers and the check words against OpenSSH's own). */
static void test_ssh_passphrase_keys(void **state)
{
	static const char *const ciphers[] = { "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc",
					       "aes192-cbc", "aes256-cbc", "aes128-gcm@openssh.com",
					       "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com" };
	struct age_identity_list l = { 0 };
	struct gs_buf b;
	char key[128];
	size_t i;

	(void)state;
	age_ssh_passphrase_source(give_passphrase);
	test_passphrase = "secret";
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		snprintf(key, sizeof(key), "test_ed25519_%s", ciphers[i]);
		passphrase_asked = 0;
		if (open_with("test_ed25519", key) != 0)
			fail_msg("%s: %s", key, gs_error_message());
		assert_int_equal(passphrase_asked, 1);
	}
	passphrase_asked = 0;
	assert_int_equal(open_with("test_rsa", "test_rsa_enc"), 0);
	assert_int_equal(passphrase_asked, 1);
	/* PEM: the public key from KEY.pub, KEY as named (here, in tmpdir) */
	{
		static const char *const pem[] = { "test_rsa_PEM", "test_rsa_PKCS8", "test_rsa_des3" };
		char cwd[4096];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(tmpdir), 0);
		for (i = 0; i < sizeof(pem) / sizeof(pem[0]); i++) {
			passphrase_asked = 0;
			if (open_with("test_rsa_pem", pem[i]) != 0)
				fail_msg("%s: %s", pem[i], gs_error_message());
			assert_int_equal(passphrase_asked, 1);
		}
		test_passphrase = "wrong";
		for (i = 0; i < sizeof(pem) / sizeof(pem[0]); i++) {
			char want[128];

			assert_int_equal(open_with("test_rsa_pem", pem[i]), GS_ERR_KEY);
			snprintf(want, sizeof(want), "'%s': incorrect passphrase", pem[i]);
			assert_string_equal(gs_error_message(), want);
		}
		test_passphrase = "secret";
		/* a .pub beside it of another key (as age: refused, not "no match") */
		sh("cd %s && cp test_rsa_PEM test_rsa_PEM_other && cp test_rsa.pub test_rsa_PEM_other.pub", tmpdir);
		assert_int_equal(open_with("test_rsa", "test_rsa_PEM_other"), GS_ERR_KEY);
		assert_string_equal(gs_error_message(),
				    "'test_rsa_PEM_other': the private key does not match the file's public key");
		assert_int_equal(rename("test_rsa_PEM.pub", "moved.pub"), 0);
		read_text("test_rsa_PEM", &b);
		assert_int_equal(age_identity_list_add_file_text(&l, (char *)b.data, b.len, "test_rsa_PEM"), GS_ERR_KEY);
		assert_string_equal(gs_error_message(),
				    "'test_rsa_PEM' is passphrase-protected and its public key 'test_rsa_PEM.pub' cannot "
				    "be read (ssh-keygen -p -f KEY converts the key to the OpenSSH format, which holds it)");
		/* text that is no file (a variable, a command's output): no KEY.pub looked for */
		assert_int_equal(rename("moved.pub", "test_rsa_PEM.pub"), 0);
		assert_int_equal(age_identity_list_add_text(&l, (char *)b.data, b.len, "test_rsa_PEM"), GS_ERR_KEY);
		assert_non_null(strstr(gs_error_message(), "given as no file, so it has no .pub file beside it"));
		gs_buf_release(&b);
		assert_int_equal(chdir(cwd), 0);
	}
	/* a stanza for another key never asks */
	passphrase_asked = 0;
	assert_int_equal(open_with("test_rsa", "test_ed25519_aes256-ctr"), GS_ERR_AGE_NO_MATCH);
	assert_int_equal(open_with("test_ed25519", "test_rsa_enc"), GS_ERR_AGE_NO_MATCH);
	assert_int_equal(passphrase_asked, 0);
	/* a wrong passphrase: the check words (CTR) or the tag (GCM) differ */
	test_passphrase = "wrong";
	assert_int_equal(open_with("test_ed25519", "test_ed25519_aes256-ctr"), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'test_ed25519_aes256-ctr': incorrect passphrase");
	assert_int_equal(open_with("test_ed25519", "test_ed25519_aes256-gcm@openssh.com"), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'test_ed25519_aes256-gcm@openssh.com': incorrect passphrase");
	assert_int_equal(passphrase_asked, 2);
	/* nobody to ask */
	age_ssh_passphrase_source(NULL);
	assert_int_equal(open_with("test_ed25519_enc", "test_ed25519_enc"), GS_ERR_KEY);
	assert_string_equal(gs_error_message(),
			    "'test_ed25519_enc' is passphrase-protected and no passphrase can be asked for");
	/* another identity that opens the file is tried first: no question */
	{
		struct age_recipient_list rl = { 0 };
		char pub[4096];
		struct gs_buf ct, out;

		pub_line("test_ed25519.pub", pub, sizeof(pub));
		assert_int_equal(age_recipient_list_add(&rl, recipient(pub)), 0);
		pub_line("test_rsa.pub", pub, sizeof(pub));
		assert_int_equal(age_recipient_list_add(&rl, recipient(pub)), 0);
		load_identities("test_ed25519_aes256-ctr", &l);
		load_identities("test_rsa", &l);
		assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), 0);
		assert_int_equal(age_decrypt_mem(&l, ct.data, ct.len, &out), 0);
		gs_buf_release(&out);
		gs_buf_release(&ct);
		age_identity_list_release(&l);
		age_recipient_list_release(&rl);
	}
	/* a cipher gitseal does not have: said when the file is read */
	read_text("test_ed25519_aes256-ctr", &b);
	memcpy(strstr((char *)b.data, "\n") + 1, "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni14eHg", 39); /* aes256-xxx */
	assert_int_equal(age_identity_list_add_text(&l, (char *)b.data, b.len, "id_xxx"), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'id_xxx' is passphrase-protected with the cipher 'aes256-xxx', "
						"which is not supported (ssh-keygen -p -Z aes256-ctr -f KEY changes it)");
	gs_buf_release(&b);
	gs_error_clear();
}

/* ---- hand-made passphrase-protected OpenSSH keys ----
 * The error paths ssh-keygen never writes: an openssh-key-v1 file made here
 * from its parts, the private section encrypted with the code's own
 * bcrypt_pbkdf and OpenSSL's AES-256-CTR. Keys from fixed seeds: test keys
 * of no one. */
struct made_key {
	const char *cipher, *kdf;   /* the names written */
	uint32_t rounds;
	uint8_t pub_seed, priv_seed; /* each part's ed25519 key, from a seed of that byte */
	uint32_t check_xor;         /* unequal check words in the clear */
	int flip;                   /* a ciphertext byte at this offset flipped, -1 none */
	size_t cut;                 /* bytes cut off the private section's end */
	const char *pass;
};

static void put_u32(struct gs_buf *b, uint32_t v)
{
	uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	assert_int_equal(gs_buf_append(b, be, 4), 0);
}

static void put_str(struct gs_buf *b, const void *s, size_t n)
{
	put_u32(b, (uint32_t)n);
	assert_int_equal(gs_buf_append(b, s, n), 0);
}

static void ed25519_from_byte(uint8_t byte, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];

	memset(seed, byte, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

/* The key file's text into text (released by the caller). */
static void make_key(const struct made_key *m, struct gs_buf *text)
{
	static const uint8_t salt[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t pk[32], sk[64], kiv[48] = { 0 };
	struct gs_buf pub, opts, priv, blob;
	char *b64;
	size_t i;

	gs_buf_init(&pub, false);
	gs_buf_init(&opts, false);
	gs_buf_init(&priv, true);
	gs_buf_init(&blob, false);
	ed25519_from_byte(m->pub_seed, pk, sk);
	put_str(&pub, "ssh-ed25519", 11);
	put_str(&pub, pk, 32);
	put_str(&opts, salt, sizeof(salt));
	put_u32(&opts, m->rounds);
	ed25519_from_byte(m->priv_seed, pk, sk);
	put_u32(&priv, 0x5eed1e55);
	put_u32(&priv, 0x5eed1e55 ^ m->check_xor);
	put_str(&priv, "ssh-ed25519", 11);
	put_str(&priv, pk, 32);
	put_str(&priv, sk, 64);
	put_str(&priv, "made", 4);
	for (i = 1; priv.len % 16; i++)
		assert_int_equal(gs_buf_append(&priv, (uint8_t[]){ (uint8_t)i }, 1), 0);
	/* over the cap: never derived, here or by the code */
	if (m->rounds <= 64)
		assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)m->pass, strlen(m->pass), salt, sizeof(salt),
						  m->rounds, kiv, sizeof(kiv)), 0);
	{
		EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		int n = 0;

		assert_true(c && ctx);
		assert_int_equal(EVP_EncryptInit_ex(ctx, c, NULL, kiv, kiv + 32), 1);
		assert_int_equal(EVP_EncryptUpdate(ctx, priv.data, &n, priv.data, (int)priv.len), 1);
		EVP_CIPHER_CTX_free(ctx);
		EVP_CIPHER_free(c);
	}
	if (m->flip >= 0)
		priv.data[m->flip] ^= 0x40;
	assert_int_equal(gs_buf_append(&blob, "openssh-key-v1", 15), 0);
	put_str(&blob, m->cipher, strlen(m->cipher));
	put_str(&blob, m->kdf, strlen(m->kdf));
	put_str(&blob, opts.data, opts.len);
	put_u32(&blob, 1);
	put_str(&blob, pub.data, pub.len);
	put_str(&blob, priv.data, priv.len - m->cut);
	b64 = malloc(GS_BASE64_LEN(blob.len) + 1);
	assert_non_null(b64);
	gs_base64_encode(blob.data, blob.len, b64, GS_BASE64_LEN(blob.len) + 1);
	gs_buf_init(text, true);
	assert_int_equal(gs_buf_printf(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n", b64), 0);
	free(b64);
	gs_buf_release(&pub);
	gs_buf_release(&opts);
	gs_buf_release(&priv);
	gs_buf_release(&blob);
}

/* The result of reading m as an identity (GS_ERR_... or 0), then, when it
 * reads, of opening "x" encrypted to its public part's key. */
static int open_made(const struct made_key *m)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 };
	uint8_t pk[32], sk[64];
	char pub[256], b64[128];
	struct gs_buf text, blob;
	int ret;

	make_key(m, &text);
	ret = age_identity_list_add_text(&ids, (const char *)text.data, text.len, "made");
	gs_buf_release(&text);
	if (ret)
		return ret;
	gs_buf_init(&blob, false);
	ed25519_from_byte(m->pub_seed, pk, sk);
	put_str(&blob, "ssh-ed25519", 11);
	put_str(&blob, pk, 32);
	gs_base64_encode(blob.data, blob.len, b64, sizeof(b64));
	gs_buf_release(&blob);
	snprintf(pub, sizeof(pub), "ssh-ed25519 %s", b64);
	assert_int_equal(age_recipient_list_add(&rl, recipient(pub)), 0);
	return round_trip_x(&rl, &ids);
}

/* The error paths of protected keys, each one line, none asking for a
 * passphrase it cannot use. */
static void test_ssh_passphrase_errors(void **state)
{
	/* the offsets in the private section: check words 0-7, the type's
	 * length 8-11, its name from 12 */
	const struct made_key good = { "aes256-ctr", "bcrypt", 2, 7, 7, 0, -1, 0, "pw" };
	struct made_key m;
	char want[256];

	(void)state;
	age_ssh_passphrase_source(give_passphrase);
	test_passphrase = "pw";
	passphrase_asked = 0;
	assert_int_equal(open_made(&good), 0);
	assert_int_equal(passphrase_asked, 1);

	/* more rounds than the cap: refused when read, never derived, no
	 * question (a question here would fail at once, not derive for minutes) */
	passphrase_asked = 0;
	age_ssh_passphrase_source(refuse_passphrase);
	for (uint32_t rounds = AGE_SSH_BCRYPT_ROUNDS_MAX + 1; rounds; rounds = rounds == UINT32_MAX ? 0 : UINT32_MAX) {
		m = good;
		m.rounds = rounds;
		assert_int_equal(open_made(&m), GS_ERR_KEY);
		snprintf(want, sizeof(want), "'made' is passphrase-protected with %u bcrypt rounds, more than %d "
			 "(ssh-keygen -p -a 100 -f KEY lowers them)", rounds, AGE_SSH_BCRYPT_ROUNDS_MAX);
		assert_string_equal(gs_error_message(), want);
	}
	age_ssh_passphrase_source(give_passphrase);
	/* the cap itself reads (its work is only done for a stanza of the key) */
	{
		struct age_identity_list ids = { 0 };
		struct gs_buf text;

		m = good;
		m.rounds = AGE_SSH_BCRYPT_ROUNDS_MAX;
		make_key(&m, &text);
		assert_int_equal(age_identity_list_add_text(&ids, (const char *)text.data, text.len, "made"), 0);
		gs_buf_release(&text);
		age_identity_list_release(&ids);
	}
	/* a key derivation or a cipher gitseal does not have, named as shown */
	m = good;
	m.kdf = "scrypt";
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made' is passphrase-protected with the key derivation 'scrypt', "
						"which is not supported (OpenSSH writes bcrypt)");
	m.kdf = "bcrypt\n";
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made' is passphrase-protected with the key derivation 'bcrypt\\x0a', "
						"which is not supported (OpenSSH writes bcrypt)");
	m = good;
	m.cipher = "3des-cbc";
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made' is passphrase-protected with the cipher '3des-cbc', which is "
						"not supported (ssh-keygen -p -Z aes256-ctr -f KEY changes it)");
	/* no cipher but a key derivation: not a file OpenSSH writes */
	m = good;
	m.cipher = "none";
	assert_int_equal(open_made(&m), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'made': malformed OpenSSH private key");
	assert_int_equal(passphrase_asked, 0);

	/* the private part of another key than the public part */
	m = good;
	m.priv_seed = 8;
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made': the private key does not match the file's public key");
	assert_int_equal(passphrase_asked, 1);

	/* a wrong passphrase: the check words differ; a damaged file past
	 * them: the right passphrase, a key that does not read */
	passphrase_asked = 0;
	test_passphrase = "wrong";
	assert_int_equal(open_made(&good), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made': incorrect passphrase");
	test_passphrase = "pw";
	m = good;
	m.flip = 12; /* the key type's name */
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made': unsupported ssh key type");
	m.flip = 8 + 4 + 11 + 4 + 32 + 4 + 5; /* the ed25519 seed */
	assert_int_equal(open_made(&m), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "'made': the private key does not match its public key (a damaged key file)");
	m.flip = 8 + 4 + 11 + 4 + 32 + 4 + 40; /* the public key's copy in the secret key */
	assert_int_equal(open_made(&m), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'made': malformed OpenSSH private key");
	assert_int_equal(passphrase_asked, 4);

	/* a section cut short: not whole blocks, or a string past its end */
	passphrase_asked = 0;
	m = good;
	m.cut = 5;
	assert_int_equal(open_made(&m), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'made': malformed OpenSSH private key");
	m.cut = 16 * 5; /* whole blocks: the key's strings run past the end */
	assert_int_equal(open_made(&m), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'made': malformed OpenSSH private key");
	assert_int_equal(passphrase_asked, 1);
	/* an authenticated cipher without its tag */
	m = good;
	m.cipher = "aes256-gcm@openssh.com";
	assert_int_equal(open_made(&m), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'made': malformed OpenSSH private key");
	age_ssh_passphrase_source(NULL);
	gs_error_clear();
}

/* A big-endian u32 at b, and the offset past the string it prefixes. */
static size_t skip_str(const uint8_t *b, size_t at, size_t len)
{
	uint32_t n;

	assert_true(at + 4 <= len);
	n = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
	assert_true(n <= len - at - 4);
	return at + 4 + n;
}

/* A damaged unencrypted ssh-rsa key from ssh-keygen (a byte of d, iqmp, p
 * or q changed): refused when read as a damaged key file, not later as a
 * stanza that does not decrypt. */
static void test_ssh_rsa_damaged(void **state)
{
	struct gs_buf text, out;
	const char *b, *e;
	uint8_t *blob;
	size_t len, at, field;
	char *b64;

	(void)state;
	read_text("test_rsa", &text);
	b = strchr((const char *)text.data, '\n') + 1;
	e = strstr(b, "-----END");
	assert_non_null(e);
	b64 = malloc((size_t)(e - b) + 1);
	blob = malloc((size_t)(e - b));
	assert_true(b64 && blob);
	len = 0;
	for (const char *c = b; c < e; c++)
		if (*c != '\n')
			b64[len++] = *c;
	assert_int_equal(gs_base64_decode(b64, len, blob, &len), 0);
	for (field = 0; field < 4; field++) {
		struct age_identity_list ids = { 0 };
		size_t k;

		/* magic, cipher, kdf, its options, the key count, the public key,
		 * then in the private section: check words, the type, n, e, then
		 * d, iqmp, p, q */
		at = 15;
		for (k = 0; k < 3; k++)
			at = skip_str(blob, at, len);
		at = skip_str(blob, at + 4, len);
		at += 4 + 8;
		for (k = 0; k < 3 + field; k++)
			at = skip_str(blob, at, len);
		assert_true(skip_str(blob, at, len) > at + 4 + 40);
		blob[at + 4 + 20] ^= 0x10;
		gs_base64_encode(blob, len, b64, (size_t)(e - b) + 1);
		blob[at + 4 + 20] ^= 0x10;
		gs_buf_init(&out, true);
		assert_int_equal(gs_buf_printf(&out, "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n"
						     "-----END OPENSSH PRIVATE KEY-----\n", b64), 0);
		assert_int_equal(age_identity_list_add_text(&ids, (const char *)out.data, out.len, "damaged"),
				 GS_ERR_KEY);
		assert_string_equal(gs_error_message(),
				    "'damaged': the ssh-rsa private key's parts do not agree (a damaged key file)");
		gs_buf_release(&out);
		age_identity_list_release(&ids);
	}
	free(b64);
	free(blob);
	gs_buf_release(&text);
	gs_error_clear();
}

/* The protected key that alone of a list is a file's recipient: its
 * recipient string, then the end or a comment. */
static void test_ssh_locked_only(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list l = { 0 };
	char ed[4096], rsa[4096], longer[4200], commented[4200];
	const char *both[2], *why = "unset";
	struct gs_buf ct, out;

	(void)state;
	pub_line("test_ed25519.pub", ed, sizeof(ed));
	pub_line("test_rsa.pub", rsa, sizeof(rsa));
	snprintf(commented, sizeof(commented), "%s test-ed", ed);
	snprintf(longer, sizeof(longer), "%sA", ed);
	load_identities("test_ed25519_aes256-ctr", &l);
	assert_string_equal(age_identity_list_locked_only(&l, (const char *const[]){ commented }, 1, &why),
			    "test_ed25519_aes256-ctr");
	assert_null(why); /* not tried */
	assert_string_equal(age_identity_list_locked_only(&l, (const char *const[]){ ed }, 1, NULL),
			    "test_ed25519_aes256-ctr");
	assert_null(age_identity_list_locked_only(&l, (const char *const[]){ longer }, 1, NULL));
	assert_null(age_identity_list_locked_only(&l, (const char *const[]){ rsa }, 1, NULL));
	/* tried with a wrong passphrase: why it did not open */
	age_ssh_passphrase_source(give_passphrase);
	test_passphrase = "wrong";
	assert_int_equal(age_recipient_list_add(&rl, recipient(ed)), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), 0);
	assert_int_equal(age_decrypt_mem(&l, ct.data, ct.len, &out), GS_ERR_KEY);
	assert_non_null(age_identity_list_locked_only(&l, (const char *const[]){ ed }, 1, &why));
	assert_string_equal(why, "'test_ed25519_aes256-ctr': incorrect passphrase");
	gs_buf_release(&ct);
	age_recipient_list_release(&rl);
	age_ssh_passphrase_source(NULL);
	/* another identity of the list that is a recipient too: no key to name */
	load_identities("test_rsa", &l);
	both[0] = commented;
	both[1] = rsa;
	assert_null(age_identity_list_locked_only(&l, both, 2, &why));
	assert_null(why);
	assert_string_equal(age_identity_list_locked_only(&l, both, 1, NULL), "test_ed25519_aes256-ctr");
	age_identity_list_release(&l);
	gs_error_clear();
}

static void test_round_trip_ssh_ed25519(void **state)
{
	(void)state;
	round_trip_ssh("test_ed25519");
}

static void test_round_trip_ssh_rsa(void **state)
{
	(void)state;
	round_trip_ssh("test_rsa");
	round_trip_ssh("test_rsa_pem");
	round_trip_ssh("test_rsa_p8");
}

static void test_age_cli_x25519(void **state)
{
	struct age_identity_list ids = { 0 };
	struct gs_buf ct, out;

	(void)state;
	if (!have_age_cli)
		skip();
	assert_int_equal(age_identity_list_add_text(&ids, KIT_IDENTITY, strlen(KIT_IDENTITY), "kit"), 0);
	sh("head -c 200000 /dev/zero | age -r %s -o %s/cli.age", KIT_RECIPIENT, tmpdir);
	read_text("cli.age", &ct);
	assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), 0);
	assert_int_equal(out.len, 200000);
	gs_buf_release(&out);
	gs_buf_release(&ct);
	sh("printf abc | age -a -r %s -o %s/cli.asc", KIT_RECIPIENT, tmpdir);
	read_text("cli.asc", &ct);
	assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), 0);
	assert_int_equal(out.len, 3);
	gs_buf_release(&out);
	gs_buf_release(&ct);
	age_identity_list_release(&ids);
}

/* A writer that records how much was released. */
static int count_write(void *ctx, const uint8_t *buf, size_t n)
{
	(void)buf;
	*(size_t *)ctx += n;
	return 0;
}

static int decrypt_counting(const struct age_identity_list *ids, const struct gs_buf *ct, size_t *released)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, ct->data, ct->len);
	struct gs_writer w = { count_write, released, NULL };

	*released = 0;
	return age_decrypt(ids, &r, &w);
}

static void test_tampering(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 };
	uint8_t pt[200000];
	struct gs_buf ct;
	size_t released, hdr_len;
	uint8_t *mac_line, saved;

	(void)state;
	fill_pattern(pt, sizeof(pt));
	assert_int_equal(age_recipient_list_add(&rl, recipient(KIT_RECIPIENT)), 0);
	assert_int_equal(age_identity_list_add_text(&ids, KIT_IDENTITY, strlen(KIT_IDENTITY), "kit"), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, pt, sizeof(pt), &ct), 0);
	assert_int_equal(decrypt_counting(&ids, &ct, &released), 0);
	assert_int_equal(released, sizeof(pt));
	mac_line = memmem(ct.data, ct.len, "\n--- ", 5);
	assert_non_null(mac_line);
	hdr_len = (size_t)(mac_line - ct.data) + 5 + 43 + 1;

	/* The wrapped key in the stanza body: the stanza no longer opens. */
	saved = ct.data[hdr_len - 60];
	ct.data[hdr_len - 60] = saved == 'A' ? 'B' : 'A';
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_NO_MATCH);
	assert_int_equal(released, 0);
	ct.data[hdr_len - 60] = saved;
	/* The MAC itself: flip a bit of a base64 character's value. */
	saved = ct.data[hdr_len - 10];
	ct.data[hdr_len - 10] = saved == 'A' ? 'B' : 'A';
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_HMAC);
	assert_string_equal(gs_error_message(), "header MAC mismatch");
	assert_int_equal(released, 0);
	ct.data[hdr_len - 10] = saved;
	/* The stanza type: an unknown type is ignored, so nothing matches. */
	mac_line = memmem(ct.data, ct.len, "-> X25519 ", 10);
	assert_non_null(mac_line);
	mac_line[3] = 'Y';
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_NO_MATCH);
	mac_line[3] = 'X';
	/* A version line change is a header failure. */
	ct.data[20] = '2';
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_HEADER);
	assert_int_equal(released, 0);
	ct.data[20] = '1';
	gs_buf_release(&ct);

	/* The payload: the first two chunks are released, the third fails. */
	assert_int_equal(age_encrypt_mem(&rl, false, pt, sizeof(pt), &ct), 0);
	mac_line = memmem(ct.data, ct.len, "\n--- ", 5);
	hdr_len = (size_t)(mac_line - ct.data) + 5 + 43 + 1;
	ct.data[hdr_len + AGE_NONCE_SIZE + 2 * AGE_CHUNK_CT_SIZE + 5] ^= 0x80;
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_PAYLOAD);
	assert_int_equal(released, 2 * AGE_CHUNK_SIZE);
	{
		struct gs_buf out;

		/* The in-memory API releases nothing at all. */
		assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), GS_ERR_AGE_PAYLOAD);
		assert_int_equal(out.len, 0);
		assert_null(out.data);
	}
	ct.data[hdr_len + AGE_NONCE_SIZE + 2 * AGE_CHUNK_CT_SIZE + 5] ^= 0x80;
	/* Truncation: in the last chunk, at a chunk boundary, in the nonce. */
	ct.len -= 1;
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_PAYLOAD);
	ct.len = hdr_len + AGE_NONCE_SIZE + 2 * AGE_CHUNK_CT_SIZE;
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_PAYLOAD);
	assert_string_equal(gs_error_message(), "truncated payload: missing final chunk");
	assert_int_equal(released, 2 * AGE_CHUNK_SIZE);
	ct.len = hdr_len + 5;
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_HEADER);
	ct.len = hdr_len - 10;
	assert_int_equal(decrypt_counting(&ids, &ct, &released), GS_ERR_AGE_HEADER);
	assert_int_equal(released, 0);
	gs_buf_release(&ct);
	age_identity_list_release(&ids);
	age_recipient_list_release(&rl);
}

static void test_armor(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 };
	struct gs_buf ct, out, crlf;
	uint8_t pt[1000];
	size_t i, col = 0;

	(void)state;
	fill_pattern(pt, sizeof(pt));
	assert_int_equal(age_recipient_list_add(&rl, recipient(KIT_RECIPIENT)), 0);
	assert_int_equal(age_identity_list_add_text(&ids, KIT_IDENTITY, strlen(KIT_IDENTITY), "kit"), 0);
	assert_int_equal(age_encrypt_mem(&rl, true, pt, sizeof(pt), &ct), 0);
	/* Lines of at most 64 columns, END with a final LF. */
	for (i = 0; i < ct.len; i++) {
		if (ct.data[i] == '\n') {
			col = 0;
			continue;
		}
		assert_true(++col <= 64);
	}
	assert_int_equal(memcmp(ct.data + ct.len - strlen(AGE_ARMOR_END) - 1, AGE_ARMOR_END "\n",
				strlen(AGE_ARMOR_END) + 1), 0);
	assert_false(age_is_passphrase_file(ct.data, ct.len));
	/* CRLF and surrounding whitespace are accepted. */
	gs_buf_init(&crlf, false);
	assert_int_equal(gs_buf_append_str(&crlf, " \n\t\r\n"), 0);
	for (i = 0; i < ct.len; i++) {
		if (ct.data[i] == '\n')
			assert_int_equal(gs_buf_append(&crlf, "\r", 1), 0);
		assert_int_equal(gs_buf_append(&crlf, &ct.data[i], 1), 0);
	}
	assert_int_equal(gs_buf_append_str(&crlf, "\n  \n"), 0);
	assert_int_equal(age_decrypt_mem(&ids, crlf.data, crlf.len, &out), 0);
	assert_int_equal(out.len, sizeof(pt));
	assert_memory_equal(out.data, pt, sizeof(pt));
	gs_buf_release(&out);
	/* A data line with a stray space is an armor failure. */
	crlf.data[strlen(" \n\t\r\n" AGE_ARMOR_BEGIN "\r\n") + 3] = ' ';
	assert_int_equal(age_decrypt_mem(&ids, crlf.data, crlf.len, &out), GS_ERR_AGE_ARMOR);
	assert_int_equal(strncmp(gs_error_message(), "invalid armor: ", 15), 0);
	gs_buf_release(&crlf);
	/* A long line. */
	gs_buf_init(&crlf, false);
	assert_int_equal(gs_buf_printf(&crlf, "%s\n%s\n", AGE_ARMOR_BEGIN,
				       "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FYAAAA"), 0);
	assert_int_equal(age_decrypt_mem(&ids, crlf.data, crlf.len, &out), GS_ERR_AGE_ARMOR);
	assert_string_equal(gs_error_message(), "invalid armor: line longer than 64 columns");
	gs_buf_release(&crlf);
	/* Truncated armor: no END line. */
	ct.len -= strlen(AGE_ARMOR_END) + 1;
	assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), GS_ERR_AGE_ARMOR);
	gs_buf_release(&ct);
	/* Sizes that end on a full line and that are empty. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(&rl, &ids, sizes[i], true);
	age_identity_list_release(&ids);
	age_recipient_list_release(&rl);
}

static void test_detection(void **state)
{
	(void)state;
	assert_true(age_looks_like_age((const uint8_t *)"age-encryption.org/v1\n-> X", 26));
	assert_true(age_looks_like_age((const uint8_t *)"\n " AGE_ARMOR_BEGIN, 2 + strlen(AGE_ARMOR_BEGIN)));
	assert_false(age_looks_like_age((const uint8_t *)"hello", 5));
	assert_false(age_looks_like_age((const uint8_t *)"", 0));
	assert_false(age_is_passphrase_file((const uint8_t *)"hello", 5));
}

/* Parsing a good header records no error: each stanza line once formatted
 * "malformed stanza line" on its way through (a vsnprintf per stanza, and
 * a message left behind for whoever read it next). */
static void test_good_header_leaves_no_error(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity *id;
	struct gs_mem_source src;
	struct gs_reader r;
	struct age_bufin in;
	struct age_header h;
	struct gs_buf ct;
	char rec[128];

	(void)state;
	assert_int_equal(age_identity_generate(&id), 0);
	assert_int_equal(age_identity_recipient_string(id, rec, sizeof(rec)), 0);
	age_identity_free(id);
	assert_int_equal(age_recipient_list_add(&rl, recipient(rec)), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"hello", 5, &ct), 0);
	r = gs_reader_from_mem(&src, ct.data, ct.len);
	assert_int_equal(age_bufin_init(&in, &r, 65536), 0);
	gs_error_clear();
	assert_int_equal(age_header_parse(&in, &h), 0);
	assert_int_equal(h.count, 1);
	assert_int_equal(gs_error_code(), GS_OK);
	age_header_release(&h);
	age_bufin_release(&in);
	gs_buf_release(&ct);
	age_recipient_list_release(&rl);
}

/* A small age file (a sops stanza's data key) is read through buffers of
 * its own size: two of 128 KiB for its few hundred bytes were taken from
 * malloc's heap and given back to the kernel at every decryption (a trim),
 * so each one faulted their pages in again; a clone's first checkout does
 * one per file, on the filter's workers (docs/development.md, Benchmarks).
 * Counted in page faults with a heap that trims above 64 KiB and keeps
 * blocks below 1 MiB in it, no pad kept at its top; ASan's malloc has no such heap. */
static void test_small_decrypt_keeps_heap(void **state)
{
	struct age_recipient_list rl = { 0 };
	struct age_identity_list ids = { 0 };
	struct age_identity *id;
	struct gs_buf ct, out;
	struct rusage before, after;
	uint8_t key[32];
	char rec[128];
	long faults;
	int i;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
	assert_int_equal(age_identity_generate(&id), 0);
	assert_int_equal(age_identity_recipient_string(id, rec, sizeof(rec)), 0);
	assert_int_equal(age_recipient_list_add(&rl, recipient(rec)), 0);
	assert_int_equal(age_identity_list_add(&ids, id), 0);
	fill_pattern(key, sizeof(key));
	assert_int_equal(age_encrypt_mem(&rl, true, key, sizeof(key), &ct), 0);
	assert_true(mallopt(M_MMAP_THRESHOLD, 1024 * 1024) == 1);
	assert_true(mallopt(M_TRIM_THRESHOLD, 64 * 1024) == 1);
	assert_true(mallopt(M_TOP_PAD, 0) == 1);
	for (i = 0; i < 105; i++) {
		if (i == 5)
			assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
		assert_int_equal(age_decrypt_mem(&ids, ct.data, ct.len, &out), 0);
		assert_int_equal(out.len, sizeof(key));
		assert_memory_equal(out.data, key, sizeof(key));
		gs_buf_release(&out);
	}
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	faults = after.ru_minflt - before.ru_minflt;
	/* glibc's defaults again (the dynamic thresholds stay off) */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	mallopt(M_TOP_PAD, 128 * 1024);
	if (faults >= 50)
		fail_msg("100 decryptions of a %zu-byte age file took %ld page faults", ct.len, faults);
	gs_buf_release(&ct);
	age_identity_list_release(&ids);
	age_recipient_list_release(&rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bech32),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_identity_file),
		cmocka_unit_test(test_recipient_parsing),
		cmocka_unit_test(test_ssh_identities),
		cmocka_unit_test(test_scrypt_work_factor),
		cmocka_unit_test(test_round_trip_x25519),
		cmocka_unit_test(test_round_trip_scrypt),
		cmocka_unit_test(test_round_trip_ssh_ed25519),
		cmocka_unit_test(test_round_trip_ssh_rsa),
		cmocka_unit_test(test_age_cli_x25519),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_armor),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_good_header_leaves_no_error),
		cmocka_unit_test(test_small_decrypt_keeps_heap),
		/* after the heap test: it loads libcrypto (PEM keys), after which
		 * each small decrypt of this process faulted a page (100 in 100) */
		cmocka_unit_test(test_ssh_passphrase_keys),
		cmocka_unit_test(test_ssh_passphrase_errors),
		cmocka_unit_test(test_ssh_rsa_damaged),
		cmocka_unit_test(test_ssh_locked_only),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
