/* Paths as the kernel resolves them (include/gitseal/path.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitseal/path.h"

bool gs_path_find_up(char dir[static PATH_MAX], const char *entry)
{
	char cand[PATH_MAX];
	struct stat st;
	char *slash;

	for (;;) {
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", strcmp(dir, "/") ? dir : "", entry) < sizeof(cand) &&
		    lstat(cand, &st) == 0)
			return true;
		if (!(slash = strrchr(dir, '/')) || !strcmp(dir, "/"))
			break;
		slash[slash == dir] = '\0';
	}
	dir[0] = '\0';
	return false;
}

/* Appends the components of path to out (len bytes long), "." and ".."
 * as written; false when it would not fit. */
static bool append_components(char out[static PATH_MAX], size_t *len, const char *path)
{
	while (*path) {
		size_t n = strcspn(path, "/");

		if ((n == 1 && path[0] == '.') || n == 0) {
			/* nothing */
		} else if (n == 2 && path[0] == '.' && path[1] == '.') {
			while (*len > 0 && out[--*len] != '/')
				;
			out[*len] = '\0';
		} else {
			if (*len + 1 + n >= PATH_MAX)
				return false;
			out[(*len)++] = '/';
			memcpy(out + *len, path, n);
			*len += n;
			out[*len] = '\0';
		}
		path += n + (path[n] == '/');
	}
	return true;
}

int gs_path_absolute(const char *path, char out[static PATH_MAX])
{
	char cwd[PATH_MAX];
	size_t len = 0;

	out[0] = '\0';
	if (path[0] != '/' && (!realpath(".", cwd) || !append_components(out, &len, cwd)))
		return -1;
	if (!append_components(out, &len, path))
		return -1;
	if (!len)
		strcpy(out, "/");
	return 0;
}

bool gs_path_inside(const char *dir, const char *real)
{
	size_t n = strlen(dir);

	return !strcmp(dir, "/") || (!strncmp(real, dir, n) && (real[n] == '\0' || real[n] == '/'));
}
