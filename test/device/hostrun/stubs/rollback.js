// meterbridge/rollback (hal/moddable/native/ota_rollback.c) for the Linux build: the running
// image is valid, as after a normal boot.
export function imageState() { return "valid"; }
export function runningPartition() { return "ota_0"; }
export function markValid() { return true; }
export function rollBack() { return false; }
