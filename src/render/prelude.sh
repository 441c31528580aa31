# shellcheck shell=sh
# The start of every script that changes a node (rendered by render/node-script.ts, which assigns its
# parameters above this text): the `up` script, the boot-time restore script and the `down` script.
#   PODNET_STEP_MARK   the marker of each step on stderr ("MARKER STEP")
#   PODNET_FAIL_MARK   the marker of the step that failed on stderr ("MARKER STEP"), then exit 1
# A step names what runs next, so a failure names the step it happened in.
set -u
export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
STEP=start
step() { STEP=$1; echo "$PODNET_STEP_MARK $1" >&2; }
fail() { echo "$PODNET_FAIL_MARK $STEP" >&2; exit 1; }
