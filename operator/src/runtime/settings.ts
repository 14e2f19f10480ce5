// A controller's typed settings: one schema per controller module is the source of its environment parsing, of
// the chart's `controllers.<name>` values (values.yaml, values.schema.json, the env the Deployment passes) and of
// the settings table in the controller's README.

/** What every setting declares: its environment variable and the text shown in values.yaml and the README. */
interface SettingBase {
  /** Environment variable the operator reads, e.g. `SKYPORT_CULL_CHECK_INTERVAL`. */
  readonly env: string;
  /** One sentence for the README table and the values schema. */
  readonly description: string;
}

/** A duration (`30s`, `10m`, `1h`, `500ms`), parsed to milliseconds; `min` (default `1s`) bounds it. */
export interface DurationSetting extends SettingBase {
  readonly type: 'duration';
  readonly default: string;
  readonly min?: string;
}

/** A string; `pattern` is checked at start-up and by the chart's values schema. Empty means unset. */
export interface StringSetting extends SettingBase {
  readonly type: 'string';
  readonly default: string;
  readonly pattern?: { readonly regex: string; readonly hint: string };
}

/** A comma-separated list (an array in the chart's values); no item may start with `reservedPrefix`. */
export interface ListSetting extends SettingBase {
  readonly type: 'list';
  readonly default: readonly string[];
  readonly reservedPrefix?: string;
}

/** One setting of a controller. */
export type Setting = DurationSetting | StringSetting | ListSetting;

/** A controller's settings by key; the key is the chart value `controllers.<controller>.<key>`. */
export type SettingsSchema = Readonly<Record<string, Setting>>;

/** The parsed value of one setting: milliseconds for a duration, a string, a list of strings. */
export type SettingValue<S extends Setting> = S extends DurationSetting
  ? number
  : S extends ListSetting
    ? string[]
    : string;

/** The parsed settings object of a schema. */
export type SettingsOf<S extends SettingsSchema> = { -readonly [K in keyof S]: SettingValue<S[K]> };

/** A bad setting value; the message names the chart value and the environment variable. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
  constructor(
    readonly setting: string,
    readonly env: string,
    message: string,
  ) {
    super(`invalid ${setting} (env ${env}): ${message}`);
  }
}

/** The JSON-Schema pattern of a duration value (as in the chart's values.schema.json). */
export const DURATION_VALUE_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';

/** Milliseconds of `30s`, `10m`, `1h`, `500ms` or a bare number of milliseconds; undefined when malformed. */
export function durationMs(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function parseOne(s: Setting, raw: string | undefined, where: string): number | string | string[] {
  const fail = (message: string): never => {
    throw new SettingError(where, s.env, message);
  };
  const given = raw !== undefined && raw.trim() !== '';
  switch (s.type) {
    case 'duration': {
      const text = given ? raw : s.default;
      const ms = durationMs(text);
      if (ms === undefined) return fail(`${JSON.stringify(text)} is not a duration (e.g. 30s, 10m, 1h)`);
      const min = durationMs(s.min ?? '1s') ?? 0;
      if (ms < min) return fail(`${ms} ms is below the ${s.min ?? '1s'} minimum`);
      return ms;
    }
    case 'string': {
      const text = given ? raw.trim() : s.default;
      if (text !== '' && s.pattern !== undefined && !new RegExp(s.pattern.regex).test(text))
        return fail(`${JSON.stringify(text)} ${s.pattern.hint}`);
      return text;
    }
    case 'list': {
      const items = given
        ? raw
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== '')
        : [...s.default];
      const reserved = s.reservedPrefix;
      const bad = reserved === undefined ? undefined : items.find((i) => i.startsWith(reserved));
      if (bad !== undefined) return fail(`${JSON.stringify(bad)} is reserved (${reserved}…)`);
      return items;
    }
  }
}

/**
 * Parses a controller's settings from the environment: unset or empty variables take the default.
 *
 * @throws SettingError naming `controllers.<controller>.<key>` and the variable when a value is malformed.
 */
export function parseSettings<S extends SettingsSchema>(
  controller: string,
  schema: S,
  env: NodeJS.ProcessEnv,
): SettingsOf<S> {
  const out: Record<string, number | string | string[]> = {};
  for (const [key, s] of Object.entries(schema))
    out[key] = parseOne(s, env[s.env], `controllers.${controller}.${key}`);
  // Each key was parsed by its own setting's type, which is what SettingsOf maps it to.
  return out as SettingsOf<S>;
}

/** The chart value of a setting's default (what values.yaml holds): a duration or string as is, a list as an array. */
export function defaultValue(s: Setting): string | string[] {
  return s.type === 'list' ? [...s.default] : s.default;
}
