#!/usr/bin/env bash
# A class of two copies of a one-host lab, on real nested Xen: each copy's
# host answers its own key only, copies cannot reach each other, a reset
# copy is back to its start while the other is untouched, and `class down`
# leaves nothing. One bring-up of both copies, checked for all of it.
. "$(dirname "$0")/lib.sh"
spec=$SRC/tests/e2e/data/class.yaml
cls=class
c1=class-01
c2=class-02

cleanup() { "$XLAB" class down "$cls" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# XLAB_E2E_NO_IMAGE_BUILD=1: use the stored image as it is (no rebuild check).
[ -n "${XLAB_E2E_NO_IMAGE_BUILD:-}" ] || ensure_image xen-4.17
cleanup

t=$SECONDS
if "$XLAB" class up "$spec"; then ok "class up: two copies in $((SECONDS - t)) s"
else bad "class up"; "$XLAB" class status "$cls" || true; finish; exit 1; fi
"$XLAB" class status "$cls"

json=$("$XLAB" class status "$cls" --json)
field() { python3 -c '
import json,sys; c=json.loads(sys.argv[1])["copies"][int(sys.argv[2])]
print(c["hosts"][0]["ip"] if sys.argv[3]=="ip" else c[sys.argv[3]])' "$json" "$1" "$2"; }
ip1=$(field 0 ip); ip2=$(field 1 ip)
check "both copies are up, on different subnets ($(field 0 subnet), $(field 1 subnet))" \
  test "$(field 0 state)/$(field 1 state)" = "up/up" -a "$(field 0 subnet)" != "$(field 1 subnet)"

key1=$HOME_DIR/labs/$c1/id_ed25519; kh1=$HOME_DIR/labs/$c1/known_hosts
key2=$HOME_DIR/labs/$c2/id_ed25519; kh2=$HOME_DIR/labs/$c2/known_hosts
sshk() { # sshk KEY KNOWN_HOSTS IP CMD...
  local k=$1 kh=$2 ip=$3; shift 3
  ssh -i "$k" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 \
    -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes "root@$ip" "$@"
}
check "copy 1's host opens with copy 1's key" sshk "$key1" "$kh1" "$ip1" true
check "copy 2's host opens with copy 2's key" sshk "$key2" "$kh2" "$ip2" true
refuses() { ! sshk "$@" true 2>/dev/null; }
check "copy 1's host refuses copy 2's key" refuses "$key2" "$kh1" "$ip1"
check "copy 2's host refuses copy 1's key" refuses "$key1" "$kh2" "$ip2"
no_ping() { ! "$XLAB" ssh "$1" h1 -- ping -c 2 -W 3 "$2"; }
check "copy 1's host cannot ping copy 2's host" no_ping "$c1" "$ip2"
check "copy 1's host reaches its own gateway (the ping itself works)" \
  "$XLAB" ssh "$c1" h1 -- ping -c 1 -W 5 "${ip1%.*}.1"

sheet=$("$XLAB" class sheet "$cls" --jump teacher@server)
check "the sheet gives each copy its ssh line through the jump host" bash -c \
  "grep -q -- '-J teacher@server root@$ip1' <<<\"\$0\" && grep -q -- '-J teacher@server root@$ip2' <<<\"\$0\"" "$sheet"
check "the CSV sheet has a row per copy" bash -c \
  '[ "$("$0" class sheet class --format csv | wc -l)" -eq 3 ]' "$XLAB"

"$XLAB" ssh "$c1" h1 -- sh -c 'echo mine > /root/probe1 && sync'
"$XLAB" ssh "$c2" h1 -- sh -c 'echo mine > /root/probe2 && sync'
check "the files are there before the reset" bash -c \
  '"$0" ssh class-01 h1 -- test -f /root/probe1 && "$0" ssh class-02 h1 -- test -f /root/probe2' "$XLAB"
boot2=$("$XLAB" ssh "$c2" h1 -- cat /proc/sys/kernel/random/boot_id)

t=$SECONDS
if out=$("$XLAB" class reset "$cls" 01); then ok "class reset of copy 1 in $((SECONDS - t)) s: $out"
else bad "class reset"; fi
check "copy 1's file is gone after the reset" bash -c '! "$0" ssh class-01 h1 -- test -e /root/probe1' "$XLAB"
check "copy 1 keeps its address and key" sshk "$key1" "$kh1" "$ip1" true
check "copy 2's file stays" "$XLAB" ssh "$c2" h1 -- test -f /root/probe2
check "copy 2 was not rebooted" test "$("$XLAB" ssh "$c2" h1 -- cat /proc/sys/kernel/random/boot_id)" = "$boot2"
check "status shows copy 1's reset time" bash -c \
  '"$0" class status class --json | python3 -c "import json,sys; c=json.load(sys.stdin)[\"copies\"][0]; assert c[\"state\"]==\"up\" and c[\"reset_ms\"]>0, c"' "$XLAB"
check "the reset went back to the copy's start snapshot (no rebuild)" grep -q "back to its start snapshot" <<<"${out:-}"
check "both copies keep their start snapshot" bash -c '
  for c in class-01 class-02; do "$0" snapshot list $c | grep -q "^class-start " || exit 1; done' "$XLAB"

# A teacher's "everyone back to exercise 2": every copy kept and brought back at once.
"$XLAB" ssh "$c1" h1 -- sh -c 'echo ex2 > /root/ex2'
"$XLAB" ssh "$c2" h1 -- sh -c 'echo ex2 > /root/ex2'
t=$SECONDS
if out=$("$XLAB" class snapshot "$cls" ex2); then ok "class snapshot ex2 in $((SECONDS - t)) s: $(tail -1 <<<"$out")"
else bad "class snapshot"; fi
"$XLAB" ssh "$c1" h1 -- sh -c 'echo ex3 > /root/ex3'
"$XLAB" ssh "$c2" h1 -- sh -c 'rm /root/ex2'
t=$SECONDS
if out=$("$XLAB" class revert "$cls" ex2); then ok "class revert ex2 in $((SECONDS - t)) s: $(tail -1 <<<"$out")"
else bad "class revert"; fi
check "every copy is back at exercise 2" bash -c '
  "$0" ssh class-01 h1 -- test -f /root/ex2 && ! "$0" ssh class-01 h1 -- test -e /root/ex3 &&
  "$0" ssh class-02 h1 -- test -f /root/ex2' "$XLAB"

check "class down" "$XLAB" class down "$cls"
both() { "$1" "$c1" && "$1" "$c2"; }
check "no libvirt domain of either copy is left" both no_domains_of
check "no libvirt network of either copy is left" both no_network_of
check "no file of either copy is left" bash -c "[ ! -e '$HOME_DIR/labs/$c1' ] && [ ! -e '$HOME_DIR/labs/$c2' ]"
check "status says down" bash -c '"$0" class status class | grep -q "^class class (.*): down"' "$XLAB"
finish
