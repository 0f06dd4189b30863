#include <dlfcn.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

int gs_dynlib_load(const char *soname, const struct gs_dynsym *syms, size_t count)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return GS_FAIL(GS_ERR_GENERIC, "cannot load %s: is it installed?", soname);
	for (size_t i = 0; i < count; i++) {
		/* POSIX: a function's address read through a void * (dlsym's idiom) */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot)
			return GS_FAIL(GS_ERR_GENERIC, "%s has no %s", soname, syms[i].name);
	}
	return 0;
}
