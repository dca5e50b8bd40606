/*
 * meterbridge/rollback — ESP-IDF app rollback for updates received over the web API.
 *
 * With CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (hal/moddable/sdkconfig/sdkconfig.defaults) an image
 * written by the `ota` module (build/devices/esp32/modules/ota/ota.c: esp_ota_end +
 * esp_ota_set_boot_partition) boots once in state ESP_OTA_IMG_PENDING_VERIFY. Unless the app
 * calls esp_ota_mark_app_valid_cancel_rollback before the next reset (watchdog, crash, power
 * loss, or rollBack below), the bootloader marks it aborted and boots the previous image.
 * The SDK's `ota` module has no call for this, hence this file (same include as ota.c).
 */

#include "mc.defines.h"
#include "xsmc.h"
#include "xsHost.h"

#include "app_update/include/esp_ota_ops.h"

void xs_meterbridge_ota_state(xsMachine *the)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	esp_ota_img_states_t state;

	if ((NULL == running) || (ESP_OK != esp_ota_get_state_partition(running, &state))) {
		xsmcSetString(xsResult, (char *)"unknown");
		return;
	}
	switch (state) {
		case ESP_OTA_IMG_NEW:				xsmcSetString(xsResult, (char *)"new"); break;
		case ESP_OTA_IMG_PENDING_VERIFY:	xsmcSetString(xsResult, (char *)"pending"); break;
		case ESP_OTA_IMG_VALID:				xsmcSetString(xsResult, (char *)"valid"); break;
		case ESP_OTA_IMG_INVALID:			xsmcSetString(xsResult, (char *)"invalid"); break;
		case ESP_OTA_IMG_ABORTED:			xsmcSetString(xsResult, (char *)"aborted"); break;
		default:							xsmcSetString(xsResult, (char *)"undefined"); break;
	}
}

void xs_meterbridge_ota_running(xsMachine *the)
{
	const esp_partition_t *running = esp_ota_get_running_partition();
	xsmcSetString(xsResult, running ? (char *)running->label : (char *)"");
}

void xs_meterbridge_ota_mark_valid(xsMachine *the)
{
	xsmcSetBoolean(xsResult, ESP_OK == esp_ota_mark_app_valid_cancel_rollback());
}

void xs_meterbridge_ota_roll_back(xsMachine *the)
{
	// reboots on success; returns only when there is no other valid image to go back to
	esp_ota_mark_app_invalid_rollback_and_reboot();
	xsmcSetBoolean(xsResult, 0);
}
