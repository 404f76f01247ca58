#!/usr/bin/env bash
# Installs what LuaActors needs on a fresh Debian machine: the Lua 5.4 interpreter the VMs run
# (the package also brings luac5.4, which precompiles the host script), LuaSocket, procps (pgrep),
# util-linux (setsid/setpriv for the exec-chain launcher, prlimit/unshare for the tests), PostgreSQL's server
# (the persistence tests start one), python3-yaml (the deploy manifests' test) and a C compiler (the build compiles
# luaactors-spawn, the default launcher of VM processes). Idempotent:
# installs only what is missing. The .NET SDK 10 must already be on PATH.
set -euo pipefail

missing=()
command -v lua5.4 >/dev/null 2>&1 || missing+=(lua5.4)
dpkg -s lua-socket >/dev/null 2>&1 || missing+=(lua-socket)
# pgrep/ps: the tests and .ci/run check that no VM process is left behind; /bin/kill (the tests
# run it as a program, so bash's builtin does not count).
command -v pgrep >/dev/null 2>&1 || missing+=(procps)
# gcc brings cc; libc6-dev the headers luaactors-spawn.c includes.
command -v cc >/dev/null 2>&1 || missing+=(gcc)
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)
# PostgreSQL's server binaries: the persistence tests start a private server with them
# (scripts/test-postgres.sh; docs/configuration.md, "Persistence").
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# python3 with PyYAML: DeployManifestsTests parses deploy/compose.yaml and the Kubernetes
# manifests with it (without it the test can only say NOT CHECKED).
python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
for tool in setsid setpriv prlimit unshare; do
  command -v "$tool" >/dev/null 2>&1 || { missing+=(util-linux); break; }
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "bootstrap: the .NET 10 SDK is required (dotnet on PATH)" >&2
  exit 1
fi
