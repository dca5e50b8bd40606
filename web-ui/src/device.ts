/** The Device page: web password, backup (export/import), restart and factory reset. */
import { call, download, errText } from './api';
import { $, busy, say } from './dom';
import { showErrors, state } from './forms';

export interface Hooks {
  /** reloads session, config and forms after a change made elsewhere (import, reset, restart) */
  reload(): Promise<void>;
}

const input = (id: string) => $<HTMLInputElement>('#' + id);

export function initDevice(hooks: Hooks): void {
  const pw = $<HTMLFormElement>('#form-password');
  const pwMsg = $('.msg', pw);
  pw.onsubmit = async (ev) => {
    ev.preventDefault();
    const p1 = input('f-web-password');
    const p2 = input('f-web-password2');
    if (p1.value.length < 8) return showErrors(pw, pwMsg, [{ field: 'web.password', message: 'at least 8 characters' }]);
    if (p1.value !== p2.value) return showErrors(pw, pwMsg, [{ field: 'web.password', message: 'the two passwords differ' }]);
    const ok = await busy(pw, async () => {
      const a = await call('/api/config', 'PUT', { web: { password: p1.value } });
      if (!a.ok) {
        if (a.status === 400 && a.data?.errors) showErrors(pw, pwMsg, a.data.errors);
        else say(pwMsg, errText(a), true);
        return false;
      }
      state.config = a.data.config;
      // the gateway logs in whoever set the password; make sure of it
      const s = await call('/api/session');
      if (!s.data?.authenticated) await call('/api/login', 'POST', { password: p1.value });
      return true;
    });
    if (!ok) return;
    p1.value = p2.value = '';
    await hooks.reload();
    say(pwMsg, 'Password saved. You are logged in.');
  };
  $('#logout').onclick = async () => {
    await call('/api/logout', 'POST');
    await hooks.reload();
  };

  const backup = $('#msg-backup');
  $('#export-config').onclick = async () => {
    const secrets = input('export-secrets').checked;
    const a = await download('/api/config/export' + (secrets ? '?secrets=1' : ''), 'meterbridge-config.json');
    say(backup, a.ok ? (secrets ? 'Exported with keys and passwords: keep the file private.' : 'Exported without keys and passwords.') : errText(a), !a.ok);
  };
  $('#import-config').onclick = async () => {
    const file = input('import-file').files?.[0];
    if (!file) return say(backup, 'Choose a settings file first.', true);
    let body: unknown;
    try {
      body = JSON.parse(await file.text());
    } catch (e) {
      return say(backup, `This is not a settings file exported from meterbridge (not JSON: ${(e as Error).message}).`, true);
    }
    const a = await call('/api/config/import', 'POST', body);
    if (a.ok) {
      state.config = a.data.config;
      await hooks.reload();
      say(backup, 'Imported. The settings are in use now.', false, a.data.warnings ?? []);
    } else if (a.status === 400 && a.data?.errors) say(backup, 'Not imported: nothing was changed.', true, a.data.errors.map((e: { field: string; message: string }) => `${e.field}: ${e.message}`));
    else say(backup, errText(a), true);
  };

  const ota = $('#msg-ota');
  $('#ota-upload').onclick = async () => {
    const file = input('ota-file').files?.[0];
    if (!file) return say(ota, 'Choose the firmware file first.', true);
    say(ota, `Uploading ${Math.round(file.size / 1024)} KB…`);
    let r: Response;
    try {
      r = await fetch('/api/ota', { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: file, credentials: 'same-origin' });
    } catch {
      return say(ota, 'The upload broke off: check the connection and try again.', true);
    }
    if (r.status === 404) return say(ota, 'This gateway runs on a computer: update it there (git pull, npm install). Firmware files are for the ESP32.', true);
    const data = await r.json().catch(() => null);
    if (!r.ok) return say(ota, data?.detail ?? data?.error ?? `The device refused the file (HTTP ${r.status}).`, true);
    say(ota, 'Uploaded. The device restarts into the new firmware and keeps it once it runs well.');
  };

  const msg = $('#msg-device');
  $('#restart').onclick = async () => {
    const a = await call('/api/restart', 'POST');
    if (!a.ok) return say(msg, errText(a), true);
    say(msg, 'Restarting… this page reconnects by itself.');
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      if ((await call('/api/session')).ok) break;
    }
    await hooks.reload();
    say(msg, 'Restarted.');
  };

  const dialog = $<HTMLDialogElement>('#reset-dialog');
  const typed = input('reset-confirm-input');
  const go = $<HTMLButtonElement>('#reset-confirm');
  typed.oninput = () => (go.disabled = typed.value.trim() !== 'RESET');
  $('#factory-reset').onclick = () => {
    typed.value = '';
    go.disabled = true;
    dialog.showModal();
    typed.focus();
  };
  $('#reset-cancel').onclick = () => dialog.close();
  $('#form-reset').onsubmit = async (ev) => {
    ev.preventDefault();
    if (typed.value.trim() !== 'RESET') return;
    const a = await call('/api/factory-reset', 'POST', { confirm: 'RESET' });
    dialog.close();
    say(msg, a.ok ? 'All settings are back to the defaults.' : errText(a), !a.ok);
    if (a.ok) await hooks.reload();
  };
}
