/**
 * The publishers, one entry each: a new kind of target is added here and nowhere else (the
 * gateway, the template check and the status all go through this list).
 */
import { HTTP_PUSH_KIND } from './http-push.js';
import { MQTT_KIND } from './mqtt.js';
import type { PublisherKind } from './publisher.js';
import { deepFreeze } from '../freeze.js';

export const PUBLISHERS: readonly PublisherKind[] = /* @__PURE__ */ deepFreeze([MQTT_KIND, HTTP_PUSH_KIND]);
