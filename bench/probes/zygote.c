/*
 * What a zygote would cost: loads Lua and the host script once, then N times forks a child that
 * runs the script (stdin a closed pipe, so it exits at once) and waits for it. Compare with
 * exec-floor.c in the same minutes (docs/performance.md, "Spawn"). Needs liblua5.4-dev.
 *
 *   cc -O2 -I/usr/include/lua5.4 -o /tmp/zygote bench/probes/zygote.c -llua5.4
 *   /tmp/zygote 200 /tmp/luaactors-HASH/vmhost.luac
 */
#define _GNU_SOURCE
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
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
    if (argc != 3) {
        fprintf(stderr, "usage: zygote N HOST-SCRIPT\n");
        return 2;
    }
    int n = atoi(argv[1]);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadfile(L, argv[2]) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    double start = now();
    for (int i = 0; i < n; i++) {
        int in[2];
        if (pipe(in) < 0) {
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            dup2(in[0], 0);
            close(in[0]);
            close(in[1]);
            lua_pcall(L, 0, 0, 0);
            _exit(0);
        }
        close(in[0]);
        close(in[1]);
        waitpid(pid, NULL, 0);
    }
    printf("fork + host script until exit: %.3f ms per start\n", (now() - start) * 1000 / n);
    return 0;
}
