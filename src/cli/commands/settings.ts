import { DomainError } from '../../domain/errors.ts';
import {
  getSettings,
  parseSettingText,
  type RegistrationsMode,
  SETTING_KEYS,
  type SettingsDeps,
  updateSettings,
} from '../../domain/settings/settings.ts';

export type SettingsArgs =
  | { action: 'registrations'; mode: 'open' | 'approved' | 'close'; requireReason?: boolean }
  | { action: 'get' }
  | { action: 'set'; key: string; value: string };

/** tootctl's words for the registration modes. */
const MODES: Record<'open' | 'approved' | 'close', RegistrationsMode> = {
  open: 'open',
  approved: 'approved',
  close: 'none',
};

/**
 * `woolly settings …`, tootctl's `settings registrations open | approved [--require-reason] | close`
 * plus `get` (every setting) and `set KEY VALUE`. Returns the exit code; a wrong key or value is
 * reported in one line naming the key (exit 1), and nothing is changed.
 */
export async function settingsCommand(
  deps: SettingsDeps,
  args: SettingsArgs,
  out: (line: string) => void,
  err: (line: string) => void = out,
): Promise<number> {
  try {
    switch (args.action) {
      case 'registrations': {
        const change: Record<string, unknown> = { registrations_mode: MODES[args.mode] };
        // As tootctl: --require-reason only with approved, and left as it was when not given.
        if (args.mode === 'approved' && args.requireReason !== undefined)
          change.require_invite_text = args.requireReason;
        await updateSettings(deps, change);
        out('OK');
        return 0;
      }
      case 'get': {
        const settings = await getSettings(deps);
        const width = Math.max(...SETTING_KEYS.map((k) => k.length));
        for (const key of SETTING_KEYS) out(`${key.padEnd(width)}  ${JSON.stringify(settings[key])}`);
        return 0;
      }
      case 'set': {
        const settings = await updateSettings(deps, { [args.key]: parseSettingText(args.key, args.value) });
        out(`${args.key} = ${JSON.stringify(settings[args.key as keyof typeof settings])}`);
        return 0;
      }
    }
  } catch (error) {
    // A refused value: its message names the key.
    if (error instanceof DomainError) {
      err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
