/** Every error code a client can see, with its HTTP status and default message. */
export const ERROR_CATALOG = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid.' },
  SALE_NOT_FOUND: { status: 404, message: 'There is no flash sale right now.' },
  NOT_FOUND: { status: 404, message: 'No such resource.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this resource.' },
  SALE_NOT_ACTIVE: { status: 409, message: 'The sale is not running right now.' },
  SOLD_OUT: { status: 409, message: 'All items have been sold.' },
  ALREADY_PURCHASED: { status: 409, message: 'You have already bought this item.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again shortly.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'The shop is busy or briefly unavailable; try again. Retrying a purchase is safe.',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_CATALOG[code].status;
  }
}

/** A refusal as plain data: what an answer needs, without an Error's stack trace (the purchase path answers thousands a second). */
export interface Refusal {
  code: ErrorCode;
  message?: string;
  details?: unknown;
}

/** The functional spec's error body (§4.2). */
export function errorBody({ code, message = ERROR_CATALOG[code].message, details }: Refusal, correlationId: string) {
  return {
    status: 'error' as const,
    code: ERROR_CATALOG[code].status,
    error: { code, message, correlationId, ...(details === undefined ? {} : { details }) },
  };
}

/** Failures of Redis: the shopper should retry, so these answer 503, not 500. */
function isDependencyFailure(error: Error): boolean {
  return (
    ['ReplyError', 'ClusterAllFailedError', 'MaxRetriesPerRequestError'].includes(error.name) ||
    /timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|CLUSTERDOWN|TRYAGAIN|LOADING/.test(
      error.message,
    )
  );
}

/** What a client is told about something thrown while answering it. */
export function classifyFailure(thrown: Error): ApiError {
  if (thrown instanceof ApiError) return thrown;
  if (isDependencyFailure(thrown)) return new ApiError('SERVICE_UNAVAILABLE');
  return new ApiError('INTERNAL_ERROR');
}
