#include <dlfcn.h>
#include <stdio.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

void gs_dynsym(struct gs_dynload *l, const char *name, void **slot)
{
	if (l->result)
		return;
	*slot = dlsym(l->handle, name);
	if (!*slot)
		l->result = GS_FAIL(GS_ERR_GENERIC, "%s has no %s", l->soname, name);
}

/* Opens soname and resolves every symbol; GS_ERR_GENERIC with a message
 * naming the library (and the missing symbol) on failure. */
static int dynlib_load(const struct gs_dynlib *lib)
{
	struct gs_dynload l = { dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL), lib->soname, 0 };
	const char *why;

	if (!l.handle) {
		why = dlerror();
		return GS_FAIL(GS_ERR_GENERIC, "cannot load %s: %s", lib->soname, why ? why : "is it installed?");
	}
	lib->resolve(&l);
	return l.result;
}

int gs_dynlib_open(struct gs_dynlib *lib)
{
	/* the acquire load pairs with the release store: a caller that sees
	 * done sees the resolved symbols and the outcome */
	if (!atomic_load_explicit(&lib->done, memory_order_acquire)) {
		pthread_mutex_lock(&lib->lock);
		if (!atomic_load_explicit(&lib->done, memory_order_relaxed)) {
			lib->result = dynlib_load(lib);
			if (lib->result)
				snprintf(lib->error, sizeof(lib->error), "%s", gs_error_message());
			atomic_store_explicit(&lib->done, true, memory_order_release);
		}
		pthread_mutex_unlock(&lib->lock);
	}
	return lib->result ? GS_FAIL(lib->result, "%s", lib->error) : 0;
}
