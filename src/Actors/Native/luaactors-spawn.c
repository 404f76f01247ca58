/*
 * luaactors-spawn: starts VM interpreter processes for one LuaActors .NET process.
 *
 * Why it exists: every exec costs milliseconds of page-table work on slow hypervisors, and
 * .NET cannot run code between fork and exec. Started without a launcher, a VM needs
 * `setsid setpriv --pdeathsig KILL lua5.4 ...`: three execs, forked from the large .NET
 * process. From here it is one vfork of this small process and one exec of the interpreter,
 * with the session, the kill-on-parent-death signal and the address-space limit set in
 * between.
 *
 * Usage: luaactors-spawn SOCKET-PATH PARENT-PID
 *
 * Connects to the SOCK_SEQPACKET socket the .NET process listens on (it started us; we die
 * with its launcher thread). Each request is one packet:
 *     u32 request id, u64 RLIMIT_AS bytes (0: none), u32 confinement block length,
 *     the confinement block (see "Confinement" below), argv as NUL-terminated strings.
 * Each reply is one 16-byte packet, native byte order:
 *     u32 kind, u32 request id, i32 pid, i32 value
 *   kind 1, started: pid > 0 with SCM_RIGHTS [stdin write end, stdout read end, stderr read
 *           end, pidfd], value = the confinement layers applied (LAYER_* bits);
 *           pid 0 when it failed, value = errno (pipes, fork, exec, a confinement step, or
 *           passing the fds: that child is killed). One failed start never ends the launcher.
 *   kind 2, exited:  pid, value = exit code, or 128 + signal number.
 * A started reply always comes before its process's exited reply. When the socket closes we
 * exit, and every child dies with us (each has PR_SET_PDEATHSIG = SIGKILL).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

enum { KIND_STARTED = 1, KIND_EXITED = 2 };
enum { MAX_REQUEST = 65536, MAX_ARGS = 256 };

struct reply {
    uint32_t kind;
    uint32_t request;
    int32_t pid;
    int32_t value;
};

static int sock = -1;
static pid_t self;
static sigset_t original_mask;

#include "confinement.h" /* the kernel confinement of each VM process (issue 11) */

static void die(const char *what)
{
    fprintf(stderr, "luaactors-spawn: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A reply, with fds passed along when there are any; 0 or the errno of sendmsg. Blocking. */
static int try_send(struct reply r, const int *fds, int count)
{
    struct iovec iov = { .iov_base = &r, .iov_len = sizeof r };
    union {
        char buffer[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (count > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buffer;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    }
    while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

/* A reply the .NET side must get: when it cannot be sent, the .NET side is gone, so are we,
 * and our children with us. */
static void send_reply(struct reply r, const int *fds, int count)
{
    if (try_send(r, fds, count) != 0) {
        exit(0);
    }
}

/* The started reply of a running child. Passing fds can fail for lack of a resource (too many
 * fds in flight: ETOOMANYREFS; no kernel memory): that start fails alone, its child is killed
 * (not yet reaped, so the PID is still ours), and the launcher goes on serving. */
static void send_started(struct reply r, const int *fds, int count)
{
    int error = try_send(r, fds, count);
    if (error == 0) {
        return;
    }
    if (error == EPIPE || error == ECONNRESET || error == ENOTCONN) {
        exit(0);
    }
    kill(r.pid, SIGKILL);
    r.pid = 0;
    r.value = error;
    send_reply(r, NULL, 0);
}

static void close_all(int *fds, int count)
{
    for (int i = 0; i < count; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

static void spawn(uint32_t request, uint64_t address_space, const struct confinement *confinement, char **argv)
{
    struct reply r = { KIND_STARTED, request, 0, 0 };
    struct prepared_confinement confined;
    int confine_error = confine_prepare(confinement, argv[0], &confined);
    if (confine_error != 0) {
        r.value = confine_error;
        send_reply(r, NULL, 0);
        return;
    }
    /* in, out, err, status: [read end, write end] each, all close-on-exec. */
    int p[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
    for (int i = 0; i < 4; i++) {
        if (pipe2(p + 2 * i, O_CLOEXEC) < 0) {
            r.value = errno;
            close_all(p, 8);
            send_reply(r, NULL, 0);
            return;
        }
    }

    pid_t pid = vfork();
    if (pid == 0) {
        /* The child, sharing our memory until exec: system calls only, then exec or _exit. */
        int error = 0;
        if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
            error = errno;
        } else if (getppid() != self) {
            _exit(127); /* we died before the prctl: nobody would ever kill it */
        } else if (sigprocmask(SIG_SETMASK, &original_mask, NULL) < 0) {
            error = errno;
        } else if (address_space > 0) {
            struct rlimit limit = { address_space, address_space };
            if (setrlimit(RLIMIT_AS, &limit) < 0) {
                error = errno;
            }
        }
        if (error == 0 && (dup2(p[0], 0) < 0 || dup2(p[3], 1) < 0 || dup2(p[5], 2) < 0)) {
            error = errno;
        }
        if (error == 0) {
            error = confine_apply(&confined);
        }
        if (error == 0) {
            execvp(argv[0], argv);
            error = errno;
        }
        /* The status pipe is not close-on-exec'd away: tell why, then go. */
        while (write(p[7], &error, sizeof error) < 0 && errno == EINTR) {
        }
        _exit(127);
    }

    int fork_error = pid < 0 ? errno : 0;
    /* Keep only our ends: stdin's write end, stdout's and stderr's read ends, status read end. */
    close(p[0]);
    close(p[3]);
    close(p[5]);
    close(p[7]);
    p[0] = p[3] = p[5] = p[7] = -1;
    if (pid < 0) {
        r.value = fork_error;
        close_all(p, 8);
        send_reply(r, NULL, 0);
        return;
    }

    /* vfork returned: the child has exec'd (EOF here) or failed (its errno here). */
    int error = 0;
    ssize_t got;
    while ((got = read(p[6], &error, sizeof error)) < 0 && errno == EINTR) {
    }
    if (got == sizeof error) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        r.value = error;
        close_all(p, 8);
        send_reply(r, NULL, 0);
        return;
    }

    /* Not yet reaped, so the PID cannot have been reused: the pidfd names our child. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int fds[4] = { p[1], p[2], p[4], pidfd };
    r.pid = pid;
    r.value = (int32_t)confined.layers;
    send_started(r, fds, pidfd >= 0 ? 4 : 3);
    if (pidfd >= 0) {
        close(pidfd);
    }
    close_all(p, 8);
}

static void handle_request(const char *packet, size_t length)
{
    uint32_t request;
    uint64_t address_space;
    uint32_t block_length;
    struct confinement confinement;
    if (length < 16 + 2 || packet[length - 1] != '\0') {
        fprintf(stderr, "luaactors-spawn: malformed request (%zu bytes)\n", length);
        exit(2);
    }
    memcpy(&request, packet, 4);
    memcpy(&address_space, packet + 4, 8);
    memcpy(&block_length, packet + 12, 4);
    if (block_length > length - 16 - 2
        || confine_parse((const unsigned char *)packet + 16, block_length, &confinement) < 0) {
        fprintf(stderr, "luaactors-spawn: malformed confinement block (%u bytes)\n", block_length);
        exit(2);
    }

    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t at = 16 + block_length; at < length && argc < MAX_ARGS; at += strlen(packet + at) + 1) {
        argv[argc++] = (char *)packet + at;
    }
    argv[argc] = NULL;
    if (argv[0][0] == '\0') {
        struct reply r = { KIND_STARTED, request, 0, ENOENT };
        send_reply(r, NULL, 0);
        return;
    }
    spawn(request, address_space, &confinement, argv);
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct reply r = { KIND_EXITED, 0, pid, 0 };
        r.value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        send_reply(r, NULL, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: luaactors-spawn SOCKET-PATH PARENT-PID\n");
        return 2;
    }

    /* Die with the .NET thread that started us; if it is already gone, do not start. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
        die("prctl");
    }
    if (getppid() != (pid_t)atol(argv[2])) {
        return 1;
    }
    self = getpid();
    confine_probe();

    /* Fds 0-2 must be taken, or a pipe could land on one and lose its close-on-exec in dup2. */
    int spare;
    while ((spare = open("/dev/null", O_RDWR)) >= 0 && spare <= 2) {
    }
    if (spare > 2) {
        close(spare);
    }

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, &original_mask) < 0) {
        die("sigprocmask");
    }
    int children = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (children < 0) {
        die("signalfd");
    }

    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof address.sun_path) {
        fprintf(stderr, "luaactors-spawn: socket path too long\n");
        return 2;
    }
    strcpy(address.sun_path, argv[1]);
    sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) < 0) {
        die("connect");
    }

    static char packet[MAX_REQUEST];
    struct pollfd waits[2] = { { sock, POLLIN, 0 }, { children, POLLIN, 0 } };
    for (;;) {
        if (poll(waits, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (waits[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(children, &info, sizeof info) > 0) {
            }
            reap();
        }
        if (waits[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(sock, packet, sizeof packet, 0);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                return 0; /* the .NET side closed: our children die with us */
            }
            if (n > 0) {
                handle_request(packet, (size_t)n);
            }
        }
    }
}
