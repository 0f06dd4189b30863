/* SSH recipient types (spec §4.3, §4.4; defined by the reference
 * implementation only): ssh-ed25519 and ssh-rsa, public keys from
 * authorized_keys lines, identities from unencrypted OpenSSH
 * (openssh-key-v1) or PEM PKCS#1/PKCS#8 private keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"

#include "age_int.h"

#define ED25519_LABEL "age-encryption.org/v1/ssh-ed25519"
#define RSA_LABEL "age-encryption.org/v1/ssh-rsa"
#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END "-----END OPENSSH PRIVATE KEY-----"
#define OPENSSH_MAGIC "openssh-key-v1"

enum { RSA_MIN_BITS = 2048, SSH_BLOB_MAX = 16 * 1024 };

/* SSH wire format: uint32 big-endian lengths. */
struct wire {
	const uint8_t *p;
	size_t len;
};

static int wire_u32(struct wire *w, uint32_t *v)
{
	if (w->len < 4)
		return -1;
	*v = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
	w->p += 4;
	w->len -= 4;
	return 0;
}

static int wire_string(struct wire *w, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (wire_u32(w, &len) != 0 || len > w->len)
		return -1;
	*s = w->p;
	*n = len;
	w->p += len;
	w->len -= len;
	return 0;
}

static bool wire_string_is(struct wire *w, const char *want)
{
	const uint8_t *s;
	size_t n;

	return wire_string(w, &s, &n) == 0 && n == strlen(want) && memcmp(s, want, n) == 0;
}

static BIGNUM *wire_mpint(struct wire *w)
{
	const uint8_t *s;
	size_t n;

	if (wire_string(w, &s, &n) != 0 || (n && (s[0] & 0x80)))
		return NULL;
	return BN_bin2bn(s, (int)n, NULL);
}

static int put_string(struct gs_buf *b, const uint8_t *s, size_t n)
{
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	int ret = gs_buf_append(b, len, 4);

	return ret ? ret : gs_buf_append(b, s, n);
}

static int put_mpint(struct gs_buf *b, const BIGNUM *bn)
{
	uint8_t tmp[SSH_BLOB_MAX + 1];
	int n = BN_num_bytes(bn);

	if (n > SSH_BLOB_MAX)
		return GS_FAIL(GS_ERR_KEY, "ssh-rsa key too large");
	tmp[0] = 0;
	BN_bn2bin(bn, tmp + 1);
	/* A leading zero keeps a set high bit from reading as negative. */
	if (n > 0 && (tmp[1] & 0x80))
		return put_string(b, tmp, (size_t)n + 1);
	return put_string(b, tmp + 1, (size_t)n);
}

static void compute_tag(const uint8_t *blob, size_t len, uint8_t tag[AGE_SSH_TAG_SIZE])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, blob, len);
	memcpy(tag, h, AGE_SSH_TAG_SIZE);
}

static int rsa_from_parts(BIGNUM *n, BIGNUM *e, BIGNUM *d, BIGNUM *p, BIGNUM *q, BIGNUM *iqmp,
			  EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BN_CTX *bctx = NULL;
	BIGNUM *dp = NULL, *dq = NULL, *tmp = NULL;
	int ok = 0;

	*out = NULL;
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	if (d) {
		bctx = BN_CTX_new();
		dp = BN_secure_new();
		dq = BN_secure_new();
		tmp = BN_new();
		if (!bctx || !dp || !dq || !tmp || !BN_sub(tmp, p, BN_value_one()) ||
		    !BN_mod(dp, d, tmp, bctx) || !BN_sub(tmp, q, BN_value_one()) || !BN_mod(dq, d, tmp, bctx) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, out, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	ok = 1;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_CTX_free(bctx);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_free(tmp);
	return ok ? 0 : GS_FAIL(GS_ERR_KEY, "invalid ssh-rsa key");
}

/* A public key is text anyone can write. With the exponent 1, RSA-OAEP's
 * ciphertext is its encoded message, which gives back the file key with
 * no private key; an even modulus has the factor 2. x/crypto/ssh (age)
 * takes an exponent that is odd, 3 or more and at most 24 bits; Go's
 * crypto/rsa an odd modulus. e and n: the mpints' big-endian bytes. */
static int check_rsa_public(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	unsigned long ev = 0;

	for (; elen && !*e; e++)
		elen--;
	if (elen > 3)
		return GS_FAIL(GS_ERR_KEY, "ssh-rsa key with a public exponent of more than 24 bits");
	for (size_t i = 0; i < elen; i++)
		ev = ev << 8 | e[i];
	if (ev < 3 || !(ev & 1))
		return GS_FAIL(GS_ERR_KEY, "ssh-rsa key with public exponent %lu: it must be odd, 3 or more and at "
					   "most 24 bits", ev);
	if (!nlen || !(n[nlen - 1] & 1))
		return GS_FAIL(GS_ERR_KEY, "ssh-rsa key with an even modulus");
	return 0;
}

/* Parses an SSH public key blob into the recipient-side fields. */
static int parse_public_blob(const uint8_t *blob, size_t len, enum age_key_type *type, uint8_t *pk,
			     EVP_PKEY **rsa)
{
	struct wire w = { blob, len }, raw;
	const uint8_t *key, *eb = NULL, *nb = NULL;
	size_t key_len, elen = 0, nlen = 0;
	BIGNUM *e = NULL, *n = NULL;
	int ret;

	*rsa = NULL;
	if (wire_string_is(&w, "ssh-ed25519")) {
		if (wire_string(&w, &key, &key_len) != 0 || key_len != crypto_sign_ed25519_PUBLICKEYBYTES ||
		    w.len != 0 || crypto_sign_ed25519_pk_to_curve25519(pk, key) != 0)
			return GS_FAIL(GS_ERR_PARSE, "invalid ssh-ed25519 public key");
		*type = AGE_KEY_SSH_ED25519;
		return 0;
	}
	w = (struct wire){ blob, len };
	if (!wire_string_is(&w, "ssh-rsa"))
		return GS_FAIL(GS_ERR_KEY, "unsupported ssh key type");
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	raw = w;
	e = wire_mpint(&w);
	n = wire_mpint(&w);
	if (!e || !n || w.len != 0) {
		ret = GS_FAIL(GS_ERR_PARSE, "invalid ssh-rsa public key");
		goto out;
	}
	if (BN_num_bits(n) < RSA_MIN_BITS) {
		ret = GS_FAIL(GS_ERR_KEY, "ssh-rsa key of %d bits is too small (minimum %d)", BN_num_bits(n),
			      RSA_MIN_BITS);
		goto out;
	}
	/* the two mpints again, as bytes: they parsed above */
	(void)wire_string(&raw, &eb, &elen);
	(void)wire_string(&raw, &nb, &nlen);
	if ((ret = check_rsa_public(eb, elen, nb, nlen)) < 0)
		goto out;
	ret = rsa_from_parts(n, e, NULL, NULL, NULL, NULL, rsa);
	*type = AGE_KEY_SSH_RSA;
out:
	BN_free(e);
	BN_free(n);
	return ret;
}

bool age_ssh_is_other_key_type(const char *text)
{
	static const char *const others[] = { "ecdsa-sha2-", "sk-ecdsa-", "sk-ssh-ed25519", "ssh-dss " };
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strncmp(text, others[i], strlen(others[i])) == 0)
			return true;
	return false;
}

int age_ssh_recipient_parse(const char *text, struct age_recipient **out)
{
	const char *sp1, *b64, *end;
	uint8_t *blob = NULL;
	size_t blob_len, type_len;
	struct age_recipient *r = NULL;
	enum age_key_type type;
	uint8_t pk[32];
	EVP_PKEY *rsa = NULL;
	int ret;

	*out = NULL;
	sp1 = strchr(text, ' ');
	if (!sp1)
		return GS_FAIL(GS_ERR_PARSE, "invalid ssh public key");
	type_len = (size_t)(sp1 - text);
	b64 = sp1 + 1;
	end = b64 + strcspn(b64, " \t\r\n");
	if (end == b64 || (size_t)(end - b64) > SSH_BLOB_MAX)
		return GS_FAIL(GS_ERR_PARSE, "invalid ssh public key");
	blob = gs_malloc((size_t)(end - b64));
	if (!blob)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (gs_base64_decode_strict(b64, (size_t)(end - b64), blob, (size_t)(end - b64), &blob_len) != 0) {
		ret = GS_FAIL(GS_ERR_PARSE, "invalid ssh public key: bad base64");
		goto out;
	}
	ret = parse_public_blob(blob, blob_len, &type, pk, &rsa);
	if (ret)
		goto out;
	if (type_len != strlen(type == AGE_KEY_SSH_RSA ? "ssh-rsa" : "ssh-ed25519") ||
	    strncmp(text, type == AGE_KEY_SSH_RSA ? "ssh-rsa" : "ssh-ed25519", type_len) != 0) {
		ret = GS_FAIL(GS_ERR_PARSE, "invalid ssh public key: type mismatch");
		goto out;
	}
	r = age_recipient_new(type);
	if (!r) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(r->pk, pk, sizeof(pk));
	r->rsa = rsa;
	rsa = NULL;
	r->ssh_blob = blob;
	r->ssh_blob_len = blob_len;
	blob = NULL;
	compute_tag(r->ssh_blob, r->ssh_blob_len, r->ssh_tag);
	*out = r;
out:
	EVP_PKEY_free(rsa);
	free(blob);
	return ret;
}

static void tag_string(const uint8_t tag[AGE_SSH_TAG_SIZE], char out[16])
{
	gs_base64_encode_raw(tag, AGE_SSH_TAG_SIZE, out, 16);
}

/* spec §4.3: ss' = X25519(tweak, ss), tweak = HKDF(empty, blob, label);
 * wrap key = HKDF(ss', share || M, label). */
static int ed25519_wrap_key(const uint8_t *ss, const uint8_t *blob, size_t blob_len, const uint8_t *share,
			    const uint8_t *m, uint8_t *key)
{
	uint8_t *sec = gs_secure_alloc(64);
	uint8_t salt[64];
	int ret;

	if (!sec)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	if ((ret = age_hkdf_sha256(NULL, 0, blob, blob_len, ED25519_LABEL, sec, 32)))
		goto out;
	if (crypto_scalarmult(sec + 32, sec, ss) != 0) {
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "invalid ssh-ed25519 shared secret");
		goto out;
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, m, 32);
	ret = age_hkdf_sha256(sec + 32, 32, salt, sizeof(salt), ED25519_LABEL, key, 32);
out:
	gs_secure_free(sec);
	return ret;
}

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *pkey, bool enc)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	unsigned char *label;

	if (!c)
		return NULL;
	if ((enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) != 1)
		goto fail;
	/* set0 takes ownership of the label. */
	label = OPENSSL_memdup(RSA_LABEL, strlen(RSA_LABEL));
	if (!label)
		goto fail;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(c, label, (int)strlen(RSA_LABEL)) != 1) {
		OPENSSL_free(label);
		goto fail;
	}
	return c;
fail:
	EVP_PKEY_CTX_free(c);
	return NULL;
}

int age_ssh_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
{
	char tag[16], share_b64[48];
	uint8_t share[32], body[AGE_WRAPPED_KEY_SIZE];
	uint8_t *sec = NULL, *ct = NULL;
	EVP_PKEY_CTX *c = NULL;
	size_t ct_len = 0;
	int ret;

	tag_string(r->ssh_tag, tag);
	if (r->type == AGE_KEY_SSH_RSA) {
		const char *args[2] = { "ssh-rsa", tag };

		c = oaep_ctx(r->rsa, true);
		if (!c || EVP_PKEY_encrypt(c, NULL, &ct_len, file_key, AGE_FILE_KEY_SIZE) != 1 ||
		    !(ct = gs_malloc(ct_len)) ||
		    EVP_PKEY_encrypt(c, ct, &ct_len, file_key, AGE_FILE_KEY_SIZE) != 1) {
			ret = GS_FAIL(GS_ERR_KEY, "ssh-rsa encryption failed");
			goto out;
		}
		ret = age_stanza_add(h, args, 2, ct, ct_len);
		goto out;
	}
	sec = gs_secure_alloc(96); /* ephemeral, ss, wrap key */
	if (!sec) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	randombytes_buf(sec, 32);
	crypto_scalarmult_base(share, sec);
	if (crypto_scalarmult(sec + 32, sec, r->pk) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid ssh-ed25519 recipient");
		goto out;
	}
	ret = ed25519_wrap_key(sec + 32, r->ssh_blob, r->ssh_blob_len, share, r->pk, sec + 64);
	if (ret)
		goto out;
	age_aead_wrap(sec + 64, file_key, body);
	gs_base64_encode_raw(share, sizeof(share), share_b64, sizeof(share_b64));
	{
		const char *args[3] = { "ssh-ed25519", tag, share_b64 };

		ret = age_stanza_add(h, args, 3, body, sizeof(body));
	}
out:
	EVP_PKEY_CTX_free(c);
	free(ct);
	gs_secure_free(sec);
	return ret;
}

static int rsa_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	EVP_PKEY_CTX *c;
	uint8_t *pt;
	size_t pt_len = (size_t)EVP_PKEY_get_size(id->rsa);
	char tag[16];
	int ret = 0;

	if (s->argc != 2)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid ssh-rsa stanza");
	tag_string(id->ssh_tag, tag);
	if (strcmp(s->args[1], tag) != 0)
		return AGE_UNWRAP_SKIP;
	pt = gs_secure_alloc(pt_len);
	if (!pt)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	c = oaep_ctx(id->rsa, false);
	if (!c || EVP_PKEY_decrypt(c, pt, &pt_len, s->body, s->body_len) != 1 ||
	    pt_len != AGE_FILE_KEY_SIZE)
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "ssh-rsa stanza for this key does not decrypt");
	else
		memcpy(file_key, pt, AGE_FILE_KEY_SIZE);
	EVP_PKEY_CTX_free(c);
	gs_secure_free(pt);
	return ret;
}

int age_ssh_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	const char *type = id->type == AGE_KEY_SSH_RSA ? "ssh-rsa" : "ssh-ed25519";
	uint8_t share[32], *sec;
	char tag[16];
	size_t n;
	int ret;

	if (strcmp(s->args[0], type) != 0)
		return AGE_UNWRAP_SKIP;
	if (id->type == AGE_KEY_SSH_RSA)
		return rsa_unwrap(id, s, file_key);
	if (s->argc != 3 || gs_base64_decode_raw(s->args[2], strlen(s->args[2]), share, sizeof(share), &n) != 0 ||
	    n != sizeof(share))
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid ssh-ed25519 stanza");
	tag_string(id->ssh_tag, tag);
	if (strcmp(s->args[1], tag) != 0)
		return AGE_UNWRAP_SKIP;
	if (s->body_len != AGE_WRAPPED_KEY_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid ssh-ed25519 stanza: wrapped key is not 32 bytes");
	sec = gs_secure_alloc(64);
	if (!sec)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	if (crypto_scalarmult(sec, id->secret, share) != 0) {
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "invalid ssh-ed25519 stanza: low-order share");
		goto out;
	}
	ret = ed25519_wrap_key(sec, id->ssh_blob, id->ssh_blob_len, share, id->pk, sec + 32);
	if (ret)
		goto out;
	ret = age_aead_unwrap(sec + 32, s->body, s->body_len, file_key, "ssh-ed25519");
	/* A stanza with our tag that does not open is an error, not "not mine"
	 * (the reference implementation behaves the same). */
	if (ret == AGE_UNWRAP_SKIP)
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "ssh-ed25519 stanza for this key does not decrypt");
out:
	gs_secure_free(sec);
	return ret;
}

static int identity_from_ed25519(const uint8_t *sk64, struct age_identity **out)
{
	struct age_identity *id = age_identity_new(AGE_KEY_SSH_ED25519, 32);
	struct gs_buf blob;
	int ret;

	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	gs_buf_init(&blob, false);
	if ((ret = put_string(&blob, (const uint8_t *)"ssh-ed25519", 11)) || (ret = put_string(&blob, sk64 + 32, 32)))
		goto fail;
	if (crypto_sign_ed25519_sk_to_curve25519(id->secret, sk64) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(id->pk, sk64 + 32) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid ssh-ed25519 private key");
		goto fail;
	}
	id->ssh_blob = gs_buf_detach(&blob, &id->ssh_blob_len);
	compute_tag(id->ssh_blob, id->ssh_blob_len, id->ssh_tag);
	*out = id;
	return 0;
fail:
	gs_buf_release(&blob);
	age_identity_free(id);
	return ret;
}

static int identity_from_rsa(EVP_PKEY *pkey, struct age_identity **out)
{
	struct age_identity *id;
	BIGNUM *n = NULL, *e = NULL;
	struct gs_buf blob;
	int ret, bits = EVP_PKEY_get_bits(pkey);

	if (bits < RSA_MIN_BITS) {
		EVP_PKEY_free(pkey);
		return GS_FAIL(GS_ERR_KEY, "ssh-rsa key of %d bits is too small (minimum %d)", bits,
			       RSA_MIN_BITS);
	}
	id = age_identity_new(AGE_KEY_SSH_RSA, 0);
	if (!id) {
		EVP_PKEY_free(pkey);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	id->rsa = pkey;
	gs_buf_init(&blob, false);
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid ssh-rsa private key");
		goto out;
	}
	if ((ret = put_string(&blob, (const uint8_t *)"ssh-rsa", 7)) || (ret = put_mpint(&blob, e)) ||
	    (ret = put_mpint(&blob, n)))
		goto out;
	id->ssh_blob = gs_buf_detach(&blob, &id->ssh_blob_len);
	compute_tag(id->ssh_blob, id->ssh_blob_len, id->ssh_tag);
out:
	BN_free(n);
	BN_free(e);
	gs_buf_release(&blob);
	if (ret)
		age_identity_free(id);
	else
		*out = id;
	return ret;
}

/* openssh-key-v1 (OpenSSH PROTOCOL.key), unencrypted keys only. */
static int parse_openssh(const char *text, size_t len, const char *name, struct age_identity **out)
{
	const char *b64 = text + strlen(OPENSSH_BEGIN), *end;
	struct wire w, priv;
	const uint8_t *s, *pub, *sk;
	size_t n, pub_len, sk_len, blob_len = 0;
	uint8_t *blob;
	uint32_t nkeys, check1, check2;
	BIGNUM *bn[6] = { NULL };
	EVP_PKEY *pkey = NULL;
	int ret = 0, i;

	end = memmem(b64, len - (size_t)(b64 - text), OPENSSH_END, strlen(OPENSSH_END));
	if (!end)
		return GS_FAIL(GS_ERR_PARSE, "'%s': malformed OpenSSH private key", gs_shown(name));
	blob = gs_secure_alloc((size_t)(end - b64) + 1);
	if (!blob)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	if (gs_base64_decode_secret(b64, (size_t)(end - b64), " \t\r\n", blob, (size_t)(end - b64) + 1,
				    &blob_len) != 0 ||
	    blob_len < sizeof(OPENSSH_MAGIC) || memcmp(blob, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) != 0) {
		ret = GS_FAIL(GS_ERR_PARSE, "'%s': malformed OpenSSH private key", gs_shown(name));
		goto out;
	}
	w = (struct wire){ blob + sizeof(OPENSSH_MAGIC), blob_len - sizeof(OPENSSH_MAGIC) };
	if (wire_string(&w, &s, &n) != 0)
		goto malformed;
	if (n != 4 || memcmp(s, "none", 4) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected; not supported", gs_shown(name));
		goto out;
	}
	if (!wire_string_is(&w, "none") || wire_string(&w, &s, &n) != 0 || wire_u32(&w, &nkeys) != 0)
		goto malformed;
	if (nkeys != 1) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': OpenSSH files with %u keys are not supported", gs_shown(name), nkeys);
		goto out;
	}
	if (wire_string(&w, &pub, &pub_len) != 0 || wire_string(&w, &s, &n) != 0)
		goto malformed;
	priv = (struct wire){ s, n };
	if (wire_u32(&priv, &check1) != 0 || wire_u32(&priv, &check2) != 0 || check1 != check2)
		goto malformed;
	w = priv;
	if (wire_string_is(&w, "ssh-ed25519")) {
		if (wire_string(&w, &s, &n) != 0 || n != 32 || wire_string(&w, &sk, &sk_len) != 0 ||
		    sk_len != crypto_sign_ed25519_SECRETKEYBYTES || memcmp(sk + 32, s, 32) != 0)
			goto malformed;
		ret = identity_from_ed25519(sk, out);
		goto out;
	}
	w = priv;
	if (!wire_string_is(&w, "ssh-rsa")) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': unsupported ssh key type", gs_shown(name));
		goto out;
	}
	if ((ret = gs_libcrypto_load()) < 0)
		goto out;
	/* n, e, d, iqmp, p, q */
	for (i = 0; i < 6; i++) {
		bn[i] = wire_mpint(&w);
		if (!bn[i])
			goto malformed;
		if (i >= 2)
			BN_set_flags(bn[i], BN_FLG_CONSTTIME);
	}
	if ((ret = rsa_from_parts(bn[0], bn[1], bn[2], bn[4], bn[5], bn[3], &pkey)))
		goto out;
	ret = identity_from_rsa(pkey, out);
	goto out;
malformed:
	ret = GS_FAIL(GS_ERR_PARSE, "'%s': malformed OpenSSH private key", gs_shown(name));
out:
	for (i = 0; i < 6; i++)
		BN_clear_free(bn[i]);
	gs_secure_free(blob);
	return ret;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int age_ssh_identity_parse(const char *text, size_t len, const char *name, struct age_identity **out)
{
	EVP_PKEY *pkey;
	uint8_t *sk;
	size_t seed_len = 32;
	BIO *bio;
	int ret;

	*out = NULL;
	if (len >= strlen(OPENSSH_BEGIN) && memcmp(text, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN)) == 0)
		return parse_openssh(text, len, name, out);
	if (memmem(text, len, "ENCRYPTED", 9))
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected; not supported", gs_shown(name));
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!pkey)
		return GS_FAIL(GS_ERR_PARSE, "'%s': unreadable private key", gs_shown(name));
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return identity_from_rsa(pkey, out);
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		return GS_FAIL(GS_ERR_KEY, "'%s': unsupported private key type", gs_shown(name));
	}
	sk = gs_secure_alloc(64 + 32);
	if (!sk) {
		EVP_PKEY_free(pkey);
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	}
	if (EVP_PKEY_get_raw_private_key(pkey, sk + 64, &seed_len) != 1 || seed_len != 32) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': invalid ed25519 private key", gs_shown(name));
	} else {
		uint8_t pk[32];

		crypto_sign_seed_keypair(pk, sk, sk + 64);
		ret = identity_from_ed25519(sk, out);
	}
	EVP_PKEY_free(pkey);
	gs_secure_free(sk);
	return ret;
}

int age_ssh_recipient_string(const struct age_identity *id, char *out, size_t cap)
{
	const char *type = id->type == AGE_KEY_SSH_RSA ? "ssh-rsa" : "ssh-ed25519";
	size_t need = strlen(type) + 1 + GS_BASE64_LEN(id->ssh_blob_len) + 1;

	if (cap < need)
		return GS_FAIL(GS_ERR_LIMIT, "buffer too small for the recipient");
	snprintf(out, cap, "%s ", type);
	gs_base64_encode(id->ssh_blob, id->ssh_blob_len, out + strlen(type) + 1, cap - strlen(type) - 1);
	return 0;
}
