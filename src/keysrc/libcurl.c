/* libcurl, opened when a Vault key is first used (see gitseal/dynlib.h:
 * libcurl's dependencies cost about 2 ms of start-up in every process).
 * The functions below are the ones vault.c calls, forwarding to libcurl;
 * curl.h's prototypes make the compiler check them. */
#include <stdarg.h>

#include <curl/curl.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

#include "keysrc_int.h"

#ifndef LIBCURL_SONAME
#error "the Makefile passes LIBCURL_SONAME, the shared library name found at build time"
#endif

static CURLcode (*p_curl_global_init)(long flags);
static CURL *(*p_curl_easy_init)(void);
static CURLcode (*p_curl_easy_setopt)(CURL *curl, CURLoption option, ...);
static CURLcode (*p_curl_easy_perform)(CURL *curl);
static void (*p_curl_easy_cleanup)(CURL *curl);
static CURLcode (*p_curl_easy_getinfo)(CURL *curl, CURLINFO info, ...);
static const char *(*p_curl_easy_strerror)(CURLcode code);
static struct curl_slist *(*p_curl_slist_append)(struct curl_slist *list, const char *s);
static void (*p_curl_slist_free_all)(struct curl_slist *list);

static void resolve(struct gs_dynload *l)
{
	GS_DYNSYM(curl_global_init)
	GS_DYNSYM(curl_easy_init)
	GS_DYNSYM(curl_easy_setopt)
	GS_DYNSYM(curl_easy_perform)
	GS_DYNSYM(curl_easy_cleanup)
	GS_DYNSYM(curl_easy_getinfo)
	GS_DYNSYM(curl_easy_strerror)
	GS_DYNSYM(curl_slist_append)
	GS_DYNSYM(curl_slist_free_all)
}

static struct gs_dynlib library = GS_DYNLIB(LIBCURL_SONAME, resolve);

int keysrc_libcurl_load(void)
{
	/* one dlopen at a time: this library pulls in libcrypto too, and
	 * glibc leaves a list unfreed when two threads open it at once */
	gs_libcrypto_warm_wait();
	return gs_dynlib_open(&library);
}

CURLcode curl_global_init(long flags)
{
	return p_curl_global_init(flags);
}

CURL *curl_easy_init(void)
{
	return p_curl_easy_init();
}

/* The variadic two: the one argument is passed on as the type libcurl
 * reads for that option (its own rule: the option number's range). The
 * parentheses keep curl.h's type-checking macros off these definitions. */
CURLcode(curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = p_curl_easy_setopt(curl, option, va_arg(ap, long));
	else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
		rc = p_curl_easy_setopt(curl, option, va_arg(ap, curl_off_t));
	else
		rc = p_curl_easy_setopt(curl, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	va_start(ap, info);
	rc = p_curl_easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
	return p_curl_easy_perform(curl);
}

void curl_easy_cleanup(CURL *curl)
{
	p_curl_easy_cleanup(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
	return p_curl_easy_strerror(code);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return p_curl_slist_append(list, s);
}

void curl_slist_free_all(struct curl_slist *list)
{
	p_curl_slist_free_all(list);
}
