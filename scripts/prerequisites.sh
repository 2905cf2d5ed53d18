# Shared by ./test.sh and ./demo.sh: checks what the project needs on this machine and
# installs what is missing (through apt-get when root on Debian/Ubuntu), or says exactly
# what to install. Source it; it defines functions only.

say() { printf '%s\n' "$*" >&2; }

is_root() { [ "$(id -u)" = "0" ]; }

has_apt() { command -v apt-get >/dev/null 2>&1; }

_apt_updated=0
apt_install() {
  # apt_install PACKAGE... : installs Debian/Ubuntu packages when root; returns 1 otherwise.
  if is_root && has_apt; then
    if [ "$_apt_updated" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
      _apt_updated=1
    fi
    say "Installing $* with apt-get ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    say "apt-get could not install: $*"
  fi
  return 1
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    say "Missing: the .NET 10 SDK (dotnet). Install it from your distribution (Debian/Ubuntu: the dotnet-sdk-10.0 package from Microsoft's repository) and run this script again."
    return 1
  fi
}

has_libpcap() {
  case "$(uname -s)" in
    Linux) ldconfig -p 2>/dev/null | grep 'libpcap\.so' >/dev/null ;; # not grep -q: with pipefail, ldconfig would die of SIGPIPE
    Darwin) return 0 ;; # macOS ships libpcap
    *) return 0 ;;
  esac
}

ensure_libpcap() {
  # Native libpcap is what SharpPcap loads to inject frames.
  has_libpcap && return 0
  apt_install libpcap0.8 && has_libpcap && return 0
  say "Missing: native libpcap. Install it as root: 'apt-get install libpcap0.8' (Debian/Ubuntu), 'dnf install libpcap' (Fedora/RHEL); on Windows install Npcap."
  return 1
}

ensure_command() {
  # ensure_command COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  apt_install "$2" && command -v "$1" >/dev/null 2>&1 && return 0
  say "Missing: $1. Install it as root: 'apt-get install $2' (Debian/Ubuntu)."
  return 1
}

has_native_aot_toolchain() {
  # Native AOT links with the platform's C compiler: clang, and zlib's development files
  # (Microsoft's documented prerequisites). Linking a tiny program with -lz proves both.
  command -v clang >/dev/null 2>&1 || return 1
  local dir
  dir=$(mktemp -d) || return 1
  printf 'int main(void) { return 0; }\n' > "$dir/probe.c"
  clang "$dir/probe.c" -lz -o "$dir/probe" >/dev/null 2>&1
  local status=$?
  rm -rf "$dir"
  return $status
}

ensure_native_aot() {
  # The tests publish samples/Netconsole.AotDemo with Native AOT (PublishAot).
  has_native_aot_toolchain && return 0
  apt_install clang zlib1g-dev && has_native_aot_toolchain && return 0
  say "Missing: clang and zlib for Native AOT. Install them as root: 'apt-get install clang zlib1g-dev' (Debian/Ubuntu), 'dnf install clang zlib-devel' (Fedora/RHEL)."
  return 1
}
