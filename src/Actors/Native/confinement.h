/*
 * Confinement: what the kernel forbids a VM process, so that a broken Lua sandbox (vmhost.lua)
 * still cannot open a file, start a program, open a socket it was not given, or signal another
 * process. Part of luaactors-spawn.c (included once, before it uses these functions).
 *
 * When: in the vfork child, after its session, death signal and pipes are set and right before
 * execve of the interpreter. Everything slow (resolving paths, building the Landlock ruleset and
 * the seccomp program) happens in the launcher before vfork; the child makes only a few system
 * calls. Confining before exec means no byte of the interpreter or the host script ever runs
 * unconfined, and nothing in the interpreter has to cooperate. The price: the seccomp filter must
 * allow execve, so Landlock is what stops a second exec (execute right on the interpreter and
 * its ELF loader only, and a second exec of them stays under both layers), and the filesystem
 * rules must cover what the dynamic loader reads.
 *
 * Request block (native byte order), after the 16-byte request header:
 *     u32 layers wanted (LAYER_* bits), u32 RLIMIT_NOFILE, u32 range count,
 *     ranges of u16 first port, u16 last port, u32 kind (RANGE_BIND, RANGE_CONNECT),
 *     then NUL-terminated paths the VM may read (the host script).
 * Layers the kernel lacks are skipped and left out of the started reply's value, which the
 * .NET side reports (VmInfo.Confinement); a wanted, available layer that fails fails the start.
 */

enum {
    LAYER_NO_NEW_PRIVS = 1,
    LAYER_SECCOMP = 2,
    LAYER_LANDLOCK_FS = 4,
    LAYER_LANDLOCK_NET = 8, /* TCP bind/connect by port; without it a networking VM's TCP is free */
    LAYER_LANDLOCK_SCOPE = 16, /* no signals or abstract Unix sockets outside its own domain */
    LAYER_RLIMITS = 32,
    LAYER_NETWORKING = 1 << 16, /* not a layer: the VM may use TCP sockets (its profile) */
};
enum { RANGE_BIND = 1, RANGE_CONNECT = 2 };
enum { MAX_READ_PATHS = 16, CONFINE_FILES = 16, PATH_MAX_CONFINE = 4096 };

/* Landlock, declared here: Debian 12's headers predate network rules and scoping (ABI 4, 6). */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define LL_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};
struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

#if defined(__x86_64__)
#define CONFINE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CONFINE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

struct port_range {
    uint16_t first;
    uint16_t last;
    uint32_t kind;
};

/* A parsed request block. */
struct confinement {
    uint32_t wanted;
    uint32_t max_files;
    uint32_t range_count;
    const unsigned char *ranges; /* range_count entries of 8 bytes, unaligned */
    const char *read_paths[MAX_READ_PATHS];
    int read_path_count;
    const unsigned char *block; /* the raw block: the key of the cached Landlock ruleset */
    uint32_t block_length;
};

/* What the child applies: built by confine_prepare in the launcher. */
struct prepared_confinement {
    uint32_t layers;
    int ruleset; /* Landlock ruleset fd (cached, close-on-exec), or -1 */
    struct sock_fprog program;
    int pid_check; /* index of the instruction that compares a signal's target with our pid */
    uint32_t max_files; /* RLIMIT_NOFILE; 0: CONFINE_FILES */
};

static int landlock_abi; /* 0: no Landlock on this kernel */
static int seccomp_available;
static struct sock_filter seccomp_programs[2][256]; /* [networking] */
static unsigned short seccomp_lengths[2];
static int seccomp_pid_checks[2];

/* The cached ruleset of the last block and program seen for each profile (networking rules cost
   a system call per port: ~10k for the default listen-ports). */
static struct {
    unsigned char *block;
    uint32_t length;
    char program[4096];
    int fd;
} ruleset_cache[2] = { { NULL, 0, "", -1 }, { NULL, 0, "", -1 } };

/* ---- seccomp ---------------------------------------------------------------------------- */

/* Every system call a VM needs: the interpreter starting (the loader mapping libc), reading and
   writing its pipes, memory, time, select/poll for the event loop, exit, signals to itself. */
static const int allowed_syscalls[] = {
    /* the hot path first (the kernel caches constant verdicts anyway) */
    __NR_read, __NR_write, __NR_pselect6, __NR_ppoll, __NR_clock_gettime, __NR_gettimeofday,
#ifdef __NR_select
    __NR_select,
#endif
#ifdef __NR_poll
    __NR_poll,
#endif
    __NR_readv, __NR_writev, __NR_pread64, __NR_close, __NR_fstat, __NR_newfstatat, __NR_statx,
    __NR_lseek, __NR_fcntl, __NR_dup, __NR_dup3,
#ifdef __NR_dup2
    __NR_dup2,
#endif
    __NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_brk, __NR_madvise,
    __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_sigaltstack,
    /* files: which ones is Landlock's job */
    __NR_openat, __NR_faccessat, __NR_faccessat2, __NR_readlinkat, __NR_getcwd,
#ifdef __NR_open
    __NR_open, __NR_access, __NR_readlink, __NR_stat, __NR_lstat,
#endif
    /* the one exec of the interpreter (Landlock allows executing nothing else) */
    __NR_execve,
#ifdef __NR_arch_prctl
    __NR_arch_prctl,
#endif
    __NR_set_tid_address, __NR_set_robust_list, __NR_rseq, __NR_getrandom,
    __NR_futex, __NR_exit, __NR_exit_group, __NR_clock_getres, __NR_clock_nanosleep,
    __NR_nanosleep, __NR_getpid, __NR_gettid, __NR_getppid, __NR_getuid, __NR_geteuid,
    __NR_getgid, __NR_getegid, __NR_sched_yield, __NR_uname, __NR_sysinfo, __NR_times,
    __NR_getrusage,
#ifdef __NR_time
    __NR_time,
#endif
#ifdef __NR_getrlimit
    __NR_getrlimit,
#endif
};

/* TCP sockets, for a networking VM only (socket() itself is checked: AF_INET/AF_INET6 stream). */
static const int socket_syscalls[] = {
    __NR_connect, __NR_bind, __NR_listen, __NR_accept, __NR_accept4, __NR_getsockname,
    __NR_getpeername, __NR_setsockopt, __NR_getsockopt, __NR_sendto, __NR_recvfrom,
    __NR_sendmsg, __NR_recvmsg, __NR_shutdown,
};

/* Signals: only to itself (raise, abort). Another process, the node included, gets EPERM. */
static const int signal_syscalls[] = {
    __NR_kill, __NR_tkill, __NR_tgkill, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo,
};

#define ARG0 offsetof(struct seccomp_data, args[0])
#define ARG1 offsetof(struct seccomp_data, args[1])
#define EMIT(code, k_, jt_, jf_) (program[n++] = (struct sock_filter){ (code), (jt_), (jf_), (k_) })
#define DENY(error) EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((error) & SECCOMP_RET_DATA), 0, 0)
#define ALLOW() EMIT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0)

/*
 * The allow-list. Anything else fails with EPERM rather than killing the process: the
 * interpreter and libc probe calls they can live without (rseq, ioctl on a pipe), a Lua error
 * ("Operation not permitted") is what a script sees and the VM keeps running, and a process
 * that was stopped learns nothing more than from a kill. Two exceptions kill at once: a foreign
 * system-call ABI (i386 or x32 numbers would dodge the list), and clone3 fails with ENOSYS so
 * libc falls back to clone, whose flags the filter can read (it cannot read clone3's).
 * fork, vfork and clone are not on the list at all: no new processes, whatever the uid.
 */
static void build_seccomp(int networking)
{
    struct sock_filter *program = seccomp_programs[networking];
    int n = 0;
    EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, CONFINE_AUDIT_ARCH, 1, 0);
    EMIT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
    EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#ifdef __x86_64__
    EMIT(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1); /* x32 */
    EMIT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
#endif
    for (size_t i = 0; i < sizeof allowed_syscalls / sizeof *allowed_syscalls; i++) {
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, allowed_syscalls[i], 0, 1);
        ALLOW();
    }
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    DENY(ENOSYS);
    /* prlimit64 on itself only (pid 0, as libc's getrlimit/setrlimit pass): the node and other
       VMs have our uid, and lowering their limits would starve them. */
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, __NR_prlimit64, 0, 4);
    EMIT(BPF_LD | BPF_W | BPF_ABS, ARG0, 0, 0);
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
    ALLOW();
    DENY(EPERM);
    /* Jumps to the blocks after the default verdict, patched once their places are known. */
    int to_signal[sizeof signal_syscalls / sizeof *signal_syscalls];
    for (size_t i = 0; i < sizeof signal_syscalls / sizeof *signal_syscalls; i++) {
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, signal_syscalls[i], 0, 1);
        to_signal[i] = n;
        EMIT(BPF_JMP | BPF_JA, 0, 0, 0);
    }
    int to_socket = -1;
    if (networking) {
        for (size_t i = 0; i < sizeof socket_syscalls / sizeof *socket_syscalls; i++) {
            EMIT(BPF_JMP | BPF_JEQ | BPF_K, socket_syscalls[i], 0, 1);
            ALLOW();
        }
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1);
        to_socket = n;
        EMIT(BPF_JMP | BPF_JA, 0, 0, 0);
    }
    DENY(EPERM);

    /* signal block: args[0] (pid, tid or tgid) must be our own pid, patched into the child's copy */
    int signal_block = n;
    EMIT(BPF_LD | BPF_W | BPF_ABS, ARG0, 0, 0);
    seccomp_pid_checks[networking] = n;
    EMIT(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
    ALLOW();
    DENY(EPERM);
    for (size_t i = 0; i < sizeof to_signal / sizeof *to_signal; i++) {
        program[to_signal[i]].k = (uint32_t)(signal_block - to_signal[i] - 1);
    }

    if (networking) {
        /* socket(AF_INET or AF_INET6, SOCK_STREAM [| flags], ...): TCP only, no UDP, raw, unix */
        int socket_block = n;
        EMIT(BPF_LD | BPF_W | BPF_ABS, ARG0, 0, 0);
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0);
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 4);
        EMIT(BPF_LD | BPF_W | BPF_ABS, ARG1, 0, 0);
        EMIT(BPF_ALU | BPF_AND | BPF_K, 0xf, 0, 0);
        EMIT(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 0, 1);
        ALLOW();
        DENY(EPERM);
        program[to_socket].k = (uint32_t)(socket_block - to_socket - 1);
    }
    seccomp_lengths[networking] = (unsigned short)n;
}

/* ---- Landlock ----------------------------------------------------------------------------- */

static uint64_t landlock_fs_rights(void)
{
    uint64_t rights = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */
    if (landlock_abi >= 2) {
        rights |= 1ULL << 13; /* refer */
    }
    if (landlock_abi >= 3) {
        rights |= LL_FS_TRUNCATE;
    }
    if (landlock_abi >= 5) {
        rights |= 1ULL << 15; /* ioctl_dev */
    }
    return rights;
}

/* Allows `rights` beneath `path` (a directory) or on it (a file); a missing path is skipped. */
static int allow_path(int ruleset, const char *path, uint64_t rights)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        rights &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | (1ULL << 15);
    }
    if (landlock_abi < 3) {
        rights &= ~LL_FS_TRUNCATE;
    }
    if (landlock_abi < 5) {
        rights &= ~(1ULL << 15);
    }
    struct ll_path_beneath_attr rule = { .allowed_access = rights, .parent_fd = fd };
    int result = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/* The program execvp will run: the first executable `name` on PATH (or `name` with a slash). */
static int resolve_program(const char *name, char *out, size_t size)
{
    if (strchr(name, '/') != NULL) {
        return snprintf(out, size, "%s", name) < (int)size && access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (path == NULL) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    while (*path != '\0') {
        size_t length = strcspn(path, ":");
        if (length > 0 && snprintf(out, size, "%.*s/%s", (int)length, path, name) < (int)size
            && access(out, X_OK) == 0) {
            return 0;
        }
        path += length + (path[length] == ':');
    }
    return -1;
}

/* The ELF loader (PT_INTERP) of `program`, which the kernel opens for execute too. */
static int elf_interpreter(const char *program, char *out, size_t size)
{
    int fd = open(program, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int found = -1;
    Elf64_Ehdr header;
    if (pread(fd, &header, sizeof header, 0) == (ssize_t)sizeof header
        && memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == ELFCLASS64) {
        for (int i = 0; i < header.e_phnum && found < 0; i++) {
            Elf64_Phdr segment;
            if (pread(fd, &segment, sizeof segment, (off_t)(header.e_phoff + (uint64_t)i * header.e_phentsize))
                != (ssize_t)sizeof segment) {
                break;
            }
            if (segment.p_type == PT_INTERP && segment.p_filesz < size
                && pread(fd, out, segment.p_filesz, (off_t)segment.p_offset) == (ssize_t)segment.p_filesz) {
                out[segment.p_filesz] = '\0';
                found = 0;
            }
        }
    }
    close(fd);
    return found;
}

/*
 * The filesystem: read (not write, not execute) /usr, where the interpreter's libraries and Lua
 * modules (LuaSocket) live, and the loader's cache; execute the interpreter and its loader only;
 * read the host script; read and write /dev/null (the host script opens it once). Nothing else:
 * no /etc/passwd, /proc, /tmp, /home. A networking VM also reads the few /etc files name lookup
 * of "localhost" needs. TCP: bind in the bind ranges, connect to the connect ranges, nothing
 * else (no ranges at all for a VM without networking: all TCP denied). Scoped: no signals and
 * no abstract Unix sockets outside its own Landlock domain (each VM has its own).
 */
static int build_ruleset(const struct confinement *c, const char *program, uint32_t layers)
{
    struct ll_ruleset_attr attr = { 0 };
    size_t attr_size = 8;
    if (layers & LAYER_LANDLOCK_FS) {
        attr.handled_access_fs = landlock_fs_rights();
    }
    if (layers & LAYER_LANDLOCK_NET) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        attr_size = 16;
    }
    if (layers & LAYER_LANDLOCK_SCOPE) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        attr_size = 24;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) {
        return -1;
    }
    int ok = 1;
    if (layers & LAYER_LANDLOCK_FS) {
        char loader[PATH_MAX_CONFINE];
        const uint64_t read = LL_FS_READ_FILE | LL_FS_READ_DIR;
        ok = allow_path(ruleset, "/usr", read) == 0
            && allow_path(ruleset, "/etc/ld.so.cache", LL_FS_READ_FILE) == 0
            && allow_path(ruleset, "/dev/null", LL_FS_READ_FILE | LL_FS_WRITE_FILE) == 0
            && allow_path(ruleset, program, LL_FS_READ_FILE | LL_FS_EXECUTE) == 0
            && (elf_interpreter(program, loader, sizeof loader) < 0
                || allow_path(ruleset, loader, LL_FS_READ_FILE | LL_FS_EXECUTE) == 0);
        for (int i = 0; ok && i < c->read_path_count; i++) {
            ok = allow_path(ruleset, c->read_paths[i], LL_FS_READ_FILE) == 0;
        }
        if (ok && (c->wanted & LAYER_NETWORKING)) {
            static const char *const lookup[] = {
                "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/resolv.conf",
            };
            for (size_t i = 0; ok && i < sizeof lookup / sizeof *lookup; i++) {
                ok = allow_path(ruleset, lookup[i], LL_FS_READ_FILE) == 0;
            }
        }
    }
    if (ok && (layers & LAYER_LANDLOCK_NET) && (c->wanted & LAYER_NETWORKING)) {
        for (uint32_t port = 1; ok && port <= 65535; port++) {
            uint64_t rights = 0;
            for (uint32_t i = 0; i < c->range_count; i++) {
                struct port_range range;
                memcpy(&range, c->ranges + 8 * (size_t)i, sizeof range);
                if (port >= range.first && port <= range.last) {
                    rights |= range.kind & RANGE_BIND ? LL_NET_BIND_TCP : 0;
                    rights |= range.kind & RANGE_CONNECT ? LL_NET_CONNECT_TCP : 0;
                }
            }
            if (rights != 0) {
                struct ll_net_port_attr rule = { .allowed_access = rights, .port = port };
                ok = syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) == 0;
            }
        }
    }
    if (!ok) {
        int saved = errno;
        close(ruleset);
        errno = saved;
        return -1;
    }
    return ruleset;
}

/* ---- the launcher's side ------------------------------------------------------------------ */

/* Once at start: which layers this kernel has. */
static void confine_probe(void)
{
    int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_VERSION);
    landlock_abi = abi > 0 ? abi : 0;
#ifdef CONFINE_AUDIT_ARCH
    /* PR_GET_SECCOMP answers 0 (not in a mode) when the kernel has seccomp, EINVAL when not. */
    seccomp_available = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    if (seccomp_available) {
        build_seccomp(0);
        build_seccomp(1);
    }
#endif
}

/* Reads the request block; returns 0, or -1 when it is malformed. */
static int confine_parse(const unsigned char *block, uint32_t length, struct confinement *c)
{
    memset(c, 0, sizeof *c);
    c->block = block;
    c->block_length = length;
    if (length == 0) {
        return 0; /* no confinement asked for */
    }
    if (length < 12) {
        return -1;
    }
    memcpy(&c->wanted, block, 4);
    memcpy(&c->max_files, block + 4, 4);
    memcpy(&c->range_count, block + 8, 4);
    if (c->range_count > 4096 || 12 + 8 * (uint64_t)c->range_count > length) {
        return -1;
    }
    c->ranges = block + 12;
    uint32_t at = 12 + 8 * c->range_count;
    while (at < length) {
        const char *path = (const char *)block + at;
        size_t size = strnlen(path, length - at);
        if (size == length - at || c->read_path_count == MAX_READ_PATHS) {
            return -1; /* not NUL-terminated, or too many */
        }
        c->read_paths[c->read_path_count++] = path;
        at += (uint32_t)size + 1;
    }
    return 0;
}

/*
 * In the launcher, before vfork: the layers this VM gets (wanted and available), its cached or
 * new ruleset and its seccomp program. Returns 0, or an errno when a layer cannot be built.
 */
static int confine_prepare(const struct confinement *c, const char *name, struct prepared_confinement *p)
{
    int networking = (c->wanted & LAYER_NETWORKING) != 0;
    memset(p, 0, sizeof *p);
    p->ruleset = -1;
    uint32_t layers = c->wanted & (LAYER_NO_NEW_PRIVS | LAYER_SECCOMP | LAYER_LANDLOCK_FS
        | LAYER_LANDLOCK_NET | LAYER_LANDLOCK_SCOPE | LAYER_RLIMITS);
    if (!seccomp_available) {
        layers &= ~(uint32_t)LAYER_SECCOMP;
    }
    if (landlock_abi < 1) {
        layers &= ~(uint32_t)LAYER_LANDLOCK_FS;
    }
    if (landlock_abi < 4) {
        layers &= ~(uint32_t)LAYER_LANDLOCK_NET;
    }
    if (landlock_abi < 6) {
        layers &= ~(uint32_t)LAYER_LANDLOCK_SCOPE;
    }
    if (layers & (LAYER_SECCOMP | LAYER_LANDLOCK_FS | LAYER_LANDLOCK_NET | LAYER_LANDLOCK_SCOPE)) {
        layers |= LAYER_NO_NEW_PRIVS; /* both need it (without CAP_SYS_ADMIN), and it is free */
    }
    if (layers & (LAYER_LANDLOCK_FS | LAYER_LANDLOCK_NET | LAYER_LANDLOCK_SCOPE)) {
        char program[PATH_MAX_CONFINE];
        if (resolve_program(name, program, sizeof program) < 0) {
            return ENOENT;
        }
        if (ruleset_cache[networking].fd >= 0 && ruleset_cache[networking].length == c->block_length
            && memcmp(ruleset_cache[networking].block, c->block, c->block_length) == 0
            && strcmp(ruleset_cache[networking].program, program) == 0) {
            p->ruleset = ruleset_cache[networking].fd;
        } else {
            int ruleset = build_ruleset(c, program, layers);
            if (ruleset < 0) {
                return errno != 0 ? errno : EINVAL;
            }
            unsigned char *copy = malloc(c->block_length);
            if (copy != NULL) {
                memcpy(copy, c->block, c->block_length);
                if (ruleset_cache[networking].fd >= 0) {
                    close(ruleset_cache[networking].fd);
                }
                free(ruleset_cache[networking].block);
                ruleset_cache[networking].block = copy;
                ruleset_cache[networking].length = c->block_length;
                strcpy(ruleset_cache[networking].program, program);
                ruleset_cache[networking].fd = ruleset;
            }
            p->ruleset = ruleset; /* uncached (no memory): leaks one fd, which is rare and harmless */
        }
    }
    if (layers & LAYER_SECCOMP) {
        p->program.filter = seccomp_programs[networking];
        p->program.len = seccomp_lengths[networking];
        p->pid_check = seccomp_pid_checks[networking];
    }
    p->max_files = c->max_files;
    p->layers = layers | (c->wanted & LAYER_NETWORKING);
    return 0;
}

/*
 * In the vfork child, last before execve: system calls only. rlimits: no core files (a crash
 * must not write the VM's memory to disk), file size 0 (no file can grow, whatever Landlock
 * allows), few descriptors, no new processes. RLIMIT_NPROC counts per uid and root is exempt,
 * so for a node running as root the seccomp filter (no fork, vfork or clone) is what stops
 * forks. Returns 0 or an errno.
 */
static int confine_apply(struct prepared_confinement *p)
{
    if (p->layers & LAYER_RLIMITS) {
        struct rlimit zero = { 0, 0 };
        struct rlimit files = { CONFINE_FILES, CONFINE_FILES };
        if (p->max_files > 0) {
            files.rlim_cur = files.rlim_max = p->max_files;
        }
        if (setrlimit(RLIMIT_CORE, &zero) < 0 || setrlimit(RLIMIT_FSIZE, &zero) < 0
            || setrlimit(RLIMIT_NOFILE, &files) < 0 || setrlimit(RLIMIT_NPROC, &zero) < 0) {
            return errno;
        }
    }
    if ((p->layers & LAYER_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return errno;
    }
    if (p->ruleset >= 0 && syscall(SYS_landlock_restrict_self, p->ruleset, 0) < 0) {
        return errno;
    }
    if (p->layers & LAYER_SECCOMP) {
        /* The child's own pid: the only process its signals may reach. */
        p->program.filter[p->pid_check].k = (uint32_t)getpid();
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->program) < 0) {
            return errno;
        }
    }
    return 0;
}
