#!/usr/bin/env bash
# The demo: formats records for netconsole targets with the netconsole-send tool, writes the
# frames it would inject to pcap files, and shows them decoded by tcpdump (checksums verified).
# Nothing is sent on any interface. (The full demo with live injection, the ILogger provider
# and target recovery replaces this with the logging work.)
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

ensure_dotnet
ensure_libpcap || say "(libpcap is only needed for live injection, which this demo does not do yet)"
have_tcpdump=1
ensure_command tcpdump tcpdump || have_tcpdump=0

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== building netconsole-send"
dotnet build samples/Netconsole.Send -c Release -nologo -v quiet >/dev/null
send() { dotnet "samples/Netconsole.Send/bin/Release/net10.0/netconsole-send.dll" "$@"; }

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
echo "Demo done: every frame above was built by the library; tcpdump verified its checksums (\"udp sum ok\")."
