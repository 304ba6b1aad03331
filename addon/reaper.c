// tsrunc-reaper: run a command as a child subreaper and reap every orphan that lands here.
//
// Why: on the project's machines PID 1 reaps orphans lazily, so a killed container's init can stay
// a zombie (and `state` says `running`) for a while. containerd's shim is a child subreaper for the
// same reason. Tests and the conformance suite run under this wrapper:
//   tsrunc-reaper CMD ARGS...   -> exits with CMD's exit code (or 128+signal).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child = -1;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tsrunc-reaper COMMAND [ARG...]\n");
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "tsrunc-reaper: prctl(PR_SET_CHILD_SUBREAPER): %s\n", strerror(errno));
    return 1;
  }
  child = fork();
  if (child < 0) {
    fprintf(stderr, "tsrunc-reaper: fork: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    fprintf(stderr, "tsrunc-reaper: exec `%s`: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], forward);
  int rc = -1;
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break; // ECHILD: the command and every orphan are gone
    }
    if (p == child) rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  return rc < 0 ? 1 : rc;
}
