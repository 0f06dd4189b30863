/* A name from a file or from the user (a path, a key, a regex, a
 * kustomization entry) as a one-line message shows it. Repository content
 * is attacker input (docs/threat-model.md): a control byte in a file name
 * would end the line and forge a second one, or steer the terminal that
 * shows the message (move the cursor, clear lines, hide text).
 *
 * Messages quote a name as git does, the error first and the name between
 * single quotes in the format ("cannot open '%s'", gs_shown(path)); every
 * name a message quotes, or lists, goes through this module. */
#ifndef GITSEAL_SHOWN_H
#define GITSEAL_SHOWN_H

#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

/* s with each control byte, DEL, C1 control (U+0080..U+009F) and byte of
 * broken UTF-8 as \xNN, as git's core.quotePath escapes them, and the
 * bytes of a bidi control, zero-width character or line separator (they
 * reorder, hide or break what a viewer shows), the rest as it is (a plain
 * name reads the same); cut with "..." past 16 KiB; NULL
 * as "(null)", as glibc's printf shows it. Valid while s is and until the
 * thread's fourth call after. */
const char *gs_shown(const char *s);

/* As gs_shown, for the len bytes at s (a key or a name inside a buffer,
 * what "%.*s" would show): a NUL byte among them is shown as \x00. Valid
 * until the thread's fourth call after. */
const char *gs_shown_n(const char *s, size_t len);

/* As gs_shown, for a file name the user gave (an argument, a variable):
 * a secret key given where a file name belongs (keygen -y AGE-SECRET-KEY-...,
 * SOPS_AGE_KEY_FILE=$(cat key)) is not shown. */
const char *gs_shown_arg(const char *path);

/* Appends s as gs_shown() shows it, without the length cap. */
int gs_shown_append(struct gs_buf *out, const char *s) __attribute__((warn_unused_result));

/* Appends len bytes of text shown as gs_shown() shows a name, line ends
 * and tabs kept, the invisible characters a name escapes not (text in a
 * right-to-left script holds them): what textconv prints, so that a
 * value a pull request sealed cannot steer the terminal of `git diff` or
 * `git log -p`. */
int gs_shown_append_text(struct gs_buf *out, const uint8_t *s, size_t len) __attribute__((warn_unused_result));

#endif
