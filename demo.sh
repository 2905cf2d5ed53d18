#!/usr/bin/env bash
# The demo: formats records for netconsole targets with the netconsole-send tool, writes the
# frames to pcap files and shows them decoded by tcpdump (checksums verified), then injects
# records for real on lo inside a private network namespace (unshare -n), where
# netconsole-listen receives them. No real network is touched. (The full demo with the
# ILogger provider and target recovery replaces this with the logging work.)
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

ensure_dotnet
ensure_libpcap || say "(libpcap is only needed for live injection, which this demo does not do yet)"
have_tcpdump=1
ensure_command tcpdump tcpdump || have_tcpdump=0

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== building netconsole-send and netconsole-listen"
dotnet build samples/Netconsole.Send -c Release -nologo -v quiet >/dev/null
dotnet build samples/Netconsole.Listen -c Release -nologo -v quiet >/dev/null
send_dll="$PWD/samples/Netconsole.Send/bin/Release/net10.0/netconsole-send.dll"
listen_dll="$PWD/samples/Netconsole.Listen/bin/Release/net10.0/netconsole-listen.dll"
send() { dotnet "$send_dll" "$@"; }

show() {
  if [ "$have_tcpdump" = 1 ]; then
    tcpdump -r "$1" -vv -n -X 2>/dev/null | sed 's/^/    /'
  fi
}

echo
echo "== 1. an extended record over IPv4 with userdata and sysdata"
send --target "+@192.0.2.1/,@192.0.2.2/02:00:00:00:00:02" --source-mac 02:00:00:00:00:01 \
  --userdata host=demo-1 --sysdata msgid,release --release 1.0.0 --level 4 --seq 1 \
  --write-pcap "$out/extended-v4.pcap" "disk /var is 91% full"
show "$out/extended-v4.pcap"

echo
echo "== 2. the kernel selftest's fragmented message (netcons_fragmented_msg.sh): ncfrag=0/1135 and ncfrag=967/1135"
value=$(printf -- '%.2s-' {1..60})
msg="$(printf -- 'MSG%.3s=' {1..150}): netcons_a1b2c"
send --target "+@192.0.2.1/,@192.0.2.2/" --source-mac 02:00:00:00:00:01 \
  --userdata "key=$value" --seq 468 --timestamp-us 514729715 \
  --write-pcap "$out/fragmented.pcap" "$msg"
[ "$have_tcpdump" = 1 ] && tcpdump -r "$out/fragmented.pcap" -vv -n 2>/dev/null | sed 's/^/    /'

echo
echo "== 3. a basic record over IPv6 (no header: the text as is)"
send --target "@2001:db8::1/,@2001:db8::2/" --source-mac 02:00:00:00:00:01 \
  --write-pcap "$out/basic-v6.pcap" "hello from .NET over IPv6"
show "$out/basic-v6.pcap"

echo
echo "== 4. live: records injected with libpcap on lo, in a private network namespace, received by netconsole-listen"
if is_root && has_libpcap && command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  big="$(printf 'x%.0s' {1..3000})"
  unshare -n bash -c '
    ip link set lo up
    dotnet "$1" --address ::1 --count 3 --timeout 30 &
    listener=$!
    sleep 2
    dotnet "$2" --target "+@/lo,@::1/" --userdata host=demo-1 --sysdata msgid --seq 1 "a live record through lo" >/dev/null
    dotnet "$2" --target "+@/lo,@::1/" --userdata host=demo-1 --seq 2 "a 3000-byte record, fragmented and reassembled: $3" >/dev/null
    printf "first line from stdin\n" | dotnet "$2" --target "+@/lo,@::1/" --stdin --seq 3 >/dev/null
    wait $listener' bash "$listen_dll" "$send_dll" "$big" 2>&1 | cut -c1-200
else
  say "Skipped: the live scene needs root, native libpcap and unshare (a private network namespace)."
fi

echo
echo "Demo done: every frame above was built by the library; tcpdump verified its checksums (\"udp sum ok\")."
