/*
 * meterbridge/rollback: the native side of hal/moddable/ota.ts (see ota_rollback.c). Module
 * level only defines functions, so it can be preloaded.
 */

function imageState() @ "xs_meterbridge_ota_state";
function runningPartition() @ "xs_meterbridge_ota_running";
function markValid() @ "xs_meterbridge_ota_mark_valid";
function rollBack() @ "xs_meterbridge_ota_roll_back";

export { imageState, runningPartition, markValid, rollBack };
