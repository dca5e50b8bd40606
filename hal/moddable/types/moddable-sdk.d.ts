/**
 * The Moddable SDK modules this firmware uses, typed by @moddable/typings (5.6.0). Its package.json
 * names its files in an array `types`, which TypeScript ignores, so each file is referenced here;
 * skipLibCheck stays on because several of them do not compile in strict mode on their own.
 * What the package lacks or gets wrong is declared beside this file (README.md).
 */
/// <reference path="../../../node_modules/@moddable/typings/xs.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/global.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/_common.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/analog.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/digital.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/digitalbank.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/i2c.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/pulsecount.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/pwm.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/serial.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/smbus.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/spi.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_io/system.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/embedded_provider/builtin.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/debug.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/flash.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/http.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/instrumentation.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/mc/config.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/preference.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/Resource.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/sntp.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/socket.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/time.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/timer.d.ts" />
/// <reference path="../../../node_modules/@moddable/typings/wifi.d.ts" />
