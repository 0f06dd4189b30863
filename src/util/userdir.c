/* include/gitseal/userdir.h */
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/userdir.h"

bool gs_userdir_is_private(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 077);
}
