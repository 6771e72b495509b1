#!/usr/bin/env bash
# Print the path of a Python >= 3.12 that really runs, or exit 1 saying what
# was tried and how to get one.
#
# Order: $PYTHON (if set); python3.13, python3.12 on PATH; pyenv installs
# (/root/.pyenv, $HOME/.pyenv, $PYENV_ROOT; newest first); /usr/local/bin;
# /usr/bin. Every candidate is *executed* before it is accepted: a pyenv shim
# for a version that is not selected exists on PATH but fails with
# "command not found", and a Python without venv/ensurepip cannot build .venv.
#
# The printed path is the interpreter's own sys.executable, so a shim that
# happens to work is resolved to the real binary (a venv built on a shim would
# break as soon as the pyenv selection changes).
set -euo pipefail

MIN_MAJOR=3
MIN_MINOR=12

tried=()          # "candidate: why it was rejected"
declare -A seen=()

# On success sets $found to the interpreter's sys.executable; on failure
# records the reason in $tried. (Not run in a subshell, so both stick.)
check() {
    local c=$1 resolved out rc
    if [[ $c == */* ]]; then
        resolved=$c
        if [[ ! -e $resolved ]]; then
            tried+=("$c: not found")
            return 1
        fi
    else
        if ! resolved=$(command -v -- "$c" 2>/dev/null); then
            tried+=("$c: not on PATH")
            return 1
        fi
    fi
    [[ -n ${seen[$resolved]:-} ]] && return 1
    seen[$resolved]=1

    rc=0
    out=$("$resolved" -I -c '
import sys
v = sys.version_info
if v < ('"$MIN_MAJOR"', '"$MIN_MINOR"'):
    print("Python %d.%d.%d is older than '"$MIN_MAJOR.$MIN_MINOR"'" % v[:3])
    sys.exit(3)
try:
    import venv, ensurepip
except ImportError as e:
    print("Python %d.%d.%d has no venv/ensurepip (%s)" % (v[:3] + (e,)))
    sys.exit(4)
print(sys.executable or "")
' 2>&1) || rc=$?
    if [[ $rc -ne 0 ]]; then
        # First line only: a failing pyenv shim prints a whole paragraph.
        tried+=("$c: ${out%%$'\n'*} (exit $rc)")
        return 1
    fi
    out=${out##*$'\n'}          # last line: ignore any warnings printed first
    found=${out:-$resolved}
}

candidates=()
if [[ -n ${PYTHON:-} ]]; then
    candidates+=("$PYTHON")
fi
candidates+=(python3.13 python3.12)

# Adds the interpreters matching the given glob patterns, newest version
# first. A pattern that matches nothing is added as itself, so that it shows
# up as "not found" in the list of what was tried.
add_globbed() {
    local IFS= pat matches=() all=() sorted=()   # IFS=: glob, but never split
    shopt -s nullglob
    for pat in "$@"; do
        # shellcheck disable=SC2206  # the glob expansion is the point
        matches=($pat)
        if [[ ${#matches[@]} -eq 0 ]]; then
            all+=("$pat")
        else
            all+=("${matches[@]}")
        fi
    done
    shopt -u nullglob
    # Sort on the version part only (what follows /versions/ for pyenv), so
    # that a newer version wins whichever pyenv root it lives in.
    mapfile -t sorted < <(
        for pat in "${all[@]}"; do printf '%s\t%s\n' "${pat##*/versions/}" "$pat"; done |
            sort -t $'\t' -k1,1Vr -s | cut -f2-)
    candidates+=("${sorted[@]}")
}

pyenv_roots=(/root/.pyenv)
for r in "${HOME:-}/.pyenv" "${PYENV_ROOT:-}"; do
    if [[ -n $r && $r != /.pyenv && $r != /root/.pyenv && $r != "${pyenv_roots[-1]}" ]]; then
        pyenv_roots+=("$r")
    fi
done
patterns=()
for r in "${pyenv_roots[@]}"; do patterns+=("$r/versions/3.1[2-9]*/bin/python3"); done
add_globbed "${patterns[@]}"
add_globbed '/usr/local/bin/python3.1[2-9]'
add_globbed '/usr/bin/python3.1[2-9]'

found=
for c in "${candidates[@]}"; do
    if check "$c"; then
        if [[ -n ${PYTHON:-} && $c != "$PYTHON" ]]; then
            # $PYTHON was the first candidate, so its reason is tried[0].
            echo "find-python: PYTHON=$PYTHON is unusable (${tried[0]#"$PYTHON: "}); using $found instead" >&2
        fi
        printf '%s\n' "$found"
        exit 0
    fi
done

{
    echo "find-python: no usable Python >= $MIN_MAJOR.$MIN_MINOR found. Tried:"
    for t in "${tried[@]}"; do echo "  - $t"; done
    echo "Install one, for example:"
    echo "  pyenv install 3.12        # then re-run; /root/.pyenv and ~/.pyenv are searched"
    echo "  uv python install 3.12    # then: PYTHON=\$(uv python find 3.12) make bootstrap"
    echo "or point PYTHON at an existing interpreter: PYTHON=/path/to/python3.12 make bootstrap"
    echo "(Debian 12 ships only Python 3.11, which is too old.)"
} >&2
exit 1
