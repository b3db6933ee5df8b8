// What an API v2 action gets: the engine's API dependencies, the caller (from `key`), the
// request's fields, and the shared pieces (the REST placement, the refill desk).
import type { Request, Response } from 'express';
import type { ApiDeps } from '../app';
import type { AuthContext } from '../auth';
import type { Placement } from '../placement';
import type { RefillDesk } from './actions/refill';
import type { Params } from './parse';

export interface V2Context {
  deps: ApiDeps;
  who: AuthContext;
  params: Params;
  req: Request;
  res: Response;
  placement: Placement;
  refills: RefillDesk;
  /** The balance's currency, as `status` and `balance` name it. */
  currency: string;
}

/** An action answers a JSON value (an object or an array), or throws V2Error for `{"error": ...}`. */
export type Action = (ctx: V2Context) => Promise<object>;
