/*
 * Death tests, OpenBSD style: each misuse of malloc runs in its own child process under
 * LD_PRELOAD=libferrite_malloc.so, and must end in SIGABRT with the expected report on stderr.
 * FERRITE_MALLOC_LIB and FERRITE_MISUSE name the library and the misuse program (tools/test.py
 * sets them; the defaults suit `make` from the top of the tree).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct outcome {
	int status;
	char err[4096];
};

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v ? v : fallback;
}

static struct outcome run_misuse(const char *misuse, const char *design, bool debug)
{
	struct outcome out = { 0 };
	char preload[512], heap[64];
	const char *program = env_or("FERRITE_MISUSE", "build/host/misuse");
	char *argv[] = { (char *)program, (char *)misuse, NULL };
	char *envp[] = { preload, heap, debug ? "FERRITE_HEAP_DEBUG=1" : "FERRITE_HEAP_DEBUG=0", NULL };
	posix_spawn_file_actions_t actions;
	int pipefd[2];
	pid_t pid;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", env_or("FERRITE_MALLOC_LIB", "build/host/libferrite_malloc.so"));
	snprintf(heap, sizeof(heap), "FERRITE_HEAP=%s", design);
	cr_assert_eq(pipe(pipefd), 0);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
	posix_spawn_file_actions_addclose(&actions, pipefd[0]);
	cr_assert_eq(posix_spawn(&pid, program, &actions, NULL, argv, envp), 0, "cannot run %s", program);
	close(pipefd[1]);
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(out.err) - 1 && (r = read(pipefd[0], out.err + n, sizeof(out.err) - 1 - n)) > 0)
		n += (size_t)r;
	close(pipefd[0]);
	waitpid(pid, &out.status, 0);
	posix_spawn_file_actions_destroy(&actions);
	return out;
}

static void expect_abort(const char *misuse, const char *design, bool debug, const char *message)
{
	struct outcome out = run_misuse(misuse, design, debug);

	cr_assert(WIFSIGNALED(out.status) && WTERMSIG(out.status) == SIGABRT,
	          "%s on the %s heap: expected SIGABRT, got status %#x; stderr: %s", misuse, design, out.status, out.err);
	cr_assert(strstr(out.err, message) != NULL, "%s on the %s heap: stderr lacks \"%s\": %s", misuse, design,
	          message, out.err);
	cr_assert(strstr(out.err, "ferrite_malloc: ") == out.err, "the report is the first thing on stderr: %s", out.err);
}

static const char *const designs[] = { "bump", "list", "fixed", "slab" };

Test(malloc_death, double_free)
{
	for (size_t i = 0; i < 4; i++)
		expect_abort("double-free", designs[i], false, "double free");
}

Test(malloc_death, interior_pointer)
{
	for (size_t i = 0; i < 4; i++)
		expect_abort("interior-free", designs[i], false, "not a live heap object");
}

Test(malloc_death, foreign_pointer)
{
	for (size_t i = 0; i < 4; i++)
		expect_abort("foreign-free", designs[i], false, "not a live heap object");
}

Test(malloc_death, one_byte_overflow_into_the_redzone)
{
	for (size_t i = 0; i < 4; i++)
		expect_abort("redzone-overflow", designs[i], true, "redzone overwritten");
}

Test(malloc_death, write_after_free)
{
	for (size_t i = 1; i < 4; i++)   /* a bump heap never reuses memory: nothing to check */
		expect_abort("write-after-free", designs[i], true, "use after free");
}
