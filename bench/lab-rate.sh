#!/usr/bin/env bash
# Records per second through a lab veth: libpcap injection vs a plain UDP socket, same run.
# Needs root; runs inside a private network namespace, so it cannot touch any real network.
#   bench/lab-rate.sh [RECORDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Netconsole.Benchmarks -c Release -nologo -v quiet >/dev/null
exec env NETCONSOLE_TEST_NETNS=1 unshare -n bash -c 'ip link set lo up && exec dotnet bench/Netconsole.Benchmarks/bin/Release/net10.0/Netconsole.Benchmarks.dll lab-rate "$@"' bash "$@"
