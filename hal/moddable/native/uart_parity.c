/*
 * meterbridge/uart — the smallest native help the M-Bus UART needs on ESP32 (ESP-IDF v6,
 * Moddable SDK 8.2.3).
 *
 * Why: the ECMA-419 serial (modules/io/serial/esp32/serial.c, xs_serial_constructor) always
 * configures 8N1 and offers no parity option; the meter's customer interface sends 2400 baud 8E1.
 * It also drives the UART registers itself without installing the ESP-IDF UART driver, so:
 *
 *  - uart_set_word_length / uart_set_parity / uart_set_stop_bits are safe to call afterwards:
 *    in components/esp_driver_uart/src/uart.c they only take uart_context[port].spinlock and
 *    write the frame-format bits (no p_uart_obj, i.e. no driver, needed);
 *  - uart_set_rx_full_threshold is NOT usable: it returns ESP_ERR_INVALID_STATE without the
 *    driver ("call uart_driver_install API first"). The FIFO-full threshold is set with the HAL
 *    call uart_ll_set_rxfifo_full_thr instead, as serial.c itself uses uart_ll_* calls. The
 *    register resets to 96 (soc uart_reg.h: UART_RXFIFO_FULL_THRHD default 0x60) and neither
 *    uart_param_config nor serial.c changes it: with a 128-byte FIFO that leaves 32 bytes, about
 *    0.15 s at 2400 baud 8E1, for the JS onReadable to run. A threshold of 32 leaves 96 bytes,
 *    about 0.44 s.
 *  - an ESP-IDF driver RX buffer cannot be added: serial.c refuses a port whose driver is
 *    installed ("port in use") and owns the interrupt.
 *
 * The ESP-IDF FFI of SDK >= 8.1 could call uart_set_parity, but not the inline uart_ll_*
 * functions, hence this file.
 *
 * Line errors: the raw interrupt bits PARITY_ERR, FRAM_ERR and RXFIFO_OVF are latched by the
 * hardware whether or not their interrupts are enabled; serial.c never enables or clears them.
 * takeLineErrors reads and clears only those three bits.
 *
 * Fallback without this file: read at 8N1 (set the parity to "none" in the settings). The parity
 * bit then lands where the stop bit is expected; a 0 parity bit gives a framing error but the
 * data byte still reaches the FIFO, and the M-Bus checksum catches corrupted frames (shared
 * research, ESPHome configurations reading these meters with parity NONE).
 */

/* mc.defines.h first: it holds the manifest's "defines" as MODDEF_* macros, and on ESP32
   neither xsmc.h nor xsHost.h includes it (the SDK's own pwm.c and modSPI.c include it too). */
#include "mc.defines.h"
#include "xsmc.h"
#include "xsHost.h"

#include "freertos/FreeRTOS.h"
#include "driver/uart.h"
#include "hal/uart_hal.h"

/* Every board setting comes from manifest.json (defines.meterbridge); none has a silent default,
   so a platform block that forgets one fails to compile instead of driving the wrong pins. */
#ifndef MODDEF_METERBRIDGE_UART_PORT
	#error "define meterbridge.uart.port in manifest.json"
#endif
#ifndef MODDEF_METERBRIDGE_UART_RX_PIN
	#error "define meterbridge.uart.rx_pin in manifest.json"
#endif
#ifndef MODDEF_METERBRIDGE_UART_TX_PIN
	#error "define meterbridge.uart.tx_pin in manifest.json"
#endif
#ifndef MODDEF_METERBRIDGE_UART_RX_THRESHOLD
	#error "define meterbridge.uart.rx_threshold in manifest.json"
#endif
#ifndef MODDEF_METERBRIDGE_BUTTON_PIN
	#error "define meterbridge.button.pin in manifest.json"
#endif

static portMUX_TYPE gMeterbridgeUartLock = portMUX_INITIALIZER_UNLOCKED;

static uart_port_t meterbridgePort(xsMachine *the, int index)
{
	int port = xsmcToInteger(xsArg(index));
	if ((port < 0) || (port >= UART_NUM_MAX))
		xsRangeError("invalid port");
	return (uart_port_t)port;
}

void xs_meterbridge_uart_defaults(xsMachine *the)
{
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 5);
	xsmcSetInteger(xsVar(0), MODDEF_METERBRIDGE_UART_PORT);
	xsmcSetIndex(xsResult, 0, xsVar(0));
	xsmcSetInteger(xsVar(0), MODDEF_METERBRIDGE_UART_RX_PIN);
	xsmcSetIndex(xsResult, 1, xsVar(0));
	xsmcSetInteger(xsVar(0), MODDEF_METERBRIDGE_UART_TX_PIN);
	xsmcSetIndex(xsResult, 2, xsVar(0));
	xsmcSetInteger(xsVar(0), MODDEF_METERBRIDGE_UART_RX_THRESHOLD);
	xsmcSetIndex(xsResult, 3, xsVar(0));
	xsmcSetInteger(xsVar(0), MODDEF_METERBRIDGE_BUTTON_PIN);
	xsmcSetIndex(xsResult, 4, xsVar(0));
}

void xs_meterbridge_uart_configure(xsMachine *the)
{
	uart_port_t port = meterbridgePort(the, 0);
	int dataBits = xsmcToInteger(xsArg(1));
	char *parityName = xsmcToString(xsArg(2));
	int stopBits = xsmcToInteger(xsArg(3));
	uart_word_length_t wordLength = UART_DATA_8_BITS;
	uart_parity_t parity = UART_PARITY_DISABLE;
	uart_stop_bits_t stop = UART_STOP_BITS_1;

	if (8 == dataBits)
		wordLength = UART_DATA_8_BITS;
	else if (7 == dataBits)
		wordLength = UART_DATA_7_BITS;
	else
		xsRangeError("data bits must be 7 or 8");

	if (0 == c_strcmp(parityName, "even"))
		parity = UART_PARITY_EVEN;
	else if (0 == c_strcmp(parityName, "odd"))
		parity = UART_PARITY_ODD;
	else if (0 == c_strcmp(parityName, "none"))
		parity = UART_PARITY_DISABLE;
	else
		xsRangeError("parity must be none, even or odd");

	if (1 == stopBits)
		stop = UART_STOP_BITS_1;
	else if (2 == stopBits)
		stop = UART_STOP_BITS_2;
	else
		xsRangeError("stop bits must be 1 or 2");

	if ((ESP_OK != uart_set_word_length(port, wordLength)) ||
		(ESP_OK != uart_set_parity(port, parity)) ||
		(ESP_OK != uart_set_stop_bits(port, stop)))
		xsUnknownError("uart format failed");

	// the RX timeout is kept in bit times computed from the frame length: recompute it for the
	// new format with the 4 symbols serial.c uses
	uart_set_rx_timeout(port, 4);
}

void xs_meterbridge_uart_rx_threshold(xsMachine *the)
{
	uart_port_t port = meterbridgePort(the, 0);
	int bytes = xsmcToInteger(xsArg(1));

	if ((bytes < 1) || (bytes > 120))
		xsRangeError("threshold must be 1..120");

	portENTER_CRITICAL(&gMeterbridgeUartLock);
	uart_ll_set_rxfifo_full_thr(UART_LL_GET_HW(port), (uint16_t)bytes);
	portEXIT_CRITICAL(&gMeterbridgeUartLock);
}

void xs_meterbridge_uart_take_errors(xsMachine *the)
{
	uart_port_t port = meterbridgePort(the, 0);
	uart_dev_t *hw = UART_LL_GET_HW(port);
	uint32_t mask = UART_INTR_PARITY_ERR | UART_INTR_FRAM_ERR | UART_INTR_RXFIFO_OVF;
	uint32_t raw;
	int result = 0;

	portENTER_CRITICAL(&gMeterbridgeUartLock);
	raw = uart_ll_get_intraw_mask(hw) & mask;
	if (raw)
		uart_ll_clr_intsts_mask(hw, raw);
	portEXIT_CRITICAL(&gMeterbridgeUartLock);

	if (raw & UART_INTR_PARITY_ERR)
		result |= 1;
	if (raw & UART_INTR_FRAM_ERR)
		result |= 2;
	if (raw & UART_INTR_RXFIFO_OVF)
		result |= 4;
	xsmcSetInteger(xsResult, result);
}
