/* rotate's check of whom a new data key is wrapped for. The recipients a
 * file's metadata names are outside the MAC: a pull request can add one
 * and the file still verifies. rotate keeps them, so before it wraps a
 * new data key it compares them with what the user set up: this clone's
 * accepted recipients in a repository under `gitseal git init`, else the
 * creation rule of .sops.yaml for the file. With neither, it does as
 * sops does (the file's own recipients). The key groups and the Shamir
 * threshold are checked against the same references (in a repository,
 * the .sops.yaml the clone accepted). */
#ifndef GITSEAL_CMD_ROTATE_TRUST_H
#define GITSEAL_CMD_ROTATE_TRUST_H

#include <pthread.h>

#include "gitseal/gitfilter.h"
#include "gitseal/sops.h"
#include "sops_cli.h"

struct rotate_refs {
	struct sops_config *config; /* .sops.yaml as sops finds it; NULL: none */
	struct gitfilter *repo;     /* set up by `gitseal git init`; NULL: none */
	pthread_mutex_t lock;       /* the repository's records load on first use */
};

/* Finds the references for files at or below where (a file or a
 * directory). A .sops.yaml that does not parse is an error. */
int rotate_refs_open(struct rotate_refs *r, const struct sops_cli *c, const char *where)
	__attribute__((warn_unused_result));
void rotate_refs_release(struct rotate_refs *r);

/* 0 when every recipient of groups (the file's, --rm-* taken out; the
 * --add-* keys are the user's own choice and not in them) is named by a
 * reference, and, unless the command line gives a threshold, the file's
 * key groups (n, its metadata's shamir threshold) are as many as the
 * reference's and need no fewer of them; or the user confirms (-y, or y
 * on the terminal; never asked in bulk). Otherwise GS_ERR_GENERIC and one
 * line naming the file and the change. Safe from several threads. */
int rotate_refs_check(struct rotate_refs *r, const struct sops_cli *c, const char *file,
		      const struct sops_key_group *groups, size_t n, int threshold)
	__attribute__((warn_unused_result));

#endif
