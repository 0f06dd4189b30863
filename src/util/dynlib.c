#include <dlfcn.h>
#include <stdio.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

int gs_dynlib_load(const char *soname, const struct gs_dynsym *syms, size_t count)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	const char *why;

	if (!lib) {
		why = dlerror();
		return GS_FAIL(GS_ERR_GENERIC, "cannot load %s: %s", soname, why ? why : "is it installed?");
	}
	for (size_t i = 0; i < count; i++) {
		/* POSIX: a function's address read through a void * (dlsym's idiom) */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot)
			return GS_FAIL(GS_ERR_GENERIC, "%s has no %s", soname, syms[i].name);
	}
	return 0;
}

int gs_dynlib_open(struct gs_dynlib *lib)
{
	/* the acquire load pairs with the release store: a caller that sees
	 * done sees the resolved symbols and the outcome */
	if (!atomic_load_explicit(&lib->done, memory_order_acquire)) {
		pthread_mutex_lock(&lib->lock);
		if (!atomic_load_explicit(&lib->done, memory_order_relaxed)) {
			lib->result = gs_dynlib_load(lib->soname, lib->syms, lib->count);
			if (lib->result)
				snprintf(lib->error, sizeof(lib->error), "%s", gs_error_message());
			atomic_store_explicit(&lib->done, true, memory_order_release);
		}
		pthread_mutex_unlock(&lib->lock);
	}
	return lib->result ? GS_FAIL(lib->result, "%s", lib->error) : 0;
}
