# Phase timings for the project's scripts (sourced, not run).
#
#   source scripts/phases.sh
#   phase "cargo fmt --check"     # ends the running phase, prints its time, starts this one
#   ...
#   phases_done                   # ends the last phase and prints the total
#
# Prints `== NAME` when a phase starts and `== NAME: 12 s` when it ends. If the script
# exits early (a failed command under `set -e`), the running phase is reported as
# failed, with its time and the total so far.
# Nested scripts prefix their phases with PHASE_PREFIX (e.g. "notebooks: ").

PHASES_T0=$SECONDS
PHASE_NAME=""
PHASE_T0=$SECONDS
PHASES_LABEL=${PHASES_LABEL:-$(basename "$0")}

phase_end() {
  if [ -n "$PHASE_NAME" ]; then
    echo "== ${PHASE_PREFIX:-}$PHASE_NAME: $((SECONDS - PHASE_T0)) s"
    PHASE_NAME=""
  fi
}

phase() {
  phase_end
  PHASE_NAME=$1
  PHASE_T0=$SECONDS
  echo "== ${PHASE_PREFIX:-}$PHASE_NAME"
}

phases_done() {
  phase_end
  echo "== $PHASES_LABEL total: $((SECONDS - PHASES_T0)) s"
}

phases_on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ -n "$PHASE_NAME" ]; then
      echo "== ${PHASE_PREFIX:-}$PHASE_NAME: FAILED (exit $rc) after $((SECONDS - PHASE_T0)) s"
    fi
    echo "== $PHASES_LABEL stopped after $((SECONDS - PHASES_T0)) s"
  fi
}
trap phases_on_exit EXIT
