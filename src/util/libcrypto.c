/* libcrypto (OpenSSL 3), loaded when gitseal first needs it.
 *
 * Mapping and relocating libcrypto costs about 0.5 ms of start-up in every
 * process, a third of a small `age -d`, which never calls OpenSSL (libsodium
 * does its work; OpenSSL's AEAD only takes over on large files). So the
 * binary does not link libcrypto: this file defines the OpenSSL functions
 * gitseal calls, each forwarding to the real one, resolved with dlopen on
 * first use. The prototypes come from the OpenSSL headers, so the compiler
 * checks every forwarder.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "gitseal/alloc.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"

#ifndef LIBCRYPTO_SONAME
#error "the Makefile passes LIBCRYPTO_SONAME, the shared library name found at build time"
#endif

#define LIBCRYPTO_FUNCTIONS(X) \
	X(BIO_free) X(BIO_new_mem_buf) \
	X(BN_CTX_free) X(BN_CTX_new) X(BN_bin2bn) X(BN_bn2bin) X(BN_clear_free) X(BN_div) \
	X(BN_cmp) X(BN_free) X(BN_mod_mul) X(BN_mul) X(BN_new) X(BN_num_bits) X(BN_secure_new) X(BN_set_flags) \
	X(BN_sub) X(BN_value_one) \
	X(CRYPTO_free) X(CRYPTO_memdup) \
	X(EVP_CIPHER_CTX_ctrl) X(EVP_CIPHER_CTX_free) X(EVP_CIPHER_CTX_new) X(EVP_CIPHER_CTX_set_padding) \
	X(EVP_CIPHER_fetch) X(EVP_CIPHER_free) \
	X(EVP_CipherFinal_ex) X(EVP_CipherInit_ex) X(EVP_CipherUpdate) \
	X(EVP_DecryptFinal_ex) X(EVP_DecryptInit_ex) X(EVP_DecryptUpdate) \
	X(EVP_Digest) X(EVP_DigestFinalXOF) X(EVP_DigestFinal_ex) X(EVP_DigestInit_ex) \
	X(EVP_DigestInit_ex2) X(EVP_DigestUpdate) \
	X(EVP_EncryptFinal_ex) X(EVP_EncryptInit_ex) X(EVP_EncryptUpdate) \
	X(EVP_MD_CTX_free) X(EVP_MD_CTX_new) X(EVP_MD_fetch) X(EVP_MD_free) \
	X(EVP_PKEY_CTX_free) X(EVP_PKEY_CTX_new_from_name) X(EVP_PKEY_CTX_new_from_pkey) \
	X(EVP_PKEY_CTX_set0_rsa_oaep_label) X(EVP_PKEY_CTX_set_rsa_mgf1_md) \
	X(EVP_PKEY_CTX_set_rsa_oaep_md) X(EVP_PKEY_CTX_set_rsa_padding) \
	X(EVP_PKEY_decrypt) X(EVP_PKEY_decrypt_init) X(EVP_PKEY_encrypt) X(EVP_PKEY_encrypt_init) \
	X(EVP_PKEY_free) X(EVP_PKEY_fromdata) X(EVP_PKEY_fromdata_init) X(EVP_PKEY_get_bits) \
	X(EVP_PKEY_get_bn_param) X(EVP_PKEY_get_raw_private_key) X(EVP_PKEY_get_size) \
	X(EVP_PKEY_is_a) \
	X(EVP_chacha20_poly1305) X(EVP_sha256) X(EVP_sha512) \
	X(OPENSSL_init_crypto) X(OSSL_LIB_CTX_get0_global_default) \
	X(OSSL_PARAM_BLD_free) X(OSSL_PARAM_BLD_new) X(OSSL_PARAM_BLD_push_BN) \
	X(OSSL_PARAM_BLD_to_param) X(OSSL_PARAM_free) \
	X(PEM_read_bio_PrivateKey)

#ifdef GITSEAL_TEST_HOOKS
#define LIBCRYPTO_HOOK_FUNCTIONS(X) X(CRYPTO_set_mem_functions)
#else
#define LIBCRYPTO_HOOK_FUNCTIONS(X)
#endif

/* Each pointer has the type of the header's prototype. */
#define POINTER(fn) static __typeof__(fn) *p_##fn;
LIBCRYPTO_FUNCTIONS(POINTER)
LIBCRYPTO_HOOK_FUNCTIONS(POINTER)
static void resolve(struct gs_dynload *l)
{
	LIBCRYPTO_FUNCTIONS(GS_DYNSYM)
	LIBCRYPTO_HOOK_FUNCTIONS(GS_DYNSYM)
}

static struct gs_dynlib libcrypto = GS_DYNLIB(LIBCRYPTO_SONAME, resolve);

/* Warming: libcrypto opened, and what the caller's function fetches
 * fetched, on a thread of its own while the caller reads and parses its
 * input. Mapping and relocating libcrypto, then OpenSSL's first fetch of
 * an algorithm (its providers set up), took about 5 ms of every sops
 * decrypt on the bench's machine. The first caller of gs_libcrypto_load
 * (or of a forwarder) waits for the thread; until then, nothing else
 * calls OpenSSL. The thread sets OpenSSL up without its exit handler: a
 * command that fails before it needs OpenSSL may exit while the thread
 * still fetches, and the handler would free what the thread uses. */
static pthread_t warm_thread;
static atomic_bool warm_running; /* started, not joined yet */
static pthread_mutex_t warm_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*warm_first)(void), (*warm_fetch)(void);

/* OpenSSL set up without its configuration file: reading openssl.cnf and
 * the error strings of its modules was 1.75 M of the 10.5 M instructions
 * before the first AES-GCM. gitseal asks for fixed algorithms of the
 * default provider; what a configuration could change (providers, default
 * properties) is nothing its formats may follow: sops and age, written in
 * Go, read no such file. Nor OpenSSL's legacy table of ciphers by name
 * (EVP_get_cipherbyname): the first fetch copies all of it into the
 * providers' names, 2.3 M of the 9.2 M instructions of opening libcrypto
 * and fetching AES-256-GCM; every fetch here names the provider's
 * algorithm, and the one reader of the table OpenSSL would reach, the
 * cipher of a legacy encrypted PEM key, is age/ssh.c's own code. The
 * digests' table stays: a TLS peer's certificate (libcurl, when Vault is
 * reached over HTTPS in the same process) is checked through it. The
 * first call decides, before any other. */
enum { INIT_OPTIONS = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS };

#ifdef GITSEAL_TEST_HOOKS
/* The test build's allocator for OpenSSL: gs_lib_alloc_refused may refuse
 * an allocation (gitseal/alloc.h), by OpenSSL's file and line. OpenSSL
 * takes it only before its first allocation: set once libcrypto is open,
 * before OPENSSL_init_crypto, on whichever thread opens it. */
static void *hooked_malloc(size_t num, const char *file, int line)
{
	/* as CRYPTO_malloc: nothing for 0 bytes */
	return num && !gs_lib_alloc_refused(file, line) ? malloc(num) : NULL;
}

static void *hooked_realloc(void *p, size_t num, const char *file, int line)
{
	/* as CRYPTO_realloc, which hands a custom allocator every case */
	if (!p)
		return hooked_malloc(num, file, line);
	if (!num) {
		free(p);
		return NULL;
	}
	return gs_lib_alloc_refused(file, line) ? NULL : realloc(p, num);
}

static void hooked_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static void set_allocator(void)
{
	if (!p_CRYPTO_set_mem_functions(hooked_malloc, hooked_realloc, hooked_free))
		fprintf(stderr, "gitseal: test hook: OpenSSL allocated before its allocator was set\n");
}

static void hook_allocator(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_allocator);
}

void gs_libcrypto_hook_allocator(void)
{
	gs_libcrypto_warm_wait();
	if (gs_dynlib_open(&libcrypto) == 0)
		hook_allocator();
}
#else
static void hook_allocator(void)
{
}
#endif

/* Whether OpenSSL set itself up. Out of memory, OPENSSL_init_crypto can
 * fail, and OpenSSL 3.0 can even report success with its default library
 * context unmade: the next fetch locks a lock that is not there (a SEGV).
 * That context is made once per process, so a failure stays. */
static atomic_bool setup_failed;

static void set_up(uint64_t options)
{
	if (p_OPENSSL_init_crypto(options, NULL) != 1 || !p_OSSL_LIB_CTX_get0_global_default())
		atomic_store(&setup_failed, true);
}

#ifdef GITSEAL_TEST_HOOKS
/* the test build's site log: the thread makes no allocation of gitseal's
 * own, so it leaves the order of their sites alone (gitseal/alloc.h) */
#define QUIET_THREADS(delta) gs_test_quiet_threads(delta)
#define QUIET_THREAD() gs_test_quiet_thread()
#else
#define QUIET_THREADS(delta) (void)0
#define QUIET_THREAD() (void)0
#endif

static void warm(void)
{
	if (warm_first)
		warm_first();
	if (gs_dynlib_open(&libcrypto) < 0)
		return;
	hook_allocator();
	set_up(INIT_OPTIONS | OPENSSL_INIT_NO_ATEXIT);
	if (!atomic_load(&setup_failed) && warm_fetch)
		warm_fetch();
}

static void *warm_main(void *arg)
{
	(void)arg;
	QUIET_THREAD();
	warm();
	QUIET_THREADS(-1);
	return NULL;
}

static void init_unwarmed(void)
{
	set_up(INIT_OPTIONS);
}

/* Opened without the warming thread (or after it): OpenSSL set up as
 * above, with its exit handler unless the thread set it up first. */
static int open_unwarmed(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int ret = gs_dynlib_open(&libcrypto);

	if (ret < 0)
		return ret;
	hook_allocator();
	pthread_once(&once, init_unwarmed);
	if (atomic_load(&setup_failed))
		return GS_FAIL(GS_ERR_NOMEM, "cannot set up OpenSSL: out of memory");
	return 0;
}

void gs_libcrypto_warm(void (*first)(void), void (*fetch)(void))
{
	static atomic_bool started;
	void *mapped;

	if (atomic_load_explicit(&libcrypto.done, memory_order_acquire) || atomic_exchange(&started, true))
		return;
	/* mapped already, as another library's dependency (libgit2's): little
	 * to win, and glibc leaves a list unfreed when a thread opens a
	 * library that is there already while others run */
	if ((mapped = dlopen(LIBCRYPTO_SONAME, RTLD_LAZY | RTLD_NOLOAD))) {
		dlclose(mapped);
		return;
	}
	warm_first = first;
	warm_fetch = fetch;
	/* the release store publishes warm_thread */
	QUIET_THREADS(1);
	if (pthread_create(&warm_thread, NULL, warm_main, NULL) == 0)
		atomic_store_explicit(&warm_running, true, memory_order_release);
	else
		QUIET_THREADS(-1);
}

/* Not on the warming thread itself: its fetch calls the forwarders. */
void gs_libcrypto_warm_wait(void)
{
	if (!atomic_load_explicit(&warm_running, memory_order_acquire) ||
	    pthread_equal(pthread_self(), warm_thread))
		return;
	pthread_mutex_lock(&warm_lock);
	if (atomic_load_explicit(&warm_running, memory_order_relaxed)) {
		pthread_join(warm_thread, NULL);
		atomic_store_explicit(&warm_running, false, memory_order_release);
	}
	pthread_mutex_unlock(&warm_lock);
}

int gs_libcrypto_load(void)
{
	gs_libcrypto_warm_wait();
	return open_unwarmed();
}

bool gs_libcrypto_loaded(void)
{
	return !atomic_load_explicit(&warm_running, memory_order_acquire) &&
	       atomic_load_explicit(&libcrypto.done, memory_order_acquire) && !libcrypto.result &&
	       !atomic_load(&setup_failed);
}

/* A call that reaches a forwarder without gs_libcrypto_load having
 * succeeded: gitseal cannot go on without its cryptography, as if a linked
 * library were missing. */
static void load_or_exit(void)
{
	gs_libcrypto_warm_wait();
	if (open_unwarmed() < 0) {
		fprintf(stderr, "gitseal: error: %s\n", gs_error_message());
		_exit(1);
	}
}

#define CALL(fn) (load_or_exit(), p_##fn)

/* Freeing NULL does not load the library: the age path releases keys and
 * contexts that were never created. */

int BIO_free(BIO *a)
{
	return a ? CALL(BIO_free)(a) : 0;
}

BIO *BIO_new_mem_buf(const void *buf, int len)
{
	return CALL(BIO_new_mem_buf)(buf, len);
}

void BN_CTX_free(BN_CTX *c)
{
	if (c)
		CALL(BN_CTX_free)(c);
}

BN_CTX *BN_CTX_new(void)
{
	return CALL(BN_CTX_new)();
}

BIGNUM *BN_bin2bn(const unsigned char *s, int len, BIGNUM *ret)
{
	return CALL(BN_bin2bn)(s, len, ret);
}

int BN_bn2bin(const BIGNUM *a, unsigned char *to)
{
	return CALL(BN_bn2bin)(a, to);
}

void BN_clear_free(BIGNUM *a)
{
	if (a)
		CALL(BN_clear_free)(a);
}

int BN_div(BIGNUM *dv, BIGNUM *rem, const BIGNUM *m, const BIGNUM *d, BN_CTX *ctx)
{
	return CALL(BN_div)(dv, rem, m, d, ctx);
}

int BN_cmp(const BIGNUM *a, const BIGNUM *b)
{
	return CALL(BN_cmp)(a, b);
}

void BN_free(BIGNUM *a)
{
	if (a)
		CALL(BN_free)(a);
}

int BN_mod_mul(BIGNUM *r, const BIGNUM *a, const BIGNUM *b, const BIGNUM *m, BN_CTX *ctx)
{
	return CALL(BN_mod_mul)(r, a, b, m, ctx);
}

int BN_mul(BIGNUM *r, const BIGNUM *a, const BIGNUM *b, BN_CTX *ctx)
{
	return CALL(BN_mul)(r, a, b, ctx);
}

BIGNUM *BN_new(void)
{
	return CALL(BN_new)();
}

int BN_num_bits(const BIGNUM *a)
{
	return CALL(BN_num_bits)(a);
}

BIGNUM *BN_secure_new(void)
{
	return CALL(BN_secure_new)();
}

void BN_set_flags(BIGNUM *b, int n)
{
	CALL(BN_set_flags)(b, n);
}

int BN_sub(BIGNUM *r, const BIGNUM *a, const BIGNUM *b)
{
	return CALL(BN_sub)(r, a, b);
}

const BIGNUM *BN_value_one(void)
{
	return CALL(BN_value_one)();
}

/* OPENSSL_free and OPENSSL_memdup are macros for these two. */
void CRYPTO_free(void *ptr, const char *file, int line)
{
	if (ptr)
		CALL(CRYPTO_free)(ptr, file, line);
}

void *CRYPTO_memdup(const void *str, size_t siz, const char *file, int line)
{
	return CALL(CRYPTO_memdup)(str, siz, file, line);
}

int EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr)
{
	return CALL(EVP_CIPHER_CTX_ctrl)(ctx, type, arg, ptr);
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *c)
{
	if (c)
		CALL(EVP_CIPHER_CTX_free)(c);
}

EVP_CIPHER_CTX *EVP_CIPHER_CTX_new(void)
{
	return CALL(EVP_CIPHER_CTX_new)();
}

int EVP_CIPHER_CTX_set_padding(EVP_CIPHER_CTX *c, int pad)
{
	return CALL(EVP_CIPHER_CTX_set_padding)(c, pad);
}

EVP_CIPHER *EVP_CIPHER_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
	return CALL(EVP_CIPHER_fetch)(ctx, algorithm, properties);
}

void EVP_CIPHER_free(EVP_CIPHER *cipher)
{
	if (cipher)
		CALL(EVP_CIPHER_free)(cipher);
}

int EVP_CipherFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *outm, int *outl)
{
	return CALL(EVP_CipherFinal_ex)(ctx, outm, outl);
}

int EVP_CipherInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, ENGINE *impl,
		      const unsigned char *key, const unsigned char *iv, int enc)
{
	return CALL(EVP_CipherInit_ex)(ctx, cipher, impl, key, iv, enc);
}

int EVP_CipherUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in,
		     int inl)
{
	return CALL(EVP_CipherUpdate)(ctx, out, outl, in, inl);
}

int EVP_DecryptFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *outm, int *outl)
{
	return CALL(EVP_DecryptFinal_ex)(ctx, outm, outl);
}

int EVP_DecryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, ENGINE *impl,
		       const unsigned char *key, const unsigned char *iv)
{
	return CALL(EVP_DecryptInit_ex)(ctx, cipher, impl, key, iv);
}

int EVP_DecryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in,
		      int inl)
{
	return CALL(EVP_DecryptUpdate)(ctx, out, outl, in, inl);
}

void EVP_MD_free(EVP_MD *md)
{
	if (md)
		CALL(EVP_MD_free)(md);
}

int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
	       const EVP_MD *type, ENGINE *impl)
{
	return CALL(EVP_Digest)(data, count, md, size, type, impl);
}

int EVP_DigestFinalXOF(EVP_MD_CTX *ctx, unsigned char *md, size_t len)
{
	return CALL(EVP_DigestFinalXOF)(ctx, md, len);
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
	return CALL(EVP_DigestFinal_ex)(ctx, md, s);
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
	return CALL(EVP_DigestInit_ex)(ctx, type, impl);
}

int EVP_DigestInit_ex2(EVP_MD_CTX *ctx, const EVP_MD *type, const OSSL_PARAM params[])
{
	return CALL(EVP_DigestInit_ex2)(ctx, type, params);
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
	return CALL(EVP_DigestUpdate)(ctx, d, cnt);
}

int EVP_EncryptFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl)
{
	return CALL(EVP_EncryptFinal_ex)(ctx, out, outl);
}

int EVP_EncryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, ENGINE *impl,
		       const unsigned char *key, const unsigned char *iv)
{
	return CALL(EVP_EncryptInit_ex)(ctx, cipher, impl, key, iv);
}

int EVP_EncryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in,
		      int inl)
{
	return CALL(EVP_EncryptUpdate)(ctx, out, outl, in, inl);
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	if (ctx)
		CALL(EVP_MD_CTX_free)(ctx);
}

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return CALL(EVP_MD_CTX_new)();
}

EVP_MD *EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
	return CALL(EVP_MD_fetch)(ctx, algorithm, properties);
}

void EVP_PKEY_CTX_free(EVP_PKEY_CTX *ctx)
{
	if (ctx)
		CALL(EVP_PKEY_CTX_free)(ctx);
}

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_name(OSSL_LIB_CTX *libctx, const char *name, const char *propquery)
{
	return CALL(EVP_PKEY_CTX_new_from_name)(libctx, name, propquery);
}

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_pkey(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, const char *propquery)
{
	return CALL(EVP_PKEY_CTX_new_from_pkey)(libctx, pkey, propquery);
}

int EVP_PKEY_CTX_set0_rsa_oaep_label(EVP_PKEY_CTX *ctx, void *label, int llen)
{
	return CALL(EVP_PKEY_CTX_set0_rsa_oaep_label)(ctx, label, llen);
}

int EVP_PKEY_CTX_set_rsa_mgf1_md(EVP_PKEY_CTX *ctx, const EVP_MD *md)
{
	return CALL(EVP_PKEY_CTX_set_rsa_mgf1_md)(ctx, md);
}

int EVP_PKEY_CTX_set_rsa_oaep_md(EVP_PKEY_CTX *ctx, const EVP_MD *md)
{
	return CALL(EVP_PKEY_CTX_set_rsa_oaep_md)(ctx, md);
}

int EVP_PKEY_CTX_set_rsa_padding(EVP_PKEY_CTX *ctx, int pad_mode)
{
	return CALL(EVP_PKEY_CTX_set_rsa_padding)(ctx, pad_mode);
}

int EVP_PKEY_decrypt(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen, const unsigned char *in,
		     size_t inlen)
{
	return CALL(EVP_PKEY_decrypt)(ctx, out, outlen, in, inlen);
}

int EVP_PKEY_decrypt_init(EVP_PKEY_CTX *ctx)
{
	return CALL(EVP_PKEY_decrypt_init)(ctx);
}

int EVP_PKEY_encrypt(EVP_PKEY_CTX *ctx, unsigned char *out, size_t *outlen, const unsigned char *in,
		     size_t inlen)
{
	return CALL(EVP_PKEY_encrypt)(ctx, out, outlen, in, inlen);
}

int EVP_PKEY_encrypt_init(EVP_PKEY_CTX *ctx)
{
	return CALL(EVP_PKEY_encrypt_init)(ctx);
}

void EVP_PKEY_free(EVP_PKEY *pkey)
{
	if (pkey)
		CALL(EVP_PKEY_free)(pkey);
}

int EVP_PKEY_fromdata(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey, int selection, OSSL_PARAM param[])
{
	return CALL(EVP_PKEY_fromdata)(ctx, ppkey, selection, param);
}

int EVP_PKEY_fromdata_init(EVP_PKEY_CTX *ctx)
{
	return CALL(EVP_PKEY_fromdata_init)(ctx);
}

int EVP_PKEY_get_bits(const EVP_PKEY *pkey)
{
	return CALL(EVP_PKEY_get_bits)(pkey);
}

int EVP_PKEY_get_bn_param(const EVP_PKEY *pkey, const char *key_name, BIGNUM **bn)
{
	return CALL(EVP_PKEY_get_bn_param)(pkey, key_name, bn);
}

int EVP_PKEY_get_raw_private_key(const EVP_PKEY *pkey, unsigned char *priv, size_t *len)
{
	return CALL(EVP_PKEY_get_raw_private_key)(pkey, priv, len);
}

int EVP_PKEY_get_size(const EVP_PKEY *pkey)
{
	return CALL(EVP_PKEY_get_size)(pkey);
}

int EVP_PKEY_is_a(const EVP_PKEY *pkey, const char *name)
{
	return CALL(EVP_PKEY_is_a)(pkey, name);
}

const EVP_CIPHER *EVP_chacha20_poly1305(void)
{
	return CALL(EVP_chacha20_poly1305)();
}

const EVP_MD *EVP_sha256(void)
{
	return CALL(EVP_sha256)();
}

const EVP_MD *EVP_sha512(void)
{
	return CALL(EVP_sha512)();
}

void OSSL_PARAM_BLD_free(OSSL_PARAM_BLD *bld)
{
	if (bld)
		CALL(OSSL_PARAM_BLD_free)(bld);
}

OSSL_PARAM_BLD *OSSL_PARAM_BLD_new(void)
{
	return CALL(OSSL_PARAM_BLD_new)();
}

int OSSL_PARAM_BLD_push_BN(OSSL_PARAM_BLD *bld, const char *key, const BIGNUM *bn)
{
	return CALL(OSSL_PARAM_BLD_push_BN)(bld, key, bn);
}

OSSL_PARAM *OSSL_PARAM_BLD_to_param(OSSL_PARAM_BLD *bld)
{
	return CALL(OSSL_PARAM_BLD_to_param)(bld);
}

void OSSL_PARAM_free(OSSL_PARAM *p)
{
	if (p)
		CALL(OSSL_PARAM_free)(p);
}

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *out, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
	return CALL(PEM_read_bio_PrivateKey)(out, x, cb, u);
}
