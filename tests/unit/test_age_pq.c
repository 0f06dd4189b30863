/* The post-quantum hybrid recipient type (mlkem768x25519): the worked
 * example of shared/spec/age-pq.md section 8 (made by npm age-encryption
 * 0.3.1), key encodings, round trips, the mixing rule of age 1.3 and
 * identity lines of unknown types. The test kit's 18 hybrid vectors run
 * in test_age_testkit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/age.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"
#include "../../src/pq/pq_int.h"

/* age-pq.md section 8 */
#define EXAMPLE_IDENTITY "AGE-SECRET-KEY-PQ-1XEA56ZVWXW3YD3WJHXV933KKK3UHCVEDZ2D0VNM0Q9EF9XGFQAFSTVDF58"
static const char example_recipient[] =
	"age1pq1rzmqw3ppdqav8jxed2ac7pfy9ec8shc8xv3tfy0sjudz2w90lmtm86u9tdyw2nzttpqfr9d0q2c8z2m2d3d5n37e5"
	"fytjpumhj42u6f5s50cc4pxmj9kt0xdkcpmut9k90u9d0rstv6yneu9m5fy8yxqc5mm4sepc6wtya2cs0dyppfur0e2pwm7g"
	"u3e3gcg22yxhes5cup3gzxmkfc2nc3sd7rtxhfrqn08ntdk8j8yjyezkfdju2v2r0waepjzvt9zfgcnevv2xdg58vdz2l98w"
	"fllzjv0lgzs7yyms8x359v5vgvae7f4tvjykprs42nt9dcl6cn0nuj2ffmg7w6v8htm2lgfzpsfxxy7a5z20p3f322krd2xs"
	"sukqu2gg2dp83akt337fxpmxkryg8rerdqtwfjzzwffs39hgdcaq7cn0nwf8m842z80kxnt79rv82gepw3ppcggwd40c8qyk"
	"q5vsk9hu34repdxwyx39v9nd2hy952nfg3kwqj8slj9srjhz5693udneqc8mh9y8969zl9ny7nzhf977kjpyv4hkeca9gnju"
	"dxuf24qk8c5sy5fqwmy8dguxqpp7hyqvwvgpycv4t04vgshfgav77vg6mwr22sg8evgndekkyv3nzm34s9jxsksdkaz57xu2"
	"jj0plpmhe9s5hd8r4s0jphpjj5kxe2e2nu53j7zgnyz9s32msj7t2zznuq33x2phhnegv5sghrqw4ssh4zrce9r4nz7cwfg0"
	"sdsx2plvujxvk7uypvwyq5ql2zarzzurdfehvqvtl24t3cg8xdt7zaj4wmm36nyrzxxjtgkm3rm6f5mtcakg2lcw9rsxeml2"
	"44spexgxfa4nm9pkj20nq36rpe9kq5edhftm7c6kky2jth9yyrpltx098znrnjeyuf0cywx3xlz2knm5p6j2a8fzhq5qq3ny"
	"ajxqjc8zuctw7cf8yqwyk46hj0f39vdyewgwd22kmkf5pk58p6t9cmh6xff8wvjxhu3gkr6e2ldzfyj7rmv5m09cp3pq74ve"
	"y9kmva84224lqt9cf5d2v4skp9utytym76ql56mfyu8yzq94yau3astzju3vsd2w54lskvh9w3n0kj4zagvxfxxen2es8plj"
	"ak8s2r8wjk236a94fzag7lu74rcmczugua4qfycvyjxh0r9kkrv8qjc5n9xay7mnl6fs387msl92ezr7m66cvk3z0tuprehu"
	"qpv2ygpa4zpk8thh40uc7c40q2nge5djs628scjf32qqnm99wp4n45na4rgfmhxh5nzrtrzcdz6evjtjsxrnxqveh3aw9dyx"
	"p05z3ngrrj8yev3j4msy590dfwkvzcqsney8a4rhn6nwqgkfsy96uw2w0nn30yhc85syjejxq0ckcqrzpmqp4zq0s4mqla36"
	"p6xlxd7594g8jwpkg89su0tzq0apf4yvtn9ea33z6x8nnkfckxpvucnxqem4uf2gwwgdya7qq57u8xprp72szr5q5x8gkd6t"
	"d48rwsaqe9gzasqqts23x8dcw6pckg9cra9uducq0z0gv85jdh0vzqrh8pyzwaed7uan9mmhxxtkqu6z8emy9gndmgtyl7u7"
	"xeyasvmv4yzmswrnpdpnd8lj69dnpth26qfxxj88khmt0jujwxwa5vn8k44qv325r9ytqwhx4hguqkxp733lkdq397r0n7sn"
	"j26xfqu2ftnpvjj57s3fp5x2ammcfa2364uxkekkd249966438wkc78ymffudfpwrp6guj73wm5r8qdul94gmep5ajz56dy8"
	"pj9e35hq34qqjam04nk09lm0wwcexk4sh47e2nj8l9pcyt7quz8xjexgr3aef0rg7pmmpyj3da24gnrk82nlmm0n4zc3seeg"
	"7fmv30gxq8rrrv4ad3jgk3sm0vffkke9vsyz4sx";
static const char example_enc[] =
	"HW24oujkK7fysuHSkcmQG9GaCeT+x9QjRtmVuyfY7bPI4gImxHLPtcpTSvBY1BJamRGqCXb96g4trrBh3CGeBCMVPqcfAHrE"
	"kwn/6v9inRMpoh+W6GZgyNrqV6xCYlN+2hbjTTHqb9DABipDWwlJ87cXPtgMMfESTx0BTMUfM8UNPDAWBZwE8cUMNCSNbTfU"
	"P64bKQ9Ux+xNJFEHhsO6xrZ22NvhxfNR4jHL2IkjzByEFU+PiVCWJ1+Lkgrf1p1VD7Aja2OWSTwMI4BMUr2RXJBNCllUT0sd"
	"OuuPj0+OGaHHgMeFgbf48aKd3XnW/O9OSSe/ATLc1jnZaVK4RV0phtOKYb3XXKsnN4NZKI0HeH9KUZAfnOZStPYPXDpE8N4X"
	"bicq56yKuKXp6X3SJoRBXG6QkQADJVW6XR8wrzg9CFTbHNkMDqR/ND8UMPF3hF3KIlWf/KKaqM6Mhmpdl680amrn1uGMSr/Z"
	"tadJeiek6c0TeKsS1TPWSBok+fzENFUGjqzricMad+TPOATFv/vnxZuX/Kvc/QI/iuBe+d+LH8A9GfVXPrOd50Tkmywsh9xn"
	"iX4rd52V7IA0zrwmeowI5M9tdPaLHxDkHWmMY7bBBXpc66McR9o5t0tlqJEu6rpcCfGY7udjG922yww3+HovXALCJ6hOaw/c"
	"G+p1p4VCCBSAwhbWquHdUV7Gom4QvKWf6vK0cSwhgCgEKjE+gpp+H1UvEPe2Hq9dpI/TETpvDxJFZd3WvOBBHvu1vDlhOl5F"
	"usg70NztEQw9q1oq6uHtsWBpZnyl15cXQFovnkKnwY32RlDkrVX28NnrV1+gnjW+4N6AAjKF314zdyxDECY9Xp6Nc9ra4cGF"
	"ndLfHXm+AevvFqrvLCdSnhhrbvJIqwS2J81678aGnKOz3ikmW2KsyhH75Y95nucjBlYO8x2JSyYE4vvebyTkEx+650CwERIJ"
	"OHIBeWO7LGg3hToMyEVE/IuabV9fLg3bsaMTkIpddwyFxlK2AZMTgYKxgk4eulvYbRRruIm9DIUFbaz102/aoRrWakLVyKiO"
	"0yLufYCgABneUcxQDuoHR5CgRfcksNq6xVbt500NMDAXQO7pvvWSfxiDKPG7yMZ/YD8kZ10ZafS63GXRtp36Ho+4dFySQiXV"
	"2vUwVbSikOKXhVmmIBKOAfEsjFqswjCZD9cUelDxZzf+zhHTo/R4IRyILb9rOCqYBW+sa6FbJzaapTWLU4/CbXzIpTRC+Yh3"
	"wrmnttaI3Mcf0+C8KIyXuKne18NMaZNPzhRJtIz3YjhKMsLnKNDA35vHEw7MDIgMULDMPqSneDiBE8/2yNeviMRR33GmXJqB"
	"6Ek+AMPmKLZe4FLBXo7zmCsgjkmdw7SGNpGsyMN/1rZUZpXpclGN4PDwzOhm0EwZjfd/6C9zrbdzPkdtFGaC/OAuT7BTC/ZV"
	"rmKEQMovxXscXPSizHFsOlhp97CpvmJGM0Bo5KAmiqpyJwm0o2JuBA";
#define EXAMPLE_BODY "jBum1xG/GTn1GbvMiGNZO9TlOIdP7dQranY0qN9A3I8"

#define X25519_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

static char warnings[4][512];
static size_t warning_count;

static void capture_warning(const char *message)
{
	if (warning_count < 4)
		snprintf(warnings[warning_count], sizeof(warnings[0]), "%s", message);
	warning_count++;
}

static void hex_equal(const uint8_t *bytes, size_t n, const char *want)
{
	char hex[2 * 2400 + 1];

	assert_true(2 * n < sizeof(hex));
	sodium_bin2hex(hex, sizeof(hex), bytes, n);
	assert_string_equal(hex, want);
}

static void sha256_equal(const uint8_t *bytes, size_t n, const char *want)
{
	uint8_t h[32];

	crypto_hash_sha256(h, bytes, n);
	hex_equal(h, sizeof(h), want);
}

static void load(struct age_identity_list *l, const char *text)
{
	if (age_identity_list_add_text(l, text, strlen(text), "test") != 0)
		fail_msg("identity: %s", gs_error_message());
}

static struct age_recipient *recipient(const char *text)
{
	struct age_recipient *r;

	if (age_recipient_parse(text, &r) != 0)
		fail_msg("recipient: %s", gs_error_message());
	return r;
}

/* seed -> (d, z, X25519 scalar) -> keys, every intermediate of the spec */
static void test_example_keys(void **state)
{
	struct age_identity_list l = { 0 };
	uint8_t x[96], ek[MLKEM768_EK_SIZE], *dk = gs_secure_alloc(MLKEM768_DK_SIZE), pk_x[32];
	char *text = malloc(4096);
	struct pq_hash h;

	(void)state;
	load(&l, "# created: 2025-01-01T00:00:00Z\n" EXAMPLE_IDENTITY "\n");
	assert_int_equal(l.count, 1);
	hex_equal(l.items[0]->secret, 32, "367b4d098e33a246c5d2b99858c6d6b4797c332d129af64f6f01729299090753");
	assert_int_equal(pq_hash_init(&h), 0);
	assert_int_equal(pq_hash(&h, PQ_SHAKE256, l.items[0]->secret, 32, NULL, 0, x, sizeof(x)), 0);
	pq_hash_release(&h);
	hex_equal(x, 32, "7123c3ffc9db2c8e384265fc5e9ba359c25f605648546e40ea09853d8b9fe812");
	hex_equal(x + 32, 32, "108fa0d98428d49d2816180ea2a1b1334bf0685bba8b81ee4059832f837121b9");
	hex_equal(x + 64, 32, "568154b3650e4757be0383fca21f557af7ab72b8701020591c418ba576e12f0f");
	assert_int_equal(mlkem768_keygen(x, x + 32, ek, dk), 0);
	sha256_equal(ek, sizeof(ek), "82422ff81d79fba984531c9853e74d12d6cce28426a8a06237e050ef4e2c5656");
	sha256_equal(dk, MLKEM768_DK_SIZE, "b3875c8efb1a32f72ad420a82719cd61f919a57e270b68221ca9e63a5d5d562e");
	crypto_scalarmult_base(pk_x, x + 64);
	hex_equal(pk_x, 32, "63b1d53fef6f9d4588c3394793b645e8300e318d95eb63245a30dbd894dad92b");
	sha256_equal(mlkem768x25519_key_public(l.items[0]->pq), MLKEM768X25519_PK_SIZE,
		     "33ef4f1636845de1a7c1364df0fcf72b5b88ab8947276dfd5ba575dafd4092d7");
	assert_memory_equal(mlkem768x25519_key_public(l.items[0]->pq), ek, sizeof(ek));
	assert_int_equal(age_identity_recipient_string(l.items[0], text, 4096), 0);
	assert_int_equal(strlen(text), AGE_PQ_RECIPIENT_LEN);
	assert_string_equal(text, example_recipient);
	assert_int_equal(age_identity_encode(l.items[0], text, 4096), 0);
	assert_string_equal(text, EXAMPLE_IDENTITY);
	free(text);
	gs_secure_free(dk);
	age_identity_list_release(&l);
}

/* identity + stanza -> ss -> key schedule -> file key */
static void test_example_stanza(void **state)
{
	struct age_identity_list l = { 0 };
	struct age_header h = { 0 };
	const char *args[2] = { "mlkem768x25519", example_enc };
	uint8_t enc[MLKEM768X25519_ENC_SIZE], body[32], ss[32], key[32], nonce[12], file_key[16];
	struct age_identity *other;
	size_t n;

	(void)state;
	load(&l, EXAMPLE_IDENTITY);
	assert_int_equal(gs_base64_decode_raw(example_enc, strlen(example_enc), enc, sizeof(enc), &n), 0);
	assert_int_equal(n, sizeof(enc));
	assert_int_equal(gs_base64_decode_raw(EXAMPLE_BODY, strlen(EXAMPLE_BODY), body, sizeof(body), &n), 0);
	assert_int_equal(n, sizeof(body));
	hex_equal(enc + MLKEM768_CT_SIZE, 32, "1c5cf4a2cc716c3a5869f7b0a9be6246334068e4a0268aaa722709b4a3626e04");
	sha256_equal(enc, MLKEM768_CT_SIZE, "0a66add98a39f522d455e40abb975f507d51e15be0d6badb5df6ab3939b00c4e");
	assert_int_equal(mlkem768x25519_decap(l.items[0]->pq, enc, ss), 0);
	hex_equal(ss, 32, "267e7e01793f286646ad65dbcb6cce90d473a1f65b144f7b7c7edc23f9b4be94");
	hpke_key_schedule(ss, "age-encryption.org/mlkem768x25519", key, nonce);
	hex_equal(key, 32, "b7bea0317302c2f81648aeb820138196632ec9cb2f063a38494feaf7984a7779");
	hex_equal(nonce, 12, "c408b9ba104d6875e7afc62f");
	assert_int_equal(age_stanza_add(&h, args, 2, body, sizeof(body)), 0);
	assert_int_equal(age_pq_unwrap(l.items[0], &h.stanzas[0], file_key), 0);
	hex_equal(file_key, 16, "6d0f632d7634559e33c240cacd4bd480");
	/* another identity: the tag does not verify, the stanza is not ours */
	assert_int_equal(age_identity_generate_pq(&other), 0);
	assert_int_equal(age_pq_unwrap(other, &h.stanzas[0], file_key), AGE_UNWRAP_SKIP);
	age_identity_free(other);
	age_identity_list_release(&l);
	age_header_release(&h);
}

/* A fresh identity: its text round trips, files encrypted to it (alone or
 * with a second hybrid recipient) open with it, and the stanza has the
 * shape of 5.1. */
static void test_generated_round_trip(void **state)
{
	struct age_identity *id, *id2;
	struct age_identity_list l = { 0 }, l2 = { 0 };
	struct age_recipient_list rl = { 0 };
	char *secret = gs_secure_alloc(AGE_PQ_IDENTITY_LEN + 1), *text = malloc(4096);
	const char msg[] = "post-quantum payload";
	struct gs_buf ct, pt;
	const char *arg;

	(void)state;
	assert_int_equal(age_identity_generate_pq(&id), 0);
	assert_int_equal(age_identity_encode(id, secret, AGE_PQ_IDENTITY_LEN + 1), 0);
	assert_int_equal(strlen(secret), AGE_PQ_IDENTITY_LEN);
	assert_int_equal(strncmp(secret, "AGE-SECRET-KEY-PQ-1", 19), 0);
	assert_int_equal(age_identity_recipient_string(id, text, 4096), 0);
	assert_int_equal(strncmp(text, "age1pq1", 7), 0);
	load(&l, secret);
	assert_int_equal(age_recipient_list_add(&rl, recipient(text)), 0);
	assert_int_equal(age_identity_generate_pq(&id2), 0);
	assert_int_equal(age_identity_recipient_string(id2, text, 4096), 0);
	assert_int_equal(age_recipient_list_add(&rl, recipient(text)), 0);
	assert_int_equal(age_identity_list_add(&l2, id2), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)msg, sizeof(msg), &ct), 0);
	arg = strstr((const char *)ct.data, "\n-> mlkem768x25519 ");
	assert_non_null(arg);
	arg += strlen("\n-> mlkem768x25519 ");
	assert_int_equal(strcspn(arg, "\n"), 1494);
	assert_int_equal(strcspn(arg + 1495, "\n"), 43);
	assert_int_equal(age_decrypt_mem(&l, ct.data, ct.len, &pt), 0);
	assert_int_equal(pt.len, sizeof(msg));
	assert_memory_equal(pt.data, msg, sizeof(msg));
	gs_buf_release(&pt);
	assert_int_equal(age_decrypt_mem(&l2, ct.data, ct.len, &pt), 0);
	assert_memory_equal(pt.data, msg, sizeof(msg));
	gs_buf_release(&pt);
	gs_buf_release(&ct);
	age_identity_free(id);
	age_identity_list_release(&l);
	age_identity_list_release(&l2);
	age_recipient_list_release(&rl);
	gs_secure_free(secret);
	free(text);
}

/* EncapsulateDerand: the same eseed gives the same enc and ss; ct_X is
 * the X25519 public key of the eseed's second half. */
static void test_encap_derandomized(void **state)
{
	struct mlkem768x25519_key *k;
	uint8_t seed[32], eseed[64], enc[MLKEM768X25519_ENC_SIZE], enc2[MLKEM768X25519_ENC_SIZE];
	uint8_t ss[32], ss2[32], ct_x[32];

	(void)state;
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf(eseed, sizeof(eseed));
	assert_int_equal(mlkem768x25519_key_expand(seed, &k), 0);
	assert_int_equal(mlkem768x25519_encap(mlkem768x25519_key_public(k), eseed, enc, ss), 0);
	assert_int_equal(mlkem768x25519_encap(mlkem768x25519_key_public(k), eseed, enc2, ss2), 0);
	assert_memory_equal(enc, enc2, sizeof(enc));
	assert_memory_equal(ss, ss2, sizeof(ss));
	crypto_scalarmult_base(ct_x, eseed + 32);
	assert_memory_equal(enc + MLKEM768_CT_SIZE, ct_x, 32);
	assert_int_equal(mlkem768x25519_decap(k, enc, ss2), 0);
	assert_memory_equal(ss, ss2, sizeof(ss));
	/* fresh randomness: another enc, the same agreement */
	assert_int_equal(mlkem768x25519_encap(mlkem768x25519_key_public(k), NULL, enc2, ss2), 0);
	assert_memory_not_equal(enc, enc2, sizeof(enc));
	assert_int_equal(mlkem768x25519_decap(k, enc2, ss), 0);
	assert_memory_equal(ss, ss2, sizeof(ss));
	mlkem768x25519_key_free(k);
}

/* The recipient text of pk, bytes changed by the caller. */
static void encode_recipient(const uint8_t *pk, size_t len, char *out, size_t cap)
{
	assert_int_equal(age_bech32_encode("age1pq", pk, len, false, out, cap), 0);
}

static void test_recipient_parsing(void **state)
{
	struct age_recipient *r;
	struct age_identity_list l = { 0 };
	uint8_t pk[MLKEM768X25519_PK_SIZE + 1];
	char *text = malloc(4096);
	size_t i;

	(void)state;
	load(&l, EXAMPLE_IDENTITY);
	memcpy(pk, mlkem768x25519_key_public(l.items[0]->pq), MLKEM768X25519_PK_SIZE);
	encode_recipient(pk, MLKEM768X25519_PK_SIZE, text, 4096);
	assert_string_equal(text, example_recipient);
	r = recipient(text);
	assert_int_equal(r->type, AGE_KEY_MLKEM768X25519);
	assert_memory_equal(r->pq_pk, pk, MLKEM768X25519_PK_SIZE);
	age_recipient_free(r);
	/* upper case, as Go compares the HRP exactly */
	for (i = 0; text[i]; i++)
		text[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
	assert_int_not_equal(age_recipient_parse(text, &r), 0);
	/* a damaged checksum, a wrong length */
	memcpy(text, example_recipient, sizeof(example_recipient));
	text[100] = text[100] == 'q' ? 'p' : 'q';
	assert_int_equal(age_recipient_parse(text, &r), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "malformed age1pq1 recipient");
	encode_recipient(pk, MLKEM768X25519_PK_SIZE - 1, text, 4096);
	assert_int_equal(age_recipient_parse(text, &r), GS_ERR_PARSE);
	pk[MLKEM768X25519_PK_SIZE] = 0;
	encode_recipient(pk, MLKEM768X25519_PK_SIZE + 1, text, 4096);
	assert_int_equal(age_recipient_parse(text, &r), GS_ERR_PARSE);
	/* the ML-KEM modulus check at parse time: first value 0xfff */
	pk[0] = 0xff;
	pk[1] |= 0x0f;
	encode_recipient(pk, MLKEM768X25519_PK_SIZE, text, 4096);
	assert_int_equal(age_recipient_parse(text, &r), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "invalid age1pq1 recipient: its ML-KEM key fails the modulus check");
	/* an identity is not a recipient */
	assert_int_equal(age_recipient_parse(EXAMPLE_IDENTITY, &r), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "this is an identity (secret key), not a recipient");
	free(text);
	age_identity_list_release(&l);
}

/* age-pq.md 3.4: a low-order X25519 half is refused on both sides. */
static void test_low_order_x25519(void **state)
{
	struct age_identity_list l = { 0 };
	struct age_recipient_list rl = { 0 };
	struct age_recipient *r;
	uint8_t pk[MLKEM768X25519_PK_SIZE], enc[MLKEM768X25519_ENC_SIZE], ss[32];
	char *text = malloc(4096);
	struct gs_buf ct;

	(void)state;
	load(&l, EXAMPLE_IDENTITY);
	memcpy(pk, mlkem768x25519_key_public(l.items[0]->pq), sizeof(pk));
	memset(pk + MLKEM768_EK_SIZE, 0, 32);
	encode_recipient(pk, sizeof(pk), text, 4096);
	r = recipient(text); /* any 32 bytes parse (age-pq.md 2.3) */
	assert_int_equal(age_recipient_list_add(&rl, r), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "invalid mlkem768x25519 recipient: low-order X25519 key");
	memset(enc, 0, sizeof(enc));
	assert_int_equal(mlkem768x25519_decap(l.items[0]->pq, enc, ss), GS_ERR_KEY);
	age_recipient_list_release(&rl);
	age_identity_list_release(&l);
	free(text);
}

/* Go age 1.3's rule: post-quantum and classic recipients are not mixed,
 * unless the caller says so. */
static void test_mixing(void **state)
{
	struct age_identity_list pq = { 0 }, classic = { 0 };
	struct age_recipient_list rl = { 0 };
	const struct age_encrypt_opts mixed = { .allow_mixed = true };
	struct gs_mem_source src;
	struct gs_reader in;
	struct gs_buf ct, pt;
	struct gs_writer out;

	(void)state;
	load(&pq, EXAMPLE_IDENTITY);
	load(&classic, X25519_IDENTITY);
	assert_int_equal(age_recipient_list_add(&rl, recipient(example_recipient)), 0);
	assert_int_equal(age_recipient_list_add(&rl, recipient("age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef")), 0);
	assert_int_equal(age_encrypt_mem(&rl, false, (const uint8_t *)"x", 1, &ct), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "incompatible recipients: can't mix post-quantum and classic "
						"recipients, or the file would be vulnerable to quantum computers");
	gs_buf_init(&ct, false);
	in = gs_reader_from_mem(&src, (const uint8_t *)"x", 1);
	out = gs_writer_to_buf(&ct);
	assert_int_equal(age_encrypt_with(&rl, &mixed, &in, &out), 0);
	assert_int_equal(age_decrypt_mem(&pq, ct.data, ct.len, &pt), 0);
	gs_buf_release(&pt);
	assert_int_equal(age_decrypt_mem(&classic, ct.data, ct.len, &pt), 0);
	gs_buf_release(&pt);
	gs_buf_release(&ct);
	age_recipient_list_release(&rl);
	age_identity_list_release(&pq);
	age_identity_list_release(&classic);
}

/* Identity lines of a type gitseal does not know are skipped with one
 * warning each; malformed lines of known types and garbage stay errors. */
static void test_unknown_identity_types(void **state)
{
	struct age_identity_list l = { 0 };
	uint8_t data[40];
	char plugin[200], future[200], text[1024];

	(void)state;
	randombytes_buf(data, sizeof(data));
	assert_int_equal(age_bech32_encode("age-plugin-yubikey-", data, sizeof(data), true, plugin, sizeof(plugin)), 0);
	assert_int_equal(age_bech32_encode("age-secret-key-pq2-", data, 32, true, future, sizeof(future)), 0);
	snprintf(text, sizeof(text), "# keys\n%s\n" X25519_IDENTITY "\n\n%s\n" EXAMPLE_IDENTITY "\n", plugin, future);
	gs_warning_set_handler(capture_warning);
	warning_count = 0;
	assert_int_equal(age_identity_list_add_text(&l, text, strlen(text), "keys.txt"), 0);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.items[0]->type, AGE_KEY_X25519);
	assert_int_equal(l.items[1]->type, AGE_KEY_MLKEM768X25519);
	assert_int_equal(warning_count, 2);
	assert_string_equal(warnings[0], "'keys.txt': line 2: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-");
	assert_string_equal(warnings[1], "'keys.txt': line 5: skipped an identity of unsupported type AGE-SECRET-KEY-PQ2-");
	age_identity_list_release(&l);
	/* only unknown types: nothing added, not an error */
	warning_count = 0;
	assert_int_equal(age_identity_list_add_text(&l, plugin, strlen(plugin), "plugin.txt"), 0);
	assert_int_equal(l.count, 0);
	assert_int_equal(warning_count, 1);
	/* garbage and a damaged known key are errors naming the line */
	snprintf(text, sizeof(text), "%s\nnot a key\n", plugin);
	assert_int_equal(age_identity_list_add_text(&l, text, strlen(text), "bad.txt"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'bad.txt': line 2: not a valid identity");
	snprintf(text, sizeof(text), "%s", EXAMPLE_IDENTITY);
	text[30] = text[30] == 'Q' ? 'P' : 'Q';
	assert_int_equal(age_identity_list_add_text(&l, text, strlen(text), "bad.txt"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "'bad.txt': line 1: not a valid identity");
	/* a well-formed Bech32 string that is not an age key type */
	assert_int_equal(age_bech32_encode("bc", data, 20, true, plugin, sizeof(plugin)), 0);
	assert_int_equal(age_identity_list_add_text(&l, plugin, strlen(plugin), "bad.txt"), GS_ERR_PARSE);
	assert_int_equal(l.count, 0);
	gs_warning_set_handler(NULL);
	age_identity_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_keys),
		cmocka_unit_test(test_example_stanza),
		cmocka_unit_test(test_generated_round_trip),
		cmocka_unit_test(test_encap_derandomized),
		cmocka_unit_test(test_recipient_parsing),
		cmocka_unit_test(test_low_order_x25519),
		cmocka_unit_test(test_mixing),
		cmocka_unit_test(test_unknown_identity_types),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
