#!/usr/bin/env bash
# The demo: ILogger records sent as netconsole datagrams on lo and received in the same
# process; a target whose interface loses its carrier (the veth's peer set down) and then is
# deleted and re-created, deactivating and resuming by itself each time; a process that
# crashes and still gets its last records and the exception out; a process killed with SIGKILL
# whose watchdog still gets its last records and the cause of its death out.
# It runs as root inside a private network namespace (unshare -n) where only lo and the
# interfaces the demo creates exist: no real network is touched. About 2 seconds after the build.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

missing=()
ensure_dotnet || missing+=("the .NET 10 SDK (dotnet)")
if ! is_root; then
  missing+=("root: the demo injects frames with libpcap and creates interfaces (CAP_NET_RAW, CAP_NET_ADMIN); run 'sudo ./demo.sh'")
fi
ensure_libpcap || missing+=("native libpcap (Debian/Ubuntu: apt-get install libpcap0.8)")
ensure_command ip iproute2 || missing+=("iproute2's ip command (Debian/Ubuntu: apt-get install iproute2)")
if ! command -v unshare >/dev/null 2>&1; then
  ensure_command unshare util-linux || missing+=("unshare (Debian/Ubuntu: apt-get install util-linux)")
fi
if is_root && command -v unshare >/dev/null 2>&1 && ! unshare -n true 2>/dev/null; then
  missing+=("permission to create a network namespace ('unshare -n true' fails here: in a container, run it with --privileged or CAP_SYS_ADMIN)")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  say "The demo cannot run; missing:"
  for m in "${missing[@]}"; do say "  - $m"; done
  exit 1
fi

echo "== building the demo (Release)"
if ! build_output=$(dotnet build samples/Netconsole.Demo -c Release -nologo -v quiet 2>&1); then
  printf '%s\n' "$build_output" >&2
  say "The demo did not build (the build's errors are above)."
  exit 1
fi
demo_dll="$PWD/samples/Netconsole.Demo/bin/Release/net10.0/netconsole-demo.dll"
echo

# A private network namespace with only lo: NETCONSOLE_TEST_NETNS=1 tells the demo (and the
# network lab it uses) that it is inside one.
NETCONSOLE_TEST_NETNS=1 unshare -n bash -c 'ip link set lo up && exec dotnet "$1"' bash "$demo_dll"
