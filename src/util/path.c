/* Paths as the kernel resolves them (include/gitseal/path.h). */
#include <stdio.h>
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

bool gs_path_inside(const char *dir, const char *real)
{
	size_t n = strlen(dir);

	return !strcmp(dir, "/") || (!strncmp(real, dir, n) && (real[n] == '\0' || real[n] == '/'));
}
