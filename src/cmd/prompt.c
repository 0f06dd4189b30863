#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "prompt.h"

enum { PASSPHRASE_MAX = 1024 };

/* Signals that stop or end the process while the terminal's echo is off:
 * caught for the question, so that the terminal gets its echo back
 * first (a ^C left the shell without echo; after ^Z and fg the rest of
 * the passphrase was shown as typed), then passed on as they came. */
static const int tty_signals[] = { SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU };
enum { TTY_SIGNAL_COUNT = sizeof(tty_signals) / sizeof(tty_signals[0]) };
static volatile sig_atomic_t tty_caught;

static void on_tty_signal(int sig)
{
	tty_caught = sig;
}

/* Handlers without SA_RESTART: a read of the terminal returns EINTR. A
 * signal ignored stays ignored (a background job's SIGINT). */
static void catch_tty_signals(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tty_signal;
	sigemptyset(&sa.sa_mask);
	tty_caught = 0;
	for (size_t i = 0; i < TTY_SIGNAL_COUNT; i++)
		if (sigaction(tty_signals[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
			sigaction(tty_signals[i], &sa, NULL);
}

static void release_tty_signals(const struct sigaction *old)
{
	for (size_t i = 0; i < TTY_SIGNAL_COUNT; i++)
		sigaction(tty_signals[i], &old[i], NULL);
}

static int read_tty_line(int fd, const char *question, struct gs_buf *out)
{
	struct sigaction old_actions[TTY_SIGNAL_COUNT];
	struct termios old, quiet;
	bool restore;
	char c;
	ssize_t n;
	int ret, sig;

again:
	restore = false;
	ret = 0;
	catch_tty_signals(old_actions);
	/* a background job's question under `stty tostop` raises SIGTTOU:
	 * caught, it is passed on below (the job stops), not an error */
	if (write(fd, question, strlen(question)) < 0 && !tty_caught) {
		release_tty_signals(old_actions);
		return GS_FAIL(GS_ERR_IO, "cannot write to the terminal");
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	/* a signal another thread took is seen at the next key */
	while (!tty_caught) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (c == '\r')
			continue;
		if (out->len >= PASSPHRASE_MAX) {
			ret = GS_FAIL(GS_ERR_USAGE, "passphrase too long");
			break;
		}
		ret = gs_buf_append(out, &c, 1);
		if (ret)
			break;
	}
	c = 0;
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* only cosmetic */
	}
	/* read after: one that comes between goes to the old handler */
	release_tty_signals(old_actions);
	sig = tty_caught;
	if (!sig)
		return ret;
	/* as it came, to the handler it had before (or its default) */
	gs_buf_reset(out);
	kill(getpid(), sig);
	/* back from a stop (fg): asked again, echo off again */
	if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
		goto again;
	return GS_FAIL(GS_ERR_USAGE, "no passphrase: interrupted by a signal");
}

int prompt_passphrase(const char *question, bool confirm, struct gs_buf *out)
{
	const char *env = getenv("GITSEAL_PASSPHRASE");
	struct gs_buf again;
	int fd, ret;

	gs_buf_reset(out);
	if (env) {
		if (!*env)
			return GS_FAIL(GS_ERR_USAGE, "GITSEAL_PASSPHRASE is empty");
		return gs_buf_append_str(out, env);
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		/* not a usage error: no "run --help" line after it */
		return GS_FAIL(GS_ERR_GENERIC,
			       "no terminal to ask for a passphrase (set GITSEAL_PASSPHRASE for automation)");
	ret = read_tty_line(fd, question, out);
	if (!ret && out->len == 0)
		ret = GS_FAIL(GS_ERR_USAGE, "empty passphrase");
	if (!ret && confirm) {
		gs_buf_init(&again, true);
		ret = read_tty_line(fd, "Confirm passphrase: ", &again);
		if (!ret && (again.len != out->len || memcmp(again.data, out->data, out->len) != 0))
			ret = GS_FAIL(GS_ERR_USAGE, "passphrases didn't match");
		gs_buf_release(&again);
	}
	close(fd);
	if (ret)
		gs_buf_reset(out);
	return ret;
}

/* Not GITSEAL_PASSPHRASE, which is the passphrase of `age -p` files: a
 * file encrypted to the key may also be tried with it, so one variable
 * would be two secrets. */
static int ssh_passphrase(const char *key_name, struct gs_buf *out, const char *no_ask)
{
	const char *env = getenv("GITSEAL_SSH_PASSPHRASE");
	char question[PASSPHRASE_MAX];
	int fd, ret;

	gs_buf_reset(out);
	if (env) {
		if (!*env)
			return GS_FAIL(GS_ERR_KEY, "GITSEAL_SSH_PASSPHRASE is empty");
		return gs_buf_append_str(out, env);
	}
	fd = no_ask ? -1 : open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return GS_FAIL(GS_ERR_KEY, "'%s' is passphrase-protected: %s; set GITSEAL_SSH_PASSPHRASE to its passphrase",
			       gs_shown(key_name), no_ask ? no_ask : "no terminal to ask for it");
	snprintf(question, sizeof(question), "Enter passphrase for '%s': ", gs_shown(key_name));
	ret = read_tty_line(fd, question, out);
	close(fd);
	if (ret)
		gs_buf_reset(out);
	return ret;
}

int prompt_ssh_passphrase(const char *key_name, struct gs_buf *out)
{
	return ssh_passphrase(key_name, out, NULL);
}

int prompt_ssh_passphrase_no_terminal(const char *key_name, struct gs_buf *out)
{
	return ssh_passphrase(key_name, out, "this command does not ask for it");
}

/* Why unlock asks no question where git would ask none (its Boolean
 * GIT_TERMINAL_PROMPT set to false: a CI job, a script), read as git's
 * git_config_bool reads it: empty is false, and so is an integer of 0
 * in any base strtoimax reads, with a unit (k, m, g) or none ("00",
 * "0x0", "0k"; red team 23, P1). A value git cannot read as a Boolean
 * ("maybe") makes git stop: no question then either. NULL: ask. */
static const char *git_terminal_prompt_off(void)
{
	const char *v = getenv("GIT_TERMINAL_PROMPT");
	char *end;
	long long n;

	if (!v || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return NULL;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return "GIT_TERMINAL_PROMPT is off";
	errno = 0;
	n = strtoll(v, &end, 0);
	if (end == v || errno || (*end && (!strchr("kKmMgG", *end) || end[1])))
		return "GIT_TERMINAL_PROMPT is not a Boolean git reads";
	return n == 0 ? "GIT_TERMINAL_PROMPT is off" : NULL;
}

/* git runs its hooks with standard input from /dev/null or a pipe, and
 * its filters and drivers on pipes: a terminal there is a user's. */
int prompt_ssh_passphrase_typed(const char *key_name, struct gs_buf *out)
{
	const char *off = git_terminal_prompt_off();

	if (off)
		return ssh_passphrase(key_name, out, off);
	return ssh_passphrase(key_name, out, isatty(STDIN_FILENO) ? NULL : "no terminal to ask for it");
}
