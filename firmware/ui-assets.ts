/**
 * The web UI's parts besides the page itself that are fetched only when needed: the History
 * page's script (web-ui/src/history.ts, gzipped by web-ui/build.mjs), loaded by the page the
 * first time History is opened, so the main page stays within its size limit. Given to createApi
 * as platform routes, so the same access rules apply as to the API it calls (password first).
 */
import type { Routes } from './api.js';

export const UI_HISTORY = '/ui/history';

export function uiAssetRoutes(history: Uint8Array | null): Routes {
  if (!history) return {};
  return {
    [UI_HISTORY]: {
      GET: () => ({
        status: 200,
        headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Encoding': 'gzip', 'Cache-Control': 'no-cache' },
        body: history,
      }),
    },
  };
}
