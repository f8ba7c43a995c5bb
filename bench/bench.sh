#!/usr/bin/env bash
# xlab benchmarks: prints five tables. Needs the README set-up done (build/,
# libvirtd running, images xen-4.17 (and xen-4.20 for --floor) in the store).
#   bench/bench.sh            everything (about 15 minutes under TCG)
#   bench/bench.sh --quick    only what boots no VM (tables 3b-5)
#   bench/bench.sh --floor    only tables 1 and 3a (xlab against its floors,
#                             Xen 4.17 and 4.20, three runs each: ~15 min)
#   bench/bench.sh --class    also table 6: class up of 1, 2, 4 copies and a
#                             reset (about 15 minutes more under TCG)
#   bench/bench.sh --servers  only table 7: a class of 2 and 4 copies here,
#                             then spread over here and scripts/server2.sh's
#                             second libvirtd (about 10 minutes under TCG)
# Lab traffic: set BENCH_NETNS=NS to run lab-facing commands inside a netns
# (as the test suite does); users' machines need none.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
XLAB=$top/build/cli/xlab
AGENT=$top/build/agents/xlab-agent
quick=0; class=0; floor_only=0; servers=0
# Table 1's Xen versions and runs of each (BENCH_XEN="4.17 4.20", BENCH_RUNS=3).
versions=${BENCH_XEN:-4.17}; runs=${BENCH_RUNS:-1}
case "${1:-}" in
  --quick) quick=1 ;; --class) class=1 ;; --floor) floor_only=1 ;; --servers) servers=1 ;;
esac
# --floor is the speed report: both Debian Xen versions, three runs each.
[ $floor_only = 1 ] && versions=${BENCH_XEN:-4.17 4.20} && runs=${BENCH_RUNS:-3}
ns=()
[ -n "${BENCH_NETNS:-}" ] && ns=(ip netns exec "$BENCH_NETNS")
W=$(mktemp -d /tmp/xlab-bench.XXXXXX)
chmod 755 "$W" # QEMU (user libvirt-qemu) opens the floor's disks in here
trap 'rm -rf "$W"' EXIT
home=${XLAB_HOME:-/var/lib/xlab}
x() { "${ns[@]}" "$XLAB" "$@"; }
secs() { local t0=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - t0) / 1000000)); }
fmt() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
spec_hosts() { # spec_hosts LAB SUBNET N [guests [XEN]]
  printf 'lab: %s\nxen: "%s"\nnetwork: {subnet: %s}\nhosts:\n' "$1" "${5:-4.17}" "$2"
  for i in $(seq 1 "$3"); do
    printf '  - {name: b%d, memory: 1536M, dom0_mem: 768M, data_disk: 2G, vcpus: 1}\n' "$i"
  done
  if [ "${4:-0}" -gt 0 ]; then printf 'guests:\n  - {name: bg1, host: b1}\n'; fi
}
# A PV guest's kernel to the physical floor's trivial init, in the running
# dom0 of lab $1's host $2: xl create (no disk, no vif) to the marker. The
# marker is waited for by reading the console, not by polling a file: every
# process a poll starts costs the 1-vCPU dom0 what the guest needs.
guest_floor() {
  bash bench/physfloor.sh --initrd "$W/pf.cpio.gz"
  x ssh "$1" "$2" -- sh -c 'cat >/tmp/pf.cpio.gz' <"$W/pf.cpio.gz"
  x ssh "$1" "$2" -- sh -c '
    printf "name = \"pf\"\ntype = \"pv\"\nmemory = 128\nvcpus = 1\n" >/tmp/pf.cfg
    printf "kernel = \"/var/lib/xlab/guest/vmlinux\"\nramdisk = \"/tmp/pf.cpio.gz\"\n" >>/tmp/pf.cfg
    printf "extra = \"console=hvc0 rdinit=/init\"\n" >>/tmp/pf.cfg
    a=$(cut -d" " -f1 /proc/uptime)
    xl create -q -p /tmp/pf.cfg || exit 1
    (timeout 300 xl console pf 2>&1 | tee /tmp/pf.log | grep -q -m1 XLAB-PHYS-FLOOR-INIT) &
    w=$!
    until pidof xenconsole >/dev/null; do sleep 0.05; done
    xl unpause pf
    wait $w; ok=$?
    b=$(cut -d" " -f1 /proc/uptime)
    xl destroy pf >/dev/null 2>&1
    if [ $ok -ne 0 ]; then
      echo "guest floor: no marker from pf within 300 s; its console said:" >&2
      tail -5 /tmp/pf.log >&2; exit 1
    fi
    awk -v a="$a" -v b="$b" "BEGIN { printf \"%.1f\n\", b - a }"'
}

# One run of table 1 on Xen $1: the recipe floor, xlab (its lab left up for
# table 3a), the guest half of the physical floor in xlab's host, then the
# host half with nothing else running.
floor_row() {
  local v=$1 run=$2 floor f_guest x_total p_guest p_host
  floor=$("${ns[@]}" bash bench/floor.sh "$XLAB" "$home/images/xen-$v" "$W/floor" "$v" | tail -n 1)
  f_guest=${floor##*guest_s=}
  spec_hosts bench1 10.87.0.0/24 1 1 "$v" >"$W/bench1.yaml"
  x down bench1 >/dev/null 2>&1 || true
  rss=$(peak_rss_kib "${ns[@]}" "$XLAB" up --no-tests "$W/bench1.yaml")
  json=$(x report --last bench1 --json)
  x_total=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["duration_ms"] / 1000)' "$json")
  p_guest=$(guest_floor bench1 b1)
  x down bench1 >/dev/null 2>&1
  p_host=$(bash bench/physfloor.sh "$home/images/xen-$v" "$W/phys" 1536 768 1 | tail -n 1)
  p_host=${p_host#host_s=}
  awk -v v="$v" -v r="$run" -v f="$f_guest" -v x="$x_total" -v h="$p_host" -v g="$p_guest" 'BEGIN {
    printf "%-5s %-4s %8.1fs %8.1fs %8.1fs  (%5.1fs + %5.1fs) %9.2f %9.2f\n",
      v, r, f, x, h + g, h, g, x / f, x / (h + g) }'
}

peak_rss_kib() { /usr/bin/time -f %M -o "$W/rss" "$@" >/dev/null 2>&1 || true; cat "$W/rss"; }

echo "xlab benchmarks on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -qE ' (vmx|svm)' /proc/cpuinfo && echo KVM || echo 'TCG (no hardware virtualization)')"

if [ $servers = 1 ]; then
  # Both "servers" are this one machine (server2 is a second libvirtd in
  # namespaces of its own): spreading shows what placement and the remote
  # path cost, not more CPUs. A scratch store; images from the user's.
  echo; echo "## 7. a class over two servers: here, and spread over here and server2"
  own2=0
  if ! bash scripts/server2.sh status >/dev/null 2>&1; then
    bash scripts/server2.sh up ${BENCH_NETNS:+--netns "$BENCH_NETNS"} >/dev/null; own2=1
  fi
  export XLAB_IMAGES=${XLAB_IMAGES:-$home/images} XLAB_HOME=$W/home
  mkdir -p "$XLAB_HOME" && chmod 755 "$XLAB_HOME"
  x server add box2 "$(bash scripts/server2.sh uri)" >/dev/null
  t0=$(date +%s%N)
  said=$(x image push xen-4.20 box2 2>&1 | tail -n 1)
  echo "image push xen-4.20 to box2: $(fmt $((($(date +%s%N) - t0) / 1000000))) s ($said)"
  printf '%-7s %-22s %10s  %s\n' copies where "class up" "reset of one copy (the last on box2)"
  for n in 2 4; do
    for where in local local,box2; do
      printf 'lab: bsrv%d\nxen: "4.20"\nclass: {copies: %d}\nhosts:\n' "$n" "$n" >"$W/s$n.yaml"
      printf '  - {name: h1, memory: 1536M, dom0_mem: 768M, data_disk: 2G, vcpus: 1}\n' >>"$W/s$n.yaml"
      ms=$(secs x class up "$W/s$n.yaml" --servers "$where" --overcommit)
      placed=$(x class status "bsrv$n" --json | jq -r '[.copies[].server] | group_by(.) |
        map("\(length) on \(.[0])") | join(", ")')
      one=$(x class status "bsrv$n" --json | jq -r '[.copies[] | select(.server == "box2")] |
        last // empty | .copy')
      one=${one:-bsrv$n-01}
      rs=$(secs x class reset "bsrv$n" "${one##*-}")
      printf '%-7s %-22s %9ss  %ss (%s)\n' "$n" "$placed" "$(fmt "$ms")" "$(fmt "$rs")" "$one"
      x class down "bsrv$n" >/dev/null 2>&1 || true
    done
  done
  x server rm box2 >/dev/null 2>&1 || true
  [ $own2 = 1 ] && bash scripts/server2.sh down >/dev/null 2>&1
  exit 0
fi

if [ $quick = 0 ]; then
  echo; echo "## 1. xlab against its two floors (one host, one guest)"
  echo "recipe floor: the same image, XML and guest by hand (virsh, ssh, xl; bench/floor.sh)"
  echo "physical floor: Xen and the dom0 kernel loaded by QEMU to a trivial init" \
    "(bench/physfloor.sh), plus a PV guest's kernel to the same init in a running dom0"
  printf '%-5s %-4s %9s %9s %9s  %-17s %9s %9s\n' xen run recipe xlab physical \
    "(host + guest)" xlab/rec. xlab/phys.
  for v in $versions; do
    for run in $(seq 1 "$runs"); do floor_row "$v" "$run"; done
  done
  echo "where xlab's time went in its last run (steps, from the store):"
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
for s in r["steps"]:
    print("  %-16s %-10s %7.1fs" % (s["name"], s["target"] or "", s["duration_ms"] / 1000))' "$json"
  x up --no-tests "$W/bench1.yaml" >/dev/null 2>&1

  echo; echo "## 3a. re-up of a running lab, agent re-push skipped by hash"
  ms=$(secs x up "$W/bench1.yaml")
  echo "re-up (nothing to do): $(fmt "$ms") s (target <= 1 s)"
  # Mark the guest not up so the next up takes the full path (agent, storage, guest).
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE guests SET state = ? WHERE lab = ?", ("created", "bench1")); c.commit()' "$home/xlab.db"
  x up --no-tests "$W/bench1.yaml" >/dev/null 2>&1
  # The step is the agent's start (one exec channel, which every up needs);
  # the skip decision itself is the agent hashing its own binary in the dom0,
  # which the step's message says.
  read -r push check < <(x report --last bench1 --json | python3 -c '
import json, re, sys
r = json.load(sys.stdin)
s = max((s for s in r["steps"] if s["name"] == "agent.push"), key=lambda s: s["duration_ms"])
m = re.search(r"checked in (-?[0-9]+) ms", s.get("message") or "")
print(s["duration_ms"], m.group(1) if m else "?")')
  echo "agent re-push skipped by hash: the check ${check} ms in the dom0 (target <= 200 ms" \
    "per host); the whole agent.push step, starting the agent: ${push} ms"
  echo "controller peak RSS during up: $((rss / 1024)) MiB (target <= 30 MiB)"
  x down bench1 >/dev/null
  [ $floor_only = 1 ] && exit 0

  echo; echo "## 2. parallel bring-up (hosts of 1 vCPU, no guests)"
  printf '%-6s %10s %14s\n' hosts wall "n x 1-host"
  one=0
  for n in 1 2 4; do
    spec_hosts "benchp$n" "10.88.$n.0/24" "$n" >"$W/p$n.yaml"
    ms=$(secs x up --no-tests "$W/p$n.yaml")
    x down "benchp$n" >/dev/null 2>&1 || true
    [ "$n" = 1 ] && one=$ms
    printf '%-6s %9ss %13ss\n' "$n" "$(fmt "$ms")" "$(fmt $((one * n)))"
  done
fi

echo; echo "## 3b. store and image"
H=$W/home; mkdir -p "$H"
XLAB_HOME=$H "$XLAB" runs >/dev/null
python3 - "$H/xlab.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO labs (name, spec_path, spec_sha256, subnet, state, created, updated) VALUES ('big', 'big.yaml', 'x', '10.89.0.0/24', 'up', 'now', 'now')")
for i in range(20):
    c.execute("INSERT INTO hosts (lab, name, mac, ip, libvirt_uuid, image, image_sha256, state, definition_sha256, updated) VALUES ('big', ?, ?, ?, NULL, 'xen-4.17', NULL, 'up', NULL, '2026-01-01T00:00:00Z')",
              ("h%d" % i, "02:00:00:00:00:%02x" % i, "10.89.0.%d" % (10 + i)))
c.commit()
PY
ms=$(XLAB_HOME=$H XLAB_CONNECT=test:///default secs "$XLAB" status big)
echo "status of a lab with 20 hosts (test driver): ${ms} ms (target <= 50 ms)"
ms=$(secs "$XLAB" image build xen-4.17)
echo "image build of an unchanged image: $(fmt "$ms") s (target <= 2 s)"

echo; echo "## 4. sizes and memory"
echo "agent binary: $(stat -c %s "$AGENT") bytes (static)"
req='{"v":1,"id":1,"op":"hello","args":{}}
{"v":1,"id":2,"op":"run","args":{"argv":["true"],"timeout_s":5}}'
/usr/bin/time -f %M -o "$W/arss" "$AGENT" <<<"$req" >/dev/null
echo "agent peak RSS serving hello + run: $(cat "$W/arss") KiB"

echo; echo "## 5. sqlite"
"$top/build/bench/bench-db" 10000

if [ $class = 1 ]; then
  echo; echo "## 6. teaching class: copies of a one-host lab (1 vCPU each), and a reset"
  printf '%-7s %10s %14s\n' copies "class up" "n x 1 copy"
  one=0
  for n in 1 2 4; do
    printf 'lab: benchc%d\nxen: "4.17"\nclass: {copies: %d}\nhosts:\n' "$n" "$n" >"$W/c$n.yaml"
    printf '  - {name: h1, memory: 1536M, dom0_mem: 768M, data_disk: 2G, vcpus: 1}\n' >>"$W/c$n.yaml"
    ms=$(secs x class up "$W/c$n.yaml" --overcommit)
    [ "$n" = 1 ] && one=$ms
    printf '%-7s %9ss %13ss\n' "$n" "$(fmt "$ms")" "$(fmt $((one * n)))"
    if [ "$n" = 4 ]; then
      ms=$(secs x class reset "benchc$n" 01)
      echo "class reset of one copy while 3 others run: $(fmt "$ms") s"
    fi
    x class down "benchc$n" >/dev/null 2>&1 || true
  done
fi

