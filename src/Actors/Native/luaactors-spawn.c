/*
 * luaactors-spawn: starts VM interpreter processes for one LuaActors .NET process.
 *
 * Why it exists: every exec costs milliseconds of page-table work on slow hypervisors, and
 * .NET cannot run code between fork and exec. Started without a launcher, a VM needs
 * `setsid setpriv --pdeathsig KILL lua5.4 ...`: three execs, forked from the large .NET
 * process. From here it is one clone (as vfork does it) of this small process and one exec of
 * the interpreter, with the session, the kill-on-parent-death signal and the address-space
 * limit set in between.
 *
 * Usage: luaactors-spawn SOCKET-PATH PARENT-PID
 *
 * Connects to the SOCK_SEQPACKET socket the .NET process listens on (it started us; we die
 * with its launcher thread). Each request is one packet:
 *   start: u32 request id, u64 RLIMIT_AS bytes (0: none), u32 confinement block length,
 *          the confinement block (see "Confinement" below), argv as NUL-terminated strings.
 *   kill:  8 bytes, u32 0xffffffff, i32 pid: SIGKILL to that child if it has not been reaped
 *          (until we reap it, its PID cannot name another process: no pidfd needed).
 * Each reply is one packet, native byte order, a 16-byte header then data:
 *     u32 kind, u32 request id, i32 pid, i32 value
 *   kind 1, started: pid > 0 with SCM_RIGHTS [one end of a SOCK_STREAM socketpair], the
 *           child's stdin and stdout both being the other end; value = the confinement layers
 *           applied (LAYER_* bits); pid 0 when it failed, value = errno (socketpair, pipes,
 *           fork, exec, a confinement step, or passing the fd: that child is killed). One
 *           failed start never ends the launcher.
 *   kind 3, stderr:  pid, value = byte count, then that many bytes the child wrote to stderr.
 *   kind 2, exited:  pid, value = exit code, or 128 + signal number.
 * A started reply always comes before its process's stderr and exited replies, and the exited
 * reply after all of its stderr. When the socket closes we exit, and every child dies with us
 * (each has PR_SET_PDEATHSIG = SIGKILL).
 *
 * Descriptors: the .NET process holds ONE per VM (the socket); we hold one (the read end of
 * the child's stderr pipe, drained here so that a full pipe never blocks the VM). Both raise
 * their soft RLIMIT_NOFILE to the hard limit. That is what lets one node run ~10,000 VMs
 * under a limit of 20,000 (each VM used to cost the .NET process four: three pipes and a pidfd).
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
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

enum { KIND_STARTED = 1, KIND_EXITED = 2, KIND_STDERR = 3 };
enum { MAX_REQUEST = 65536, MAX_ARGS = 256, STDERR_CHUNK = 4096, STDERR_DRAIN_AT_EXIT = 65536 };
#define KILL_REQUEST 0xffffffffu

struct reply {
    uint32_t kind;
    uint32_t request;
    int32_t pid;
    int32_t value;
};

static int sock = -1;
static int events = -1; /* epoll: the socket, the SIGCHLD signalfd, each child's stderr */
static pid_t self;
static sigset_t original_mask;

/* Per child PID (PIDs are below pid_max; grown on demand): its stderr read end + 1 (0: none),
 * and whether it is running and not yet reaped (only then may a kill request signal it). */
static int *stderr_of;
static unsigned char *alive;
static size_t tracked;

#include "confinement.h" /* the kernel confinement of each VM process (issue 11) */

static void die(const char *what)
{
    fprintf(stderr, "luaactors-spawn: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A reply (with data after the header when data_length > 0), with fds passed along when there
 * are any; 0 or the errno of sendmsg. Blocking. */
static int try_send_data(struct reply r, const int *fds, int count, const void *data, size_t data_length)
{
    struct iovec iov[2] = { { .iov_base = &r, .iov_len = sizeof r }, { .iov_base = (void *)data, .iov_len = data_length } };
    union {
        char buffer[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } control;
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = data_length > 0 ? 2 : 1 };
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

static int try_send(struct reply r, const int *fds, int count)
{
    return try_send_data(r, fds, count, NULL, 0);
}

/* A reply the .NET side must get: when it cannot be sent, the .NET side is gone, so are we,
 * and our children with us. */
static void send_reply(struct reply r, const int *fds, int count)
{
    if (try_send(r, fds, count) != 0) {
        exit(0);
    }
}

static void send_reply_data(struct reply r, const void *data, size_t length)
{
    if (try_send_data(r, NULL, 0, data, length) != 0) {
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

/* Room in the per-PID tables for pid; 0, or -1 when memory is short. */
static int track(pid_t pid)
{
    if ((size_t)pid < tracked) {
        return 0;
    }
    size_t size = tracked > 0 ? tracked : 1 << 16;
    while (size <= (size_t)pid) {
        size *= 2;
    }
    int *errs = realloc(stderr_of, size * sizeof *errs);
    if (errs == NULL) {
        return -1;
    }
    stderr_of = errs;
    unsigned char *live = realloc(alive, size);
    if (live == NULL) {
        return -1;
    }
    alive = live;
    memset(stderr_of + tracked, 0, (size - tracked) * sizeof *errs);
    memset(alive + tracked, 0, size - tracked);
    tracked = size;
    return 0;
}

/* Forwards what the child wrote to stderr, up to `budget` bytes; closes the pipe at its end
 * (EOF or error). Returns the bytes forwarded. */
static size_t forward_stderr(pid_t pid, size_t budget)
{
    size_t sent = 0;
    static char chunk[STDERR_CHUNK];
    while ((size_t)pid < tracked && stderr_of[pid] != 0 && sent < budget) {
        int fd = stderr_of[pid] - 1;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n <= 0) {
            epoll_ctl(events, EPOLL_CTL_DEL, fd, NULL);
            close(fd);
            stderr_of[pid] = 0;
            break;
        }
        struct reply r = { KIND_STDERR, 0, pid, (int32_t)n };
        send_reply_data(r, chunk, (size_t)n);
        sent += (size_t)n;
    }
    return sent;
}

/*
 * The child's descriptors, put at fixed low numbers before the clone: the channel (its stdin
 * and stdout), its stderr, the status pipe and the Landlock ruleset. Between starts these slots
 * hold /dev/null, so nothing else ever lands there. The child keeps only fds 0 to LAST_SLOT: we
 * hold one stderr pipe per VM, and a child that copied our descriptor table (fork, vfork) and
 * closed it again at exec paid for every VM already running, in every start.
 */
enum { SLOT_CHANNEL = 3, SLOT_STDERR = 4, SLOT_STATUS = 5, SLOT_RULESET = 6, LAST_SLOT = 6 };
static int null_fd = -1; /* /dev/null, what the slots hold between starts */

struct child_start {
    uint64_t address_space;
    struct prepared_confinement *confined;
    char **argv;
};

/* The clone child, sharing our memory until exec: system calls only, then exec or _exit. */
static int child_main(void *arg)
{
    struct child_start *c = arg;
    int error = 0;
    /* A private descriptor table of the slots alone (CLOSE_RANGE_UNSHARE copies only the fds
     * below the range); before Linux 5.9, a copy of the whole table. */
    if (syscall(SYS_close_range, LAST_SLOT + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0 && unshare(CLONE_FILES) < 0) {
        error = errno;
    } else if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
        error = errno;
    } else if (getppid() != self) {
        _exit(127); /* we died before the prctl: nobody would ever kill it */
    } else if (sigprocmask(SIG_SETMASK, &original_mask, NULL) < 0) {
        error = errno;
    } else if (c->address_space > 0) {
        struct rlimit limit = { c->address_space, c->address_space };
        if (setrlimit(RLIMIT_AS, &limit) < 0) {
            error = errno;
        }
    }
    if (error == 0 && (dup2(SLOT_CHANNEL, 0) < 0 || dup2(SLOT_CHANNEL, 1) < 0 || dup2(SLOT_STDERR, 2) < 0
        || close(SLOT_CHANNEL) < 0 || close(SLOT_STDERR) < 0
        || fcntl(SLOT_STATUS, F_SETFD, FD_CLOEXEC) < 0 || fcntl(SLOT_RULESET, F_SETFD, FD_CLOEXEC) < 0)) {
        error = errno;
    }
    if (error == 0) {
        error = confine_apply(c->confined);
    }
    if (error == 0) {
        execvp(c->argv[0], c->argv);
        error = errno;
    }
    /* The status pipe is not closed by an exec that did not happen: tell why, then go. */
    while (write(SLOT_STATUS, &error, sizeof error) < 0 && errno == EINTR) {
    }
    _exit(127);
}

/* Back to /dev/null in every slot: drops our references to the last child's ends. */
static void clear_slots(void)
{
    for (int fd = SLOT_CHANNEL; fd <= LAST_SLOT; fd++) {
        while (dup2(null_fd, fd) < 0 && errno == EINTR) {
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
    /* channel (a socketpair: [ours, the child's stdin and stdout]), err and status pipes
     * ([read end, write end]), all close-on-exec. */
    int p[6] = { -1, -1, -1, -1, -1, -1 };
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0
        || pipe2(p + 2, O_CLOEXEC) < 0 || pipe2(p + 4, O_CLOEXEC) < 0) {
        r.value = errno;
        close_all(p, 6);
        send_reply(r, NULL, 0);
        return;
    }

    /* The child runs on its own stack, in our memory until it execs (CLONE_VM | CLONE_VFORK,
     * as vfork and posix_spawn), with our descriptor table until its first call unshares the
     * slots from it (CLONE_FILES: no copy of the whole table). */
    static char child_stack[256 * 1024] __attribute__((aligned(16)));
    struct child_start start = { address_space, &confined, argv };
    pid_t pid = -1;
    errno = 0;
    if (dup2(p[1], SLOT_CHANNEL) >= 0 && dup2(p[3], SLOT_STDERR) >= 0 && dup2(p[5], SLOT_STATUS) >= 0
        && (confined.ruleset < 0 || dup2(confined.ruleset, SLOT_RULESET) >= 0)) {
        if (confined.ruleset >= 0) {
            confined.ruleset = SLOT_RULESET;
        }
        pid = clone(child_main, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &start);
    }
    int clone_errno = errno;
    clear_slots();
    errno = clone_errno;

    int fork_error = pid < 0 ? errno : 0;
    /* Keep only our ends: the channel's, stderr's and the status pipe's read ends. */
    close(p[1]);
    close(p[3]);
    close(p[5]);
    p[1] = p[3] = p[5] = -1;
    if (pid < 0) {
        r.value = fork_error;
        close_all(p, 6);
        send_reply(r, NULL, 0);
        return;
    }

    /* clone returned: the child has exec'd (EOF here) or failed (its errno here). */
    int error = 0;
    ssize_t got;
    while ((got = read(p[4], &error, sizeof error)) < 0 && errno == EINTR) {
    }
    close(p[4]);
    p[4] = -1;
    if (got == sizeof error) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        r.value = error;
        close_all(p, 6);
        send_reply(r, NULL, 0);
        return;
    }

    /* Its stderr is drained here from now on; its PID stays ours until we reap it. */
    struct epoll_event watch = { .events = EPOLLIN, .data.u64 = ((uint64_t)(uint32_t)pid << 32) | (uint32_t)p[2] };
    if (track(pid) < 0 || fcntl(p[2], F_SETFL, O_NONBLOCK) < 0 || epoll_ctl(events, EPOLL_CTL_ADD, p[2], &watch) < 0) {
        kill(pid, SIGKILL); /* reaped (and reported to nobody) by reap() */
        r.value = errno != 0 ? errno : ENOMEM;
        close_all(p, 6);
        send_reply(r, NULL, 0);
        return;
    }
    stderr_of[pid] = p[2] + 1;
    alive[pid] = 1;
    p[2] = -1;

    r.pid = pid;
    r.value = (int32_t)confined.layers;
    send_started(r, p, 1);
    close_all(p, 6);
}

static void kill_child(const char *packet)
{
    int32_t pid;
    memcpy(&pid, packet + 4, 4);
    if (pid > 0 && (size_t)pid < tracked && alive[pid]) {
        kill(pid, SIGKILL);
    }
}

static void handle_request(const char *packet, size_t length)
{
    uint32_t request;
    uint64_t address_space;
    uint32_t block_length;
    struct confinement confinement;
    if (length == 8 && memcmp(packet, &(uint32_t){ KILL_REQUEST }, 4) == 0) {
        kill_child(packet);
        return;
    }
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
        if ((size_t)pid < tracked) {
            alive[pid] = 0;
            /* What it wrote before it ended comes before its exit (a grandchild that keeps the
             * pipe open and writes on gets cut off here). */
            forward_stderr(pid, STDERR_DRAIN_AT_EXIT);
            if (stderr_of[pid] != 0) {
                epoll_ctl(events, EPOLL_CTL_DEL, stderr_of[pid] - 1, NULL);
                close(stderr_of[pid] - 1);
                stderr_of[pid] = 0;
            }
        }
        struct reply r = { KIND_EXITED, 0, pid, 0 };
        r.value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        send_reply(r, NULL, 0);
    }
}

/* Descriptors are what limits how many VMs one node runs: use all the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
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
    raise_fd_limit();
    confine_probe();

    /* Fds 0-2 must be taken, or a pipe could land on one and lose its close-on-exec in dup2;
     * and so must the child's slots (3 to LAST_SLOT), which hold /dev/null between starts. */
    int spare;
    while ((spare = open("/dev/null", O_RDWR)) >= 0 && spare <= LAST_SLOT) {
    }
    if (spare < 0) {
        die("open /dev/null");
    }
    null_fd = spare;
    if (fcntl(null_fd, F_SETFD, FD_CLOEXEC) < 0) {
        die("fcntl");
    }
    clear_slots(); /* slots taken by descriptors we inherited: /dev/null too */

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

    /* epoll, not poll: with thousands of children, each wake-up must not scan them all. */
    events = epoll_create1(EPOLL_CLOEXEC);
    if (events < 0) {
        die("epoll_create1");
    }
    struct epoll_event watch = { .events = EPOLLIN, .data.u64 = (uint64_t)(uint32_t)sock };
    if (epoll_ctl(events, EPOLL_CTL_ADD, sock, &watch) < 0) {
        die("epoll_ctl");
    }
    watch.data.u64 = (uint64_t)(uint32_t)children;
    if (epoll_ctl(events, EPOLL_CTL_ADD, children, &watch) < 0) {
        die("epoll_ctl");
    }

    static char packet[MAX_REQUEST];
    struct epoll_event ready[64];
    for (;;) {
        int count = epoll_wait(events, ready, 64, -1);
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait");
        }
        for (int i = 0; i < count; i++) {
            uint64_t data = ready[i].data.u64;
            int fd = (int)(uint32_t)data;
            pid_t pid = (pid_t)(data >> 32);
            if (pid != 0) {
                /* A child's stderr, unless closed (and maybe reused) earlier in this batch. */
                if ((size_t)pid < tracked && stderr_of[pid] == fd + 1) {
                    forward_stderr(pid, STDERR_CHUNK * 4);
                }
            } else if (fd == children) {
                struct signalfd_siginfo info;
                while (read(children, &info, sizeof info) > 0) {
                }
                reap();
            } else if (fd == sock) {
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
}
