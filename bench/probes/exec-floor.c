/*
 * How fast can this machine exec processes? vforks and execs COMMAND N times, as luaactors-spawn
 * does, with stdin a closed pipe (the host script exits at once), and prints how long each vfork
 * kept the caller waiting (the kernel's exec) and the whole loop per start. Run several at once
 * to see whether execs run in parallel (docs/performance.md, "Spawn").
 *
 *   cc -O2 -o /tmp/exec-floor bench/probes/exec-floor.c
 *   /tmp/exec-floor 200 lua5.4 -E /tmp/luaactors-HASH/vmhost.luac
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: exec-floor N COMMAND [ARG...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    double start = now(), in_vfork = 0;
    for (int i = 0; i < n; i++) {
        int in[2];
        if (pipe2(in, O_CLOEXEC) < 0) {
            return 1;
        }
        double before = now();
        pid_t pid = vfork();
        if (pid == 0) {
            setsid();
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            dup2(in[0], 0);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        in_vfork += now() - before;
        close(in[0]);
        close(in[1]);
    }
    double issued = now();
    while (wait(NULL) > 0) {
    }
    printf("in vfork %.3f ms per start; loop %.3f ms per start; all exited %.3f ms per start\n",
        in_vfork * 1000 / n, (issued - start) * 1000 / n, (now() - start) * 1000 / n);
    return 0;
}
