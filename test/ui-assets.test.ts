// firmware/ui-assets.ts: the History page's script as a route under the API's access rules.
import { describe, expect, it } from 'vitest';
import { UI_HISTORY, uiAssetRoutes } from '../firmware/ui-assets.js';

describe('UI asset routes', () => {
  it('serves the gzipped History script as JavaScript, and nothing when the build has none', async () => {
    const gz = new Uint8Array([0x1f, 0x8b, 8]);
    const route = uiAssetRoutes(gz)[UI_HISTORY]!;
    expect(Object.keys(route)).toEqual(['GET']);
    const r = await route.GET!({ method: 'GET', url: UI_HISTORY, headers: {}, body: new Uint8Array(0), remoteAddress: '127.0.0.1' } as never);
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({ 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Encoding': 'gzip' });
    expect(r.body).toBe(gz);
    expect(uiAssetRoutes(null)).toEqual({});
  });
});
