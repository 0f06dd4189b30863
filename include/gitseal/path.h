/* Paths as the kernel resolves them: the nearest directory holding an
 * entry (a .git, a .git/config), and whether a real path lies in a tree. */
#ifndef GITSEAL_PATH_H
#define GITSEAL_PATH_H

#include <limits.h>
#include <stdbool.h>

/* dir, a real path, becomes the nearest of itself and its parents that
 * holds entry (a name, or a relative path such as ".git/config", looked
 * up without following a last symbolic link): true, or false with dir
 * "" when none does. One walk up for the commands' questions (which
 * repository, which clone), so that they cannot disagree on where it
 * stops. */
bool gs_path_find_up(char dir[static PATH_MAX], const char *entry) __attribute__((warn_unused_result));

/* path made absolute against the current directory's real path, with
 * "." and ".." taken as written: where the user meant it to be, before
 * any symbolic link on the way is followed. 0, or -1 (too long, no
 * current directory). */
int gs_path_absolute(const char *path, char out[static PATH_MAX]) __attribute__((warn_unused_result));

/* Whether real (a real path) is dir (a real path) or lies below it. */
bool gs_path_inside(const char *dir, const char *real) __attribute__((warn_unused_result));

#endif
