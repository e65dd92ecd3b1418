/** What every handler of the app may read from its context: the request id (its correlationId). */
import type { RequestIdVariables } from 'hono/request-id';

export type AppEnv = { Variables: RequestIdVariables };
