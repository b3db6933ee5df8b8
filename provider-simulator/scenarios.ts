import { z } from 'zod';

/**
 * How one order behaves. Chosen when the order is placed (the scenarios matching its link, merged over
 * the simulator's defaults) and kept with the order, so later scenario changes never alter it.
 */
const quirksSchema = z.strictObject({
  /** Output statuses in another case: 'lower' → "in progress", 'snake' → "in_progress", 'upper'. */
  statusCase: z.enum(['lower', 'snake', 'upper']).optional(),
  /** Replace canonical status words, e.g. {"Canceled":"Cancelled"}, {"In progress":"Processing"}, {"Rejected":"Failed"}. */
  statusMap: z.record(z.string(), z.string()).optional(),
  /** Answer "remains":"Unknown". */
  remainsUnknown: z.boolean().optional(),
  /** Order ids as strings in add/cancel/refill/orders_by_link answers. */
  stringIds: z.boolean().optional(),
  /** Numbers as JSON numbers instead of strings in status answers. */
  numericFields: z.boolean().optional(),
  /** HTTP status used for this link's `add` error answers (some panels answer errors with 4xx). */
  errorHttpStatus: z.number().int().min(200).max(499).optional(),
});
export type Quirks = z.infer<typeof quirksSchema>;

export const ADD_ERROR_PRESETS = {
  bad_link: 'Bad link',
  not_enough_funds: 'Not enough funds on balance',
  active_order: 'You have active order with this link. Please wait until order being completed.',
  incorrect_service: 'Incorrect service ID',
  private_account: 'Account is private',
} as const;

const addSchema = z.strictObject({
  /**
   * error: answer {"error": text} (nothing recorded);
   * empty: record the order, answer HTTP 200 with an empty body;
   * hang: record the order, answer only after hangMs (past the client's timeout);
   * reset: record the order, then destroy the connection without answering;
   * http500: record the order (unless record=false), answer 500 with an HTML page;
   * non_json: record the order (unless record=false), answer 200 with an HTML page.
   */
  respond: z.enum(['error', 'empty', 'hang', 'reset', 'http500', 'non_json']),
  /** For respond=error: a preset key (bad_link, not_enough_funds, active_order, ...) or a literal text. */
  error: z.string().optional(),
  /** How many `add` calls this applies to; afterwards `add` behaves normally. Default: every call. */
  times: z.number().int().positive().optional(),
  /** Whether the ambiguous answers (empty, hang, reset, http500, non_json) record the order. Default true. */
  record: z.boolean().optional(),
  /** For respond=hang: delay before the (late) answer, real milliseconds. Default 120000. */
  hangMs: z.number().int().nonnegative().optional(),
});
export type AddScenario = z.infer<typeof addSchema>;

export const scenarioSchema = z.strictObject({
  /** Time between placement and start (Pending meanwhile). */
  startDelayMs: z.number().int().nonnegative().optional(),
  /** Delivery speed once started, units per second; 0 stalls the order In progress forever. */
  speedPerSec: z.number().nonnegative().optional(),
  /** How the order ends: completed, partial (with partialRemains) or canceled by the provider itself. */
  end: z.enum(['completed', 'partial', 'canceled']).optional(),
  partialRemains: z.number().int().nonnegative().optional(),
  /** For end=canceled: the provider cancels this long after placement (default: at the start time). */
  cancelAfterMs: z.number().int().nonnegative().optional(),
  /** Deliver this many units more than ordered: remains goes negative. */
  overDeliver: z.number().int().nonnegative().optional(),
  /** The answer to a refill request: accept (then Completed), refuse ({"error"}), reject (accepted, then Rejected). */
  refill: z.enum(['accept', 'refuse', 'reject']).optional(),
  refillDelayMs: z.number().int().nonnegative().optional(),
  refillDurationMs: z.number().int().nonnegative().optional(),
  /** Subscriptions: the account posts this often (a post is served `delay` minutes after it appears). */
  postEveryMs: z.number().int().positive().optional(),
  /** Subscriptions: Paused from pauseAfterMs after the start, for pauseForMs (posts due meanwhile wait). */
  pauseAfterMs: z.number().int().nonnegative().optional(),
  pauseForMs: z.number().int().nonnegative().optional(),
  /** The answer to a cancel request (accept needs the service's cancel flag too). */
  cancel: z.enum(['accept', 'refuse']).optional(),
  /** How `add` answers for this link (see addSchema). */
  add: addSchema.optional(),
  quirks: quirksSchema.optional(),
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** The resolved, complete behaviour of one order. */
export interface Behaviour {
  startDelayMs: number;
  speedPerSec: number;
  end: 'completed' | 'partial' | 'canceled';
  partialRemains: number;
  cancelAfterMs: number | null;
  overDeliver: number;
  refill: 'accept' | 'refuse' | 'reject';
  refillDelayMs: number;
  refillDurationMs: number;
  cancel: 'accept' | 'refuse';
  postEveryMs: number;
  pauseAfterMs: number | null;
  pauseForMs: number;
  quirks: Quirks;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  startDelayMs: 5_000,
  speedPerSec: 20,
  end: 'completed',
  partialRemains: 0,
  cancelAfterMs: null,
  overDeliver: 0,
  refill: 'accept',
  refillDelayMs: 5_000,
  refillDurationMs: 10_000,
  cancel: 'accept',
  postEveryMs: 24 * 3600 * 1000,
  pauseAfterMs: null,
  pauseForMs: 0,
  quirks: {},
};

export interface ScenarioRule {
  id: number;
  linkContains: string;
  scenario: Scenario;
  /** How many `add` calls this rule's `add` part has answered so far. */
  addUsed: number;
}

export function ruleMatches(rule: ScenarioRule, link: string): boolean {
  return link.toLowerCase().includes(rule.linkContains.toLowerCase());
}

/** Merge the matching rules (oldest first, newer ones override field by field) over the defaults. */
export function resolveBehaviour(defaults: Behaviour, matching: readonly ScenarioRule[]): Behaviour {
  const b: Behaviour = { ...defaults, quirks: { ...defaults.quirks } };
  for (const { scenario } of matching) {
    const { add: _add, quirks, ...rest } = scenario;
    for (const [k, v] of Object.entries(rest)) {
      if (v !== undefined) (b as unknown as Record<string, unknown>)[k] = v;
    }
    if (quirks) b.quirks = { ...b.quirks, ...quirks, statusMap: { ...b.quirks.statusMap, ...quirks.statusMap } };
  }
  return b;
}

export function addErrorText(add: AddScenario): string {
  const e = add.error ?? 'bad_link';
  return (ADD_ERROR_PRESETS as Record<string, string>)[e] ?? e;
}
