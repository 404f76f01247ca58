#!/usr/bin/env bash
# Three real `luaactors node` processes on loopback form a cluster; VMs created through node 1
# (each with an init script) must spread over the nodes; SIGKILL of a node other than node 1
# that holds VMs; every VM must answer `vm exec` again through the survivors, with its init
# script run again on its new node.
#
# Exit 0 on success; otherwise 1 with "three-nodes: FAILED: <what>" and the nodes' logs (also
# when a surviving node does not stop cleanly: exit code 0 within 15 s of SIGTERM).
# Kills only the processes it started (and checks their lua5.4 children are gone).
#
# Environment:
#   LUAACTORS_DLL          a built luaactors.dll to use instead of building src/Host (Release)
#   THREE_NODES_AKKA_BASE  cluster ports are BASE+1..BASE+3 (default 4100: 4101-4103)
#   THREE_NODES_HTTP_BASE  HTTP ports are BASE+1..BASE+3 (default 5100: 5101-5103)
#   THREE_NODES_VMS        how many VMs (default 9)
#   THREE_NODES_DEADLINE   seconds for each wait (cluster up, VMs back; default 60)
#   THREE_NODES_CONFIG     a HOCON file every node loads with --config (e.g. hocon/fast-failover.conf)
set -euo pipefail
cd "$(dirname "$0")/../.."

akka_base=${THREE_NODES_AKKA_BASE:-4100}
http_base=${THREE_NODES_HTTP_BASE:-5100}
vm_count=${THREE_NODES_VMS:-9}
deadline_s=${THREE_NODES_DEADLINE:-60}
node_config=()
if [ -n "${THREE_NODES_CONFIG:-}" ]; then node_config=(--config "$THREE_NODES_CONFIG"); fi
# The nodes and the client must not pick up the caller's settings.
unset LUAACTORS_HOSTNAME LUAACTORS_PORT LUAACTORS_SEEDS LUAACTORS_HTTP LUAACTORS_TOKEN LUAACTORS_NODE

work=$(mktemp -d)
started=$(date +%s)
declare -a pids=() akka=() http=()

say() { echo "three-nodes [$(( $(date +%s) - started ))s]: $*"; }

fail() {
  say "FAILED: $*"
  for i in 1 2 3; do
    if [ -f "$work/node$i.log" ]; then
      echo "---- node $i (${akka[$i]:-}) log, last 40 lines ----"
      tail -n 40 "$work/node$i.log"
    fi
  done
  exit 1
}

# How many times the fixed string $1 occurs in $2.
count_of() { { grep -oF -- "$1" <<<"$2" || true; } | wc -l; }

# lua5.4 processes whose parent is $1.
lua_children() { pgrep -P "$1" -x lua5.4 || true; }

cleanup() {
  local rc=$? lua=() pid i code
  trap - EXIT INT TERM
  for i in 1 2 3; do
    pid=${pids[$i]:-}
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      mapfile -t -O "${#lua[@]}" lua < <(lua_children "$pid")
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for i in 1 2 3; do
    pid=${pids[$i]:-}
    [ -n "$pid" ] || continue
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "three-nodes: node $i (pid $pid) did not stop within 15 s of SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rc=1
    fi
    code=0
    wait "$pid" 2>/dev/null || code=$?
    if [ "$i" != "${victim:-}" ] && [ "$code" -ne 0 ]; then
      echo "three-nodes: FAILED: node $i exited with code $code after SIGTERM (expected 0); its log's last 40 lines:" >&2
      tail -n 40 "$work/node$i.log" >&2 2>/dev/null || true
      rc=1
    fi
  done
  # A VM process must not outlive its node (SIGTERM: its actor kills it; SIGKILL: PDEATHSIG).
  for pid in "${lua[@]}" ${victim_lua:-}; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "three-nodes: FAILED: lua5.4 process $pid outlived its node: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rc=1
    fi
  done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build once ---------------------------------------------------------------------------
if [ -n "${LUAACTORS_DLL:-}" ]; then
  dll=$LUAACTORS_DLL
else
  say "building src/Host (Release)"
  dotnet build src/Host -c Release -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the build failed"; }
  dll=src/Host/bin/Release/net10.0/luaactors.dll
fi
[ -f "$dll" ] || fail "no $dll"
luaactors() { dotnet exec "$dll" "$@"; }

# ---- start three nodes, two seeds -----------------------------------------------------------
for i in 1 2 3; do
  akka[$i]="akka.tcp://luaactors@127.0.0.1:$((akka_base + i))"
  http[$i]="http://127.0.0.1:$((http_base + i))"
  for port in $((akka_base + i)) $((http_base + i)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port is already in use (set THREE_NODES_AKKA_BASE / THREE_NODES_HTTP_BASE)"
    fi
  done
done

seeds="${akka[1]},${akka[2]}"
for i in 1 2 3; do
  LUAACTORS_SEEDS=$seeds dotnet exec "$dll" node --port $((akka_base + i)) --http "127.0.0.1:$((http_base + i))" \
    "${node_config[@]}" >"$work/node$i.log" 2>&1 &
  pids[$i]=$!
done
say "started nodes 1-3 (pids ${pids[*]}), seeds $seeds"

check_alive() {
  local i
  for i in 1 2 3; do
    [ "$i" = "${victim:-}" ] && continue
    kill -0 "${pids[$i]}" 2>/dev/null || fail "node $i (pid ${pids[$i]}) exited"
  done
}

# ---- wait until every node sees three members Up --------------------------------------------
deadline=$(( $(date +%s) + deadline_s ))
while :; do
  check_alive
  up_everywhere=yes
  for i in 1 2 3; do
    json=$(luaactors cluster --json --node "${http[$i]}" 2>/dev/null || true)
    [ "$(count_of '"status":"up"' "$json")" -eq 3 ] || { up_everywhere=no; break; }
  done
  [ "$up_everywhere" = yes ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "the three nodes were not all Up within ${deadline_s} s"
  sleep 0.5
done
say "all three nodes are Up"
luaactors cluster --node "${http[1]}"

# ---- create VMs through node 1, each with an init script ------------------------------------
for n in $(seq "$vm_count"); do
  printf 'init_marker = "vm-%s initialized"\n' "$n" >"$work/init-$n.lua"
  luaactors vm create "vm-$n" --init "$work/init-$n.lua" --node "${http[1]}" >/dev/null \
    || fail "could not create vm-$n through node 1"
done
say "created $vm_count VMs through node 1"

# exec_marker N NODE_URL: prints the VM's init_marker as `vm exec` prints it.
exec_marker() { timeout 20 dotnet exec "$dll" vm exec "vm-$1" 'return init_marker' --timeout-ms 2000 --node "$2" 2>&1 || true; }

for n in $(seq "$vm_count"); do
  got=$(exec_marker "$n" "${http[1]}")
  [ "$got" = "\"vm-$n initialized\"" ] || fail "vm-$n does not answer through node 1 with its init marker (got: $got)"
done
say "every VM answers through node 1, its init script run"

# ---- the VMs must be spread: find a node other than node 1 that holds some ---------------------
listing=$(luaactors vm ls --json --node "${http[1]}") || fail "vm ls through node 1 failed"
luaactors vm ls --node "${http[1]}"
victim=""
for i in 2 3; do
  count=$(count_of "\"node\":\"${akka[$i]}\"" "$listing")
  say "node $i holds $count VMs"
  if [ "$count" -gt 0 ] && [ -z "$victim" ]; then victim=$i; fi
done
[ -n "$victim" ] || fail "no node other than node 1 holds a VM: the VMs are not spread over the cluster (sharding?)"

# Every VM must also answer through the other nodes (requests are routed to where it lives).
for i in 2 3; do
  for n in $(seq "$vm_count"); do
    got=$(exec_marker "$n" "${http[$i]}")
    [ "$got" = "\"vm-$n initialized\"" ] || fail "vm-$n does not answer through node $i (got: $got)"
  done
done
say "every VM answers through every node"

# ---- SIGKILL the victim; its VMs must come back on the survivors ------------------------------
victim_lua=$(lua_children "${pids[$victim]}" | tr '\n' ' ')
survivors=()
for i in 1 2 3; do [ "$i" = "$victim" ] || survivors+=("$i"); done
say "SIGKILL node $victim (pid ${pids[$victim]}, VM processes: ${victim_lua:-none})"
killed_at=$(date +%s)
killed_at_ms=$(date +%s%3N)
kill -KILL "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null || true

pending=$(seq "$vm_count")
deadline=$(( killed_at + deadline_s ))
round=0
while [ -n "$pending" ]; do
  check_alive
  [ "$(date +%s)" -lt "$deadline" ] || fail "within ${deadline_s} s of the SIGKILL these VMs did not answer again: $(echo $pending)"
  still=""
  for n in $pending; do
    via=${survivors[$(( (n + round) % 2 ))]}
    got=$(exec_marker "$n" "${http[$via]}")
    if [ "$got" = "\"vm-$n initialized\"" ]; then
      say "vm-$n answers through node $via"
    else
      still="$still $n"
    fi
  done
  pending=$still
  round=$((round + 1))
  [ -z "$pending" ] || sleep 1
done
# Coarse: each check is a CLI process, one VM after the other (docs/performance.md has the bench's timeline).
elapsed_ms=$(( $(date +%s%3N) - killed_at_ms ))
say "every VM answers again, $(( elapsed_ms / 1000 )).$(( elapsed_ms % 1000 / 100 )) s after the SIGKILL"

for pid in $victim_lua; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then fail "lua5.4 process $pid of the killed node is still running"; fi
done

listing=$(luaactors vm ls --json --node "${http[${survivors[0]}]}") || fail "vm ls through node ${survivors[0]} failed"
[ "$(count_of "\"node\":\"${akka[$victim]}\"" "$listing")" -eq 0 ] || fail "a VM is still listed on the killed node ${akka[$victim]}"
luaactors vm ls --node "${http[${survivors[0]}]}"
luaactors cluster --node "${http[${survivors[0]}]}"
say "OK"
