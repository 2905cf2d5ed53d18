#!/usr/bin/env bash
# Builds the Netconsole and Netconsole.Logging packages (.nupkg, and .snupkg symbols) into
# artifacts/packages. Prints their version on stdout (and, on stderr, where they are and how
# to add them to an application).
#
#   scripts/pack.sh            a local build: the version gets a ".dev.<UTC time>" suffix
#                              (0.1.0-preview.1.dev.20261206120000), so every pack has a version
#                              of its own and no NuGet cache serves a stale copy of an earlier one
#   scripts/pack.sh --release  the version as Directory.Build.props gives it (for publishing)
#
# The build happens from scratch in a temporary folder (never mixed with ./bin and ./obj of
# a development build); dotnet pack makes it deterministic (no path of this machine inside).
set -euo pipefail
# The clone by its physical path: git (SourceLink) knows it by that path, so the build's source
# path mapping covers everything only when MSBuild sees the same one (not a symlink to it).
cd "$(cd "$(dirname "$0")/.." && pwd -P)"
. scripts/prerequisites.sh
ensure_dotnet || exit 1

dev_build=$(date -u +%Y%m%d%H%M%S)
case "${1:-}" in
  "") ;;
  --release) dev_build="" ;;
  *) say "usage: scripts/pack.sh [--release]"; exit 2 ;;
esac

output="$PWD/artifacts/packages"
mkdir -p "$output"
# Inside the clone, so the build's source-path mapping (everything under the clone becomes /_/)
# covers its obj folder too: the pdb path written into each dll is then /_/... as well, and
# the same in every pack.
work="$PWD/artifacts/pack-build"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

version_args=()
[ -n "$dev_build" ] && version_args=("-p:DevBuild=$dev_build")
for project in src/Netconsole/Netconsole.csproj src/Netconsole.Logging/Netconsole.Logging.csproj; do
  if ! dotnet pack "$project" -c Release -nologo -v quiet -clp:NoSummary \
      --artifacts-path "$work" -o "$output" "${version_args[@]}" -nodeReuse:false >"$work/pack.log" 2>&1; then
    cat "$work/pack.log" >&2
    say "pack.sh: packing $project failed (the build output is above)."
    exit 1
  fi
done

version=$(dotnet msbuild src/Netconsole/Netconsole.csproj -nologo -getProperty:PackageVersion "${version_args[@]}")
if [ ! -f "$output/Netconsole.Logging.$version.nupkg" ]; then
  say "pack.sh: expected $output/Netconsole.Logging.$version.nupkg, which is not there."
  exit 1
fi
say "Packed Netconsole and Netconsole.Logging $version into $output"
say "In your application's folder:"
say "  dotnet nuget add source $output --name netconsole-local   (once)"
say "  dotnet add package Netconsole.Logging --version $version"
echo "$version"
