# Sourced by the measurement scripts: their messages, and the Debian packages they need.

say() { printf '==> %s\n' "$*" >&2; }

# Installs the Debian packages named (with sudo unless root).
install_debian() {
    local sudo=()
    if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
    say "installing $*"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y "$@"
}
