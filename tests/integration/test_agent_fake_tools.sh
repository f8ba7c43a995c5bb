#!/bin/sh
# Stand-ins for the dom0 tools (xl, xenstore-ls and LVM) that this machine has no Xen or
# device-mapper for: one script, acting as the tool it is linked as, keeping
# its state in files under $XLAB_FAKE_STATE and logging each call to
# $XLAB_FAKE_STATE/calls. tar, mkfs.ext4 and blkid stay the real ones: LV
# "devices" are plain files.
set -eu
S=${XLAB_FAKE_STATE:?}
tool=${0##*/}
echo "DM_DISABLE_UDEV=${DM_DISABLE_UDEV:-} $tool $*" >>"$S/calls"
mkdir -p "$S/pv" "$S/vg" "$S/lv" "$S/dom" "$S/dev" "$S/pv_used"
PV_SIZE=10737418240

lv_total() { # bytes of the LVs of VG $1
  t=0
  for f in "$S/lv/$1"/*; do [ -f "$f" ] && t=$((t + $(cat "$f"))); done
  echo $t
}
report() { # kind, then one row per stdin line
  printf '  {\n      "report": [\n          {\n              "%s": [\n' "$1"
  first=1
  while IFS= read -r row; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '                  {%s}' "$row"
  done
  printf '\n              ]\n          }\n      ]\n  }\n'
}
target() { # the argument after "-o FIELDS", if any
  while [ $# -gt 0 ]; do
    case $1 in -o) shift 2; echo "${1:-}"; return ;; esac
    shift
  done
}
pv_vg() { [ -f "$S/pv/${1##*/}" ] && cat "$S/pv/${1##*/}"; }
label() { # a disk the test gave a device file gets LVM's label, as pvcreate writes it
  [ ! -f "$S/dev/${1##*/}" ] ||
    printf LABELONE | dd of="$S/dev/${1##*/}" bs=1 seek=512 conv=notrunc 2>/dev/null
}
pv_used() { cat "$S/pv_used/${1##*/}" 2>/dev/null || echo 0; }

case $tool in
pvs)
  # With the VG's totals, as `pvs -o ...,vg_size,vg_free` has them (empty
  # for a PV in no VG).
  for f in "$S/pv"/*; do
    [ -f "$f" ] || continue
    d=${f##*/}; used=0; [ -f "$S/pv_used/$d" ] && used=$(cat "$S/pv_used/$d")
    v=$(cat "$f"); vs= vf=
    if [ -n "$v" ]; then
      n=$( (grep -lx "$v" "$S/pv"/* 2>/dev/null || true) | wc -l)
      vs=$((n * PV_SIZE)); vf=$((n * PV_SIZE - $(lv_total "$v")))
    fi
    printf '"pv_name":"/dev/%s", "vg_name":"%s", "pv_size":"%s", "pv_free":"%s", "pv_used":"%s", "vg_size":"%s", "vg_free":"%s"\n' \
      "$d" "$v" $PV_SIZE $((PV_SIZE - used)) "$used" "$vs" "$vf"
  done | report pv ;;
vgs)
  for f in "$S/vg"/*; do
    [ -f "$f" ] || continue
    v=${f##*/}; n=$( (grep -lx "$v" "$S/pv"/* 2>/dev/null || true) | wc -l)
    printf '"vg_name":"%s", "vg_size":"%s", "vg_free":"%s", "pv_count":"%s", "lv_count":"%s"\n' \
      "$v" $((n * PV_SIZE)) $((n * PV_SIZE - $(lv_total "$v"))) "$n" \
      "$(ls "$S/lv/$v" 2>/dev/null | wc -l)"
  done | report vg ;;
lvs)
  t=$(target "$@")
  if [ -n "$t" ] && [ ! -f "$S/vg/$t" ]; then
    echo "  Volume group \"$t\" not found" >&2; exit 5
  fi
  for d in "$S/lv"/*; do
    [ -d "$d" ] || continue
    v=${d##*/}
    [ -z "$t" ] || [ "$t" = "$v" ] || continue
    for f in "$d"/*; do
      [ -f "$f" ] || continue
      printf '"lv_name":"%s", "vg_name":"%s", "lv_size":"%s", "lv_path":"%s", "lv_attr":"-wi-a-----"\n' \
        "${f##*/}" "$v" "$(cat "$f")" "$S/dev/$v/${f##*/}"
    done
  done | report lv ;;
pvcreate)
  dev=$2  # pvcreate -y DEV
  [ -f "$S/pv/${dev##*/}" ] && { echo "  $dev is already a PV" >&2; exit 5; }
  : >"$S/pv/${dev##*/}"; label "$dev" ;;
vgcreate)
  # vgcreate [-y] VG DEV: a disk that is no PV yet becomes one first.
  [ "$1" = -y ] && shift
  [ -f "$S/vg/$1" ] && { echo "  A volume group called $1 already exists." >&2; exit 5; }
  [ -n "$(pv_vg "$2")" ] && { echo "  $2 is in another VG" >&2; exit 5; }
  : >"$S/vg/$1"; mkdir -p "$S/lv/$1"; echo "$1" >"$S/pv/${2##*/}"; label "$2" ;;
vgextend)
  [ "$1" = -y ] && shift
  [ -f "$S/vg/$1" ] || { echo "  Volume group \"$1\" not found" >&2; exit 5; }
  [ -n "$(pv_vg "$2")" ] && { echo "  $2 is in a VG" >&2; exit 5; }
  echo "$1" >"$S/pv/${2##*/}"; label "$2" ;;
vgreduce)
  [ "$(pv_vg "$2")" = "$1" ] || { echo "  $2 not in $1" >&2; exit 5; }
  [ "$(pv_used "$2")" = 0 ] || { echo "  Physical volume \"$2\" still in use" >&2; exit 5; }
  : >"$S/pv/${2##*/}" ;;
pvmove)
  # pvmove DEV: its extents go to another PV of its VG with room for them.
  vg=$(pv_vg "$1" || :); used=$(pv_used "$1")
  [ -n "$vg" ] || { echo "  $1 is not in a volume group" >&2; exit 5; }
  [ "$used" -gt 0 ] || { echo "  No data to move for $vg." >&2; exit 5; }
  for f in "$S/pv"/*; do
    o=/dev/${f##*/}
    [ "$o" != "$1" ] && [ "$(cat "$f")" = "$vg" ] || continue
    [ $((PV_SIZE - $(pv_used "$o"))) -ge "$used" ] || continue
    echo $(($(pv_used "$o") + used)) >"$S/pv_used/${o##*/}"
    echo 0 >"$S/pv_used/${1##*/}"; exit 0
  done
  echo "  Insufficient free space: $used bytes needed in $vg" >&2; exit 5 ;;
pvremove)
  # pvremove -y DEV: only a PV in no VG.
  [ -f "$S/pv/${2##*/}" ] || { echo "  No PV found on device $2." >&2; exit 5; }
  vg=$(pv_vg "$2" || :)
  [ -z "$vg" ] || { echo "  PV $2 is used by VG $vg so please use vgreduce first." >&2; exit 5; }
  rm -f "$S/pv/${2##*/}" "$S/pv_used/${2##*/}" ;;
lvcreate)
  # lvcreate -y -Wy -Zy -n NAME -L SIZEb VG
  name=$5; size=${7%b}; vg=$8
  [ -f "$S/vg/$vg" ] || { echo "  Volume group \"$vg\" not found" >&2; exit 5; }
  [ -f "$S/lv/$vg/$name" ] && { echo "  Logical volume \"$name\" already exists" >&2; exit 5; }
  echo "$size" >"$S/lv/$vg/$name"
  mkdir -p "$S/dev/$vg"; truncate -s "$size" "$S/dev/$vg/$name" ;;
lvremove)
  # lvremove -f VG/NAME
  [ -f "$S/lv/$2" ] || { echo "  Failed to find logical volume \"$2\"" >&2; exit 5; }
  rm -f "$S/lv/$2" "$S/dev/$2" ;;
vgchange)
  : ;;
xl)
  case $1 in
  info)
    printf 'host                   : dom0\nnr_cpus                : 2\n'
    printf 'total_memory           : 4095\nfree_memory            : 2863\n'
    printf 'xen_major              : 4\nxen_minor              : 17\n'
    printf 'xen_extra              : .5\nxen_caps               : xen-3.0-x86_64 hvm-3.0-x86_64\n'
    # What the test put in $S/virt_caps; Xen 4.17 on an svm+npt CPU otherwise.
    caps="pv hvm hap shadow gnttab-v1 gnttab-v2"
    [ -f "$S/virt_caps" ] && { read -r caps <"$S/virt_caps" || :; }
    printf 'virt_caps              : %s\n' "$caps" ;;
  domid)
    [ -f "$S/dom/$2" ] || { echo "Can't get domid of domain name '$2', maybe this domain does not exist." >&2; exit 1; }
    cat "$S/dom/$2" ;;
  create)
    # xl create -p CFG
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$3")
    [ -n "$name" ] || { echo "no name in $3" >&2; exit 1; }
    [ -f "$S/dom/$name" ] && { echo "domain $name exists" >&2; exit 1; }
    n=$(( $(cat "$S/nextid" 2>/dev/null || echo 0) + 1 )); echo $n >"$S/nextid"
    echo $n >"$S/dom/$name"; echo paused >"$S/dom/$name.state" ;;
  unpause)
    [ -f "$S/dom/$2" ] || exit 1
    echo running >"$S/dom/$2.state" ;;
  console)
    # Refuses without a terminal, as the real one does. Every guest type's
    # kernel speaks on the PV console: -t pv is required.
    [ -t 1 ] || { echo "xl console: not a tty" >&2; exit 1; }
    [ "$2 $3" = "-t pv" ] || { echo "xl console: expected -t pv, got $*" >&2; exit 1; }
    # It waits as long as its guest is there; its copier is detached from the
    # agent, so it also gives up once the test that made this dom0
    # ($XLAB_FAKE_OWNER) is gone, should the test have died leaving $S.
    d=$4
    owner_alive() { [ -z "${XLAB_FAKE_OWNER:-}" ] || kill -0 "$XLAB_FAKE_OWNER" 2>/dev/null; }
    while owner_alive && [ "$(cat "$S/dom/$d.state" 2>/dev/null)" = paused ]; do sleep 0.1; done
    printf 'Linux version 6.1\r\nXLAB-GUEST-UP %s\r\n' "$d"
    while owner_alive && [ -f "$S/dom/$d" ]; do sleep 0.2; done ;;
  shutdown)
    # xl shutdown -w NAME, or -a -w: a guest named stubborn* ignores it (no
    # poweroff(8)), and -w waits for it regardless.
    if [ "$2" = -w ]; then
      [ -f "$S/dom/$3" ] || exit 1
      case $3 in stubborn*) sleep 30; exit 0 ;; esac
      rm -f "$S/dom/$3" "$S/dom/$3.state"; exit 0
    fi
    for f in "$S/dom"/*; do
      case $f in *.state) continue ;; esac
      [ -f "$f" ] || continue
      case ${f##*/} in stubborn*) continue ;; esac
      rm -f "$f" "$f.state"
    done ;;
  sysrq)
    [ -f "$S/dom/$2" ] || exit 1 ;;
  save)
    # xl save NAME FILE: the domain is gone after; unsaveable* cannot be saved.
    [ -f "$S/dom/$2" ] || exit 1
    case $2 in unsaveable*) echo "xc: error: Failed to save domain: Internal error" >&2; exit 1 ;; esac
    echo "$2" >"$3"; rm -f "$S/dom/$2" "$S/dom/$2.state" ;;
  restore)
    name=$(cat "$2") || exit 1
    # slowdisk*: the first restore runs out of disk hotplug time, as on a
    # loaded TCG host; libxl has destroyed the half-made domain then.
    case $name in slowdisk*)
      if [ ! -e "$S/hotplug_failed.$name" ]; then
        : >"$S/hotplug_failed.$name"
        echo "libxl: error: libxl_aoutils.c:539:async_exec_timeout: killing execution of /etc/xen/scripts/block add because of timeout" >&2
        echo "libxl: error: libxl_create.c:1672:domcreate_launch_dm: Domain 4:unable to add disk devices" >&2
        exit 1
      fi ;;
    esac
    n=$(( $(cat "$S/nextid") + 1 )); echo $n >"$S/nextid"
    echo $n >"$S/dom/$name"; echo running >"$S/dom/$name.state" ;;
  migrate)
    # xl migrate NAME HOST: to this host, a new domid; any other host is out
    # of reach, and the guest stays. xl's chatter before it fails is what the
    # test put in $S/migrate_chatter.
    [ -f "$S/dom/$2" ] || exit 1
    # slowdisk*: the receiver's first disk hotplug runs out of time; xl
    # resumes the guest at the sender.
    case $2 in slowdisk*)
      if [ ! -e "$S/migrate_hotplug_failed.$2" ]; then
        : >"$S/migrate_hotplug_failed.$2"
        echo "libxl: error: libxl_create.c:1672:domcreate_launch_dm: Domain 7:unable to add disk devices" >&2
        echo "Migration failed, resuming at sender." >&2
        exit 1
      fi ;;
    esac
    if [ "$3" != "$(hostname)" ]; then
      [ -f "$S/migrate_chatter" ] && cat "$S/migrate_chatter" >&2
      echo "migrate to $3: not this host" >&2; exit 1
    fi
    n=$(( $(cat "$S/nextid") + 1 )); echo $n >"$S/nextid"; echo $n >"$S/dom/$2" ;;
  destroy)
    [ -f "$S/dom/$2" ] || exit 1
    rm -f "$S/dom/$2" "$S/dom/$2.state" ;;
  list)
    if [ "${2:-}" = -l ]; then
      printf '[\n'; sep=
      for f in "$S/dom"/*; do
        case $f in *.state) continue ;; esac
        [ -f "$f" ] || continue
        printf '%s{"domid": %s, "config": {"c_info": {"name": "%s"}, "b_info": {"max_vcpus": 1, "target_memkb": 131072}}}\n' \
          "$sep" "$(cat "$f")" "${f##*/}"; sep=,
      done
      printf ']\n'
    else
      printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)\n'
      printf '%-40s %5s %5s %5s     %s %10s\n' Domain-0 0 1024 2 r----- 35.2
      for f in "$S/dom"/*; do
        case $f in *.state) continue ;; esac
        [ -f "$f" ] || continue
        printf '%-40s %5s %5s %5s     %s %10s\n' "${f##*/}" "$(cat "$f")" 128 1 -b---- 1.0
      done
    fi ;;
  dmesg)
    # The ring of a clean boot (lines of a real Xen 4.17's), then what the
    # test put in $S/dmesg_more.
    printf '(XEN) Xen version 4.17.5 (Debian 4.17.5+72-g01140da4e8-1) debug=n\n'
    printf '(XEN) Command line: dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1\n'
    printf '(XEN) Std. Loglevel: Errors and warnings\n'
    printf '(XEN) Guest Loglevel: Nothing (Rate-limited: Errors and warnings)\n'
    printf '(XEN) Freed 668kB init memory\n'
    [ -f "$S/dmesg_more" ] && cat "$S/dmesg_more"
    : ;;
  *) echo "xl: unknown command $1" >&2; exit 1 ;;
  esac ;;
xenconsole)
  # xenconsole --type pv --start-notify-fd 4 DOMID, as the agent runs Xen's
  # own client when the dom0 has one (the test links it under the agent's
  # prefix). Says it is reading by a byte on the fd, and notes whether its
  # domain was still paused then; with $S/xenconsole_silent it gives up
  # without a word (a client that found no pty), and the agent goes on.
  [ -t 1 ] || { echo "xenconsole: not a tty" >&2; exit 1; }
  [ "$1 $2 $3 $4" = "--type pv --start-notify-fd 4" ] || { echo "xenconsole: got $*" >&2; exit 1; }
  d=
  for f in "$S/dom"/*; do
    case $f in *.state) continue ;; esac
    [ "$(cat "$f")" = "$5" ] && d=${f##*/}
  done
  [ -n "$d" ] || { echo "xenconsole: no domain $5" >&2; exit 1; }
  [ -f "$S/xenconsole_silent" ] && exit 1
  echo "xenconsole attached to $d while $(cat "$S/dom/$d.state")" >>"$S/calls"
  printf '\000' >&4
  exec 4>&-
  owner_alive() { [ -z "${XLAB_FAKE_OWNER:-}" ] || kill -0 "$XLAB_FAKE_OWNER" 2>/dev/null; }
  while owner_alive && [ "$(cat "$S/dom/$d.state" 2>/dev/null)" = paused ]; do sleep 0.05; done
  printf 'Linux version 6.1\r\nXLAB-GUEST-UP %s\r\n' "$d"
  while owner_alive && [ -f "$S/dom/$d" ]; do sleep 0.2; done ;;
xenstore-ls)
  # xenstore-ls -f /local/domain: dom0's directory with a vbd and a vif
  # backend per domain, each domain's own, then what the test put in
  # $S/xenstore_more (leftovers). $S/xenstore_fail: xenstored is not there.
  [ "$*" = "-f /local/domain" ] || { echo "xenstore-ls: expected -f /local/domain, got $*" >&2; exit 1; }
  [ -f "$S/xenstore_fail" ] && { echo "xenstore-ls: xs_directory (/local/domain): Connection refused" >&2; exit 1; }
  echo '/local/domain/0 = ""'
  echo '/local/domain/0/name = "Domain-0"'
  for f in "$S/dom"/*; do
    case $f in *.state) continue ;; esac
    [ -f "$f" ] || continue
    printf '/local/domain/0/backend/vbd/%s/51712/state = "4"\n' "$(cat "$f")"
    printf '/local/domain/0/backend/vif/%s/0/state = "4"\n' "$(cat "$f")"
  done
  for f in "$S/dom"/*; do
    case $f in *.state) continue ;; esac
    [ -f "$f" ] || continue
    printf '/local/domain/%s = ""\n/local/domain/%s/name = "%s"\n' "$(cat "$f")" "$(cat "$f")" "${f##*/}"
  done
  [ -f "$S/xenstore_more" ] && cat "$S/xenstore_more"
  : ;;
ping)
  # ping ... IP: every address answers but those listed in $S/silent.
  for ip; do :; done
  ! grep -qx "$ip" "$S/silent" 2>/dev/null ;;
*) echo "fake: unknown tool $tool" >&2; exit 1 ;;
esac
