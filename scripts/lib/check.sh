# shellcheck shell=bash
# Shared by the package tests (scripts/test-deb, scripts/test-deb-boot): numbered steps,
# checks that count a pass or fail the run, and a failure that names what broke.
# The sourcing script sets `started=$SECONDS` and `passed=0` and names itself in `$me`.

step() { printf '\n%s: [%3ds] %s\n' "$me" $((SECONDS - started)) "$*"; }
fail() {
  echo "$me: FAILED: $*" >&2
  exit 1
}
check() { # check DESCRIPTION COMMAND...: runs COMMAND, counts a pass or fails the run.
  local what=$1
  shift
  if "$@" >/dev/null; then
    passed=$((passed + 1))
    echo "  ok: $what"
  else
    fail "$what"
  fi
}
not() { ! "$@"; }

# The Debian root both package tests start from: a minbase debootstrap of the running
# release with everything the package and the tests need already in it (systemd to boot it,
# the package's dependencies, curl and jq for the checks), because the booted container has
# no network. Cached as a tarball in the target folder for a week.
#   debian_root_tar MIRROR LOG: prints the tarball's path, making it when needed.
debian_root_tar() {
  local mirror=$1 log=$2 codename arch cache tmp
  # shellcheck disable=SC1091 # the running system's, read for its release name
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?the running system names no Debian release}")
  arch=$(dpkg --print-architecture)
  cache=${CARGO_TARGET_DIR:-target}/test-deb/root-$codename-$arch.tar
  if [ -s "$cache" ] && [ -n "$(find "$cache" -mtime -7)" ]; then
    echo "$cache"
    return 0
  fi
  tmp=$(mktemp -d /var/tmp/adebox-debootstrap.XXXXXX)
  if ! debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,adduser,ca-certificates,procps,curl,jq \
    "$codename" "$tmp/root" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$cache")"
  tar -C "$tmp/root" -cf "$cache.part" . && mv "$cache.part" "$cache"
  rm -rf "$tmp"
  echo "$cache"
}
