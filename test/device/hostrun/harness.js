/*
 * `main` of the Linux (-p lin) build of the firmware that the device tests run under mcsim. It
 * starts the real firmware main() (dist/moddable/main.js, preloaded as on the ESP32) and opens a
 * control connection to the test on 127.0.0.1:config.controlPort. The test sends one command
 * per line and reads one JSON line back:
 *   mem        → XS heap figures after a garbage collection ({slots, chunks, stack, gcs, …}) and
 *                the longest gap between two 10 ms timer ticks since the last answer
 *   watch      → from now on a collection + measurement every 50 ms; answers {watching: true}
 *   peak       → stops watching; answers the maxima seen since `watch`
 * Lines the harness prints itself start with "HOSTRUN".
 */
import Timer from "timer";
import Instrumentation from "instrumentation";
import Debug from "debug";
import { Socket } from "socket";
import config from "mc/config";
import deviceMain from "meterbridge/main";

const NAMES = Object.freeze({
	slots: "XS Slot Heap Used",
	chunks: "XS Chunk Heap Used",
	keys: "XS Keys Used",
	stack: "XS Stack Used",
	gcs: "XS Garbage Collection Count",
	timers: "Timers",
	sockets: "Network Sockets",
});

// the longest time between two 10 ms ticks since the last measurement: how long the longest
// JavaScript turn kept everything else (the UART's onReadable included) waiting
let lastTick = 0;
let longestGap = 0;
function tick() {
	const now = Date.now();
	if (lastTick && (now - lastTick > longestGap)) longestGap = now - lastTick;
	lastTick = now;
}

function measure() {
	Debug.gc();
	const out = { longestTurnMs: longestGap };
	longestGap = 0;
	for (const key in NAMES) {
		const i = Instrumentation.map(NAMES[key]);
		out[key] = (i === undefined) ? null : Instrumentation.get(i);
	}
	return out;
}

function control() {
	let line = "";
	let peak;
	let watcher;
	const socket = new Socket({ host: "127.0.0.1", port: Number(config.controlPort) });
	const answer = (value) => socket.write(JSON.stringify(value) + "\n");
	socket.callback = function (message, value) {
		if (message === Socket.readable) {
			line += String.fromArrayBuffer(this.read(ArrayBuffer, value));
			let nl;
			while ((nl = line.indexOf("\n")) >= 0) {
				const command = line.slice(0, nl).trim().split(" ");
				line = line.slice(nl + 1);
				if (command[0] === "mem")
					answer(measure());
				else if (command[0] === "watch") {
					peak = measure();
					if (watcher) Timer.clear(watcher);
					watcher = Timer.repeat(() => {
						const m = measure();
						for (const key in m)
							if (m[key] > peak[key]) peak[key] = m[key];
					}, 50);
					answer({ watching: true });
				}
				else if (command[0] === "peak") {
					if (watcher) Timer.clear(watcher);
					watcher = undefined;
					answer(peak ?? { error: "not watching" });
				}
				else
					answer({ error: `unknown command ${command[0]}` });
			}
		}
		else if (message < 0)
			trace("HOSTRUN control connection closed\n");
	};
}

export default function () {
	if (globalThis.System === undefined)
		globalThis.System = { restart() { trace("HOSTRUN restart requested\n"); } };
	Timer.repeat(tick, 10);
	try {
		deviceMain();
		trace("HOSTRUN main() returned\n");
		control();
	}
	catch (e) {
		// an exception out of main() would end the runtime without a word
		trace(`HOSTRUN main() threw: ${e}\n${e?.stack ?? ""}\n`);
		throw e;
	}
}
