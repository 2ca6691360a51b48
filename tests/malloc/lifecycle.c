/*
 * Allocates at the edges of a process's life, for tools/malloc_check.py to run natively and
 * under LD_PRELOAD=libferrite_malloc.so and compare the output:
 *   - before any constructor: from the program's preinit array, which the dynamic loader runs
 *     before the initializers of every shared object, the preloaded malloc's included;
 *   - across fork from a single thread: the child reads, frees and reallocates what the parent
 *     allocated, and the parent's objects are untouched by what the child did;
 *   - across fork while another thread allocates and frees without pause: a heap lock inherited
 *     held, or a heap copied halfway through an operation, hangs or breaks the child.
 * Prints one line per part and exits 0, or names what failed and exits 1.  A child that does not
 * finish in time is killed and counts as failed, so a hang never stalls the caller.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OBJECTS        500
#define FORKS          200
#define CHILD_SECONDS  5

struct object {
	unsigned char *p;
	size_t size;
	unsigned char fill;
};

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/* n objects of 1 B .. 8 KiB, each filled with its own byte. */
static bool allocate_all(struct object *o, int n, uint32_t seed)
{
	for (int i = 0; i < n; i++) {
		o[i].size = 1 + next_random(&seed) % 8192;
		o[i].fill = (unsigned char)(i * 37 + 1);
		o[i].p = malloc(o[i].size);
		if (o[i].p == NULL)
			return false;
		memset(o[i].p, o[i].fill, o[i].size);
	}
	return true;
}

/* Number of objects whose bytes are not all their fill. */
static int damaged(const struct object *o, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < o[i].size; k++)
			if (o[i].p[k] != o[i].fill) {
				bad++;
				break;
			}
	return bad;
}

static void free_all(struct object *o, int n)
{
	for (int i = 0; i < n; i++)
		free(o[i].p);
}

/* Allocates, grows every third object with realloc, checks and frees: true if all held. */
static bool exercise(uint32_t seed)
{
	static struct object o[OBJECTS];

	if (!allocate_all(o, OBJECTS, seed))
		return false;
	for (int i = 0; i < OBJECTS; i += 3) {
		unsigned char *grown = realloc(o[i].p, o[i].size * 2);
		if (grown == NULL)
			return false;
		memset(grown + o[i].size, o[i].fill, o[i].size);
		o[i].p = grown;
		o[i].size *= 2;
	}
	bool ok = damaged(o, OBJECTS) == 0;
	free_all(o, OBJECTS);
	return ok;
}

static int preinit_outcome = -1;

static void before_constructors(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	preinit_outcome = exercise(1);
}

__attribute__((section(".preinit_array"), used))
static void (*const preinit_entry)(int, char **, char **) = before_constructors;

/* Waits for child `pid`, killing it after CHILD_SECONDS: true if it exited with status 0. */
static bool child_succeeded(pid_t pid)
{
	struct timespec pause = { .tv_nsec = 1000 * 1000 };
	int status;

	for (long waited_ms = 0; waited_ms < CHILD_SECONDS * 1000L; waited_ms++) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (done < 0)
			return false;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return false;
}

/* The child of fork_from_one_thread: the parent's objects, then its own. */
static _Noreturn void inherit_and_exercise(struct object *inherited, int n)
{
	bool ok = damaged(inherited, n) == 0;

	free_all(inherited, n);
	ok = ok && exercise(2);
	_exit(ok ? 0 : 1);
}

static bool fork_from_one_thread(void)
{
	static struct object o[OBJECTS];

	if (!allocate_all(o, OBJECTS, 3))
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		inherit_and_exercise(o, OBJECTS);
	bool ok = child_succeeded(pid) && damaged(o, OBJECTS) == 0;
	free_all(o, OBJECTS);
	return ok;
}

static volatile bool stop_churn;

/* Allocates and frees without pause until told to stop; the result is 0 if every object held. */
static void *churn(void *arg)
{
	uint32_t seed = 4;
	void *slot[64] = { 0 };
	uintptr_t bad = 0;

	(void)arg;
	while (!stop_churn) {
		unsigned i = next_random(&seed) % 64;
		size_t size = 1 + next_random(&seed) % 512;
		if (slot[i] != NULL && *(unsigned char *)slot[i] != (unsigned char)i)
			bad++;
		free(slot[i]);
		slot[i] = malloc(size);
		if (slot[i] != NULL)
			*(unsigned char *)slot[i] = (unsigned char)i;
	}
	for (unsigned i = 0; i < 64; i++)
		free(slot[i]);
	return (void *)bad;
}

/* Children that succeeded, out of FORKS forked while another thread churns, up to the first
 * that failed. */
static int fork_while_another_thread_allocates(void)
{
	pthread_t thread;
	void *thread_bad;
	int succeeded = 0;

	if (pthread_create(&thread, NULL, churn, NULL) != 0)
		return -1;
	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0)
			_exit(exercise(5 + (uint32_t)i) ? 0 : 1);
		if (!child_succeeded(pid))
			break;
		succeeded++;
	}
	stop_churn = true;
	pthread_join(thread, &thread_bad);
	return thread_bad == NULL ? succeeded : -1;
}

int main(void)
{
	bool ok = true;

	printf("allocation before constructors: %s\n", preinit_outcome == 1 ? "ok" : "FAILED");
	ok = ok && preinit_outcome == 1;

	bool one = fork_from_one_thread();
	printf("fork from one thread: %s\n", one ? "ok" : "FAILED");
	ok = ok && one;

	int children = fork_while_another_thread_allocates();
	printf("fork while another thread allocates: %d of %d children ok\n", children, FORKS);
	ok = ok && children == FORKS;
	return ok ? 0 : 1;
}
