/* Times commands in turn, not one after the other: each round runs every
 * command once, in an order shuffled anew each round (a fixed seed, so a
 * run can be repeated). A fixed cyclic order made each command always
 * follow the same one: a 100-byte `gitseal age -d` always ran right after
 * Go age's encryption (its threads and its exit), `gitseal age -e` after
 * the empty program. hyperfine runs all of one
 * command's runs before the next command's, and on this shared VM the
 * command measured first came out 10-25% slower than the same binary
 * measured second (the load and the CPU's state drift over a run), which
 * is as large as the differences bench/sops_bench.sh is after.
 *
 *   alternate RUNS [-i MS] -- CMD ARGS... [-- CMD ARGS...]...
 *
 * With -i, the machine is left idle for MS milliseconds before every
 * command, untimed: each command then starts after the same idle. A
 * `sleep 1` given as one more command does not do that: it precedes a
 * given command only in some rounds.
 *
 * Each command's standard output goes to /dev/null; one line per command:
 * its mean and median wall time and its mean CPU time (user + system, from
 * wait4), in milliseconds. Three rounds of warm-up are not counted. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { WARMUP = 3, MAX_COMMANDS = 8, MAX_RUNS = 1000 };

struct command {
	char **argv;
	double wall[MAX_RUNS], cpu_total;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

/* Runs argv once; its wall and CPU time, or -1 when it did not exit 0. */
static int run(char **argv, double *wall, double *cpu)
{
	struct rusage ru;
	double start = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	*wall = now_ms() - start;
	*cpu = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
	return 0;
}

/* xorshift64: the shuffle needs no more */
static unsigned next_random(unsigned long long *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (unsigned)(*state >> 32);
}

static void shuffle(int *order, int n, unsigned long long *state)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(next_random(state) % (unsigned)(i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static struct command cmds[MAX_COMMANDS];
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	int runs = argc > 1 ? atoi(argv[1]) : 0, n = 0, first = 2, order[MAX_COMMANDS];
	long idle_ms = 0;

	if (argc > 3 && !strcmp(argv[2], "-i")) {
		idle_ms = atol(argv[3]);
		first = 4;
	}
	if (runs < 1 || runs > MAX_RUNS || idle_ms < 0 || argc < first + 2 || strcmp(argv[first], "--")) {
		fprintf(stderr, "usage: alternate RUNS [-i MS] -- CMD ARGS... [-- CMD ARGS...]...\n");
		return 2;
	}
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		argv[i] = NULL;
		if (i + 1 >= argc || n == MAX_COMMANDS) {
			fprintf(stderr, "alternate: an empty command, or more than %d\n", MAX_COMMANDS);
			return 2;
		}
		cmds[n++].argv = &argv[i + 1];
	}
	for (int k = 0; k < n; k++)
		order[k] = k;
	for (int r = -WARMUP; r < runs; r++) {
		shuffle(order, n, &seed);
		for (int k = 0; k < n; k++) {
			struct command *c = &cmds[order[k]];
			double wall, cpu;

			if (idle_ms > 0) {
				struct timespec idle = { idle_ms / 1000, idle_ms % 1000 * 1000000L };

				while (nanosleep(&idle, &idle) < 0)
					;
			}
			if (run(c->argv, &wall, &cpu) < 0) {
				fprintf(stderr, "alternate: '%s' failed\n", c->argv[0]);
				return 1;
			}
			if (r >= 0) {
				c->wall[r] = wall;
				c->cpu_total += cpu;
			}
		}
	}
	for (int k = 0; k < n; k++) {
		double sum = 0;

		for (int r = 0; r < runs; r++)
			sum += cmds[k].wall[r];
		qsort(cmds[k].wall, (size_t)runs, sizeof(double), by_value);
		printf("%.2f %.2f %.2f\n", sum / runs, cmds[k].wall[runs / 2], cmds[k].cpu_total / runs);
	}
	return 0;
}
