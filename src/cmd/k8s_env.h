/* Shared by the cluster commands (render, krm). */
#ifndef GITSEAL_CMD_K8S_ENV_H
#define GITSEAL_CMD_K8S_ENV_H

/* Argo CD passes an Application's plugin env as ARGOCD_ENV_<NAME>: maps the
 * sops age variables to their own names. A variable the sidecar itself sets
 * wins. SOPS_AGE_KEY_CMD runs a command, so it is taken from an
 * Application only when the sidecar sets GITSEAL_ALLOW_ARGOCD_KEY_CMD=1. */
void cmd_k8s_import_argocd_env(void);

/* GITSEAL_PGP_KEY_DIR: every *.asc file there (a mounted Secret, as Flux
 * reads PGP keys) is imported into a private GnuPG home made for this run,
 * and GNUPGHOME points at it; removed by cmd_k8s_pgp_home_remove. Set by
 * the sidecar only (never from an Application's ARGOCD_ENV_). */
struct pgp_home;
int cmd_k8s_pgp_home(struct pgp_home *h) __attribute__((warn_unused_result));
void cmd_k8s_pgp_home_remove(struct pgp_home *h);

struct k8s_failures;
/* Prints each per-document failure (or the error) and returns the exit code. */
int cmd_k8s_report(const struct k8s_failures *fails);

#endif
