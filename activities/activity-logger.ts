/**
 * The logger an activity writes with: the activity Context's logger inside Temporal (it adds the
 * workflow id, run id and activity to every line), deps.logger (pino: meta first) when an activity
 * function is called directly, and silence when neither exists.
 */
import { activityContext } from './activity-context';
import type { EngineDeps, EngineLogger } from '../deps/engine-deps';

const SILENT: EngineLogger = { info() {}, warn() {}, error() {} };

export function activityLogger(deps: Pick<EngineDeps, 'logger'>): EngineLogger {
  const ctx = activityContext();
  if (ctx) return ctx.log;
  const pino = deps.logger;
  if (!pino) return SILENT;
  return {
    info: (message, meta) => pino.info(meta ?? {}, message),
    warn: (message, meta) => pino.warn(meta ?? {}, message),
    error: (message, meta) => pino.error(meta ?? {}, message),
  };
}
