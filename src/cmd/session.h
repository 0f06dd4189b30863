/* The commands' side of the file pipeline (include/gitseal/sops.h): read
 * the file named on the command line, open it with the identities sops
 * would use, seal it again, and the policies that belong to commands (the
 * default selection for Kubernetes Secrets, the indentation). */
#ifndef GITSEAL_CMD_SESSION_H
#define GITSEAL_CMD_SESSION_H

#include <limits.h>
#include <stdbool.h>

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/sops.h"
#include "sops_cli.h"

/* An opened sops file for commands that change it or use its plaintext
 * (edit, set, unset, rotate, updatekeys, groups, exec-*). */
struct sops_session {
	const char *name;              /* for messages */
	enum doc_format format;
	struct age_identity_list ids;
	struct sops_file *file;
	struct doc *plain;             /* the decrypted tree (sops_file_doc) */
	const struct sops_key_summary *keys; /* the file's groups, threshold and selection */
	bool drop_unsupported_keys;    /* given to sops_session_seal (--drop-unsupported-keys) */
	int indent;                    /* --indent, else 0: the store's default */
	bool fresh_layout;             /* --indent given: the whole file is written afresh with it,
					* as sops re-emits every file (main.go:2391) */
	bool keep_metadata;            /* set before opening: meta gets the file's sops entry */
	bool writes_back;              /* set before opening: the command seals the file again, in its
					* own format (rotate, set, unset, groups, edit): --output-type
					* naming another is refused, never ignored */
	struct doc meta;               /* { sops: <the metadata as in the file> } (edit -s) */
	struct gs_buf text;            /* with reseal, the file as read: what cmd_check_new_clear
					* compares with (read again, a second writer went unseen) */
};

void sops_session_init(struct sops_session *s);
/* Reads and opens the file named on the command line; the MAC is checked.
 * With reseal, what sealing again reuses is kept. */
int sops_session_open(struct sops_session *s, const struct sops_cli *c, bool reseal)
	__attribute__((warn_unused_result));
/* Seals doc (a plaintext tree of the file: s->plain or another) for the
 * given key groups (NULL: the file's own), verified; with fresh_key under
 * a new data key (rotate). Warns when the fresh layout had to be written. */
int sops_session_seal(struct sops_session *s, struct doc *doc, const struct sops_key_group *groups,
		      size_t group_count, int shamir_threshold, bool fresh_key, struct gs_buf *out)
	__attribute__((warn_unused_result));
void sops_session_release(struct sops_session *s);
/* Before edit or set seal doc: a value the file's own rule (its metadata,
 * outside the MAC: a pull request can narrow it) leaves in clear, that
 * the version on disk does not hold in clear and that encrypting the file
 * afresh (.sops.yaml's rule, else the default) would encrypt, is refused
 * unless --keep-file-rule is given. */
int cmd_check_new_clear(struct sops_session *s, const struct sops_cli *c, struct doc *doc)
	__attribute__((warn_unused_result));

/* Forgets a tree's source text: it is then written in the fresh layout
 * (a change its own layout cannot take, or --indent). */
void cmd_drop_layout(struct doc *d);

/* How a plaintext is emitted: always loaded back and compared, wherever it
 * goes (a file, the editor's copy, standard output). */
enum cmd_emit {
	CMD_EMIT_VERIFIED,        /* the tree's source text is kept */
	CMD_EMIT_VERIFIED_DROP,   /* the tree's source text is not needed afterwards */
};

/* A plaintext tree as bytes (decrypt, edit, exec-file), proven; warns
 * about a fallback to the fresh layout, naming the file. */
int cmd_plain_emit(const char *name, struct doc *plain, enum doc_format format, int indent,
		   enum cmd_emit how, struct gs_buf *out) __attribute__((warn_unused_result));

/* The repository the command works in, a real path, or "" when there is
 * none (an error when the current directory does not resolve): the top of the git work tree holding the current directory, else
 * the directory of the .sops.yaml found from it. Its content is attacker
 * input (docs/threat-model.md): a committed symbolic link must take
 * neither -r nor its .sops.yaml's rules, unannounced, to a file outside
 * it. */
int cmd_repo_root(char root[static PATH_MAX]) __attribute__((warn_unused_result));
/* Whether path, every link in it resolved, lies outside root (a real
 * path, "": none); its real path in real. A path that does not resolve
 * is not. */
bool cmd_leads_outside(const char *root, const char *path, char real[static PATH_MAX])
	__attribute__((warn_unused_result));

/* Where a new file is written (written: the file encrypt -i or edit
 * creates or replaces, encrypt's --output; NULL: standard output): a
 * place outside the repository reached through a
 * symbolic link (secrets/out/new.yaml, secrets/out -> /elsewhere) is
 * refused when the keys would be the found creation rule's (repository
 * content must not reach a file outside it), and named in one line when
 * the user named the keys; a file typed outside it (not --output) gets one
 * line when the rule's keys are applied to it. Asked twice: before any work
 * (announce false: the refusal), and once the file is sealed, before it is
 * written (announce true: the lines, so that they are said only of a file
 * that is written). */
int cmd_check_new_file_place(const struct sops_cli *c, const struct sops_config *config, const char *written,
			     bool announce) __attribute__((warn_unused_result));

/* New files (encrypt, edit of a new file): the keys from flags, the
 * environment and the creation rule; a Kubernetes Secret with no
 * selection gets encrypted_regex ^(data|stringData)$ (*k8s_default set). */
int cmd_new_file_keys(const struct sops_cli *c, const struct sops_config *config,
		      struct doc *plain, struct sops_key_summary *out, bool *k8s_default)
	__attribute__((warn_unused_result));
/* Encrypts the plaintext text (taken over) of a new file for those keys,
 * in --output-type when given; verified. */
int cmd_encrypt_text(const struct sops_cli *c, const struct sops_config *config,
		     struct gs_buf *text, struct gs_buf *out, bool *k8s_default)
	__attribute__((warn_unused_result));
/* out (initialised or released) becomes { sops: <d's metadata entry> } in
 * format: GS_ERR_NO_METADATA when d has none. */
int cmd_metadata_only(const struct doc *d, enum doc_format format, struct doc *out)
	__attribute__((warn_unused_result));
/* The indentation for writing format, as gitseal/sops_format.h counts it:
 * --indent, else the config's stores.yaml.indent / stores.json.indent
 * (config may be NULL), else the store's default (a tab for JSON). */
int cmd_indent(const struct sops_cli *c, const struct sops_config *config, enum doc_format format);

#endif
