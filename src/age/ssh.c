/* SSH recipient types (spec §4.3, §4.4; defined by the reference
 * implementation only): ssh-ed25519 and ssh-rsa, public keys from
 * authorized_keys lines, identities from unencrypted OpenSSH
 * (openssh-key-v1) or PEM PKCS#1/PKCS#8 private keys. */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
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

static int unlock(const struct age_identity *id, const struct age_identity **key);

/* Only a stanza for this key (its tag) asks for the passphrase. */
static int locked_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	const struct age_identity *key;
	char tag[16];
	int ret;

	if (s->argc != (id->type == AGE_KEY_SSH_RSA ? 2u : 3u))
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza", s->args[0]);
	tag_string(id->ssh_tag, tag);
	if (strcmp(s->args[1], tag) != 0)
		return AGE_UNWRAP_SKIP;
	if ((ret = unlock(id, &key)) < 0)
		return ret;
	return age_ssh_unwrap(key, s, file_key);
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
	if (id->locked)
		return locked_unwrap(id, s, file_key);
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

/* An OpenSSH ed25519 key: the seed, then the public key (sk64). A damaged
 * file whose seed changed gives an identity no stanza for its public key
 * opens: the public key is derived again and compared. */
static int ed25519_checked(const uint8_t *sk64, const char *name, struct age_identity **out)
{
	uint8_t *again = gs_secure_alloc(crypto_sign_ed25519_SECRETKEYBYTES), pk[32];
	int ret;

	if (!again)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	crypto_sign_seed_keypair(pk, again, sk64);
	if (sodium_memcmp(pk, sk64 + 32, sizeof(pk)) != 0)
		ret = GS_FAIL(GS_ERR_KEY, "'%s': the private key does not match its public key (a damaged key file)",
			      gs_shown(name));
	else
		ret = identity_from_ed25519(sk64, out);
	gs_secure_free(again);
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

/* openssh-key-v1's ciphers for the private section (OpenSSH cipher.c),
 * each through OpenSSL but OpenSSH's ChaCha20-Poly1305 (libsodium). */
/* the names inline, not pointers: a table of pointers is relocated, and
 * written, by the loader at every start (relro, tests/cli/startup.bats) */
struct openssh_cipher {
	char name[32], evp[12]; /* evp "": not through EVP */
	uint8_t key_len, iv_len, tag_len;
};

enum { OPENSSH_BLOCK = 16, OPENSSH_KDF_OUT_MAX = 64 };

static const struct openssh_cipher openssh_ciphers[] = {
	{ "aes256-ctr", "AES-256-CTR", 32, 16, 0 }, /* ssh-keygen's default */
	{ "aes192-ctr", "AES-192-CTR", 24, 16, 0 },
	{ "aes128-ctr", "AES-128-CTR", 16, 16, 0 },
	{ "aes256-cbc", "AES-256-CBC", 32, 16, 0 },
	{ "aes192-cbc", "AES-192-CBC", 24, 16, 0 },
	{ "aes128-cbc", "AES-128-CBC", 16, 16, 0 },
	{ "aes256-gcm@openssh.com", "AES-256-GCM", 32, 12, 16 },
	{ "aes128-gcm@openssh.com", "AES-128-GCM", 16, 12, 16 },
	/* two ChaCha20 keys; the second encrypts packet lengths only */
	{ "chacha20-poly1305@openssh.com", "", 64, 0, 16 },
};

/* The parts of an openssh-key-v1 blob (OpenSSH PROTOCOL.key). An
 * authenticated cipher's tag follows the private section's string. */
struct openssh_key {
	const struct openssh_cipher *cipher; /* NULL: "none" */
	const uint8_t *salt, *pub, *priv, *tag;
	size_t salt_len, pub_len, priv_len;
	uint32_t rounds;
};

static bool string_is(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int openssh_split(const uint8_t *blob, size_t len, const char *name, struct openssh_key *k)
{
	struct wire w = { blob + sizeof(OPENSSH_MAGIC), len - sizeof(OPENSSH_MAGIC) }, opts;
	const uint8_t *cipher, *kdf, *o;
	size_t cipher_len, kdf_len, o_len, i;
	uint32_t nkeys;

	memset(k, 0, sizeof(*k));
	if (wire_string(&w, &cipher, &cipher_len) != 0 || wire_string(&w, &kdf, &kdf_len) != 0 ||
	    wire_string(&w, &o, &o_len) != 0 || wire_u32(&w, &nkeys) != 0)
		goto malformed;
	if (nkeys != 1)
		return GS_FAIL(GS_ERR_KEY, "'%s': OpenSSH files with %u keys are not supported", gs_shown(name), nkeys);
	if (wire_string(&w, &k->pub, &k->pub_len) != 0 || wire_string(&w, &k->priv, &k->priv_len) != 0)
		goto malformed;
	if (string_is(cipher, cipher_len, "none")) {
		if (!string_is(kdf, kdf_len, "none"))
			goto malformed;
		return 0;
	}
	for (i = 0; i < sizeof(openssh_ciphers) / sizeof(openssh_ciphers[0]); i++)
		if (string_is(cipher, cipher_len, openssh_ciphers[i].name))
			k->cipher = &openssh_ciphers[i];
	if (!k->cipher)
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected with the cipher '%s', which is not "
					   "supported (ssh-keygen -p -Z aes256-ctr -f KEY changes it)", gs_shown(name),
			       gs_shown_n((const char *)cipher, cipher_len > 64 ? 64 : cipher_len));
	if (!string_is(kdf, kdf_len, "bcrypt"))
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected with the key derivation '%s', which is not "
					   "supported (OpenSSH writes bcrypt)", gs_shown(name),
			       gs_shown_n((const char *)kdf, kdf_len > 64 ? 64 : kdf_len));
	opts = (struct wire){ o, o_len };
	if (wire_string(&opts, &k->salt, &k->salt_len) != 0 || wire_u32(&opts, &k->rounds) != 0 || opts.len ||
	    !k->salt_len || !k->rounds)
		goto malformed;
	/* refused before any work: the rounds are the key file's to ask */
	if (k->rounds > AGE_SSH_BCRYPT_ROUNDS_MAX)
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected with %u bcrypt rounds, more than %d (ssh-keygen -p "
					   "-a 100 -f KEY lowers them)", gs_shown(name), k->rounds, AGE_SSH_BCRYPT_ROUNDS_MAX);
	if (k->priv_len % OPENSSH_BLOCK || w.len < k->cipher->tag_len)
		goto malformed;
	k->tag = w.p;
	return 0;
malformed:
	return GS_FAIL(GS_ERR_PARSE, "'%s': malformed OpenSSH private key", gs_shown(name));
}

/* An OpenSSH ssh-rsa private key's parts, which OpenSSL takes as they are:
 * a damaged file (a changed byte of p, q, d or iqmp) would give a key whose
 * stanzas do not decrypt, reported far from its cause. n = p q, e d = 1
 * modulo p - 1 and q - 1, and iqmp q = 1 modulo p: a few multiplications,
 * where RSA_check_key's primality tests cost milliseconds at every read. */
static int rsa_private_checked(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d, const BIGNUM *p,
			       const BIGNUM *q, const BIGNUM *iqmp, const char *name)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *t = BN_secure_new(), *m = BN_secure_new();
	const BIGNUM *one = BN_value_one();
	int ret = 0;

	if (!ctx || !t || !m)
		goto nomem;
	BN_set_flags(t, BN_FLG_CONSTTIME);
	BN_set_flags(m, BN_FLG_CONSTTIME);
	if (BN_cmp(p, one) <= 0 || BN_cmp(q, one) <= 0)
		goto damaged;
	if (!BN_mul(t, p, q, ctx))
		goto nomem;
	if (BN_cmp(t, n) != 0)
		goto damaged;
	if (!BN_sub(m, p, one) || !BN_mod_mul(t, e, d, m, ctx))
		goto nomem;
	if (BN_cmp(t, one) != 0)
		goto damaged;
	if (!BN_sub(m, q, one) || !BN_mod_mul(t, e, d, m, ctx))
		goto nomem;
	if (BN_cmp(t, one) != 0)
		goto damaged;
	if (!BN_mod_mul(t, iqmp, q, p, ctx))
		goto nomem;
	if (BN_cmp(t, one) != 0)
		goto damaged;
	goto out;
nomem:
	ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	goto out;
damaged:
	ret = GS_FAIL(GS_ERR_KEY, "'%s': the ssh-rsa private key's parts do not agree (a damaged key file)",
		      gs_shown(name));
out:
	BN_CTX_free(ctx);
	BN_clear_free(t);
	BN_clear_free(m);
	return ret;
}

/* The private section once in the clear: two equal check words (unequal:
 * the passphrase was wrong), then the key. */
int age_ssh_private_section_parse(const uint8_t *priv_data, size_t priv_len, const char *name, bool encrypted,
				  struct age_identity **out)
{
	struct wire w, priv = { priv_data, priv_len };
	const uint8_t *s, *sk;
	size_t n, sk_len;
	uint32_t check1, check2;
	BIGNUM *bn[6] = { NULL };
	EVP_PKEY *pkey = NULL;
	int ret = 0, i;

	if (wire_u32(&priv, &check1) != 0 || wire_u32(&priv, &check2) != 0)
		goto malformed;
	if (check1 != check2) {
		if (encrypted)
			return GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name));
		goto malformed;
	}
	w = priv;
	if (wire_string_is(&w, "ssh-ed25519")) {
		if (wire_string(&w, &s, &n) != 0 || n != 32 || wire_string(&w, &sk, &sk_len) != 0 ||
		    sk_len != crypto_sign_ed25519_SECRETKEYBYTES || memcmp(sk + 32, s, 32) != 0)
			goto malformed;
		return ed25519_checked(sk, name, out);
	}
	w = priv;
	if (!wire_string_is(&w, "ssh-rsa"))
		return GS_FAIL(GS_ERR_KEY, "'%s': unsupported ssh key type", gs_shown(name));
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	/* n, e, d, iqmp, p, q */
	for (i = 0; i < 6; i++) {
		bn[i] = wire_mpint(&w);
		if (!bn[i])
			goto malformed;
		if (i >= 2)
			BN_set_flags(bn[i], BN_FLG_CONSTTIME);
	}
	if ((ret = rsa_private_checked(bn[0], bn[1], bn[2], bn[4], bn[5], bn[3], name)) ||
	    (ret = rsa_from_parts(bn[0], bn[1], bn[2], bn[4], bn[5], bn[3], &pkey)))
		goto out;
	ret = identity_from_rsa(pkey, out);
	goto out;
malformed:
	ret = GS_FAIL(GS_ERR_PARSE, "'%s': malformed OpenSSH private key", gs_shown(name));
out:
	for (i = 0; i < 6; i++)
		BN_clear_free(bn[i]);
	return ret;
}

struct pem_passphrase {
	const uint8_t *data;
	size_t len;
};

static int pem_identity(const char *text, size_t len, const char *name, const struct pem_passphrase *pass,
			struct age_identity **out);
static int pem_legacy_identity(const char *text, size_t len, const char *name, const struct pem_passphrase *pass,
			       struct age_identity **out);
/* A passphrase-protected key: its identity carries the public key, which
 * the file keeps in the clear, and this; the private key is decrypted the
 * first time a stanza is for it (as age's EncryptedSSHIdentity). */
struct age_ssh_locked {
	pthread_mutex_t lock;
	char *name;
	uint8_t *blob;               /* the decoded file, or the PEM text (secure) */
	size_t blob_len;
	bool pem;
	struct age_identity *key;    /* once decrypted */
	int failed;                  /* the error of a failed attempt, given again */
	char why[256];
};

static int (*passphrase_source)(const char *key_name, struct gs_buf *out);

void age_ssh_passphrase_source(int (*ask)(const char *key_name, struct gs_buf *out))
{
	passphrase_source = ask;
}

const char *age_identity_list_locked_failure(const struct age_identity_list *l)
{
	const char *why = NULL;

	for (size_t i = 0; l && i < l->count && !why; i++) {
		struct age_ssh_locked *k = l->items[i]->locked;

		if (!k)
			continue;
		pthread_mutex_lock(&k->lock);
		if (k->failed)
			why = k->why;
		pthread_mutex_unlock(&k->lock);
	}
	return why;
}

bool age_identity_list_unlocked_any(const struct age_identity_list *l)
{
	bool any = false;

	for (size_t i = 0; l && i < l->count && !any; i++) {
		struct age_ssh_locked *k = l->items[i]->locked;

		if (!k)
			continue;
		pthread_mutex_lock(&k->lock);
		any = k->key != NULL;
		pthread_mutex_unlock(&k->lock);
	}
	return any;
}

/* Whether the recipient text (sops's metadata: "ssh-ed25519 AAAA... comment")
 * is id's: its recipient string, then the end or a comment. */
static bool is_recipient_of(const struct age_identity *id, const char *text, char *buf, size_t cap)
{
	size_t n;

	if (age_identity_recipient_string(id, buf, cap) != 0) {
		gs_error_clear();
		return false;
	}
	n = strlen(buf);
	return !strncmp(text, buf, n) && (!text[n] || text[n] == ' ');
}

const char *age_identity_list_locked_only(const struct age_identity_list *l, const char *const *recipients,
					  size_t count, const char **why)
{
	enum { CAP = 8192 }; /* the longest recipient: ssh-rsa of 16 Kbits, ML-KEM's */
	const char *name = NULL, *failed = NULL;
	char *buf = gs_malloc(CAP);

	if (why)
		*why = NULL;

	for (size_t i = 0; buf && l && i < l->count; i++) {
		const struct age_identity *id = l->items[i];
		const char *its_failure = NULL;
		bool unopened = false;

		if (id->type == AGE_KEY_SCRYPT)
			continue;
		if (id->locked) {
			pthread_mutex_lock(&id->locked->lock);
			unopened = !id->locked->key;
			its_failure = id->locked->failed ? id->locked->why : NULL;
			pthread_mutex_unlock(&id->locked->lock);
		}
		for (size_t r = 0; r < count; r++) {
			if (!is_recipient_of(id, recipients[r], buf, CAP))
				continue;
			if (!unopened) {
				free(buf);
				return NULL;
			}
			if (!name) {
				name = id->locked->name;
				failed = its_failure;
			}
		}
	}
	free(buf);
	if (why && name)
		*why = failed;
	return name;
}

void age_ssh_locked_free(struct age_ssh_locked *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	age_identity_free(l->key);
	gs_secure_free(l->blob);
	free(l->name);
	free(l);
}

/* OpenSSH's chacha20-poly1305 (PROTOCOL.chacha20poly1305) for sequence
 * number 0 and no length: the Poly1305 key is the first 32 bytes of the
 * keystream, the data is encrypted from block 1 on. */
static int openssh_chacha_open(const uint8_t key[32], const uint8_t *ct, size_t len, const uint8_t *tag,
			       uint8_t *plain)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint8_t poly_key[crypto_onetimeauth_poly1305_KEYBYTES];
	int ret;

	crypto_stream_chacha20(poly_key, sizeof(poly_key), nonce, key);
	ret = crypto_onetimeauth_poly1305_verify(tag, ct, len, poly_key);
	sodium_memzero(poly_key, sizeof(poly_key));
	if (ret != 0)
		return -1;
	crypto_stream_chacha20_xor_ic(plain, ct, len, nonce, 1, key);
	return 0;
}

static int openssh_decrypt(const struct openssh_key *k, const uint8_t *pass, size_t pass_len, const char *name,
			   struct age_identity **out)
{
	const struct openssh_cipher *c = k->cipher;
	uint8_t *kiv = gs_secure_alloc(OPENSSH_KDF_OUT_MAX + k->priv_len + OPENSSH_BLOCK), *plain;
	EVP_CIPHER *cipher = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int n1 = 0, n2 = 0, ret;

	if (!kiv)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	plain = kiv + OPENSSH_KDF_OUT_MAX;
	if ((ret = age_bcrypt_pbkdf(pass, pass_len, k->salt, k->salt_len, k->rounds, kiv, c->key_len + c->iv_len)))
		goto out;
	if (!c->evp[0]) {
		if (openssh_chacha_open(kiv, k->priv, k->priv_len, k->tag, plain) != 0) {
			ret = GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name));
			goto out;
		}
		ret = age_ssh_private_section_parse(plain, k->priv_len, name, true, out);
		goto out;
	}
	if ((ret = gs_libcrypto_load()) < 0)
		goto out;
	cipher = EVP_CIPHER_fetch(NULL, c->evp, NULL);
	ctx = EVP_CIPHER_CTX_new();
	if (!cipher || !ctx || EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) != 1 ||
	    (c->tag_len && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)c->iv_len, NULL) != 1) ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, kiv, kiv + c->key_len) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    (c->tag_len && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)c->tag_len, (void *)k->tag) != 1)) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': cannot set up %s", gs_shown(name), c->name);
		goto out;
	}
	if (EVP_DecryptUpdate(ctx, plain, &n1, k->priv, (int)k->priv_len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n1, &n2) != 1 || (size_t)n1 + (size_t)n2 != k->priv_len) {
		/* only an authenticated cipher fails here */
		ret = GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name));
		goto out;
	}
	ret = age_ssh_private_section_parse(plain, k->priv_len, name, true, out);
out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	gs_secure_free(kiv);
	return ret;
}

static int unlock_with(struct age_ssh_locked *l, const uint8_t *blob_pub, size_t blob_pub_len)
{
	struct openssh_key k;
	struct gs_buf pass;
	struct age_identity *key = NULL;
	int ret;

	if (!passphrase_source)
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected and no passphrase can be asked for", gs_shown(l->name));
	gs_buf_init(&pass, true);
	if ((ret = passphrase_source(l->name, &pass)))
		goto out;
	if (l->pem) {
		const struct pem_passphrase p = { pass.data, pass.len };
		const char *text = (const char *)l->blob;

		ret = memmem(text, l->blob_len, "Proc-Type: 4,ENCRYPTED", 22)
			      ? pem_legacy_identity(text, l->blob_len, l->name, &p, &key)
			      : pem_identity(text, l->blob_len, l->name, &p, &key);
	} else if (!(ret = openssh_split(l->blob, l->blob_len, l->name, &k))) {
		ret = openssh_decrypt(&k, pass.data, pass.len, l->name, &key);
	}
	if (ret)
		goto out;
	if (key->ssh_blob_len != blob_pub_len || memcmp(key->ssh_blob, blob_pub, blob_pub_len) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': the private key does not match the file's public key", gs_shown(l->name));
		goto out;
	}
	l->key = key;
	key = NULL;
out:
	age_identity_free(key);
	gs_buf_release(&pass);
	return ret;
}

/* The decrypted key of a passphrase-protected identity, asking for the
 * passphrase the first time. One question, as age asks one (a wrong
 * passphrase ends its decryption; ssh's three tries are its own): a
 * failure is kept and given again, once per process. */
static int unlock(const struct age_identity *id, const struct age_identity **key)
{
	struct age_ssh_locked *l = id->locked;
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (!l->key && !l->failed && (ret = unlock_with(l, id->ssh_blob, id->ssh_blob_len)) < 0) {
		l->failed = ret;
		snprintf(l->why, sizeof(l->why), "%s", gs_error_message());
	}
	if (l->failed)
		ret = GS_FAIL(l->failed, "%s", l->why);
	*key = l->key;
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* A locked identity for the public key pub (type, pk and rsa parsed from
 * it; rsa is taken), keeping the key file's bytes to decrypt later. */
static int locked_identity(enum age_key_type type, const uint8_t pk[32], EVP_PKEY *rsa, const uint8_t *pub,
			   size_t pub_len, const void *file, size_t file_len, bool pem, const char *name,
			   struct age_identity **out)
{
	struct age_identity *id = age_identity_new(type, 0);
	struct age_ssh_locked *l = gs_calloc(1, sizeof(*l));
	int ret;

	if (!l || !id || !(l->name = gs_strdup(name)) || !(id->ssh_blob = gs_malloc(pub_len)) ||
	    !(l->blob = gs_secure_alloc(file_len + 1))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&l->lock, NULL);
	memcpy(l->blob, file, file_len);
	l->blob[file_len] = 0;
	l->blob_len = file_len;
	l->pem = pem;
	memcpy(id->pk, pk, 32);
	memcpy(id->ssh_blob, pub, pub_len);
	id->ssh_blob_len = pub_len;
	compute_tag(id->ssh_blob, id->ssh_blob_len, id->ssh_tag);
	id->rsa = rsa;
	id->locked = l;
	*out = id;
	return 0;
fail:
	if (l) {
		free(l->name);
		free(l);
	}
	EVP_PKEY_free(rsa);
	age_identity_free(id);
	return ret;
}

static int locked_openssh_identity(const uint8_t *blob, size_t blob_len, const struct openssh_key *k,
				   const char *name, struct age_identity **out)
{
	enum age_key_type type;
	uint8_t pk[32];
	EVP_PKEY *rsa = NULL;
	int ret;

	if ((ret = parse_public_blob(k->pub, k->pub_len, &type, pk, &rsa)) < 0) {
		gs_error_prefix("'%s'", name);
		return ret;
	}
	return locked_identity(type, pk, rsa, k->pub, k->pub_len, blob, blob_len, false, name, out);
}

/* A PEM key keeps no public key in the clear: as age, it is read from the
 * .pub file beside the key file (key_path; NULL: the key is no file, text
 * from a variable or a command, and has none). */
static int locked_pem_identity(const char *text, size_t len, const char *name, const char *key_path,
			       struct age_identity **out)
{
	struct age_recipient *r = NULL;
	struct gs_buf pub;
	char *path;
	int ret;

	if (!key_path || !strcmp(key_path, "-"))
		return GS_FAIL(GS_ERR_KEY, "'%s' is a passphrase-protected PEM key given as no file, so it has no "
					   ".pub file beside it (ssh-keygen -p -f KEY converts the key to the OpenSSH "
					   "format, which holds its public key)", gs_shown(name));
	path = gs_malloc(strlen(key_path) + 5);
	if (!path)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	snprintf(path, strlen(key_path) + 5, "%s.pub", key_path);
	gs_buf_init(&pub, false);
	if (gs_read_file(path, &pub, SSH_BLOB_MAX * 2) != 0 || age_ssh_recipient_parse((const char *)pub.data, &r) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected and its public key '%s' cannot be read "
					  "(ssh-keygen -p -f KEY converts the key to the OpenSSH format, which holds it)",
			      gs_shown(name), gs_shown(path));
		goto out;
	}
	ret = locked_identity(r->type, r->pk, r->rsa, r->ssh_blob, r->ssh_blob_len, text, len, true, name, out);
	r->rsa = NULL;
out:
	age_recipient_free(r);
	gs_buf_release(&pub);
	free(path);
	return ret;
}

/* openssh-key-v1 (OpenSSH PROTOCOL.key). */
static int parse_openssh(const char *text, size_t len, const char *name, struct age_identity **out)
{
	const char *b64 = text + strlen(OPENSSH_BEGIN), *end;
	struct openssh_key k;
	size_t blob_len = 0;
	uint8_t *blob;
	int ret = 0;

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
	if ((ret = openssh_split(blob, blob_len, name, &k)))
		goto out;
	if (k.cipher)
		ret = locked_openssh_identity(blob, blob_len, &k, name, out);
	else
		ret = age_ssh_private_section_parse(k.priv, k.priv_len, name, false, out);
out:
	gs_secure_free(blob);
	return ret;
}

/* OpenSSL's passphrase callback: the passphrase given, or none. */
static int pem_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pem_passphrase *p = u;

	(void)rwflag;
	if (!p || size < 0 || p->len > (size_t)size)
		return -1;
	memcpy(buf, p->data, p->len);
	return (int)p->len;
}

/* PEM PKCS#1 / PKCS#8; pass NULL for an unencrypted key. */
static int pem_identity(const char *text, size_t len, const char *name, const struct pem_passphrase *pass,
			struct age_identity **out)
{
	EVP_PKEY *pkey;
	uint8_t *sk;
	size_t seed_len = 32;
	BIO *bio;
	int ret;

	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_passphrase_cb, (void *)pass);
	BIO_free(bio);
	if (!pkey)
		return pass ? GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name))
			    : GS_FAIL(GS_ERR_PARSE, "'%s': unreadable private key", gs_shown(name));
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

/* Legacy PEM encryption ("Proc-Type: 4,ENCRYPTED", ssh-keygen -m PEM and
 * OpenSSH before 7.8): the body in CBC mode under OpenSSL's
 * EVP_BytesToKey (MD5, one round, the IV's first 8 bytes as salt).
 * OpenSSL's reader finds that cipher in its legacy table of names, which
 * gitseal does not load (util/libcrypto.c): decrypted here, the key is
 * read as an unencrypted PEM key. */
static const struct {
	char name[16]; /* inline: no relocation (openssh_cipher) */
	uint8_t key_len, iv_len;
} pem_ciphers[] = {
	{ "AES-128-CBC", 16, 16 }, { "AES-192-CBC", 24, 16 }, { "AES-256-CBC", 32, 16 }, { "DES-EDE3-CBC", 24, 8 },
};

enum { PEM_KEY_MAX = 32, PEM_IV_MAX = 16, MD5_SIZE = 16 };

static int pem_bytes_to_key(const struct pem_passphrase *pass, const uint8_t *salt, uint8_t *key, size_t key_len)
{
	EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	uint8_t *in = gs_secure_alloc(MD5_SIZE + pass->len + 8), d[MD5_SIZE];
	size_t in_len = 0, done = 0, n;
	int ret = 0;

	if (!md5 || !in) {
		ret = GS_FAIL(GS_ERR_KEY, "cannot set up MD5 for a PEM key");
		goto out;
	}
	while (done < key_len) {
		memcpy(in + in_len, pass->data, pass->len);
		memcpy(in + in_len + pass->len, salt, 8);
		if (EVP_Digest(in, in_len + pass->len + 8, d, NULL, md5, NULL) != 1) {
			ret = GS_FAIL(GS_ERR_KEY, "cannot set up MD5 for a PEM key");
			goto out;
		}
		n = key_len - done < MD5_SIZE ? key_len - done : MD5_SIZE;
		memcpy(key + done, d, n);
		done += n;
		memcpy(in, d, MD5_SIZE);
		in_len = MD5_SIZE;
	}
out:
	sodium_memzero(d, sizeof(d));
	gs_secure_free(in);
	EVP_MD_free(md5);
	return ret;
}

static int pem_legacy_identity(const char *text, size_t len, const char *name, const struct pem_passphrase *pass,
			       struct age_identity **out)
{
	const char *end = text + len, *dek, *p, *body, *stop, *label, *label_end;
	uint8_t iv[PEM_IV_MAX], key[PEM_KEY_MAX], *ct = NULL, *der = NULL;
	char *pem = NULL;
	size_t i, n, ct_len, iv_len, der_len = 0, pem_cap, pem_len;
	EVP_CIPHER *cipher = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int c = -1, n1 = 0, n2 = 0, ret;

	dek = memmem(text, len, "\nDEK-Info: ", 11);
	label = memmem(text, len, "-----BEGIN ", 11);
	if (!dek || !label)
		goto malformed;
	dek += 11;
	label += 11;
	label_end = memchr(label, '-', (size_t)(end - label));
	for (i = 0; i < sizeof(pem_ciphers) / sizeof(pem_ciphers[0]); i++) {
		n = strlen(pem_ciphers[i].name);
		if ((size_t)(end - dek) > n && !memcmp(dek, pem_ciphers[i].name, n) && dek[n] == ',')
			c = (int)i;
	}
	if (c < 0)
		return GS_FAIL(GS_ERR_KEY, "'%s': unsupported PEM encryption (ssh-keygen -p -f KEY converts the key "
					   "to the OpenSSH format)", gs_shown(name));
	p = dek + strlen(pem_ciphers[c].name) + 1;
	iv_len = pem_ciphers[c].iv_len;
	if (!label_end || sodium_hex2bin(iv, sizeof(iv), p, (size_t)(end - p), NULL, &n, &p) != 0 || n != iv_len)
		goto malformed;
	/* the body: after the blank line that ends the headers */
	body = memmem(p, (size_t)(end - p), "\n\n", 2);
	if (!body)
		body = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
	if (!body)
		goto malformed;
	stop = memmem(body, (size_t)(end - body), "-----END ", 9);
	if (!stop)
		goto malformed;
	ct = gs_malloc((size_t)(stop - body) + 1);
	der = gs_secure_alloc((size_t)(stop - body) + PEM_IV_MAX);
	if (!ct || !der) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (gs_base64_decode_secret(body, (size_t)(stop - body), " \t\r\n", ct, (size_t)(stop - body) + 1,
				    &ct_len) != 0 || !ct_len || ct_len % iv_len)
		goto malformed;
	if ((ret = pem_bytes_to_key(pass, iv, key, pem_ciphers[c].key_len)))
		goto out;
	cipher = EVP_CIPHER_fetch(NULL, pem_ciphers[c].name, NULL);
	ctx = EVP_CIPHER_CTX_new();
	if (!cipher || !ctx || EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv) != 1) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': cannot set up %s", gs_shown(name), pem_ciphers[c].name);
		goto out;
	}
	/* a wrong passphrase: the padding is wrong, or the DER does not read */
	if (EVP_DecryptUpdate(ctx, der, &n1, ct, (int)ct_len) != 1 || EVP_DecryptFinal_ex(ctx, der + n1, &n2) != 1) {
		ret = GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name));
		goto out;
	}
	der_len = (size_t)n1 + (size_t)n2;
	/* the key unencrypted, under its own label */
	pem_cap = 2 * (size_t)(label_end - label) + 64 + GS_BASE64_LEN(der_len) + der_len / 48 + 2;
	if (!(pem = gs_secure_alloc(pem_cap))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	pem_len = (size_t)snprintf(pem, pem_cap, "-----BEGIN %.*s-----\n", (int)(label_end - label), label);
	for (i = 0; i < der_len; i += 48) {
		n = der_len - i < 48 ? der_len - i : 48;
		sodium_bin2base64(pem + pem_len, pem_cap - pem_len, der + i, n, sodium_base64_VARIANT_ORIGINAL);
		pem_len += strlen(pem + pem_len);
		pem[pem_len++] = '\n';
	}
	pem_len += (size_t)snprintf(pem + pem_len, pem_cap - pem_len, "-----END %.*s-----\n",
				    (int)(label_end - label), label);
	ret = pem_identity(pem, pem_len, name, NULL, out);
	if (ret == GS_ERR_PARSE)
		ret = GS_FAIL(GS_ERR_KEY, "'%s': incorrect passphrase", gs_shown(name));
	goto out;
malformed:
	ret = GS_FAIL(GS_ERR_PARSE, "'%s': malformed encrypted PEM key", gs_shown(name));
out:
	sodium_memzero(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	free(ct);
	gs_secure_free(der);
	gs_secure_free(pem);
	return ret;
}

int age_ssh_pem_legacy_parse(const char *text, size_t len, const char *name, const uint8_t *pass, size_t pass_len,
			     struct age_identity **out)
{
	const struct pem_passphrase p = { pass, pass_len };

	*out = NULL;
	return pem_legacy_identity(text, len, name, &p, out);
}

int age_ssh_identity_parse(const char *text, size_t len, const char *name, const char *key_path,
			   struct age_identity **out)
{
	*out = NULL;
	if (len >= strlen(OPENSSH_BEGIN) && memcmp(text, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN)) == 0)
		return parse_openssh(text, len, name, out);
	if (memmem(text, len, "ENCRYPTED", 9))
		return locked_pem_identity(text, len, name, key_path, out);
	return pem_identity(text, len, name, NULL, out);
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
